"""A disk cache of prepared speech clips, so a re-render reuses speech.

Entries are 16-bit mono WAV files named by a hash of everything that shapes the sound:
engine, voice file, rate, text, and the clip format version. Each holds, in a chunk of
its own before the samples (players skip it), the SHA-256 of its samples; an entry that
is truncated, damaged or not in this exact layout reads as missing and is made again.
The checksum only finds damage: whoever can write the folder can write a valid entry,
so the speaker checks what it reads as it checks what a voice makes (``speaker``).
Entries are written atomically, so renders may share the cache at once.
"""

from __future__ import annotations

import hashlib
import math
import os
import struct
import tempfile
from pathlib import Path

import numpy as np
import platformdirs

from ..files.inputs import read_bytes

CLIP_FORMAT = 8
"""Raise when clip preparation or the entry layout changes, so old entries are not reused."""
MAX_CLIP_SECONDS = 200
"""The longest clip an entry may hold: a sentence of the most characters a script
allows takes about 100 s."""

_HEADER = struct.Struct("<4sI4s 4sIHHIIHH 4sI32s 4sI")
"""RIFF/WAVE, a PCM ``fmt `` chunk, a ``sha2`` chunk (the samples' SHA-256), ``data``."""


def default_folder() -> Path:
    """``$TRE_AUDIO_CACHE`` if set, else the platform's cache folder."""
    override = os.environ.get("TRE_AUDIO_CACHE")
    if override:
        return Path(override)
    return Path(platformdirs.user_cache_dir("tre-audio")) / "speech"


def voice_identity(engine: str, fingerprint: str, wpm: float) -> str:
    """What names the voice in a clip's key (``ClipCache.key``): ``ENGINE:FINGERPRINT:WPM``,
    the engine, its module's ``fingerprint`` of the voice, and the rate."""
    return f"{engine}:{fingerprint}:{wpm:g}"


class ClipCache:
    def __init__(self, folder: Path, sample_rate: int) -> None:
        self.folder = folder
        self.sample_rate = sample_rate

    def key(self, voice: str, text: str) -> str:
        blob = f"{CLIP_FORMAT}\n{self.sample_rate}\n{voice}\n{text}".encode()
        return hashlib.sha256(blob).hexdigest()

    def _path(self, key: str) -> Path:
        return self.folder / key[:2] / f"{key}.wav"

    def _header(self, pcm: bytes) -> bytes:
        """The exact header an entry holding ``pcm`` starts with."""
        rate = self.sample_rate
        return _HEADER.pack(b"RIFF", _HEADER.size - 8 + len(pcm), b"WAVE",
                            b"fmt ", 16, 1, 1, rate, 2 * rate, 2, 16,
                            b"sha2", 32, hashlib.sha256(pcm).digest(),
                            b"data", len(pcm))

    def get(self, key: str) -> np.ndarray | None:
        """The clip stored under ``key``, or None if absent, unreadable, damaged, too large
        or not a regular file (a FIFO or a link to a device reads as missing, at once)."""
        try:
            blob = read_bytes(self._path(key), _HEADER.size + 2 * self.sample_rate
                              * MAX_CLIP_SECONDS)
        except OSError:
            return None
        pcm = blob[_HEADER.size:]
        if not pcm or len(pcm) % 2 or blob[:_HEADER.size] != self._header(pcm):
            return None
        return np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768.0

    def put(self, key: str, samples: np.ndarray) -> np.ndarray:
        """Store ``samples``; a cache that cannot be written is skipped silently. Returns
        them as stored (16-bit), as ``get`` will: a render that made them then sounds
        exactly like the renders that read them back."""
        pcm = (np.clip(samples, -1, 32767 / 32768) * 32768).astype("<i2")
        keep(self._path(key), self._header(pcm.tobytes()) + pcm.tobytes())
        return pcm.astype(np.float32) / 32768.0


def private_folder(folder: Path) -> None:
    """Make ``folder`` and any folder above it that is missing, each the user's alone:
    the cache holds the listener's name, spoken (mkstemp makes the entries 0600)."""
    missing = []
    while not folder.exists():
        missing.append(folder)
        if folder.parent == folder:
            break
        folder = folder.parent
    for each in reversed(missing):
        each.mkdir(mode=0o700, exist_ok=True)


def keep(path: Path, data: bytes) -> None:
    """Write ``data`` to the cache file ``path`` atomically, so renders may share it; if
    it cannot be written, nothing is kept and nothing is said (a cache only saves time)."""
    try:
        private_folder(path.parent)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as raw:
                raw.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError:
        pass


SPEED_AFTER = 120.0
"""Seconds of speech a run must make before its speed is kept: a few sentences are
mostly the voice warming up (a 30 s script showed 21x for a voice that speaks 99x)."""


def keep_speed(engine: str, voice: str, speed: float) -> None:
    """Keep how many times faster than real time ``voice`` spoke here (``list voices``
    shows it)."""
    keep(_speed_file(engine, voice), f"{speed!r}\n".encode("ascii"))


def kept_speed(engine: str, voice: str) -> float | None:
    """The speed kept for ``voice`` (None if none)."""
    try:
        speed = float(read_bytes(_speed_file(engine, voice), 64).decode("ascii"))
    except (OSError, ValueError):
        return None
    return speed if math.isfinite(speed) and 0 < speed < 1e6 else None


def _speed_file(engine: str, voice: str) -> Path:
    name = hashlib.sha256(f"speed:{engine}:{voice}".encode()).hexdigest()
    return default_folder() / "voice-rates" / name
