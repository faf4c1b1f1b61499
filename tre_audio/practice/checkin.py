"""Checking in after a session: which session it is about, the answers recorded, and
what the listener is told then (the grounding steps and the crisis pointer first, when
the session was hard; then what the next session will do)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from ..beside.timedtext import FORMAT_NAME, MANIFEST_MOST
from ..errors import PracticeError, TreAudioError
from ..narration import programmes
from ..files.inputs import read_file
from ..options import settings
from . import history, store
from .dose import Dose, next_dose

GROUNDING = (
    "Stop, sit up, and open your eyes.",
    "Name a few objects around you, and touch something to feel its texture.",
    "Say your name, where you are, today's date, and that you are safe.",
    "Then find five things you see, four you can touch, three you hear, two you smell "
    "and one you taste.",
    "Sip some water. Call someone you trust if you would like company.",
)
CRISIS = ("In danger? Call your local emergency number: 112 works from most mobile "
          "phones. findahelpline.com lists crisis lines by country.")
AGAIN = ("If this happens again, talk it over with a TRE provider or your doctor before "
         "your next session.")


@dataclass(frozen=True)
class Answers:
    """How the session went, as the listener says it; None where not said."""

    before: int | None = None
    after: int | None = None
    felt: str | None = None
    spaced_out: bool = False
    note: str = ""


@dataclass(frozen=True)
class Checked:
    """A check-in recorded: about which session, whether it calls for care now, and
    the next session's shaking phase as the record now sets it (None: not one of
    those)."""

    session: store.Made
    answer: store.CheckIn
    care: bool
    next: Dose | None


def session_of(mp3: Path) -> store.Made:
    """The session an MP3 is, as its timeline (the ``.json`` beside it) describes it."""
    timeline = mp3.with_suffix(".json")
    if not timeline.exists():
        raise PracticeError(f"{mp3} is not a session tre-audio made: there is no timeline "
                            f"({timeline.name}) beside it")
    data = read_file(timeline, MANIFEST_MOST, "session timeline", PracticeError)
    try:
        about = json.loads(data)
    except (ValueError, RecursionError):
        about = None
    if not (isinstance(about, dict) and str(about.get("format", "")).startswith(FORMAT_NAME)
            and isinstance(about.get("id"), str) and isinstance(about.get("made"), str)
            and isinstance(about.get("settings"), dict)):
        raise PracticeError(f"{timeline} is not the timeline of a session tre-audio made")
    chosen = about["settings"]
    tremor = about.get("tremor_minutes")
    dose = about.get("dose")
    duration = about.get("duration")
    return store.Made(
        about["id"], about["made"], str(mp3.absolute()),
        _text(chosen.get("programme")) if chosen.get("exercises") is None else None,
        _text(chosen.get("level")),
        float(tremor) if isinstance(tremor, int | float) and tremor > 0 else None,
        round(float(duration) / 60, 2) if isinstance(duration, int | float) else 0.0,
        chosen, _text(dose.get("rule")) if isinstance(dose, dict) else None)


def about(session: Path | None, path: Path | None = None) -> store.Made:
    """The session a check-in is about: ``session`` (an MP3), else the one due
    (``history.due``)."""
    if session is not None:
        return session_of(session)
    with store.Record(path) as record:
        found = history.due(history.read(record))
    if found is None:
        raise PracticeError("no session in your practice record yet: make one, or name "
                            "it with --session FILE")
    return found


def check_in(made: store.Made, answers: Answers, path: Path | None = None) -> Checked:
    """Record ``answers`` about ``made`` (added to the record first if it is not in it:
    a session made before the record was kept, or elsewhere)."""
    answer = store.CheckIn(made.id, store.now(), answers.before, answers.after,
                           answers.felt, answers.spaced_out, answers.note.strip())
    with store.Record(path) as record:
        if all(s.id != made.id for s in record.sessions()):
            record.add_session(made)
        record.check_in(answer)
        practice = history.read(record)
    return Checked(made, answer, history.needs_care(answer), _next(made, practice))


def _next(made: store.Made, practice: history.Practice) -> Dose | None:
    """The next session's shaking phase at ``made``'s level and tremor plan."""
    if made.tremor is None or made.level not in settings.LEVELS:
        return None
    level = settings.level(made.level)
    try:
        most = programmes.programme(made.programme).tremor_most if made.programme else None
    except TreAudioError:  # a programme of the user's templates, gone or unreadable
        most = None
    planned = made.settings.get("tremor")
    planned = planned if isinstance(planned, int | float) else level.tremor_high
    return next_dose(level, history.outcomes(practice), float(planned), most=most)


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None
