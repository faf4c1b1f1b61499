"""Plan files: a session written down as TOML, for a person or their therapist.

A plan chooses a programme, or its own list and order of exercises with per-exercise
settings, and the pace, level, tremor time, voice, sound and length.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import registries
from ..errors import InvalidOption, PlanError
from ..files import tomlfile
from ..files.atomic import atomic_file, check_name
from ..narration.script import one_line
from ..options import settings, table
from ..sound import ambient

KEYS = {option.key: option for option in table.where(table.PLAN) if option.key != "tune"}
"""The keys a plan may set; settings of single exercises go in [exercise.NAME] tables."""
TUNES = {
    "hold": "seconds of each working hold",
    "repetitions": "how many times the voice asks for",
    "breaths": "breaths in each place",
}


@dataclass(frozen=True)
class Planned:
    doc: tomlfile.Document
    choices: Mapping[str, Any]
    """Choices as ``choices.build`` takes them; the label is the file's name."""


def load(path: Path) -> Planned:
    """The plan file at ``path``, checked key by key (so that a plan is checked whole
    even where the command line overrides it)."""
    doc = tomlfile.read(path, PlanError, "plan")
    choices: dict[str, Any] = {"label": one_line(path.stem) or "plan"}
    for written, value in doc.data.items():
        if written == "exercise":
            choices["tune"] = _tunes(doc, value)
            continue
        option = tomlfile.option_of(doc, written, value, KEYS, PlanError, "plan",
                                    ", and [exercise.NAME] tables")
        key = option.key
        try:
            table.check(key, value)
            registries.check(option.registry, value)
        except InvalidOption as error:
            raise doc.refused(error, PlanError) from None
        choices[key] = tuple(value) if isinstance(value, list) else value
    if "programme" in choices and "exercises" in choices:
        raise PlanError(f"{doc.where('exercises')}: a plan gives a programme or a list of "
                        "exercises, not both")
    for key in ("loudness", "bed_level", "interval_bell", "binaural", "minutes", "tremor"):
        if key in choices:
            choices[key] = float(choices[key])
    return Planned(doc, choices)


def _tunes(doc: tomlfile.Document, tables: Any) -> dict[str, dict[str, float]]:
    if not isinstance(tables, dict) or not all(isinstance(t, dict) for t in tables.values()):
        raise PlanError(f"{doc.where('exercise')}: exercise settings go in tables such as "
                        "[exercise.calves] with hold, repetitions or breaths")
    tunes: dict[str, dict[str, float]] = {}
    for name, given in tables.items():
        for key, value in given.items():
            dotted = f"exercise.{name}.{key}"
            if key not in TUNES:
                raise PlanError(f"{doc.where(dotted)}: unknown setting '{key}' for {name}; "
                                f"choose from: {', '.join(TUNES)}")
            kind = "a number" if key == "hold" else "a whole number"
            tomlfile.check(doc, dotted, value, kind, TUNES[key], PlanError)
        tunes[name] = dict(given)
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
# pattern = "box"        # the breathing programme's pattern: {patterns}
# pace = "gentle"        # {paces}
# minutes = 35           # fit the whole session to this length
# name = "Sam"
# trusted = "Alex"       # someone to call, named in the safety plan
# limits = ["knees"]     # {limits}
# eyes_open = true       # a soft gaze instead of closed eyes
# engine = "piper"       # hibari, piper or system (without a voice: its default voice)
# voice = "joe"          # tre-audio list voices (it brings its engine)
# ambient = "pink"       # {ambients}
# seed = 0               # another variation of the bed
# bed_level = 20         # dB under the voice
# bells = true
# interval_bell = 60     # a soft chime every 60 seconds in long holds
# binaural = 6           # a binaural beat in Hz (headphones)
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
                          patterns=", ".join(settings.PATTERNS),
                          limits=", ".join(settings.LIMITS),
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
