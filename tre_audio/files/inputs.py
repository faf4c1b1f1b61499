"""Reading files tre-audio did not make: regular files only, and never more than a limit.

A FIFO, a device such as ``/dev/zero`` or a symlink to one would otherwise hang a run
or fill the memory. Callers word the refusal for what they read (a script, a plan...).
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path


class Refused(OSError):
    """A file that is not read: not a regular file (``NotRegular``) or too large
    (``TooLarge``)."""


class NotRegular(Refused):
    def __init__(self, path: Path) -> None:
        super().__init__(errno.EINVAL, "not a regular file", str(path))


class TooLarge(Refused):
    def __init__(self, path: Path, limit: int) -> None:
        super().__init__(errno.EFBIG, f"larger than {size_text(limit)}", str(path))
        self.limit = limit


def size_text(size: int) -> str:
    """``1_000_000`` as ``1 MB``, ``262_144`` as ``256 kB``."""
    if size >= 1_000_000_000 and size % 1_000_000_000 == 0:
        return f"{size // 1_000_000_000} GB"
    if size >= 1_000_000 and size % 1_000_000 == 0:
        return f"{size // 1_000_000} MB"
    if size % 1024 == 0:
        return f"{size // 1024} kB"
    return f"{size:,} bytes"


def _open(path: Path) -> int:
    # O_NONBLOCK: a FIFO opens at once rather than waiting for a writer, then is refused
    return os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))


def read_head(path: Path, count: int) -> bytes:
    """The first ``count`` bytes of the regular file at ``path`` (symlinks followed), to
    tell what it is before it is read whole; else ``NotRegular``, or the ``OSError`` of
    opening it."""
    fd = _open(path)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise NotRegular(path)
        return os.read(fd, count)
    finally:
        os.close(fd)


def read_bytes(path: Path, limit: int) -> bytes:
    """The bytes of the regular file at ``path`` (symlinks followed), if it holds at most
    ``limit``; else ``NotRegular`` or ``TooLarge``, or the ``OSError`` of opening it."""
    fd = _open(path)
    try:
        status = os.fstat(fd)
        if not stat.S_ISREG(status.st_mode):
            raise NotRegular(path)
        if status.st_size > limit:
            raise TooLarge(path, limit)
        chunks, left = [], limit + 1  # the file may grow while it is read
        while left > 0:
            chunk = os.read(fd, min(left, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
    finally:
        os.close(fd)
    data = b"".join(chunks)
    if len(data) > limit:
        raise TooLarge(path, limit)
    return data


def read_file(path: Path, limit: int, what: str, error: type[Exception]) -> bytes:
    """``read_bytes``, each refusal an ``error`` of one line naming ``what`` (a script, a
    plan...) and ``path``."""
    try:
        return read_bytes(path, limit)
    except FileNotFoundError:
        raise error(f"{what} not found: {path}") from None
    except (IsADirectoryError, NotRegular):
        if path.is_dir():
            raise error(f"{what} {path} is a folder, not a file") from None
        raise error(f"{what} {path} is not a regular file") from None
    except TooLarge:
        raise error(f"{what} {path} is larger than {size_text(limit)}, the most a {what} "
                    "may be") from None
    except OSError as problem:
        raise error(f"cannot read {what} {path}: {problem.strerror}") from None
