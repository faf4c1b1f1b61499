"""Ambient beds generated from seeded noise and tones: no audio files are shipped.

Every bed is periodic over its loop, so the loop repeats with no seam or click. Noise
and tones are made in the frequency domain, where every line completes a whole number
of cycles over the loop; envelopes are cut into whole swells; raindrops that run past
the end wrap round to the start.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..errors import InvalidOption
from ..options import table

AMBIENTS = {
    "pink": "soft pink noise, like a steady breeze (default)",
    "brown": "deep brown noise, like a distant waterfall",
    "drone": "a low, slowly breathing open-fifth chord",
    "surf": "slow swells of distant waves on a beach",
    "rain": "soft, steady rain over a quiet hush",
    "none": "no bed: voice and bells only",
}
DEFAULT_AMBIENT: str = table.BY_KEY["ambient"].default
LOOP_SECONDS = 60.0
"""Length of every loop; whole seconds, so tones of k / LOOP_SECONDS Hz fit it exactly."""

_LOW_CUT = 40.0  # Hz: keeps the bed from rumbling or drifting
_HIGH_CUT = 3500.0  # Hz: a soft roll-off so the bed never hisses over the voice

# An open fifth on A2 and its soft upper partials (Hz, amplitude). Every one is a whole
# multiple of 1 / LOOP_SECONDS Hz. The bells ring on A, C and E above it.
_CHORD = ((110.0, 1.0), (165.0, 0.7), (220.0, 0.5), (330.0, 0.22), (440.0, 0.12),
          (495.0, 0.07), (660.0, 0.05))
_BREATH_DEPTH = 0.3  # each partial's amplitude swings between 1 -+ this
_BREATH_SECONDS = (15.0, 7.5)  # slowest and quickest breath of a partial
_TWIN = 0.25  # level of a twin just above each partial, which warms the tone...
_TWIN_HZ = (0.05, 0.13)  # ...and beats against it once every 8 to 20 s

_SWELL_SECONDS = 10.0  # surf: the average time from one wave to the next
_HUSH = 0.3  # surf: the level between swells, against 1 at a crest
_FOAM = 0.6  # surf: the level of the brighter hiss at a crest

_DROPS_PER_SECOND = 120  # dense enough to patter, not to roar
_DROP_SECONDS = 0.025  # five times the slowest decay: the droplet has died away
_DROP_ATTACK = 0.003  # s: rounded onsets, so droplets patter rather than click
_RAIN_HUSH = 0.6  # level of the steady hush under the droplets


def check(name: str) -> str:
    """``name`` if it is an ambient bed, else an ``InvalidOption``."""
    if name not in AMBIENTS:
        raise InvalidOption(
            "--ambient", f"unknown ambient '{name}'; choose from: {', '.join(AMBIENTS)}"
        )
    return name


def loop(name: str, sample_rate: int, seed: int = 0) -> np.ndarray | None:
    """A seamless float32 loop of bed ``name`` with an RMS of 1, or None for ``none``."""
    if check(name) == "none":
        return None
    n = int(round(LOOP_SECONDS * sample_rate))
    samples = _BEDS[name](np.random.default_rng(seed), n, sample_rate)
    return (samples / np.sqrt(np.mean(samples**2))).astype(np.float32)


def _noise(
    rng: np.random.Generator, n: int, sample_rate: int, exponent: float,
    low: float = _LOW_CUT, high: float = _HIGH_CUT,
) -> np.ndarray:
    """Periodic noise whose amplitude falls as 1 / f**exponent between soft cuts; RMS 1."""
    spectrum = np.empty(n // 2 + 1, dtype=np.complex64)  # single precision: 3x faster
    spectrum.real = rng.standard_normal(n // 2 + 1)
    spectrum.imag = rng.standard_normal(n // 2 + 1)
    samples = np.fft.irfft(spectrum * _shape(n, sample_rate, exponent, low, high), n)
    return samples / np.sqrt(np.mean(samples**2, dtype=np.float64))


def _shape(n: int, sample_rate: int, exponent: float, low: float, high: float) -> np.ndarray:
    """Gain per rfft bin (float32): a 1 / f**exponent slope with second-order low and
    high cuts."""
    freqs = np.fft.rfftfreq(n, 1 / sample_rate).astype(np.float32)
    f = np.maximum(freqs, np.float32(1.0))
    below, above = (np.float32(low) / f) ** 2, (f / np.float32(high)) ** 2  # ** 4 is slow
    gain = np.exp(np.float32(-exponent) * np.log(f)) / np.sqrt(
        (1 + below * below) * (1 + above * above))
    gain[freqs < 1.0] = 0.0
    return gain


def _pink(rng: np.random.Generator, n: int, sample_rate: int) -> np.ndarray:
    return _noise(rng, n, sample_rate, 0.5)


def _brown(rng: np.random.Generator, n: int, sample_rate: int) -> np.ndarray:
    return _noise(rng, n, sample_rate, 1.0)


def _drone(rng: np.random.Generator, n: int, sample_rate: int) -> np.ndarray:
    """The chord, each partial breathing at its own slow pace, built line by line."""
    spectrum = np.zeros(n // 2 + 1, dtype=complex)
    per_hz = n / sample_rate  # rfft bins per Hz: bin k makes k whole cycles per loop
    fewest, most = (round(LOOP_SECONDS / seconds) for seconds in _BREATH_SECONDS)
    for freq, amplitude in _CHORD:
        tone = round(freq * per_hz)
        twin = tone + max(1, round(rng.uniform(*_TWIN_HZ) * per_hz))
        for line, level in ((tone, amplitude), (twin, amplitude * _TWIN)):
            breaths = int(rng.integers(fewest, most, endpoint=True))  # whole breaths per loop
            phase, turn = rng.uniform(0, 2 * np.pi, 2)
            # a (1 + d cos(breath)) cos(tone) is three lines: the tone, and d / 2 of it
            # on either side at the breath's distance
            spectrum[line] += level * np.exp(1j * phase)
            for side in (1, -1):
                spectrum[line + side * breaths] += (
                    level * _BREATH_DEPTH / 2 * np.exp(1j * (phase + side * turn))
                )
    return np.fft.irfft(spectrum, n)


def _surf(rng: np.random.Generator, n: int, sample_rate: int) -> np.ndarray:
    """Deep rolling noise under swells; the foam's hiss rises with each crest."""
    swell = _swells(rng, n)
    roar = _noise(rng, n, sample_rate, 1.0, high=700.0)
    foam = _noise(rng, n, sample_rate, 0.5, low=300.0, high=2500.0)
    return (_HUSH + (1 - _HUSH) * swell) * roar + _FOAM * swell**2 * foam


def _swells(rng: np.random.Generator, n: int) -> np.ndarray:
    """0 to 1 and back, once per wave; waves vary a little in length and height.

    The waves' lengths add up to the loop exactly, so the envelope is periodic too.
    """
    count = max(1, round(LOOP_SECONDS / _SWELL_SECONDS))
    lengths = rng.uniform(0.85, 1.15, count)
    edges = np.round(np.concatenate(([0.0], np.cumsum(lengths))) / lengths.sum() * n).astype(int)
    envelope = np.empty(n)
    for start, end, height in zip(edges[:-1], edges[1:], rng.uniform(0.7, 1.0, count)):
        p = np.arange(end - start) / (end - start)
        # a slow build to a crest about 40% in, then a longer wash back out
        envelope[start:end] = height * np.sin(np.pi * p**0.75) ** 2
    return np.roll(envelope, int(rng.integers(n)))


def _rain(rng: np.random.Generator, n: int, sample_rate: int) -> np.ndarray:
    """Droplets of random pitch and strength, softly filtered, over a low hush."""
    count = int(_DROPS_PER_SECOND * LOOP_SECONDS)
    t = (np.arange(int(_DROP_SECONDS * sample_rate)) / sample_rate).astype(np.float32)
    freqs = np.exp(rng.uniform(np.log(700.0), np.log(3000.0), (count, 1))).astype(np.float32)
    decays = rng.uniform(0.002, 0.005, (count, 1)).astype(np.float32)
    strengths = rng.uniform(0.4, 1.0, (count, 1)).astype(np.float32)
    envelope = np.sin(np.pi / 2 * np.minimum(t / _DROP_ATTACK, 1.0)) ** 2
    drops = strengths * envelope * np.exp(-t / decays) * np.sin(2 * np.pi * freqs * t)
    starts = rng.integers(0, n, (count, 1))
    # bincount adds overlapping droplets; the modulo wraps late ones round to the start
    at = ((starts + np.arange(len(t))) % n).ravel()
    raw = np.bincount(at, weights=drops.ravel(), minlength=n).astype(np.float64)
    # filtering the whole periodic layer in the frequency domain keeps it seamless
    layer = np.fft.irfft(np.fft.rfft(raw) * _shape(n, sample_rate, 0.0, 200.0, _HIGH_CUT), n)
    layer /= np.sqrt(np.mean(layer**2))
    return layer + _RAIN_HUSH * _noise(rng, n, sample_rate, 1.0, high=1500.0)


_BEDS: dict[str, Callable[[np.random.Generator, int, int], np.ndarray]] = {
    "pink": _pink, "brown": _brown, "drone": _drone, "surf": _surf, "rain": _rain,
}
