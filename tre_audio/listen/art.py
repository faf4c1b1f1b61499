"""The cover art as the server offers it (``/art/NAME-SIZE.png``), and the web app
manifest that makes the page an app on a phone's home screen."""

from __future__ import annotations

import functools
import json
import re

from ..beside import cover

OWN = "tre-audio"
"""The name under which tre-audio's own picture is offered."""
THEME = "#2f6f5e"
"""The page's accent: the browser's bar on a phone."""
BACKGROUND = "#fbfaf7"
_NAME = re.compile(r"([a-z-]{1,32})-([1-9][0-9]{1,3})\.png", re.ASCII)


def name_of(programme: str) -> str:
    """Whose picture a session of ``programme`` has ('' for a script's: tre-audio's)."""
    return programme if programme in cover.ARTS else OWN


def href(prefix: str, programme: str, size: int) -> str:
    return f"{prefix}/art/{name_of(programme)}-{size}.png"


def picture(name: str) -> bytes | None:
    """The PNG named ``NAME-SIZE.png``, or None if there is no such picture."""
    match = _NAME.fullmatch(name)
    if match is None or int(match[2]) not in cover.SIZES or \
            (match[1] != OWN and match[1] not in cover.ARTS):
        return None
    return _drawn(match[1], int(match[2]))


@functools.lru_cache(maxsize=len(cover.SIZES) * (len(cover.ARTS) + 1))
def _drawn(name: str, size: int) -> bytes:
    return cover.png(cover.ARTS.get(name, cover.OWN), size)


def manifest(prefix: str) -> bytes:
    """The web app manifest of the pages under ``prefix``."""
    return json.dumps({
        "name": "tre-audio sessions",
        "short_name": "tre-audio",
        "description": "Your own guided TRE sessions, offline and private.",
        "start_url": f"{prefix}/",
        "scope": f"{prefix}/",
        "display": "standalone",
        "background_color": BACKGROUND,
        "theme_color": THEME,
        "icons": [{"src": href(prefix, "", size), "sizes": f"{size}x{size}",
                   "type": "image/png", "purpose": "any"} for size in (192, 512)],
    }, indent=2).encode()
