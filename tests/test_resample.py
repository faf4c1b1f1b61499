"""A voice at another rate (hibari speaks at 24 kHz) is brought to the session's rate
without aliases: measured with tones at and beyond the lower rate's limit."""

from __future__ import annotations

import numpy as np
import pytest

from tre_audio.options.settings import SAMPLE_RATE
from tre_audio.sound.clip import resample

SOURCE = 24_000


def tone(hz: float, seconds: float = 2.0) -> np.ndarray:
    t = np.arange(int(SOURCE * seconds)) / SOURCE
    return (0.5 * np.sin(2 * np.pi * hz * t)).astype(np.float32)


def level_db(samples: np.ndarray, hz: float) -> float:
    """The level of the component at ``hz`` (Hann-windowed spectrum, the middle second)."""
    middle = samples[len(samples) // 4: 3 * len(samples) // 4]
    window = np.hanning(len(middle))
    spectrum = np.abs(np.fft.rfft(middle * window)) / (window.sum() / 2)
    freqs = np.fft.rfftfreq(len(middle), 1 / SAMPLE_RATE)
    near = np.abs(freqs - hz) <= 20
    return float(20 * np.log10(spectrum[near].max() + 1e-12))


def test_speech_frequencies_pass_unchanged():
    for hz in (200.0, 1000.0, 4000.0, 9000.0):
        out = resample(tone(hz), SOURCE, SAMPLE_RATE)
        assert len(out) == pytest.approx(2.0 * SAMPLE_RATE, abs=2)
        assert level_db(out, hz) == pytest.approx(20 * np.log10(0.5), abs=0.1), hz


@pytest.mark.parametrize("hz", [11_200.0, 11_600.0, 11_900.0])
def test_what_the_lower_rate_cannot_hold_leaves_no_alias(hz):
    """A tone above 11,025 Hz would fold back to 22,050 - hz; it is stopped instead."""
    out = resample(tone(hz), SOURCE, SAMPLE_RATE)
    alias = SAMPLE_RATE - hz
    assert level_db(out, alias) < 20 * np.log10(0.5) - 100, alias
    middle = out[len(out) // 4: 3 * len(out) // 4]  # away from the tone's abrupt ends
    assert np.max(np.abs(middle)) < 1e-5  # -100 dB: stopped, not passed on


def test_the_same_rate_is_left_alone():
    samples = tone(440.0)
    assert resample(samples, SAMPLE_RATE, SAMPLE_RATE) is samples
