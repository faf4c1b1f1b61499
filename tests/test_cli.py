"""The command line as a new user meets it: help, version, lists, the script round trip,
and an interrupted render that leaves nothing behind."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from pathlib import Path

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
        ("voices", ["piper:en_US-joe-medium", "system:"]),
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
    chapters = re.findall(r"^\[chapter: (.+?)\]", text, flags=re.M)
    assert len(chapters) == 12 and "Sam" in text
    edited = text.replace("[chapter: Closing]", "[chapter: Closing]\nThank you, from all of us.")
    path = private_folders / "mine.txt"
    path.write_text(edited, encoding="utf-8")

    result = run("generate", "--script", str(path), "--minutes", "20")
    assert result.exit_code == 0, result.stderr
    out = private_folders / "output" / "mine-gentle-20min.mp3"
    info = probe(out)
    assert [c["tags"]["title"] for c in info["chapters"]] == chapters
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
    assert [p.name for p in (private_folders / "out").iterdir()] == []
