"""The sessions as a podcast feed: RSS 2.0 with enclosures and durations, and chapters in
the Podcasting 2.0 JSON chapters format (https://podcasting2.org, "JSON chapters").

The feed is private: it asks directories not to list it (``itunes:block``,
``podcast:block``) and other platforms not to import it (``podcast:locked``). Each
session's chapters are also inline as Podlove Simple Chapters (which gPodder reads), and
listed with their times in its notes. Episode GUIDs and dates come from the sessions'
timelines, so a copied or restored folder gives the same feed.
"""

from __future__ import annotations

import datetime
import email.utils
import html
import json
import re
import uuid
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit

from ..errors import InvalidOption
from ..files.atomic import atomic_file
from . import art
from .library import Entry, Library, by_folder, clean_text
from ..beside.files import CHAPTERS, WEBVTT
from ..beside.texts import clock, notice

ITUNES = "http://www.itunes.com/dtds/podcast-1.0.dtd"
PODCAST = "https://podcastindex.org/namespace/1.0"
PSC = "http://podlove.org/simple-chapters"
"""Podlove Simple Chapters: the chapters inline, for readers that know no JSON chapters."""
ATOM = "http://www.w3.org/2005/Atom"
CONTENT = "http://purl.org/rss/1.0/modules/content/"
for _prefix, _uri in (("itunes", ITUNES), ("podcast", PODCAST), ("psc", PSC),
                      ("atom", ATOM), ("content", CONTENT)):
    ET.register_namespace(_prefix, _uri)
PODCAST_GUIDS = uuid.UUID("ead4c236-bf58-58c6-a2c6-a6b28d128cb6")
"""The namespace of ``podcast:guid`` (the Podcasting 2.0 specification's)."""

CHAPTERS_VERSION = "1.2.0"
COVER_SIZE = 3000
"""The feeds' pictures: Apple asks for 1,400 to 3,000 pixels a side."""
COVERS = "covers"
"""The folder ``tre-audio feed`` writes the pictures into."""
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


def rss(entries: Sequence[Entry], files_url: str, link: str, *, feed_url: str = "",
        pages_url: str = "", art_url: str = "", serial: bool = False,
        title: str = TITLE, owner: str | None = None) -> str:
    """The RSS 2.0 feed of ``entries``; their files are at ``files_url`` + their names
    (with ``NAME.chapters.json`` beside each MP3), the page at ``link``, the feed itself at
    ``feed_url``, each session's page at ``pages_url`` + its id and the cover art at
    ``art_url`` + ``NAME-3000.png``, where known ('': not said). A ``serial`` feed (a
    course's) lists its sessions in order, numbered from 1; else newest first, numbered in
    the order they were made. ``owner``, an email address, is named as the feed's owner
    (``itunes:owner``, and ``podcast:locked``'s, without which Podcast Index ignores the
    lock); without it neither is said."""
    root = ET.Element("rss", {"version": "2.0"})
    channel = ET.SubElement(root, "channel")
    _text(channel, "title", title)
    if link:
        _text(channel, "link", link)
    _text(channel, "description", f"{DESCRIPTION} {notice()}")
    _text(channel, "language", language(entries))
    _text(channel, "generator", "tre-audio")
    if feed_url:
        ET.SubElement(channel, f"{{{ATOM}}}link", {"href": feed_url, "rel": "self",
                                                  "type": "application/rss+xml"})
        _text(channel, f"{{{PODCAST}}}guid", str(podcast_guid(feed_url)))
    if art_url:
        picture = cover_url(art_url, "")
        if link:  # RSS's image needs all three
            image = ET.SubElement(channel, "image")
            for tag, text in (("url", picture), ("title", title), ("link", link)):
                _text(image, tag, text)
        ET.SubElement(channel, f"{{{ITUNES}}}image", {"href": picture})
    _text(channel, f"{{{ITUNES}}}author", "tre-audio")
    _text(channel, f"{{{ITUNES}}}explicit", "false")
    _text(channel, f"{{{ITUNES}}}type", "serial" if serial else "episodic")
    _text(channel, f"{{{ITUNES}}}block", "Yes")
    category = ET.SubElement(channel, f"{{{ITUNES}}}category", {"text": "Health & Fitness"})
    ET.SubElement(category, f"{{{ITUNES}}}category", {"text": "Mental Health"})
    if owner:
        owned = ET.SubElement(channel, f"{{{ITUNES}}}owner")
        _text(owned, f"{{{ITUNES}}}name", "tre-audio")
        _text(owned, f"{{{ITUNES}}}email", owner)
    _text(channel, f"{{{PODCAST}}}block", "yes")
    locked = ET.SubElement(channel, f"{{{PODCAST}}}locked", {"owner": owner} if owner else {})
    locked.text = "yes"
    if entries:
        _text(channel, "lastBuildDate", _date(max(e.made for e in entries)))
    ordered = sorted(entries, key=lambda e: e.id) if serial else \
        sorted(entries, key=lambda e: (-e.made, e.id))
    numbers = {e.uid: n for n, e in enumerate(
        ordered if serial else reversed(ordered), start=1)}
    for entry in ordered:
        _item(ET.SubElement(channel, "item"), entry, files_url, pages_url, art_url,
              numbers[entry.uid])
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, "unicode") + "\n"


def _item(item: ET.Element, entry: Entry, files_url: str, pages_url: str, art_url: str,
          number: int) -> None:
    _text(item, "title", entry.title)
    if pages_url:
        _text(item, "link", pages_url + quote(entry.id))
    said = entry.notice or notice()
    listed = "\n".join(f"{clock(c.start)} {c.title}" for c in entry.chapters)
    _text(item, "description", f"{listed}\n\n{said}" if listed else said, keep_lines=True)
    _text(item, f"{{{CONTENT}}}encoded", _html(entry, said))
    _text(item, "guid", entry.uid, isPermaLink="false")
    _text(item, "pubDate", _date(entry.made))
    ET.SubElement(item, "enclosure", {"url": url_of(files_url, entry.name(".mp3")),
                                      "length": str(entry.size), "type": "audio/mpeg"})
    _text(item, f"{{{ITUNES}}}title", entry.title)
    _text(item, f"{{{ITUNES}}}duration", str(int(entry.duration)))
    _text(item, f"{{{ITUNES}}}episode", str(number))
    _text(item, f"{{{ITUNES}}}episodeType", "full")
    if art_url:
        ET.SubElement(item, f"{{{ITUNES}}}image", {"href": cover_url(art_url, entry.programme)})
    _text(item, f"{{{ITUNES}}}explicit", "false")
    simple = ET.SubElement(item, f"{{{PSC}}}chapters", {"version": "1.2"})
    for chapter in entry.chapters:
        ET.SubElement(simple, f"{{{PSC}}}chapter", {"start": _npt(chapter.start),
                                                    "title": clean_text(chapter.title)})
    ET.SubElement(item, f"{{{PODCAST}}}chapters", {
        "url": url_of(files_url, entry.name(CHAPTERS.suffix)), "type": CHAPTERS.media_type})
    if WEBVTT.suffix in entry.files:
        ET.SubElement(item, f"{{{PODCAST}}}transcript", {
            "url": url_of(files_url, entry.name(WEBVTT.suffix)), "type": "text/vtt"})


def cover_url(art_url: str, programme: str) -> str:
    """Where the 3,000-pixel cover of ``programme`` is ('': tre-audio's own)."""
    return f"{art_url}{art.name_of(programme)}-{COVER_SIZE}.png"


def _html(entry: Entry, said: str) -> str:
    """The episode's notes as HTML: its chapters with their times, and its notice."""
    rows = "".join(f"<li>{clock(c.start)} {html.escape(clean_text(c.title))}</li>"
                   for c in entry.chapters)
    listed = f"<ol>{rows}</ol>" if rows else ""
    return f"{listed}<p>{html.escape(clean_text(said))}</p>"


def _npt(seconds: float) -> str:
    """A Podlove Simple Chapters time: hh:mm:ss.mmm."""
    milliseconds = int(seconds * 1000 + 0.5)
    whole, fraction = divmod(milliseconds, 1000)
    return f"{whole // 3600:02d}:{whole // 60 % 60:02d}:{whole % 60:02d}.{fraction:03d}"


def podcast_guid(feed_url: str) -> uuid.UUID:
    """The Podcasting 2.0 ``podcast:guid`` of the feed at ``feed_url``: a UUIDv5 of the
    address without its scheme and trailing slashes."""
    bare = feed_url.split("://", 1)[-1].rstrip("/")
    return uuid.uuid5(PODCAST_GUIDS, bare)


def _text(parent: ET.Element, tag: str, text: str, keep_lines: bool = False,
          **attributes: str) -> None:
    # ElementTree writes any character, even those XML forbids: one would void the feed
    kept = "\n".join(clean_text(line) for line in text.split("\n")) if keep_lines \
        else clean_text(text)
    ET.SubElement(parent, tag, attributes).text = kept


def _date(timestamp: float) -> str:
    moment = datetime.datetime.fromtimestamp(timestamp, tz=datetime.timezone.utc)
    return email.utils.format_datetime(moment)


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def check_base_url(base_url: str | None) -> str:
    """``base_url`` ending in ``/`` ('' for none: addresses relative to the feed)."""
    if base_url is None:
        return ""
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query \
            or parts.fragment or _CONTROL.search(base_url):
        raise InvalidOption("--base-url", f"--base-url must be an http:// or https:// "
                            f"address, without ?query or #fragment: {base_url!r}")
    # a space or a quote as typed is written %20, %22...: an address may not hold them
    encoded = quote(base_url, safe=":/@!$&'()*+,;=%~-._[]")
    return encoded if encoded.endswith("/") else encoded + "/"


@dataclass(frozen=True)
class Written:
    feed: Path
    chapters: tuple[Path, ...]
    sessions: int
    courses: tuple[Path, ...] = ()
    """The feed of each course, in its folder."""


def course_title(folder: str) -> str:
    return f"{folder} ({TITLE})"


def write(folder: Path, base_url: str | None = None, owner: str | None = None
          ) -> Written:
    """Write ``feed.xml`` into ``folder``, ``NAME.chapters.json`` beside each session's
    MP3, a serial ``feed.xml`` into each course's folder and the covers into ``covers/``,
    each atomically, for hosting the folder as it is at ``base_url``; ``owner``: as
    ``rss`` takes it."""
    files_url = check_base_url(base_url)
    entries = Library(folder).sessions()
    chapters = []
    for entry in entries:
        path = folder / entry.name(CHAPTERS.suffix)
        _write(path, chapters_json(entry))
        chapters.append(path)
    pictures = {cover_url("", programme) for programme in  # '': tre-audio's own
                {"", *(entry.programme for entry in entries)}}
    for name in sorted(pictures):
        (folder / COVERS).mkdir(exist_ok=True)
        with atomic_file(folder / COVERS / name) as temporary:
            temporary.write_bytes(art.picture(name) or b"")
    courses = []
    for name, sessions in by_folder(entries).items():
        path = folder / name / FEED_NAME
        # without a base, addresses are relative to the course's feed, a folder or two down
        up = files_url or "../" * (name.count("/") + 1)
        _write(path, rss(sessions, up, files_url,
                         feed_url=files_url and files_url + quote(f"{name}/{FEED_NAME}"),
                         art_url=f"{up}{COVERS}/", serial=True, title=course_title(name),
                         owner=owner))
        courses.append(path)
    feed = folder / FEED_NAME
    _write(feed, rss(entries, files_url, files_url,
                     feed_url=files_url and files_url + FEED_NAME,
                     art_url=f"{files_url}{COVERS}/", owner=owner))
    return Written(feed, tuple(chapters), len(entries), tuple(courses))


def _write(path: Path, text: str) -> None:
    with atomic_file(path) as temporary:
        temporary.write_text(text, encoding="utf-8")
