"""The command line as a new user meets it: help, version, lists, the script round trip,
and an interrupted render that leaves nothing behind."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from measure import probe
from tre_audio import __version__, session
from tre_audio.cli import cli

README = Path(__file__).parents[1] / "README.md"
TOOL = Path(sys.executable).with_name("tre-audio")


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


def test_version_from_the_command_and_from_python_m():
    assert run("--version").stdout == f"tre-audio, version {__version__}\n"
    done = subprocess.run([sys.executable, "-m", "tre_audio", "--version"],
                          capture_output=True, text=True, check=True)
    assert done.stdout == f"tre-audio, version {__version__}\n"


def test_every_command_has_help_and_is_in_the_readme():
    readme = README.read_text(encoding="utf-8")
    for name, command in cli.commands.items():
        assert command.help, name
        result = run(name, "--help")
        assert result.exit_code == 0 and "Usage:" in result.stdout
        assert f"tre-audio {name}" in readme, name


@pytest.mark.parametrize(
    ("what", "expected"),
    [
        ("programmes", ["classic"]),
        ("paces", ["slow", "gentle", "steady"]),
        ("levels", ["first-time", "beginner", "regular"]),
        ("ambients", ["pink", "brown", "none"]),
        ("voices", ["joe "]),
    ],
)
def test_list_shows_every_choice_with_a_description(what, expected):
    result = run("list", what)
    assert result.exit_code == 0, result.stderr
    rows = result.stdout.splitlines()
    for name in expected:
        assert any(row.startswith(name) for row in rows), (name, rows)
    assert all(len(row.split(None, 1)) == 2 for row in rows)


def test_an_edited_script_is_spoken_as_edited(private_folders):
    printed = run("script", "--minutes", "20", "--name", "Sam")
    assert printed.exit_code == 0, printed.stderr
    text = printed.stdout
    assert re.search(r"planned length 20:0\d", text)
    chapters = re.findall(r"^\[chapter(?: tremor)?: (.+?)\]", text, flags=re.M)
    assert len(chapters) == 12 and "Sam" in text
    assert "[chapter tremor: Tremor]" in text
    edited = text.replace("[chapter: Closing]", "[chapter: Closing]\nThank you, from all of us.")
    path = private_folders / "mine.txt"
    path.write_text(edited, encoding="utf-8")

    result = run("generate", "--script", str(path), "--minutes", "20")
    assert result.exit_code == 0, result.stderr
    out = private_folders / "output" / "mine-gentle-20min.mp3"
    info = probe(out)
    assert [c["tags"]["title"] for c in info["chapters"]] == chapters
    assert info["format"]["tags"]["genre"] == "Speech"
    assert abs(float(info["format"]["duration"]) - 1200) <= 1200 * 0.03
    assert "Thank you, from all of us." in out.with_suffix(".txt").read_text(encoding="utf-8")


def test_interrupted_while_writing_leaves_the_earlier_session_and_no_parts(
    private_folders, monkeypatch, speech_cache
):
    script = private_folders / "s.txt"
    script.write_text("[chapter: A]\n[bell]\nHello, and welcome.\n[hold 5-20s]\n")
    out = private_folders / "keep.mp3"
    out.write_bytes(b"the user's earlier session")

    def interrupted(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(session, "tag_mp3", interrupted)  # the MP3 is half made by then
    result = run("generate", "--script", str(script), "-o", str(out))
    assert result.exit_code == 130
    assert result.stderr == "tre-audio: interrupted; no session was written\n"
    assert out.read_bytes() == b"the user's earlier session"
    assert sorted(p.name for p in private_folders.iterdir()) == ["keep.mp3", "s.txt"]


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_mid_render_stops_cleanly(signum, private_folders, tmp_path):
    """A real process, with an empty cache so that it is busy speaking when signalled."""
    cache = tmp_path / "empty-cache"
    child = subprocess.Popen(
        [str(TOOL), "generate", "-o", "out/session.mp3"],
        env={**__import__("os").environ, "TRE_AUDIO_CACHE": str(cache)},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    deadline = time.monotonic() + 60
    while not list(cache.rglob("*.wav")) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert child.poll() is None, child.stderr.read() if child.stderr else ""
    child.send_signal(signum)
    stdout, stderr = child.communicate(timeout=30)
    assert child.returncode == 130
    assert stderr.strip() == "tre-audio: interrupted; no session was written"
    assert stdout == ""
    assert not (private_folders / "out").exists()  # made for it, and gone with it


@pytest.mark.parametrize(("error", "message"), [
    (RecursionError, "an input is nested too deeply to be read"),
    (MemoryError, "out of memory: an input is too large to be read"),
])
def test_a_recursion_or_memory_error_is_one_line(error, message, monkeypatch):
    """The last line of defence, should an input still reach one (each reader bounds
    its own input: see test_bad_input.py)."""
    def fails(*args, **kwargs):
        raise error

    monkeypatch.setattr(session, "_narration", fails)
    result = run("script")
    assert (result.exit_code, result.stderr, result.stdout) == (1, f"tre-audio: {message}\n", "")


@pytest.mark.parametrize("name", [b"\xff.mp3", b"a\x01.mp3", b"line\nbreak.mp3",
                                  b"plan \xff.toml"])
def test_an_output_name_the_feed_could_not_carry_is_refused(name, private_folders):
    """A real process: the name reaches it as bytes, as from a shell."""
    args = [b"plan", b"new", name[5:]] if name.startswith(b"plan ") else [b"say", b"Hi.",
                                                                          b"-o", name]
    done = subprocess.run([str(TOOL).encode(), *args], cwd=private_folders,
                          capture_output=True)
    lines = done.stderr.decode().splitlines()
    assert done.returncode == 2 and len(lines) == 1, done.stderr
    assert lines[0].startswith("tre-audio: the output path ")
    assert list(private_folders.iterdir()) == []


def test_a_voice_that_fails_inside_onnxruntime_gives_one_line(private_folders, tmp_path):
    """A real process, as onnxruntime logs from C++ straight to the process's stderr: a
    Piper model whose config maps every sound to an id the model does not have."""
    from tre_audio.speech import piper

    bundled = piper.model_path(piper.DEFAULT_VOICE)
    voices = private_folders / "voices"
    voices.mkdir()
    (voices / "en_US-broken-medium.onnx").symlink_to(bundled)
    config = json.loads(Path(f"{bundled}.json").read_text(encoding="utf-8"))
    config["phoneme_id_map"] = {sound: [9999] for sound in config["phoneme_id_map"]}
    (voices / "en_US-broken-medium.onnx.json").write_text(json.dumps(config))
    done = subprocess.run([str(TOOL), "say", "Hello.", "--voice", "en_US-broken-medium"],
                          cwd=private_folders, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "TRE_AUDIO_CACHE": str(tmp_path / "cache")})
    lines = done.stderr.splitlines()
    assert done.returncode == 1 and len(lines) == 1, done.stderr
    assert lines[0].startswith("tre-audio: the Piper voice failed to speak")


def test_a_value_from_a_file_cannot_send_escape_sequences_to_the_terminal(private_folders):
    (private_folders / "p.toml").write_text('voice = "\\u001b[2J"\n', encoding="utf-8")
    result = run("generate", "--plan", "p.toml")
    assert result.exit_code in (1, 2) and len(result.stderr.splitlines()) == 1
    assert "\x1b" not in result.stderr and "control character (U+001B)" in result.stderr


def test_a_script_named_in_bytes_that_are_not_utf8_makes_a_session(private_folders):
    """A real process, the name given as bytes: the title shows U+FFFD for the byte."""
    name = b"\xffmorning.txt"
    (private_folders / os.fsdecode(name)).write_text("[chapter: A]\nHello there.\n",
                                                     encoding="utf-8")
    done = subprocess.run([str(TOOL).encode(), b"generate", b"--script", name, b"-o",
                           b"out.mp3"], cwd=private_folders, capture_output=True)
    assert done.returncode == 0, done.stderr
    timeline = json.loads((private_folders / "out.json").read_text(encoding="utf-8"))
    assert timeline["title"].startswith("\ufffdmorning session")


def test_a_one_chapter_script_named_session_reads_right(private_folders):
    (private_folders / "my-session.txt").write_text("[chapter: A]\nHello there.\n",
                                                     encoding="utf-8")
    result = run("generate", "--script", "my-session.txt", "-o", "out.mp3")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.rstrip().endswith(" 1 chapter")
    title = json.loads((private_folders / "out.json").read_text(encoding="utf-8"))["title"]
    assert title.startswith("my-session, gentle pace, ")


@pytest.mark.parametrize("given", ["--plan", "--lexicon"])
def test_the_files_a_session_is_made_from_are_never_overwritten(given, private_folders):
    (private_folders / "s.txt").write_text("[chapter: A]\nHello there.\n", encoding="utf-8")
    source = private_folders / "from.txt"
    source.write_text('pace = "gentle"\n' if given == "--plan" else 'TRE = "T R E"\n',
                      encoding="utf-8")
    args = ["generate", given, "from.txt", "-o", "from.mp3"]
    result = run(*args) if given == "--plan" else run(*args, "--script", "s.txt")
    assert result.exit_code == 2 and "would overwrite from.txt" in result.stderr
    assert sorted(p.name for p in private_folders.iterdir()) == ["from.txt", "s.txt"]


def test_a_session_replaces_its_whole_set_or_nothing(private_folders):
    """A folder where a file beside the MP3 goes fails the run before anything moves (it
    used to leave the new timeline beside the old MP3); a session made without a picture
    takes the earlier session's picture away, so none is served as its own."""
    (private_folders / "s.txt").write_text("[chapter: A]\nHello there.\n", encoding="utf-8")
    assert run("generate", "--script", "s.txt", "--plot", "-o", "x.mp3").exit_code == 0
    before = {p.name: p.read_bytes() for p in private_folders.iterdir() if p.is_file()}
    assert "x.svg" in before
    (private_folders / "x.srt").unlink()
    (private_folders / "x.srt").mkdir()
    failed = run("generate", "--script", "s.txt", "--name", "Sam", "-o", "x.mp3")
    assert failed.exit_code == 1 and failed.stderr.startswith("tre-audio: cannot write x.srt")
    assert {p.name: p.read_bytes() for p in private_folders.iterdir() if p.is_file()} == {
        name: data for name, data in before.items() if name != "x.srt"}
    (private_folders / "x.srt").rmdir()
    assert run("generate", "--script", "s.txt", "--name", "Sam", "-o", "x.mp3").exit_code == 0
    assert not (private_folders / "x.svg").exists()
    assert json.loads((private_folders / "x.json").read_text())["title"].startswith("Sam's")


@pytest.mark.parametrize("which", [".onnx", ".onnx.json"])
def test_a_voice_file_that_is_a_fifo_is_refused_at_once(which, private_folders):
    from tre_audio.speech import piper

    bundled = piper.model_path(piper.DEFAULT_VOICE)
    voices = private_folders / "voices"
    voices.mkdir()
    for suffix in (".onnx", ".onnx.json"):
        path = voices / f"en_US-pipe-medium{suffix}"
        if suffix == which:
            os.mkfifo(path)
        else:
            path.symlink_to(f"{bundled}{suffix[5:]}")
    done = subprocess.run([str(TOOL), "say", "Hello.", "--voice", "en_US-pipe-medium"],
                          cwd=private_folders, capture_output=True, text=True, timeout=60)
    # seen when the voices are listed: the voice is refused (a usage error)
    assert done.returncode == 2 and "not a regular file" in done.stderr, done.stderr
    assert len(done.stderr.splitlines()) == 1


def test_what_is_private_stays_private(private_folders, tmp_path, monkeypatch):
    """A session made again keeps the permissions the user gave the earlier one; a new
    profile (body limits, a trusted person) and the speech cache (the name, spoken) are
    the user's alone; the timeline names the lexicon, not where the user keeps it."""
    import stat

    from tre_audio.choices import profile

    monkeypatch.setenv("TRE_AUDIO_CACHE", str(tmp_path / "new" / "cache"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    (private_folders / "s.txt").write_text("[chapter: A]\nHello there.\n", encoding="utf-8")
    (private_folders / "words.toml").write_text('TRE = "T R E"\n', encoding="utf-8")
    assert run("generate", "--script", "s.txt", "-o", "x.mp3").exit_code == 0
    (private_folders / "x.mp3").chmod(0o600)
    result = run("generate", "--script", "s.txt", "-o", "x.mp3", "--lexicon", "words.toml")
    assert result.exit_code == 0, result.stderr
    assert stat.S_IMODE((private_folders / "x.mp3").stat().st_mode) == 0o600
    assert json.loads((private_folders / "x.json").read_text())["lexicon"] == "words.toml"
    for folder in (tmp_path / "new", tmp_path / "new" / "cache"):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert run("profile", "init").exit_code == 0
    assert stat.S_IMODE(profile.default_path().stat().st_mode) == 0o600
    assert stat.S_IMODE(profile.default_path().parent.stat().st_mode) == 0o700


def test_a_summary_from_a_template_cannot_send_escape_sequences(private_folders):
    exercises = private_folders / "t" / "exercises"
    exercises.mkdir(parents=True)
    (exercises / "side.j2").write_text("{# Side \x1b]0;owned\x07 stretch #}\n[chapter: S]\n"
                                       "Lean.\n", encoding="utf-8")
    result = run("list", "exercises", "--templates", "t")
    assert result.exit_code == 0 and "\x1b" not in result.stdout
    assert "Side \\x1b]0;owned\\x07 stretch" in result.stdout


def test_a_name_chosen_by_default_never_replaces_an_earlier_session(private_folders):
    """The README's examples in order replaced the session scripts/run made: now the
    second of a name gets the next free one, and stderr says so; -o still replaces."""
    (private_folders / "s.txt").write_text("[chapter: A]\nHello there.\n", encoding="utf-8")
    first = run("generate", "--script", "s.txt")
    assert first.exit_code == 0 and first.stderr == ""
    made = Path(first.stdout.split()[0])
    earlier = (private_folders / made).read_bytes()
    second = run("generate", "--script", "s.txt", "--name", "Sam")
    assert second.exit_code == 0
    again = Path(second.stdout.split()[0])
    assert again == made.with_name(f"{made.stem}-2.mp3")
    assert second.stderr == (f"tre-audio: {made} is an earlier session, kept; this one is "
                             f"{again.name}\n")
    assert (private_folders / made).read_bytes() == earlier
    timeline = json.loads((private_folders / again.with_suffix(".json")).read_text())
    assert timeline["audio"] == again.name and timeline["title"].startswith("Sam's")
    chosen = run("generate", "--script", "s.txt", "--name", "Alex", "-o", str(made))
    assert chosen.exit_code == 0
    assert (private_folders / made).read_bytes() != earlier  # chosen: replaced


def option_rows() -> list[str]:
    """The README's option table as the command line declares it: the option table's
    entries (their README wording) and generate's own options, in --help's order."""
    from tre_audio.cli import generate
    from tre_audio.options import table

    rows = ["| option | what it does | default |", "| --- | --- | --- |"]
    for param in generate.params:
        option = table.BY_KEY.get(param.name or "")
        if option is not None:
            rows.append(f"| `{option.spelling}` | {option.help} | {option.shown_default} |")
            continue
        assert isinstance(param, click.Option) and param.help, param.name
        said = re.fullmatch(r"(.+?)(?: \[default: (.+)\])?\.", param.help)
        assert said, param.help
        names = ", ".join(f"`{name}`" for name in param.opts)
        metavar = f" {param.metavar}" if param.metavar else ""
        names = names[:-1] + metavar + "`"
        rows.append(f"| {names} | {said[1][0].lower()}{said[1][1:]} | {said[2] or ''} |")
    return rows


def test_the_readme_option_table_is_the_command_lines():
    readme = README.read_text(encoding="utf-8")
    start = readme.index("| option | what it does | default |")
    table = readme[start:readme.index("\n\n", start)].splitlines()
    assert table == option_rows()


def test_every_option_in_the_table_reaches_every_place_it_may_be_set():
    from tre_audio.choices import planfile, profile as profiles
    from tre_audio.cli import generate, script
    from tre_audio.options import table, values

    for command, left in ((generate, set()), (script, {"lexicon", "record"})):
        given = {p.name for p in command.params}
        assert {o.key for o in table.where(table.COMMAND)} - given == left
    assert set(planfile.KEYS) == {o.key for o in table.where(table.PLAN)} - {"tune"}
    example = planfile.example("p.toml")
    assert all(f"\n# {key} = " in example or f"\n{key} = " in example
               for key in planfile.KEYS if key != "programme") and "programme = " in example
    assert set(profiles.KEYS) == {o.key for o in table.where(table.PROFILE)}
    kept = values.Options().settings()
    assert set(kept) == {o.key for o in table.OPTIONS if o.part != "feed"} - {
        "trusted", "templates", "lexicon", "record"}


def test_each_part_of_the_value_object_holds_the_options_the_table_gives_it():
    import dataclasses

    from tre_audio.options import table, values

    for part, holder in (("session", values.Options), ("sound", values.Sound),
                         ("recipe", values.Recipe)):
        fields = {f.name for f in dataclasses.fields(holder)}
        assert set(table.part(part)) <= fields, part
        others = fields - set(table.part(part))
        assert others <= {"sound", "recipe", "label", "duck", "returning", "adapted",
                          "ground_first"}, (part, others)
