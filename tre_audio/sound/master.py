"""Bring a mixed session to its loudness under a true-peak ceiling, block by block.

Two passes over the mixer, neither holding the session in memory: the first measures
the integrated loudness (BS.1770), the second applies the gain that reaches the target,
limits the peaks that gain pushes over the ceiling with a smooth look-ahead gain, and
hands each block on (to the MP3 encoder). The limiter takes a little loudness off the
peaks, so the result is measured again and, if it missed by more than ``RETRY_LU``,
made once more with the gain corrected.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from ..mp3.export import Part
from .limiter import limiter_gain, reach
from .loudness import LoudnessMeter, gated_loudness, true_peak_per_sample
from .mix import Mixer

CEILING_DBTP = -2.5
"""The true-peak ceiling before encoding: MP3 encoding adds overshoot (0.3-1.0 dB
measured with ffmpeg's ebur128), and the file must measure at or under -1 dBTP."""
BLOCK_STEPS = 300
"""Loudness steps (of 100 ms) mixed at a time: 30 s."""
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
        self.meter = LoudnessMeter(self.rate, mixer.channels)
        self.step = self.meter.step
        self.block = self.step * BLOCK_STEPS
        self.ceiling = 10 ** (CEILING_DBTP / 20)
        self.mix_powers: np.ndarray | None = None
        """The loudness power of each 100 ms step of the mix before any gain, once measured."""

    def measure(self, progress: Progress | None = None) -> float:
        """The mix's integrated loudness before any gain, in LUFS; blocks are mixed and
        measured on every core."""
        length = self.mixer.length
        starts = range(0, length, self.block)

        def powers(start: int) -> np.ndarray:
            return self.meter.step_powers(self.mixer.render(start, min(start + self.block, length)))

        found = []
        with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
            for start, block_powers in zip(starts, pool.map(powers, starts)):
                found.append(block_powers)
                if progress:
                    progress(min(start + self.block, length), length)
        self.mix_powers = np.concatenate(found) if found else np.zeros(0, np.float32)
        return gated_loudness(self.mix_powers)

    def run(self, gain_db: float, writer: Writer, progress: Progress | None = None
            ) -> float:
        """Mix, amplify by ``gain_db``, limit, and pass the blocks to ``writer``; returns
        the loudness of what was passed on.

        The writer splits the session into parts (encoded at once, or just one): each
        part is given its blocks in order, a block for each part in turn. The mixer and
        the limiter (a margin around each block) care nothing for order; the loudness is
        taken over each part's stretch between nominal seams, joined in order.
        """
        length = self.mixer.length
        parts = writer.split(length, self.step)
        gain = np.float32(10 ** (gain_db / 20))
        powers: list[list[np.ndarray]] = [[] for _ in parts]
        feeds = [self._blocks(part, gain) for part in parts]
        total, done = sum(part.end - part.start for part in parts), 0
        for turn in itertools.zip_longest(*feeds):
            for index, fed in enumerate(turn):
                if fed is None:
                    continue
                start, block, limit = fed
                part = parts[index]
                first, end = max(part.own_start, start), min(part.own_end, start + len(block))
                if first < end:
                    own = slice(first - start, end - start)
                    powers[index].append(self._powers(block[own], limit[own], first, gain))
                writer.write(block, index)
                done += len(block)
                if progress:
                    progress(done * length // total, length)
        return gated_loudness(np.concatenate([p for part in powers for p in part]))

    def _powers(self, block: np.ndarray, limit: np.ndarray, first: int,
                gain: np.float32) -> np.ndarray:
        """The loudness power of each whole step of ``block`` (finished samples from
        ``first``, a step boundary). Where the limiter left a step alone, that is the
        measured mix's times the gain squared; only the other steps are measured again."""
        count = len(block) // self.step
        if self.mix_powers is None:
            return self.meter.step_powers(block)
        at = first // self.step
        powers = self.mix_powers[at : at + count] * gain**2
        limited = (limit[: count * self.step].reshape(count, self.step) < 1).any(axis=1)
        if limited.any():
            steps = block[: count * self.step].reshape(count, self.step, -1)[limited]
            powers[limited] = self.meter.step_powers(steps.reshape(-1, steps.shape[2]))
        return powers

    def _blocks(self, part: Part, gain: np.float32
                ) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
        """The finished blocks of ``part``, each with its first sample and the limiter's
        gain, made as they are asked for. Blocks after the first start on multiples of
        ``self.block``, so every block's own stretch is whole loudness steps."""
        floor = float(self.ceiling / 2 / gain)  # quieter samples cannot reach the ceiling
        first_edge = min(part.end, (part.start // self.block + 1) * self.block)
        edges = [part.start, *range(first_edge, part.end, self.block), part.end]
        for start, end in itertools.pairwise(edges):
            wide = self.mixer.render(start - self.margin, end + self.margin)
            peaks = true_peak_per_sample(wide, floor) * gain
            limit = limiter_gain(peaks, self.ceiling, self.rate)[self.margin : -self.margin]
            block = wide[self.margin : -self.margin] * gain
            block *= limit if block.ndim == 1 else limit[:, None]
            yield start, block, limit


Progress = Callable[[int, int], None]


class Writer(Protocol):
    """What a session is written to: blocks of the parts it splits the session into."""

    def split(self, length: int, grid: int) -> Sequence[Part]: ...

    def write(self, block: np.ndarray, part: int = 0) -> None: ...


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
            reached = mastering.run(gain, writer, progress("writing"))
        if last_try or abs(reached - target_lufs) <= RETRY_LU:
            break
        gain += target_lufs - reached
    return Mastered(gain, reached)
