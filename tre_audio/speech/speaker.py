"""Speech for a session's sentences: from the cache where it can, else from the engine."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import numpy as np

from ..errors import EngineError, LexiconError
from .cache import SPEED_AFTER, ClipCache, keep_speed, voice_identity
from ..sound.clip import PEAK_OVER_RMS_DB, SPEECH_RMS_DB, prepare
from .engine import (Engine, engine_module, letters_at_most, open_engine, resolve,
                     synthesize_all)

Progress = Callable[[int, int], None]


class Speaker:
    """One engine, voice and rate, with the engine opened only on a cache miss.

    ``engine`` and ``voice`` are as chosen (either may be None: see ``engine.resolve``):
    ``engine_name`` and ``voice`` become the engine and its own name for the voice.
    ``lexicon``, if given, respells each sentence before it is spoken (see
    ``tre_audio.lexicon``); the cache is keyed by what is spoken, the clips by the
    sentence as written.
    """

    def __init__(self, engine: str | None, voice: str | None, wpm: float, cache: ClipCache,
                 lexicon: Callable[[str], str] | None = None) -> None:
        self.engine_name, self.voice = resolve(engine, voice)
        module = engine_module(self.engine_name)
        self.wpm = wpm
        self.cache = cache
        self.lexicon = lexicon
        self.identity = voice_identity(self.engine_name, module.fingerprint(self.voice), wpm)

    def spoken(self, text: str) -> str:
        """What the engine is asked to say for the sentence ``text``."""
        return self.lexicon(text) if self.lexicon else text

    def speak(
        self, sentences: Sequence[str], progress: Progress | None = None
    ) -> dict[str, np.ndarray]:
        """A prepared clip for every distinct sentence, keyed by the sentence as written."""
        written = {text: self.spoken(text) for text in sentences}
        for text, said in written.items():
            if len(said) > MAX_SPOKEN:
                raise LexiconError(f"the lexicon makes {len(said):,} characters of: "
                                   f"{text[:60]}; a sentence spoken may be at most "
                                   f"{MAX_SPOKEN:,} (shorten its respellings)")
        unique = list(dict.fromkeys(written.values()))
        keys = {text: self.cache.key(self.identity, text) for text in unique}
        made: dict[str, np.ndarray] = {}
        for text in unique:
            cached = self.cache.get(keys[text])
            if cached is not None and problem(cached, text, self.cache.sample_rate) is None:
                made[text] = cached
        # longest first, so the last sentences to finish are short and no worker idles long
        missing = sorted((text for text in unique if text not in made), key=len, reverse=True)
        if progress:
            progress(len(made), len(unique))
        if missing:
            engine = open_engine(self.engine_name, self.voice, self.wpm)
            started, spoken_seconds = time.perf_counter(), 0.0
            try:
                for text, raw in zip(missing, synthesize_all(engine, missing)):
                    spoken_seconds += len(raw) / engine.sample_rate
                    made[text] = self.cache.put(keys[text], self._prepare(engine, text, raw))
                    if progress:
                        progress(len(made), len(unique))
            finally:
                engine.close()
            if spoken_seconds >= SPEED_AFTER:
                keep_speed(self.engine_name, self.voice,
                                spoken_seconds / (time.perf_counter() - started))
        return {text: made[spoken] for text, spoken in written.items()}

    def _prepare(self, engine: Engine, text: str, raw: np.ndarray) -> np.ndarray:
        if not np.all(np.isfinite(raw)):  # would turn the whole session into noise
            raise EngineError(f"the {self.engine_name} engine made broken audio (not a "
                              f"number) for: {text[:60]}")
        clip = prepare(raw, engine.sample_rate, self.cache.sample_rate)
        wrong = problem(clip, text, self.cache.sample_rate)
        if wrong is not None:
            raise EngineError(f"the {self.engine_name} engine {wrong} for: {text[:60]}")
        return clip


MAX_SPOKEN = 2000
"""Characters a sentence may have as spoken: twice what a script may write (respellings
lengthen it); a voice needs memory and time with the length (2 MB asked for 3.6 GB)."""
LEVEL_TOLERANCE_DB = 0.5
"""How far a prepared clip's RMS may be from ``SPEECH_RMS_DB`` (16-bit rounding is far
less), and its peak over the ceiling ``prepare`` limits true peaks to."""
SECONDS_PER_CHARACTER = (0.025, 0.5)
"""The voices speak 0.066-0.22 s a letter (0.1 on average; measured on the programmes'
504 sentences and counts as Piper speaks them): a clip four times quicker or five times
slower than that is not that text spoken (``SLACK`` spares short words; digits and signs
count as the words they may be said as: ``letters_at_most``)."""
SLACK = (0.25, 1.0)


def problem(clip: np.ndarray, text: str, rate: int) -> str | None:
    """What makes ``clip`` unlike a prepared clip of ``text`` (None if nothing): silent,
    at another level than ``prepare`` leaves speech, or of a length speech of that text
    cannot have. Both a clip a voice just made and one read from the cache are checked:
    whoever can write the cache folder can write an entry whose checksum holds."""
    if clip.size == 0 or not np.any(clip):
        return "spoke only silence"
    rms_db = 10 * np.log10(np.mean(np.square(clip, dtype=np.float64)))
    peak_db = 20 * np.log10(float(np.max(np.abs(clip))))
    if abs(rms_db - SPEECH_RMS_DB) > LEVEL_TOLERANCE_DB or \
            peak_db > SPEECH_RMS_DB + PEAK_OVER_RMS_DB + LEVEL_TOLERANCE_DB + 1.0:
        return f"made a clip at {rms_db:.1f} dB (peak {peak_db:.1f} dB), not at speech level"
    seconds = len(clip) / rate
    letters = sum(c.isalpha() for c in text)
    (fastest, slowest), (sooner, later) = SECONDS_PER_CHARACTER, SLACK
    if not fastest * letters - sooner <= seconds <= slowest * letters_at_most(text) + later:
        return (f"spoke {seconds:.1f} s for a text of {len(text)} characters, which its "
                "speech cannot take")
    return None
