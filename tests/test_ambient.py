"""The ambient beds: measured level, seamlessness and character of every loop."""

from __future__ import annotations

import time

import numpy as np
import pytest
from scipy import signal, stats

from tre_audio.sound import ambient
from tre_audio.errors import InvalidOption

RATE = 22050
BEDS = [name for name in ambient.AMBIENTS if name != "none"]
STEADY = ["pink", "brown", "drone"]
HALF_SECOND = RATE // 2


@pytest.fixture(scope="module")
def loops() -> dict[str, np.ndarray]:
    """Each bed once, at the session rate and a fixed seed."""
    made = {name: ambient.loop(name, RATE, seed=7) for name in BEDS}
    return {name: samples for name, samples in made.items() if samples is not None}


def db(value: float) -> float:
    return 20 * np.log10(max(value, 1e-12))


def rms(samples: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(samples, dtype=np.float64))))


def envelope_db(samples: np.ndarray) -> np.ndarray:
    """RMS in dB over half a second, every quarter second, wrapping round the loop's end."""
    wrapped = np.concatenate([samples, samples[:HALF_SECOND]]).astype(np.float64)
    power = np.cumsum(np.concatenate([[0.0], wrapped**2]))
    starts = np.arange(0, len(samples), RATE // 4)
    return 10 * np.log10((power[starts + HALF_SECOND] - power[starts]) / HALF_SECOND)


def spectrum(samples: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Frequencies and power of the whole loop (one bin per cycle per loop)."""
    power = np.abs(np.fft.rfft(samples.astype(np.float64))) ** 2
    return np.fft.rfftfreq(len(samples), 1 / RATE), power


def highpass(samples: np.ndarray, cutoff: float) -> np.ndarray:
    sos = signal.butter(4, cutoff, "highpass", fs=RATE, output="sos")
    # filter two rounds of the loop and keep the second: no start-up transient
    return signal.sosfilt(sos, np.tile(samples.astype(np.float64), 2))[len(samples):]


# --- every bed ---------------------------------------------------------------------


@pytest.mark.parametrize("name", BEDS)
def test_loop_is_float32_mono_finite_with_rms_one(loops, name):
    samples = loops[name]
    assert samples.dtype == np.float32 and samples.ndim == 1
    assert len(samples) == int(ambient.LOOP_SECONDS * RATE)
    assert np.all(np.isfinite(samples))
    assert rms(samples) == pytest.approx(1.0, rel=0.01)


@pytest.mark.parametrize("name", BEDS)
def test_length_follows_the_sample_rate(name):
    samples = ambient.loop(name, 8000, seed=1)
    assert samples is not None and len(samples) == int(ambient.LOOP_SECONDS * 8000)
    assert rms(samples) == pytest.approx(1.0, rel=0.01)


@pytest.mark.parametrize("name", BEDS)
def test_seeded_deterministic_and_quick(loops, name):
    begun = time.perf_counter()
    again = ambient.loop(name, RATE, seed=7)
    assert time.perf_counter() - begun < 2.0  # about 0.1-0.25 s; generous for busy machines
    other = ambient.loop(name, RATE, seed=8)
    assert again is not None and other is not None
    assert np.array_equal(again, loops[name])
    assert np.mean(np.abs(other - loops[name])) > 0.01


@pytest.mark.parametrize("name", BEDS)
def test_wrap_jump_is_an_ordinary_step(loops, name):
    samples = loops[name].astype(np.float64)
    steps = np.abs(np.diff(samples))
    assert abs(samples[0] - samples[-1]) < np.percentile(steps, 99.9)


@pytest.mark.parametrize("name", BEDS)
def test_no_click_where_the_loop_repeats(loops, name):
    samples = loops[name]
    n = len(samples)
    # second differences single out clicks; their energy over 16 samples, everywhere
    curvature = np.diff(np.tile(samples.astype(np.float64), 2), 2) ** 2
    energy = np.convolve(curvature, np.ones(16) / 16, mode="valid")
    at_seam = energy[n - 9]  # the 16 samples either side of the wrap
    assert at_seam <= np.percentile(energy[: n - 16], 99.9)


@pytest.mark.parametrize("name", STEADY)
def test_steady_beds_are_as_loud_after_the_wrap_as_before(loops, name):
    samples = loops[name]
    before, after = rms(samples[-HALF_SECOND:]), rms(samples[:HALF_SECOND])
    assert abs(db(after) - db(before)) < 1.5


# --- the character of each bed -----------------------------------------------------


def centroid(samples: np.ndarray) -> float:
    freqs, power = spectrum(samples)
    return float(np.sum(freqs * power) / np.sum(power))


def test_brown_is_darker_than_pink_and_both_stay_below_the_voice_band(loops):
    assert centroid(loops["brown"]) < 0.5 * centroid(loops["pink"])
    for name in ("pink", "brown"):
        freqs, power = spectrum(loops[name])
        assert np.sum(power[freqs > 6000]) < 0.01 * np.sum(power)  # the soft roll-off
        assert np.sum(power[freqs < 10]) < 0.01 * np.sum(power)  # the low cut


def test_pink_and_brown_are_steady(loops):
    for name in ("pink", "brown"):
        level = envelope_db(loops[name])
        assert level.max() - level.min() < 4


def test_drone_is_the_open_fifth_and_nothing_high(loops):
    freqs, power = spectrum(loops["drone"])
    peaks, _ = signal.find_peaks(power, distance=int(10 * ambient.LOOP_SECONDS))
    strongest = freqs[peaks[np.argsort(power[peaks])[::-1][:3]]]
    assert sorted(np.round(strongest)) == [110, 165, 220]
    assert np.sum(power[freqs > 2000]) < 1e-4 * np.sum(power)


def test_drone_breathes_slowly(loops):
    level = envelope_db(loops["drone"])
    assert 2 < level.max() - level.min() < 12
    assert np.max(np.abs(np.diff(level))) < 1.0  # quarter-second steps: no sudden swell


def test_surf_swells_every_eight_to_twelve_seconds_over_a_hush(loops):
    level = envelope_db(loops["surf"])
    assert level.max() - level.min() > 6  # swells you can hear...
    assert level.min() > level.max() - 20  # ...over a hush that never falls silent
    assert np.median(np.abs(np.diff(level))) < 1.0  # and they come and go slowly
    wave = level - level.mean()
    autocorrelation = np.fft.irfft(np.abs(np.fft.rfft(wave)) ** 2, len(wave))
    lags = np.arange(len(wave)) * 0.25
    between = (lags >= 5) & (lags <= 15)
    assert 8 <= lags[between][np.argmax(autocorrelation[between])] <= 12
    assert autocorrelation[between].max() > 0.5 * autocorrelation[0]


def test_surf_brightens_at_the_crest(loops):
    samples = loops["surf"]
    level = envelope_db(samples)
    bright = envelope_db(highpass(samples, 800.0))
    crests, troughs = level > np.percentile(level, 80), level < np.percentile(level, 20)
    # the hiss rises more than the whole sound does: the crest is brighter
    assert np.mean(bright[crests] - level[crests]) > np.mean(bright[troughs] - level[troughs]) + 3


def test_rain_patters_yet_stays_soft(loops):
    rain, pink = highpass(loops["rain"], 1000.0), highpass(loops["pink"], 1000.0)
    assert stats.kurtosis(rain) > stats.kurtosis(pink) + 2  # droplets stand out of the hush
    assert np.max(np.abs(loops["rain"])) < 10  # crest factor under 20 dB: no loud drops
    freqs, power = spectrum(loops["rain"])
    assert np.sum(power[freqs > 6000]) < 0.01 * np.sum(power)  # no hiss, no sharp clicks
    level = envelope_db(loops["rain"])
    assert level.max() - level.min() < 6  # steady rain, not gusts


# --- names -------------------------------------------------------------------------


def test_every_bed_is_listed_with_a_description():
    assert set(ambient.AMBIENTS) == {"pink", "brown", "drone", "surf", "rain", "none"}
    assert ambient.DEFAULT_AMBIENT in ambient.AMBIENTS
    assert all(text and "\n" not in text for text in ambient.AMBIENTS.values())


def test_none_is_no_bed():
    assert ambient.check("none") == "none"
    assert ambient.loop("none", RATE) is None


@pytest.mark.parametrize("call", [ambient.check, lambda name: ambient.loop(name, RATE)])
def test_unknown_bed_is_refused(call):
    with pytest.raises(InvalidOption) as caught:
        call("ocean")
    assert caught.value.option == "--ambient"
    assert "unknown ambient 'ocean'" in str(caught.value)
    assert "pink" in str(caught.value) and "rain" in str(caught.value)
