"""Find the finished sessions in a folder and describe them, for the page and the feed.

A session is listed once its MP3 and its JSON timeline are both in place under their own
names. ``generate`` writes every file under a hidden temporary name
(``.NAME.mp3.XXXX.part``) and renames it when it is whole, so a session still being
written is never listed, and neither is an MP3 without its timeline. Hidden files and
folders are skipped, and a file is listed only if its real path (symlinks resolved) lies
inside the folder: a symlink that leads out of it is never followed.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .errors import InvalidOption

SIDE_FILES = (".txt", ".vtt", ".srt", ".json", ".svg")
"""Files that may lie beside a session's MP3 and are offered with it."""
CHAPTERS_SUFFIX = ".chapters.json"
"""The Podcasting 2.0 chapters of session NAME are NAME.chapters.json (see feed.py)."""
MAX_DEPTH = 2
"""How many levels of subfolders are searched (a course folder is one level down)."""
MANIFEST_FORMAT = "tre-audio manifest"


@dataclass(frozen=True)
class Chapter:
    title: str
    start: float
    end: float


@dataclass(frozen=True)
class Entry:
    """One finished session."""

    id: str
    """Its MP3's path inside the folder, with ``/`` between parts and without ``.mp3``."""
    title: str
    duration: float
    """Seconds, from the timeline."""
    modified: float
    """When the MP3 was written (seconds since the epoch)."""
    size: int
    """The MP3's size in bytes."""
    chapters: tuple[Chapter, ...]
    files: dict[str, Path] = field(compare=False)
    """Real paths by suffix: ``.mp3``, ``.json`` and whichever of the others exist."""

    @property
    def mp3(self) -> Path:
        return self.files[".mp3"]

    def name(self, suffix: str) -> str:
        """The relative name (``id`` + suffix) under which a file of this session is found."""
        return self.id + suffix


class Library:
    """The sessions in ``folder``, read again whenever a file changes."""

    def __init__(self, folder: Path) -> None:
        if not folder.is_dir():
            raise InvalidOption("DIR", f"no such folder: {folder} (make a session first: "
                                "tre-audio generate)")
        self.folder = folder
        self.root = folder.resolve()
        self._known: dict[Path, tuple[tuple[object, ...], Entry | None]] = {}
        self._lock = threading.Lock()

    def sessions(self) -> list[Entry]:
        """The finished sessions, newest first (then by id)."""
        entries = []
        seen = set()
        with self._lock:
            for mp3 in self._mp3s():
                seen.add(mp3)
                entry = self._entry(mp3)
                if entry is not None:
                    entries.append(entry)
            for gone in set(self._known) - seen:
                del self._known[gone]
        return sorted(entries, key=lambda e: (-e.modified, e.id))

    def find(self, session_id: str) -> Entry | None:
        return next((e for e in self.sessions() if e.id == session_id), None)

    def file(self, name: str) -> tuple[Entry, Path] | None:
        """The session and real path of a listed session's file ``name`` (relative, with
        ``/``: ``ID.mp3``, ``ID.vtt``...), or None: nothing else in the folder is offered."""
        for entry in self.sessions():
            for suffix, path in entry.files.items():
                if entry.name(suffix) == name:
                    return entry, path
        return None

    def _mp3s(self) -> Iterator[Path]:
        for top, folders, files in os.walk(self.root):
            depth = len(Path(top).relative_to(self.root).parts)
            folders[:] = sorted(f for f in folders
                                if not f.startswith(".") and depth < MAX_DEPTH)
            for name in sorted(files):
                if name.lower().endswith(".mp3") and not name.startswith("."):
                    yield Path(top) / name

    def _inside(self, path: Path) -> Path | None:
        """The real path of ``path`` if it is a file inside the folder, else None."""
        try:
            real = path.resolve(strict=True)
        except (OSError, RuntimeError):
            return None
        return real if real.is_relative_to(self.root) and real.is_file() else None

    def _entry(self, mp3: Path) -> Entry | None:
        files = {}
        for suffix in (".mp3",) + SIDE_FILES:
            real = self._inside(mp3.with_suffix(suffix))
            if real is not None:
                files[suffix] = real
        if ".mp3" not in files or ".json" not in files:
            return None
        try:
            key = tuple((suffix, *_stamp(path)) for suffix, path in files.items())
        except OSError:
            return None
        known = self._known.get(mp3)
        if known is not None and known[0] == key:
            return known[1]
        entry = _describe(mp3.relative_to(self.root).with_suffix("").as_posix(), files)
        self._known[mp3] = (key, entry)
        return entry


def _stamp(path: Path) -> tuple[int, int]:
    status = path.stat()
    return status.st_mtime_ns, status.st_size


def _describe(session_id: str, files: dict[str, Path]) -> Entry | None:
    """The session from its timeline, or None if that is not a tre-audio timeline."""
    try:
        timeline = json.loads(files[".json"].read_text(encoding="utf-8"))
        status = files[".mp3"].stat()
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    try:
        if not str(timeline["format"]).startswith(MANIFEST_FORMAT):
            return None
        chapters = tuple(Chapter(str(c["title"]), float(c["start"]), float(c["end"]))
                         for c in timeline["chapters"])
        return Entry(id=session_id, title=str(timeline["title"]),
                     duration=float(timeline["duration"]), modified=status.st_mtime,
                     size=status.st_size, chapters=chapters, files=files)
    except (KeyError, TypeError, ValueError):
        return None
