"""A course carried on from the practice record (``course --continue DIR``): its
sessions after the last one checked in are made again, their shaking phases set from how
the practice went (``practice.dose``), the rest of the course's plan kept.

The first session made again starts from the dose the record sets; each later one keeps
the rise its plan had over that first one, never over its planned tremor. Sessions
already practised are left as they are. The new files replace the old ones whole, with
the playlist and the schedule, or nothing changes.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from . import course as courses
from .errors import InvalidOption, OutputError
from .files.atomic import atomic_file, folder_lock
from .files.inputs import read_bytes
from .narration import programmes
from .options import settings, table, values
from .practice import history, store
from .practice.dose import LEAST, Dose, next_dose
from .session import Progress, Session, add, generate

_NAME = re.compile(r"(\d+)-week(\d+)-session(\d+)")
TIMELINE_MOST = 50_000_000


@dataclass(frozen=True)
class Continued:
    folder: Path
    remade: tuple[tuple[courses.Planned, Session], ...]
    dose: Dose
    """What set the first session made again."""
    playlist: Path
    schedule: Path


def carry_on(folder: Path, trusted: str = "", record: Path | None = None,
             progress: Progress | None = None, cache: Path | None = None) -> Continued:
    """Make again the sessions of the course in ``folder`` after the last one checked in,
    from the record at ``record`` (default: the user's); ``trusted``: the trusted
    person to name (the record does not keep names)."""
    record = record or store.default_path()
    practice = history.load(record)
    where = str(folder.resolve())
    recorded = sorted((s for s in practice.sessions if s.course == where),
                      key=lambda s: s.number or 0)
    if not recorded:
        raise InvalidOption("--continue", f"{folder} is not a course in your practice "
                            "record (a course is recorded when it is made)")
    if not any(practice.last_check_in(s.id) for s in recorded):
        raise InvalidOption("--continue", f"no session of the course in {folder} is "
                            "checked in yet: after each one, tre-audio checkin")
    remaining = history.left_of_course(practice, where)
    if not remaining:
        raise InvalidOption("--continue", f"every session of the course in {folder} is "
                            "checked in: it is done")
    course = _course(recorded, trusted)
    planned = courses.plan(course)
    level = settings.level(course.options.level)
    own = programmes.programme(course.options.programme).tremor_most
    first = planned[(remaining[0].number or 1) - 1]
    dose = next_dose(level, history.outcomes(practice), first.tremor, most=own)
    again = []
    for made in remaining:
        p = planned[(made.number or 1) - 1]
        tremor = max(LEAST, min(p.tremor, dose.tremor + (p.tremor - first.tremor)))
        recipe = dataclasses.replace(
            p.options.recipe, tremor=tremor,
            adapted=dose.said if p is first else "",
            ground_first=dose.grounding_first and p is first)
        again.append(dataclasses.replace(p, tremor=tremor, options=dataclasses.replace(
            p.options, recipe=recipe)))
    sessions = _remake(folder, course, planned, again, dose, progress, cache)
    by_number = {made.number: made for made in recorded}
    with store.Record(record) as kept:
        for p, session in zip(again, sessions):
            kept.remove_session(by_number[p.number].id)
    for p, session in zip(again, sessions):
        add(record, session, p.options, _set_by(dose, p, first), folder.resolve(), p.number)
    return Continued(folder, tuple(zip(again, sessions)), dose,
                     folder / courses.PLAYLIST, folder / courses.SCHEDULE)


def _set_by(dose: Dose, p: courses.Planned, first: courses.Planned) -> Dose:
    """What set the tremor of ``p``: the record for the first made again, the course's
    planned rise over it for the others."""
    if p.number == first.number:
        return dataclasses.replace(dose, tremor=p.tremor)
    return Dose(p.tremor, "course")


def _course(recorded: Sequence[store.Made], trusted: str) -> courses.Course:
    """The course as it was made: its options from its first session's settings, its
    weeks and sessions a week from its files' names."""
    numbers = [_NAME.fullmatch(Path(s.path).stem) for s in recorded]
    if not all(numbers):
        raise InvalidOption("--continue", "the course's files were renamed: it cannot be "
                            "continued")
    weeks = max(int(m.group(2)) for m in numbers if m)
    per_week = max(int(m.group(3)) for m in numbers if m)
    chosen = {k: v for k, v in recorded[0].settings.items()
              if k in table.BY_KEY and k not in ("tremor", "record")}
    chosen.update(engine=recorded[0].settings.get("engine"),
                  voice=recorded[0].settings.get("voice"), trusted=trusted)
    return courses.Course(values.build(chosen), weeks, per_week)


def _remake(folder: Path, course: courses.Course, planned: Sequence[courses.Planned],
            again: Sequence[courses.Planned], dose: Dose, progress: Progress | None,
            cache: Path | None) -> list[Session]:
    """The sessions ``again`` made in a hidden folder, then put in place of the old
    ones with a new playlist and schedule; a failure leaves the course as it was."""
    staging, held = courses.staging_folder(folder)
    try:
        made = [generate(p.options, out=staging / f"{p.name}.mp3", cache=cache,
                         progress=progress, track=(p.number, len(planned)),
                         dose=_set_by(dose, p, again[0])) for p in again]
        whole = list(planned)
        lengths = {p.name: _length(folder / f"{p.name}.mp3") for p in planned}
        for p, session in zip(again, made):
            whole[p.number - 1] = p
            lengths[p.name] = session.plan.duration
        listed = [(f"{p.name}.mp3", lengths[p.name]) for p in whole]
        for name, text in ((courses.PLAYLIST, courses.playlist_text(course, whole, listed)),
                           (courses.SCHEDULE, courses.schedule_text(course, whole, listed))):
            with atomic_file(staging / name) as temporary:
                temporary.write_text(text, encoding="utf-8")
        names = [path.name for s in made for path in (s.path, *s.beside)]
        _replace(staging, folder, [*names, courses.PLAYLIST, courses.SCHEDULE])
    finally:
        courses.discard(staging, held)
    return [dataclasses.replace(s, path=folder / s.path.name,
                                beside=tuple(folder / b.name for b in s.beside))
            for s in made]


def _length(mp3: Path) -> float:
    """A session's length in seconds, from its timeline."""
    try:
        about = json.loads(read_bytes(mp3.with_suffix(".json"), TIMELINE_MOST))
        return float(about["duration"])
    except (OSError, ValueError, KeyError, TypeError):
        raise OutputError(f"cannot read the timeline of {mp3}: the course cannot be "
                          "continued") from None


def _replace(staging: Path, out: Path, names: Sequence[str]) -> None:
    """Put the files in ``names`` in place of those of the same names in ``out``, all or
    none: the old ones are kept aside until every new one is in."""
    aside = staging / ".old"
    aside.mkdir()
    moved: list[str] = []
    kept: list[str] = []
    try:
        with folder_lock(out):
            for name in names:
                if (out / name).exists():
                    os.replace(out / name, aside / name)
                    kept.append(name)
                os.replace(staging / name, out / name)
                moved.append(name)
    except BaseException as error:
        for name in moved:
            os.replace(out / name, staging / name)
        for name in kept:
            os.replace(aside / name, out / name)
        if isinstance(error, OSError):
            raise OutputError(f"cannot write in {out}: {error.strerror}; the course was "
                              "left as it was") from None
        raise
    shutil.rmtree(aside, ignore_errors=True)

