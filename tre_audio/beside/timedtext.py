"""Timed text beside each MP3: WebVTT and SRT subtitles, and a JSON timeline."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ..files.inputs import read_bytes
from ..narration.plan import Plan

WRAP_AT = 80
"""Sentences longer than this many characters are shown on two lines."""
FORMAT_NAME = "tre-audio manifest"
"""The timeline's format, whatever its version: what the library takes for a session's."""
FORMAT = f"{FORMAT_NAME} 2"


MANIFEST_MOST = 50_000_000
"""The largest timeline read to tell whether it is one (a 3-hour session's is 2 MB)."""


def is_manifest(path: Path) -> bool:
    """Whether ``path`` is a session's timeline (a regular file, JSON, of this format)."""
    try:
        data = json.loads(read_bytes(path, MANIFEST_MOST))
    except (OSError, ValueError, RecursionError):
        return False
    return isinstance(data, dict) and str(data.get("format", "")).startswith(FORMAT_NAME)


@dataclass(frozen=True)
class _Cue:
    start: int
    """Milliseconds."""
    end: int
    lines: tuple[str, ...]
    chapter: int


def milliseconds(seconds: float) -> int:
    """``seconds`` rounded once to whole milliseconds, never below zero."""
    return max(0, round(seconds * 1000))


def _timestamp(ms: int, separator: str) -> str:
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}{separator}{millis:03d}"


def wrap(text: str, width: int = WRAP_AT) -> list[str]:
    """``text`` on one line, or on two split at the space nearest its middle."""
    line = " ".join(text.split())
    spaces = [i for i, char in enumerate(line) if char == " "]
    if len(line) <= width or not spaces:
        return [line]
    cut = min(spaces, key=lambda i: abs(2 * i - len(line)))
    return [line[:cut], line[cut + 1 :]]


def _cues(plan: Plan) -> list[_Cue]:
    """One cue per spoken sentence; a sentence with no text has none."""
    return [
        _Cue(milliseconds(s.start), milliseconds(s.end), tuple(wrap(s.text)), s.chapter)
        for s in plan.segments
        if s.kind == "speech" and s.text.strip()
    ]


def _no_arrow(text: str) -> str:
    # "-->" separates cue times; inside text it would end a NOTE or confuse SRT parsers.
    return text.replace("-->", "->")


def webvtt(plan: Plan) -> str:
    """The spoken sentences as WebVTT cues, with a NOTE where each chapter begins."""
    blocks = ["WEBVTT"]
    noted = 0
    for cue in _cues(plan):
        while noted <= cue.chapter and noted < len(plan.chapters):
            blocks.append(f"NOTE {noted + 1}. {_no_arrow(plan.chapters[noted].title)}")
            noted += 1
        text = "\n".join(
            line.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            for line in cue.lines
        )
        times = f"{_timestamp(cue.start, '.')} --> {_timestamp(cue.end, '.')}"
        blocks.append(f"{times}\n{text}")
    return "\n\n".join(blocks) + "\n"


def srt(plan: Plan) -> str:
    """The spoken sentences as SRT cues, numbered from 1."""
    blocks = [
        f"{number}\n{_timestamp(cue.start, ',')} --> {_timestamp(cue.end, ',')}\n"
        + "\n".join(_no_arrow(line) for line in cue.lines)
        for number, cue in enumerate(_cues(plan), start=1)
    ]
    return "\n\n".join(blocks) + "\n" if blocks else ""


def manifest(
    plan: Plan, *, title: str, audio: str, extra: Mapping[str, object] | None = None
) -> str:
    """The session's timeline as JSON; ``extra`` adds keys such as the settings used.

    Times are in seconds, rounded to milliseconds. A segment's ``chapter`` is its
    chapter's title (null before the first chapter); only speech carries ``text``, and
    only a phase of paced breathing (kind ``breathe``) its ``phase``: in, hold or out.
    Subtitles leave the phases out; words counted over them are speech.
    ``chimes`` are the times of the interval chimes rung inside long holds.
    """

    def seconds(value: float) -> float:
        return milliseconds(value) / 1000

    def chapter_title(index: int) -> str | None:
        return plan.chapters[index].title if 0 <= index < len(plan.chapters) else None

    document: dict[str, object] = {
        "format": FORMAT,
        "title": title,
        "audio": audio,
        "duration": seconds(plan.duration),
    }
    clashes = sorted(set(extra or {}) & {*document, "chapters", "segments", "chimes"})
    if clashes:
        raise ValueError(f"extra keys would replace the manifest's own: {', '.join(clashes)}")
    document.update(extra or {})
    document["chapters"] = [
        {"index": i, "title": c.title, "start": seconds(c.start), "end": seconds(c.end),
         **({"tremor": True} if c.tremor else {})}
        for i, c in enumerate(plan.chapters)
    ]
    segments: list[dict[str, object]] = []
    for s in plan.segments:
        row: dict[str, object] = {
            "start": seconds(s.start),
            "end": seconds(s.end),
            "kind": s.kind,
            "chapter": chapter_title(s.chapter),
        }
        if s.kind == "speech":
            row["text"] = s.text
        if s.kind == "breathe":
            row["phase"] = s.phase
        segments.append(row)
    document["segments"] = segments
    document["chimes"] = [seconds(t) for t in plan.chimes]
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


@dataclass(frozen=True)
class Caption:
    """One cue read back from a WebVTT file: times in seconds and its text."""

    start: float
    end: float
    text: str


def _seconds(stamp: str) -> float:
    """``hh:mm:ss.ttt`` or ``mm:ss.ttt`` as seconds; ValueError if it is neither."""
    parts = stamp.strip().split(":")
    if len(parts) not in (2, 3) or "." not in parts[-1]:
        raise ValueError(stamp)
    total = 0.0
    for part in parts[:-1]:
        total = total * 60 + int(part)
    return total * 60 + float(parts[-1])


def read_webvtt(text: str) -> list[Caption]:
    """The cues of a WebVTT file (as ``webvtt`` writes them), lines joined by a space.

    NOTE blocks and anything that is not a cue are skipped; entities are unescaped.
    """
    captions = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        lines = [line for line in block.split("\n") if line.strip()]
        timing = next((i for i, line in enumerate(lines) if "-->" in line), None)
        if timing is None or lines[0].startswith(("NOTE", "WEBVTT", "STYLE", "REGION")):
            continue
        start, _, rest = lines[timing].partition("-->")
        try:
            begin, end = _seconds(start), _seconds(rest.split()[0] if rest.split() else "")
        except ValueError:
            continue
        words = " ".join(lines[timing + 1 :])
        words = words.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
        captions.append(Caption(begin, end, words))
    return captions
