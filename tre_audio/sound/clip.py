"""Clean-up of one spoken sentence: trim the edges, match the session's format and level."""

from __future__ import annotations

import numpy as np

from .limiter import limiter_gain
from .loudness import true_peak_per_sample

TRIM_DB = -50.0
"""Soft onsets such as /f/ sit between -60 and -40 dBFS, so trim no higher than this."""
KEEP_BEFORE = 0.02
KEEP_AFTER = 0.06
FADE = 0.005
SPEECH_RMS_DB = -20.0
PEAK_OVER_RMS_DB = 13.0
"""Clips are levelled to one RMS, with true peaks limited to this far above it (Piper
peaks at 0 dBFS): what a session at -16 LUFS under a -2 dBTP ceiling allows, so
the session's own limiter has little left to do."""
COMPRESS_ABOVE_DB = 2.0
COMPRESS_RATIO = 3.0
COMPRESS_SMOOTHING = 0.005
"""A gentle compressor evens out the syllables: above 2 dB over the clip's mean level
the level grows by a third, with a level detector averaging over about 10 ms. Piper's
sentences peak 17-21 dB (median 19) over their mean, 17 after this; a session at
-16 LUFS under a -2 dBTP ceiling allows about 14, and the limiter does the rest."""


def trim(samples: np.ndarray, sample_rate: int = 22050) -> np.ndarray:
    """``samples`` without leading and trailing near-silence, edges faded."""
    loud = np.flatnonzero(np.abs(samples) > 10 ** (TRIM_DB / 20))
    if loud.size == 0:
        return samples[:0]
    start = max(0, loud[0] - int(KEEP_BEFORE * sample_rate))
    end = min(len(samples), loud[-1] + 1 + int(KEEP_AFTER * sample_rate))
    out = samples[start:end].astype(np.float32, copy=True)
    fade = min(int(FADE * sample_rate), len(out) // 2)
    if fade:
        ramp = np.linspace(0.0, 1.0, fade, dtype=np.float32)
        out[:fade] *= ramp
        out[-fade:] *= ramp[::-1]
    return out


def resample(samples: np.ndarray, rate: int, target: int) -> np.ndarray:
    """``samples`` at ``target`` Hz, by libsoxr at its very high quality (its filter
    keeps what the lower rate can hold and stops aliases more than 100 dB down)."""
    if rate == target:
        return samples
    import soxr  # loaded only where a voice speaks at another rate

    return np.asarray(soxr.resample(samples.astype(np.float32, copy=False), rate, target,
                                    quality="VHQ"), dtype=np.float32)


def compress(samples: np.ndarray, sample_rate: int = 22050) -> np.ndarray:
    """``samples`` with their loudest syllables brought closer to the mean."""
    if samples.size < 64:
        return samples
    power = np.square(samples, dtype=np.float64)
    mean = float(np.mean(power))
    if mean <= 0:
        return samples
    window = np.hanning(2 * int(COMPRESS_SMOOTHING * sample_rate) + 1)
    envelope = np.convolve(power, window / window.sum(), mode="same")
    over_db = 10 * np.log10(np.maximum(envelope, 1e-12) / mean) - COMPRESS_ABOVE_DB
    gain_db = -np.maximum(over_db, 0.0) * (1 - 1 / COMPRESS_RATIO)
    return (samples * 10 ** (gain_db / 20)).astype(np.float32)


def level(samples: np.ndarray, sample_rate: int = 22050) -> np.ndarray:
    """``samples`` at the speech RMS, true peaks limited to ``PEAK_OVER_RMS_DB`` above."""
    if samples.size == 0 or not np.any(samples):
        return samples
    out = _at_rms(samples)
    ceiling = 10 ** ((SPEECH_RMS_DB + PEAK_OVER_RMS_DB) / 20)
    for _ in range(2):  # limiting lowers the RMS; bringing it back lifts the peaks
        # Peaks are interpolated only near the ceiling: 16x faster, and no sample 6 dB
        # under it was found to overshoot it between samples.
        peaks = true_peak_per_sample(out, floor=ceiling / 2)
        out = _at_rms(out * limiter_gain(peaks, ceiling, sample_rate))
    return out


def _at_rms(samples: np.ndarray) -> np.ndarray:
    rms = float(np.sqrt(np.mean(np.square(samples, dtype=np.float64))))
    return (samples * (10 ** (SPEECH_RMS_DB / 20) / rms)).astype(np.float32)


def prepare(samples: np.ndarray, rate: int, target: int) -> np.ndarray:
    """A raw engine clip made ready for the timeline."""
    return level(compress(trim(resample(samples, rate, target), target), target), target)
