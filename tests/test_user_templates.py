"""The user's own templates: overriding and adding exercises, listed and used in plans,
rendered in Jinja's sandbox, with errors that name the file and line."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from tre_audio import choices, render, session
from tre_audio.cli import cli
from tre_audio.errors import ScriptError
from tre_audio.script import Chapter

STRETCH = """{# Side stretch: arms overhead, leaning gently to each side [tunes: breaths] #}
{% import "_macros.j2" as m %}
{{ m.chapter("Side stretch") }}
Reach both arms overhead{{ m.called(name) }}, and lean gently to the left.
[hold {{ m.tuned(tune, "side-stretch", "breaths", "2-3") }} breaths]
Now to the right.
[hold {{ m.tuned(tune, "side-stretch", "breaths", "2-3") }} breaths]
"""


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


@pytest.fixture
def mine(tmp_path) -> Path:
    folder = tmp_path / "my-templates"
    (folder / "exercises").mkdir(parents=True)
    return folder


def put(folder: Path, name: str, text: str) -> Path:
    path = folder / "exercises" / f"{name}.j2"
    path.write_text(text, encoding="utf-8")
    return path


def script_of(folder: Path, **given) -> str:
    return session.script_text(choices.options({"templates": folder, **given}))


def test_an_added_exercise_is_listed_and_used_in_a_plan(mine, private_folders):
    put(mine, "side-stretch", STRETCH)
    listed = run("list", "exercises", "--templates", str(mine)).stdout
    assert "side-stretch  Side stretch: arms overhead" in listed and "[yours]" in listed
    assert "(takes: breaths)" in listed
    plan = private_folders / "plan.toml"
    plan.write_text('exercises = ["side-stretch", "tremor"]\n'
                    '[exercise.side-stretch]\nbreaths = 4\n', encoding="utf-8")
    result = run("script", "--plan", str(plan), "--templates", str(mine), "--name", "Kim")
    assert result.exit_code == 0, result.stderr
    assert "[chapter: Side stretch]" in result.stdout and "[hold 4 breaths]" in result.stdout
    assert "overhead, Kim, and lean" in result.stdout


def test_an_override_replaces_the_shipped_exercise(mine):
    put(mine, "calves", "{# My calves #}\n[chapter: My calves]\nRise slowly, twice.\n[hold 20s]\n")
    text = script_of(mine)
    assert "[chapter: My calves]" in text and "[chapter: Calf raises]" not in text
    assert "[chapter: Ankle rolls]" in text  # the rest is still shipped
    assert render.exercises(mine)["calves"].source == "yours, replacing shipped"
    assert "[chapter: Calf raises]" in script_of(None)


def test_the_data_folder_is_the_default_templates_folder(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    folder = render.default_templates()
    (folder / "exercises").mkdir(parents=True)
    put(folder, "side-stretch", STRETCH)
    assert "side-stretch" in run("list", "exercises").stdout
    assert "side-stretch" not in render.exercises(tmp_path)  # an explicit folder wins


ESCAPES = [
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ cycler.__init__.__globals__.os.system('true') }}",
    "{{ range.__self__ }}",
    "{% set x = namespace() %}{{ x.__class__.__init__.__globals__ }}",
    "{{ m.chapter.__globals__ }}",
    "{{ (lipsum.__globals__['os']).popen('id').read() }}",
]


@pytest.mark.parametrize("escape", ESCAPES)
def test_the_sandbox_refuses_python_internals(mine, escape):
    path = put(mine, "calves", '{% import "_macros.j2" as m %}\n[chapter: X]\nHello.\n'
               + escape + "\n")
    with pytest.raises(ScriptError) as caught:
        script_of(mine)
    message = str(caught.value)
    assert str(path) in message and "line 4" in message, message
    assert "sandbox" in message or "undefined" in message or "no attribute" in message
    result = run("generate", "--templates", str(mine))
    assert result.exit_code == 1 and result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("text, words", [
    ("[chapter: X]\nHello {{ nobody }}.\n", ["line 2", "'nobody' is undefined"]),
    ("[chapter: X]\n\n{% if short %}\nHello.\n", ["line 4", "endif"]),
    ("[chapter: X]\n{{ 1 / 0 }}\n", ["line 2", "division by zero"]),
    ('{% include "exercises/calves.j2" %}\n', ["includes itself"]),
])
def test_template_errors_name_the_file_and_line(mine, text, words):
    path = put(mine, "calves", text)
    with pytest.raises(ScriptError) as caught:
        script_of(mine)
    for word in [*words] + ([str(path)] if "line" in words[0] else []):
        assert word in str(caught.value), caught.value


def test_a_template_that_is_not_utf8_is_one_line(mine):
    (mine / "exercises" / "calves.j2").write_bytes(b"[chapter: X]\nCaf\xe9.\n")
    result = run("script", "--templates", str(mine))
    assert result.exit_code == 1 and "not UTF-8" in result.stderr
    assert result.stderr.count("\n") == 1


def test_a_missing_templates_folder_is_a_usage_error(tmp_path):
    result = run("script", "--templates", str(tmp_path / "nowhere"))
    assert result.exit_code == 2 and "templates folder not found" in result.stderr
