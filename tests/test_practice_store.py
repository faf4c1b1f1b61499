"""The practice record, a real SQLite file: kept private, read back as written, whole
after a process is killed mid-write, migrated when its layout changes, and never written
over when it is not a record tre-audio can read."""

from __future__ import annotations

import os
import signal
import sqlite3
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tre_audio.errors import PracticeError
from tre_audio.practice import store
from tre_audio.practice.store import CheckIn, Made, Record


def session(number: int, tremor: float | None = 3.0) -> Made:
    return Made(f"id-{number}", f"2026-12-0{number}T10:00:00+00:00", f"/s/{number}.mp3",
                "classic", "first-time", tremor, 38.0, {"pace": "gentle"})


def answer(number: int, **given) -> CheckIn:
    return CheckIn(**({"session": f"id-{number}", "at": f"2026-12-0{number}T11:00:00+00:00",
                       "before": 5, "after": 3, "felt": "about-right", "spaced_out": False}
                      | given))


def test_a_new_record_is_private_and_reads_back_what_was_written(tmp_path):
    path = tmp_path / "data" / "tre-audio" / store.FILE_NAME
    with Record(path) as record:
        record.add_session(session(1))
        record.add_session(session(2, tremor=None))
        record.check_in(answer(1, note="steady; legs shook a lot"))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    with Record(path) as record:
        assert record.sessions() == [session(1), session(2, tremor=None)]
        assert record.check_ins() == [answer(1, note="steady; legs shook a lot")]
        assert record.check_ins("id-2") == []
        assert record.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert record.db.execute("PRAGMA user_version").fetchone()[0] == store.LAYOUT


@pytest.mark.parametrize(("given", "words"), [
    ({"session": "id-9"}, "no session id-9"), ({"before": 11}, "--before must be"),
    ({"after": -1}, "--after must be"), ({"after": True}, "--after must be"),
    ({"felt": "fine"}, "--felt must be one of too-much, about-right, more")])
def test_a_check_in_that_cannot_be_is_refused_and_nothing_is_written(tmp_path, given,
                                                                     words):
    path = tmp_path / store.FILE_NAME
    with Record(path) as record:
        record.add_session(session(1))
        with pytest.raises(PracticeError, match=words):
            record.check_in(answer(1, **given))
        assert record.check_ins() == []


KILLED_MID_WRITE = """
import os, sys
from tre_audio.practice.store import CheckIn, Record
with Record(__import__("pathlib").Path(sys.argv[1])) as record:
    with record._change():
        for n in range(500):
            record.db.execute(
                "INSERT INTO checkins (session, at, before, after, felt, spaced_out) "
                "VALUES ('id-1', 'x', 1, 1, 'more', 0)")
        print("written, not committed", flush=True)
        sys.stdin.read()  # killed here
"""


def test_a_process_killed_in_the_middle_of_a_write_leaves_the_record_as_it_was(tmp_path):
    path = tmp_path / store.FILE_NAME
    with Record(path) as record:
        record.add_session(session(1))
        record.check_in(answer(1))
    child = subprocess.Popen([sys.executable, "-c", KILLED_MID_WRITE, str(path)],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "written, not committed"
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
        child.stdin.close()
        child.stdout.close()
    with Record(path) as record:
        assert record.check_ins() == [answer(1)]
        assert record.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        record.check_in(answer(1, note="after the crash"))  # and it takes writes again
        assert len(record.check_ins()) == 2


@pytest.mark.parametrize("content", [b"not a database at all\n" * 20,
                                     b"SQLite format 3\x00" + b"\xff" * 400])
def test_a_damaged_file_is_refused_clearly_and_not_written_over(tmp_path, content):
    folder = tmp_path / "data"
    folder.mkdir()
    path = folder / store.FILE_NAME
    path.write_bytes(content)
    with pytest.raises(PracticeError, match="not a practice record tre-audio can read"):
        Record(path).__enter__()
    assert path.read_bytes() == content
    assert sorted(p.name for p in folder.iterdir()) == [store.FILE_NAME]


def test_a_record_from_a_newer_tre_audio_is_left_as_it_is(tmp_path):
    path = tmp_path / store.FILE_NAME
    with Record(path):
        pass
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA user_version = 99")
    before = path.read_bytes()
    with pytest.raises(PracticeError, match="newer tre-audio"):
        Record(path).__enter__()
    assert path.read_bytes() == before


def test_an_older_layout_is_migrated_and_keeps_what_it_held(tmp_path, monkeypatch):
    path = tmp_path / store.FILE_NAME
    with Record(path) as record:
        record.add_session(session(1))
        record.check_in(answer(1))
    monkeypatch.setattr(store, "LAYOUT", 2)
    monkeypatch.setitem(store.MIGRATIONS, 1,
                        "ALTER TABLE checkins ADD COLUMN slept INTEGER DEFAULT 1;")
    with Record(path) as record:
        assert record.db.execute("PRAGMA user_version").fetchone()[0] == 2
        assert record.db.execute("SELECT slept FROM checkins").fetchall() == [(1,)]
        assert record.check_ins() == [answer(1)]


def test_a_link_at_the_record_s_place_is_refused(tmp_path):
    elsewhere = tmp_path / "elsewhere.sqlite3"
    elsewhere.write_bytes(b"")
    path = tmp_path / store.FILE_NAME
    path.symlink_to(elsewhere)
    with pytest.raises(PracticeError, match="not a regular file"):
        Record(path).__enter__()
    assert elsewhere.read_bytes() == b""


def test_forget_deletes_the_record_with_its_log(tmp_path):
    folder = tmp_path / "data"
    path = folder / store.FILE_NAME
    record = Record(path).__enter__()
    record.add_session(session(1))
    assert Path(f"{path}-wal").exists()  # open: the log is there
    gone = store.forget(path)
    record.__exit__(None, None, None)
    assert path in gone and Path(f"{path}-wal") in gone
    assert sorted(folder.iterdir()) == []
    assert store.forget(path) == []


OPEN_AT_ONCE = """
import sys, time
from pathlib import Path
from tre_audio.practice.store import Record
start = float(sys.argv[2])
time.sleep(max(0.0, start - time.time()))
with Record(Path(sys.argv[1])) as record:
    record.sessions()
"""


def test_processes_that_open_a_new_record_at_once_make_it_once(tmp_path):
    """Each opens the record after reading its layout as new: the layout is read again
    under the write lock, so none makes its tables twice."""
    for round_ in range(4):
        path = tmp_path / f"{round_}" / store.FILE_NAME
        start = f"{time.time() + 1.0:.3f}"
        children = [subprocess.Popen([sys.executable, "-c", OPEN_AT_ONCE, str(path), start],
                                     stderr=subprocess.PIPE, text=True) for _ in range(6)]
        for child in children:
            _, err = child.communicate(timeout=60)
            assert child.returncode == 0, err
        with sqlite3.connect(path) as db:
            assert db.execute("PRAGMA user_version").fetchone() == (store.LAYOUT,)
