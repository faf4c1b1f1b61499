"""The built-in programmes (``templates/programmes.toml``) and what each one takes.

A programme is either one template or a list of exercise templates framed by the
arrival and the closing (as a custom list of exercises is). Most options shape every
programme; a few only those that have the part they change: a tremor phase (and a
programme's own shorter tremor), a breathing pattern, settings of single exercises.
A session never silently ignores such a choice: ``check_fits`` refuses it.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

from ..errors import InvalidOption

FRAME = ("arrival", "closing")
"""The exercises that open and close every list: they hold the safety content."""

TAKEN_BY_SOME = ("tremor", "pattern", "tune")
"""The choices only some programmes take."""


@dataclass(frozen=True)
class Programme:
    name: str
    summary: str
    template: str | None = None
    """Its top template; None for a programme made of ``exercises``."""
    exercises: tuple[str, ...] | None = None
    """The exercise templates it is made of, between the arrival and the closing."""
    takes: frozenset[str] = frozenset()
    """Which of ``TAKEN_BY_SOME`` it takes."""
    tremor_most: float | None = None
    """The most minutes of tremor it gives, below the level's, if it has its own."""

    def __post_init__(self) -> None:
        if (self.template is None) == (self.exercises is None):
            raise ValueError(f"programme {self.name}: give a template or exercises")
        if not set(self.takes) <= set(TAKEN_BY_SOME):
            raise ValueError(f"programme {self.name}: takes only {TAKEN_BY_SOME}")


@cache
def programmes() -> dict[str, Programme]:
    """The built-in programmes, by name."""
    data = tomllib.loads(
        files(__package__).joinpath("templates/programmes.toml").read_text("utf-8"))
    found = {}
    for name, entry in data.items():
        exercises = entry.get("exercises")
        takes = set(entry.get("takes", ()))
        if exercises is not None:
            takes |= {"tune", *(["tremor"] if "tremor" in exercises else [])}
        found[name] = Programme(
            name, entry["summary"], entry.get("template"),
            None if exercises is None else tuple(exercises), frozenset(takes),
            entry.get("tremor_most"))
    return found


def programme(name: str) -> Programme:
    """The programme called ``name``."""
    try:
        return programmes()[name]
    except KeyError:
        raise InvalidOption(
            "PROGRAMME",
            f"unknown programme '{name}'; choose from: {', '.join(programmes())}",
        ) from None


def classic_order() -> tuple[str, ...]:
    """The exercises in the order of the classic session, framed."""
    return (FRAME[0], *(programme("classic").exercises or ()), FRAME[1])


@dataclass(frozen=True)
class Parts:
    """What a session is made of, for checking what it takes."""

    where: str
    """'programme NAME' or 'your list of exercises', as messages name it."""
    takes: frozenset[str]
    exercises: tuple[str, ...]
    tremor_most: float | None = None


def parts(name: str, exercises: tuple[str, ...] | None) -> Parts:
    """What the programme ``name``, or the custom list ``exercises``, is made of."""
    if exercises is not None:
        return Parts("your list of exercises",
                     frozenset({"tune", *(["tremor"] if "tremor" in exercises else [])}),
                     (FRAME[0], *exercises, FRAME[1]))
    chosen = programme(name)
    listed = (FRAME[0], *chosen.exercises, FRAME[1]) if chosen.exercises else ()
    return Parts(f"programme '{name}'", chosen.takes, listed, chosen.tremor_most)


def check_fits(made_of: Parts, *, tremor: float | None, tremor_most: float,
               level_name: str, pattern: str | None,
               tune: Mapping[str, Mapping[str, float]]) -> None:
    """An ``InvalidOption`` for a choice the session would not use, or one beyond its
    own limit: a tremor without a tremor phase or over its most minutes (the level's
    ``tremor_most``, or the programme's own if lower), a pattern without paced breathing,
    settings of an exercise that is not in it."""
    if tremor is not None:
        if "tremor" not in made_of.takes:
            raise InvalidOption("--tremor", f"--tremor is not taken by {made_of.where}: it "
                                "has no tremor phase")
        most, whose = tremor_most, f"at the {level_name} level"
        if made_of.tremor_most is not None and made_of.tremor_most < most:
            most, whose = made_of.tremor_most, f"in {made_of.where}"
        if not (math.isfinite(tremor) and 1 <= tremor <= most):
            raise InvalidOption("--tremor", f"tremor must be 1 to {most:g} minutes {whose}")
    if pattern is not None and "pattern" not in made_of.takes:
        raise InvalidOption("--pattern", f"--pattern is not taken by {made_of.where}: only "
                            "the breathing programme paces a pattern")
    for name in tune:
        if name not in made_of.exercises:
            raise InvalidOption(f"exercise.{name}", f"exercise '{name}' is not in "
                                f"{made_of.where}, so its settings would not be used")
