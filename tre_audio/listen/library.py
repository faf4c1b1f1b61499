"""Find the finished sessions in a folder and describe them, for the page and the feed.

A session is listed once its MP3 and its JSON timeline are both in place under their own
names. ``generate`` writes every file under a hidden temporary name
(``.NAME.mp3.XXXX.part``) and renames it when it is whole, so a session still being
written is never listed, and neither is an MP3 without its timeline. Hidden files and
folders are skipped.

Only regular files with one link are offered: a session one of whose files is a hard link
(it may be any file of the disk), a symlink that leads out of the folder, or not a regular
file, is skipped, and so is a file or folder whose name is not UTF-8 or has control
characters. Each skip is kept with its reason in ``Library.skipped`` and passed once to
``report``. Titles read from the timelines lose their control characters.

The listing is kept between requests: each folder is read again only when its own time
stamps change (a file added, removed or renamed in it, as ``generate`` does), so asking
for the sessions costs one ``stat`` a folder. A file changed in place, without a rename,
is seen when its folder next changes.
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import json
import math
import os
import re
import stat
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from ..beside.files import CHAPTERS, COURSE, MP3, WRITTEN, suffixes_of
from ..beside.timedtext import FORMAT_NAME
from ..errors import InvalidOption
from ..files.inputs import TooLarge, read_bytes, size_text
from ..narration.programmes import LANGUAGE
from ..options.settings import control_character

MAX_DEPTH = 2
"""How many levels of subfolders are searched (a course folder is one level down)."""
TIMELINE_LIMIT = 16_000_000
"""The largest JSON timeline read (an hour's session writes about 200 kB)."""
LATEST = 253_370_764_800.0
"""The latest time a session may say it was made (9998-12-31): a day either way of any
time zone still has a date."""
SETTLE_NS = 2_000_000_000
"""A folder whose modification time is this close to when it was read is read again at
the next request: a change within the same tick of a coarse clock leaves the time as it
was (as git's "racy" index entries)."""

_OLD_SESSIONS = uuid.UUID("5d1e4f2a-9b0c-4c61-8f53-7a2e6b1d0c94")
"""The namespace of the ids made for sessions whose timeline has none."""
_COURSE_FILES = frozenset(kind.name for kind in COURSE)
_NAME = re.compile(r"[a-z0-9_-]{1,64}", re.ASCII)
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_BREAK = re.compile("[\t\n\r]")
_UNDECODED = re.compile("[\udc80-\udcff]")  # bytes that were not UTF-8 (surrogateescape)


def clean_text(text: str) -> str:
    """``text`` without control characters (tabs and line breaks become spaces) nor code
    points that XML cannot carry: for what is read from files tre-audio did not make."""
    return _CONTROL.sub("", _BREAK.sub(" ", text))


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
    made: float
    """When the session was made, from its timeline (its MP3's ``modified`` for timelines
    before there): a copy, a restore or a sync keeps it."""
    uid: str
    """The session's own id, from its timeline (for timelines before there, one derived
    from the timeline's bytes): the feed's GUID, kept by a copy as ``made`` is."""
    size: int
    """The MP3's size in bytes."""
    chapters: tuple[Chapter, ...]
    files: dict[str, Path] = field(compare=False)
    """Real paths by suffix: ``.mp3``, ``.json`` and whichever of the others exist."""
    identities: dict[str, tuple[int, int]] = field(compare=False, default_factory=dict)
    """``(st_dev, st_ino)`` of each file when it was listed, by suffix."""
    language: str = "en"
    """The session's language, from its timeline (``en`` for timelines before there)."""
    notice: str = ""
    """The notice the session carries, in its language ('' if its timeline has none)."""
    programme: str = ""
    """The programme it was made with, from its timeline ('' for one made from a script,
    or whose timeline does not say)."""

    @property
    def mp3(self) -> Path:
        return self.files[".mp3"]

    def name(self, suffix: str) -> str:
        """The relative name (``id`` + suffix) under which a file of this session is found."""
        return self.id + suffix

    def open(self, suffix: str) -> BinaryIO:
        """The session's file, opened only if it is still the regular file with one link
        that was listed; else ``Changed`` (or the ``OSError`` of opening it)."""
        return _open_listed(self.files[suffix], self.identities.get(suffix))

    def read_text(self, suffix: str, limit: int) -> str | None:
        """The text of the session's file (at most ``limit`` bytes of UTF-8), or None."""
        try:
            with self.open(suffix) as handle:
                data = handle.read(limit + 1)
            return data.decode("utf-8") if len(data) <= limit else None
        except (OSError, KeyError, UnicodeDecodeError):
            return None


class Changed(OSError):
    """A listed file that is no longer the one listed (replaced, linked, moved)."""


def _open_listed(path: Path, identity: tuple[int, int] | None) -> BinaryIO:
    """``path`` opened only if it is still the regular file with one link and the
    ``(st_dev, st_ino)`` that was listed; else ``Changed`` (or the ``OSError`` of opening
    it)."""
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0) \
        | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(path, flags)
    try:
        status = os.fstat(fd)
        if not stat.S_ISREG(status.st_mode) or status.st_nlink != 1 or \
                (status.st_dev, status.st_ino) != identity:
            raise Changed(path)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


@dataclass(frozen=True)
class Offered:
    """A course's own file (its playlist or schedule), as listed."""

    name: str
    """Its path inside the folder, with ``/`` between parts."""
    path: Path
    identity: tuple[int, int]

    def open(self) -> BinaryIO:
        return _open_listed(self.path, self.identity)


@dataclass(frozen=True)
class _Folder:
    """What one read of a folder found."""

    stamp: tuple[int, ...]
    settled: bool
    """Read long enough after its last change that an unchanged stamp means unchanged."""
    entries: tuple[Entry, ...]
    candidates: frozenset[str]
    """The ids of all its MP3s, listed or not."""
    folders: tuple[str, ...]
    """Its subfolders to search, relative to the library's folder."""
    extras: tuple[Offered, ...] = ()
    """A course's playlist and schedule, in a subfolder."""


@dataclass(frozen=True)
class Listing:
    """The sessions as found at one time; ``version`` goes up with every change."""

    version: int
    sessions: tuple[Entry, ...]
    by_id: dict[str, Entry]
    by_file: dict[str, tuple[Entry, str]]
    extras: dict[str, Offered] = field(default_factory=dict)
    """A course's playlist and schedule, by name."""


class Library:
    """The sessions in ``folder``; ``report`` hears of each skipped file once, with why."""

    def __init__(self, folder: Path, report: Callable[[str], None] | None = None) -> None:
        if not folder.is_dir():
            raise InvalidOption("DIR", f"no such folder: {folder} (make a session first: "
                                "tre-audio generate)")
        self.folder = folder
        self.root = folder.resolve()
        self.report = report
        self.scans = 0
        """How many times a folder was read."""
        self.skipped: list[str] = []
        """Why each skipped session or name was skipped, in the order found."""
        self._folders: dict[str, _Folder] = {}
        self._described: dict[str, tuple[tuple[object, ...], Entry | None]] = {}
        self._listing = Listing(0, (), {}, {})
        self._lock = threading.Lock()

    def sessions(self) -> list[Entry]:
        """The finished sessions, newest first (then by id)."""
        return list(self.refresh().sessions)

    def find(self, session_id: str) -> Entry | None:
        return self.refresh().by_id.get(session_id)

    def open(self, name: str) -> BinaryIO | None:
        """A listed session's file ``name`` (relative, with ``/``: ``ID.mp3``,
        ``ID.vtt``..., or a course's playlist and schedule), open, or None: nothing else
        in the folder is offered (see ``Entry.open``). A file replaced since the listing
        was made is looked up again."""
        for _ in range(2):
            listing = self.refresh()
            found = listing.by_file.get(name)
            extra = listing.extras.get(name)
            try:
                if found is not None:
                    return found[0].open(found[1])
                return extra.open() if extra is not None else None
            except Changed:
                continue
            except OSError:
                return None
        return None

    def refresh(self) -> Listing:
        """The listing, after reading again each folder whose time stamps changed."""
        with self._lock:
            seen: set[str] = set()
            changed = self._visit("", 0, seen)
            for gone in set(self._folders) - seen:
                del self._folders[gone]
                changed = True
            if changed:
                self._relist()
            return self._listing

    def _visit(self, relative: str, depth: int, seen: set[str]) -> bool:
        """Bring the folder ``relative`` and its subfolders up to date; whether any
        changed."""
        path = self.root / relative if relative else self.root
        try:
            status = os.stat(path) if not relative else os.lstat(path)
        except OSError:
            return False  # gone: dropped with the folders not seen
        if not stat.S_ISDIR(status.st_mode):
            return False
        seen.add(relative)
        stamp = (status.st_dev, status.st_ino, status.st_mtime_ns, status.st_ctime_ns)
        known = self._folders.get(relative)
        changed = False
        if known is None or known.stamp != stamp or not known.settled:
            before = known
            known = self._scan(relative, depth, stamp, status.st_mtime_ns)
            self._folders[relative] = known
            # an entry is remade only when one of its files changed: compare identities
            changed = before is None or len(before.entries) != len(known.entries) or any(
                old is not new for old, new in zip(before.entries, known.entries)) or \
                before.extras != known.extras
        for folder in known.folders:
            changed = self._visit(folder, depth + 1, seen) or changed
        return changed

    def _scan(self, relative: str, depth: int, stamp: tuple[int, ...], modified: int
              ) -> _Folder:
        self.scans += 1
        started = time.time_ns()
        path = self.root / relative if relative else self.root
        try:
            with os.scandir(path) as listing:
                found = [(item.name, item.is_dir(follow_symlinks=False)) for item in listing]
        except OSError:
            found = []
        names = {name for name, _ in found}
        folders, entries, candidates, extras = [], [], set(), []
        for name, is_folder in sorted(found):
            if name.startswith("."):
                continue
            inside = f"{relative}/{name}" if relative else name
            if relative and not is_folder and name in _COURSE_FILES:
                offered = self._extra(path / name, inside)
                if offered is not None:
                    extras.append(offered)
            elif is_folder:
                if depth < MAX_DEPTH and self._good_name(inside, "folder"):
                    folders.append(inside)
            elif name.lower().endswith(".mp3") and self._good_name(inside, "file"):
                candidates.add(inside[: -len(".mp3")])
                entry = self._entry(path, relative, name, names)
                if entry is not None:
                    entries.append(entry)
        return _Folder(stamp, started - modified > SETTLE_NS, tuple(entries),
                       frozenset(candidates), tuple(folders), tuple(extras))

    def _extra(self, path: Path, inside: str) -> Offered | None:
        """A course's file at ``path`` as offered, or None (skipped, and said why)."""
        if not self._good_name(inside, "file"):
            return None
        try:
            real, status = self._regular(path)
        except _NotOffered as why:
            self._skip(f"{inside} {why}")
            return None
        except OSError:
            return None  # gone since the folder was read
        return Offered(inside, real, (status.st_dev, status.st_ino))

    def _good_name(self, relative: str, kind: str) -> bool:
        if _UNDECODED.search(relative):
            self._skip(f"a {kind} whose name is not UTF-8: {os.fsencode(relative)!r}")
            return False
        if control_character(relative) is not None:
            self._skip(f"a {kind} whose name has control characters: {relative!r}")
            return False
        if "\\" in relative:  # no address can name it: the server refuses backslashes
            self._skip(f"a {kind} whose name has a backslash: {relative!r}")
            return False
        if kind == "file" and relative.lower().endswith(CHAPTERS.suffix[:-5] + ".mp3"):
            self._skip(f"session {relative[:-4]}: a name ending in .chapters is a feed's "
                       "chapter file's")
            return False
        return True

    def _skip(self, reason: str) -> None:
        if reason in self.skipped:
            return
        self.skipped.append(reason)
        if self.report is not None:
            self.report(reason)

    def _entry(self, folder: Path, relative: str, mp3: str, names: set[str]) -> Entry | None:
        """The session of the MP3 named ``mp3`` in ``folder`` (whose files are ``names``),
        or None: not finished, not a tre-audio session, or skipped (and said why)."""
        stem = mp3[: -len(".mp3")]
        session_id = f"{relative}/{stem}" if relative else stem
        files, statuses = {}, {}
        for suffix in suffixes_of((MP3, *WRITTEN)):
            name = mp3 if suffix == ".mp3" else stem + suffix
            if name not in names:
                continue
            try:
                real, status = self._regular(folder / name)
            except _NotOffered as why:
                self._skip(f"session {session_id}: {name} {why}")
                return None
            except OSError:
                continue  # gone since the folder was read
            files[suffix], statuses[suffix] = real, status
        if ".mp3" not in files or ".json" not in files:
            return None
        key = tuple((suffix, s.st_dev, s.st_ino, s.st_mtime_ns, s.st_ctime_ns, s.st_size)
                    for suffix, s in statuses.items())
        known = self._described.get(session_id)
        if known is not None and known[0] == key:
            return known[1]
        identities = {suffix: (s.st_dev, s.st_ino) for suffix, s in statuses.items()}
        try:
            entry = _describe(session_id, files, identities, statuses[".mp3"])
        except TooLarge:
            self._skip(f"session {session_id}: {stem}.json is larger than "
                       f"{size_text(TIMELINE_LIMIT)}")
            entry = None
        self._described[session_id] = (key, entry)
        return entry

    def _regular(self, path: Path) -> tuple[Path, os.stat_result]:
        """The real path and status of ``path``, a regular file with one link inside the
        folder; else ``_NotOffered`` saying why."""
        status = os.lstat(path)
        real = path
        if stat.S_ISLNK(status.st_mode):
            try:
                real = path.resolve(strict=True)
            except (OSError, RuntimeError):
                raise _NotOffered("is a broken symlink") from None
            if not real.is_relative_to(self.root):
                raise _NotOffered("leads out of the folder (a symlink)")
            if any(part.startswith(".") for part in real.relative_to(self.root).parts):
                raise _NotOffered("leads to a hidden file (a symlink)")
            status = os.stat(real)
        if not stat.S_ISREG(status.st_mode):
            raise _NotOffered("is not a regular file")
        if status.st_nlink != 1:
            raise _NotOffered(f"has {status.st_nlink} links (a hard link)")
        return real, status

    def _relist(self) -> None:
        entries = _own_ids([e for folder in self._folders.values() for e in folder.entries])
        entries.sort(key=lambda e: (-e.made, e.id))
        by_file = {e.name(suffix): (e, suffix) for e in entries for suffix in e.files}
        present = set().union(*(folder.candidates for folder in self._folders.values()))
        for gone in set(self._described) - present:
            del self._described[gone]
        extras = {x.name: x for folder in self._folders.values() if folder.entries
                  for x in folder.extras}  # only a folder of sessions is a course
        self._listing = Listing(self._listing.version + 1, tuple(entries),
                                 {e.id: e for e in entries}, by_file, extras)


class _NotOffered(Exception):
    """Why a session's file is not offered (completes "NAME ...")."""


def _describe(session_id: str, files: dict[str, Path],
              identities: dict[str, tuple[int, int]], mp3: os.stat_result) -> Entry | None:
    """The session from its timeline, or None if that is not a tre-audio timeline.
    Raises ``TooLarge`` for a timeline over ``TIMELINE_LIMIT``."""
    try:
        data = read_bytes(files[".json"], TIMELINE_LIMIT)
        timeline = json.loads(data.decode("utf-8"))
    except TooLarge:
        raise
    except (OSError, UnicodeDecodeError, ValueError, RecursionError):
        return None
    try:
        if not str(timeline["format"]).startswith(FORMAT_NAME):
            return None
        chapters = tuple(Chapter(clean_text(str(c["title"])), _seconds(c["start"]),
                                 _seconds(c["end"])) for c in timeline["chapters"])
        language = str(timeline.get("language", "en"))
        return Entry(id=session_id, title=clean_text(str(timeline["title"])),
                     duration=_seconds(timeline["duration"]), modified=mp3.st_mtime,
                     made=_made(timeline.get("made"), mp3.st_mtime),
                     uid=_uid(timeline.get("id"), data),
                     size=mp3.st_size, chapters=chapters, files=files,
                     identities=identities,
                     language=language if LANGUAGE.fullmatch(language) else "en",
                     notice=clean_text(str(timeline.get("notice", ""))),
                     programme=_programme(timeline.get("settings")))
    except (KeyError, TypeError, ValueError):
        return None


def by_folder(entries: Sequence[Entry]) -> dict[str, list[Entry]]:
    """The sessions in a folder of their own (a course's), by folder, in their order; the
    folders in the order their first sessions come in ``entries``."""
    folders: dict[str, list[Entry]] = {}
    for entry in entries:
        if "/" in entry.id:
            folders.setdefault(entry.id.rsplit("/", 1)[0], []).append(entry)
    return {name: sorted(found, key=lambda e: e.id) for name, found in folders.items()}


def _programme(settings: object) -> str:
    """The programme a timeline's settings name ('' if none, or not a plain name)."""
    named = settings.get("programme") if isinstance(settings, dict) else None
    return named if isinstance(named, str) and _NAME.fullmatch(named) else ""


def _own_ids(entries: list[Entry]) -> list[Entry]:
    """``entries`` with one ``uid`` each: a session copied inside the folder has its
    original's, which the first made (by file time, then id) keeps; each copy gets one of
    its own, made from that and its id."""
    first: dict[str, Entry] = {}
    for entry in sorted(entries, key=lambda e: (e.modified, e.id)):
        first.setdefault(entry.uid, entry)
    return [e if first[e.uid] is e else dataclasses.replace(
        e, uid=str(uuid.uuid5(uuid.UUID(e.uid), e.id))) for e in entries]


def _made(value: object, otherwise: float) -> float:
    """A timeline's ``made`` (ISO 8601 with its offset) in seconds since the epoch, or
    ``otherwise`` (the MP3's time), if it is none or out of ``LATEST``'s range: every
    time given out can be written as a date in any time zone (or 0, the epoch)."""
    try:
        moment = datetime.datetime.fromisoformat(str(value))
        if moment.tzinfo is not None and 0 <= moment.timestamp() <= LATEST:
            return moment.timestamp()
    except (ValueError, OverflowError, OSError):
        pass
    return otherwise if 0 <= otherwise <= LATEST else 0.0


def _uid(value: object, timeline: bytes) -> str:
    """A timeline's ``id`` if it is a UUID, else a UUID made from the timeline's bytes."""
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        return str(uuid.uuid5(_OLD_SESSIONS, hashlib.sha256(timeline).hexdigest()))


def _seconds(value: object) -> float:
    """A time from a timeline: a finite number of seconds, not below 0 (else ValueError)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or \
            not math.isfinite(value) or value < 0:
        raise ValueError(f"not a time in seconds: {value!r}")
    return float(value)
