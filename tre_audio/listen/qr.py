"""A QR code drawn with text, for a phone to scan an address off the terminal.

segno makes the code (pure Python, no dependencies); it is drawn here two modules a line
with half blocks. With ``color`` the light and dark modules get explicit ANSI colours, so
the code scans on a dark or a light terminal alike; without it, light modules are drawn
as blocks (the terminal's text colour), which suits the usual light text on dark.
"""

from __future__ import annotations

BORDER = 2
"""Quiet modules around the code (4 is the standard's; 2 scans and keeps it small)."""

_PLAIN = {(False, False): "\u2588", (True, False): "\u2584", (False, True): "\u2580",
          (True, True): " "}
_WHITE, _BLACK = 231, 16  # the colour cube's, which themes do not change


def modules(text: str) -> list[list[bool]]:
    """The code's modules (True is dark), with the quiet border."""
    import segno  # here, not at the top: it pulls in urllib, 30 ms of every command's start

    code = segno.make(text, error="m", micro=False)
    return [[bool(m) for m in row] for row in code.matrix_iter(scale=1, border=BORDER)]


def terminal(text: str, color: bool = False) -> str:
    """``text`` as a QR code in lines of text, two rows of modules to a line."""
    rows = modules(text)
    if len(rows) % 2:
        rows.append([False] * len(rows[0]))  # light, like the border
    lines = []
    for top, bottom in zip(rows[::2], rows[1::2]):
        if color:
            cells = (f"\x1b[38;5;{_BLACK if t else _WHITE}m\x1b[48;5;"
                     f"{_BLACK if b else _WHITE}m\u2580" for t, b in zip(top, bottom))
            lines.append("".join(cells) + "\x1b[0m")
        else:
            lines.append("".join(_PLAIN[pair] for pair in zip(top, bottom)))
    return "\n".join(lines)
