"""The files a session has, each named ``NAME`` + its suffix: the MP3 and those beside it.

The one list of them: what ``generate`` writes and replaces, what the library offers and
the server serves, what the page links to and what a course calls its own.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Kind:
    """One kind of file a session has."""

    suffix: str
    label: str
    """What it is, for people (the session page's downloads)."""
    media_type: str
    """Its type when served."""
    every: bool
    """Whether every session has one; else only some do."""


MP3 = Kind(".mp3", "Audio (MP3)", "audio/mpeg", True)
TRANSCRIPT = Kind(".txt", "Transcript (text)", "text/plain; charset=utf-8", True)
WEBVTT = Kind(".vtt", "Subtitles (WebVTT)", "text/vtt; charset=utf-8", True)
SRT = Kind(".srt", "Subtitles (SRT)", "application/x-subrip; charset=utf-8", True)
TIMELINE = Kind(".json", "Timeline (JSON)", "application/json", True)
PICTURE = Kind(".svg", "Picture (SVG)", "image/svg+xml", False)
"""Written with the session only when asked for (``--plot``)."""
CHAPTERS = Kind(".chapters.json", "Chapters (JSON)", "application/json+chapters", False)
"""The Podcasting 2.0 chapters ``tre-audio feed`` writes (the server makes them from the
timeline instead): a session's name may not end in ``.chapters``."""

WRITTEN = (TRANSCRIPT, WEBVTT, SRT, TIMELINE, PICTURE)
"""What ``generate`` may write beside the MP3, in this order; what the library offers."""
BESIDE = (*WRITTEN, CHAPTERS)
"""Every file that may lie beside a session's MP3."""
EVERY = tuple(kind for kind in BESIDE if kind.every)
"""Beside every MP3: transcript, subtitles and the timeline."""
SOME = tuple(kind for kind in BESIDE if not kind.every)
"""Beside some MP3s only: an earlier session of the same name may have left them."""


def suffixes_of(kinds: tuple[Kind, ...]) -> tuple[str, ...]:
    """The suffixes of ``kinds``, in their order."""
    return tuple(kind.suffix for kind in kinds)


@dataclass(frozen=True)
class CourseFile:
    """A file a course has once in its folder, beside its sessions."""

    name: str
    label: str
    media_type: str


PLAYLIST = CourseFile("course.m3u8", "Playlist (M3U)", "audio/x-mpegurl; charset=utf-8")
SCHEDULE = CourseFile("schedule.md", "Schedule (Markdown)", "text/markdown; charset=utf-8")
COURSE = (PLAYLIST, SCHEDULE)
