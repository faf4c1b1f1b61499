"""The package's folders read as the pipeline, and imports only point down it."""

from __future__ import annotations

import ast
from pathlib import Path

import tre_audio

PACKAGE = Path(tre_audio.__file__).parent

LAYERS = (
    ("__init__", "errors"),  # imported by all
    ("options",),  # the option types: no stage below them
    ("files",),  # reading the user's files, writing files whole
    ("narration",),  # options -> templates -> script -> events -> timed plan
    ("mp3",),  # the container
    ("sound",),  # clips, beds, bells, mix, loudness, master (writes through mp3)
    ("speech",),  # voices; their clips are levelled by sound
    ("beside",),  # transcript, subtitles, timeline, picture
    ("practice",),  # the record of sessions and check-ins; the next dose from it
    ("listen",),  # library, feed, server, page
    ("registries",),  # the stages' choices, for the option table's names
    ("session",),  # makes one session from all of the above
    ("course", "continued"),  # a series of sessions; one carried on from the record
    ("choices",),  # profile, plan file and command line, layered into options
    ("studio",),  # sessions made for the page, from a queue
    ("cli",),  # the only click importer
    ("__main__",),
)
LAYER = {name: rank for rank, names in enumerate(LAYERS) for name in names}


def _modules() -> dict[str, Path]:
    return {".".join(p.relative_to(PACKAGE).with_suffix("").parts): p
            for p in PACKAGE.rglob("*.py")}


def _imports(name: str, path: Path) -> set[str]:
    """The tre_audio modules and packages ``name`` imports, as dotted names under it."""
    here = name.split(".")[:-1] if path.name != "__init__.py" else name.split(".")[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = here[: len(here) - (node.level - 1)]
                target = base + (node.module.split(".") if node.module else [])
            elif (node.module or "").split(".")[0] == "tre_audio":
                target = node.module.split(".")[1:]  # type: ignore[union-attr]
            else:
                continue
            found.add(".".join(target) or "__init__")
            for alias in node.names:
                found.add(".".join([*target, alias.name]))
        elif isinstance(node, ast.Import):
            found |= {a.name.removeprefix("tre_audio.") for a in node.names
                      if a.name.startswith("tre_audio.")}
    modules = _modules()
    return {m for m in found if m in modules or f"{m}.__init__" in modules}


def _layer(module: str) -> int:
    return LAYER[module.split(".")[0]]


def test_every_module_sits_in_a_layer():
    assert {m.split(".")[0] for m in _modules()} == set(LAYER)


def test_imports_point_down_the_layers():
    upward = [f"{name} imports {target}"
              for name, path in _modules().items()
              for target in _imports(name, path)
              if _layer(target) > _layer(name)]
    assert upward == []


def test_no_module_imports_itself_in_a_circle():
    modules = _modules()
    graph = {name: {t.removesuffix(".__init__") for t in _imports(name, path)}
             for name, path in modules.items()}
    done: set[str] = set()

    def visit(name: str, trail: tuple[str, ...]) -> None:
        assert name not in trail, " -> ".join((*trail, name))
        if name in done:
            return
        for target in graph.get(name, ()):
            visit(target, (*trail, name))
        done.add(name)

    for name in graph:
        visit(name, ())


def test_only_the_command_line_imports_click():
    importers = sorted(name for name, path in _modules().items()
                       if "import click" in path.read_text("utf-8"))
    assert importers == ["cli"]
