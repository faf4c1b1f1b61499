"""The interface every speech engine implements, and the registry that opens them.

An engine module (``piper``, ``system``) provides four things (``EngineModule``):

- ``DEFAULT_VOICE``: the voice used when none is asked for;
- ``voices() -> list[Voice]``: the voices it can use here;
- ``fingerprint(voice: str) -> str``: what names the voice's exact version in cache keys;
- ``open_engine(voice: str, wpm: float) -> Engine``: a ready engine speaking at about
  ``wpm`` words a minute (the rate of the sentences themselves, without the gaps).

Engine modules import their third-party library lazily, so a missing one becomes an
``EngineError`` that says how to install it rather than an ``ImportError``.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from ..errors import InvalidOption
from ..options import table

ENGINES = {
    "piper": "Piper neural voices (offline, natural; the default)",
    "system": "the system voices through pyttsx3 (espeak-ng on Linux, SAPI5, NSSpeech)",
}
DEFAULT_ENGINE: str = table.BY_KEY["engine"].default


@dataclass(frozen=True)
class Voice:
    """A voice an engine can speak with; ``name`` is what ``--voice`` takes."""

    engine: str
    name: str
    description: str


class Engine(Protocol):
    """One opened voice at one rate."""

    name: str
    identity: str
    """Stable text naming engine, voice, voice file and rate: part of the cache key."""
    workers: int
    """How many sentences ``synthesize`` may be asked for at once, from as many threads."""

    @property
    def sample_rate(self) -> int:
        """The rate of the samples ``synthesize`` returns."""
        ...

    def synthesize(self, text: str) -> np.ndarray:
        """Speak one sentence; float32 mono samples in [-1, 1] at ``sample_rate``."""
        ...

    def close(self) -> None:
        """Release the voice (and any worker process)."""
        ...


class EngineModule(Protocol):
    """What an engine module provides (``engine_module`` finds it by the engine's name)."""

    DEFAULT_VOICE: str
    """The voice used when none is asked for."""

    def voices(self) -> list[Voice]:
        """The voices it can use here."""
        ...

    def fingerprint(self, voice: str) -> str:
        """Stable text naming ``voice``'s exact version (its file, or the synthesizer's),
        found without opening the voice: a speaker keys its cached clips by it, so that
        a clip is reused with no engine opened, and not reused once the voice changed."""
        ...

    def open_engine(self, voice: str, wpm: float) -> Engine:
        """``voice``, ready, speaking at about ``wpm`` words a minute."""
        ...


DIGIT_LETTERS = 6
SIGN_LETTERS = 8


def letters_at_most(text: str) -> int:
    """How many letters saying ``text`` may take at the most: a digit may be a word of
    its own ("8255" is "eight two five five"), and so may a sign ("*", "asterisk")."""
    return sum(1 if c.isalpha() else DIGIT_LETTERS if c.isdigit() else SIGN_LETTERS
               for c in text if not c.isspace())


def synthesize_all(engine: Engine, texts: Sequence[str]) -> Iterator[np.ndarray]:
    """Speak ``texts``, ``engine.workers`` at a time; the clips come in ``texts`` order.

    The sentences are spoken in daemon threads rather than a ``ThreadPoolExecutor``,
    whose threads are joined at exit: an engine stuck in one sentence would then keep
    Ctrl-C and SIGTERM from ending the process. On an error the sentences already being
    spoken are waited for (the engine is closed next); on Ctrl-C they are not.
    """
    if engine.workers <= 1 or len(texts) <= 1:
        yield from map(engine.synthesize, texts)
        return
    clips: list[Future[np.ndarray]] = [Future() for _ in texts]
    upcoming = iter(range(len(texts)))
    lock, stop = threading.Lock(), threading.Event()

    def speak() -> None:
        while not stop.is_set():
            with lock:
                index = next(upcoming, None)
            if index is None:
                return
            try:
                clips[index].set_result(engine.synthesize(texts[index]))
            except BaseException as error:  # raised in order, where the caller waits
                clips[index].set_exception(error)
                stop.set()

    threads = [threading.Thread(target=speak, name=f"speech-{n}", daemon=True)
               for n in range(min(engine.workers, len(texts)))]
    for thread in threads:
        thread.start()
    interrupted = False
    try:
        for clip in clips:
            yield clip.result()
    except KeyboardInterrupt:
        interrupted = True
        raise
    finally:
        stop.set()
        if not interrupted:
            for thread in threads:
                thread.join()


def engine_module(name: str) -> EngineModule:
    """The module implementing engine ``name``."""
    if name not in ENGINES:
        raise InvalidOption(
            "--engine", f"unknown engine '{name}'; choose from: {', '.join(ENGINES)}"
        )
    module: EngineModule = importlib.import_module(f"{__package__}.{name}")
    return module


def open_engine(name: str, voice: str | None, wpm: float) -> Engine:
    """Open engine ``name`` with ``voice`` (or its default) at ``wpm``."""
    module = engine_module(name)
    engine: Engine = module.open_engine(voice or module.DEFAULT_VOICE, wpm)
    return engine


def list_voices(name: str) -> list[Voice]:
    """The voices engine ``name`` can use on this machine."""
    voices: list[Voice] = engine_module(name).voices()
    return voices
