"""The registries that own the choices the option table names by registry: programmes
and exercises (narration), beds (sound), engines (speech). Each checks a name with its
own words; listing one runs no model."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from .narration import programmes, render
from .sound import ambient
from .speech import engine


def names(registry: str, templates: Path | None = None) -> dict[str, str]:
    """The choices of ``registry``, each with a line about it."""
    if registry == "programmes":
        return {p.name: p.summary for p in programmes.programmes(templates).values()}
    if registry == "exercises":
        return {e.name: e.summary for e in render.exercises(templates).values()}
    if registry == "ambients":
        return dict(ambient.AMBIENTS)
    if registry == "engines":
        return dict(engine.ENGINES)
    raise KeyError(registry)


_CHECKS: dict[str, Callable[[str], object]] = {
    "ambients": ambient.check,
    "engines": engine.engine_module,
}


def check_voice(engine_name: str | None, voice: str | None) -> None:
    """Refuse a voice no engine has, or an engine with another engine's voice (this lists
    the voices: the system engine's through its worker)."""
    engine.resolve(engine_name, voice)


def check(registry: str | None, value: object) -> None:
    """Refuse ``value`` if ``registry`` has no such name. Programmes and exercises are
    checked with the session, which knows the templates folder."""
    if registry in _CHECKS and isinstance(value, str):
        _CHECKS[registry](value)
