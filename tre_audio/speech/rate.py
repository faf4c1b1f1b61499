"""Setting a neural voice's pace: the length scale that makes it speak at a rate.

Piper and hibari both take a number that stretches speech (Piper's ``length_scale``;
hibari's ``speed`` is its inverse). Speech time grows more slowly than that number, by
a power that differs between voices, so the scale for a rate is measured: from figures
shipped for a known voice file, else from the scale kept for this voice and rate, else
by speaking three calibration sentences twice (and then kept, so a voice is calibrated
once and speaks new sentences at the pace of those it spoke before).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from ..errors import VoiceError
from ..files.inputs import read_bytes
from ..sound.clip import trim
from .cache import default_folder, keep
from .engine import Engine, synthesize_all

CALIBRATION = (  # spoken one by one, like narration, since sentence ends slow a voice
    "Let your weight settle evenly through both feet.",
    "Roll onto the outer edge of one foot and the inner edge of the other.",
    "When you are ready, come back to the middle and rest.",
)
LOWEST, HIGHEST = 0.5, 3.0
"""The scales a voice is asked for: beyond them speech breaks up or drags."""

Measured = Sequence[tuple[float, float]]
"""Words a minute at some length scales, measured for one voice file."""


def clamp(scale: float) -> float:
    return float(np.clip(scale, LOWEST, HIGHEST))


def from_measured(measured: Measured, wpm: float) -> float | None:
    """The scale for ``wpm`` read off figures measured for the voice (log-linear between
    them); None if ``wpm`` is outside them."""
    points = sorted(measured)
    if not points or not points[0][0] <= wpm <= points[-1][0]:
        return None
    rates, scales = zip(*points)
    return float(np.exp(np.interp(np.log(wpm), np.log(rates), np.log(scales))))


def words_a_minute(clips: Sequence[np.ndarray], sample_rate: int) -> float:
    """The rate the ``CALIBRATION`` sentences were spoken at, silence trimmed."""
    samples = sum(len(trim(clip, sample_rate)) for clip in clips)
    words = sum(len(s.split()) for s in CALIBRATION)
    return words * 60.0 * sample_rate / max(samples, 1)


def spoken_at(engine: Scaled, length_scale: float, voice: str) -> float:
    """The words a minute ``engine`` speaks the calibration sentences at, at a scale; a
    ``VoiceError`` naming the ``voice`` (Piper, hibari) if it cannot speak."""
    engine.length_scale = length_scale
    try:
        clips = list(synthesize_all(engine, CALIBRATION))
    except Exception as error:  # a model that loads but cannot run is a broken voice
        raise VoiceError(f"the {voice} voice failed to speak: {error}") from None
    return words_a_minute(clips, engine.sample_rate)


class Scaled(Engine, Protocol):
    """An engine whose pace is a length scale."""

    length_scale: float


def calibrated(identity: str, wpm: float, speak_at: Callable[[float], float],
               exponent: float) -> float:
    """The scale kept for ``identity`` (voice file and rate), else the one measured now
    with ``speak_at`` (words a minute at a scale) from a first guess by ``exponent``,
    and kept."""
    kept = _kept(identity)
    if kept is not None:
        return kept
    natural = speak_at(1.0)
    guess = clamp((natural / wpm) ** (1 / exponent))
    at_guess = speak_at(guess)
    if abs(np.log(guess)) < 0.05 or at_guess >= natural:
        scale = guess
    else:
        scale = clamp((natural / wpm) ** (1 / float(np.log(natural / at_guess) / np.log(guess))))
    keep(_file(identity), f"{scale!r}\n".encode("ascii"))
    return scale


def _file(identity: str) -> Path:
    return default_folder() / "voice-rates" / hashlib.sha256(identity.encode()).hexdigest()


def _kept(identity: str) -> float | None:
    try:
        scale = float(read_bytes(_file(identity), 64).decode("ascii"))
    except (OSError, ValueError):  # missing, not a regular file, damaged
        return None
    return scale if math.isfinite(scale) and clamp(scale) == scale else None
