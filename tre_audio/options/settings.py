"""Settings as frozen dataclasses: paces, levels, and the options of one session."""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass

from ..errors import InvalidOption


@dataclass(frozen=True)
class Pace:
    """How the narration is delivered.

    ``wpm`` is the rate a listener hears: words divided by the time of the sentences
    and the gaps after them. The voice itself always speaks at ``VOICE_WPM``, so speech
    made for one pace is reused by the others; the gap after each sentence is what is
    left of the sentence's share of time at ``wpm``, and never shorter than ``min_gap``.
    Pauses and holds in the script are scaled by ``pause_scale`` and ``hold_scale``; a
    breath lasts ``breath`` seconds.
    """

    name: str
    summary: str
    wpm: float
    min_gap: float
    breath: float
    pause_scale: float
    hold_scale: float

    def __post_init__(self) -> None:
        numbers = (self.wpm, self.min_gap, self.breath)
        if not all(math.isfinite(n) and n > 0 for n in numbers):
            raise ValueError(f"pace {self.name}: rate, gap and breath must be positive")
        if self.wpm >= VOICE_WPM:
            raise ValueError(f"pace {self.name}: the voice must speak faster than wpm")
        if not (0.25 <= self.pause_scale <= 4 and 0.25 <= self.hold_scale <= 4):
            raise ValueError(f"pace {self.name}: scales must lie in 0.25-4")


@dataclass(frozen=True)
class Level:
    """The listener's experience; it sets the tremor time and how hard to work."""

    name: str
    summary: str
    tremor_low: float
    tremor_high: float
    fatigue: int

    def __post_init__(self) -> None:
        if not 0 < self.tremor_low <= self.tremor_high <= 15:
            raise ValueError(f"level {self.name}: tremor minutes must lie in 0-15")


VOICE_WPM = 170.0
"""The voice's own speaking rate within a sentence: unhurried, still natural."""

PACES = {
    p.name: p
    for p in (
        Pace("slow", "unhurried, with long silences (about 105 words a minute)",
             wpm=105, min_gap=1.2, breath=6.0,
             pause_scale=1.25, hold_scale=1.15),
        Pace("gentle", "calm guided pace (about 120 words a minute)",
             wpm=120, min_gap=0.9, breath=5.0,
             pause_scale=1.0, hold_scale=1.0),
        Pace("steady", "plainer and quicker, for people who know the exercises "
             "(about 140 words a minute)",
             wpm=140, min_gap=0.6, breath=4.5,
             pause_scale=0.8, hold_scale=0.85),
    )
}
DEFAULT_PACE = "gentle"

# Tremor doses follow the brief: at most 15 minutes the first time, 5-10 for beginners,
# never over 30 in self-practice, 5 or less with PTSD and 1-2 with complex trauma;
# where sources differ, the gentler figure is used.
LEVELS = {
    lv.name: lv
    for lv in (
        Level("sensitive", "with a trauma history, or after a session that felt too "
              "much: the smallest doses (tremor of 1-3 minutes)",
              tremor_low=1, tremor_high=3, fatigue=4),
        Level("first-time", "never done TRE alone before: short tremor (3-6 minutes)",
              tremor_low=3, tremor_high=6, fatigue=5),
        Level("beginner", "a few sessions so far: tremor of 5-10 minutes",
              tremor_low=5, tremor_high=10, fatigue=6),
        Level("regular", "practising for weeks: tremor of 8-15 minutes",
              tremor_low=8, tremor_high=15, fatigue=6),
    )
}
DEFAULT_LEVEL = "first-time"

MAX_MINUTES = 180


def pace(name: str) -> Pace:
    """The pace called ``name``."""
    try:
        return PACES[name]
    except KeyError:
        raise InvalidOption(
            "--pace", f"unknown pace '{name}'; choose from: {', '.join(PACES)}"
        ) from None


def level(name: str) -> Level:
    """The level called ``name``."""
    try:
        return LEVELS[name]
    except KeyError:
        raise InvalidOption(
            "--level", f"unknown level '{name}'; choose from: {', '.join(LEVELS)}"
        ) from None


MAX_NAME = 60
"""Characters in a name (``--name``, ``--trusted``): room for a full name, no more."""
LINE_BREAKS = "\n\r\t"
"""The only control characters a longer text (``say``'s TEXT) may hold."""
_NOT_PLAIN = {"Cc", "Cf", "Cs", "Zl", "Zp"}
_JOINERS = "\u200c\u200d"
"""Format characters that some names and emoji are written with: allowed."""


def control_character(text: str, allowed: str = "") -> str | None:
    """The first character of ``text`` that is not plain text, if any (but those in
    ``allowed``): a control character (XML 1.0 refuses most), an invisible format
    character (bar the joiners), a line or paragraph separator, a lone surrogate (an
    undecodable byte on the command line) or the non-characters U+FFFE and U+FFFF."""
    for char in text:
        if char in allowed or char in _JOINERS:
            continue
        if unicodedata.category(char) in _NOT_PLAIN or char in "\ufffe\uffff":
            return char
    return None


def check_text(option: str, value: str, most: int | None = MAX_NAME, allowed: str = ""
               ) -> str:
    """``value`` if it is plain text (see ``control_character``) of at most ``most``
    characters, else an ``InvalidOption`` naming ``option``."""
    bad = control_character(value, allowed)
    if bad is not None:
        raise InvalidOption(option, f"{option} must be plain text: it holds a control "
                            f"character (U+{ord(bad):04X})")
    if most is not None and len(value) > most:
        raise InvalidOption(option, f"{option} must be at most {most} characters long "
                            f"(it has {len(value):,})")
    return value


SAMPLE_RATE = 22050
"""Session sample rate: Piper's own, and plenty for voice, noise beds and bells."""


LOUDNESS_TARGETS = (-16.0, -19.0, -23.0)
"""Integrated loudness in LUFS: -16 for phones and podcasts (the default), -19 and -23
for quieter listening (-23 is the EBU R 128 broadcast level)."""


LIMITS = {
    "knees": "tender or injured knees: shallower bends, more support",
    "lower-back": "a sensitive lower back: small movements, no deep folds or twists",
    "ankles": "an ankle injury: no ankle rolls or standing on one leg",
    "balance": "unsteady balance: a wall or chair close by, both feet down",
    "pregnancy": "pregnant: ask your provider first; no lying flat after the first trimester",
    "surgery": "recent surgery: ask your provider first; no wall sit or hip lifts",
}
"""Body limits a person can set; each changes the content of the sessions."""


PATTERNS = {
    "box": "box breathing: in 4, hold 4, out 4, hold 4",
    "4-7-8": "in 4, hold 7, out 8; at most four rounds at first",
    "coherent": "about 5.5 breaths a minute, in and out of equal length",
    "sigh": "the physiological sigh: in, a short top-up in, a long slow out",
}
"""Breathing patterns of the ``breathing`` programme."""
DEFAULT_PATTERN = "box"
