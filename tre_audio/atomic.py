"""Files written whole or not at all: a hidden part beside each file replaces it only when
it is complete, and parts that runs killed outright left are recognised and removed."""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import OutputError

try:
    import fcntl
except ImportError:  # Windows: parts are not locked, so leftovers are never removed
    fcntl = None  # type: ignore[assignment]

STALE_SECONDS = 10.0
"""A part file unlocked and untouched for this long was left by a run that was killed."""


@contextmanager
def atomic_file(final: Path) -> Iterator[Path]:
    """A temporary path beside ``final`` that replaces it only if the block succeeds.
    A read-only ``final`` is refused: someone made it so to keep it. Part files that
    killed runs left for ``final`` are removed first (``remove_leftovers``)."""
    check_replaceable(final)
    remove_leftovers(final.parent, f".{final.name}.", ".part")
    try:
        fd, name = tempfile.mkstemp(dir=final.parent, prefix=f".{final.name}.", suffix=".part")
    except OSError as error:
        raise OutputError(f"cannot write in {final.parent}: {error.strerror}") from None
    temporary = Path(name)
    try:
        lock(fd)
        os.chmod(temporary, 0o666 & ~_umask())  # mkstemp makes 0600; match a normal file
        yield temporary
        os.replace(temporary, final)
    except OSError as error:
        raise OutputError(f"cannot write {final}: {error.strerror}") from None
    finally:
        temporary.unlink(missing_ok=True)
        os.close(fd)


def lock(fd: int) -> None:
    """Lock the part file (or folder) open as ``fd`` as being written, until it is closed
    or the process dies, however it dies. Where the system cannot lock, nothing is."""
    if fcntl is not None:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            pass  # then no one can lock it, and remove_leftovers leaves it alone


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


def check_replaceable(path: Path) -> None:
    """Raise ``OutputError`` if ``path`` is a read-only file (someone made it so to keep it)."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return
    if stat.S_ISREG(mode) and not mode & 0o222:
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
