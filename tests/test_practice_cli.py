"""Practice over time on the command line, with real sessions: each session made is
recorded; `checkin` says how it went; the next session's shaking phase follows, and its
narration says why; `history` shows, exports and draws it; `forget` deletes it all."""

from __future__ import annotations

import csv
import json
import os
import re
import pty
import select
import sqlite3
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from tre_audio.cli import cli
from tre_audio.practice import store

QUICK = ["tremor", "--level", "sensitive", "--pace", "steady"]
"""The shortest session with a shaking phase (about 19 minutes, a few seconds to make)."""


def run(*args: str, code: int = 0):
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == code, (result.stdout, result.stderr)
    return result


def timeline(mp3: Path) -> dict:
    return json.loads(mp3.with_suffix(".json").read_text("utf-8"))


def hold_seconds(mp3: Path) -> float:
    """The shaking phase as the timeline lays it out: its chapter's holds."""
    about = timeline(mp3)
    chapter = next(c["title"] for c in about["chapters"] if c.get("tremor"))
    return sum(s["end"] - s["start"] for s in about["segments"]
               if s["kind"] == "hold" and s["chapter"] == chapter)


@pytest.fixture
def record_path(private_home) -> Path:
    path = store.default_path()
    store.forget(path)
    yield path
    store.forget(path)


def test_a_session_is_recorded_and_a_hard_one_halves_the_next(record_path):
    first, level = Path("first.mp3"), ["--level", "first-time"]  # 3-6 minutes: room to halve
    run("generate", *QUICK, *level, "-o", str(first))
    about = timeline(first)
    assert about["dose"] == {"rule": "planned", "tremor": None, "said": ""}  # the range's
    assert about["tremor_minutes"] == pytest.approx(hold_seconds(first) / 60, abs=0.01)
    assert stat.S_IMODE(record_path.stat().st_mode) == 0o600
    with sqlite3.connect(record_path) as db:
        assert db.execute("SELECT id, tremor FROM sessions").fetchall() == [
            (about["id"], pytest.approx(about["tremor_minutes"], abs=0.01))]

    checked = run("checkin", "--before", "3", "--after", "5", "--felt", "too-much", "--yes")
    assert f"About {first.absolute()}" in checked.stderr
    assert "Recorded." in checked.stdout
    assert "Next session, the shaking phase is shorter" in checked.stdout
    assert "112" not in checked.stdout  # not a hard landing: no crisis pointer needed

    second = Path("second.mp3")
    made = run("generate", *QUICK, *level, "-o", str(second))
    assert "so this session's is shorter" in made.stderr
    again = timeline(second)
    assert again["dose"]["rule"] == "halved"
    assert hold_seconds(second) <= hold_seconds(first) / 2 + 0.5
    assert hold_seconds(second) >= 60
    said = second.with_suffix(".txt").read_text("utf-8")
    tremor_part = said[said.index("Tremor"):]
    assert "Last time the shaking felt like a lot, so today's is shorter." in \
        tremor_part[:400]
    shown = run("history").stdout.splitlines()
    assert [line.split()[5] for line in shown[1:]] == ["planned", "halved"]


def test_feeling_spaced_out_shows_care_now_and_the_next_session_grounds_first(record_path):
    run("generate", *QUICK, "-o", "a.mp3")
    checked = run("checkin", "--after", "2", "--spaced-out", "--yes")
    for words in ("Stop, sit up, and open your eyes.", "five things you see",
                  "112", "findahelpline.com", "talk it over with a TRE provider"):
        assert words in checked.stdout
    made = run("generate", *QUICK, "-o", "b.mp3")
    assert "tre-audio generate grounding" in made.stderr
    chapters = [c["title"] for c in timeline(Path("b.mp3"))["chapters"]]
    assert chapters[1] == "Grounding"
    assert "we begin by grounding" in Path("b.mp3").with_suffix(".txt").read_text("utf-8")


def test_an_after_rating_of_8_shows_the_grounding_steps_and_crisis_pointer(record_path):
    run("generate", *QUICK, "-o", "a.mp3")
    calm = run("checkin", "--after", "7", "--before", "7", "--felt", "about-right", "--yes")
    assert "112" not in calm.stdout
    hard = run("checkin", "--after", "8", "--yes")
    assert "Take care of yourself now:" in hard.stdout and "112" in hard.stdout


def test_a_tremor_given_for_this_session_wins_inside_the_level(record_path):
    run("generate", *QUICK, "-o", "a.mp3")
    run("checkin", "--felt", "too-much", "--yes")
    made = run("generate", *QUICK, "--tremor", "3", "-o", "b.mp3")
    assert "shorter" not in made.stderr
    about = timeline(Path("b.mp3"))
    assert about["dose"] == {"rule": "chosen", "tremor": 3.0, "said": ""}
    assert about["tremor_minutes"] == pytest.approx(3.0, abs=0.05)
    run("generate", *QUICK, "--tremor", "4", "-o", "c.mp3", code=2)  # sensitive: 1-3


@pytest.mark.parametrize("how", ["option", "profile"])
def test_recording_and_adapting_can_be_turned_off(record_path, how):
    if how == "profile":
        run("profile", "set", "record", "false")
        args: tuple[str, ...] = ()
    else:
        args = ("--no-record",)
    try:
        made = run("generate", *QUICK, *args, "-o", "a.mp3")
        assert not record_path.exists()
        assert timeline(Path("a.mp3"))["dose"] is None
        assert "record" not in timeline(Path("a.mp3"))["settings"]
        assert made.stderr == ""
    finally:
        if how == "profile":
            run("profile", "set", "record", "")


def test_history_exports_csv_and_a_picture_for_the_user_alone(record_path):
    shown = run("history")
    assert shown.stdout.strip() == "No sessions recorded yet."
    assert "health data" in shown.stderr
    assert not record_path.exists()  # looking made no record
    run("generate", *QUICK, "-o", "a.mp3")
    run("checkin", "--before", "6", "--after", "3", "--felt", "more", "--note",
        "legs warm; calm after", "--yes")
    run("history", "--csv", "practice.csv", "--plot", "practice.svg")
    with open("practice.csv", encoding="utf-8", newline="") as exported:
        rows = list(csv.DictReader(exported))
    assert [(r["session"], r["felt"], r["before"], r["after"], r["note"]) for r in rows] \
        == [("a.mp3", "more", "6", "3", "legs warm; calm after")]
    for name in ("practice.csv", "practice.svg"):
        assert stat.S_IMODE(os.stat(name).st_mode) == 0o600
    assert "<svg" in Path("practice.svg").read_text("utf-8")
    run("history", "--csv", "nowhere/practice.csv", code=1)


def test_forget_deletes_the_record_with_its_journal_files(record_path):
    run("generate", *QUICK, "-o", "a.mp3")
    held = sqlite3.connect(record_path)  # a reader keeps the WAL and shared memory there
    held.execute("PRAGMA journal_mode = WAL")
    held.execute("SELECT * FROM sessions").fetchall()
    run("checkin", "--felt", "more", "--yes")
    assert Path(f"{record_path}-wal").exists() and Path(f"{record_path}-shm").exists()
    refused = run("forget", code=2)  # no terminal to ask in
    assert "--yes" in refused.stderr and record_path.exists()
    gone = run("forget", "--yes")
    held.close()
    assert gone.stdout.strip() == "Deleted 3 files."
    assert list(record_path.parent.iterdir()) == []
    assert run("forget", "--yes").stdout.strip() == "There was no practice record."


def test_bad_check_ins_get_one_line_and_change_nothing(record_path, tmp_path):
    nothing = run("checkin", "--yes", code=1)
    assert nothing.stderr.strip().startswith("tre-audio: no session in your practice record")
    run("generate", *QUICK, "-o", "a.mp3")
    for args, code in ((["--before", "11"], 2), (["--felt", "loads"], 2),
                       (["--session", str(tmp_path / "none.mp3")], 1),
                       (["--session", str(tmp_path)], 1)):
        result = run("checkin", *args, "--yes", code=code)
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert "Traceback" not in result.stderr
    Path("lone.mp3").write_bytes(b"")
    Path("lone.json").write_text('{"format": "something else"}')
    lone = run("checkin", "--session", "lone.mp3", "--yes", code=1)
    assert "is not the timeline of a session tre-audio made" in lone.stderr
    long = run("checkin", "--note", "x" * 2001, "--yes", code=2)
    assert "at most 2,000 characters" in long.stderr
    asked = run("checkin", code=2)  # no terminal, no --yes
    assert "--yes" in asked.stderr
    with sqlite3.connect(record_path) as db:
        assert db.execute("SELECT count(*) FROM checkins").fetchone() == (0,)


def test_a_session_made_before_the_record_is_added_when_checked_in(record_path):
    run("generate", *QUICK, "--no-record", "-o", "old.mp3")
    assert not record_path.exists()
    run("checkin", "--session", "old.mp3", "--felt", "about-right", "--yes")
    with sqlite3.connect(record_path) as db:
        assert db.execute("SELECT path, rule FROM sessions").fetchall() == [
            (str(Path("old.mp3").absolute()), None)]


def test_a_damaged_record_is_refused_before_anything_is_made(record_path):
    record_path.parent.mkdir(parents=True, exist_ok=True)
    record_path.write_bytes(b"not a database at all" * 100)
    damaged = record_path.read_bytes()
    made = run("generate", *QUICK, "-o", "a.mp3", code=1)
    assert "is not a practice record tre-audio can read" in made.stderr
    assert len(made.stderr.strip().splitlines()) == 1
    assert not Path("a.mp3").exists()
    assert record_path.read_bytes() == damaged
    run("generate", *QUICK, "--no-record", "-o", "a.mp3")  # the way round it works


def _answer(fd: int, prompt: bytes, reply: bytes, seen: bytearray) -> None:
    deadline = time.monotonic() + 60
    while prompt not in seen:
        assert time.monotonic() < deadline, bytes(seen)
        ready, _, _ = select.select([fd], [], [], 1)
        if ready:
            seen += os.read(fd, 4096)
    seen.clear()
    os.write(fd, reply)


def test_checkin_asks_in_a_terminal(record_path):
    run("generate", *QUICK, "-o", "a.mp3")
    leader, follower = pty.openpty()
    child = subprocess.Popen([sys.executable, "-m", "tre_audio", "checkin"], stdin=follower,
                             stdout=follower, stderr=follower, close_fds=True)
    os.close(follower)
    seen = bytearray()
    try:
        for prompt, reply in ((b"before, 0-10", b"12\r"), (b"before, 0-10", b"4\r"),
                              (b"after, 0-10", b"\r"), (b"felt (too-much", b"about-right\r"),
                              (b"spaced out or unreal?", b"n\r"), (b"A note", b"fine\r")):
            _answer(leader, prompt, reply, seen)
        assert child.wait(timeout=60) == 0
    finally:
        child.kill()
        os.close(leader)
    with sqlite3.connect(record_path) as db:
        assert db.execute("SELECT before, after, felt, spaced_out, note FROM checkins"
                          ).fetchall() == [(4, None, "about-right", 0, "fine")]


def test_a_course_continues_from_the_check_ins_keeping_what_was_practised(record_path):
    made = run("course", "tremor", "--level", "first-time", "--pace", "steady",
               "--weeks", "1", "--per-week", "3", "-o", "c")
    assert [line.split()[-2] for line in made.stdout.splitlines()[:3]] == ["3", "3.5", "4"]
    first, second, third = (Path(f"c/0{n}-week1-session{n}.mp3") for n in (1, 2, 3))
    kept = first.read_bytes()
    early = run("course", "--continue", "c", code=2)
    assert "no session of the course in c is checked in yet" in early.stderr
    assert "About" in run("checkin", "--felt", "too-much", "--yes").stderr  # the first's
    again = run("course", "--continue", "c")
    assert "so the next session's is shorter" in again.stderr
    assert [Path(line.split()[0]).name for line in again.stdout.splitlines()[:2]] == [
        second.name, third.name]
    assert first.read_bytes() == kept  # practised: left as it was
    assert timeline(second)["dose"]["rule"] == "halved"
    assert timeline(second)["dose"]["tremor"] == 1.5
    assert timeline(third)["dose"]["tremor"] == 2.0  # its planned rise kept over that
    assert hold_seconds(second) == pytest.approx(90, abs=1)
    said = second.with_suffix(".txt").read_text("utf-8")
    assert "Last time the shaking felt like a lot, so today's is shorter." in said
    assert "shorter" not in third.with_suffix(".txt").read_text("utf-8")
    rows = [line.split(" | ") for line in Path("c/schedule.md").read_text("utf-8")
            .splitlines() if ".mp3" in line]
    assert [(r[4], r[5].rstrip(" |")) for r in rows[1:]] == [
        ("1.5 min", "tremor down to 1.5 min, from your check-in"),
        ("2 min", "tremor up to 2 min")]
    playlist = Path("c/course.m3u8").read_text("utf-8").splitlines()
    assert [line for line in playlist if line.endswith(".mp3")] == [
        first.name, second.name, third.name]
    with sqlite3.connect(record_path) as db:
        rows = db.execute("SELECT number, rule FROM sessions ORDER BY number").fetchall()
    assert rows == [(1, "course"), (2, "halved"), (3, "course")]  # its planned rise
    assert not list(Path("c").glob(".course-*"))


@pytest.mark.slow
@pytest.mark.parametrize("answers", [["--felt", "too-much"], ["--spaced-out"]])
def test_why_the_shaking_is_shorter_is_heard_in_the_session(record_path, answers):
    """The sentence, cut out of the session as heard (bed and all), recognised whole."""
    from hearing import MARGIN, RATE, _hear, decoded, normal

    level = ["--level", "first-time"]
    run("generate", *QUICK, *level, "-o", "a.mp3")
    run("checkin", *answers, "--yes")
    run("generate", *QUICK, *level, "-o", "b.mp3")
    about = timeline(Path("b.mp3"))
    said = about["dose"]["said"]
    (start, end), = [(s["start"], s["end"]) for s in about["segments"]
                     if s["kind"] == "speech" and s["text"] == said]
    samples = decoded(Path("b.mp3"))
    heard = normal(_hear(samples[int((start - MARGIN) * RATE):int((end + MARGIN) * RATE)]))
    assert normal(said) in heard, heard


def test_an_export_never_replaces_the_record_a_device_or_a_pipe(record_path, tmp_path):
    run("generate", *QUICK, "-o", "a.mp3")
    run("checkin", "--felt", "more", "--yes")
    kept = record_path.read_bytes()
    for end in ("", "-wal"):
        over = run("history", "--csv", f"{record_path}{end}", code=1)
        assert "is your practice record: it is not written over" in over.stderr
    assert record_path.read_bytes() == kept
    os.mkfifo("pipe.csv")
    os.symlink("/dev/null", "null.svg")
    for name, flag in (("pipe.csv", "--csv"), ("null.svg", "--plot")):
        refused = run("history", flag, name, code=1)
        assert "is not a regular file; not replacing it" in refused.stderr
    assert Path("pipe.csv").is_fifo() and os.readlink("null.svg") == "/dev/null"
    Path("mine.csv").write_text("mine", encoding="utf-8")
    os.chmod("mine.csv", 0o644)
    run("history", "--csv", "mine.csv")  # asked for by name: replaced, the user's alone
    assert stat.S_IMODE(os.stat("mine.csv").st_mode) == 0o600
    os.chmod(record_path, 0o644)
    os.chmod(record_path.parent, 0o755)
    run("history")
    assert stat.S_IMODE(record_path.stat().st_mode) == 0o600
    assert stat.S_IMODE(record_path.parent.stat().st_mode) == 0o700


def test_a_session_never_replaces_a_pipe_at_its_name():
    os.mkfifo("hello.mp3")
    refused = run("say", "Hello.", "-o", "hello.mp3", code=1)
    assert "hello.mp3 is not a regular file; not replacing it" in refused.stderr
    assert Path("hello.mp3").is_fifo()


@pytest.mark.parametrize(("change", "refused"), [
    ({"made": "99999-01-01T00:00:00"}, True), ({"made": "2026-12-01T10:00:00"}, True),
    ({"id": "x" * 500}, True),
    ({"tremor_minutes": 0.01}, False), ({"tremor_minutes": 1e308}, False),
    ({"tremor_minutes": "lots"}, False), ({"tremor_minutes": True}, False)])
def test_a_crafted_timeline_is_refused_or_read_for_what_holds(record_path, change, refused):
    run("generate", *QUICK, "--no-record", "-o", "a.mp3")
    about = timeline(Path("a.mp3"))
    about["settings"].update(level="ultra", programme="../../etc")
    about.update(change)
    Path("a.json").write_text(json.dumps(about), encoding="utf-8")
    result = run("checkin", "--session", "a.mp3", "--felt", "more", "--yes",
                 code=1 if refused else 0)
    if refused:
        assert "is not the timeline of a session tre-audio made" in result.stderr
        assert "Traceback" not in result.stderr
        return
    with sqlite3.connect(record_path) as db:
        assert db.execute("SELECT programme, level, tremor FROM sessions").fetchall() == [
            (None, None, 0.01 if change["tremor_minutes"] == 0.01 else None)]
    run("checkin", "--session", "a.mp3", "--felt", "more", "--yes")
    made = run("generate", *QUICK, "-o", "b.mp3")  # two "good" check-ins of 0.01 minutes
    assert timeline(Path("b.mp3"))["tremor_minutes"] >= 1


def test_what_checkin_says_of_the_next_session_is_what_it_gets(record_path):
    run("generate", *QUICK, "-o", "a.mp3")
    first = run("checkin", "--felt", "about-right", "--before", "4", "--after", "3", "--yes")
    assert "Next session, the shaking phase stays at" in first.stdout
    run("generate", *QUICK, "-o", "b.mp3")
    second = run("checkin", "--felt", "more", "--before", "4", "--after", "3", "--yes")
    said = re.search(r"may be a little longer: ([\d.]+) minutes", second.stdout)
    assert said, second.stdout
    run("generate", *QUICK, "-o", "c.mp3")
    assert timeline(Path("c.mp3"))["dose"]["tremor"] == float(said[1])


def test_checkin_is_refused_when_the_profile_turns_the_record_off(record_path):
    run("generate", *QUICK, "-o", "a.mp3")
    run("profile", "set", "record", "false")
    try:
        off = run("checkin", "--felt", "more", "--yes", code=1)
        assert "your profile turns the practice record off" in off.stderr
    finally:
        run("profile", "set", "record", "")
    with sqlite3.connect(record_path) as db:
        assert db.execute("SELECT count(*) FROM checkins").fetchone() == (0,)


def test_a_short_phase_is_said_as_a_minute_and_never_as_shorter_when_it_is_not(
        record_path):
    run("generate", *QUICK, "--tremor", "1", "-o", "a.mp3")
    said = Path("a.txt").read_text("utf-8")
    assert "up to about one minute." in said
    run("checkin", "--felt", "too-much", "--yes")
    run("generate", *QUICK, "-o", "b.mp3")
    about = timeline(Path("b.mp3"))
    assert about["dose"]["rule"] == "halved" and about["dose"]["tremor"] == 1
    assert about["dose"]["said"] == ("Last time the shaking felt like a lot, so today's is "
                                     "as short as it can be.")


def _in_terminal(args: list[str], replies) -> tuple[int, bytes]:
    leader, follower = pty.openpty()
    child = subprocess.Popen([sys.executable, "-m", "tre_audio", *args], stdin=follower,
                             stdout=follower, stderr=follower, close_fds=True)
    os.close(follower)
    seen = bytearray()
    everything = bytearray()
    try:
        for prompt, reply in replies:
            _answer(leader, prompt, reply, seen)
        code = child.wait(timeout=60)
        while select.select([leader], [], [], 0.2)[0]:
            try:
                chunk = os.read(leader, 4096)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
        everything += seen
    finally:
        child.kill()
        os.close(leader)
    return code, bytes(everything)


def test_saying_no_to_forget_keeps_everything_and_ctrl_d_records_nothing(record_path):
    run("generate", *QUICK, "-o", "a.mp3")
    code, said = _in_terminal(["forget"], [(b"cannot be undone", b"n\r")])
    assert code == 0 and b"Nothing was deleted." in said and record_path.exists()
    code, said = _in_terminal(["checkin"], [(b"before, 0-10", b"\x04")])
    assert code == 130 and b"stopped; nothing was recorded" in said
    with sqlite3.connect(record_path) as db:
        assert db.execute("SELECT count(*) FROM checkins").fetchone() == (0,)
