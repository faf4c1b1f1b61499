"""What the practice record says, read once: the session a check-in is about, how each
session with a shaking phase went (for the next dose), sessions a week, and the rows a
table, a CSV file or a picture shows."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from .dose import Outcome
from .store import CheckIn, Made, Record, default_path

WEEKLY = 3
"""More sessions than this in seven days: the gentler advice is to rest between them."""
HARD_AFTER = 8
"""An after-rating from which the grounding steps and the crisis pointer are shown."""


@dataclass(frozen=True)
class Practice:
    """Every session recorded (oldest first) and every check-in (oldest first)."""

    sessions: tuple[Made, ...]
    check_ins: tuple[CheckIn, ...]

    @cached_property
    def _last(self) -> dict[str, CheckIn]:
        return {answer.session: answer for answer in self.check_ins}  # the latest wins

    def last_check_in(self, session: str) -> CheckIn | None:
        return self._last.get(session)


@dataclass(frozen=True)
class Row:
    """One session as the history shows it, with its last check-in, if any."""

    session: Made
    check_in: CheckIn | None


def read(record: Record) -> Practice:
    return Practice(tuple(record.sessions()), tuple(record.check_ins()))


def load(path: Path | None = None) -> Practice:
    """The record at ``path`` (default: the user's), read; none there reads as empty
    (and none is made)."""
    path = path or default_path()
    if not path.exists() and not path.is_symlink():
        return Practice((), ())
    with Record(path) as record:
        return read(record)


def due(practice: Practice) -> Made | None:
    """The session a check-in is about unless another is named: the latest made; for a
    course (made all at once, practised in order), its first session not checked in."""
    if not practice.sessions:
        return None
    latest = practice.sessions[-1]
    if latest.course is None:
        return latest
    course = [s for s in practice.sessions if s.course == latest.course]
    return next((s for s in course if practice.last_check_in(s.id) is None), course[-1])


def left_of_course(practice: Practice, folder: str) -> list[Made]:
    """The sessions of the course recorded in ``folder`` (resolved) after the last one
    checked in, in order: those ``course --continue`` makes again (none before a
    check-in)."""
    recorded = sorted((s for s in practice.sessions if s.course == folder),
                      key=lambda s: s.number or 0)
    checked = [s.number or 0 for s in recorded if practice.last_check_in(s.id)]
    return [s for s in recorded if checked and (s.number or 0) > max(checked)]


def outcomes(practice: Practice) -> list[Outcome]:
    """How each session with a shaking phase went, by its check-in, oldest first.
    Sessions nobody checked in after are left out: how they went is not known, and the
    dose follows what is (so one missed check-in does not undo a shorter dose)."""
    found = []
    for made in practice.sessions:
        answer = practice.last_check_in(made.id)
        if made.tremor is None or answer is None:
            continue
        found.append(Outcome(made.tremor, True,
                             answer.before if answer else None,
                             answer.after if answer else None,
                             answer.felt if answer else None,
                             bool(answer and answer.spaced_out)))
    return found


def in_week(practice: Practice, now: datetime.datetime) -> int:
    """Sessions made in the seven days up to ``now`` (a course's count when checked in:
    a course is made ahead of its days)."""
    since = now - datetime.timedelta(days=7)
    return sum(since <= practised(row) <= now for row in rows(practice))


def practised(row: Row) -> datetime.datetime:
    """When a session was practised, as far as the record knows: when it was made, or
    for a course's (made ahead of its days), when it was checked in."""
    answer = row.check_in
    return _time(answer.at if row.session.course is not None and answer else row.session.made)


def needs_care(answer: CheckIn) -> bool:
    """Whether a check-in calls for the grounding steps and the crisis pointer now."""
    return answer.spaced_out or (answer.after is not None and answer.after >= HARD_AFTER)


def rows(practice: Practice) -> list[Row]:
    """The sessions practised or made, oldest first, each with its last check-in; a
    course's sessions not yet checked in are left out."""
    found = []
    for made in practice.sessions:
        answer = practice.last_check_in(made.id)
        if made.course is None or answer is not None:
            found.append(Row(made, answer))
    return found


def weeks(found: Sequence[Row]) -> list[tuple[datetime.date, int]]:
    """Each ISO week from the first row's to the last's (its Monday) and the sessions
    practised in it."""
    if not found:
        return []
    days = [practised(r).date() for r in found]
    monday = min(days) - datetime.timedelta(days=min(days).weekday())
    last = max(days)
    counted = []
    while monday <= last:
        counted.append((monday, sum(monday <= d < monday + datetime.timedelta(days=7)
                                    for d in days)))
        monday += datetime.timedelta(days=7)
    return counted


def _time(text: str) -> datetime.datetime:
    when = datetime.datetime.fromisoformat(text)
    return when if when.tzinfo else when.replace(tzinfo=datetime.timezone.utc)
