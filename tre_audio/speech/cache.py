"""A disk cache of prepared speech clips, so a re-render reuses speech.

Entries are 16-bit mono WAV files named by a hash of everything that shapes the sound:
engine, voice file, rate, text, and the clip format version. A damaged entry reads as
missing and is made again; entries are written atomically.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import wave
from pathlib import Path

import numpy as np
import platformdirs

CLIP_FORMAT = 6
"""Raise when clip preparation changes, so old entries are not reused."""


def default_folder() -> Path:
    """``$TRE_AUDIO_CACHE`` if set, else the platform's cache folder."""
    override = os.environ.get("TRE_AUDIO_CACHE")
    if override:
        return Path(override)
    return Path(platformdirs.user_cache_dir("tre-audio")) / "speech"


class ClipCache:
    def __init__(self, folder: Path, sample_rate: int) -> None:
        self.folder = folder
        self.sample_rate = sample_rate

    def key(self, voice: str, text: str) -> str:
        blob = f"{CLIP_FORMAT}\n{self.sample_rate}\n{voice}\n{text}".encode()
        return hashlib.sha256(blob).hexdigest()

    def _path(self, key: str) -> Path:
        return self.folder / key[:2] / f"{key}.wav"

    def get(self, key: str) -> np.ndarray | None:
        """The clip stored under ``key``, or None if absent or unreadable."""
        try:
            with wave.open(str(self._path(key)), "rb") as wav:
                ok = (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (
                    1, 2, self.sample_rate,
                )
                frames = wav.readframes(wav.getnframes())
                if not ok or len(frames) != 2 * wav.getnframes() or not frames:
                    return None
        except (OSError, EOFError, wave.Error):
            return None
        return np.frombuffer(frames, dtype="<i2").astype(np.float32) / 32768.0

    def put(self, key: str, samples: np.ndarray) -> None:
        """Store ``samples``; a cache that cannot be written is skipped silently."""
        path = self._path(key)
        pcm = (np.clip(samples, -1, 32767 / 32768) * 32768).astype("<i2").tobytes()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
            try:
                with os.fdopen(fd, "wb") as raw, wave.open(raw, "wb") as wav:
                    wav.setnchannels(1)
                    wav.setsampwidth(2)
                    wav.setframerate(self.sample_rate)
                    wav.writeframes(pcm)
                os.replace(tmp, path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError:
            pass  # speech is still used for this render; it is only not kept
