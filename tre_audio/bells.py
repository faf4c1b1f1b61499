"""A soft bell, synthesized like a small singing bowl."""

from __future__ import annotations

import numpy as np

BELL_PEAK_DB = -14.0
RING_SECONDS = 7.0
# Bowl partials are inharmonic; each decays at its own speed, the highest first.
_PARTIALS = ((1.0, 1.0, 3.2), (2.74, 0.45, 2.0), (5.2, 0.2, 1.1), (8.6, 0.08, 0.6))
_BEAT = 1.0025  # a second, slightly detuned copy of each partial gives the slow shimmer


def bell(sample_rate: int, fundamental: float = 330.0) -> np.ndarray:
    """A bell strike at ``fundamental`` Hz that rings out over ``RING_SECONDS``."""
    t = np.arange(int(RING_SECONDS * sample_rate)) / sample_rate
    tone = np.zeros_like(t)
    for ratio, amplitude, decay in _PARTIALS:
        freq = fundamental * ratio
        envelope = amplitude * np.exp(-t / decay)
        tone += envelope * (np.sin(2 * np.pi * freq * t) + 0.6 * np.sin(2 * np.pi * freq * _BEAT * t))
    attack = np.minimum(1.0, t / 0.012)
    release = np.minimum(1.0, (RING_SECONDS - t) / 0.5)
    tone *= attack * release
    tone *= 10 ** (BELL_PEAK_DB / 20) / np.max(np.abs(tone))
    return tone.astype(np.float32)
