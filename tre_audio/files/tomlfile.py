"""Small TOML settings files (profile, plans), read with errors that name the file,
the line and the key."""

from __future__ import annotations

import json
import math
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import inputs
from ..errors import InvalidOption, TreAudioError
from ..options import table

MAX_BYTES = 256 * 1024
"""The most a plan or profile may hold: a few hundred lines is plenty."""
MAX_DEPTH = 3
"""Tables and lists inside each other: a plan's ``[exercise.NAME]`` settings are 2 deep."""


@dataclass(frozen=True)
class Document:
    path: Path
    text: str
    data: Mapping[str, Any]

    def where(self, key: str | None = None) -> str:
        """``path, line N, key`` for the line that sets ``key`` (a dotted name)."""
        line = line_of(self.text, key) if key else None
        at = f"{self.path}, line {line}" if line else str(self.path)
        return f"{at}, {key}" if key else at

    def refused(self, error: InvalidOption, kind: type[TreAudioError],
                written: Mapping[str, str] | None = None) -> TreAudioError:
        """``error``, a value the library refused, as a ``kind`` naming the line of the
        key it came from (as ``written`` in the file, where an old name was used)."""
        key = key_for(error.option)
        message = str(error).removeprefix("--")
        dashed = error.option.removeprefix("--")
        if error.option.startswith("--") and message.startswith(dashed):
            message = key + message[len(dashed):]  # as the file names it: bed_level
        return kind(f"{self.where((written or {}).get(key, key))}: {message}")


def key_for(option: str) -> str:
    """The settings key behind a library option name: ``--interval-bell`` is
    ``interval_bell``, ``PROGRAMME`` is ``programme``, ``--limit`` is ``limits``; dotted
    keys such as ``exercise.calves.hold`` are their own."""
    if option.startswith("--"):
        key = option.removeprefix("--").replace("-", "_")
        return "limits" if key == "limit" else key
    return option.lower() if option.isupper() else option


def read(path: Path, error: type[TreAudioError], what: str) -> Document:
    """The TOML document at ``path`` (a regular file of at most ``MAX_BYTES``, nested at
    most ``MAX_DEPTH`` deep); any problem is an ``error`` naming the file."""
    raw = inputs.read_file(path, MAX_BYTES, what, error)
    if b"\0" in raw:
        raise error(f"{what} {path} is not a text file")
    try:
        text = decode(raw)
    except NotUtf8 as problem:
        raise error(f"{path}, line {problem.line}: not UTF-8 text; save the {what} as "
                    "UTF-8") from None
    try:
        data = loads(text)
    except tomllib.TOMLDecodeError as problem:
        message = str(problem)
        found = re.search(r"\(at line (\d+), column \d+\)", message)
        reason = re.sub(r"\s*\(at line \d+, column \d+\)|\s*\(at end of document\)", "", message)
        at = f"{path}, line {found[1]}" if found else str(path)
        raise error(f"{at}: not valid TOML: {reason.lower()}") from None
    except TooDeep as problem:
        at = f"{path}, line {problem.line}" if problem.line else str(path)
        raise error(f"{at}: {problem}") from None
    return Document(path, text, data)


class NotUtf8(ValueError):
    """Bytes that are not UTF-8 text; ``line`` is the line of the first that is not."""

    def __init__(self, line: int) -> None:
        super().__init__(f"not UTF-8 text (line {line})")
        self.line = line


def decode(raw: bytes) -> str:
    """``raw`` as UTF-8 text (after a byte-order mark, as Notepad writes, if it has one),
    or ``NotUtf8``."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as problem:
        raise NotUtf8(raw.count(b"\n", 0, problem.start) + 1) from None


class TooDeep(ValueError):
    """TOML nested deeper than ``MAX_DEPTH``; ``line`` is where, if known (else 0)."""

    def __init__(self, line: int = 0) -> None:
        super().__init__(f"tables or lists nested more than {MAX_DEPTH} levels deep")
        self.line = line


_QUOTED = re.compile(r""""(?:[^"\\]|\\.)*"|'[^']*'""")
_BETWEEN_KEYS = re.compile(r"[=,{}\[\]]")


def loads(text: str) -> dict[str, Any]:
    """``tomllib.loads(text)``, or ``TooDeep`` for data nested more than ``MAX_DEPTH``
    deep. Deep keys are refused before parsing, as tomllib's time grows with the square
    of a dotted key's length (25 s for one of 40,000 parts); lists nested a thousand
    deep overflow its recursion."""
    for number, line in enumerate(text.splitlines(), 1):
        # Keys, headers and plain values, without quoted text and comments: a value has
        # one dot at most (1.5), a dotted key one for each table it opens. (A line of
        # prose in a multi-line string could pass for a deep key: nothing read here has one.)
        pieces = _BETWEEN_KEYS.split(_QUOTED.sub("", line).split("#", 1)[0])
        if max(piece.count(".") for piece in pieces) > MAX_DEPTH:
            raise TooDeep(number)
    try:
        data = tomllib.loads(text)
    except RecursionError:
        raise TooDeep() from None
    if depth(data) - 1 > MAX_DEPTH:  # the document itself is a table
        raise TooDeep()
    return data


def depth(value: Any) -> int:
    """How many tables and lists ``value`` has inside each other (0 for a plain value)."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, level + 1)
            stack += [(v, level + 1) for v in (item.values() if isinstance(item, dict) else item)]
    return deepest


_TABLE = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(?:#.*)?$")
_KEY = re.compile(r"""^\s*("[^"]*"|'[^']*'|[A-Za-z0-9_.\- ]+?)\s*=""")


def _parts(dotted: str) -> list[str]:
    return [p.strip().strip("\"'") for p in re.split(r"\.(?=(?:[^\"']*[\"'][^\"']*[\"'])*[^\"']*$)",
                                                   dotted)]


def line_of(text: str, key: str) -> int | None:
    """The line (from 1) that sets the dotted ``key`` or opens its table, if found."""
    want = key.split(".")
    table: list[str] = []
    for number, line in enumerate(text.splitlines(), 1):
        header = _TABLE.match(line)
        if header:
            table = _parts(header[1])
            if table == want:
                return number
            continue
        found = _KEY.match(line)
        if found and table + _parts(found[1]) == want:
            return number
    return None


def check(doc: Document, key: str, value: Any, kind: str, allowed: str,
          error: type[TreAudioError]) -> Any:
    """``value`` if it is of ``kind`` (text, number, whole number, true/false, list of
    text), else an ``error`` naming the line and saying what is ``allowed``."""
    fits = {
        "text": isinstance(value, str),
        "true or false": isinstance(value, bool),
        "a whole number": isinstance(value, int) and not isinstance(value, bool),
        "a number": isinstance(value, int | float) and not isinstance(value, bool)
        and math.isfinite(value),
        "a list of text": isinstance(value, list) and all(isinstance(v, str) for v in value),
    }[kind]
    if not fits:
        raise error(f"{doc.where(key)}: {key} must be {_article(kind)}: {allowed}")
    return value


def option_of(doc: Document, written: str, value: Any, keys: Mapping[str, table.Option],
              error: type[TreAudioError], what: str, also: str = "") -> table.Option:
    """The option of the table a ``what`` (plan, profile) sets with key ``written`` (an
    older name read as the new), its ``value`` checked for its kind; else an ``error``
    naming the line and the keys it may set (and ``also``)."""
    key = table.OLD_KEYS.get(written, written)
    if key not in keys:
        raise error(f"{doc.where(written)}: unknown key '{written}'; a {what} may set: "
                    f"{', '.join(keys)}{also}")
    if key != written and key in doc.data:
        raise error(f"{doc.where(written)}: '{written}' is the older name of '{key}', "
                    f"which is also given: keep one")
    option = keys[key]
    check(doc, written, value, option.kind, option.allowed, error)
    return option


def _article(kind: str) -> str:
    return {"text": "text", "true or false": "true or false"}.get(kind, kind)


def toml_value(value: Any) -> str:
    """``value`` written as TOML (text, numbers, true/false, lists of text)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return f"{value:g}" if isinstance(value, float) else str(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    return "[" + ", ".join(toml_value(v) for v in value) + "]"
