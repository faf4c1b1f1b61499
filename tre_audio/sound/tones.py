"""Breath tones: soft gliding tones that pace a breathing pattern.

A breath in is a tone gliding up in pitch over the whole phase, a breath out one gliding
down; a hold is silent. Silence is the clearest sign for "keep still": a steady tone
would sound like air still moving, and the next tone's onset marks the end of the hold
(which the voice counts in the first rounds). The pitches sit on the drone bed's open
fifth on A (A3 up to E4); a short top-up breath in, as in the physiological sigh,
climbs on from the top to G4, and the breath out falls from wherever the breath in
reached. Each tone swells in and fades out with raised-cosine edges, so it starts and
ends at rest: no clicks.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np

LOW_HZ = 220.0
"""Where a breath in starts and a breath out ends (A3, the bed's root)."""
HIGH_HZ = 330.0
"""Where a breath in ends (E4, a fifth above)."""
TOP_UP = 2 ** (3 / 12)
"""A breath in that follows a breath in climbs on by a minor third (E4 to G4)."""
HARMONICS = ((1.0, 1.0), (2.0, 0.25), (3.0, 0.08))
"""(multiple of the pitch, amplitude): nearly a sine, with enough overtone to be heard
on a phone's small speaker."""
TONE_BELOW_VOICE_DB = 12.0
"""A tone at full swell sits this far (RMS) under the voice's level: clearly there over
the bed (20 dB under the voice), comfortably under the words counted over it."""
SWELL = 0.7
"""A breath in grows from this fraction of full level to full; a breath out shrinks
from full to it."""
ATTACK = 0.3
RELEASE = 0.6
"""Seconds of the raised-cosine fade at each end (at most a third of a short phase)."""
CONTIGUOUS = 0.005
"""Phases less than this many seconds apart are heard as one breath."""


def tone(sample_rate: int, phase: str, seconds: float, start_hz: float, end_hz: float,
         level_db: float) -> np.ndarray:
    """The tone of one phase as float32 mono samples (empty for a hold); read-only and
    made once per set of arguments, since a pattern repeats the same few tones."""
    if phase not in ("in", "hold", "out"):
        raise ValueError(f"unknown breathing phase {phase!r}; choose in, hold or out")
    if phase == "hold":
        return np.zeros(0, dtype=np.float32)
    return _glide(sample_rate, phase, round(seconds, 6), start_hz, end_hz, level_db)


@functools.cache
def _glide(sample_rate: int, phase: str, seconds: float, start_hz: float, end_hz: float,
           level_db: float) -> np.ndarray:
    n = int(round(seconds * sample_rate))
    x = (np.arange(n) + 0.5) / n  # 0-1 across the phase
    hz = start_hz * (end_hz / start_hz) ** x  # evenly in pitch, over the whole phase
    angle = 2 * np.pi * np.cumsum(hz) / sample_rate
    wave = sum(a * np.sin(k * angle) for k, a in HARMONICS)
    rms = np.sqrt(sum(a * a for _, a in HARMONICS) / 2)  # of the wave at full level
    swell = SWELL + (1 - SWELL) * (x if phase == "in" else 1 - x)
    t = np.arange(n) / sample_rate
    attack = min(ATTACK, seconds / 3)
    release = min(RELEASE, seconds / 3)
    edges = (np.sin(np.pi / 2 * np.clip(t / attack, 0, 1)) ** 2
             * np.sin(np.pi / 2 * np.clip((seconds - t) / release, 0, 1)) ** 2)
    samples = (wave * swell * edges * 10 ** (level_db / 20) / rms).astype(np.float32)
    samples.flags.writeable = False  # shared by every caller: the mixer reuses it
    return samples


def pitches(phases: Sequence[tuple[str, float, float]]) -> list[tuple[float, float]]:
    """The (start, end) pitch in Hz of each (phase, start, seconds), in time order: a
    breath in rises to E4 (or on by a minor third if already there), a breath out falls
    to A3 from wherever the breath in reached, and a hold keeps the pitch it found.
    After a break between phases the breath starts afresh from A3."""
    out: list[tuple[float, float]] = []
    pitch, end = LOW_HZ, None
    for phase, start, seconds in phases:
        if end is None or abs(start - end) > CONTIGUOUS:
            pitch = LOW_HZ
        if phase == "in":
            top = HIGH_HZ if pitch < HIGH_HZ * 0.99 else pitch * TOP_UP
            out.append((pitch, top))
            pitch = top
        elif phase == "out":
            high = pitch if pitch > LOW_HZ * 1.01 else HIGH_HZ
            out.append((high, LOW_HZ))
            pitch = LOW_HZ
        else:
            out.append((pitch, pitch))
        end = start + seconds
    return out
