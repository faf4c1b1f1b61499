"""The session as a picture: a standalone SVG timeline for seeing its shape at a glance.

Chapters are bands across the picture; below their titles run lanes for the voice,
pauses, holds and bells (and breath tones, when the session paces breathing), then the
level of the ambient bed, a time axis and a legend.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Callable, Sequence
from itertools import groupby

from ..narration.plan import Plan, Segment
from .texts import clock


def escape(text: str) -> str:
    """``text`` safe inside an SVG element: ``&``, ``<`` and ``>`` escaped, and the
    characters XML 1.0 cannot hold at all (most control characters, lone surrogates,
    U+FFFE and U+FFFF) left out, so that no title makes the picture unreadable."""
    return html.escape(_NOT_XML.sub("", text), quote=False)


_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


LEFT = 84
"""Room for the lane labels."""
RIGHT = 24
TITLE_SIZE = 17
LABEL_SIZE = 11
CHAPTER_TOP = 40
ROW = 15
"""Height of one row of chapter titles."""
LANE = 26
BED_LANE = 72
MIN_TICK_PX = 80
"""Ticks sit at least this far apart."""

BANDS = ("#f1eee7", "#e6edec")
"""Chapters alternate between these."""
COLOURS = {
    "page": "#fcfbf8",
    "ink": "#2f3a45",
    "muted": "#6b7680",
    "rule": "#d9d4ca",
    "speech": "#34495e",
    "pause": "#9db4c6",
    "hold": "#c9834f",
    "bell": "#b08a2e",
    "bed": "#4f8f8a",
    "breathe": "#7a9cc6",
    "other": "#a3a3a3",
}
LANES = {"speech": "voice", "pause": "pauses", "hold": "holds", "bell": "bells"}
BREATH_LANE = "breath"
"""The lane for paced breathing: a tone rising (in), falling (out) or none (hold)."""
IGNORED = {"gap"}
"""Kinds that are not drawn: the silence after each sentence."""


def svg(
    plan: Plan,
    *,
    title: str,
    bed_db: Sequence[tuple[float, float]] = (),
    width: int = 1400,
) -> str:
    """The session as a standalone SVG ``width`` pixels wide.

    ``bed_db`` is the bed's level as (seconds, dBFS) points. When there are more points
    than pixel columns, each column keeps only its lowest and highest point.
    Segments of kinds this module does not know are drawn grey in an "other" lane.
    """
    if width < LEFT + RIGHT + 200:
        raise ValueError(f"width must be at least {LEFT + RIGHT + 200} pixels")
    duration = max(plan.duration, 1e-9)
    span = width - LEFT - RIGHT

    def x(seconds: float) -> float:
        return LEFT + min(max(seconds, 0.0), duration) / duration * span

    breaths = [s for s in plan.segments if s.kind == "breathe"]
    others = [s for s in plan.segments
              if s.kind not in LANES and s.kind not in IGNORED and s.kind != "breathe"]
    has_bed = len(bed_db) > 0
    rows = _label_rows(plan, x, width - RIGHT)
    lanes_top = CHAPTER_TOP + (1 + max((r for r, _ in rows), default=0)) * ROW + 6
    lanes = [*LANES] + (["breathe"] if breaths else []) + (["other"] if others else [])
    lane_top = {kind: lanes_top + i * LANE for i, kind in enumerate(lanes)}
    bed_top = lanes_top + len(lanes) * LANE
    lanes_bottom = bed_top + (BED_LANE if has_bed else 0) + 4
    axis = lanes_bottom
    legend = axis + 40
    height = legend + 16

    out: list[str] = []
    facts = f"{clock(plan.duration)} · {_count(len(plan.chapters), 'chapter')}"
    out.append(
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="{LABEL_SIZE}">'
    )
    out.append(f"<title>{escape(title)}, {facts}</title>")
    out.append(f'<rect width="{width}" height="{height}" fill="{COLOURS["page"]}"/>')

    # Chapter bands and their titles.
    for i, chapter in enumerate(plan.chapters):
        x0, x1 = x(chapter.start), x(chapter.end)
        out.append(
            f'<rect class="chapter" x="{x0:.1f}" y="{CHAPTER_TOP - 4}" '
            f'width="{max(x1 - x0, 0.5):.1f}" height="{lanes_bottom - CHAPTER_TOP + 4}" '
            f'fill="{BANDS[i % 2]}"><title>'
            f"{escape(f'{chapter.title}, {clock(chapter.start)}–{clock(chapter.end)}')}"
            "</title></rect>"
        )
    for chapter, (row, left) in zip(plan.chapters, rows):
        base = CHAPTER_TOP + row * ROW + LABEL_SIZE
        pole = left - 3
        out.append(
            f'<line x1="{pole:.1f}" y1="{base - LABEL_SIZE + 1}" x2="{pole:.1f}" '
            f'y2="{base + 3}" stroke="{COLOURS["muted"]}" stroke-width="0.8"/>'
        )
        out.append(
            f'<text class="chapter-title" x="{left:.1f}" y="{base}" '
            f'fill="{COLOURS["ink"]}">{escape(chapter.title)}</text>'
        )

    out.append(
        f'<text class="title" x="{LEFT}" y="26" font-size="{TITLE_SIZE}" '
        f'font-weight="bold" fill="{COLOURS["ink"]}">{escape(title)}</text>'
    )
    out.append(
        f'<text x="{width - RIGHT}" y="26" font-size="{TITLE_SIZE - 2}" text-anchor="end" '
        f'fill="{COLOURS["muted"]}">{escape(facts)}</text>'
    )

    for kind in lanes:
        top = lane_top[kind]
        label = BREATH_LANE if kind == "breathe" else LANES.get(kind, "other")
        out.append(_lane_label(label, top + LANE / 2))
        out.append(
            f'<line x1="{LEFT}" y1="{top + LANE}" x2="{width - RIGHT}" y2="{top + LANE}" '
            f'stroke="{COLOURS["rule"]}" stroke-width="0.5"/>'
        )
    out += _speech(plan.segments, x, lane_top["speech"])
    out += _blocks(plan.segments, "pause", x, lane_top["pause"], 10)
    out += _blocks(plan.segments, "hold", x, lane_top["hold"], 16)
    out += _bells(plan.segments, plan.chimes, x, lane_top["bell"])
    if breaths:
        out += _breaths(breaths, x, lane_top["breathe"])
    if others:
        out += _blocks(others, None, x, lane_top["other"], 10)
    if has_bed:
        out += _bed(bed_db, x, bed_top, width - RIGHT)

    out += _axis(duration, x, axis, width)
    out += _legend(legend, bool(plan.chimes), has_bed, bool(others), bool(breaths))
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _text_width(text: str, size: float, em: float = 0.6) -> float:
    """An estimate of the width of ``text`` in a sans-serif font; generous by default."""
    return len(text) * size * em


def _label_rows(
    plan: Plan, x: Callable[[float], float], right: float
) -> list[tuple[int, float]]:
    """Each chapter title's row and left edge: the first row where it fits."""
    ends: list[float] = []
    placed: list[tuple[int, float]] = []
    for chapter in plan.chapters:
        width = _text_width(chapter.title, LABEL_SIZE)
        left = min(x(chapter.start) + 3, right - width)
        row = next((r for r, end in enumerate(ends) if left >= end + 10), len(ends))
        if row == len(ends):
            ends.append(0.0)
        ends[row] = left + width
        placed.append((row, left))
    return placed


def _lane_label(text: str, middle: float) -> str:
    return (
        f'<text class="lane" x="{LEFT - 10}" y="{middle + 4:.1f}" text-anchor="end" '
        f'fill="{COLOURS["ink"]}">{escape(text)}</text>'
    )


def _rect(kind: str, x0: float, x1: float, middle: float, height: float) -> str:
    colour = COLOURS.get(kind, COLOURS["other"])
    return (
        f'<rect class="{kind}" x="{x0:.1f}" y="{middle - height / 2:.1f}" '
        f'width="{max(x1 - x0, 1.0):.1f}" height="{height}" fill="{colour}"'
    )


def _speech(
    segments: Sequence[Segment], x: Callable[[float], float], top: float
) -> list[str]:
    """Speech as bars; bars less than a pixel apart become one."""
    bars: list[list[float]] = []
    for s in segments:
        if s.kind != "speech":
            continue
        x0, x1 = x(s.start), x(s.end)
        if bars and x0 - bars[-1][1] < 1.0:
            bars[-1][1] = max(bars[-1][1], x1)
        else:
            bars.append([x0, x1])
    return [_rect("speech", x0, x1, top + LANE / 2, 12) + "/>" for x0, x1 in bars]


def _blocks(
    segments: Sequence[Segment],
    kind: str | None,
    x: Callable[[float], float],
    top: float,
    height: float,
) -> list[str]:
    """One rect per segment of ``kind`` (any kind if None), with its length on hover."""
    out = []
    for s in segments:
        if kind is not None and s.kind != kind:
            continue
        # Inset by half a pixel so back-to-back holds stay distinct.
        x0, x1 = x(s.start) + 0.5, x(s.end) - 0.5
        tip = f"{s.kind} {clock(s.duration)} at {clock(s.start)}"
        out.append(
            _rect(kind or "other", x0, x1, top + LANE / 2, height)
            + f" data-kind=\"{html.escape(s.kind)}\"><title>{escape(tip)}</title></rect>"
        )
    return out


def _bells(
    segments: Sequence[Segment],
    chimes: Sequence[float],
    x: Callable[[float], float],
    top: float,
) -> list[str]:
    """A dot per bell; a small ring per interval chime."""
    middle = top + LANE / 2
    out = [
        f'<circle class="bell" cx="{x(s.start):.1f}" cy="{middle}" r="4.5" '
        f'fill="{COLOURS["bell"]}"/>'
        for s in segments
        if s.kind == "bell"
    ]
    out += [
        f'<circle class="chime" cx="{x(t):.1f}" cy="{middle}" r="2.5" fill="none" '
        f'stroke="{COLOURS["bell"]}" stroke-width="1"/>'
        for t in chimes
    ]
    return out


def _breaths(
    segments: Sequence[Segment], x: Callable[[float], float], top: float
) -> list[str]:
    """A ramp up for each breath in, down for each breath out, a thin line for a hold."""
    low, high = top + LANE - 5, top + 5
    out = []
    for s in segments:
        x0, x1 = x(s.start), max(x(s.end), x(s.start) + 1.0)
        tip = escape(f"breathe {s.phase} {s.duration:g} s at {clock(s.start)}")
        if s.phase in ("in", "out"):
            rise = (high, low) if s.phase == "out" else (low, high)
            points = f"{x0:.1f},{low} {x0:.1f},{rise[0]} {x1:.1f},{rise[1]} {x1:.1f},{low}"
            out.append(
                f'<polygon class="breathe" data-phase="{s.phase}" points="{points}" '
                f'fill="{COLOURS["breathe"]}"><title>{tip}</title></polygon>'
            )
        else:
            out.append(
                _rect("breathe", x0, x1, low - 1, 2)
                + f' data-phase="{html.escape(s.phase)}"><title>{tip}</title></rect>'
            )
    return out


def _simplify(
    points: Sequence[tuple[float, float]], column: Callable[[float], int]
) -> list[tuple[float, float]]:
    """The lowest and highest point of each pixel column, in time order."""
    kept: list[tuple[float, float]] = []
    for _, group in groupby(points, key=lambda p: column(p[0])):
        members = list(group)
        low, high = min(members, key=lambda p: p[1]), max(members, key=lambda p: p[1])
        kept += sorted({low, high})
    return kept


def _bed(
    bed_db: Sequence[tuple[float, float]],
    x: Callable[[float], float],
    top: float,
    right: float,
) -> list[str]:
    """The bed's level as a line over a small dB scale."""
    points = sorted((t, db) for t, db in bed_db if not math.isnan(t) and not math.isnan(db))
    finite = [db for _, db in points if math.isfinite(db)] or [-60.0]
    low = math.floor(min(finite) / 10) * 10
    high = max(math.ceil(max(finite) / 10) * 10, low + 10)
    if len(points) > right - LEFT:
        points = _simplify(points, lambda t: int(x(t)))
    inner_top, inner_bottom = top + 8, top + BED_LANE - 8

    def y(db: float) -> float:
        level = min(max(db, low), high)  # -inf (silence) rests on the floor
        return inner_bottom - (level - low) / (high - low) * (inner_bottom - inner_top)

    out = [_lane_label("bed", top + BED_LANE / 2)]
    for db in (low, high):
        out.append(
            f'<line x1="{LEFT}" y1="{y(db):.1f}" x2="{right}" y2="{y(db):.1f}" '
            f'stroke="{COLOURS["rule"]}" stroke-width="0.5" stroke-dasharray="3 3"/>'
        )
        out.append(
            f'<text class="scale" x="{LEFT - 4}" y="{y(db) + 3:.1f}" text-anchor="end" '
            f'font-size="9" fill="{COLOURS["muted"]}">{db} dB</text>'
        )
    coordinates = " ".join(f"{x(t):.1f},{y(db):.1f}" for t, db in points)
    out.append(
        f'<polyline class="bed" points="{coordinates}" fill="none" '
        f'stroke="{COLOURS["bed"]}" stroke-width="1.2" stroke-linejoin="round"/>'
    )
    return out


def _tick_minutes(duration: float, span: float) -> int:
    """The first of 1, 2, 5, 10, ... minutes whose ticks sit far enough apart."""
    for step in (1, 2, 5, 10, 15, 20, 30, 60):
        if step * 60 / duration * span >= MIN_TICK_PX:
            return step
    return 60


def _axis(duration: float, x: Callable[[float], float], top: float, width: int) -> list[str]:
    step = _tick_minutes(duration, width - LEFT - RIGHT)
    out = [
        f'<line x1="{LEFT}" y1="{top}" x2="{width - RIGHT}" y2="{top}" '
        f'stroke="{COLOURS["muted"]}" stroke-width="1"/>',
        f'<text x="{LEFT - 10}" y="{top + 17}" text-anchor="end" '
        f'fill="{COLOURS["muted"]}">min</text>',
    ]
    minute = 0
    while minute * 60 <= duration + 0.5:
        at = x(minute * 60)
        out.append(
            f'<line x1="{at:.1f}" y1="{top}" x2="{at:.1f}" y2="{top + 5}" '
            f'stroke="{COLOURS["muted"]}" stroke-width="1"/>'
        )
        out.append(
            f'<text class="tick" x="{at:.1f}" y="{top + 17}" text-anchor="middle" '
            f'fill="{COLOURS["ink"]}">{minute}</text>'
        )
        minute += step
    return out


def _legend(top: float, chime: bool, bed: bool, other: bool, breath: bool = False
            ) -> list[str]:
    items = [
        ("speech", "voice"),
        ("pause", "pause"),
        ("hold", "hold (its length fits the session)"),
        ("bell", "bell"),
    ]
    items += [("chime", "interval chime")] if chime else []
    items += [("breathe", "breath tone, rising in and falling out")] if breath else []
    items += [("bed", "bed level, lowered under the voice")] if bed else []
    items += [("other", "other")] if other else []
    out = []
    left = float(LEFT)
    for kind, text in items:
        colour = COLOURS["bell" if kind == "chime" else kind]
        if kind == "bell":
            out.append(f'<circle cx="{left + 6}" cy="{top - 4}" r="4.5" fill="{colour}"/>')
        elif kind == "chime":
            out.append(
                f'<circle cx="{left + 6}" cy="{top - 4}" r="2.5" fill="none" '
                f'stroke="{colour}" stroke-width="1"/>'
            )
        elif kind == "bed":
            out.append(
                f'<line x1="{left}" y1="{top - 4}" x2="{left + 14}" y2="{top - 4}" '
                f'stroke="{colour}" stroke-width="2"/>'
            )
        elif kind == "breathe":
            out.append(
                f'<polygon points="{left},{top + 1} {left + 14},{top - 9} {left + 14},'
                f'{top + 1}" fill="{colour}"/>'
            )
        else:
            out.append(
                f'<rect x="{left}" y="{top - 9}" width="14" height="10" fill="{colour}"/>'
            )
        out.append(
            f'<text x="{left + 20}" y="{top}" fill="{COLOURS["muted"]}">{escape(text)}</text>'
        )
        left += 20 + _text_width(text, LABEL_SIZE, em=0.52) + 22
    return out
