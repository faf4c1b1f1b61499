"""Bring a mixed session to its loudness under a true-peak ceiling, block by block.

Two passes over the mixer, neither holding the session in memory: the first measures
the integrated loudness (BS.1770), the second applies the gain that reaches the target,
limits the peaks that gain pushes over the ceiling with a smooth look-ahead gain, and
hands each block on (to the MP3 encoder). The limiter takes a little loudness off the
peaks, so the result is measured again and, if it missed by more than ``RETRY_LU``,
made once more with the gain corrected.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from .limiter import limiter_gain, reach
from .loudness import LoudnessMeter, true_peak_per_sample
from .mix import Mixer

CEILING_DBTP = -2.5
"""The true-peak ceiling before encoding: MP3 encoding adds overshoot (0.3-1.0 dB
measured with ffmpeg's ebur128), and the file must measure at or under -1 dBTP."""
BLOCK = 30.0
"""Seconds mixed at a time."""
RETRY_LU = 0.3
SESSION_SPEECH_LUFS = -21.5
"""What a session mixes to before mastering (speech at -20 dBFS RMS, measured on the
classic programme): the gain a session gets is about the target less this."""
MAX_GAIN = 30.0


class Master:
    """Loudness and limiting for one mixer; ``run`` feeds the finished blocks to a sink."""

    def __init__(self, mixer: Mixer) -> None:
        self.mixer = mixer
        self.rate = mixer.rate
        self.margin = reach(self.rate) + 16
        self.block = int(BLOCK * self.rate)
        self.ceiling = 10 ** (CEILING_DBTP / 20)

    def measure(self, progress: Progress | None = None) -> float:
        """The mix's integrated loudness before any gain, in LUFS."""
        meter = LoudnessMeter(self.rate, self.mixer.channels)
        for start in range(0, self.mixer.length, self.block):
            meter.add(self.mixer.render(start, min(start + self.block, self.mixer.length)))
            if progress:
                progress(min(start + self.block, self.mixer.length), self.mixer.length)
        return meter.integrated

    def run(self, gain_db: float, sink: Callable[[np.ndarray], None],
            progress: Progress | None = None) -> float:
        """Mix, amplify by ``gain_db``, limit, and pass each block to ``sink``; returns
        the loudness of what was passed on."""
        gain = np.float32(10 ** (gain_db / 20))
        meter = LoudnessMeter(self.rate, self.mixer.channels)
        floor = self.ceiling / 2 / gain  # quieter samples cannot reach the ceiling
        for start in range(0, self.mixer.length, self.block):
            end = min(start + self.block, self.mixer.length)
            wide = self.mixer.render(start - self.margin, end + self.margin)
            peaks = true_peak_per_sample(wide, floor) * gain
            limit = limiter_gain(peaks, self.ceiling, self.rate)[self.margin : -self.margin]
            block = wide[self.margin : -self.margin] * gain
            block *= limit if block.ndim == 1 else limit[:, None]
            meter.add(block)
            sink(block)
            if progress:
                progress(end, self.mixer.length)
        return meter.integrated


Progress = Callable[[int, int], None]


class Writer(Protocol):
    def write(self, block: np.ndarray) -> None: ...


@dataclass(frozen=True)
class Mastered:
    gain: float
    """dB applied to the mix."""
    loudness: float
    """Integrated loudness reached, LUFS."""


def master(mixer: Mixer, target_lufs: float,
           open_writer: Callable[[], AbstractContextManager[Writer]],
           progress: Callable[[str], Progress | None] = lambda stage: None) -> Mastered:
    """Master ``mixer`` at ``target_lufs`` into a writer from ``open_writer``; if the
    limiter took the loudness off target, once more into a fresh writer. ``progress``
    gives, for a stage ("measuring", "writing"), what to tell of the samples done."""
    mastering = Master(mixer)
    measured = mastering.measure(progress("measuring"))
    gain = min(MAX_GAIN, target_lufs - measured) if np.isfinite(measured) else 0.0
    for last_try in (False, True):
        with open_writer() as writer:
            reached = mastering.run(gain, writer.write, progress("writing"))
        if last_try or abs(reached - target_lufs) <= RETRY_LU:
            break
        gain += target_lufs - reached
    return Mastered(gain, reached)
