"""Checking in after a session: which session it is about, the answers recorded, and
what the listener is told then (the grounding steps and the crisis pointer first, when
the session was hard; then what the next session will do)."""

from __future__ import annotations

import datetime
import json
import re
from dataclasses import dataclass
from pathlib import Path

from ..beside.timedtext import FORMAT_NAME, MANIFEST_MOST
from ..errors import PracticeError
from ..narration.script import MAX_HOLD_SECONDS
from ..files.inputs import read_file
from ..options import settings
from ..options.settings import MAX_MINUTES
from . import history, store
from .dose import RULES

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
_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")
"""What a programme's name may be, read from a timeline."""
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
    """A check-in recorded: about which session, and whether it calls for care now."""

    session: store.Made
    answer: store.CheckIn
    care: bool


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
    try:
        made = datetime.datetime.fromisoformat(about["made"])
    except ValueError:
        made = None
    if made is None or made.tzinfo is None or len(about["id"]) > 100:
        raise PracticeError(f"{timeline} is not the timeline of a session tre-audio made")
    chosen = about["settings"]
    length = _minutes(about.get("duration"), MAX_MINUTES * 60) or 0.0
    dose = about.get("dose")
    rule = dose.get("rule") if isinstance(dose, dict) else None
    return store.Made(
        about["id"], made.isoformat(timespec="seconds"), str(mp3.absolute()),
        _plain(chosen.get("programme")) if chosen.get("exercises") is None else None,
        chosen.get("level") if chosen.get("level") in settings.LEVELS else None,
        _minutes(about.get("tremor_minutes"), MAX_HOLD_SECONDS / 60),
        round(length / 60, 4),
        chosen, rule if rule in RULES else None)


def _minutes(value: object, most: float) -> float | None:
    """A number from a timeline, if it is one above 0 and at most ``most``."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if 0 < value <= most else None


def _plain(value: object) -> str | None:
    """A programme's name from a timeline, if it reads as one."""
    return value if isinstance(value, str) and _NAME.fullmatch(value) else None


def about(session: Path | None, recording: bool = True, path: Path | None = None
          ) -> store.Made:
    """The session a check-in is about: ``session`` (an MP3), else the one due
    (``history.due``); refused if the profile turns the record off (``recording``)."""
    if not recording:
        raise PracticeError("your profile turns the practice record off (record = false): "
                            "nothing is recorded; turn it on with: tre-audio profile set "
                            "record true")
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
    note = "".join(c for c in answers.note.strip()
                   if c in "\n\t" or settings.control_character(c) is None)
    if len(note) > store.NOTE_LIMIT:
        raise PracticeError(f"--note must be at most {store.NOTE_LIMIT:,} characters")
    answer = store.CheckIn(made.id, store.now(), answers.before, answers.after,
                           answers.felt, answers.spaced_out, note)
    with store.Record(path) as record:
        if all(s.id != made.id for s in record.sessions()):
            record.add_session(made)
        record.check_in(answer)
    return Checked(made, answer, history.needs_care(answer))
