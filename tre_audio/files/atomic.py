"""Files written whole or not at all: a hidden part beside each file replaces it only when
it is complete, and parts that runs killed outright left are recognised and removed."""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from ..errors import InvalidOption, OutputError
from ..options.settings import control_character

try:
    import fcntl
except ImportError:  # Windows: parts are not locked, so leftovers are never removed
    fcntl = None  # type: ignore[assignment]

STALE_SECONDS = 10.0
"""A part file unlocked and untouched for this long was left by a run that was killed."""


@contextmanager
def atomic_file(final: Path, private: bool = False) -> Iterator[Path]:
    """A temporary path beside ``final`` that replaces it only if the block succeeds,
    with ``final``'s permissions (a new file is the user's alone if ``private``). A
    read-only ``final`` is refused: someone made it so to keep it. Part files that
    killed runs left for ``final`` are removed first (``remove_leftovers``)."""
    with atomic_files() as part:
        yield part(final, private)


@contextmanager
def atomic_files() -> Iterator[_FileSet]:
    """Files written as one set: ``part(final)`` gives a temporary path beside ``final``
    (as ``atomic_file`` does), ``part.drop(final)`` names a file to remove. If the block
    succeeds, every part replaces its file, the first asked for last (a session's MP3,
    which readers wait for), then the dropped files go, while the folders' locks are
    held (``folder_lock``): two runs writing the same files at once leave the whole set
    of one of them, never a mix. A failure names the file last asked for."""
    with ExitStack() as stack:
        files = _FileSet(stack)
        yield files
        with ExitStack() as locks:
            finals = [final for _, final in files.parts] + files.dropped
            for folder in sorted({final.parent for final in finals}):
                locks.enter_context(folder_lock(folder))
            for final in finals:  # what would fail part way, found before anything moves
                if final.is_dir() and not final.is_symlink():
                    raise OutputError(f"cannot write {final}: it is a folder; nothing was "
                                      "written")
            for final in files.new:
                if final.exists() or final.is_symlink():
                    raise OutputError(f"{final} was made by another run meanwhile; nothing "
                                      "was written (run again for the next free name)")
            for temporary, final in reversed(files.parts):
                try:
                    os.replace(temporary, final)
                except OSError as error:
                    raise OutputError(f"cannot write {final}: {error.strerror}") from None
            for final in files.dropped:
                final.unlink(missing_ok=True)


class _FileSet:
    """``part(final)``: a temporary path that will replace ``final``; ``drop(final)``:
    a file that goes when the set is moved into place."""

    def __init__(self, stack: ExitStack) -> None:
        self._stack = stack
        self.parts: list[tuple[Path, Path]] = []
        self.dropped: list[Path] = []
        self.new: list[Path] = []

    def __call__(self, final: Path, private: bool = False, new: bool = False) -> Path:
        """``new``: ``final`` must not be there when the set is moved into place."""
        self.parts.append((self._stack.enter_context(_part(final, private)), final))
        if new:
            self.new.append(final)
        return self.parts[-1][0]

    def drop(self, final: Path) -> None:
        self.dropped.append(final)


@contextmanager
def _part(final: Path, private: bool = False) -> Iterator[Path]:
    """A hidden, locked part file beside ``final``, removed when the block ends."""
    check_replaceable(final)
    remove_leftovers(final.parent, f".{final.name}.", ".part")
    try:
        fd, name = tempfile.mkstemp(dir=final.parent, prefix=f".{final.name}.", suffix=".part")
    except OSError as error:
        raise OutputError(f"cannot write in {final.parent}: {error.strerror}") from None
    temporary = Path(name)
    try:
        lock(fd)
        os.chmod(temporary, _mode(final, private))
        yield temporary
    except OSError as error:
        raise OutputError(f"cannot write {final}: {error.strerror}") from None
    finally:
        temporary.unlink(missing_ok=True)
        os.close(fd)


@contextmanager
def folder_lock(folder: Path) -> Iterator[None]:
    """Hold ``folder``'s lock (waiting for it) while files are moved into it, so that
    runs moving files there at once take turns. Where the system cannot lock, nothing
    is locked."""
    if fcntl is None:
        yield
        return
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError as error:
        raise OutputError(f"cannot write in {folder}: {error.strerror}") from None
    try:
        status = os.fstat(fd)
        if (status.st_dev, status.st_ino) not in _held_folders:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
            except OSError:
                pass  # a file system that cannot lock: as on Windows
        yield
    finally:
        os.close(fd)


def lock(fd: int) -> None:
    """Lock the part file (or folder) open as ``fd`` as being written, until it is closed
    (``release``) or the process dies, however it dies. Where the system cannot lock,
    nothing is."""
    if fcntl is not None:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return  # then no one can lock it, and remove_leftovers leaves it alone
        status = os.fstat(fd)
        if stat.S_ISDIR(status.st_mode):
            _held_folders.add((status.st_dev, status.st_ino))


def release(fd: int) -> None:
    """Close ``fd``, a part file or folder ``lock`` locked, which lets the lock go."""
    try:
        status = os.fstat(fd)
        _held_folders.discard((status.st_dev, status.st_ino))
    finally:
        os.close(fd)


_held_folders: set[tuple[int, int]] = set()
"""Part folders this process holds locked (a course's staging folder): files are moved
into one without taking its lock again, which would wait on this process itself."""


def remove_leftovers(folder: Path, prefix: str, suffix: str) -> None:
    """Remove the part files or folders ``prefix*suffix`` in ``folder`` that runs killed
    outright (SIGKILL, a power cut) left behind. A part being written is locked
    (``lock``), so one that can be locked and has not changed for ``STALE_SECONDS`` has
    no writer left. Whatever cannot be checked is left alone."""
    if fcntl is None:
        return
    try:
        names = [n for n in os.listdir(folder) if n.startswith(prefix) and n.endswith(suffix)
                 and len(n) > len(prefix) + len(suffix)]
    except OSError:
        return
    for name in names:
        path = folder / name
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except OSError:
            continue
        try:
            status = os.fstat(fd)
            if time.time() - status.st_mtime < STALE_SECONDS:
                continue
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            if stat.S_ISDIR(status.st_mode):
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
        except OSError:
            continue  # in use, or not ours to remove
        finally:
            os.close(fd)


def check_name(path: Path, option: str = "--out") -> None:
    """Raise ``InvalidOption`` unless ``path`` is text that every file beside it, the
    page and the feed can carry: UTF-8, and plain (``settings.control_character``). The
    message carries the name as it is; the command line quotes what a terminal would
    not show."""
    try:
        text = os.fsencode(path).decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidOption(option, f"the output path is not UTF-8 text: {path}; choose "
                            "another name") from None
    if control_character(text) is not None:
        raise InvalidOption(option, f"the output path holds a control character: {path}; "
                            "choose another name")


def _mode(final: Path, private: bool) -> int:
    """The permissions of the file that replaces ``final``: 0600 if ``private`` (what it
    holds is the user's alone, whatever the file had), else those ``final`` has (someone
    may have made a session theirs alone), else a new file's."""
    if private:
        return 0o600
    try:
        status = final.stat()
        if stat.S_ISREG(status.st_mode):
            return stat.S_IMODE(status.st_mode)
    except OSError:
        pass
    return 0o666 & ~_umask()


def check_replaceable(path: Path) -> None:
    """Raise ``OutputError`` if ``path`` is a read-only file (someone made it so to keep
    it), or something other than a file (a device such as ``/dev/null``, a named pipe, a
    socket, or a link to one): renaming a new file over it would replace it."""
    try:
        mode = path.stat().st_mode
    except OSError:
        mode = None  # not there, or a link that leads nowhere: a file may take its place
    try:
        own = path.lstat().st_mode
    except OSError:
        return
    if stat.S_ISDIR(own) or mode is not None and stat.S_ISDIR(mode):
        return  # a folder: its writers say so in their own words
    if not (stat.S_ISREG(own) or stat.S_ISLNK(own)) or \
            mode is not None and not stat.S_ISREG(mode):
        raise OutputError(f"{path} is not a regular file; not replacing it (choose another "
                          "name)")
    if mode is not None and not mode & 0o222:
        raise OutputError(f"{path} is read-only; not replacing it (make it writable, or "
                          "write to another file)")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def check_writable(folder: Path) -> None:
    """Raise ``OutputError`` unless a file can be created in ``folder``."""
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:
        raise OutputError(f"output folder is not writable: {folder} ({error.strerror})") from None
