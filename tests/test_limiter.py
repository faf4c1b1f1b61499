"""The true-peak limiter's gain: under the ceiling, never stepping, and the same when only
the stretches around the peaks are worked out as when the whole block is."""

from __future__ import annotations

import numpy as np
import pytest

from tre_audio.sound.limiter import (ATTACK, MAX_REDUCTION_DB, RELEASE_DB_PER_S, _ramp_min,
                                     limiter_gain)

RATE = 22050


def whole_block_gain(peaks: np.ndarray, ceiling: float) -> np.ndarray:
    """The gain worked out over the whole block at once (how it was first written)."""
    need = np.minimum(20 * np.log10(ceiling / np.maximum(peaks, ceiling)), 0.0)
    need = np.maximum(need, -MAX_REDUCTION_DB).astype(np.float32)
    release = RELEASE_DB_PER_S / RATE
    held = _ramp_min(need, release, int(MAX_REDUCTION_DB / release) + 1, forward=False)
    ramped = _ramp_min(held, MAX_REDUCTION_DB / (ATTACK * RATE), int(ATTACK * RATE) + 1,
                       forward=True)
    return np.where(ramped < 0, 10 ** (ramped / 20), 1.0).astype(np.float32)


def peaks_like_speech(seed: int) -> np.ndarray:
    """30 s of peak levels: syllables now and then, some over a ceiling of 1, none more
    than the limiter's 20 dB over it."""
    rng = np.random.default_rng(seed)
    peaks = np.abs(rng.standard_normal(30 * RATE)).astype(np.float32) * 0.2
    for at in rng.integers(0, len(peaks) - 2000, rng.integers(0, 300)):
        peaks[at : at + rng.integers(1, 2000)] *= rng.uniform(1, 9)
    return np.minimum(peaks, 9.0)


@pytest.mark.parametrize("seed", range(12))
def test_the_gain_is_the_whole_block_gain(seed):
    peaks = peaks_like_speech(seed)
    assert np.array_equal(limiter_gain(peaks, 1.0, RATE), whole_block_gain(peaks, 1.0))


@pytest.mark.parametrize("seed", range(4))
def test_peaks_stay_under_the_ceiling_and_the_gain_never_steps(seed):
    peaks = peaks_like_speech(seed)
    gain = limiter_gain(peaks, 1.0, RATE)
    assert np.all(peaks * gain <= 1.0 + 1e-6) and np.all(gain <= 1.0)
    steps = np.abs(np.diff(20 * np.log10(gain)))
    assert steps.max() <= MAX_REDUCTION_DB / (ATTACK * RATE) + 1e-3  # the attack's slope


def test_no_peak_over_the_ceiling_leaves_the_gain_at_one():
    assert np.array_equal(limiter_gain(np.full(RATE, 0.5, np.float32), 1.0, RATE),
                          np.ones(RATE, np.float32))
