"""Faults to inject, importable by the processes the fault tests start.

- ``Fake`` and its kin are system-engine speakers: the engine's worker process imports
  this module by name (``PYTHONPATH`` points at this folder) and speaks with them.
- ``cli()`` runs ``tre-audio`` with Piper broken as ``$TRE_AUDIO_FAULT`` says, for
  faults that only a real process shows (a signal while Piper is stuck, or while
  Python runs a ``__del__``, where it cannot raise).
- ``hammer()`` writes and reads one cache entry over and over, from several processes.
"""

from __future__ import annotations

import os
import sys
import time
import wave
from pathlib import Path

import numpy as np

FAULT = "TRE_AUDIO_FAULT"
STUCK = "TRE_AUDIO_FAULT_STUCK"
"""A file the stuck Piper touches once it is stuck, so the test knows when to signal."""


def write_noise(path: str, seconds: float, rate: int = 22050) -> None:
    """A WAV of ``seconds`` of noise, as a speaker would save speech."""
    noise = np.random.default_rng(0).uniform(-0.3, 0.3, int(seconds * rate))
    with wave.open(path, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes((noise * 32767).astype("<i2").tobytes())


class Fake:
    """A system-engine speaker that speaks noise as long as the words need."""

    def voices(self) -> list[list[str]]:
        return [["fake", "a fake voice"]]

    def open(self, voice: str, wpm: float, warm_up: str) -> dict[str, object]:
        self.wpm = wpm
        write_noise(warm_up, 60 / wpm)
        return {}

    def save(self, text: str, path: str) -> None:
        write_noise(path, len(text.split()) * 60 / self.wpm)


class Hang(Fake):
    def save(self, text: str, path: str) -> None:
        time.sleep(600)


class Crash(Fake):
    def save(self, text: str, path: str) -> None:
        print("fake crash", file=sys.stderr, flush=True)
        os._exit(3)


class Empty(Fake):
    def save(self, text: str, path: str) -> None:
        write_noise(path, 0)


# --- Piper, broken inside a real tre-audio process ------------------------------------


def cli() -> None:
    """``tre-audio`` with the neural voices' sentences (not their calibration) broken by
    ``$FAULT``."""
    import piper
    from hibari import Hibari

    from tre_audio.cli import main
    from tre_audio.speech.rate import CALIBRATION as _CALIBRATION

    real = piper.PiperVoice.synthesize
    fault = os.environ[FAULT]

    def synthesize(self, text, *args, **kwargs):  # type: ignore[no-untyped-def]
        if text in _CALIBRATION:
            return real(self, text, *args, **kwargs)
        if fault == "hang":
            Path(os.environ[STUCK]).touch()
            while True:
                time.sleep(1)
        return real(self, text, *args, **kwargs)

    piper.PiperVoice.synthesize = synthesize
    spoken = Hibari.__call__

    def call(self, text, *args, **kwargs):  # type: ignore[no-untyped-def]
        if fault == "hang" and text not in _CALIBRATION:
            Path(os.environ[STUCK]).touch()
            while True:
                time.sleep(1)
        return spoken(self, text, *args, **kwargs)

    Hibari.__call__ = call
    if fault == "deaf":  # a signal comes while Python runs a __del__, which cannot raise
        from tre_audio.speech.speaker import Speaker

        speak = Speaker.speak

        class Slow:
            def __del__(self) -> None:
                Path(os.environ[STUCK]).touch()
                time.sleep(2)

        def deaf(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            Slow()  # in the main thread, where signals are handled
            return speak(self, *args, **kwargs)

        Speaker.speak = deaf
    sys.argv[0] = "tre-audio"
    main()


# --- the cache, from several processes at once ----------------------------------------


def clip(seed: int) -> np.ndarray:
    """A clip of its own for each seed, long enough that writing it takes a while."""
    return np.random.default_rng(seed).uniform(-0.5, 0.5, 22050 * 3).astype(np.float32)


def hammer(folder: str, seed: int, rounds: int) -> None:
    """Put this process's clip under one shared key and read the key back, ``rounds``
    times; exit 1 if a read ever sees anything but a whole clip of some process."""
    from tre_audio.speech.cache import ClipCache

    cache = ClipCache(Path(folder), 22050)
    key = cache.key("hammer", "one sentence")
    mine = np.round(clip(seed) * 32768) / 32768
    for _ in range(rounds):
        cache.put(key, mine)
        got = cache.get(key)
        if got is None or got.shape != mine.shape:
            sys.exit(f"read a damaged or missing entry: {None if got is None else got.shape}")
