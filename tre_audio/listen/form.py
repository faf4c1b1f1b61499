"""The studio's form, built from the option table: a field for each option a form may
set (``table.FORM``), named as the option is, and the form's answers read back into the
options as the command line would give them. Choices that a registry owns (programmes,
voices, beds) are handed in by whoever has the registries.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import InvalidOption
from ..options import table

MAX_BODY = 16_384
"""The largest form accepted, in bytes."""
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


def label(key: str) -> str:
    """How the page names an option: ``bed_level`` -> 'Bed level'."""
    return table.BY_KEY[key].key.replace("_", " ").capitalize()


def message(error: InvalidOption) -> tuple[str, str]:
    """The field an error concerns (or '') and the command line's words for it, with the
    field's label for the option's name and without the pointer to ``--help``."""
    for option in table.where(table.FORM):
        if option.option == error.option:
            text = str(error).replace(option.option, label(option.key))
            return option.key, text[:1].upper() + text[1:]
    return "", str(error)


def fields(choices: Mapping[str, Sequence[tuple[str, str]]], values: Mapping[str, Any],
           errors: Mapping[str, str] | None = None) -> list[Field]:
    """The form's fields, filled with ``values`` (the options as given), each with its
    error from ``errors``; ``choices`` gives the registries' choices by option key."""
    errors = errors or {}
    out = []
    for option in table.where(table.FORM):
        given = values.get(option.key)
        common: dict[str, Any] = {"key": option.key, "label": label(option.key),
                                  "help": option.plain_help,
                  "error": errors.get(option.key, "")}
        listed = tuple(choices.get(option.key, ())) or tuple(
            (str(c), str(c)) for c in option.choices)
        if option.kind == "a list of text":
            out.append(Field(kind="checks", value=tuple(given or ()), choices=listed,
                             **common))
        elif option.kind == "true or false":
            out.append(Field(kind="check", value=given, **common))
        elif listed:
            shown = "" if given is None else f"{given:g}" if isinstance(given, float) \
                else str(given)
            out.append(Field(kind="select", value=shown,
                             choices=(("", f"as set ({option.shown_default.replace('`', '')})"
                                       if option.shown_default else "as set"), *listed),
                             **common))
        elif option.kind in ("a number", "a whole number"):
            shown = "" if given is None else given if isinstance(given, str) \
                else f"{given:g}"
            out.append(Field(kind="number", value=shown,
                             low=None if option.above else option.low, high=option.high,
                             step="1" if option.kind == "a whole number" else "any",
                             **common))
        else:
            out.append(Field(kind="text", value=given or "",
                             longest=option.most_characters, **common))
    return out


def read(pairs: Sequence[tuple[str, str]]) -> dict[str, Any]:
    """The options a form's answers give, as the command line would give them: an empty
    field is not given. Raises ``InvalidOption`` for a value of the wrong kind, naming
    the option, and for a name the form does not have."""
    options = {option.key: option for option in table.where(table.FORM)}
    given: dict[str, Any] = {}
    for key, text in pairs:
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
        if option is None:
            continue
        if option.kind == "a list of text":
            out[key] = (*out.get(key, ()), text)
        elif option.kind == "true or false":
            out[key] = {"yes": True, "no": False}.get(text)
        else:
            out[key] = text
    return out
