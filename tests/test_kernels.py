"""The quick forms of the sound kernels give what their plain definitions give: the true
peak of each sample, the compressor's smoothing, the limiter's ramps."""

from __future__ import annotations

import numpy as np
import pytest

from tre_audio.sound import loudness
from tre_audio.sound.clip import (COMPRESS_ABOVE_DB, COMPRESS_RATIO, COMPRESS_SMOOTHING,
                                  _fast_size, _smoothed, compress)
from tre_audio.sound.limiter import _ramp_min
from tre_audio.sound.loudness import _INTERPOLATE, _TAPS, true_peak_per_sample


def plain_true_peak(samples: np.ndarray) -> np.ndarray:
    """Each sample's true peak by its definition: the sample, and the 7 values between it
    and each neighbour, interpolated from the 32 samples around that stretch (zeros
    beyond the ends), over all channels."""
    frames = samples.reshape(len(samples), -1).astype(np.float64)
    n = len(frames)
    peaks = np.abs(frames).max(axis=1)
    for s in range(-1, n):  # the stretch from sample s to s + 1
        window = np.zeros((len(_TAPS), frames.shape[1]))
        for k, tap in enumerate(_TAPS):
            if 0 <= s + tap < n:
                window[k] = frames[s + tap]
        top = np.abs(_INTERPOLATE.astype(np.float64) @ window).max()
        for sample in (s, s + 1):
            if 0 <= sample < n:
                peaks[sample] = max(peaks[sample], top)
    return peaks


@pytest.mark.parametrize("shape", [(1,), (2,), (5,), (40,), (300,), (300, 2), (7, 2)])
def test_the_true_peak_is_the_plain_one(shape):
    samples = (np.random.default_rng(len(shape) * 1000 + shape[0]).standard_normal(shape)
               * 0.4).astype(np.float32)
    assert np.allclose(true_peak_per_sample(samples), plain_true_peak(samples), atol=2e-6)


def test_the_true_peak_is_the_same_worked_out_a_few_stretches_at_a_time(monkeypatch):
    samples = (np.random.default_rng(11).standard_normal((300, 2)) * 0.4).astype(np.float32)
    monkeypatch.setattr(loudness, "_CHUNK", 7)
    assert np.allclose(true_peak_per_sample(samples), plain_true_peak(samples), atol=2e-6)


def test_under_the_floor_a_sample_is_its_own_peak():
    samples = (np.random.default_rng(7).standard_normal(2000) * 0.3).astype(np.float32)
    floor = 0.5
    plain = plain_true_peak(samples)
    quick = true_peak_per_sample(samples, floor)
    loud = np.abs(samples) > floor
    assert loud.any() and not loud.all()
    assert np.allclose(quick[loud], plain[loud], atol=2e-6)
    assert np.array_equal(quick[~loud], np.abs(samples[~loud]))


def test_a_sine_between_its_samples_peaks_higher_than_its_samples():
    """A quarter of the rate, 45 degrees off: every sample is 3 dB under the wave's peak."""
    samples = (0.5 * np.sin(np.pi / 2 * np.arange(2000) + np.pi / 4)).astype(np.float32)
    peaks = true_peak_per_sample(samples)
    assert np.abs(samples).max() < 0.354
    assert np.all(np.abs(peaks[100:-100] - 0.5) < 0.005)


@pytest.mark.parametrize("n", [1, 64, 100, 221, 222, 5000, 12_347])
@pytest.mark.parametrize("width", [1, 3, 221])
def test_smoothing_is_numpys_centred_convolution(n, width):
    rng = np.random.default_rng(n + width)
    values = rng.random(n) ** 4
    window = np.hanning(width + 2)[1:-1] if width > 1 else np.ones(1)
    full = np.convolve(values, window)  # the whole convolution, then its centred part
    plain = full[width // 2 : width // 2 + n]
    assert np.allclose(_smoothed(values, window), plain, rtol=0, atol=1e-12 * full.max())


def plain_compress(samples: np.ndarray, rate: int = 22050) -> np.ndarray:
    """The compressor by its definition: the power smoothed over a Hann window of about
    10 ms, and each dB over the threshold (2 dB over the mean power) lowered to a third."""
    power = np.square(samples.astype(np.float64))
    window = np.hanning(2 * int(COMPRESS_SMOOTHING * rate) + 1)
    half = len(window) // 2
    envelope = np.convolve(power, window / window.sum())[half : half + len(samples)]
    over_db = 10 * np.log10(np.maximum(envelope, 1e-30) / power.mean()) - COMPRESS_ABOVE_DB
    gain_db = -np.maximum(over_db, 0.0) * (1 - 1 / COMPRESS_RATIO)
    return samples * 10 ** (gain_db / 20)


@pytest.mark.parametrize("n", [64, 150, 221, 5000, 44_100])
def test_the_compressor_is_its_definition(n):
    """Bursts of noise at levels 30 dB apart, as syllables are."""
    rng = np.random.default_rng(n)
    levels = np.repeat(10 ** (rng.uniform(-30, 0, n // 50 + 1) / 20), 50)[:n]
    samples = (rng.standard_normal(n) * levels * 0.3).astype(np.float32)
    squeezed = compress(samples)
    assert squeezed.dtype == np.float32 and squeezed.shape == samples.shape
    assert np.allclose(squeezed, plain_compress(samples), rtol=1e-5, atol=1e-7)
    if n > 1000:  # longer than the window: the loud bursts were brought down
        assert np.abs(squeezed).max() < 0.9 * np.abs(samples).max()


def test_the_compressor_refuses_more_than_one_channel():
    with pytest.raises(ValueError, match="mono"):
        compress(np.zeros((44_100, 2), dtype=np.float32))


def test_a_short_clip_is_compressed_to_its_own_length():
    samples = (np.random.default_rng(3).standard_normal(150) * 0.1).astype(np.float32)
    assert compress(samples).shape == samples.shape


def five_smooth(n: int) -> bool:
    for prime in (2, 3, 5):
        while n % prime == 0:
            n //= prime
    return n == 1


def test_the_fast_size_is_the_least_five_smooth_length():
    for n in [*range(1, 400), 4097, 123_457, 1 << 20, 999_983]:
        size = _fast_size(n)
        assert size >= n and five_smooth(size), n
        assert not any(five_smooth(m) for m in range(n, size)), n


@pytest.mark.parametrize("forward", [False, True])
@pytest.mark.parametrize("reach", [1, 2, 5, 64, 1000])
def test_the_ramps_are_their_definition(forward, reach):
    levels = (np.random.default_rng(reach).standard_normal(300) * 6).astype(np.float32)
    slope = np.float32(0.7)
    covered = 1 << (reach - 1).bit_length()  # the reach, doubled up to a power of two
    plain = np.array([min(levels[n + k if forward else n - k] + slope * k
                          for k in range(covered) if 0 <= (n + k if forward else n - k) < 300)
                      for n in range(300)], dtype=np.float32)
    assert np.allclose(_ramp_min(levels, slope, reach, forward), plain, atol=1e-4)
