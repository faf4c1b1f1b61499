"""Plan files: a session written down as TOML, for a person or their therapist.

A plan chooses a programme, or its own list and order of exercises with per-exercise
settings, and the pace, level, tremor time, voice, sound and length.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..sound import ambient
from ..narration import programmes, render
from ..options import settings
from ..files import tomlfile
from ..errors import InvalidOption, PlanError
from ..files.atomic import atomic_file, check_name
from ..narration.script import one_line
from ..speech.engine import engine_module

KEYS = {
    "programme": ("text", f"one of {', '.join(programmes.programmes())}"),
    "exercises": ("a list of text", "exercise names in order (tre-audio list exercises)"),
    "tremor": ("a number", "minutes of tremor, from 1 to the level's most"),
    "level": ("text", f"one of {', '.join(settings.LEVELS)}"),
    "pace": ("text", f"one of {', '.join(settings.PACES)}"),
    "minutes": ("a number", f"above 0 and at most {settings.MAX_MINUTES}"),
    "name": ("text", "your name"),
    "engine": ("text", "a speech engine (tre-audio list voices)"),
    "voice": ("text", "a voice name (tre-audio list voices)"),
    "pattern": ("text", f"one of {', '.join(settings.PATTERNS)}"),
    "ambient": ("text", f"one of {', '.join(ambient.AMBIENTS)}"),
    "bells": ("true or false", "true or false"),
    "interval_bell": ("a number", "seconds between chimes in long holds, 20 to 600"),
    "loudness": ("a number", "-16, -19 or -23"),
}
TUNES = {
    "hold": "seconds of each working hold",
    "repetitions": "how many times the voice asks for",
    "breaths": "breaths in each place",
}

def _check_loudness(value: float) -> None:
    settings.Sound(loudness=float(value))


def _check_interval(value: float) -> None:
    settings.Sound(interval_bell=value)


def _check_name(value: str) -> None:
    settings.check_text("--name", value)


_CHECKS: dict[str, Callable[[Any], object]] = {
    "programme": programmes.programme, "level": settings.level, "pace": settings.pace,
    "minutes": settings.check_minutes, "name": _check_name, "engine": engine_module,
    "pattern": settings.check_pattern, "ambient": ambient.check,
    "loudness": _check_loudness, "interval_bell": _check_interval,
}
"""Checks of single values, so that a plan is checked whole even where the command
line overrides it."""


@dataclass(frozen=True)
class Planned:
    doc: tomlfile.Document
    choices: Mapping[str, Any]
    """Choices as ``choices.build`` takes them; the label is the file's name."""


def load(path: Path) -> Planned:
    """The plan file at ``path``, checked key by key."""
    doc = tomlfile.read(path, PlanError, "plan")
    choices: dict[str, Any] = {"label": one_line(path.stem) or "plan"}
    for key, value in doc.data.items():
        if key == "exercise":
            choices["tune"] = _tunes(doc, value)
            continue
        if key not in KEYS:
            raise PlanError(f"{doc.where(key)}: unknown key '{key}'; a plan may set: "
                            f"{', '.join(KEYS)}, and [exercise.NAME] tables")
        kind, allowed = KEYS[key]
        choices[key] = tomlfile.check(doc, key, value, kind, allowed, PlanError)
        try:
            _CHECKS.get(key, lambda value: None)(value)
        except InvalidOption as error:
            raise doc.refused(error, PlanError) from None
    if "programme" in choices and "exercises" in choices:
        raise PlanError(f"{doc.where('exercises')}: a plan gives a programme or a list of "
                        "exercises, not both")
    if "loudness" in choices:
        choices["loudness"] = float(choices["loudness"])
    return Planned(doc, choices)


def _tunes(doc: tomlfile.Document, tables: Any) -> dict[str, dict[str, float]]:
    if not isinstance(tables, dict) or not all(isinstance(t, dict) for t in tables.values()):
        raise PlanError(f"{doc.where('exercise')}: exercise settings go in tables such as "
                        "[exercise.calves] with hold, repetitions or breaths")
    tunes: dict[str, dict[str, float]] = {}
    for name, table in tables.items():
        for key, value in table.items():
            dotted = f"exercise.{name}.{key}"
            if key not in TUNES:
                raise PlanError(f"{doc.where(dotted)}: unknown setting '{key}' for {name}; "
                                f"choose from: {', '.join(TUNES)}")
            tomlfile.check(doc, dotted, value, "a number", TUNES[key], PlanError)
        tunes[name] = dict(table)
    return tunes


EXAMPLE = """\
# A tre-audio plan. Make a session from it with:
#   tre-audio generate --plan {name}
# Options on the command line win over the plan; the plan wins over your profile.
# Lines starting with # are comments: remove the # to use a setting.

# Either a programme (tre-audio list programmes) ...
programme = "classic"
# ... or your own list and order of exercises (tre-audio list exercises). The arrival
# (with the safety guidance) and the closing always frame it, so leave them out.
# exercises = ["grounding", "ankles", "calves", "wall-sit", "floor", "tremor", "rest"]

# level = "first-time"   # {levels}
# tremor = 5             # minutes of tremor, from 1 to the level's most
# pace = "gentle"        # {paces}
# minutes = 35           # fit the whole session to this length
# name = "Sam"
# voice = "en_US-joe-medium"
# ambient = "pink"       # {ambients}
# bells = true
# interval_bell = 60     # a soft chime every 60 seconds in long holds
# loudness = -16         # -16, -19 or -23

# Settings for single exercises: hold (seconds of each working hold), repetitions,
# breaths (in each place). tre-audio list exercises shows which each one takes.
# [exercise.calves]
# repetitions = 8
# hold = 40
#
# [exercise.forward-bend]
# breaths = 3
"""


def example(name: str) -> str:
    """The commented example plan, as written by ``plan new``."""
    return EXAMPLE.format(name=name, levels=", ".join(settings.LEVELS),
                          paces=", ".join(settings.PACES),
                          ambients=", ".join(ambient.AMBIENTS))


def new(path: Path) -> Path:
    """Write the example plan at ``path``; refuse to replace a file."""
    check_name(path, "FILE")
    if path.suffix.lower() != ".toml":
        raise InvalidOption("FILE", f"a plan file ends in .toml: {path}")
    if path.exists():
        raise InvalidOption("FILE", f"{path} already exists; choose another name")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise PlanError(f"cannot create {path.parent}: {error.strerror}") from None
    with atomic_file(path) as temporary:
        temporary.write_text(example(path.name), encoding="utf-8")
    return path
