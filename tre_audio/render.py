"""Render a programme's Jinja templates into narration script text."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

import jinja2

from .errors import InvalidOption, ScriptError
from .settings import Level, Pace

SHORT_SESSION_MINUTES = 28
"""Sessions asked to be shorter than this use the programmes' shorter lead-ins."""


@dataclass(frozen=True)
class Programme:
    name: str
    template: str
    summary: str


@cache
def programmes() -> dict[str, Programme]:
    """The built-in programmes, by name."""
    data = tomllib.loads(
        files(__package__).joinpath("templates/programmes.toml").read_text("utf-8")
    )
    return {name: Programme(name, **entry) for name, entry in data.items()}


def programme(name: str) -> Programme:
    """The programme called ``name``."""
    try:
        return programmes()[name]
    except KeyError:
        raise InvalidOption(
            "PROGRAMME",
            f"unknown programme '{name}'; choose from: {', '.join(programmes())}",
        ) from None


@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader(__package__, "templates"),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render(
    name: str, *, pace: Pace, level: Level, minutes: float | None, listener: str = "",
    binaural: bool = False,
) -> str:
    """The narration script of programme ``name`` for these options."""
    entry = programme(name)
    context = {
        "name": listener.strip(),
        "pace": pace.name,
        "level": level,
        "minutes": minutes,
        "short": minutes is not None and minutes < SHORT_SESSION_MINUTES,
        "binaural": binaural,
    }
    try:
        return _environment().get_template(entry.template).render(context)
    except jinja2.TemplateNotFound as error:
        raise ScriptError(f"template for '{name}' not found: {error.name}") from None
    except jinja2.UndefinedError as error:
        raise ScriptError(f"template for '{name}': {error.message}") from None
    except jinja2.TemplateError as error:
        where = getattr(error, "filename", None) or entry.template
        line = getattr(error, "lineno", None)
        at = f"{where}, line {line}" if line else where
        raise ScriptError(f"template {at}: {error.message}") from None
