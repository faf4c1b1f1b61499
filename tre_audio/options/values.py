"""A session's settings as one value: frozen, free of services, defaults from the table.

``Options`` holds what the table (``options.table``) declares, in three parts: the
session's own fields, its ``sound`` and its ``recipe`` (what shapes the narration beyond
pace, level and length). Making one checks every value the table can check alone; the
names a registry owns (programme, bed, engine, exercises) and what a programme takes are
checked by ``session.check``, which knows the registries. Nothing here opens a voice or
reads a file.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import table

_D = {option.key: option.default for option in table.OPTIONS}


def _check_part(value: object) -> None:
    for item in dataclasses.fields(value):  # type: ignore[arg-type]
        if item.name in table.BY_KEY:
            table.check(item.name, getattr(value, item.name))


@dataclass(frozen=True)
class Sound:
    """How the session sounds around the voice: bed, bells, tones and loudness."""

    ambient: str = _D["ambient"]
    seed: int = _D["seed"]
    bed_level: float = _D["bed_level"]
    """dB the bed sits under the voice, in the silences; it ducks further under speech."""
    duck: float = 8.0
    bells: bool = _D["bells"]
    interval_bell: float | None = _D["interval_bell"]
    """Seconds between soft chimes during long holds; None for none."""
    binaural: float | None = _D["binaural"]
    """Beat in Hz of a binaural tone under the bed (makes the session stereo)."""
    loudness: float = _D["loudness"]

    def __post_init__(self) -> None:
        _check_part(self)

    @property
    def channels(self) -> int:
        return 2 if self.binaural else 1


@dataclass(frozen=True)
class Recipe:
    """What shapes the narration beyond pace, level and length."""

    trusted: str = _D["trusted"]
    """A trusted person the listener may call."""
    limits: frozenset[str] = frozenset()
    eyes_open: bool = _D["eyes_open"]
    tremor: float | None = _D["tremor"]
    """Minutes of tremor, in place of the level's range."""
    returning: bool = False
    """Briefer lead-ins, for someone who has heard the full ones (later course sessions)."""
    adapted: str = ""
    """Why the tremor differs from the plan, said as the shaking phase begins ('': it
    does not, or nobody checked in)."""
    ground_first: bool = False
    """Open with grounding (after feeling spaced out last time)."""
    pattern: str | None = _D["pattern"]
    """The breathing programme's pattern; None: its default."""
    exercises: tuple[str, ...] | None = _D["exercises"]
    """A custom list of exercises, framed by arrival and closing, in place of the programme."""
    tune: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    """Per exercise: hold (seconds), repetitions or breaths."""

    def __post_init__(self) -> None:
        _check_part(self)


@dataclass(frozen=True)
class Options:
    """Everything that shapes one session."""

    programme: str = _D["programme"]
    pace: str = _D["pace"]
    level: str = _D["level"]
    minutes: float | None = _D["minutes"]
    name: str = _D["name"]
    engine: str | None = _D["engine"]
    """None: the voice's engine, or the default one."""
    voice: str | None = _D["voice"]
    sound: Sound = Sound()
    lexicon: Path | None = _D["lexicon"]
    """The pronunciation lexicon; None: the user's own ``lexicon.toml``, if any."""
    recipe: Recipe = Recipe()
    templates: Path | None = _D["templates"]
    """A folder of the user's templates; None: the one in the data folder, if any."""
    label: str | None = None
    """The session's name in file names and titles; None: the programme's (or 'custom')."""
    record: bool = _D["record"]
    """Whether the session goes into the practice record, and check-ins adapt it."""

    def __post_init__(self) -> None:
        _check_part(self)

    def settings(self) -> dict[str, Any]:
        """The options by their table keys, as the timeline keeps them: the trusted
        person's name and the paths stay out (the timeline is handed out by the page and
        the feed; a path names the user)."""
        values = {}
        for option in table.OPTIONS:
            if option.key in ("trusted", "templates", "lexicon", "record") \
                    or option.part == "feed":
                continue
            holder = {"session": self, "sound": self.sound, "recipe": self.recipe}[option.part]
            value = getattr(holder, option.key)
            if isinstance(value, frozenset):
                value = sorted(value)
            elif isinstance(value, tuple):
                value = list(value)
            elif isinstance(value, Mapping):
                value = {k: dict(v) for k, v in value.items()}
            values[option.key] = value
        return values


def build(choices: Mapping[str, Any]) -> Options:
    """Options from choices keyed as in the table (and ``label``, ``returning``,
    ``adapted``, ``ground_first``)."""
    values = dict(choices)
    parts: dict[str, dict[str, Any]] = {"sound": {}, "recipe": {}}
    for name, keys in (("sound", table.part("sound")), ("recipe", table.part("recipe"))):
        parts[name] = {k: values.pop(k) for k in keys if k in values}
    for key in ("returning", "adapted", "ground_first"):
        if key in values:
            parts["recipe"][key] = values.pop(key)
    for part in parts.values():
        for key, value in part.items():
            if key in table.BY_KEY and table.BY_KEY[key].off and value == 0:
                part[key] = None  # 0 said "none" over a profile's choice
    recipe = parts["recipe"]
    if "limits" in recipe:
        recipe["limits"] = frozenset(recipe["limits"])
    if "exercises" in recipe and recipe["exercises"] is not None:
        recipe["exercises"] = tuple(recipe["exercises"])
    return Options(sound=Sound(**parts["sound"]), recipe=Recipe(**recipe), **values)
