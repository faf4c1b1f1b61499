"""The bells: pitch, level, a soft attack, a tail that dies away, and the end's two strikes."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import signal

from tre_audio.sound.bells import BELL_KINDS, BELL_PEAK_DB, INTERVAL_PEAK_DB, bell

RATE = 22050
FUNDAMENTAL = {"start": 262.0, "transition": 330.0, "end": 220.0, "interval": 880.0}


def db(value: float) -> float:
    return 20 * np.log10(max(value, 1e-12))


def rms(samples: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(samples, dtype=np.float64))))


def peak_hz(samples: np.ndarray) -> float:
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    return float(np.fft.rfftfreq(len(samples), 1 / RATE)[np.argmax(spectrum)])


def onsets(samples: np.ndarray, frame: float = 0.05) -> list[float]:
    """Times of strikes: 50-ms frames of the upper partials at least twice as loud as
    anything in the half second before (the slow shimmer never rises that fast)."""
    sos = signal.butter(4, 1000.0, "highpass", fs=RATE, output="sos")
    upper = signal.sosfilt(sos, samples.astype(np.float64))
    size = int(frame * RATE)
    level = np.sqrt(np.mean(upper[: len(upper) // size * size].reshape(-1, size) ** 2, axis=1))
    back = int(0.5 / frame)
    return [
        i * frame for i in range(len(level))
        if level[i] > 0.01 * level.max()
        and level[i] > 2 * np.max(level[max(0, i - back) : i], initial=0.0)
    ]


@pytest.mark.parametrize("kind", BELL_KINDS)
def test_first_second_peaks_at_the_fundamental(kind):
    assert abs(peak_hz(bell(RATE, kind)[:RATE].astype(np.float64)) - FUNDAMENTAL[kind]) < 3


def test_transition_is_the_default_and_rings_at_330_hz():
    assert bell(RATE) is bell(RATE, "transition")
    assert abs(peak_hz(bell(RATE)[:RATE].astype(np.float64)) - 330.0) < 2


def test_kinds_are_distinct_tones():
    sounds = {kind: bell(RATE, kind) for kind in BELL_KINDS}
    pitches = [peak_hz(sounds[kind][:RATE].astype(np.float64)) for kind in BELL_KINDS]
    assert min(np.diff(sorted(pitches))) > 20
    assert len(sounds["start"]) > len(sounds["transition"])  # the opening bell rings longer
    assert len(sounds["end"]) > len(sounds["start"])
    assert len(sounds["interval"]) < len(sounds["transition"])


@pytest.mark.parametrize(
    ("kind", "seconds"), [("start", 8.0), ("transition", 7.0), ("end", 10.0), ("interval", 3.0)]
)
def test_lengths(kind, seconds):
    assert len(bell(RATE, kind)) == pytest.approx(seconds * RATE, rel=0.15)


@pytest.mark.parametrize("kind", BELL_KINDS)
def test_float32_mono_finite(kind):
    samples = bell(RATE, kind)
    assert samples.dtype == np.float32 and samples.ndim == 1
    assert np.all(np.isfinite(samples))


@pytest.mark.parametrize(
    ("kind", "peak"),
    [("start", BELL_PEAK_DB), ("transition", BELL_PEAK_DB), ("end", BELL_PEAK_DB),
     ("interval", INTERVAL_PEAK_DB)],
)
def test_peak_level(kind, peak):
    assert db(float(np.max(np.abs(bell(RATE, kind))))) == pytest.approx(peak, abs=0.5)


def test_the_levels_are_as_specified():
    assert BELL_PEAK_DB == -14.0
    assert INTERVAL_PEAK_DB == pytest.approx(-24.0, abs=1.0)


@pytest.mark.parametrize("kind", BELL_KINDS)
def test_soft_attack_no_click(kind):
    samples = bell(RATE, kind).astype(np.float64)
    peak = np.max(np.abs(samples))
    assert np.max(np.abs(samples[: RATE // 1000])) < 0.05 * peak  # first 1 ms nearly silent
    assert np.max(np.abs(samples[: RATE // 50])) > 0.1 * peak  # yet it speaks within 20 ms


@pytest.mark.parametrize("kind", BELL_KINDS)
def test_tail_dies_to_silence(kind):
    samples = bell(RATE, kind)
    assert db(float(np.max(np.abs(samples[-RATE // 20 :])))) < -60
    assert samples[-1] == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize("kind", BELL_KINDS)
def test_energy_decays(kind):
    samples = bell(RATE, kind)
    half = len(samples) // 2
    assert db(rms(samples[:half])) - db(rms(samples[half:])) > 6


@pytest.mark.parametrize("kind", ["start", "transition", "interval"])
def test_one_strike(kind):
    assert onsets(bell(RATE, kind)) == [0.0]


def test_the_end_bell_strikes_twice():
    strikes = onsets(bell(RATE, "end"))
    assert len(strikes) == 2
    assert strikes[0] == 0.0 and strikes[1] - strikes[0] == pytest.approx(2.5, abs=0.2)


@pytest.mark.parametrize("rate", [16000, 44100])
def test_other_sample_rates(rate):
    for kind in BELL_KINDS:
        samples = bell(rate, kind)
        assert np.all(np.isfinite(samples))
        spectrum = np.abs(np.fft.rfft(samples.astype(np.float64)))
        freqs = np.fft.rfftfreq(len(samples), 1 / rate)
        assert abs(freqs[np.argmax(spectrum)] - FUNDAMENTAL[kind]) < 3
    assert len(bell(rate, "transition")) == pytest.approx(7.0 * rate, rel=0.15)


def test_unknown_kind_is_a_value_error():
    with pytest.raises(ValueError, match="unknown bell kind 'gong'"):
        bell(RATE, "gong")


def test_cached_and_read_only():
    first = bell(RATE, "start")
    assert bell(RATE, "start") is first
    assert not first.flags.writeable
    with pytest.raises(ValueError):
        first[0] = 1.0
