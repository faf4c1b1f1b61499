"""Every bad input in the README's table: one line on stderr, exit 2 for usage and 1 at
run time, no traceback, no partial file, and the user's files untouched."""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from click.testing import CliRunner

from tre_audio.cli import cli
from tre_audio.practice import store

README = Path(__file__).parents[1] / "README.md"

SCRIPT = "[chapter: A]\n[bell]\nHello there.\n[hold 5-20s]\n"
LONG_NAME = "Alexandra Montgomery-Fitzgerald, my neighbour across the road"


@dataclass(frozen=True)
class Case:
    what: str
    """The kind of bad input, as the README's table names it."""
    args: tuple[str, ...]
    code: int
    files: dict[str, bytes] = field(default_factory=dict)
    """Files made in the working folder first (and checked untouched after)."""
    read_only: tuple[str, ...] = ()
    config: dict[str, bytes] = field(default_factory=dict)
    """Files made in the config folder (profile, lexicon)."""
    fifos: tuple[str, ...] = ()
    """Named pipes made in the working folder (no writer: reading one would hang)."""
    links: dict[str, str] = field(default_factory=dict)
    """Symbolic links made in the working folder, and where each leads."""
    data: dict[str, bytes] = field(default_factory=dict)
    """Files made in the data folder (the practice record)."""


CASES = [
    Case("an unknown command", ("dance",), 2),
    Case("an unknown programme", ("generate", "yoga"), 2),
    Case("an unknown choice", ("generate", "--pace", "fast"), 2),
    Case("a number that is not a number", ("generate", "--minutes", "half"), 2),
    Case("a length of zero", ("generate", "--minutes", "0"), 2),
    Case("a huge length", ("generate", "--minutes", "1e308"), 2),
    Case("not a number (nan)", ("generate", "--minutes", "nan"), 2),
    Case("a length the session cannot reach", ("generate", "--minutes", "3"), 2),
    Case("a negative seed", ("generate", "--seed", "-1"), 2),
    Case("a huge seed", ("generate", "--seed", "99999999999999999999"), 2),
    Case("a bed level out of range", ("generate", "--bed-level", "100"), 2),
    Case("a binaural beat out of range", ("generate", "--binaural", "500"), 2),
    Case("a chime interval too short", ("generate", "--interval-bell", "5"), 2),
    Case("a tremor longer than the level allows", ("generate", "--tremor", "30"), 2),
    Case("a tremor longer than the programme's own", ("generate", "seated", "--tremor", "5"),
         2),
    Case("a tremor for a programme without one", ("generate", "grounding", "--tremor", "5"),
         2),
    Case("a breathing pattern for another programme", ("generate", "--pattern", "sigh"), 2),
    Case("an option that shapes words, with a script", ("generate", "--script", "s.txt",
         "--tremor", "3"), 2, files={"s.txt": SCRIPT.encode()}),
    Case("a profile voice no engine has", ("profile", "set", "voice", "nobody"), 2),
    Case("an unknown body limit", ("generate", "--limit", "elbows"), 2),
    Case("nothing to say", ("say", "   "), 2),
    Case("an output that is not an MP3", ("generate", "-o", "session.wav"), 2),
    Case("an output that is a folder", ("generate", "-o", "sessions"), 2,
         files={"sessions/keep.txt": b"mine"}),
    Case("an output inside a file", ("say", "Hi.", "-o", "notes.txt/hi.mp3"), 1,
         files={"notes.txt": b"mine"}),
    Case("a read-only file to overwrite", ("say", "Hi.", "-o", "kept.mp3"), 1,
         files={"kept.mp3": b"an earlier session"}, read_only=("kept.mp3",)),
    Case("an output folder that cannot be written", ("say", "Hi.", "-o", "/proc/hi.mp3"), 1),
    Case("an empty output name", ("say", "Hi.", "-o", ""), 2),
    Case("an unknown breathing pattern", ("generate", "breathing", "--pattern", "square"), 2),
    Case("a course of zero weeks", ("course", "--weeks", "0"), 2),
    Case("a course into a file", ("course", "-o", "notes.txt"), 2, files={"notes.txt": b"mine"}),
    Case("a feed of a folder that does not exist", ("feed", "nowhere"), 2),
    Case("a port out of range", ("serve", "--port", "99999"), 2),
    Case("a new token without --lan", ("serve", "--new-token"), 2),
    Case("a script that does not exist", ("generate", "--script", "gone.txt"), 2),
    Case("an empty script", ("generate", "--script", "empty.txt"), 1, files={"empty.txt": b""}),
    Case("a binary script", ("generate", "--script", "s.txt"), 1,
         files={"s.txt": b"\x00\x01\x02\xff"}),
    Case("a script in another encoding", ("generate", "--script", "s.txt"), 1,
         files={"s.txt": "[chapter: A]\nCaf\xe9.\n".encode("latin-1")}),
    Case("a script with an unknown cue", ("generate", "--script", "s.txt"), 1,
         files={"s.txt": b"[chapter: A]\nHello.\n[hold forever]\n"}),
    Case("a script with a huge hold", ("generate", "--script", "s.txt"), 1,
         files={"s.txt": b"[chapter: A]\nHello.\n[hold 45 min]\n"}),
    Case("an output that would overwrite the script", ("generate", "--script", "s.txt",
                                                       "-o", "s.mp3"), 2,
         files={"s.txt": SCRIPT.encode()}),
    Case("an output whose transcript's name is a file of yours", (
        "generate", "--script", "s.txt", "-o", "notes.mp3"), 2,
         files={"s.txt": SCRIPT.encode(), "notes.txt": b"my own notes"}),
    Case("a plan with an unknown key", ("generate", "--plan", "p.toml"), 1,
         files={"p.toml": b'pace = "gentle"\ncolour = "red"\n'}),
    Case("a plan value of the wrong type", ("generate", "--plan", "p.toml"), 1,
         files={"p.toml": b"minutes = \"long\"\n"}),
    Case("a plan that is not TOML", ("generate", "--plan", "p.toml"), 1,
         files={"p.toml": b"pace = \n"}),
    Case("a binary plan", ("generate", "--plan", "p.toml"), 1,
         files={"p.toml": b"\x00\x89PNG"}),
    Case("a plan with an unknown exercise", ("generate", "--plan", "p.toml"), 1,
         files={"p.toml": b'exercises = ["calves", "jumping"]\n'}),
    Case("a plan setting an exercise cannot take", ("generate", "--plan", "p.toml"), 1,
         files={"p.toml": b"[exercise.calves]\nbreaths = 3\n"}),
    Case("a plan setting an exercise its programme leaves out", ("generate", "--plan",
         "p.toml"), 1, files={"p.toml": b'programme = "seated"\n[exercise.calves]\nhold = 30\n'}),
    Case("a plan with a tremor its programme has no room for", ("generate", "--plan",
         "p.toml"), 1, files={"p.toml": b'programme = "spiral"\ntremor = 3\n'}),
    Case("a plan with two tremor phases", ("generate", "--plan", "p.toml"), 1,
         files={"p.toml": b'exercises = ["tremor", "calves", "tremor"]\n'}),
    Case("a programme of yours named as a path", ("generate", "x", "--templates", "t"), 1,
         files={"t/programmes.toml": b'["../x"]\nsummary = "s"\ntemplate = "x.j2"\n'}),
    Case("a programmes file that leads out of the templates", ("generate", "--templates",
         "t"), 1, files={"t/keep.txt": b"mine"}, links={"t/programmes.toml": "/etc/passwd"}),
    Case("an exercise name reaching out of the templates", ("generate", "--plan", "p.toml"), 1,
         files={"p.toml": b'exercises = ["../../../etc/passwd"]\n'}),
    Case("a plan new over an existing file", ("plan", "new", "p.toml"), 2,
         files={"p.toml": b"mine"}),
    Case("a templates folder that does not exist", ("generate", "--templates", "mine"), 2),
    Case("a template that includes itself", ("generate", "--templates", "t"), 1,
         files={"t/exercises/calves.j2": b'{% include "exercises/calves.j2" %}\n'}),
    Case("a template reaching Python internals", ("generate", "--templates", "t"), 1,
         files={"t/exercises/calves.j2": b"[chapter: C]\n{{ ''.__class__.__mro__ }}\n"}),
    Case("a template including a file out of the templates", ("generate", "--templates", "t"), 1,
         files={"t/exercises/calves.j2": b'{% include "../../../etc/passwd" %}\n'}),
    Case("a template with a syntax error", ("generate", "--templates", "t"), 1,
         files={"t/exercises/calves.j2": b"[chapter: C]\n{% if short %}\nHello.\n"}),
    Case("a template using an unknown name", ("generate", "--templates", "t"), 1,
         files={"t/exercises/calves.j2": b"[chapter: C]\nHello {{ nobody }}.\n"}),
    Case("a profile with an unknown key", ("generate",), 1,
         config={"profile.toml": b'name = "Sam"\ncolour = "red"\n'}),
    Case("a profile in another encoding", ("generate",), 1,
         config={"profile.toml": 'name = "Ren\xe9e"\n'.encode("latin-1")}),
    Case("a profile value out of range", ("generate",), 1,
         config={"profile.toml": b"minutes = 900\n"}),
    Case("a profile key that does not exist", ("profile", "set", "colour", "red"), 2),
    Case("an email that is not one", ("profile", "set", "email", "sam at home"), 2),
    Case("a lexicon entry that is not text", ("say", "Hi.", "--lexicon", "l.toml"), 1,
         files={"l.toml": b"TRE = 1\n"}),
    Case("a lexicon in another encoding", ("say", "Hi.", "--lexicon", "l.toml"), 1,
         files={"l.toml": 'x = "caf\xe9"\n'.encode("latin-1")}),
    Case("an empty respelling", ("say", "Hi.", "--lexicon", "l.toml"), 1,
         files={"l.toml": b'TRE = ""\n'}),
    Case("a name with a control character", ("generate", "--name", "Sam\x01\x0b"), 2),
    Case("a trusted name longer than 60 characters", ("generate", "--trusted", LONG_NAME), 2),
    Case("a profile name with a control character", ("generate",), 1,
         config={"profile.toml": b'name = "Sam\\u0007"\n'}),
    Case("a script with a NUL character", ("generate", "--script", "s.txt"), 1,
         files={"s.txt": b"[chapter: A]\nHello.\nHel\x00lo.\n"}),
    Case("a script larger than 1 MB", ("generate", "--script", "s.txt"), 1,
         files={"s.txt": b"[chapter: A]\n" + b"Hello there.\n" * 80_000}),
    Case("a script that is a named pipe", ("generate", "--script", "s.txt"), 1,
         fifos=("s.txt",)),
    Case("a sentence longer than 1,000 characters", ("generate", "--script", "s.txt"), 1,
         files={"s.txt": b"[chapter: A]\nHello.\n" + b"and then " * 120 + b"rest.\n"}),
    Case("a session longer than 180 minutes", ("generate", "--script", "s.txt"), 1,
         files={"s.txt": b"[chapter: A]\nHello.\n" + b"[hold 30 min]\n" * 200}),
    Case("a plan that is a device", ("generate", "--plan", "/dev/zero"), 1),
    Case("a plan larger than 256 kB", ("generate", "--plan", "p.toml"), 1,
         files={"p.toml": b'pace = "gentle"\n' + b"# a comment\n" * 25_000}),
    Case("a plan nested 5,000 deep", ("generate", "--plan", "p.toml"), 1,
         files={"p.toml": b"x = " + b"[" * 5000 + b"]" * 5000 + b"\n"}),
    Case("a profile with a key 5,000 deep", ("generate",), 1,
         config={"profile.toml": b"name" + b".x" * 5000 + b" = 1\n"}),
    Case("a lexicon larger than 1 MB", ("say", "Hi.", "--lexicon", "l.toml"), 1,
         files={"l.toml": b'TRE = "T R E"\n' + b"# a comment\n" * 90_000}),
    Case("a lexicon nested 5,000 deep", ("say", "Hi.", "--lexicon", "l.toml"), 1,
         files={"l.toml": b"a = " + b"{b=" * 5000 + b"1" + b"}" * 5000 + b"\n"}),
    Case("a template that loops for ever", ("generate", "--templates", "t"), 1,
         files={"t/exercises/calves.j2": b"[chapter: C]\n{% for i in range(100000) %}"
                b"{% for j in range(100000) %}{% endfor %}{% endfor %}\n"}),
    Case("a template making endless text", ("generate", "--templates", "t"), 1,
         files={"t/exercises/calves.j2": b"[chapter: C]\n{% for i in range(100000) %}"
                b"{% for j in range(100000) %}Rest. {% endfor %}{% endfor %}\n"}),
    Case("a template making a huge text at once", ("generate", "--templates", "t"), 1,
         files={"t/exercises/calves.j2": b"[chapter: C]\n{{ 'a' * 10**10 }}\n"}),
    Case("a template that is a named pipe", ("generate", "--templates", "t"), 1,
         files={"t/exercises/keep.txt": b"mine"}, fifos=("t/exercises/calves.j2",)),
    Case("a template that is a link to a device", ("generate", "--templates", "t"), 1,
         files={"t/exercises/keep.txt": b"mine"},
         links={"t/exercises/calves.j2": "/dev/zero"}),
    Case("a template including a file through a link out of the templates",
         ("generate", "--templates", "t"), 1,
         files={"t/exercises/calves.j2": b"{% include 'etc_link/passwd' %}\n"},
         links={"t/etc_link": "/etc"}),
    Case("a check-in with no session recorded", ("checkin", "--yes"), 1),
    Case("a rating out of range", ("checkin", "--before", "11", "--yes"), 2),
    Case("a check-in about a file that is not a session",
         ("checkin", "--session", "a.mp3", "--yes"), 1, files={"a.mp3": b"ID3"}),
    Case("a practice record that is not one", ("history",), 1,
         data={"practice.sqlite3": b"SQLite format 3\x00" + b"\xff" * 4000}),
    Case("forget asked with no terminal to answer", ("forget",), 2),
    Case("continuing a folder that is not a recorded course",
         ("course", "--continue", "c"), 2, files={"c/keep.txt": b"mine"}),
    Case("continuing a course with other options",
         ("course", "--continue", "c", "--weeks", "2"), 2),
    Case("a history export into a missing folder", ("history", "--csv", "no/p.csv"), 1),
    Case("a history export onto a named pipe", ("history", "--csv", "p.csv"), 1,
         fifos=("p.csv",)),
    Case("an output that is a named pipe", ("say", "Hi.", "-o", "p.mp3"), 1,
         fifos=("p.mp3",)),
    Case("an output name with a control character", ("say", "Hi.", "-o", "a\x01.mp3"), 2),
    Case("an output name that is not UTF-8", ("say", "Hi.", "-o", "\udcff.mp3"), 2),
    Case("a lexicon that lengthens a sentence past 2,000 characters",
         ("say", "Calm, calm.", "--lexicon", "l.toml"), 1,
         files={"l.toml": f'calm = "{"so " * 400}"\n'.encode()}),
]


def _snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` with its bytes (named pipes and links as such)."""
    return {str(p.relative_to(folder)): b"link to " + os.readlink(p).encode() if p.is_symlink()
            else b"named pipe" if p.is_fifo() else p.read_bytes()
            for p in sorted(folder.rglob("*")) if not p.is_dir() or p.is_symlink()}


@pytest.fixture
def config(monkeypatch, tmp_path) -> Path:
    folder = tmp_path / "config"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(folder))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    return folder / "tre-audio"


def run_case(case: Case, work: Path, config: Path) -> tuple[str, dict, dict]:
    shutil.rmtree(store.default_path().parent, ignore_errors=True)  # no record before
    for name, data in case.files.items():
        (work / name).parent.mkdir(parents=True, exist_ok=True)
        (work / name).write_bytes(data)
    for name in case.fifos:
        (work / name).parent.mkdir(parents=True, exist_ok=True)
        os.mkfifo(work / name)
    for name, target in case.links.items():
        (work / name).parent.mkdir(parents=True, exist_ok=True)
        (work / name).symlink_to(target)
    for name in case.read_only:
        os.chmod(work / name, 0o444)
    for name, data in case.config.items():
        config.mkdir(parents=True, exist_ok=True)
        (config / name).write_bytes(data)
    for name, data in case.data.items():
        store.default_path().parent.mkdir(parents=True, exist_ok=True)
        (store.default_path().parent / name).write_bytes(data)
    before = _snapshot(work)
    result = CliRunner().invoke(cli, list(case.args))
    assert result.exit_code == case.code, (result.exit_code, result.stderr)
    assert result.stdout == "" and "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("tre-audio: "), result.stderr
    return _message(lines[0], config), before, _snapshot(work)


def _message(line: str, config: Path) -> str:
    """The message as a person sees it from the shell (click's test runner calls the
    program 'cli'; the config folder is usually ~/.config)."""
    return (line.removeprefix("tre-audio: ").replace("'cli ", "'tre-audio ")
            .replace(str(config.parent), "~/.config")
            .replace(str(store.default_path().parent.parent), "~/.local/share"))


@pytest.mark.parametrize("case", CASES, ids=[c.what for c in CASES])
def test_bad_input_gets_one_line_and_leaves_everything_as_it_was(case, private_folders, config):
    message, before, after = run_case(case, private_folders, config)
    assert after == before  # nothing written, nothing changed, nothing left behind


def test_the_readme_table_shows_what_each_bad_input_gets(private_folders, config, tmp_path):
    readme = README.read_text(encoding="utf-8")
    rows = {m[1]: m for m in re.finditer(r"^\| (.+?) \| `(.+?)` \| (.+?) \| (\d) \|$",
                                         readme, re.M)}
    assert len(CASES) >= 30 and len({c.what for c in CASES}) == len(CASES)
    for number, case in enumerate(CASES):
        shutil.rmtree(config, ignore_errors=True)
        work = tmp_path / f"case{number}"
        work.mkdir()
        os.chdir(work)
        message, _, _ = run_case(case, work, config)
        row = rows.get(case.what)
        assert row, f"README has no row for: {case.what}"
        assert row[2] == "tre-audio " + " ".join(_shell(a) for a in case.args), case.what
        assert row[3] == message.replace("|", "\\|"), case.what
        assert int(row[4]) == case.code, case.what
    assert len(rows) == len(CASES), "the README lists a bad input with no test"


def _shell(arg: str) -> str:
    """``arg`` as typed in a shell (control characters in bash's ``$'...'``)."""
    if re.fullmatch(r"[\w./=-]+", arg):
        return arg
    if all(c.isprintable() for c in arg):
        return "'" + arg + "'"
    return "$'" + "".join(c if c.isprintable() and c not in "'\\" else f"\\x{_byte(c):02x}"
                          for c in arg) + "'"


def _byte(c: str) -> int:
    """The byte behind ``c``: a byte that was not UTF-8 arrives as a surrogate."""
    return ord(c) - 0xDC00 if 0xDC80 <= ord(c) <= 0xDCFF else ord(c)
