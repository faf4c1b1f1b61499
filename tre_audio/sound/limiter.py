"""A true-peak limiter: a smooth gain that keeps peaks under a ceiling, never clipping."""

from __future__ import annotations

import numpy as np

ATTACK = 0.004
"""Seconds over which the gain falls to its deepest, ahead of a peak."""
RELEASE_DB_PER_S = 300.0
MAX_REDUCTION_DB = 20.0


def reach(rate: int) -> int:
    """How many samples either side of a peak its gain reduction can touch."""
    return int((MAX_REDUCTION_DB / RELEASE_DB_PER_S + ATTACK) * rate) + 1


def _ramp_min(levels: np.ndarray, slope: float, reach: int, forward: bool) -> np.ndarray:
    """``out[n] = min over 0 <= k < R of levels[n -+ k] + slope * k``, ``R`` being
    ``reach`` rounded up to a power of two: each dip widened by ramps of ``slope`` dB a
    sample, behind it (or ahead, ``forward``).

    Worked out by doubling: each step halves the distance still to cover.
    """
    out = levels.copy()
    step = 1
    while step < reach and step < len(out):
        # the right-hand side is a new array, so the overlapping slices do not mix
        if forward:
            np.minimum(out[:-step], out[step:] + slope * step, out=out[:-step])
        else:
            np.minimum(out[step:], out[:-step] + slope * step, out=out[step:])
        step *= 2
    return out


def limiter_gain(peaks: np.ndarray, ceiling: float, rate: int) -> np.ndarray:
    """A gain that keeps every ``peaks`` value times the gain under ``ceiling``.

    In dB, the gain each sample needs is widened into ramps: falling over ``ATTACK``
    ahead of a peak (a look-ahead, so no peak is ever clipped) and rising again at
    ``RELEASE_DB_PER_S`` after it. Every ramp lies under the need, so the ceiling holds;
    the gain never steps, so it does not click.
    """
    gain = np.ones(len(peaks), dtype=np.float32)
    over = np.flatnonzero(peaks > ceiling)
    if not over.size:
        return gain
    need = np.zeros(len(peaks), dtype=np.float32)
    need[over] = np.maximum(20 * np.log10(ceiling / peaks[over]), -MAX_REDUCTION_DB)
    release = RELEASE_DB_PER_S / rate
    attack = MAX_REDUCTION_DB / (ATTACK * rate)
    behind, ahead = int(MAX_REDUCTION_DB / release) + 1, int(ATTACK * rate) + 1
    # Ramps reach no further than this from a peak, so only the stretches around the
    # peaks are worked out: groups of peaks closer than a few reaches go together.
    apart = np.flatnonzero(np.diff(over) > 4 * (behind + ahead))
    for first, last in zip(over[np.r_[0, apart + 1]], over[np.r_[apart, len(over) - 1]]):
        around = slice(max(first - ahead, 0), min(last + behind + 1, len(peaks)))
        held = _ramp_min(need[around], release, behind, forward=False)
        ramped = _ramp_min(held, attack, ahead, forward=True)
        lowered = np.flatnonzero(ramped < 0)
        gain[around][lowered] = 10 ** (ramped[lowered] / 20)
    return gain
