"""Measure real files with ffmpeg and ffprobe, independently of the code under test."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np

RATE = 22050


def decode(path: Path) -> np.ndarray:
    """The file's audio as float mono samples at 22.05 kHz, decoded by ffmpeg."""
    raw = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(path), "-f", "s16le", "-ac", "1", "-ar", str(RATE), "-"],
        check=True, capture_output=True,
    ).stdout
    return np.frombuffer(raw, dtype="<i2").astype(np.float32) / 32768.0


def decode_saying(path: Path) -> tuple[np.ndarray, str]:
    """ffmpeg's decode of ``path`` as it is (mono floats) and what it said on stderr."""
    done = subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), "-f", "s16le", "-ac", "1",
                           "-"], capture_output=True, check=True)
    return np.frombuffer(done.stdout, "<i2") / 32768.0, done.stderr.decode()


def probe(path: Path) -> dict:
    """ffprobe's view: format (duration, tags), streams and chapters."""
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-print_format", "json", "-show_format",
         "-show_streams", "-show_chapters", str(path)],
        check=True, capture_output=True, text=True,
    ).stdout
    return json.loads(out)


def db(value: float) -> float:
    return 20 * np.log10(max(value, 1e-9))


def rms_db(samples: np.ndarray, start: float, end: float) -> float:
    """RMS level in dBFS of the stretch from ``start`` to ``end`` seconds."""
    part = samples[int(start * RATE) : int(end * RATE)]
    return db(float(np.sqrt(np.mean(np.square(part, dtype=np.float64))))) if part.size else -180.0


def peak_db(samples: np.ndarray) -> float:
    return db(float(np.max(np.abs(samples))))


class Blocks:
    """A writer for ``Master.run`` that keeps the blocks each part is given: the session
    in ``count`` parts split as the MP3 writer would (one by default)."""

    def __init__(self, count: int = 1) -> None:
        self.count, self.blocks = count, [[] for _ in range(count)]

    def split(self, length: int, grid: int):
        from tre_audio.mp3.export import plan_parts
        from tre_audio.mp3.frames import samples_per_frame

        self.parts = plan_parts(length, self.count, samples_per_frame(RATE), grid)
        return self.parts

    def write(self, block: np.ndarray, part: int = 0) -> None:
        self.blocks[part].append(block)

    @property
    def audio(self) -> np.ndarray:
        """What the first (or only) part was given, joined."""
        return np.concatenate(self.blocks[0])
