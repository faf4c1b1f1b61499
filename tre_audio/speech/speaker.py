"""Speech for a session's sentences: from the cache where it can, else from the engine."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from ..errors import EngineError
from .cache import ClipCache
from .clip import prepare
from .engine import Engine, engine_module, open_engine

Progress = Callable[[int, int], None]


class Speaker:
    """One engine, voice and rate, with the engine opened only on a cache miss."""

    def __init__(self, engine: str, voice: str | None, wpm: float, cache: ClipCache) -> None:
        module = engine_module(engine)
        self.engine_name = engine
        self.voice = voice or module.DEFAULT_VOICE
        self.wpm = wpm
        self.cache = cache
        self.identity = f"{engine}:{module.fingerprint(self.voice)}:{wpm:g}"
        self._engine: Engine | None = None

    def speak(
        self, sentences: Sequence[str], progress: Progress | None = None
    ) -> dict[str, np.ndarray]:
        """A prepared clip for every distinct sentence."""
        unique = list(dict.fromkeys(sentences))
        clips: dict[str, np.ndarray] = {}
        try:
            for done, text in enumerate(unique, start=1):
                clips[text] = self._clip(text)
                if progress:
                    progress(done, len(unique))
        finally:
            self.close()
        return clips

    def _clip(self, text: str) -> np.ndarray:
        key = self.cache.key(self.identity, text)
        cached = self.cache.get(key)
        if cached is not None:
            return cached
        if self._engine is None:
            self._engine = open_engine(self.engine_name, self.voice, self.wpm)
        raw = self._engine.synthesize(text)
        clip = prepare(raw, self._engine.sample_rate, self.cache.sample_rate)
        if clip.size == 0:
            raise EngineError(f"the {self.engine_name} engine spoke only silence for: {text[:60]}")
        self.cache.put(key, clip)
        return clip

    def close(self) -> None:
        if self._engine is not None:
            self._engine.close()
            self._engine = None
