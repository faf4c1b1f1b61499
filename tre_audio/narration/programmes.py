"""The programmes (``templates/programmes.toml``, and the user's own beside their
templates) and what each one takes.

A programme is either one template or a list of exercise templates framed by the
arrival and the closing (as a custom list of exercises is), in one language: its texts
beside the narration (the notice, titles, a course's schedule) come from
``languages/LANGUAGE/`` among the templates. Most options shape every programme; a few
only those that have the part they change: a tremor phase (and a programme's own
shorter tremor), a breathing pattern, settings of single exercises. A session never
silently ignores such a choice: ``check_fits`` refuses it.
"""

from __future__ import annotations

import math
import re
import tomllib
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any

import platformdirs

from ..errors import InvalidOption, ScriptError, TreAudioWarning
from ..files import tomlfile

FRAME = ("arrival", "closing")
"""The exercises that open and close every list: they hold the safety content."""

TAKEN_BY_SOME = ("tremor", "pattern", "level", "tune")
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
    language: str = "en"
    """Its language (an IETF tag such as ``en`` or ``de-CH``)."""

    def __post_init__(self) -> None:
        if not NAME.fullmatch(self.name):
            raise ValueError(f"'{self.name}' is not a programme name: letters, digits, '-' "
                             "and '_' only, at most 40")
        if (self.template is None) == (self.exercises is None):
            raise ValueError(f"programme {self.name}: give a template or exercises")
        if not set(self.takes) <= set(TAKEN_BY_SOME):
            raise ValueError(f"programme {self.name}: takes may list only tremor, "
                             "pattern and level")
        if not LANGUAGE.fullmatch(self.language):
            raise ValueError(f"programme {self.name}: a language is a tag such as en or de")
        if self.tremor_most is not None and not (
                math.isfinite(self.tremor_most) and 1 <= self.tremor_most <= 15):
            raise ValueError(f"programme {self.name}: tremor_most is 1 to 15 minutes")
        if self.exercises is not None:
            check_list(self.exercises, ValueError)


NAME = re.compile(r"[^\W_][\w-]{0,39}")
"""A programme's name: it becomes part of file names, so no '/', '.' or space."""


def check_list(exercises: tuple[str, ...], error: Callable[[str], Exception]) -> None:
    """Refuse a list of exercises with the arrival or closing in it (they frame every
    list by themselves) or with more than one tremor: one tremor phase a session."""
    for name in exercises:
        if name in FRAME:
            raise error(f"'{name}' opens or closes every session by itself; leave it out "
                        "of the list")
    if exercises.count("tremor") > 1:
        raise error("'tremor' may come once in a list of exercises: one tremor phase a "
                    "session, at the level's dose")


LANGUAGE = re.compile(r"[a-z]{2,3}(-[A-Za-z0-9]{2,8})?")
_ISO_639_2 = {"ar": "ara", "cs": "ces", "da": "dan", "de": "deu", "el": "ell", "en": "eng",
              "es": "spa", "fi": "fin", "fr": "fra", "he": "heb", "hi": "hin", "hu": "hun",
              "it": "ita", "ja": "jpn", "ko": "kor", "nb": "nob", "nl": "nld", "no": "nor",
              "pl": "pol", "pt": "por", "ro": "ron", "ru": "rus", "sv": "swe", "tr": "tur",
              "uk": "ukr", "zh": "zho"}


def id3_language(language: str) -> str:
    """``language`` as ID3 names it (ISO 639-2: ``eng``); ``und`` if it is not known."""
    primary = language.split("-")[0]
    return primary if len(primary) == 3 else _ISO_639_2.get(primary, "und")
ENTRY_KEYS = {"summary": "text", "template": "text", "exercises": "a list of text",
              "takes": "a list of text", "tremor_most": "a number", "language": "text"}


SESSION_TEXTS = ("notice", "title", "album")
"""The texts every session in a language needs, in ``languages/LANGUAGE/NAME.j2``."""
COURSE_TEXTS = ("course-session", "course-entry", "course-playlist", "course-schedule")
"""The texts a course in a language needs besides."""


def missing_texts(language: str, names: tuple[str, ...], folder: Path | None
                  ) -> list[str]:
    """The texts of ``names`` that neither ``folder`` nor tre-audio has in ``language``."""
    shipped = files(__package__).joinpath("templates", "languages", language)
    return [f"languages/{language}/{name}.j2" for name in names
            if not shipped.joinpath(f"{name}.j2").is_file()
            and not (folder is not None
                     and (folder / "languages" / language / f"{name}.j2").is_file())]


def default_templates() -> Path:
    """The user's own templates folder (it need not exist)."""
    return Path(platformdirs.user_data_dir("tre-audio")) / "templates"


def user_folder(templates: Path | None) -> Path | None:
    """The templates folder to search first: ``templates`` (which must exist) or the
    default one if it exists."""
    if templates is None:
        folder = default_templates()
        return folder if folder.is_dir() else None
    if not templates.is_dir():
        raise InvalidOption("--templates", f"templates folder not found: {templates}")
    return templates


def _entry(name: str, entry: Mapping[str, Any]) -> Programme:
    exercises = entry.get("exercises")
    takes = set(entry.get("takes", ()))
    if exercises is not None:
        takes |= _list_takes(exercises)
    return Programme(name, entry["summary"], entry.get("template"),
                     None if exercises is None else tuple(exercises), frozenset(takes),
                     entry.get("tremor_most"), entry.get("language", "en"))


@cache
def _shipped() -> dict[str, Programme]:
    data = tomllib.loads(
        files(__package__).joinpath("templates/programmes.toml").read_text("utf-8"))
    return {name: _entry(name, entry) for name, entry in data.items()}


def programmes(templates: Path | None = None) -> dict[str, Programme]:
    """The programmes by name: the shipped ones, then those the user's templates
    folder adds in its own ``programmes.toml``."""
    shipped = _shipped()
    folder = user_folder(templates)
    if folder is None or not (folder / "programmes.toml").exists():
        return shipped
    path = folder / "programmes.toml"
    try:
        inside = path.resolve(strict=True).is_relative_to(folder.resolve())
    except (OSError, RuntimeError):
        inside = False
    if not inside:
        raise ScriptError(f"programmes file {path} leads out of the templates folder")
    doc = tomlfile.read(path, ScriptError, "programmes file")
    found = dict(shipped)
    for name, entry in doc.data.items():
        if name in shipped:
            raise ScriptError(f"{doc.where(name)}: '{name}' is a shipped programme; give "
                              "yours another name")
        if not isinstance(entry, dict):
            raise ScriptError(f"{doc.where(name)}: a programme is a table such as [{name}] "
                              "with a summary and a template")
        for key, value in entry.items():
            if key not in ENTRY_KEYS:
                raise ScriptError(f"{doc.where(name + '.' + key)}: unknown key '{key}'; a "
                                  f"programme may set: {', '.join(ENTRY_KEYS)}")
            tomlfile.check(doc, f"{name}.{key}", value, ENTRY_KEYS[key],
                           "see tre_audio/narration/templates/programmes.toml", ScriptError)
        try:
            found[name] = _entry(name, {"summary": "", **entry})
        except ValueError as error:
            raise ScriptError(f"{doc.where(name)}: {error}") from None
        missing = missing_texts(found[name].language, SESSION_TEXTS, folder)
        if missing:
            raise ScriptError(f"{doc.where(name)}: a programme in '{found[name].language}' "
                              f"needs its texts beside it: {', '.join(missing)} not found")
    return found


def programme(name: str, templates: Path | None = None) -> Programme:
    """The programme called ``name``."""
    known = programmes(templates)
    try:
        return known[name]
    except KeyError:
        raise InvalidOption(
            "PROGRAMME",
            f"unknown programme '{name}'; choose from: {', '.join(known)}",
        ) from None


def classic_order() -> tuple[str, ...]:
    """The exercises in the order of the classic session, framed."""
    return (FRAME[0], *(_shipped()["classic"].exercises or ()), FRAME[1])


def _list_takes(exercises: Sequence[str]) -> frozenset[str]:
    """What a list of exercises takes: a tune and a level always, a tremor time when
    the tremor is among them."""
    return frozenset({"tune", "level", *(["tremor"] if "tremor" in exercises else [])})


@dataclass(frozen=True)
class Parts:
    """What a session is made of, for checking what it takes."""

    where: str
    """'programme NAME' or 'your list of exercises', as messages name it."""
    takes: frozenset[str]
    exercises: tuple[str, ...]
    tremor_most: float | None = None


def parts(name: str, exercises: tuple[str, ...] | None, templates: Path | None = None
          ) -> Parts:
    """What the programme ``name``, or the custom list ``exercises``, is made of."""
    if exercises is not None:
        return Parts("your list of exercises", _list_takes(exercises),
                     (FRAME[0], *exercises, FRAME[1]))
    chosen = programme(name, templates)
    listed = (FRAME[0], *chosen.exercises, FRAME[1]) if chosen.exercises else ()
    folder = user_folder(templates)
    if listed and folder is not None and (folder / name / "session.j2").is_file():
        _unread(folder / name / "session.j2", name)
    return Parts(f"programme '{name}'", chosen.takes, listed, chosen.tremor_most)


@cache  # said once a run, however often the programme is looked up
def _unread(path: Path, name: str) -> None:
    warnings.warn(TreAudioWarning(
        f"{path} is not read: programme '{name}' is a list of exercises; change their "
        "templates (tre-audio list exercises), or add a programme of your own"),
        stacklevel=3)


def check_level(made_of: Parts) -> None:
    """An ``InvalidOption`` if ``made_of`` is the same at every level (a level chosen
    for one session, on the command line or in a plan: a profile's is general)."""
    if "level" not in made_of.takes:
        raise InvalidOption("--level", f"--level is not taken by {made_of.where}: it is the "
                            "same at every level")


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
