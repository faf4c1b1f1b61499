"""A session's options from layers of choices: built-in defaults, then the profile,
then a plan file, then the command line; a later layer wins."""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from . import planfile, profile as profiles
from ..errors import InvalidOption, PlanError, ProfileError, TreAudioWarning
from ..files import tomlfile
from ..options import values
from ..options.values import Options
from ..narration.programmes import check_level, parts
from ..session import check, check_length

def merge(*layers: Mapping[str, Any]) -> dict[str, Any]:
    """The layers as one set of choices; None means 'not chosen here'. Choices that go
    together are made together: a programme chosen in a later layer replaces an earlier
    list of exercises, and the reverse; a voice (which brings its engine) replaces an
    earlier engine, and an engine an earlier voice."""
    merged: dict[str, Any] = {}
    for layer in layers:
        chosen = {k: v for k, v in layer.items() if v is not None}
        for one, other in (("programme", "exercises"), ("voice", "engine")):
            if (one in chosen) != (other in chosen):
                merged.pop(other if one in chosen else one, None)
        merged.update(chosen)
    return merged


def build(choices: Mapping[str, Any]) -> Options:
    """Options from merged choices (keys as in the option table), checked whole:
    against the table, the registries, and what the programme takes."""
    made = values.build(choices)
    check(made)
    return made


def options(given: Mapping[str, Any], plan: Path | None = None,
            profile: profiles.Profile | None = None, script: Path | None = None
            ) -> Options:
    """The options for a session (of ``script``, if given): ``given`` (the command line)
    over the ``plan`` file over the ``profile`` (default: the user's) over the defaults.
    A profile is general: its length, out of reach for this session, is left out, saying
    so."""
    base = dict(profiles.as_choices(profile if profile is not None else profiles.load()))
    planned = planfile.load(plan) if plan is not None else None
    layers = (base, planned.choices if planned else {}, given)
    try:
        made = build(merge(*layers))
        chosen_level = given.get("level") or (planned.choices.get("level") if planned
                                              else None)
        if chosen_level is not None and script is None:
            check_level(parts(made.programme, made.recipe.exercises, made.templates))
        if "minutes" in base and all(layer.get("minutes") is None for layer in layers[1:]):
            made = _general_length(made, base["minutes"], script)
        elif planned and "minutes" in planned.choices and given.get("minutes") is None:
            check_length(made, script)  # a plan's length out of reach names its line
        return made
    except InvalidOption as error:
        key = tomlfile.key_for(error.option)
        given_keys = {k for k, v in given.items() if v is not None}
        if planned and (key in planned.choices or key.startswith("exercise.")):
            if key.split(".")[0] not in given_keys:
                raise planned.doc.refused(error, PlanError) from None
        if key in base and key not in given_keys and not (planned and key in planned.choices):
            # the profile's own choice, refused here (a voice file of another folder)
            where = "your profile" if profile is not None else \
                f"your profile {profiles.default_path()}"
            raise ProfileError(f"{where}, {key}: {str(error).removeprefix('--')}; change it "
                               f"with: tre-audio profile set {key} ...") from None
        raise


def _general_length(made: Options, minutes: float, script: Path | None) -> Options:
    """``made``, or without the profile's length where this session cannot reach it."""
    try:
        check_length(made, script)
    except InvalidOption as error:
        if error.option != "--minutes":
            raise
        warnings.warn(f"your profile's length of {minutes:g} minutes is out of reach here "
                      f"({str(error).split(': ', 1)[1]}); this session has its natural "
                      "length", TreAudioWarning, stacklevel=2)
        return dataclasses.replace(made, minutes=None)
    return made
