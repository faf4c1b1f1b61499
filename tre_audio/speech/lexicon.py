"""A pronunciation lexicon: words respelled before the voice speaks them.

A lexicon is a TOML file of ``word = "respelling"`` pairs::

    Berceli = "ber chelly"
    TRE = "T R E"
    psoas = "so ass"
    "find a helpline" = "find a help line"

Each sentence is respelled just before it is spoken. A word matches whole (not inside
another word) and in any case; a key of several words matches them with any spacing
between; where keys overlap, the longest wins. The respelling replaces the match as
written. Only the speech changes: transcripts and subtitles keep the written text.

Case is compared letter by letter in lower case (a letter whose lower case is two, such
as the dotted capital İ, matches only itself). A lexicon file holds at most ``MAX_BYTES``
(some 50,000 entries). Entries are indexed by the word they begin with, so a sentence
costs about its words whatever the lexicon's size (one regular expression of all the keys
took 46 s for a 15-minute session's sentences at 10,000 keys, and minutes at 40,000).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from datetime import date, datetime, time
from importlib.resources import files
from pathlib import Path

import platformdirs

from ..files import inputs, tomlfile
from ..errors import InvalidOption, LexiconError

FILE_NAME = "lexicon.toml"
MAX_BYTES = 1_000_000
FORMAT = 'each entry is word = "respelling", e.g. psoas = "so ass"'
FORBIDDEN = "[]#"
"""Characters a respelling may not hold (they are cue and comment marks in a script)."""


def default_path() -> Path:
    """``lexicon.toml`` in the user's config folder (``~/.config/tre-audio`` on Linux)."""
    return Path(platformdirs.user_config_dir("tre-audio")) / FILE_NAME


def _normal(word: str) -> str:
    """The form two keys are compared in: case folded, spacing collapsed."""
    return " ".join(word.split()).casefold()


def _problem(word: str, respelling: str) -> str | None:
    """What is wrong with one entry, or None."""
    if not word.strip():
        return f"an empty word; {FORMAT}"
    if not respelling.strip():
        return f"'{word}' has an empty respelling; {FORMAT}"
    bad = [c for c in FORBIDDEN if c in respelling]
    if bad or any(not c.isprintable() for c in respelling):
        shown = f"'{bad[0]}'" if bad else "a line break or control character"
        return (f"the respelling of '{word}' contains {shown}; a respelling is one line of "
                f"text without {', '.join(FORBIDDEN[:-1])} or {FORBIDDEN[-1]}")
    return None


def _first_problem(entries: Mapping[str, str]) -> tuple[str, str] | None:
    """The first entry that cannot be used, with what is wrong with it."""
    seen: dict[str, str] = {}
    for word, respelling in entries.items():
        problem = _problem(word, respelling)
        if problem is None and _normal(word) in seen:
            problem = f"'{word}' repeats '{seen[_normal(word)]}'; a word may be listed once"
        if problem:
            return word, problem
        seen[_normal(word)] = word
    return None


_LEAD = re.compile(r"\w+")
_WORD_CHARACTER = re.compile(r"\w")
_SPACING = re.compile(r"\s+")


def _fold(text: str) -> str:
    """``text`` in lower case, character for character (a character whose lower case is
    longer, such as U+0130, is kept as it is), so that positions in it are the text's."""
    lowered = text.lower()
    if len(lowered) == len(text):
        return lowered
    return "".join(c.lower() if len(c.lower()) == 1 else c for c in text)


class Lexicon:
    """Respellings by word; calling it respells a sentence."""

    def __init__(self, entries: Mapping[str, str], source: Path | None = None) -> None:
        wrong = _first_problem(entries)
        if wrong:
            raise LexiconError(f"lexicon {source}: {wrong[1]}" if source else wrong[1])
        self.source = source
        self.entries = dict(entries)
        # Keys by where a match can start: the run of word characters a key begins with
        # (a match starts where such a run does, and the run is the key's), or its first
        # character if that is not a word character; each list longest key first.
        self._index: dict[str, list[tuple[tuple[str, ...], str]]] = {}
        for word in sorted(self.entries, key=lambda w: (-len(_normal(w)), _normal(w))):
            parts = tuple(_fold(part) for part in word.split())
            lead = _LEAD.match(parts[0])
            self._index.setdefault(lead[0] if lead else parts[0][0], []).append(
                (parts, self.entries[word]))
        others = "".join(k for k in self._index if not _WORD_CHARACTER.match(k))
        self._starts = re.compile(r"(?<!\w)(?:\w+" + (f"|[{re.escape(others)}]" if others
                                                       else "") + ")")

    def __call__(self, text: str) -> str:
        """``text`` with every listed word replaced by its respelling."""
        if not self._index:
            return text
        folded = _fold(text)
        out: list[str] = []
        done = at = 0
        while found := self._starts.search(folded, at):
            at = found.end()
            for parts, respelling in self._index.get(found[0], ()):
                end = _match(folded, found.start(), parts)
                if end is not None:
                    out += [text[done:found.start()], respelling]
                    done = at = end
                    break
        return "".join(out) + text[done:]

    def __len__(self) -> int:
        return len(self.entries)

    def __repr__(self) -> str:
        return f"Lexicon({len(self)} entries from {self.source})"


def _match(folded: str, start: int, parts: tuple[str, ...]) -> int | None:
    """Where the key of ``parts`` ends if it matches ``folded`` at ``start``: its words
    with any spacing between, and no word character after."""
    at = start
    for number, part in enumerate(parts):
        if number:
            spacing = _SPACING.match(folded, at)
            if not spacing:
                return None
            at = spacing.end()
        if not folded.startswith(part, at):
            return None
        at += len(part)
    return None if _WORD_CHARACTER.match(folded, at) else at


def load(path: Path) -> Lexicon:
    """Read the lexicon at ``path`` (a regular file of at most ``MAX_BYTES``); a
    ``LexiconError`` names the file and the line."""
    data = inputs.read_file(path, MAX_BYTES, "lexicon", LexiconError)
    try:
        text = tomlfile.decode(data)
    except tomlfile.NotUtf8 as error:
        raise LexiconError(f"lexicon {path}, line {error.line}: not UTF-8 text; save it as "
                           "UTF-8") from None
    try:
        table = tomlfile.loads(text)
    except tomllib.TOMLDecodeError as error:
        # tomllib says where: "(at line 3, column 7)", or "(at end of document)"
        told = str(error).replace("end of document", f"the end, line {len(text.splitlines())}")
        raise LexiconError(f"lexicon {path} is not valid TOML: {told}; {FORMAT} (quote a "
                           f"key of several words)") from None
    except tomlfile.TooDeep as error:
        at = f", line {error.line}" if error.line else ""
        raise LexiconError(f"lexicon {path}{at}: {error}; {FORMAT}") from None

    def where(word: str) -> str:
        line = _line_of(text, word)
        return f"lexicon {path}, line {line}" if line else f"lexicon {path}"

    for word, respelling in table.items():
        if not isinstance(respelling, str):
            raise LexiconError(f"{where(word)}: the value of '{word}' is {_kind(respelling)}, "
                               f"not a string; {FORMAT}")
    wrong = _first_problem(table)
    if wrong:
        raise LexiconError(f"{where(wrong[0])}: {wrong[1]}")
    return Lexicon(table, path)


def shipped(voice: str, language: str = "en") -> Lexicon:
    """tre-audio's own respellings: those for its texts in ``language`` (the primary
    part: ``en``), every voice's (``lexicons/LANGUAGE.toml``), and over them those for
    ``voice`` alone (``lexicons/VOICE.toml``: a word it says wrongly), where there are."""
    entries: dict[str, str] = {}
    for name in (language.split("-")[0].lower(), voice):
        found = files(__package__).joinpath("lexicons", f"{name}.toml")
        if name and found.is_file():
            entries.update(tomllib.loads(found.read_text(encoding="utf-8")))
    return Lexicon(entries)


def layered(lower: Lexicon, upper: Lexicon | None) -> Lexicon:
    """One lexicon: ``upper``'s respellings where both have a word, else ``lower``'s."""
    if upper is None:
        return Lexicon(lower.entries, lower.source)
    mine = {_normal(word) for word in upper.entries}
    entries = {w: r for w, r in lower.entries.items() if _normal(w) not in mine}
    return Lexicon({**entries, **upper.entries}, upper.source)


def find(path: Path | None) -> Lexicon | None:
    """The lexicon at ``path`` if given (it must exist), else the user's own
    (``default_path()``) if there is one, else None."""
    if path is not None:
        if not path.exists():
            raise InvalidOption("--lexicon", f"lexicon file does not exist: {path}")
        if path.is_dir():
            raise InvalidOption("--lexicon", f"lexicon path is a folder: {path}")
        return load(path)
    mine = default_path()
    return load(mine) if mine.exists() else None


def _kind(value: object) -> str:
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, (date, datetime, time)):
        return "a date or time"
    if isinstance(value, list):
        return "a list"
    return "a table"


_KEY = r"""(?:[A-Za-z0-9_-]+|"(?:[^"\\\n]|\\.)*"|'[^'\n]*')"""
_DOTTED = rf"{_KEY}(?:\s*\.\s*{_KEY})*"
_ASSIGNMENT = re.compile(rf"^\s*(?P<key>{_DOTTED})\s*=")
_HEADER = re.compile(rf"^\s*\[\[?\s*(?P<key>{_DOTTED})\s*\]")


def _line_of(text: str, word: str) -> int:
    """The line where top-level key ``word`` is first set (as ``word = ...``,
    ``word.x = ...`` or a ``[word]`` table); 0 if it cannot be told."""
    in_table = False
    for number, line in enumerate(text.splitlines(), start=1):
        header = _HEADER.match(line)
        assignment = None if header or in_table else _ASSIGNMENT.match(line)
        found = header or assignment
        if header:
            in_table = True
        if found and _first_part(found["key"]) == word:
            return number
    return 0


def _first_part(key: str) -> str | None:
    """The first part of a (dotted) TOML key as it reads, decoded by tomllib itself."""
    try:
        return next(iter(tomllib.loads(f"{key} = 0")))
    except (tomllib.TOMLDecodeError, StopIteration):
        return None
