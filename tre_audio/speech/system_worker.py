"""The child process behind the system engine: pyttsx3 speaking one sentence at a time.

pyttsx3 runs here rather than in the main process so that a hang can be killed and its
"Audio saved to ..." prints never reach the user's stdout. ``main`` reads one JSON
request a line from stdin and answers each with ``["ok", value]`` or
``["error", kind, message]``:

- ``["open", voice, wpm, warm_up_path]``: select the voice and rate once and speak a
  warm-up into ``warm_up_path``; value: a dict describing the choice;
- ``["voices"]``: value: ``[[name, description, language], ...]`` (the language may
  be left out);
- ``["speak", text, path]``: write ``text`` to the WAV file ``path``; value: ``null``;
- ``null``: exit.

The factory builds the speaker (an object with those three methods); it defaults to
``Pyttsx3Speaker`` and only tests name another, to inject faults.
"""

from __future__ import annotations

import ctypes
import importlib
import json
import os
import re
import sys
import threading
import time
import wave
from typing import Any

DEFAULT_SPEAKER = f"{__name__}:Pyttsx3Speaker"
ESPEAK_RATE_FACTOR = 1.25
"""espeak-ng speaks sentences about 1.21-1.31x faster than its rate setting (measured
on English voices, 1.51), so the setting is the wanted words a minute divided by this."""
ESPEAK_RATE_LIMITS = (80, 450)
WARM_UP = "Ready."
SETTLE = 0.05
"""Pause after a finished utterance, before trusting the file or speaking again."""


class SetupError(Exception):
    """The speaker cannot start; ``kind`` is "missing-pyttsx3", "missing-espeak",
    "unknown-voice" or "unknown-variant"."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


def platform_driver() -> str:
    """The pyttsx3 driver of this platform."""
    return {"win32": "sapi5", "darwin": "nsss"}.get(sys.platform, "espeak")


class Pyttsx3Speaker:
    """pyttsx3 made dependable: one utterance at a time, each waited for to the end.

    Works around pyttsx3 2.99 with espeak-ng 1.51: the first ``runAndWait`` returns
    while espeak is still speaking; several saves before one ``runAndWait`` keep only
    the last; and pyttsx3 cancels espeak whenever a run ends while espeak is busy,
    which silently drops a pending rate change and then cancels the next utterance
    (a missing or empty file).
    """

    def __init__(self) -> None:
        try:
            import pyttsx3
        except ImportError:
            raise SetupError("missing-pyttsx3", "pyttsx3 is not installed") from None
        self.driver = platform_driver()
        try:
            self.engine = pyttsx3.init(self.driver)
        except Exception as error:
            if "espeak" in str(error).lower():
                raise SetupError("missing-espeak", str(error)) from None
            raise
        self._espeak: Any = None
        if self.driver == "espeak":
            from pyttsx3.drivers import _espeak

            self._espeak = _espeak
        self._finished = threading.Event()
        self._completed = False
        self.engine.connect("finished-utterance", self._on_finished)

    def _on_finished(self, name: Any = None, completed: bool = True) -> None:
        self._completed = bool(completed)
        self._finished.set()

    def voices(self) -> list[tuple[str, str, str]]:
        """The voices, by the name ``open`` takes, with a description and the language
        (English ones only for espeak)."""
        listed = []
        for voice in self.engine.getProperty("voices"):
            if self.driver == "espeak":
                # The file name, unlike the language code ("en-gb" is the file "en"),
                # is a name espeak-ng always accepts.
                name = str(voice.id).rpartition("/")[2].lower()
                languages = list(voice.languages or [])
                language = languages[0] if languages else ""
                if isinstance(language, bytes):
                    language = language.decode("ascii", "replace")
                if name.startswith("en"):
                    listed.append((name, f"{voice.name} (espeak-ng)", str(language)))
            else:
                listed.append((voice.name, str(voice.id), ""))
        return listed

    def open(self, voice: str, wpm: float, warm_up: str) -> dict[str, Any]:
        """Select ``voice`` and the rate once, then speak a throw-away warm-up into the
        file ``warm_up``; returns what was chosen, with the ``wpm`` to expect."""
        if self.driver == "espeak":
            chosen: str | None = self._check_espeak_voice(voice)
            low, high = ESPEAK_RATE_LIMITS
            rate = round(min(max(wpm / ESPEAK_RATE_FACTOR, low), high))
            wpm = rate * ESPEAK_RATE_FACTOR
            version = self._espeak.Info().decode("ascii", "replace")
        else:
            chosen = self._find_voice(voice)
            rate, version = round(wpm), ""
        # pyttsx3 applies properties set before its first runAndWait inside that run,
        # right before ending it with a cancel if espeak is busy, which can drop the rate.
        # So speak once first: then they apply as they are set, and save() waits until
        # espeak has taken them before the warm-up that follows.
        self.save(WARM_UP, warm_up)
        if chosen is not None:
            self.engine.setProperty("voice", chosen)
        self.engine.setProperty("rate", rate)
        self.save(WARM_UP, warm_up)
        if self._espeak is not None and self._espeak_rate() != rate:
            raise RuntimeError(f"espeak-ng ignored the rate {rate}")
        return {"driver": self.driver, "version": version, "voice": chosen, "rate": rate,
                "wpm": wpm}

    def _espeak_rate(self) -> int:
        # pyttsx3 declares espeak_GetParameter without its "current" argument.
        get = self._espeak.dll.espeak_GetParameter
        get.restype, get.argtypes = ctypes.c_int, [ctypes.c_int, ctypes.c_int]
        return int(get(self._espeak.RATE, 1))

    def _check_espeak_voice(self, voice: str) -> str:
        # espeak-ng picks the voice its own way (language, file or name) but returns an
        # error only for an unknown base voice: an unknown variant is silently ignored.
        espeak = self._espeak
        variant = voice.partition("+")[2]
        if variant and not re.fullmatch(r"[A-Za-z0-9_ -]{1,24}", variant):
            raise SetupError("unknown-variant", variant[:40])  # a path, or past its buffer
        if espeak.SetVoiceByName(voice.encode("utf-8")) != 0:
            raise SetupError("unknown-voice", voice)
        current = espeak.GetCurrentVoice().contents.identifier.decode("utf-8", "replace")
        if variant and not current.endswith(f"+{variant}"):
            raise SetupError("unknown-variant", variant)
        return voice

    def _find_voice(self, voice: str) -> str | None:
        if voice.lower() == "default":
            return None
        for candidate in self.engine.getProperty("voices"):
            if voice.lower() in (str(candidate.id).lower(), str(candidate.name).lower()):
                return str(candidate.id)
        raise SetupError("unknown-voice", voice)

    def save(self, text: str, path: str, timeout: float = 600.0) -> None:
        """Write ``text`` to the WAV file ``path`` and return once the file is complete."""
        self._wait_idle(timeout)
        self._finished.clear()
        self.engine.save_to_file(text, path)
        self.engine.runAndWait()
        if not self._finished.wait(timeout):
            raise RuntimeError("pyttsx3 never reported the utterance finished")
        if not self._completed:
            raise RuntimeError("pyttsx3 cancelled the utterance")
        self._wait_idle(timeout)
        time.sleep(SETTLE)
        wait_for_wav(path, timeout)

    def _wait_idle(self, timeout: float) -> None:
        # espeak reports a finished utterance from its own thread while still busy; a
        # new one started then is cancelled by pyttsx3.
        if self._espeak is None:
            return
        deadline = time.monotonic() + timeout
        while self._espeak.IsPlaying():
            if time.monotonic() > deadline:
                raise RuntimeError("espeak-ng stayed busy")
            time.sleep(0.002)


def wait_for_wav(path: str, timeout: float, poll: float = 0.02) -> None:
    """Return once ``path`` is complete: not empty, a whole WAV if it is one, and no
    longer growing."""
    deadline = time.monotonic() + timeout
    last = -1
    while time.monotonic() < deadline:
        size = _complete_size(path)
        if size > 0 and size == last:
            return
        last = size
        time.sleep(poll)
    raise RuntimeError("the WAV file was not completed")


def _complete_size(path: str) -> int:
    try:
        size = os.path.getsize(path)
        with open(path, "rb") as file:
            if file.read(4) != b"RIFF":
                return size  # another format (NSSpeechSynthesizer writes AIFF)
        with wave.open(path, "rb") as wav:
            wanted = wav.getnframes() * wav.getsampwidth() * wav.getnchannels()
            if len(wav.readframes(wav.getnframes())) != wanted:
                return -1
        return size
    except (OSError, EOFError, wave.Error):
        return -1


def load(factory: str) -> Any:
    """The object named ``"module:attribute"``."""
    module, _, attribute = factory.partition(":")
    return getattr(importlib.import_module(module), attribute)


def _answer(request: list[Any], speaker: Any) -> Any:
    op, *args = request
    if op == "open":
        return speaker.open(*args)
    if op == "voices":
        return speaker.voices()
    if op == "speak":
        return speaker.save(*args)
    raise ValueError(f"unknown request {op!r}")


def main(factory: str = DEFAULT_SPEAKER) -> None:
    """Answer JSON requests from stdin on a private copy of stdout, until told to stop."""
    replies = os.fdopen(os.dup(1), "w", encoding="utf-8")
    # stdout itself goes to /dev/null at the descriptor level, so that prints from
    # pyttsx3 and from C code cannot corrupt the replies or reach the user's terminal.
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 1)
    os.close(null)
    sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - lives as long as the process
    speaker: Any = None
    for line in sys.stdin.buffer:
        request = json.loads(line)
        if request is None:
            break
        try:
            if speaker is None:
                speaker = load(factory)()
            reply: list[Any] = ["ok", _answer(request, speaker)]
        except SetupError as error:
            reply = ["error", error.kind, str(error)]
        except Exception as error:  # reported to the parent, which decides
            reply = ["error", "failed", f"{type(error).__name__}: {error}".strip()]
        replies.write(json.dumps(reply) + "\n")
        replies.flush()

