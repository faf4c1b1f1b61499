"""The practice record: each session made and each check-in after it, in an SQLite
database in the data folder (``practice.sqlite3``), on this machine only.

It is health data: the file and its folder are the user's alone. Every change is one
transaction (write-ahead log, synchronous on commit), so a crash leaves the record as it
was before the change or after it. The layout's version is the database's
``user_version``, and an older layout is migrated when the file is opened. A file that is
not such a database is refused with a clear error, and never written over.
"""

from __future__ import annotations

import datetime
import json
import os
import sqlite3
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import platformdirs

from ..errors import PracticeError

FILE_NAME = "practice.sqlite3"
LAYOUT = 1
"""The layout this code writes; ``MIGRATIONS[n]`` brings layout n to n + 1."""
FELT = ("too-much", "about-right", "more")
"""How the shaking felt: too much, about right, or it could be more."""
NOTE_LIMIT = 2000
"""The most characters a note keeps."""

_LAYOUT_1 = """
CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    made TEXT NOT NULL,
    path TEXT NOT NULL,
    programme TEXT,
    level TEXT,
    tremor REAL,
    minutes REAL NOT NULL,
    settings TEXT NOT NULL,
    rule TEXT,
    course TEXT,
    number INTEGER
);
CREATE TABLE checkins (
    id INTEGER PRIMARY KEY,
    session TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    at TEXT NOT NULL,
    before INTEGER CHECK (before BETWEEN 0 AND 10),
    after INTEGER CHECK (after BETWEEN 0 AND 10),
    felt TEXT CHECK (felt IN ('too-much', 'about-right', 'more')),
    spaced_out INTEGER NOT NULL CHECK (spaced_out IN (0, 1)),
    note TEXT NOT NULL DEFAULT ''
);
CREATE INDEX checkins_by_session ON checkins(session);
"""
MIGRATIONS: dict[int, str] = {0: _LAYOUT_1}
"""The SQL that brings each layout to the next (0: a new, empty file)."""


def default_path() -> Path:
    return Path(platformdirs.user_data_dir("tre-audio")) / FILE_NAME


@dataclass(frozen=True)
class Made:
    """A session as the record keeps it."""

    id: str
    made: str
    """When it was made (ISO 8601, UTC)."""
    path: str
    programme: str | None
    level: str | None
    tremor: float | None
    """Minutes of the shaking phase (None: the session has none)."""
    minutes: float
    """Its length."""
    settings: Mapping[str, Any]
    rule: str | None = None
    """What set its tremor (``dose.Dose.rule``; None: no rule, or not adapted)."""
    course: str | None = None
    """The course's folder, for a session of a course."""
    number: int | None = None
    """Its place in the course (from 1)."""


@dataclass(frozen=True)
class CheckIn:
    """How a session went, as the listener said it."""

    session: str
    at: str
    before: int | None
    """Tension or distress before, 0-10 (None: not said)."""
    after: int | None
    felt: str | None
    """One of ``FELT`` (None: not said)."""
    spaced_out: bool
    note: str = ""


class Record:
    """The practice record at ``path`` (default: ``practice.sqlite3`` in the data
    folder), opened (and made, or migrated) for as long as the ``with`` block runs."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or default_path()
        self._db: sqlite3.Connection | None = None

    def __enter__(self) -> Record:
        self._db = _open(self.path)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    @property
    def db(self) -> sqlite3.Connection:
        if self._db is None:
            raise RuntimeError("the practice record is not open")
        return self._db

    def add_session(self, made: Made) -> None:
        """Record a session made (again under the same id: replaced)."""
        with self._change():
            self.db.execute(
                "INSERT OR REPLACE INTO sessions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (made.id, made.made, made.path, made.programme, made.level, made.tremor,
                 made.minutes, json.dumps(dict(made.settings), sort_keys=True), made.rule,
                 made.course, made.number))

    def remove_session(self, session: str) -> None:
        """Remove a session not practised (one of a course, made again), with any
        check-in after it."""
        with self._change():
            self.db.execute("DELETE FROM sessions WHERE id = ?", (session,))

    def check_in(self, answer: CheckIn) -> None:
        """Record how a session went; ``PracticeError`` for a session not recorded or
        answers out of range."""
        _check(answer)
        with self._change():
            if self.db.execute("SELECT 1 FROM sessions WHERE id = ?",
                               (answer.session,)).fetchone() is None:
                raise PracticeError(f"no session {answer.session} in the practice record")
            self.db.execute(
                "INSERT INTO checkins (session, at, before, after, felt, spaced_out, note) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (answer.session, answer.at, answer.before, answer.after, answer.felt,
                 int(answer.spaced_out), answer.note[:NOTE_LIMIT]))

    def sessions(self) -> list[Made]:
        """Every session recorded, oldest first."""
        rows = self.db.execute("SELECT id, made, path, programme, level, tremor, minutes, "
                               "settings, rule, course, number FROM sessions "
                               "ORDER BY made, number, id").fetchall()
        return [Made(i, made, path, programme, level, tremor, minutes, json.loads(settings),
                     rule, course, number)
                for i, made, path, programme, level, tremor, minutes, settings, rule, course,
                number in rows]

    def check_ins(self, session: str | None = None) -> list[CheckIn]:
        """The check-ins (of ``session``, or all), oldest first."""
        query = "SELECT session, at, before, after, felt, spaced_out, note FROM checkins"
        rows = self.db.execute(query + (" WHERE session = ?" if session else "")
                               + " ORDER BY at, id", (session,) if session else ()).fetchall()
        return [CheckIn(s, at, b, a, f, bool(out), note) for s, at, b, a, f, out, note in rows]

    @contextmanager
    def _change(self) -> Iterator[None]:
        """One transaction: all of the block's writes, or none."""
        try:
            with self.db:  # commits at the end, rolls back on an exception
                yield
        except sqlite3.DatabaseError as error:
            raise PracticeError(f"cannot write the practice record {self.path}: "
                                f"{error}") from None


def now() -> str:
    """The time now, as the record writes times."""
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def forget(path: Path | None = None) -> list[Path]:
    """Delete the record, its write-ahead log and its shared memory; the files deleted."""
    path = path or default_path()
    gone = []
    for each in (path, Path(f"{path}-wal"), Path(f"{path}-shm"), Path(f"{path}-journal")):
        try:
            each.unlink()
            gone.append(each)
        except FileNotFoundError:
            pass
        except OSError as error:
            raise PracticeError(f"cannot delete {each}: {error.strerror}") from None
    return gone


def _check(answer: CheckIn) -> None:
    for name in ("before", "after"):
        value = getattr(answer, name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                  or not 0 <= value <= 10):
            raise PracticeError(f"--{name} must be a whole number from 0 to 10")
    if answer.felt is not None and answer.felt not in FELT:
        raise PracticeError(f"--felt must be one of {', '.join(FELT)}")


def _open(path: Path) -> sqlite3.Connection:
    """The database at ``path``, made if missing and migrated to ``LAYOUT``."""
    if path.is_symlink() or (path.exists() and not path.is_file()):
        raise PracticeError(f"{path} is not a regular file: the practice record was not "
                            "opened (move it away to start a new one)")
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:  # made here with the user's permissions alone, not by SQLite with umask's
            os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        except FileExistsError:  # there already, or made by another process just now
            pass
        for each, mode in ((path.parent, 0o700), (path, 0o600)):  # health data: and
            if each.stat().st_mode & 0o777 != mode:  # if they were opened up, closed again
                os.chmod(each, mode)
        db = sqlite3.connect(path, timeout=10, isolation_level=None)
    except (OSError, sqlite3.Error) as error:
        raise PracticeError(f"cannot open the practice record {path}: {error}") from None
    try:
        _write_ahead(db)
        db.execute("PRAGMA synchronous = FULL")
        db.execute("PRAGMA foreign_keys = ON")
        _migrate(db, path)
        db.isolation_level = "DEFERRED"  # writes now go through Record._change
        return db
    except sqlite3.DatabaseError as error:
        db.close()
        raise PracticeError(f"{path} is not a practice record tre-audio can read ({error}); "
                            "it was not changed (move it away to start a new one)") from None
    except BaseException:
        db.close()
        raise


def _migrate(db: sqlite3.Connection, path: Path) -> None:
    """Bring the record to ``LAYOUT``, in one transaction that holds the write lock from
    reading the layout on: two processes opening a new record at once make it once."""
    if _layout(db, path) == LAYOUT:
        return
    db.execute("BEGIN IMMEDIATE")
    try:
        layout = _layout(db, path)  # another process may have brought it up meanwhile
        while layout < LAYOUT:
            for statement in MIGRATIONS[layout].split(";"):  # ours: no ; inside one
                if statement.strip():
                    db.execute(statement)
            layout += 1
            db.execute(f"PRAGMA user_version = {layout}")
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise


def _layout(db: sqlite3.Connection, path: Path) -> int:
    layout = int(db.execute("PRAGMA user_version").fetchone()[0])
    if layout > LAYOUT:
        raise PracticeError(f"{path} was written by a newer tre-audio (layout {layout}); "
                            "it was not changed")
    return layout


def _write_ahead(db: sqlite3.Connection, seconds: float = 10.0) -> None:
    """Put the record in write-ahead mode (it stays so). SQLite does not wait for a
    lock to switch modes, and a record new to several processes at once is switched by
    one of them: the others try again."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            db.execute("PRAGMA journal_mode = WAL").fetchone()
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)
