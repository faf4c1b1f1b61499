"""Speech for a session's sentences: from the cache where it can, else from the engine."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from ..errors import EngineError
from .cache import ClipCache
from .clip import prepare
from .engine import Engine, engine_module, open_engine, synthesize_all

Progress = Callable[[int, int], None]


class Speaker:
    """One engine, voice and rate, with the engine opened only on a cache miss.

    ``lexicon``, if given, respells each sentence before it is spoken (see
    ``tre_audio.lexicon``); the cache is keyed by what is spoken, the clips by the
    sentence as written.
    """

    def __init__(self, engine: str, voice: str | None, wpm: float, cache: ClipCache,
                 lexicon: Callable[[str], str] | None = None) -> None:
        module = engine_module(engine)
        self.engine_name = engine
        self.voice = voice or module.DEFAULT_VOICE
        self.wpm = wpm
        self.cache = cache
        self.lexicon = lexicon
        self.identity = f"{engine}:{module.fingerprint(self.voice)}:{wpm:g}"

    def spoken(self, text: str) -> str:
        """What the engine is asked to say for the sentence ``text``."""
        return self.lexicon(text) if self.lexicon else text

    def speak(
        self, sentences: Sequence[str], progress: Progress | None = None
    ) -> dict[str, np.ndarray]:
        """A prepared clip for every distinct sentence, keyed by the sentence as written."""
        written = {text: self.spoken(text) for text in sentences}
        unique = list(dict.fromkeys(written.values()))
        keys = {text: self.cache.key(self.identity, text) for text in unique}
        made: dict[str, np.ndarray] = {}
        for text in unique:
            cached = self.cache.get(keys[text])
            if cached is not None:
                made[text] = cached
        # longest first, so the last sentences to finish are short and no worker idles long
        missing = sorted((text for text in unique if text not in made), key=len, reverse=True)
        if progress:
            progress(len(made), len(unique))
        if missing:
            engine = open_engine(self.engine_name, self.voice, self.wpm)
            try:
                for text, raw in zip(missing, synthesize_all(engine, missing)):
                    made[text] = self.cache.put(keys[text], self._prepare(engine, text, raw))
                    if progress:
                        progress(len(made), len(unique))
            finally:
                engine.close()
        return {text: made[spoken] for text, spoken in written.items()}

    def _prepare(self, engine: Engine, text: str, raw: np.ndarray) -> np.ndarray:
        if not np.all(np.isfinite(raw)):  # would turn the whole session into noise
            raise EngineError(f"the {self.engine_name} engine made broken audio (not a "
                              f"number) for: {text[:60]}")
        clip = prepare(raw, engine.sample_rate, self.cache.sample_rate)
        if clip.size == 0:
            raise EngineError(f"the {self.engine_name} engine spoke only silence for: {text[:60]}")
        return clip
