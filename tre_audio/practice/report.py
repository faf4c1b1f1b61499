"""The practice history as people read it: a table for the terminal, a CSV file for a
therapist, and a picture (the shaking phase and the ratings session by session, and
sessions a week)."""

from __future__ import annotations

import csv
import datetime
import io
import math
import os
from collections.abc import Sequence
from pathlib import Path, PurePath

from ..beside.plot import COLOURS, escape
from ..errors import OutputError
from ..files.atomic import atomic_file, check_name, check_replaceable, check_writable
from ..options.settings import control_character
from .history import WEEKLY, Row, weeks
from .store import default_path

HEALTH = ("Your practice record is health data. It stays on this computer; nothing here "
          "sends it anywhere.")
COLUMNS = ("made", "session", "programme", "level", "minutes", "tremor_minutes",
           "tremor_rule", "checked_in", "before", "after", "felt", "spaced_out", "note")


def day(stamp: str) -> str:
    """A time of the record as the history shows it, in local time: ``2026-11-02 19:00``."""
    return datetime.datetime.fromisoformat(stamp).astimezone().strftime("%Y-%m-%d %H:%M")


def _rating(value: int | None) -> str:
    return "" if value is None else str(value)


def _tremor(row: Row) -> str:
    return "" if row.session.tremor is None else f"{row.session.tremor:.1f}"


def table(rows: Sequence[Row]) -> str:
    """The history as aligned columns, oldest first."""
    head = ("made", "programme", "level", "tremor", "set by", "before", "after", "felt",
            "spaced out", "note")
    body: list[tuple[str, ...]] = []
    for row in rows:
        made, answer = row.session, row.check_in
        body.append(tuple(_plain(cell) for cell in (
            day(made.made), made.programme or "custom", made.level or "",
            _tremor(row), made.rule or "",
            _rating(answer.before) if answer else "-", _rating(answer.after) if answer else "-",
            (answer.felt or "") if answer else "-",
            ("yes" if answer.spaced_out else "no") if answer else "-",
            _short(answer.note) if answer else "",
        )))
    widths = [max(len(r[i]) for r in (head, *body)) for i in range(len(head))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in (head, *body)]
    return "\n".join(lines)


def _plain(text: str) -> str:
    """``text`` without what a terminal would act on (escapes, bidi overrides)."""
    return "".join(c for c in text if control_character(c) is None)


def _short(note: str, most: int = 40) -> str:
    note = " ".join(note.split())
    return note if len(note) <= most else note[: most - 1] + "…"


def csv_text(rows: Sequence[Row]) -> str:
    """The history as CSV (RFC 4180, a header row). A cell that a spreadsheet would run
    as a formula is written with a leading apostrophe."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in rows:
        made, answer = row.session, row.check_in
        writer.writerow([_cell(v) for v in (
            made.made, PurePath(made.path).name, made.programme or "custom",
            made.level or "", f"{made.minutes:g}", _tremor(row), made.rule or "",
            answer.at if answer else "", _rating(answer.before) if answer else "",
            _rating(answer.after) if answer else "", (answer.felt or "") if answer else "",
            ("yes" if answer.spaced_out else "no") if answer else "",
            answer.note if answer else "")])
    return out.getvalue()


def _cell(value: str) -> str:
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


WIDTH, LEFT, RIGHT = 760, 56, 56
TOP, PLOT, GAP, BARS = 56, 200, 70, 110
RATINGS = {"before": "#7a9cc6", "after": "#c9834f"}


def svg(rows: Sequence[Row], title: str = "Practice") -> str:
    """The history as a standalone SVG picture: each session's shaking phase (bars,
    minutes on the left) and the ratings before and after it (points, 0-10 on the
    right); under it, the sessions in each week, with the line of three."""
    height = TOP + PLOT + GAP + BARS + 60
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
             f'viewBox="0 0 {WIDTH} {height}" font-family="sans-serif" role="img">',
             f"<title>{escape(title)}</title>",
             f'<rect width="{WIDTH}" height="{height}" fill="{COLOURS["page"]}"/>',
             f'<text x="{LEFT}" y="28" font-size="17" fill="{COLOURS["ink"]}">'
             f"{escape(title)}</text>"]
    inner = WIDTH - LEFT - RIGHT
    if not rows:
        parts.append(f'<text x="{LEFT}" y="{TOP + 30}" font-size="13" '
                     f'fill="{COLOURS["muted"]}">No sessions recorded yet.</text></svg>')
        return "\n".join(parts)
    most = 5 * math.ceil(max([r.session.tremor or 0 for r in rows] + [1.0]) / 5)
    step = inner / len(rows)
    bottom = TOP + PLOT

    def y_minutes(value: float) -> float:
        return bottom - PLOT * value / most

    def y_rating(value: float) -> float:
        return bottom - PLOT * value / 10

    parts += _grid(bottom, most)
    points: dict[str, list[tuple[float, float]]] = {"before": [], "after": []}
    for i, row in enumerate(rows):
        middle = LEFT + step * (i + 0.5)
        tremor = row.session.tremor
        if tremor:
            top = y_minutes(tremor)
            parts.append(f'<rect x="{middle - step * 0.3:.1f}" y="{top:.1f}" '
                         f'width="{step * 0.6:.1f}" height="{bottom - top:.1f}" '
                         f'fill="{COLOURS["bed"]}" opacity="0.55"><title>'
                         f'{escape(day(row.session.made))}: {tremor:.1f} min'
                         f'{escape(" (" + row.session.rule + ")") if row.session.rule else ""}'
                         "</title></rect>")
        answer = row.check_in
        if answer is not None:
            for name in ("before", "after"):
                value = getattr(answer, name)
                if value is not None:
                    points[name].append((middle, y_rating(value)))
            if answer.spaced_out or answer.felt == "too-much":
                parts.append(f'<text x="{middle:.1f}" y="{TOP - 6}" font-size="13" '
                             f'text-anchor="middle" fill="{COLOURS["hold"]}">!</text>')
    for name, found in points.items():
        colour = RATINGS[name]
        if len(found) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in found)
            parts.append(f'<polyline points="{path}" fill="none" stroke="{colour}" '
                         'stroke-width="1.5"/>')
        parts += [f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{colour}"/>'
                  for x, y in found]
    first, last = day(rows[0].session.made)[:10], day(rows[-1].session.made)[:10]
    parts.append(f'<text x="{LEFT}" y="{bottom + 16}" font-size="11" '
                 f'fill="{COLOURS["muted"]}">{first}</text>')
    parts.append(f'<text x="{WIDTH - RIGHT}" y="{bottom + 16}" font-size="11" '
                 f'text-anchor="end" fill="{COLOURS["muted"]}">{last}</text>')
    parts += _legend(bottom + 34)
    parts += _weeks(rows, bottom + GAP, inner)
    parts.append("</svg>")
    return "\n".join(parts)


def _grid(bottom: float, most: float) -> list[str]:
    found = []
    for k in range(0, 11, 2):
        y = bottom - PLOT * k / 10
        found.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" '
                     f'stroke="{COLOURS["rule"]}" stroke-width="1"/>')
        found.append(f'<text x="{WIDTH - RIGHT + 6}" y="{y + 4:.1f}" font-size="11" '
                     f'fill="{COLOURS["muted"]}">{k}</text>')
        found.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" font-size="11" '
                     f'text-anchor="end" fill="{COLOURS["muted"]}">{most * k / 10:g}</text>')
    found.append(f'<text x="8" y="{TOP - 14}" font-size="11" '
                 f'fill="{COLOURS["ink"]}">minutes</text>')
    found.append(f'<text x="{WIDTH - RIGHT + 6}" y="{TOP - 14}" font-size="11" '
                 f'text-anchor="middle" fill="{COLOURS["ink"]}">0-10</text>')
    return found


def _legend(y: float) -> list[str]:
    items = [("rect", COLOURS["bed"], "shaking phase (minutes)"),
             ("circle", RATINGS["before"], "tension before (0-10)"),
             ("circle", RATINGS["after"], "tension after (0-10)"),
             ("text", COLOURS["hold"], "felt too much or spaced out")]
    found, x = [], float(LEFT)
    for shape, colour, label in items:
        if shape == "rect":
            found.append(f'<rect x="{x}" y="{y - 9}" width="12" height="10" fill="{colour}" '
                         'opacity="0.55"/>')
        elif shape == "circle":
            found.append(f'<circle cx="{x + 6}" cy="{y - 4}" r="3.5" fill="{colour}"/>')
        else:
            found.append(f'<text x="{x + 6}" y="{y}" font-size="13" text-anchor="middle" '
                         f'fill="{colour}">!</text>')
        found.append(f'<text x="{x + 18}" y="{y}" font-size="11" fill="{COLOURS["ink"]}">'
                     f"{label}</text>")
        x += 18 + len(label) * 6.2 + 16
    return found


def _weeks(rows: Sequence[Row], top: float, inner: float) -> list[str]:
    counted = weeks(rows)
    tallest = max([n for _, n in counted] + [WEEKLY + 1])
    step = inner / len(counted)
    bottom = top + BARS
    found = [f'<text x="{LEFT}" y="{top - 10}" font-size="12" fill="{COLOURS["ink"]}">'
             "Sessions a week</text>"]
    y3 = bottom - BARS * WEEKLY / tallest
    found.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y3:.1f}" y2="{y3:.1f}" '
                 f'stroke="{COLOURS["hold"]}" stroke-dasharray="4 3"/>')
    found.append(f'<text x="{WIDTH - RIGHT + 6}" y="{y3 + 4:.1f}" font-size="11" '
                 f'fill="{COLOURS["hold"]}">{WEEKLY}</text>')
    for i, (monday, count) in enumerate(counted):
        height = BARS * count / tallest
        x = LEFT + step * i
        found.append(f'<rect x="{x + step * 0.15:.1f}" y="{bottom - height:.1f}" '
                     f'width="{step * 0.7:.1f}" height="{height:.1f}" '
                     f'fill="{COLOURS["pause"]}"><title>week of {monday}: {count}</title>'
                     "</rect>")
        found.append(f'<text x="{x + step / 2:.1f}" y="{bottom - height - 4:.1f}" '
                     f'font-size="11" text-anchor="middle" fill="{COLOURS["ink"]}">'
                     f"{count}</text>")
        if len(counted) <= 16 or i % 4 == 0:
            found.append(f'<text x="{x + step / 2:.1f}" y="{bottom + 14}" font-size="10" '
                         f'text-anchor="middle" fill="{COLOURS["muted"]}">'
                         f"{monday:%d %b}</text>")
    return found


def write(text: str, out: Path, record: Path | None = None) -> Path:
    """``text`` written whole to ``out`` (a CSV file or a picture), replacing it, never
    over the practice record at ``record`` (default: the user's) or its journal files."""
    record = record or default_path()
    kept = {os.path.realpath(f"{record}{end}") for end in ("", "-wal", "-shm", "-journal")}
    if os.path.realpath(out) in kept:
        raise OutputError(f"{out} is your practice record: it is not written over; choose "
                          "another file")
    check_name(out)
    if out.is_dir():
        raise OutputError(f"cannot write {out}: it is a folder; nothing was written")
    check_writable(out.parent)
    check_replaceable(out)
    with atomic_file(out, private=True) as temporary:  # health data: the user's alone
        temporary.write_text(text, encoding="utf-8", newline="")
    return out
