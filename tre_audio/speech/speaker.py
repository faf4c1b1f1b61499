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
    """One engine, voice and rate, with the engine opened only on a cache miss."""

    def __init__(self, engine: str, voice: str | None, wpm: float, cache: ClipCache) -> None:
        module = engine_module(engine)
        self.engine_name = engine
        self.voice = voice or module.DEFAULT_VOICE
        self.wpm = wpm
        self.cache = cache
        self.identity = f"{engine}:{module.fingerprint(self.voice)}:{wpm:g}"

    def speak(
        self, sentences: Sequence[str], progress: Progress | None = None
    ) -> dict[str, np.ndarray]:
        """A prepared clip for every distinct sentence."""
        unique = list(dict.fromkeys(sentences))
        keys = {text: self.cache.key(self.identity, text) for text in unique}
        clips: dict[str, np.ndarray] = {}
        for text in unique:
            cached = self.cache.get(keys[text])
            if cached is not None:
                clips[text] = cached
        missing = [text for text in unique if text not in clips]
        if progress:
            progress(len(clips), len(unique))
        if not missing:
            return clips
        engine = open_engine(self.engine_name, self.voice, self.wpm)
        try:
            for text, raw in zip(missing, synthesize_all(engine, missing)):
                clips[text] = self._prepare(engine, text, raw)
                self.cache.put(keys[text], clips[text])
                if progress:
                    progress(len(clips), len(unique))
        finally:
            engine.close()
        return clips

    def _prepare(self, engine: Engine, text: str, raw: np.ndarray) -> np.ndarray:
        clip = prepare(raw, engine.sample_rate, self.cache.sample_rate)
        if clip.size == 0:
            raise EngineError(f"the {self.engine_name} engine spoke only silence for: {text[:60]}")
        return clip
