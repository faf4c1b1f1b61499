"""Plan and build a course: numbered sessions over some weeks, a playlist and a schedule.

The progression follows the content brief (``tre-brief.md``):

- the first week (and at least the first ``FULL_LEAD_INS`` sessions) has the full
  instructions; later sessions have the briefer lead-ins (``Recipe(returning=True)``);
- the tremor starts at the level's lowest dose and rises in half-minute steps, at most
  one step a session, spread evenly so that a long enough course ends at the level's
  highest dose; it never goes over it (nor over 3 minutes at the sensitive level, nor
  over the listener's own tremor setting, ``--tremor``, which becomes the ceiling);
- there is a rest day between sessions wherever the week allows it (``DAYS``).

Speech for every session is made once, up front, in one batch (so the engine's workers
stay busy and the clips land in the cache); each session is then mixed from the cache.

Nothing is half written: the course is made in a hidden folder inside the output folder
and moved into place only when every file is done; a failure or Ctrl-C leaves the
folder as it was. A folder that already holds course files (from an earlier course) is
refused before any work starts; other files in it are left alone.
"""

from __future__ import annotations

import dataclasses
import math
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from .options import settings
from .options.values import Options
from .errors import InvalidOption, OutputError, ScriptError
from .files.atomic import (atomic_file, check_name, check_writable, folder_lock, lock,
                           release, remove_leftovers)
from .narration import programmes, render
from .narration.plan import estimate_speech, layout
from .narration.script import Event, Say
from .session import Progress, Session, add, check, generate, narration, speaker
from .practice.dose import Dose
from .beside import files
from .beside.files import MP3, WRITTEN, suffixes_of
from .beside.texts import clock

MAX_WEEKS = 12
MAX_PER_WEEK = 4
DEFAULT_WEEKS = 4
DEFAULT_PER_WEEK = 2
"""Sources differ on how often (2-4, or 2-3 and no more): the gentler figure."""
STEP = 0.5
"""Minutes the tremor may rise from one session to the next."""
SENSITIVE_MAX = 3.0
"""The sensitive level's tremor never goes over this many minutes."""
FULL_LEAD_INS = 2
"""At least this many sessions (and the whole first week) have the full instructions."""
def with_tremor(templates: Path | None = None) -> tuple[str, ...]:
    """The programmes with a tremor phase, which a course can follow."""
    return tuple(p.name for p in programmes.programmes(templates).values()
                 if "tremor" in p.takes)

DAYS = {1: (1,), 2: (1, 4), 3: (1, 3, 5), 4: (1, 3, 5, 7)}
"""The days of a week (day 1 is the day the course starts) for each number of sessions:
a rest day between any two, except that four a week leave no rest day between the last
session of a week and the first of the next."""

PLAYLIST = files.PLAYLIST.name
SCHEDULE = files.SCHEDULE.name
STAGE = "course"
"""The one progress stage of a course: speech first, then each session."""

_COURSE_FILE = re.compile(r"\d{2,}-week\d+-session\d+\.(%s)" % "|".join(
    suffix.lstrip(".") for suffix in suffixes_of((MP3, *WRITTEN))))


@dataclass(frozen=True)
class Course:
    """A course's settings; checked when made. ``options`` shape every session (pace,
    level, name, voice, sound, length); the course sets the tremor and the lead-ins."""

    options: Options
    weeks: int = DEFAULT_WEEKS
    per_week: int = DEFAULT_PER_WEEK

    def __post_init__(self) -> None:
        _check_count("--weeks", self.weeks, MAX_WEEKS, "weeks")
        _check_count("--per-week", self.per_week, MAX_PER_WEEK, "sessions a week")
        takes = with_tremor(self.options.templates)
        if self.options.programme not in takes:
            raise InvalidOption(
                "PROGRAMME", f"a course needs a programme with a tremor phase: "
                f"{', '.join(takes)} (not '{self.options.programme}')"
            )
        if self.options.recipe.exercises is not None:
            raise InvalidOption("exercises", "a course follows a programme, not a custom "
                                "list of exercises")
        check(self.options)
        language = programmes.programme(self.options.programme,
                                        self.options.templates).language
        missing = programmes.missing_texts(language, programmes.COURSE_TEXTS,
                                           programmes.user_folder(self.options.templates))
        if missing:
            raise ScriptError(f"a course in '{language}' needs its texts among the "
                              f"templates: {', '.join(missing)} not found")

    @property
    def count(self) -> int:
        return self.weeks * self.per_week


def _check_count(option: str, value: int, top: int, what: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= top:
        raise InvalidOption(option, f"{option} must be a whole number from 1 to {top} "
                            f"({what}), not {value!r}")


@dataclass(frozen=True)
class Planned:
    """One session of a course, before it is made."""

    number: int
    """1 to the course's count, in playing order."""
    week: int
    in_week: int
    """The session's number within its week, from 1."""
    day: int
    """The day of its week, 1-7; day 1 is the day the course starts."""
    tremor: float
    """Minutes of tremor."""
    returning: bool
    """Briefer lead-ins."""
    days: int
    """Days since the session before (0 for the first)."""
    options: Options

    @property
    def name(self) -> str:
        """The file name without suffix, e.g. ``01-week1-session1``."""
        return f"{self.number:02d}-week{self.week}-session{self.in_week}"

    @property
    def course_day(self) -> int:
        """The day of the course, from 1."""
        return (self.week - 1) * 7 + self.day


def tremor_minutes(level: settings.Level, count: int, ceiling: float | None = None
                   ) -> list[float]:
    """The tremor of each of ``count`` sessions at ``level``: from its lowest dose,
    rising by at most ``STEP`` a session, evenly towards its highest (or ``ceiling``,
    the listener's own tremor setting, if that is lower)."""
    top = min(level.tremor_high, SENSITIVE_MAX) if level.name == "sensitive" \
        else level.tremor_high
    if ceiling is not None:
        top = min(top, ceiling)
    low = min(level.tremor_low, top)
    span = top - low
    minutes = []
    for index in range(count):
        share = span * index / (count - 1) if count > 1 else 0.0
        rise = min(STEP * index, math.floor(share / STEP + 1e-9) * STEP)
        minutes.append(min(top, low + rise))
    return minutes


def plan(course: Course) -> tuple[Planned, ...]:
    """Every session of ``course``, in order (nothing is rendered or spoken)."""
    base = course.options
    own = programmes.programme(base.programme, base.templates).tremor_most
    ceiling = min((c for c in (base.recipe.tremor, own) if c is not None), default=None)
    doses = tremor_minutes(settings.level(base.level), course.count, ceiling)
    full = max(course.per_week, FULL_LEAD_INS)
    planned: list[Planned] = []
    for index, tremor in enumerate(doses):
        week, in_week = divmod(index, course.per_week)
        number = index + 1
        day = DAYS[course.per_week][in_week]
        returning = number > full
        recipe = dataclasses.replace(base.recipe, tremor=tremor, returning=returning)
        label = _words(course, "course-session", number=number, week=week + 1, day=day,
                       programme=base.programme)
        options = dataclasses.replace(base, recipe=recipe, label=label)
        before = planned[-1] if planned else None
        days = (week * 7 + day) - before.course_day if before else 0
        planned.append(Planned(number, week + 1, in_week + 1, day, tremor, returning,
                               days, options))
    return tuple(planned)


def _words(course: Course, template: str, **context: object) -> str:
    """The text ``languages/LANGUAGE/TEMPLATE.j2`` makes, in the programme's language."""
    options = course.options
    language = programmes.programme(options.programme, options.templates).language
    return render.text(language, template, context, options.templates)


@dataclass(frozen=True)
class BuiltCourse:
    folder: Path
    planned: tuple[Planned, ...]
    sessions: tuple[Session, ...]
    """The sessions as written, in order, with the files beside them."""
    playlist: Path
    schedule: Path
    kept: Path | None = None
    """The folder the course would have gone into by default, which held another."""


DEFAULT_FOLDER = Path("output/course")


def free_folder(folder: Path = DEFAULT_FOLDER) -> Path:
    """``folder``, or the first of ``folder-2``, ``folder-3``... that holds no course: a
    folder chosen by default never holds two."""
    candidate, number = folder, 1
    while candidate.is_dir() and any(is_course_file(p.name) for p in candidate.iterdir()):
        number += 1
        candidate = folder.with_name(f"{folder.name}-{number}")
    return candidate


def check_lengths(course: Course) -> None:
    """Refuse the course if one of its sessions cannot last its length (as ``build``
    does before anything is spoken)."""
    _planned(course)


def _planned(course: Course) -> tuple[tuple[Planned, ...], list[list[Event]], list[float]]:
    """The course's sessions, their scripts and their estimated lengths in seconds."""
    planned = plan(course)
    scripts = [narration(p.options)[0] for p in planned]
    pace = settings.pace(course.options.pace)
    estimates = [layout(events, pace, estimate_speech, p.options.minutes).duration
                 for p, events in zip(planned, scripts)]
    return planned, scripts, estimates


def build(course: Course, out: Path | None = None, progress: Progress | None = None,
          cache: Path | None = None, record: Path | None = None) -> BuiltCourse:
    """Make every session of ``course`` in the folder ``out`` (None: ``output/course``,
    or the next free), with a playlist and a schedule; ``progress`` hears of one stage,
    ``"course"``, from speech to the last file. ``cache`` is the speech cache (default:
    the user's); ``record``: the practice record its sessions are added to (None:
    none)."""
    kept = None
    if out is None:
        out = free_folder()
        kept = DEFAULT_FOLDER if out != DEFAULT_FOLDER else None
    planned, scripts, estimates = _planned(course)  # fails fast if unfittable
    created = _prepare_folder(out)
    staging: Path | None = None
    held = -1
    try:
        sentences = list(dict.fromkeys(
            event.text for events in scripts for event in events if isinstance(event, Say)
        ))
        tally = _Tally(progress, len(sentences), [max(1, round(s / 60)) for s in estimates])
        speaker(course.options, cache).speak(sentences, tally.speech)
        staging, held = staging_folder(out)
        made: list[Session] = []
        for index, p in enumerate(planned):
            made.append(generate(p.options, out=staging / f"{p.name}.mp3",
                                 progress=tally.session(index), cache=cache,
                                 track=(index + 1, len(planned)),
                                 dose=Dose(p.tremor, "course")))
            tally.finished(index)
        listed = [(s.path.name, s.plan.duration) for s in made]
        for name, text in ((PLAYLIST, playlist_text(course, planned, listed)),
                           (SCHEDULE, schedule_text(course, planned, listed))):
            with atomic_file(staging / name) as temporary:
                temporary.write_text(text, encoding="utf-8")
        names = [path.name for session in made for path in (session.path, *session.beside)]
        _publish(staging, out, [*names, PLAYLIST, SCHEDULE])
    except BaseException:
        discard(staging, held)
        _remove_if_empty(out, created)
        raise
    discard(staging, held)
    sessions = tuple(
        dataclasses.replace(s, path=out / s.path.name,
                            beside=tuple(out / b.name for b in s.beside))
        for s in made
    )
    if record is not None:
        for p, s in zip(planned, sessions):
            add(record, s, p.options, Dose(p.tremor, "course"), out, p.number)
    return BuiltCourse(out, planned, sessions, out / PLAYLIST, out / SCHEDULE, kept)


def is_course_file(name: str) -> bool:
    """Whether a file called ``name`` is one a course writes."""
    return name in (PLAYLIST, SCHEDULE) or _COURSE_FILE.fullmatch(name) is not None


def _prepare_folder(out: Path) -> bool:
    """Make sure ``out`` is a writable folder without course files; return whether it
    was created here."""
    check_name(out)
    if out.exists() and not out.is_dir():
        raise InvalidOption("--out", f"{out} is a file; a course needs a folder")
    created = not out.exists()
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise OutputError(f"cannot create output folder {out}: {error.strerror}") from None
    try:
        check_writable(out)
        found = sorted(p.name for p in out.iterdir() if is_course_file(p.name))
    except BaseException:
        _remove_if_empty(out, created)
        raise
    if found:
        more = f" and {len(found) - 1} more" if len(found) > 1 else ""
        raise InvalidOption(
            "--out", f"{out} already holds a course ({found[0]}{more}); choose another "
            "folder, or move those files away first"
        )
    return created


def staging_folder(out: Path) -> tuple[Path, int]:
    """A hidden folder inside ``out`` (so moving out of it is a rename) for the files
    being made, and its descriptor, which holds the folder's lock (see ``atomic.lock``);
    folders that killed runs left are removed first."""
    remove_leftovers(out, ".course-", ".part")
    try:
        staging = Path(tempfile.mkdtemp(dir=out, prefix=".course-", suffix=".part"))
    except OSError as error:
        raise OutputError(f"cannot write in {out}: {error.strerror}") from None
    try:
        held = os.open(staging, os.O_RDONLY)
    except OSError as error:
        shutil.rmtree(staging, ignore_errors=True)
        raise OutputError(f"cannot open {staging}: {error.strerror}") from None
    lock(held)
    return staging, held


def discard(staging: Path | None, held: int) -> None:
    if staging is not None:
        shutil.rmtree(staging, ignore_errors=True)
        release(held)


def _remove_if_empty(folder: Path, created: bool) -> None:
    if created:
        try:
            folder.rmdir()
        except OSError:
            pass  # not empty (someone put a file there) or already gone: leave it


def _publish(staging: Path, out: Path, names: Sequence[str]) -> None:
    """Move the finished files into ``out``; if that fails part way, take back the ones
    moved, so the course is there whole or not at all. The folder's lock is held, so a
    course finishing there at the same time waits, then finds this one's files."""
    moved: list[Path] = []
    try:
        with folder_lock(out):
            for name in names:
                target = out / name
                if target.exists():
                    raise OutputError(f"{target} appeared while the course was being made; "
                                      "nothing was written")
                try:
                    os.replace(staging / name, target)
                except OSError as error:
                    raise OutputError(f"cannot write {target}: {error.strerror}") from None
                moved.append(target)
    except BaseException:
        for target in moved:
            target.unlink(missing_ok=True)
        raise


class _Tally:
    """One progress count for the whole course: a unit per sentence to speak, then
    about a unit per minute of each session (mixing a minute takes about as long as
    speaking a sentence)."""

    def __init__(self, progress: Progress | None, sentences: int, sessions: Sequence[int]
                 ) -> None:
        self.progress = progress
        self.sentences = sentences
        self.starts = [sentences + sum(sessions[:i]) for i in range(len(sessions))]
        self.units = list(sessions)
        self.total = sentences + sum(sessions)
        self.done = -1
        self._report(0)

    def _report(self, done: int) -> None:
        done = min(self.total, max(done, self.done))
        if done != self.done and self.progress is not None:
            self.progress(STAGE, done, self.total)
        self.done = done

    def speech(self, done: int, total: int) -> None:
        self._report(self.sentences * done // max(1, total))

    def session(self, index: int) -> Callable[[str, int, int], None]:
        share = {"measuring": (0.0, 0.4), "writing": (0.4, 0.6)}

        def report(stage: str, done: int, total: int) -> None:
            if stage in share:
                start, width = share[stage]
                fraction = start + width * done / max(1, total)
                self._report(self.starts[index] + int(self.units[index] * fraction))

        return report

    def finished(self, index: int) -> None:
        self._report(self.starts[index] + self.units[index])


def _title(p: Planned, course: Course) -> str:
    return _words(course, "course-entry", name=course.options.name.strip(), number=p.number,
                  week=p.week, day=p.day, programme=course.options.programme,
                  tremor=f"{p.tremor:g}")


def playlist_text(course: Course, planned: Sequence[Planned],
                  made: Sequence[tuple[str, float]]) -> str:
    """An extended M3U playlist (UTF-8) of the sessions in order (``made``: each one's
    file name and length in seconds), paths relative."""
    title = _words(course, "course-playlist", weeks=course.weeks, per_week=course.per_week)
    lines = ["#EXTM3U", f"#PLAYLIST:{title}"]
    for p, (name, seconds) in zip(planned, made):
        lines += [f"#EXTINF:{round(seconds)},{_title(p, course)}", name]
    return "\n".join(lines) + "\n"


def schedule_text(course: Course, planned: Sequence[Planned],
                  made: Sequence[tuple[str, float]]) -> str:
    """The course's schedule in Markdown: when to play what, and how to stay safe."""
    options = course.options
    sessions = []
    for index, (p, (name, seconds)) in enumerate(zip(planned, made)):
        before = planned[index - 1] if index else None
        sessions.append({
            "week": p.week, "day": p.day, "file": name,
            "length": clock(seconds), "tremor": f"{p.tremor:g}",
            "before": f"{before.tremor:g}" if before else "",
            "rises": before is not None and p.tremor > before.tremor,
            "falls": before is not None and p.tremor < before.tremor,
            "first_returning": p.returning and before is not None and not before.returning,
            "days": p.days,
        })
    language = programmes.programme(options.programme, options.templates).language
    return _words(course, "course-schedule", name=options.name.strip(), weeks=course.weeks,
                  per_week=course.per_week, programme=options.programme, pace=options.pace,
                  level=options.level, playlist=PLAYLIST, sessions=sessions,
                  notice=render.text(language, "notice", {}, options.templates)) + "\n"
