"""Soft bells, synthesized like a small singing bowl struck with a felt mallet."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

BELL_PEAK_DB = -14.0
"""Peak level of the start, transition and end bells, in dBFS."""
INTERVAL_PEAK_DB = BELL_PEAK_DB - 10.0
"""Peak level of the interval bell, which only marks passing time, in dBFS."""

# Bowl partials are inharmonic; each decays at its own speed, the highest first.
# (ratio to the fundamental, amplitude, decay time in s, shimmer in Hz)
_PARTIALS = ((1.0, 1.0, 3.2, 0.8), (2.74, 0.45, 2.0, 1.3), (5.2, 0.2, 1.1, 1.9),
             (8.6, 0.08, 0.6, 2.6))
_TWIN = 0.6  # level of a copy of each partial, shimmer Hz above it, that beats against it
_ATTACK = 0.010  # s: a felt mallet, not a click
_RELEASE = 0.5  # s: the tail fades to true silence over this


@dataclass(frozen=True)
class _Bowl:
    fundamental: float  # Hz
    seconds: float  # the whole sound, tail included
    peak_db: float
    sustain: float = 1.0  # scales every partial's decay time
    strikes: tuple[tuple[float, float], ...] = ((0.0, 1.0),)  # (time in s, strength)


# Tuned with the drone bed, an open fifth on A: C4, E4, A3 and A5.
_BOWLS = {
    "start": _Bowl(261.6, 8.0, BELL_PEAK_DB, sustain=1.3),
    "transition": _Bowl(330.0, 7.0, BELL_PEAK_DB),
    "end": _Bowl(220.0, 10.0, BELL_PEAK_DB, sustain=1.2, strikes=((0.0, 1.0), (2.5, 0.8))),
    "interval": _Bowl(880.0, 3.0, INTERVAL_PEAK_DB, sustain=0.35),
}
BELL_KINDS = tuple(_BOWLS)
"""start opens a session, transition rings between chapters, end closes it, and
interval softly marks passing time in a long hold."""


def bell(sample_rate: int, kind: str = "transition") -> np.ndarray:
    """The bell ``kind`` as float32 mono samples; read-only, made once per rate and kind."""
    if kind not in _BOWLS:
        raise ValueError(f"unknown bell kind {kind!r}; choose from: {', '.join(BELL_KINDS)}")
    return _ring(sample_rate, kind)


@functools.cache
def _ring(sample_rate: int, kind: str) -> np.ndarray:
    bowl = _BOWLS[kind]
    t = np.arange(int(bowl.seconds * sample_rate)) / sample_rate
    tone = np.zeros(len(t), dtype=np.float32)
    for at, strength in bowl.strikes:
        tone += np.float32(strength) * _strike(t - at, bowl, sample_rate)
    release = np.clip((bowl.seconds - t) / _RELEASE, 0.0, 1.0).astype(np.float32)
    tone *= np.sin(np.float32(np.pi / 2) * release) ** 2
    tone *= np.float32(10 ** (bowl.peak_db / 20) / np.max(np.abs(tone)))
    tone.flags.writeable = False  # shared by every caller: the mixer reuses it
    return tone


def _strike(t: np.ndarray, bowl: _Bowl, sample_rate: int) -> np.ndarray:
    """One strike at ``t`` = 0, silent before it. In float32, twice as quick as float64
    and within -73 dB of the bell's peak of it, far under the MP3's own noise."""
    after = np.maximum(t, 0.0).astype(np.float32)
    tone = np.zeros(len(t), dtype=np.float32)
    for ratio, amplitude, decay, shimmer in _PARTIALS:
        freq = bowl.fundamental * ratio
        if freq + shimmer >= 0.45 * sample_rate:  # it would fold back as a false tone
            continue
        envelope = np.float32(amplitude) * np.exp(after / np.float32(-decay * bowl.sustain))
        tone += envelope * (np.sin(np.float32(2 * np.pi * freq) * after) + np.float32(_TWIN)
                            * np.sin(np.float32(2 * np.pi * (freq + shimmer)) * after))
    attack = np.clip(t / _ATTACK, 0.0, 1.0).astype(np.float32)
    return tone * np.sin(np.float32(np.pi / 2) * attack) ** 2
