"""The narration script: plain text with cues, parsed into a list of events.

A script is what a person reads and edits. Narration is ordinary text; a line that
starts with ``[`` is a cue; a line that starts with ``#`` is a comment. A cue line may
end with a ``# comment`` (the ``script`` command puts planned timings there).

    [chapter: Ankle rolls]     start a chapter (one ID3 chapter in the MP3)
    [chapter tremor: Tremor]   the chapter of the shaking phase (one a script): its
                               holds are the tremor time the practice record keeps
    [bell]                     a soft bell
    [pause 4s]                 silence; also ``1.5 min`` or ``2 breaths``
    [hold 60-120s]             a flexible hold: any length in the range, chosen to
                               fit the session; ``[hold 45s]`` is a fixed hold
    [breathe in 4s]            one phase of paced breathing, sounded by a soft tone:
    [breathe hold 7s]          ``in`` glides up, ``out`` glides down, ``hold`` is
    [breathe out 8s]           silent. Its length is exact, in seconds: no pace
                               scales it and fitting the session never changes it.
    [breathe in 4s: in, two, three, four]
                               the same phase, counted by the voice: the words after
                               the colon, one to three words each, are spoken at
                               even steps across the phase, the first as it begins

Narration lines that follow each other form a paragraph, so long sentences may be
wrapped; each sentence is spoken as its own clip.

A script is plain text: a byte-order mark is ignored, U+2028 and U+2029 break a line
(errors still count lines as an editor does), other control characters are dropped, and
a NUL is an error. Text in brackets that would be a cue on a line of its own, such as
``(pause 5s)`` in narration, is read aloud as written, with a warning.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from ..files import inputs
from ..errors import ScriptError, TreAudioWarning

MAX_HOLD_SECONDS = 30 * 60  # the brief's ceiling for any self-practice tremor phase
MAX_PAUSE_SECONDS = 10 * 60
BREATH_PHASES = ("in", "hold", "out")
MIN_PHASE_SECONDS = 0.5
MAX_PHASE_SECONDS = 30.0
"""The shortest phase (a top-up sip of air) and the longest (a long hold or breath out)."""
MIN_COUNT_SECONDS = 0.6
"""Counted words are at least this far apart, so each is said before the next."""
MAX_COUNT_WORDS = 3
MAX_SCRIPT_BYTES = 1_000_000
MAX_SENTENCE = 1000
"""Characters in one sentence (and in a chapter title or a counted word): a voice given
far more tries to hold all of it in memory at once."""
SENTENCE_RULE = (f"a sentence may be at most {MAX_SENTENCE:,} characters (end each with "
                 ". ! or ?)")

_UNITS = {
    "s": ("s", 1.0),
    "sec": ("s", 1.0),
    "second": ("s", 1.0),
    "seconds": ("s", 1.0),
    "min": ("s", 60.0),
    "minute": ("s", 60.0),
    "minutes": ("s", 60.0),
    "breath": ("breath", 1.0),
    "breaths": ("breath", 1.0),
}
_NUMBER = r"\d+(?:\.\d+)?"
_CUE = re.compile(r"^\[\s*(?P<body>[^\]]*)\]\s*(?:#.*)?$")
_CHAPTER = re.compile(r"^chapter(?P<tremor>\s+tremor)?\s*:\s*(?P<title>\S.*?)\s*$",
                      re.IGNORECASE)
_AMOUNT = re.compile(
    rf"^(?P<kind>pause|hold)\s+(?P<low>{_NUMBER})(?:\s*-\s*(?P<high>{_NUMBER}))?"
    r"\s*(?P<unit>[a-z]+)$"
)
_BREATHE = re.compile(
    rf"^breathe\s+(?P<phase>[a-z-]+)\s+(?P<amount>{_NUMBER})\s*(?P<unit>[a-z]+)"
    r"\s*(?::(?P<counts>.*))?$",
    re.IGNORECASE,
)
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\u201d\u2019]?\s+")
_LINE_END = re.compile(r"\r\n|\r|\n")
_SEPARATOR = re.compile("[\u2028\u2029]")
_BRACKETED = re.compile(r"\(([^()]*)\)|\{([^{}]*)\}|<([^<>]*)>|\[([^\[\]]*)\]")
_DROPPED = {c: None for c in (*range(0x20), *range(0x7F, 0xA0)) if chr(c) not in "\t\n\r"}
_DROPPED.update({c: " " for c in _DROPPED if chr(c).isspace()})
_DROPPED.update(dict.fromkeys((0xFEFF, 0xFFFE, 0xFFFF)))

CUE_HELP = (
    "expected [chapter: Title], [chapter tremor: Title], [bell], [pause N s|min|breaths], "
    "[hold N-M s|min|breaths] or [breathe in|hold|out N s: optional, counted, words]"
)


@dataclass(frozen=True)
class Chapter:
    title: str
    line: int
    tremor: bool = False
    """The chapter of the shaking phase."""


@dataclass(frozen=True)
class Bell:
    line: int


@dataclass(frozen=True)
class Say:
    """One sentence of narration."""

    text: str
    line: int


@dataclass(frozen=True)
class Pause:
    """Silence of ``amount`` seconds or breaths."""

    amount: float
    unit: str
    line: int


@dataclass(frozen=True)
class Hold:
    """Silence anywhere from ``low`` to ``high`` (seconds or breaths) to fit the length."""

    low: float
    high: float
    unit: str
    line: int

    @property
    def flexible(self) -> bool:
        return self.high > self.low


@dataclass(frozen=True)
class Breathe:
    """One phase of paced breathing: ``phase`` (in, hold or out) for exactly
    ``seconds``, with ``counts`` spoken at even steps across it (none: tones alone)."""

    phase: str
    seconds: float
    line: int
    counts: tuple[str, ...] = ()


Event = Chapter | Bell | Say | Pause | Hold | Breathe


def spoken(events: Sequence[Event]) -> list[str]:
    """Every text the voice speaks: sentences and counted words, in order, once each."""
    texts: list[str] = []
    for event in events:
        if isinstance(event, Say):
            texts.append(event.text)
        elif isinstance(event, Breathe):
            texts += event.counts
    return list(dict.fromkeys(texts))


def split_sentences(paragraph: str) -> list[str]:
    """Split a paragraph into sentences at ``.``, ``!`` or ``?`` followed by a space."""
    text = " ".join(paragraph.split())
    return [s.strip() for s in _SENTENCE_END.split(text) if s.strip()]


def clean(text: str) -> str:
    """``text`` without what plain text should not hold: control characters other than
    tab and line ends are dropped (those that are spacing become a space), as are
    byte-order marks and the non-characters U+FFFE and U+FFFF."""
    return text.translate(_DROPPED)


def one_line(text: str) -> str:
    """``text`` cleaned, on one line, its spacing collapsed (for a name taken from a
    file, such as a script's or a plan's); bytes of a file name that were not UTF-8
    become U+FFFD, as they would in a file manager."""
    return " ".join(clean(_SURROGATE.sub("\ufffd", text)).split())


_SURROGATE = re.compile("[\ud800-\udfff]")


def _lines(text: str) -> Iterator[tuple[int, str]]:
    """Each line of ``text`` with its number as an editor counts them; U+2028 and
    U+2029 break a line too, within the same numbered line."""
    for number, physical in enumerate(_LINE_END.split(text), start=1):
        for line in _SEPARATOR.split(physical):
            yield number, line


def parse(text: str, source: str = "script") -> list[Event]:
    """Parse script text into events; errors name ``source`` and the line."""
    if "\0" in text:
        at = len(_LINE_END.findall(text, 0, text.index("\0"))) + 1
        raise ScriptError(f"{source}, line {at}: a NUL character, which plain text never "
                          "holds; save it as UTF-8 text")
    events: list[Event] = []
    paragraph: list[str] = []
    paragraph_line = 0

    def flush() -> None:
        for sentence in split_sentences(" ".join(paragraph)):
            if len(sentence) > MAX_SENTENCE:
                raise ScriptError(f"{source}, line {paragraph_line}: a sentence of "
                                  f"{len(sentence):,} characters; {SENTENCE_RULE}")
            events.append(Say(sentence, paragraph_line))
        paragraph.clear()

    for number, raw in _lines(clean(text)):
        line = raw.strip()
        if not line or line.startswith("#"):
            flush()
            continue
        if line.startswith("["):
            flush()
            event = _parse_cue(line, number, source)
            if isinstance(event, Chapter) and event.tremor and any(
                isinstance(e, Chapter) and e.tremor for e in events
            ):
                raise ScriptError(f"{source}, line {number}: a second [chapter tremor: ...]; "
                                  "a session has one shaking phase")
            if not isinstance(event, Chapter) and not any(
                isinstance(e, Chapter) for e in events
            ):
                raise ScriptError(
                    f"{source}, line {number}: a cue before the first [chapter: ...]"
                )
            events.append(event)
            continue
        if not any(isinstance(e, Chapter) for e in events):
            raise ScriptError(
                f"{source}, line {number}: narration before the first [chapter: ...]"
            )
        _warn_of_cues_in(line, number, source)
        if not paragraph:
            paragraph_line = number
        paragraph.append(line)
    flush()

    if not events:
        raise ScriptError(f"{source} is empty: it holds no chapters or narration")
    if not any(isinstance(e, Say) for e in events):
        raise ScriptError(f"{source} has no narration to speak")
    return events


def _warn_of_cues_in(line: str, number: int, source: str) -> None:
    """Warn of text in a narration line that reads as a cue, such as ``(pause 5s)``:
    it is spoken as written, which is rarely what was meant."""
    for found in _BRACKETED.finditer(line):
        body = " ".join(next(g for g in found.groups() if g is not None).split())
        try:
            _parse_cue(f"[{body}]", number, source)
        except ScriptError:
            continue
        warnings.warn(TreAudioWarning(
            f"{source}, line {number}: '{found[0]}' looks like a cue but is read aloud; a "
            f"cue is a line of its own in square brackets: [{body}]"), stacklevel=3)


def _shown(line: str, most: int = 80) -> str:
    """``line`` as an error message quotes it: cut short if long."""
    return line if len(line) <= most else line[: most - 3] + "..."


def _parse_cue(line: str, number: int, source: str) -> Event:
    def bad(why: str) -> ScriptError:
        return ScriptError(f"{source}, line {number}: {why}: {_shown(line)}")

    match = _CUE.match(line)
    if not match:
        raise bad(f"malformed cue ({CUE_HELP})")
    body = " ".join(match["body"].split()).lower()
    if body == "bell":
        return Bell(number)
    if body.startswith("chapter"):
        chapter = _CHAPTER.match(" ".join(match["body"].split()))
        if not chapter:
            raise bad("a chapter needs a title, as in [chapter: Ankle rolls]")
        if len(chapter["title"]) > MAX_SENTENCE:
            raise bad(f"a chapter title may be at most {MAX_SENTENCE:,} characters")
        return Chapter(chapter["title"], number, chapter["tremor"] is not None)
    if body.startswith("breathe"):
        return _parse_breathe(" ".join(match["body"].split()), number, bad)
    amount = _AMOUNT.match(body)
    if not amount:
        raise bad(f"malformed cue ({CUE_HELP})")
    if amount["unit"] not in _UNITS:
        raise bad("unknown unit (use s, min or breaths)")
    unit, scale = _UNITS[amount["unit"]]
    low = float(amount["low"]) * scale
    high = float(amount["high"]) * scale if amount["high"] else low
    seconds_high = high if unit == "s" else high * 6.0  # a slow breath, at most
    if low <= 0 or high < low:
        raise bad("the amount must be above zero and a range must go low-high")
    if amount["kind"] == "pause":
        if amount["high"]:
            raise bad("a pause has one length; use [hold N-M ...] for a range")
        if seconds_high > MAX_PAUSE_SECONDS:
            raise bad("a pause may last at most 10 minutes")
        return Pause(low, unit, number)
    if seconds_high > MAX_HOLD_SECONDS:
        raise bad("a hold may last at most 30 minutes")
    return Hold(low, high, unit, number)


def _parse_breathe(body: str, number: int, bad: Callable[[str], ScriptError]) -> Breathe:
    """``breathe PHASE N s`` with optional ``: counted, words`` (``body`` as written)."""
    found = _BREATHE.match(body)
    if not found:
        raise bad("a breathing phase is written [breathe in 4s], [breathe hold 7s] or "
                  "[breathe out 8s], counted with [breathe in 4s: in, two, three, four]")
    phase = found["phase"].lower()
    if phase not in BREATH_PHASES:
        raise bad(f"unknown breathing phase '{phase}' (use in, hold or out)")
    unit = found["unit"].lower()
    if _UNITS.get(unit) != ("s", 1.0):
        raise bad("a breathing phase is timed in seconds, as in [breathe in 4s]")
    seconds = float(found["amount"])
    if not MIN_PHASE_SECONDS <= seconds <= MAX_PHASE_SECONDS:
        raise bad(f"a breathing phase lasts {MIN_PHASE_SECONDS:g} to "
                  f"{MAX_PHASE_SECONDS:g} seconds")
    counts: tuple[str, ...] = ()
    if found["counts"] is not None:
        counts = tuple(" ".join(c.split()) for c in found["counts"].split(","))
        if not all(counts):
            raise bad("counted words go after the colon, separated by commas, none empty")
        if any(len(c.split()) > MAX_COUNT_WORDS or len(c) > MAX_SENTENCE for c in counts):
            raise bad(f"each count is one to {MAX_COUNT_WORDS} words")
        if seconds / len(counts) < MIN_COUNT_SECONDS:
            raise bad(f"too many counts: at most one every {MIN_COUNT_SECONDS:g} seconds")
    return Breathe(phase, seconds, number, counts)


def read(path: Path) -> list[Event]:
    """Read and parse a script file (a regular file of at most ``MAX_SCRIPT_BYTES``)."""
    data = inputs.read_file(path, MAX_SCRIPT_BYTES, "script", ScriptError)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ScriptError(f"script {path} is not UTF-8 text") from None
    return parse(text, source=str(path))


def format_number(value: float) -> str:
    """``value`` to 12 significant digits and never with an exponent, which a cue cannot
    read: so a printed script parses back to the same amounts (``:g`` kept only 6)."""
    text = f"{value:.12g}"
    return format(Decimal(text), "f") if "e" in text else text


def format_amount(amount: float, unit: str) -> str:
    """``90`` seconds as ``90s``, ``2`` breaths as ``2 breaths``."""
    number = format_number(amount)
    if unit == "breath":
        return f"{number} breath" if amount == 1 else f"{number} breaths"
    return f"{number}s"


def format_event(event: Event) -> str:
    """The script line for one event (narration sentences are returned as they are)."""
    match event:
        case Chapter(title=title, tremor=tremor):
            return f"[chapter{' tremor' if tremor else ''}: {title}]"
        case Bell():
            return "[bell]"
        case Say(text=text):
            return text
        case Pause(amount=amount, unit=unit):
            return f"[pause {format_amount(amount, unit)}]"
        case Hold(low=low, high=high, unit=unit) if low == high:
            return f"[hold {format_amount(low, unit)}]"
        case Hold(low=low, high=high, unit=unit):
            return f"[hold {format_number(low)}-{format_amount(high, unit)}]"
        case Breathe(phase=phase, seconds=seconds, counts=counts):
            words = f": {', '.join(counts)}" if counts else ""
            return f"[breathe {phase} {format_number(seconds)}s{words}]"
    raise TypeError(event)
