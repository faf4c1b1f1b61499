"""A session's options from layers of choices: built-in defaults, then the profile,
then a plan file, then the command line; a later layer wins."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from . import planfile, profile as profiles
from ..errors import InvalidOption, PlanError
from ..files import tomlfile
from ..options import values
from ..options.values import Options
from ..session import check

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
            profile: profiles.Profile | None = None) -> Options:
    """The options for a session: ``given`` (the command line) over the ``plan`` file
    over the ``profile`` (default: the user's) over the defaults."""
    base = profiles.as_choices(profile if profile is not None else profiles.load())
    if plan is None:
        return build(merge(base, given))
    planned = planfile.load(plan)
    try:
        return build(merge(base, planned.choices, given))
    except InvalidOption as error:
        key = tomlfile.key_for(error.option)
        given_keys = {k for k, v in given.items() if v is not None}
        if key in planned.choices or key.startswith("exercise."):
            if key.split(".")[0] not in given_keys:
                raise planned.doc.refused(error, PlanError) from None
        raise
