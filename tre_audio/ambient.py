"""Ambient beds generated from seeded noise: no audio files are shipped.

A bed is a loop of coloured noise shaped in the frequency domain. Noise made that way
is periodic over the loop's length, so the loop repeats with no seam or click.
"""

from __future__ import annotations

import numpy as np

from .errors import InvalidOption

AMBIENTS = {
    "pink": "soft pink noise, like a steady breeze (default)",
    "brown": "deep brown noise, like a distant waterfall",
    "none": "no bed: voice and bells only",
}
DEFAULT_AMBIENT = "pink"
LOOP_SECONDS = 40.0
_COLOUR_EXPONENT = {"pink": 0.5, "brown": 1.0}  # amplitude falls as 1 / f**exponent
_LOW_CUT = 40.0  # Hz: keeps the bed from rumbling or drifting
_HIGH_CUT = 3500.0  # Hz: a soft roll-off so the bed never hisses over the voice


def check(name: str) -> str:
    """``name`` if it is an ambient bed, else an ``InvalidOption``."""
    if name not in AMBIENTS:
        raise InvalidOption(
            "--ambient", f"unknown ambient '{name}'; choose from: {', '.join(AMBIENTS)}"
        )
    return name


def loop(name: str, sample_rate: int, seed: int = 0) -> np.ndarray | None:
    """A seamless loop of bed ``name`` with an RMS of 1, or None for ``none``."""
    if check(name) == "none":
        return None
    n = int(LOOP_SECONDS * sample_rate)
    rng = np.random.default_rng(seed)
    spectrum = rng.standard_normal(n // 2 + 1) + 1j * rng.standard_normal(n // 2 + 1)
    freqs = np.fft.rfftfreq(n, 1 / sample_rate)
    shape = np.zeros_like(freqs)
    audible = freqs >= 1.0
    f = freqs[audible]
    shape[audible] = (
        f ** -_COLOUR_EXPONENT[name]
        / np.sqrt(1 + (_LOW_CUT / f) ** 4)
        / np.sqrt(1 + (f / _HIGH_CUT) ** 4)
    )
    samples = np.fft.irfft(spectrum * shape, n)
    return (samples / np.sqrt(np.mean(samples**2))).astype(np.float32)
