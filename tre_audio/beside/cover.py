"""Cover art, drawn by tre-audio: one picture for each programme, the same pixels every
time (nothing shipped, nothing downloaded).

Each programme has a colour and a shape of its own, which tell the programmes apart even
as a 60-pixel tile in a podcast app; its name reads from 300 pixels up. A session made
from a script, and the feed itself, have tre-audio's own picture.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageFont

SIZES = (60, 96, 192, 512, 600, 1400, 3000)
"""The sizes drawn: a podcast app's tile, the page's icons, the MP3's picture (600) and
the feeds' (3,000; Apple asks for 1,400 to 3,000)."""
EMBEDDED = 600
"""The size of the picture in each MP3 (a JPEG of about 40 kB)."""
TEXT = (244, 241, 234)
SHAPE = (244, 241, 234, 150)


@dataclass(frozen=True)
class Art:
    """One programme's picture: its name as shown, its colours and its shape."""

    name: str
    top: tuple[int, int, int]
    bottom: tuple[int, int, int]
    shape: str


ARTS = {
    "classic": Art("Classic", (47, 111, 94), (20, 52, 44), "ripples"),
    "tremor": Art("Tremor", (45, 91, 138), (20, 42, 68), "waves"),
    "seated": Art("Seated", (138, 106, 45), (70, 52, 20), "arch"),
    "grounding": Art("Grounding", (95, 107, 46), (46, 53, 22), "layers"),
    "spiral": Art("Spiral", (94, 74, 138), (45, 35, 70), "spiral"),
    "cooldown": Art("Cool-down", (138, 74, 74), (70, 36, 36), "moon"),
    "breathing": Art("Breathing", (46, 124, 138), (20, 60, 68), "box"),
}
OWN = Art("tre-audio", (70, 74, 80), (28, 30, 33), "dot")
"""tre-audio's own picture: for the feed, and a session made from a script."""


def art_of(programme: str) -> Art:
    """The picture of ``programme`` (tre-audio's own for any other)."""
    return ARTS.get(programme, OWN)


def draw(art: Art, size: int) -> Image.Image:
    """``art`` as a square RGB picture of ``size`` pixels a side (one of ``SIZES``)."""
    if size not in SIZES:
        raise ValueError(f"cover size {size} is not one of {SIZES}")
    scale = 2 if size <= 1400 else 1  # drawn larger and reduced: smooth edges
    side = size * scale
    mask = Image.linear_gradient("L").resize((side, side))
    picture = Image.composite(Image.new("RGB", (side, side), art.bottom),
                              Image.new("RGB", (side, side), art.top), mask)
    layer = Image.new("RGBA", (side, side), (0, 0, 0, 0))
    _SHAPES[art.shape](ImageDraw.Draw(layer), side)
    picture.paste(layer, (0, 0), layer)
    _name(ImageDraw.Draw(picture), art.name, side)
    return picture.resize((size, size), Image.Resampling.LANCZOS) if scale > 1 else picture


def png(art: Art, size: int) -> bytes:
    """``art`` at ``size`` as PNG bytes (for the page's icons and the feed)."""
    out = io.BytesIO()
    draw(art, size).save(out, "PNG", optimize=True)
    return out.getvalue()


def jpeg(art: Art, size: int = EMBEDDED) -> bytes:
    """``art`` at ``size`` as JPEG bytes (for the MP3's picture)."""
    out = io.BytesIO()
    draw(art, size).save(out, "JPEG", quality=88, optimize=True)
    return out.getvalue()


def _name(pen: ImageDraw.ImageDraw, name: str, side: int) -> None:
    big = ImageFont.load_default(size=round(side * 0.105))
    small = ImageFont.load_default(size=round(side * 0.05))
    margin = round(side * 0.08)
    pen.text((margin, side - margin), name, font=big, fill=TEXT, anchor="ls")
    if name != OWN.name:
        pen.text((margin, side - margin - round(side * 0.14)), OWN.name, font=small,
                 fill=TEXT, anchor="ls")


def _ripples(pen: ImageDraw.ImageDraw, side: int) -> None:
    cx, cy, width = side / 2, side * 0.4, round(side * 0.025)
    for radius in (0.08, 0.17, 0.26):
        r = side * radius
        pen.ellipse((cx - r, cy - r, cx + r, cy + r), outline=SHAPE, width=width)


def _stroke(pen: ImageDraw.ImageDraw, points: list[tuple[float, float]],
            width: float) -> None:
    """A round-ended stroke of ``width`` along ``points``, as overlapping discs: Pillow's
    wide lines leave notches where their segments meet."""
    r = width / 2
    for (x0, y0), (x1, y1) in zip(points, points[1:]):
        steps = max(1, math.ceil(math.hypot(x1 - x0, y1 - y0) / (r / 4)))
        for step in range(steps + 1):
            x, y = x0 + (x1 - x0) * step / steps, y0 + (y1 - y0) * step / steps
            pen.ellipse((x - r, y - r, x + r, y + r), fill=SHAPE)


def _waves(pen: ImageDraw.ImageDraw, side: int) -> None:
    for row in range(3):
        y0 = side * (0.26 + row * 0.12)
        points = [(side * (0.14 + 0.72 * t / 200),
                   y0 + side * 0.035 * math.sin(t / 200 * 4 * math.pi)) for t in range(201)]
        _stroke(pen, points, side * 0.025)


def _arch(pen: ImageDraw.ImageDraw, side: int) -> None:
    r, cx, cy = side * 0.22, side / 2, side * 0.52
    pen.pieslice((cx - r, cy - r, cx + r, cy + r), 180, 360, fill=SHAPE)
    pen.rectangle((side * 0.18, cy + side * 0.02, side * 0.82, cy + side * 0.045), fill=SHAPE)


def _layers(pen: ImageDraw.ImageDraw, side: int) -> None:
    for row, (left, right) in enumerate(((0.36, 0.64), (0.26, 0.74), (0.16, 0.84))):
        top = side * (0.2 + row * 0.12)
        pen.rounded_rectangle((side * left, top, side * right, top + side * 0.08),
                              radius=side * 0.02, fill=SHAPE)


def _spiral(pen: ImageDraw.ImageDraw, side: int) -> None:
    cx, cy, turns = side / 2, side * 0.4, 3
    points = []
    for step in range(601):
        angle = step / 600 * turns * 2 * math.pi
        r = side * 0.26 * step / 600
        points.append((cx + r * math.cos(angle), cy + r * math.sin(angle)))
    _stroke(pen, points, side * 0.022)


def _moon(pen: ImageDraw.ImageDraw, side: int) -> None:
    r, cx, cy = side * 0.2, side * 0.47, side * 0.4
    pen.ellipse((cx - r, cy - r, cx + r, cy + r), fill=SHAPE)
    shift = side * 0.1  # the dark part: the background's own colour, clear again
    pen.ellipse((cx - r + shift, cy - r - shift * 0.4, cx + r + shift, cy + r - shift * 0.4),
                fill=(0, 0, 0, 0))


def _box(pen: ImageDraw.ImageDraw, side: int) -> None:
    half, cx, cy = side * 0.2, side / 2, side * 0.4
    pen.rounded_rectangle((cx - half, cy - half, cx + half, cy + half), radius=side * 0.05,
                          outline=SHAPE, width=round(side * 0.03))


def _dot(pen: ImageDraw.ImageDraw, side: int) -> None:
    r, cx, cy = side * 0.14, side / 2, side * 0.4
    pen.ellipse((cx - r, cy - r, cx + r, cy + r), fill=SHAPE)


_SHAPES = {"ripples": _ripples, "waves": _waves, "arch": _arch, "layers": _layers,
           "spiral": _spiral, "moon": _moon, "box": _box, "dot": _dot}
