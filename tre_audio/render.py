"""Render a programme's Jinja templates into narration script text.

Templates render in Jinja's sandbox with strict undefined names. A user templates
folder (``--templates DIR``, or ``templates`` in the data folder) is searched before
the shipped templates, so it can override any of them or add exercises.
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib.resources import files
from pathlib import Path
from types import TracebackType

import jinja2
import jinja2.bccache
import jinja2.sandbox
import platformdirs

from .errors import InvalidOption, ScriptError
from .settings import DEFAULT_PATTERN, Level, Pace
from .speech.cache import default_folder

SHORT_SESSION_MINUTES = 28
"""Sessions asked to be shorter than this use the programmes' shorter lead-ins."""

FRAME = ("arrival", "closing")
"""The exercises that open and close every custom list: they hold the safety content."""


@dataclass(frozen=True)
class Programme:
    name: str
    template: str
    summary: str


@dataclass(frozen=True)
class Exercise:
    """An exercise template: ``exercises/NAME.j2``, shipped or the user's own."""

    name: str
    summary: str
    tunes: tuple[str, ...]
    """The settings a plan may give it: hold, repetitions, breaths."""
    source: str
    """'shipped', 'yours' (added) or 'yours, replacing shipped'."""


@dataclass(frozen=True)
class Recipe:
    """What shapes the narration beyond pace, level and length."""

    trusted: str = ""
    """A trusted person the listener may call."""
    limits: frozenset[str] = frozenset()
    eyes_open: bool = False
    tremor: float | None = None
    """Minutes of tremor, in place of the level's range."""
    returning: bool = False
    """Briefer lead-ins, for someone who has heard the full ones (later course sessions)."""
    pattern: str = DEFAULT_PATTERN
    exercises: tuple[str, ...] | None = None
    """A custom list of exercises, framed by arrival and closing, in place of the programme."""
    tune: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    """Per exercise: hold (seconds), repetitions or breaths."""


@cache
def programmes() -> dict[str, Programme]:
    """The built-in programmes, by name."""
    data = tomllib.loads(
        files(__package__).joinpath("templates/programmes.toml").read_text("utf-8")
    )
    return {name: Programme(name, **entry) for name, entry in data.items()}


def programme(name: str) -> Programme:
    """The programme called ``name``."""
    try:
        return programmes()[name]
    except KeyError:
        raise InvalidOption(
            "PROGRAMME",
            f"unknown programme '{name}'; choose from: {', '.join(programmes())}",
        ) from None


def default_templates() -> Path:
    """The user's own templates folder (it need not exist)."""
    return Path(platformdirs.user_data_dir("tre-audio")) / "templates"


def user_folder(templates: Path | None) -> Path | None:
    """The templates folder to search first: ``templates`` (which must exist) or the
    default one if it exists."""
    if templates is None:
        folder = default_templates()
        return folder if folder.is_dir() else None
    if not templates.is_dir():
        raise InvalidOption("--templates", f"templates folder not found: {templates}")
    return templates


_HEADER = re.compile(r"^\{#\s*(?P<summary>.*?)\s*(?:\[tunes:\s*(?P<tunes>[a-z ,]*)\])?\s*#\}")


def exercises(templates: Path | None = None) -> dict[str, Exercise]:
    """Every exercise, shipped and the user's, by name in a stable order. The first
    line of an exercise's template is a comment: its summary and what it tunes."""
    shipped = files(__package__).joinpath("templates/exercises")
    found = {p.name: p.read_text("utf-8") for p in shipped.iterdir() if p.name.endswith(".j2")}
    origin = dict.fromkeys(found, "shipped")
    folder = user_folder(templates)
    if folder is not None and (folder / "exercises").is_dir():
        for path in sorted((folder / "exercises").glob("*.j2")):
            origin[path.name] = "yours, replacing shipped" if path.name in found else "yours"
            found[path.name] = _read_template(path)
    order = [f"{name}.j2" for name in _CLASSIC_ORDER]
    names = [n for n in order if n in found] + sorted(n for n in found if n not in order)
    result = {}
    for file_name in names:
        header = _HEADER.match(found[file_name])
        summary = header["summary"] if header else ""
        tunes = tuple(t for t in re.split(r"[ ,]+", (header and header["tunes"]) or "") if t)
        name = file_name.removesuffix(".j2")
        result[name] = Exercise(name, summary, tunes, origin[file_name])
    return result


_CLASSIC_ORDER = ("arrival", "grounding", "ankles", "calves", "thighs", "forward-bend",
                  "hip-opener", "wall-sit", "floor", "tremor", "rest", "closing")


def _read_template(path: Path) -> str:
    try:
        return path.read_text("utf-8")
    except UnicodeDecodeError:
        raise ScriptError(f"template {path} is not UTF-8 text") from None
    except OSError as error:
        raise ScriptError(f"cannot read template {path}: {error.strerror}") from None


class _Loader(jinja2.FileSystemLoader):
    """Reads the user's templates, reporting undecodable files as a ScriptError."""

    def load(self, environment, name, globals=None):  # type: ignore[no-untyped-def]
        try:
            return super().load(environment, name, globals)
        except UnicodeDecodeError:
            raise ScriptError(f"template {name} in {self.searchpath[0]} is not UTF-8 text"
                              ) from None


class _CompiledCache(jinja2.bccache.FileSystemBytecodeCache):
    """Compiled templates, kept in the cache folder so a render skips Jinja's compiler
    (0.1 s of a warm render). Entries are keyed by each template's source. Like the speech
    cache it only saves time: a folder that cannot be read or written is passed over."""

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        try:
            super().load_bytecode(bucket)
        except OSError:
            pass

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        try:
            Path(self.directory).mkdir(parents=True, exist_ok=True)
            super().dump_bytecode(bucket)
        except OSError:
            pass


@cache
def _environment(folder: Path | None) -> jinja2.Environment:
    shipped = jinja2.PackageLoader(__package__, "templates")
    loader = shipped if folder is None else jinja2.ChoiceLoader([_Loader(folder), shipped])
    return jinja2.sandbox.SandboxedEnvironment(
        loader=loader,
        bytecode_cache=_CompiledCache(str(default_folder() / "templates")),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render(
    name: str, *, pace: Pace, level: Level, minutes: float | None, listener: str = "",
    binaural: bool = False, recipe: Recipe = Recipe(), templates: Path | None = None,
) -> str:
    """The narration script of programme ``name`` (or of ``recipe.exercises``) for
    these options."""
    if recipe.tremor is not None:
        level = dataclasses.replace(level, tremor_low=recipe.tremor, tremor_high=recipe.tremor)
    context = {
        "name": listener.strip(),
        "pace": pace.name,
        "level": level,
        "minutes": minutes,
        "short": minutes is not None and minutes < SHORT_SESSION_MINUTES,
        "binaural": binaural,
        "trusted": recipe.trusted.strip(),
        "limits": recipe.limits,
        "eyes_open": recipe.eyes_open,
        "returning": recipe.returning,
        "pattern": recipe.pattern,
        "tune": {key: dict(value) for key, value in recipe.tune.items()},
    }
    environment = _environment(user_folder(templates))
    where = f"programme '{name}'"
    try:
        if recipe.exercises is None:
            template = environment.get_template(programme(name).template)
        else:
            where = "your list of exercises"
            template = environment.from_string(_custom_session(recipe.exercises))
        return template.render(context)
    except jinja2.TemplateNotFound as error:
        raise ScriptError(f"{where}: template not found: {error.name}") from None
    except jinja2.TemplateSyntaxError as error:
        at = f"{error.filename or error.name or where}, line {error.lineno}"
        raise ScriptError(f"template {at}: {error.message}") from None
    except jinja2.sandbox.SecurityError as error:
        raise ScriptError(f"template {_origin(error.__traceback__, where)}: refused by the "
                          f"sandbox: {error}") from None
    except jinja2.TemplateError as error:
        raise ScriptError(f"template {_origin(error.__traceback__, where)}: {error.message}"
                          ) from None
    except RecursionError as error:
        raise ScriptError(f"template {_origin(error.__traceback__, where)}: it includes "
                          "itself, directly or in a circle") from None
    except (TypeError, ValueError, ArithmeticError, LookupError) as error:
        raise ScriptError(f"template {_origin(error.__traceback__, where)}: {error}") from None


def _custom_session(names: tuple[str, ...]) -> str:
    parts = (FRAME[0], *names, FRAME[1])
    return "".join(f'{{% include "exercises/{part}.j2" %}}\n' for part in parts)


def _origin(trace: TracebackType | None, fallback: str) -> str:
    """The template file and line a rendering error came from (the innermost one)."""
    found = fallback
    while trace is not None:
        filename = trace.tb_frame.f_code.co_filename
        if filename.endswith(".j2"):
            found = f"{filename}, line {trace.tb_lineno}"
        trace = trace.tb_next
    return found
