"""The interface every speech engine implements, and the registry that opens them.

An engine module (``piper``, ``hibari``, ``system``) provides six things
(``EngineModule``):

- ``DEFAULT_VOICE``: the voice used when none is asked for;
- ``SHIPPED``: the names of the voices that come with it, kept for them;
- ``SPEEDS``: how many times faster than real time those voices speak, measured;
- ``voices() -> list[Voice]``: the voices it can use here, found without running a model;
- ``fingerprint(voice: str) -> str``: what names the voice's exact version in cache keys;
- ``open_engine(voice: str, wpm: float) -> Engine``: a ready engine speaking at about
  ``wpm`` words a minute (the rate of the sentences themselves, without the gaps).

Engine modules import their third-party library lazily, so a missing one becomes an
``EngineError`` that says how to install it rather than an ``ImportError``.

A voice has one name across the engines (``voices``: what ``tre-audio list voices``
prints and ``--voice`` takes), and its engine follows from it (``resolve``).
"""

from __future__ import annotations

import importlib
import re
import threading
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol

import numpy as np
import platformdirs

from ..errors import InvalidOption, TreAudioError
from .cache import kept_speed

ENGINES = {
    "hibari": "hibari neural voices (offline, natural, fast: small distillations of "
              "Kokoro's; the default)",
    "piper": "Piper neural voices (offline, natural)",
    "system": "the system voices through pyttsx3 (espeak-ng on Linux, SAPI5, NSSpeech)",
}
"""The engines, in the order their voices take names (see ``voices``)."""
DEFAULT_ENGINE = "hibari"
VARIANT = re.compile(r"[A-Za-z0-9_ -]{1,24}")
"""What a voice variant (after a '+') may be: the names of espeak-ng's (``f1``,
``Mr serious``), never a path."""
"""The engine of a session that chooses neither an engine nor a voice."""


@dataclass(frozen=True)
class Voice:
    """A voice an engine can speak with, by its one name: the name ``tre-audio list
    voices`` prints and ``--voice`` takes."""

    engine: str
    name: str
    description: str
    opens: str = ""
    """What the engine itself calls it, where that is not ``name`` (espeak-ng's file
    ``en`` for ``en-gb``)."""
    aliases: tuple[str, ...] = ()
    """Older names, still read where no other voice has them."""
    shipped: bool = False
    """It comes with tre-audio or with its engine (``EngineModule.SHIPPED``)."""
    variants: bool = False
    """It takes a variant after a '+' (espeak-ng: ``en-gb+m3``)."""
    refused: str = ""
    """Why it cannot be used ('' if it can)."""
    speaks: str = ""
    """The language it speaks, as an IETF tag (``en-US``), where the engine says so."""
    accent: str = ""
    gender: str = ""
    speed: float | None = None
    """Times faster than real time it speaks: as measured on this machine when it last
    spoke a session, else as shipped (``EngineModule.SPEEDS``), else None."""

    def names(self) -> tuple[str, ...]:
        """Every name it answers to: its own, then its older ones."""
        return (self.name, *self.aliases)

    @property
    def language(self) -> str:
        """The primary language it speaks (``en``), from the name the engine knows it by:
        Piper's files are named ``en_US-joe-medium``, espeak-ng's voices ``en-gb``."""
        own = self.speaks or self.opens or (self.aliases[0] if self.aliases else self.name)
        return re.split(r"[-_+]", own.lower(), maxsplit=1)[0]


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
    SHIPPED: tuple[str, ...]
    """The names (and older names) of the voices that come with it: no other voice may
    take them, whether or not the voice is listed here."""
    SPEEDS: dict[str, float]
    """Times faster than real time its shipped voices speak, measured for ``list
    voices`` (on two cores of an AMD EPYC)."""

    def voices(self) -> list[Voice]:
        """The voices it can use here (and those it ships that it cannot, refused with the
        reason), found without running a model."""
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


def voice_folders() -> list[Path]:
    """Folders searched for voice files of the user's (Piper's, hibari's), in order."""
    return [Path.cwd() / "voices", Path(platformdirs.user_data_dir("tre-audio")) / "voices"]


def engine_module(name: str) -> EngineModule:
    """The module implementing engine ``name``."""
    if name not in ENGINES:
        raise InvalidOption(
            "--engine", f"unknown engine '{name}'; choose from: {', '.join(ENGINES)}"
        )
    module: EngineModule = importlib.import_module(f"{__package__}.{name}")
    return module


def open_engine(name: str, voice: str | None, wpm: float) -> Engine:
    """Open engine ``name`` with ``voice`` (its own name for it, or its default) at ``wpm``."""
    module = engine_module(name)
    engine: Engine = module.open_engine(voice or module.DEFAULT_VOICE, wpm)
    return engine


@dataclass(frozen=True)
class Voices:
    """Every voice on this machine, by its one name (``voices``)."""

    voices: tuple[Voice, ...]
    """In the engines' order; those ``refused`` say why."""
    unavailable: tuple[tuple[str, str], ...]
    """The engines that could not list their voices, and why."""


def voices() -> Voices:
    """Every voice of every engine, each by its one name, its engine, a description, and
    whether it may be used (``Voice.refused``). Listing runs no model.

    The naming rule: a name belongs to one voice. The names of the shipped voices
    (``EngineModule.SHIPPED``: Piper's bundled ``joe``, the system engine's default) are
    theirs first; then each engine's voices take their names in the order of ``ENGINES``
    (Piper's voice files, then the system's voices). A voice whose name is taken is
    refused, saying by which voice; an older name (``Voice.aliases``) that is taken is
    simply not read as this voice's.
    """
    listed: list[Voice] = []
    unavailable: list[tuple[str, str]] = []
    for found in _named(_listings(ENGINES)):
        if isinstance(found, Voice):
            speed = None if found.refused else (
                kept_speed(found.engine, found.name)
                or engine_module(found.engine).SPEEDS.get(found.name))
            listed.append(replace(found, speed=speed))
        else:
            unavailable.append(found)
    return Voices(tuple(listed), tuple(unavailable))


def speaking(language: str, engine: str | None = None) -> Voice | None:
    """The first usable voice, in the engines' order (of ``engine`` only, if given), that
    speaks ``language`` (its primary part: ``de`` for ``de-CH``), or None."""
    primary = language.lower().split("-")[0]
    return next((v for v in voices().voices if not v.refused and v.language == primary
                 and engine in (None, v.engine)), None)


def resolve(engine: str | None, voice: str | None) -> tuple[str, str]:
    """The engine, and its own name for the voice, that a choice of ``engine`` and
    ``voice`` (either None: not chosen) makes: a voice's name brings its engine; an engine
    alone, its default voice; neither, the default engine's default voice. An engine and
    a voice of another engine are refused, and so is a name no voice has; with an engine
    given, a name no engine lists is left to that engine (the older names it reads).
    Lists no more engines than it needs to."""
    if engine is not None:
        engine_module(engine)  # an unknown engine is refused first
    if voice is None:
        chosen = engine or DEFAULT_ENGINE
        return chosen, engine_module(chosen).DEFAULT_VOICE
    shipped = _shipped()
    if voice in shipped:
        return _matched(engine, voice, shipped[voice]), voice
    unavailable, refused = [], None
    for found in _named(_listings(ENGINES), shipped):
        if not isinstance(found, Voice):
            unavailable.append(found)
        elif (opens := _opens(found, voice)) is not None:
            if not found.refused:
                return _matched(engine, voice, found.engine), opens
            refused = refused or found
    if engine is not None:
        return engine, voice
    if refused is not None:
        raise InvalidOption("--voice", f"--voice '{voice}' is the {refused.engine} voice "
                            f"'{refused.name}', which is refused: {refused.refused}; see: "
                            "tre-audio list voices")
    why = "".join(f" (the {name} voices could not be listed: {error})"
                  for name, error in unavailable)
    raise InvalidOption("--voice", f"unknown voice '{voice}'; see: tre-audio list voices{why}")


def listed_name(engine: str, voice: str) -> str:
    """The name ``tre-audio list voices`` prints for ``voice`` of ``engine``: an older
    name (``en_US-joe-medium``, espeak-ng's file ``en``) becomes the listed one, with
    its variant."""
    base, plus, variant = voice.partition("+")
    for found in engine_module(engine).voices():
        if base in found.names() and not found.refused:
            return found.name + plus + variant
    return voice


def _matched(engine: str | None, voice: str, owner: str) -> str:
    """``owner``, the engine of ``voice``, if it is ``engine`` or no engine was chosen."""
    if engine is not None and engine != owner:
        raise InvalidOption("--voice", f"--voice '{voice}' is a {owner} voice, not a "
                            f"{engine} one: give the voice alone (it brings its engine) or "
                            f"a {engine} voice; see: tre-audio list voices")
    return owner


def _opens(found: Voice, voice: str) -> str | None:
    """What ``found``'s engine opens for the name ``voice``; None if it is not its name."""
    own = found.opens or found.name
    if voice in found.names():
        return own
    base, plus, variant = voice.partition("+")
    if found.variants and plus and variant and base in found.names():
        if not VARIANT.fullmatch(variant):  # it names a file, and espeak-ng's buffer is short
            raise InvalidOption("--voice", f"unknown voice variant '+{variant[:40]}'; "
                                "espeak-ng's include +f1 to +f5 and +m1 to +m7; see: "
                                "tre-audio list voices")
        return f"{own}+{variant}"
    return None


def _shipped() -> dict[str, str]:
    """The shipped voices' names, each with its engine."""
    return {name: engine for engine in ENGINES for name in engine_module(engine).SHIPPED}


def _listings(engines: Iterable[str]) -> Iterator[tuple[str, list[Voice] | TreAudioError]]:
    """Each engine's own list of voices (or why it has none), listed as asked for."""
    for engine in engines:
        try:
            yield engine, engine_module(engine).voices()
        except TreAudioError as error:
            yield engine, error


def _named(listings: Iterable[tuple[str, list[Voice] | TreAudioError]],
           shipped: dict[str, str] | None = None) -> Iterator[Voice | tuple[str, str]]:
    """The voices of ``listings`` by the naming rule (see ``voices``): each voice with
    the older names it keeps, or refused (it claims no name) if its name is taken; an
    engine that could not list, as its name and why."""
    shipped = _shipped() if shipped is None else shipped
    owners: dict[str, Voice] = {}
    for engine, listed in listings:
        if isinstance(listed, TreAudioError):
            yield engine, str(listed)
            continue
        for voice in listed:
            if voice.refused:
                yield voice
                continue
            taken = _taken(voice, owners, shipped)
            if taken:
                yield replace(voice, refused=taken)
                continue
            kept = tuple(name for name in voice.aliases if name not in owners
                         and (voice.shipped or name not in shipped))
            voice = replace(voice, aliases=kept)
            for name in voice.names():
                owners[name] = voice
            yield voice


def _taken(voice: Voice, owners: dict[str, Voice], shipped: dict[str, str]) -> str:
    """Why ``voice``'s name is not its own ('' if it is)."""
    if voice.name in shipped and not (voice.shipped and shipped[voice.name] == voice.engine):
        return f"'{voice.name}' is a name of a shipped {shipped[voice.name]} voice"
    owner = owners.get(voice.name)
    if owner is not None:
        which = "listed above" if owner.name == voice.name else f"'{owner.name}'"
        return f"'{voice.name}' already names the {owner.engine} voice {which}"
    return ""
