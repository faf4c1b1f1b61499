"""The user's own templates: overriding and adding exercises, listed and used in plans,
rendered in Jinja's sandbox, with errors that name the file and line."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from bounded import finishes

from tre_audio.choices import layers as choices
from tre_audio.narration import programmes, render
from tre_audio import session
from tre_audio.cli import cli
from tre_audio.errors import ScriptError
from tre_audio.narration.script import Chapter

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


# "default:NAME": the shipped template NAME, even where the user's folder has one


@pytest.mark.parametrize("how", ["include", "extends"])
def test_an_override_can_reuse_the_shipped_exercise_it_replaces(mine, how):
    """The shipped exercises define no blocks: extending one renders it whole (after what
    comes before the ``extends``), as an include does."""
    put(mine, "calves", "{# My calves #}\nFirst, find your wall.\n"
        f'{{% {how} "default:exercises/calves.j2" %}}\n')
    text = finishes(lambda: script_of(mine))
    assert text.count("[chapter: Calf raises]") == 1
    assert text.count("slowly rise onto your toes") == script_of(None).count(
        "slowly rise onto your toes") > 0
    assert text.count("First, find your wall.") == 1
    result = run("script", "--templates", str(mine))
    assert result.exit_code == 0, result.stderr
    assert result.stdout.count("[chapter: Calf raises]") == 1


def test_the_shipped_macros_are_imported_by_their_prefix(mine):
    """``default:_macros.j2`` is the shipped file, though the user's folder has its own
    (which extends the shipped one, so the shipped exercises still find theirs)."""
    (mine / "_macros.j2").write_text('{% extends "default:_macros.j2" %}\n'
                                     "{% macro louder(text) %}{{ text|upper }}{% endmacro %}\n",
                                     encoding="utf-8")
    put(mine, "side-stretch", '{# Side stretch #}\n{% import "default:_macros.j2" as m %}\n'
        '{% import "_macros.j2" as mine %}\n{{ m.chapter("Side stretch") }}\n'
        '{{ mine.louder("lean") }} to the left{{ m.called(name) }}.\n'
        "[hold 3 breaths]\n")
    text = script_of(mine, exercises=["side-stretch", "calves"], name="Kim")
    assert "[chapter: Side stretch]" in text and "LEAN to the left, Kim." in text
    assert "[chapter: Calf raises]" in text
    put(mine, "side-stretch", '{% import "default:_macros.j2" as m %}\n[chapter: X]\n'
        "{{ m.louder('lean') }}\n")
    with pytest.raises(ScriptError, match="'louder'"):  # not the user's
        script_of(mine, exercises=["side-stretch"])


@pytest.mark.parametrize("name", [
    "default:exercises/nowhere.j2",
    "default:exercises/side-stretch.j2",  # the user's own, which the prefix never reaches
    "default:../../etc/passwd",
    "default:exercises/../../../render.py",
    "default:/etc/passwd",
    "default:",
])
def test_a_prefixed_name_not_shipped_is_one_clear_line(mine, name):
    put(mine, "side-stretch", STRETCH)
    put(mine, "calves", f'[chapter: X]\n{{% include "{name}" %}}\n')
    with pytest.raises(ScriptError) as caught:
        script_of(mine)
    # named with the template that included it
    assert str(caught.value) == f"{mine / 'exercises' / 'calves.j2'}, line 2: template not " \
                                f"found: {name}"
    result = run("script", "--templates", str(mine))
    assert result.exit_code == 1 and result.stderr.count("\n") == 1, result.stderr
    assert f"template not found: {name}" in result.stderr and "Traceback" not in result.stderr


def test_the_data_folder_is_the_default_templates_folder(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    folder = programmes.default_templates()
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
    ('{% include "exercises/calves.j2" %}\n', ["includes or calls itself"]),
    ("[chapter: X]\n{% macro m() %}{{ m() }}{% endmacro %}\n{{ m() }}\n",
     ["line 2", "includes or calls itself"]),
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


# Plain text, regular files inside the folder, and a bounded rendering


def test_a_byte_order_mark_opens_a_template_as_nothing(mine):
    put(mine, "calves", "\ufeff{# My calves #}\n[chapter: My calves]\nRise slowly, twice.\n")
    assert "\n[chapter: My calves]  # at " in script_of(mine)  # a cue, not narration
    assert render.exercises(mine)["calves"].summary == "My calves"


def test_a_template_with_a_nul_is_refused_with_its_line(mine):
    path = put(mine, "calves", "[chapter: X]\nRise.\nHel\0lo.\n")
    with pytest.raises(ScriptError, match=f"^template {path}, line 3: a NUL character"):
        script_of(mine)


def test_a_symlink_inside_the_folder_is_followed(mine):
    (mine / "shared").mkdir()
    (mine / "shared" / "stretch.j2").write_text(STRETCH, encoding="utf-8")
    (mine / "exercises" / "side-stretch.j2").symlink_to("../shared/stretch.j2")
    assert render.exercises(mine)["side-stretch"].source == "yours"
    assert "[chapter: Side stretch]" in script_of(mine, exercises=["side-stretch"])


@pytest.mark.parametrize("how", ["an exercise", "a folder of them", "an include"])
def test_a_symlink_out_of_the_folder_is_refused(mine, how, tmp_path):
    secret = tmp_path / "secret"
    secret.mkdir()
    (secret / "passwd.j2").write_text("[chapter: S]\nThe secret word is swordfish.\n")
    if how == "an exercise":
        (mine / "exercises" / "calves.j2").symlink_to(secret / "passwd.j2")
        leads = mine / "exercises" / "calves.j2"
    elif how == "a folder of them":
        (mine / "exercises").rmdir()
        (mine / "exercises").symlink_to(secret, target_is_directory=True)
        (secret / "calves.j2").write_text("[chapter: S]\nThe secret word is swordfish.\n")
        leads = mine / "exercises" / "calves.j2"
    else:
        (mine / "link").symlink_to(secret, target_is_directory=True)
        put(mine, "calves", "{% include 'link/passwd.j2' %}\n")
        leads = mine / "link" / "passwd.j2"
    with pytest.raises(ScriptError) as caught:
        script_of(mine)
    assert str(caught.value) == f"template {leads} leads out of the templates folder"
    result = run("list", "exercises", "--templates", str(mine))
    assert "swordfish" not in result.stdout + result.stderr


@pytest.mark.parametrize(("what", "why"), [
    ("a named pipe", "is not a regular file"), ("a folder", "is not a regular file"),
    ("a link to /dev/zero", "leads out of the templates folder"),
    ("too large", "is larger than 256 kB"),
])
def test_only_a_regular_file_of_at_most_256_kb_is_read(mine, what, why):
    path = mine / "exercises" / "calves.j2"
    if what == "a named pipe":
        os.mkfifo(path)
    elif what == "a link to /dev/zero":
        (mine / "zero").symlink_to("/dev/zero")
        path.symlink_to("../zero")
    elif what == "a folder":
        path.mkdir()
    else:
        path.write_text("[chapter: X]\n" + "Rest a while.\n" * 20_000, encoding="utf-8")
    for call in (lambda: script_of(mine), lambda: render.exercises(mine)):
        with pytest.raises(ScriptError, match=f"^template {path} .*{why}"):
            finishes(call)


LONG_LOOP = ("{% for i in range(100000) %}{% for j in range(100000) %}{{ BODY }}{% endfor %}"
             "{% endfor %}")


@pytest.mark.parametrize(("code", "why"), [
    (LONG_LOOP.replace("{{ BODY }}", ""), "rendering took longer than 5 seconds"),
    ("{% set x = [] %}" + LONG_LOOP.replace("BODY", "x.append(1) or ''"),
     "rendering took longer than 5 seconds"),
    (LONG_LOOP.replace("{{ BODY }}", "Rest. "), "it made more than 1 MB of text"),
])
def test_a_rendering_is_bounded_in_time_and_text(mine, code, why):
    path = put(mine, "calves", "[chapter: X]\nRise.\n" + code + "\n")
    started = time.monotonic()
    with pytest.raises(ScriptError) as caught:
        finishes(lambda: script_of(mine))
    assert str(caught.value) == f"template {path}, line 3: {why}"
    assert time.monotonic() - started < 10
    assert "[chapter: Calf raises]" in script_of(None)  # nothing left behind


def test_a_late_rendering_is_named_even_when_the_deadline_lands_outside_it(mine, monkeypatch):
    """The exception lands wherever the thread is: here nearly always in the code that
    takes the text, between two chunks (which used to name no template at all)."""
    path = mine / "languages" / "en" / "late.j2"
    path.parent.mkdir(parents=True)
    path.write_text("Rest.\n" + LONG_LOOP.replace("BODY", "j"), encoding="utf-8")

    def slow_reader(template, context):
        for _ in template.generate(context):
            until = time.perf_counter() + 0.001
            while time.perf_counter() < until:
                pass
        return ""

    monkeypatch.setattr(render, "RENDER_SECONDS", 1.0)
    monkeypatch.setattr(render, "_text", slow_reader)
    for _ in range(2):
        with pytest.raises(ScriptError) as caught:
            finishes(lambda: render.text("en", "late", {}, mine))
        assert str(caught.value) == f"template {path}, line 2: rendering took longer than 1 seconds"


@pytest.mark.parametrize(("code", "why"), [
    ("{{ 'a' * 10**10 }}", "a text or list of 10,000,000,000 characters or items"),
    ("{{ [0] * 10**9 }}", "a text or list of 1,000,000,000 characters or items"),
    ("{{ 2 ** (10**10) }}", "a number of about 20,000,000,000 bits"),
    ("{% set ns = namespace(n=3) %}{% for i in range(40) %}{% set ns.n = ns.n * ns.n %}"
     "{% endfor %}", "a number of about 103,874 bits"),
    ("{{ 'x'|center(10**10) }}", "a field 10,000,000,000 characters wide"),
    ("{{ 'x'.ljust(10**10) }}", "a field 10,000,000,000 characters wide"),
    ("{{ 'a\\nb'|indent(10**10) }}", "a field 10,000,000,000 characters wide"),
    ("{{ '%999999999d' % 1 }}", "a field 999,999,999 characters wide"),
    ("{{ '%*d'|format(999999999, 1) }}", "a field 999,999,999 characters wide"),
    ("{{ '{:>999999999}'.format(1) }}", "a field 999,999,999 characters wide"),
    ("{{ '{:>{}}'.format(1, 999999999) }}", "a field 999,999,999 characters wide"),
    ("{{ ('a' * 1000000)|replace('a', 'bb') }}", "a text of 2,000,000 characters"),
    ("{{ ('a' * 1000)|replace('', 'b' * 1000) }}", "a text of 1,002,000 characters"),
    ("{{ ('a' * 1000).replace('a', 'b' * 1001) }}", "a text of 1,001,000 characters"),
    ("{{ ('\t' * 1000).expandtabs(1001) }}", "a text of 1,002,000 characters"),
    ("{% set x = [1] %}{% for i in range(30) %}{{ x.extend(x) or '' }}{% endfor %}",
     "a list of 1,048,576 items"),
    ("{{ [1]|batch(10**10, 0)|list }}", "a field 10,000,000,000 characters wide"),
])
def test_one_step_that_would_make_too_much_is_refused_at_once(mine, code, why):
    path = put(mine, "calves", "[chapter: X]\nRise.\n" + code + "\n")
    with pytest.raises(ScriptError) as caught:
        finishes(lambda: script_of(mine), seconds=5)
    assert str(caught.value) == f"template {path}, line 3: it would make {why}; at most " \
        + ("65,536" if "bits" in why else "1,000,000")


def test_adding_lists_one_by_one_is_refused(mine):
    """``sum`` over lists runs in C in a time that grows with the square of their number,
    which no deadline can stop; numbers it adds as ever."""
    path = put(mine, "calves", "[chapter: X]\nRise {{ [1, 2, 3]|sum }}.\n"
                               "{{ ([[0]] * 1000000)|sum(start=[])|length }}\n")
    with pytest.raises(ScriptError) as caught:
        finishes(lambda: script_of(mine), seconds=5)
    assert str(caught.value) == f"template {path}, line 3: refused by the sandbox: sum " \
        "adds numbers, not texts or lists"
    put(mine, "calves", "[chapter: X]\nRise {{ [1, 2, 3]|sum }} times.\n")
    assert "Rise 6 times." in script_of(mine)


def test_a_first_line_of_spaces_is_read_at_once(mine):
    """The summary's pattern once backtracked for minutes on such a line."""
    put(mine, "calves", "{#" + " " * 5000 + "\n[chapter: X]\nRise.\n")
    put(mine, "side", "{# Side stretch: leaning to each side [tunes: breaths] #}\n"
                      "[chapter: Side]\nLean.\n")
    listed = finishes(lambda: render.exercises(mine), seconds=5)
    assert listed["calves"].summary == "" and listed["calves"].tunes == ()
    assert (listed["side"].summary, listed["side"].tunes) == (
        "Side stretch: leaning to each side", ("breaths",))


def test_there_is_no_filler_text_generator(mine):
    path = put(mine, "calves", "[chapter: X]\nRise.\n{{ lipsum(n=3000000) }}\n")
    with pytest.raises(ScriptError, match=f"^template {path}, line 3: 'lipsum' is undefined"):
        finishes(lambda: script_of(mine), seconds=5)


@pytest.mark.skipif(not Path("/proc/self/statm").exists(), reason="the cap needs Linux")
@pytest.mark.parametrize("code", [
    "{% set ns = namespace(s='x') %}{% for i in range(60) %}{% set ns.s = ns.s ~ ns.s %}"
    "{% endfor %}",
    "{% set s = 'a' * 1000000 %}{{ ([s] * 1000)|join }}",
])
def test_a_rendering_that_fills_the_memory_meets_a_cap(mine, code, monkeypatch):
    import resource

    monkeypatch.setattr(render, "MEMORY_CAPPED", True)  # as a command's process has it
    path = put(mine, "calves", "[chapter: X]\nRise.\n" + code + "\n")
    before = resource.getrlimit(resource.RLIMIT_AS)
    with pytest.raises(ScriptError) as caught:
        finishes(lambda: script_of(mine))
    assert str(caught.value) == \
        f"template {path}, line 3: rendering needed more than 512 MB of memory"
    assert resource.getrlimit(resource.RLIMIT_AS) == before  # lifted again


def test_what_a_template_may_do_within_the_bounds_it_still_does(mine):
    put(mine, "calves", "[chapter: X]\n"
        "{{ '%d breaths'|format(3) }}, {{ 'calm'|center(8)|trim }}, {{ 'a-b'|replace('-', ' ') }}"
        ", {{ 'ho' * 2 }}, {{ 2 ** 10 }}, {{ '{:>3}'.format(7)|trim }}, {{ '%02d' % 5 }}.\n")
    assert "3 breaths, calm, a b, hoho, 1024, 7, 05." in script_of(mine)


def test_an_old_classic_session_template_is_said_to_be_unread_once(mine):
    (mine / "classic").mkdir()
    (mine / "classic" / "session.j2").write_text("[chapter: Mine]\nHello.\n", encoding="utf-8")
    result = run("script", "--templates", str(mine))
    assert result.exit_code == 0
    warning = f"warning: {mine / 'classic' / 'session.j2'} is not read: programme 'classic' " \
              "is a list of exercises"
    assert result.stderr.count(warning) == 1, result.stderr
    assert "[chapter: Mine]" not in result.stdout


def test_a_process_that_makes_sessions_beside_other_work_is_not_capped(monkeypatch,
                                                                       tmp_path):
    """In the studio's process, speech, pages and a browser go on beside a rendering: a
    cap on the process's memory would fall on them too (a browser started under it
    failed at once). Renderings there leave the limit alone."""
    import resource

    from tre_audio.studio.studio import Studio

    monkeypatch.setattr(render, "MEMORY_CAPPED", True)
    limits: list[object] = []
    real = resource.setrlimit
    monkeypatch.setattr(resource, "setrlimit", lambda *a: (limits.append(a), real(*a)))
    session.script_text(choices.build({"programme": "grounding"}))
    assert limits  # a command's rendering is capped
    limits.clear()
    studio = Studio(tmp_path, profile_path=tmp_path / "p.toml", previews=tmp_path / "v")
    try:
        session.script_text(choices.build({"programme": "grounding"}))
        assert limits == []
    finally:
        studio.close()
