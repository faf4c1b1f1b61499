"""The narration script: plain text with cues, parsed into a list of events.

A script is what a person reads and edits. Narration is ordinary text; a line that
starts with ``[`` is a cue; a line that starts with ``#`` is a comment. A cue line may
end with a ``# comment`` (the ``script`` command puts planned timings there).

    [chapter: Ankle rolls]     start a chapter (one ID3 chapter in the MP3)
    [bell]                     a soft bell
    [pause 4s]                 silence; also ``1.5 min`` or ``2 breaths``
    [hold 60-120s]             a flexible hold: any length in the range, chosen to
                               fit the session; ``[hold 45s]`` is a fixed hold

Narration lines that follow each other form a paragraph, so long sentences may be
wrapped; each sentence is spoken as its own clip.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from .errors import ScriptError

MAX_HOLD_SECONDS = 30 * 60  # the brief's ceiling for any self-practice tremor phase
MAX_PAUSE_SECONDS = 10 * 60

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
_CHAPTER = re.compile(r"^chapter\s*:\s*(?P<title>\S.*?)\s*$")
_AMOUNT = re.compile(
    rf"^(?P<kind>pause|hold)\s+(?P<low>{_NUMBER})(?:\s*-\s*(?P<high>{_NUMBER}))?"
    r"\s*(?P<unit>[a-z]+)$"
)
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\u201d\u2019]?\s+")

CUE_HELP = (
    "expected [chapter: Title], [bell], [pause N s|min|breaths] "
    "or [hold N-M s|min|breaths]"
)


@dataclass(frozen=True)
class Chapter:
    title: str
    line: int


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


Event = Chapter | Bell | Say | Pause | Hold


def split_sentences(paragraph: str) -> list[str]:
    """Split a paragraph into sentences at ``.``, ``!`` or ``?`` followed by a space."""
    text = " ".join(paragraph.split())
    return [s.strip() for s in _SENTENCE_END.split(text) if s.strip()]


def parse(text: str, source: str = "script") -> list[Event]:
    """Parse script text into events; errors name ``source`` and the line."""
    events: list[Event] = []
    paragraph: list[str] = []
    paragraph_line = 0

    def flush() -> None:
        for sentence in split_sentences(" ".join(paragraph)):
            events.append(Say(sentence, paragraph_line))
        paragraph.clear()

    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            flush()
            continue
        if line.startswith("["):
            flush()
            event = _parse_cue(line, number, source)
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
        if not paragraph:
            paragraph_line = number
        paragraph.append(line)
    flush()

    if not events:
        raise ScriptError(f"{source} is empty: it holds no chapters or narration")
    if not any(isinstance(e, Say) for e in events):
        raise ScriptError(f"{source} has no narration to speak")
    return events


def _parse_cue(line: str, number: int, source: str) -> Event:
    def bad(why: str) -> ScriptError:
        return ScriptError(f"{source}, line {number}: {why}: {line}")

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
        return Chapter(chapter["title"], number)
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


def read(path: Path) -> list[Event]:
    """Read and parse a script file."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ScriptError(f"script file not found: {path}") from None
    except IsADirectoryError:
        raise ScriptError(f"script path is a folder, not a file: {path}") from None
    except OSError as error:
        raise ScriptError(f"cannot read script {path}: {error.strerror}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ScriptError(f"script {path} is not UTF-8 text") from None
    return parse(text, source=str(path))


def format_amount(amount: float, unit: str) -> str:
    """``90`` seconds as ``90s``, ``2`` breaths as ``2 breaths``."""
    number = f"{amount:g}"
    if unit == "breath":
        return f"{number} breath" if amount == 1 else f"{number} breaths"
    return f"{number}s"


def format_event(event: Event) -> str:
    """The script line for one event (narration sentences are returned as they are)."""
    match event:
        case Chapter(title=title):
            return f"[chapter: {title}]"
        case Bell():
            return "[bell]"
        case Say(text=text):
            return text
        case Pause(amount=amount, unit=unit):
            return f"[pause {format_amount(amount, unit)}]"
        case Hold(low=low, high=high, unit=unit) if low == high:
            return f"[hold {format_amount(low, unit)}]"
        case Hold(low=low, high=high, unit=unit):
            return f"[hold {low:g}-{format_amount(high, unit)}]"
    raise TypeError(event)
