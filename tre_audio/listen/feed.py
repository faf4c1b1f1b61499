"""The sessions as a podcast feed: RSS 2.0 with enclosures and durations, and chapters in
the Podcasting 2.0 JSON chapters format (https://podcasting2.org, "JSON chapters").

The feed is private: it asks directories not to list it (``itunes:block``) and other
platforms not to import it (``podcast:locked``).
"""

from __future__ import annotations

import datetime
import email.utils
import json
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit

from ..errors import InvalidOption
from ..files.atomic import atomic_file
from .library import Entry, Library, clean_text
from ..beside.files import CHAPTERS, WEBVTT
from ..beside.texts import notice

ITUNES = "http://www.itunes.com/dtds/podcast-1.0.dtd"
PODCAST = "https://podcastindex.org/namespace/1.0"
ET.register_namespace("itunes", ITUNES)
ET.register_namespace("podcast", PODCAST)

CHAPTERS_VERSION = "1.2.0"
FEED_NAME = "feed.xml"
TITLE = "tre-audio sessions"
DESCRIPTION = "Your own guided TRE sessions, made by tre-audio."


def language(entries: Sequence[Entry]) -> str:
    """The feed's one language: that of most of its sessions (English when none)."""
    counts = Counter(entry.language for entry in entries)
    return counts.most_common(1)[0][0] if counts else "en"


def url_of(files_url: str, name: str) -> str:
    """The address of the session file ``name`` (relative, ``/`` between parts)."""
    return files_url + quote(name)


def chapters_json(entry: Entry) -> str:
    """The session's chapters as a Podcasting 2.0 JSON chapters document."""
    document = {
        "version": CHAPTERS_VERSION,
        "chapters": [{"startTime": c.start, "endTime": c.end, "title": c.title}
                     for c in entry.chapters],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def rss(entries: Sequence[Entry], files_url: str, link: str) -> str:
    """The RSS 2.0 feed of ``entries``; their files are at ``files_url`` + their names
    (with ``NAME.chapters.json`` beside each MP3), the page at ``link``."""
    root = ET.Element("rss", {"version": "2.0"})
    channel = ET.SubElement(root, "channel")
    _text(channel, "title", TITLE)
    _text(channel, "link", link)
    _text(channel, "description", f"{DESCRIPTION} {notice()}")
    _text(channel, "language", language(entries))
    _text(channel, "generator", "tre-audio")
    _text(channel, f"{{{ITUNES}}}author", "tre-audio")
    _text(channel, f"{{{ITUNES}}}explicit", "false")
    _text(channel, f"{{{ITUNES}}}block", "Yes")
    category = ET.SubElement(channel, f"{{{ITUNES}}}category", {"text": "Health & Fitness"})
    ET.SubElement(category, f"{{{ITUNES}}}category", {"text": "Mental Health"})
    _text(channel, f"{{{PODCAST}}}locked", "yes")
    if entries:
        _text(channel, "lastBuildDate", _date(max(e.modified for e in entries)))
    for entry in entries:
        item = ET.SubElement(channel, "item")
        _text(item, "title", entry.title)
        chapters = "; ".join(c.title for c in entry.chapters)
        said = entry.notice or notice()
        _text(item, "description", f"{chapters}. {said}" if chapters else said)
        _text(item, "guid", f"tre-audio:{entry.id}:{int(entry.modified)}",
              isPermaLink="false")
        _text(item, "pubDate", _date(entry.modified))
        ET.SubElement(item, "enclosure", {"url": url_of(files_url, entry.name(".mp3")),
                                          "length": str(entry.size), "type": "audio/mpeg"})
        _text(item, f"{{{ITUNES}}}duration", str(round(entry.duration)))
        _text(item, f"{{{ITUNES}}}explicit", "false")
        ET.SubElement(item, f"{{{PODCAST}}}chapters", {
            "url": url_of(files_url, entry.name(CHAPTERS.suffix)),
            "type": CHAPTERS.media_type})
        if WEBVTT.suffix in entry.files:
            ET.SubElement(item, f"{{{PODCAST}}}transcript", {
                "url": url_of(files_url, entry.name(WEBVTT.suffix)), "type": "text/vtt"})
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, "unicode") + "\n"


def _text(parent: ET.Element, tag: str, text: str, **attributes: str) -> None:
    # ElementTree writes any character, even those XML forbids: one would void the feed
    ET.SubElement(parent, tag, attributes).text = clean_text(text)


def _date(timestamp: float) -> str:
    moment = datetime.datetime.fromtimestamp(timestamp, tz=datetime.timezone.utc)
    return email.utils.format_datetime(moment)


def check_base_url(base_url: str | None) -> str:
    """``base_url`` ending in ``/`` ('' for none: addresses relative to the feed)."""
    if base_url is None:
        return ""
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query \
            or parts.fragment:
        raise InvalidOption("--base-url", f"--base-url must be an http:// or https:// "
                            f"address, without ?query or #fragment: {base_url}")
    return base_url if base_url.endswith("/") else base_url + "/"


@dataclass(frozen=True)
class Written:
    feed: Path
    chapters: tuple[Path, ...]
    sessions: int


def write(folder: Path, base_url: str | None = None) -> Written:
    """Write ``feed.xml`` into ``folder`` and ``NAME.chapters.json`` beside each session's
    MP3, each atomically, for hosting the folder as it is at ``base_url``."""
    files_url = check_base_url(base_url)
    library = Library(folder)
    entries = library.sessions()
    chapters = []
    for entry in entries:
        path = folder / entry.name(CHAPTERS.suffix)
        with atomic_file(path) as temporary:
            temporary.write_text(chapters_json(entry), encoding="utf-8")
        chapters.append(path)
    feed = folder / FEED_NAME
    with atomic_file(feed) as temporary:
        temporary.write_text(rss(entries, files_url, files_url or "./"), encoding="utf-8")
    return Written(feed, tuple(chapters), len(entries))
