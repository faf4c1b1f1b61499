"""Clean-up of one spoken sentence: trim the edges, match the session's format and level."""

from __future__ import annotations

import numpy as np
from pydub import AudioSegment

TRIM_DB = -50.0
"""Soft onsets such as /f/ sit between -60 and -40 dBFS, so trim no higher than this."""
KEEP_BEFORE = 0.02
KEEP_AFTER = 0.06
FADE = 0.005
SPEECH_RMS_DB = -20.0
SPEECH_PEAK_DB = -1.5
"""Piper peaks at 0 dBFS; clips are levelled by loudness and kept below this peak."""


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
    """``samples`` at ``target`` Hz, converted with pydub."""
    if rate == target:
        return samples
    pcm = (np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes()
    segment = AudioSegment(pcm, frame_rate=rate, sample_width=2, channels=1)
    converted = np.frombuffer(segment.set_frame_rate(target).raw_data, dtype="<i2")
    return converted.astype(np.float32) / 32768.0


def level(samples: np.ndarray) -> np.ndarray:
    """``samples`` at the speech loudness, with the peak kept under the ceiling."""
    if samples.size == 0:
        return samples
    rms = float(np.sqrt(np.mean(np.square(samples, dtype=np.float64))))
    peak = float(np.max(np.abs(samples)))
    if rms <= 0 or peak <= 0:
        return samples
    gain = min(10 ** (SPEECH_RMS_DB / 20) / rms, 10 ** (SPEECH_PEAK_DB / 20) / peak)
    return (samples * gain).astype(np.float32)


def prepare(samples: np.ndarray, rate: int, target: int) -> np.ndarray:
    """A raw engine clip made ready for the timeline."""
    return level(trim(resample(samples, rate, target), target))
