"""The studio's form, built from the option table: a field for each option a form may
set (``table.FORM``), named as the option is, and the form's answers read back into the
options as the command line would give them. Choices that a registry owns (programmes,
voices, beds) are handed in by whoever has the registries.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import InvalidOption
from ..options import table

MAX_BODY = 16_384
"""The largest form accepted, in bytes."""
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)", re.ASCII)
MAX_NAME = 80
"""The most characters of a file name given on the form."""
MAX_FIELDS = 100
"""The most fields a form's answers may hold."""
BODY_SECONDS = 10.0
"""The longest a form's body may take to arrive."""


@dataclass(frozen=True)
class Field:
    """One field of the form, as the page shows it."""

    key: str
    label: str
    kind: str
    """select, number, text, check (true or false) or checks (a list)."""
    help: str
    value: Any
    choices: tuple[tuple[str, str], ...] = ()
    """Each choice's value and what the page says of it."""
    low: float | None = None
    """The least value the field takes (None: none, or only values above ``0``)."""
    high: float | None = None
    step: str = "any"
    error: str = ""
    longest: int | None = None
    """The most characters a text field takes."""
    usual: str = ""
    """What the field follows when left as it is, where the profile sets it."""


@dataclass(frozen=True)
class Extra:
    """A field that is not the option table's: a command's own option."""

    label: str
    option: str
    """The command line's name for it, as its errors name it."""
    help: str
    kind: str
    """``select`` (its choices come with the registries') or ``text``."""
    empty: str = ""
    """What the select's empty choice says."""
    longest: int | None = None


EXTRA = {
    "weeks": Extra("Weeks of a course", "--weeks", "Leave it as it is for one session. With "
                   "a number of weeks, a course is made instead: numbered sessions with the "
                   "tremor rising gently, a playlist and a schedule with rest days, in a "
                   "folder of its own.", "select", "one session"),
    "per_week": Extra("Sessions a week", "--per-week", "For a course: two or three a week "
                      "is the gentler advice.", "select", "as set"),
    "out": Extra("File name", "--out", "A name for the session's files (or the course's "
                 "folder). Left empty, the name says the programme, pace and length; a "
                 "name that is taken gets a number.", "text", longest=MAX_NAME),
}
"""The ``course`` command's options, and the name ``--out`` gives the files."""
GROUPS = (
    ("The session", ("programme", "level", "pace", "minutes", "tremor", "pattern")),
    ("For you", ("name", "trusted", "limits", "eyes_open", "record")),
    ("Voice and sound", ("voice", "engine", "ambient", "bed_level", "bells",
                         "interval_bell")),
    ("A course", ("weeks", "per_week")),
    ("The file", ("out",)),
)
"""The form's parts, in order; the fields of none come last, folded away ("More")."""


def label(key: str) -> str:
    """How the page names an option: ``bed_level`` -> 'Bed level'."""
    if key in EXTRA:
        return EXTRA[key].label
    option = table.BY_KEY[key]
    return option.label or option.key.replace("_", " ").capitalize()


def message(error: InvalidOption) -> tuple[str, str]:
    """The field an error concerns (or '') and the command line's words for it, with the
    field's label for the option's name and without the pointer to ``--help``."""
    named = [(option.key, option.option) for option in table.where(table.FORM)]
    for key, option_name in [*named, *((key, e.option) for key, e in EXTRA.items())]:
        if option_name == error.option:
            text = _printable(str(error).replace(option_name, label(key)))
            return key, text[:1].upper() + text[1:]
    return "", _printable(str(error))


def _printable(text: str) -> str:
    """``text`` with what a page cannot show (control characters) as U+FFFD."""
    return "".join(c if c.isprintable() else "\ufffd" for c in text)


def shown(value: Any) -> str:
    """A value as the page shows it: ``20``, ``yes``, ``knees, ankles``."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (tuple, list)):
        return ", ".join(str(v) for v in value)
    return str(value)


def defaults(usual: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """The profile's values (``usual``) as the form lists them: key, label, value."""
    return [(key, label(key), shown(value)) for key, value in usual.items()]


def fields(choices: Mapping[str, Sequence[tuple[str, str]]], values: Mapping[str, Any],
           errors: Mapping[str, str] | None = None, usual: Mapping[str, Any] | None = None
           ) -> list[Field]:
    """The form's fields, filled with ``values`` (the options as given), each with its
    error from ``errors`` and what it follows when left as it is from ``usual`` (the
    profile's); ``choices`` gives the registries' choices by option key."""
    errors, usual = errors or {}, usual or {}
    out = []
    for option in table.where(table.FORM):
        given = values.get(option.key)
        common: dict[str, Any] = {"key": option.key, "label": label(option.key),
                                  "help": option.page or option.plain_help,
                                  "error": errors.get(option.key, ""),
                                  "usual": shown(usual[option.key]) if option.key in usual
                                  else ""}
        listed = tuple(choices.get(option.key, ())) or tuple(
            (_shown(c), _shown(c)) for c in option.choices)
        if option.kind == "a list of text":
            out.append(Field(kind="checks", value=tuple(given or ()), choices=listed,
                             **common))
        elif option.kind == "true or false":
            out.append(Field(kind="check", value=given, **common))
        elif listed:
            text = "" if given is None else f"{given:g}" if isinstance(given, float) \
                else str(given)
            default = common["usual"] + ", from your profile" if common["usual"] else \
                option.shown_default.replace("`", "")
            out.append(Field(kind="select", value=text,
                             choices=(("", f"as set ({default})" if default else "as set"),
                                      *listed), **common))
        elif option.kind in ("a number", "a whole number"):
            text = "" if given is None else given if isinstance(given, str) \
                else f"{given:g}"
            out.append(Field(kind="number", value=text,
                             low=None if option.above or option.off else option.low,
                             high=option.high,
                             step="1" if option.kind == "a whole number" else "any",
                             **common))
        else:
            out.append(Field(kind="text", value=given or "",
                             longest=option.most_characters, **common))
    for key, extra in EXTRA.items():
        given = values.get(key)
        out.append(Field(key=key, label=extra.label, kind=extra.kind, help=extra.help,
                         value="" if given is None else str(given),
                         choices=((("", extra.empty), *choices.get(key, ()))
                                  if extra.kind == "select" else ()),
                         error=errors.get(key, ""), longest=extra.longest))
    return out


def groups(fields: Sequence[Field]) -> list[tuple[str, list[Field]]]:
    """The fields in the form's parts (``GROUPS``), and those of none as "More"."""
    by_key = {field.key: field for field in fields}
    out = [(title, [by_key[key] for key in keys if key in by_key]) for title, keys in GROUPS]
    placed = {key for _, keys in GROUPS for key in keys}
    return [*out, ("More", [field for field in fields if field.key not in placed])]


def read(pairs: Sequence[tuple[str, str]],
         choices: Mapping[str, Sequence[tuple[str, str]]] | None = None) -> dict[str, Any]:
    """The options a form's answers give, as the command line would give them: an empty
    field is not given. Raises ``InvalidOption`` for a value of the wrong kind, naming
    the option, for a name the form does not have, and for a value that is not one of
    the ``choices`` the form offered (the registries', by key)."""
    options = {option.key: option for option in table.where(table.FORM)}
    given: dict[str, Any] = {}
    for key, text in pairs:
        offered = (choices or {}).get(key)
        if offered and text.strip() and text.strip() not in {value for value, _ in offered}:
            name = EXTRA[key].option if key in EXTRA else options[key].option \
                if key in options else key
            raise InvalidOption(name, f"{name} must be one of the choices the form offers, "
                                f"not '{text.strip()[:40]}'")
        if key in EXTRA:
            name = EXTRA[key].option
            if key in given:
                raise InvalidOption(name, f"{name} is given twice")
            if not text.strip():
                continue
            if EXTRA[key].kind == "text":
                given[key] = text.strip()
                continue
            if not re.fullmatch(r"\d{1,9}", text.strip(), re.ASCII):
                raise InvalidOption(name, f"{name} must be a whole number")
            given[key] = int(text.strip())
            continue
        option = options.get(key)
        if option is None:
            raise InvalidOption("", f"The form has no field '{key[:40]}'")
        if option.kind == "a list of text":
            given.setdefault(key, []).append(text)
            continue
        if key in given:
            raise InvalidOption(option.option, f"{option.option} is given twice")
        text = text.strip()
        if text == "":
            continue
        if option.kind == "true or false":
            if text not in ("yes", "no"):
                raise InvalidOption(option.option, f"{option.option} must be yes or no")
            given[key] = text == "yes"
        elif option.kind in ("a number", "a whole number"):
            try:
                if not _NUMBER.fullmatch(text) or option.kind == "a whole number" \
                        and not text.lstrip("+-").isdigit():
                    raise ValueError(text)  # as typed, not as Python reads it ("1_0")
                number = float(text) if option.kind == "a number" else int(text)
            except ValueError:
                raise InvalidOption(option.option, f"{option.option} must be "
                                    f"{option.kind}") from None
            given[key] = number
        else:
            given[key] = text
    for key, value in given.items():
        if isinstance(value, list):
            given[key] = tuple(value)
    return given


def refill(pairs: Sequence[tuple[str, str]]) -> dict[str, Any]:
    """The answers as they were typed, to show again beside an error."""
    options = {option.key: option for option in table.where(table.FORM)}
    out: dict[str, Any] = {}
    for key, text in pairs:
        option = options.get(key)
        text = _printable(text)  # shown again in the page as typed, bar what cannot be
        if key in EXTRA:
            out[key] = text
            continue
        if option is None:
            continue
        if option.kind == "a list of text":
            out[key] = (*out.get(key, ()), text)
        elif option.kind == "true or false":
            out[key] = {"yes": True, "no": False}.get(text)
        else:
            out[key] = text
    return out


def _shown(choice: object) -> str:
    """A fixed choice as the form offers it (a number as people write it: ``-19``), so
    that a value given as a number selects it."""
    return f"{choice:g}" if isinstance(choice, float) else str(choice)
