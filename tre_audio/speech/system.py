"""The system voices through pyttsx3: espeak-ng on Linux, SAPI5 on Windows, NSSpeech on macOS.

pyttsx3 runs in a worker process (see ``system_worker``) that speaks one sentence at a
time into a WAV file. Every clip is checked here; a bad clip, a crash or a hang costs a
fresh worker and another try, and only repeated failure becomes an ``EngineError``.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import json
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
import wave
import weakref
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import IO, Any, TypeVar

import numpy as np

from ..errors import EngineError, InvalidOption
from . import system_worker
from .cache import voice_identity
from .engine import Voice, letters_at_most

ESPEAK = system_worker.platform_driver() == "espeak"
DEFAULT_VOICE = "en-us+f2" if ESPEAK else "default"
"""espeak-ng's American English with the variant f2, whose consonants are louder: an
offline speech recogniser (PocketSphinx) missed about half as many words as with the
default voice or with f3 (espeak-ng 1.51, 140-200 words a minute). Elsewhere the
system's own default voice."""
SHIPPED: tuple[str, ...] = (DEFAULT_VOICE,)
SPEEDS: dict[str, float] = {}
"""Times faster than real time the shipped voices speak, measured (none here: it
depends on the system's synthesizer)."""
PYTTSX3_HINT = "the system engine needs pyttsx3: pip install pyttsx3"
ESPEAK_HINT = "the system engine needs espeak-ng: sudo apt-get install espeak-ng"
TRIES = 3
TIMEOUT = 15.0
TIMEOUT_PER_WORD = 0.5
SILENT_PEAK = 0.01
"""A clip whose loudest sample stays under -40 dBFS holds no speech."""

T = TypeVar("T")
# The package may run from a checkout rather than be installed: its folder is appended
# to the worker's path (appended, so that it cannot shadow anything installed).
_WORKER_MAIN = (
    f"import sys; sys.path.append(sys.argv[2]); "
    f"from {system_worker.__name__} import main; main(sys.argv[1])"
)
_PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])


def _worker_environment() -> dict[str, str]:
    """The environment, with no sound server: espeak-ng opens a PulseAudio client as it
    starts, even to write files only, and with the user's PULSE_SERVER (or client.conf)
    naming a host it would look that up and connect. The worker plays nothing."""
    return {**os.environ, "PULSE_SERVER": "unix:/dev/null"}


class _Fault(Exception):
    """One failed try: a crash, a hang or a bad clip; worth another worker."""


@cache
def _espeak_version() -> str:
    """The espeak-ng library's version, read without starting it ("" if not found)."""
    for name in ("libespeak-ng.so.1", ctypes.util.find_library("espeak-ng")):
        if not name:
            continue
        try:
            info = ctypes.CDLL(name).espeak_Info
        except (OSError, AttributeError):
            continue
        info.restype = ctypes.c_char_p
        info.argtypes = [ctypes.c_void_p]
        return str((info(None) or b"").decode("ascii", "replace"))
    return ""


def fingerprint(voice: str) -> str:
    """Names the synthesizer and voice, for cache keys, without starting either."""
    if ESPEAK:
        return f"espeak-ng-{_espeak_version() or 'unknown'}:{voice}"
    return f"{system_worker.platform_driver()}:{voice}"


def _require_pyttsx3() -> None:
    try:
        import pyttsx3  # noqa: F401
    except ImportError:
        raise EngineError(PYTTSX3_HINT) from None


class _Worker:
    """One worker process, spoken to by JSON lines over its stdin and stdout."""

    def __init__(self, speaker: str, log: IO[bytes] | int) -> None:
        self.log = log
        self.process = subprocess.Popen(
            # -P: nothing is imported from the current folder (a json.py there would run)
            [sys.executable, "-P", "-c", _WORKER_MAIN, speaker, _PACKAGE_ROOT],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, env=_worker_environment(),
        )
        self.replies: queue.Queue[bytes] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.replies.put(line)
        self.replies.put(b"")

    def call(self, request: list[Any], timeout: float) -> Any:
        """Send ``request``; its answer, or ``_Fault`` on a crash, hang or failure."""
        assert self.process.stdin is not None
        try:
            self.process.stdin.write(json.dumps(request).encode("utf-8") + b"\n")
            self.process.stdin.flush()
            line = self.replies.get(timeout=timeout)
        except queue.Empty:
            raise _Fault(f"no answer within {timeout:g} s") from None
        except OSError:
            line = b""
        if not line:
            try:
                code = self.process.wait(1)
            except subprocess.TimeoutExpired:
                code = None
            raise _Fault(f"the voice process died (exit code {code}){self._last_log_line()}")
        try:
            status, *rest = json.loads(line)
        except ValueError:
            raise _Fault(f"garbled answer from the voice process: {line[:80]!r}") from None
        if status == "ok":
            return rest[0]
        kind, message = rest
        if kind == "unknown-voice":
            raise InvalidOption(
                "--voice", f"unknown system voice '{message}'; see: tre-audio list voices"
            )
        if kind == "unknown-variant":  # of a voice the user may have named another way
            raise InvalidOption(
                "--voice", f"unknown voice variant '+{message}'; espeak-ng's include +f1 to "
                "+f5 and +m1 to +m7; see: tre-audio list voices")
        if kind == "missing-pyttsx3":
            raise EngineError(PYTTSX3_HINT)
        if kind == "missing-espeak":
            raise EngineError(ESPEAK_HINT)
        raise _Fault(" ".join(str(message).split()))

    def _last_log_line(self) -> str:
        if isinstance(self.log, int):
            return ""
        self.log.seek(0)
        lines = [line.strip() for line in self.log.read().decode("utf-8", "replace").splitlines()]
        lines = [line for line in lines if line]
        return f": {lines[-1][:200]}" if lines else ""

    def stop(self, gracefully: bool = True) -> None:
        """End the process: asked to, or killed."""
        assert self.process.stdin is not None and self.process.stdout is not None
        try:
            self.process.stdin.close()  # the worker's cue to exit
            if gracefully:
                self.process.wait(2)
        except (OSError, subprocess.TimeoutExpired):
            pass
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        self.process.stdout.close()
        if not isinstance(self.log, int):
            self.log.close()


def voices() -> list[Voice]:
    """The system voices (on Linux the English espeak-ng voices), the default first.
    espeak-ng's voices are named by their language (``en-gb``), which espeak-ng itself
    does not take for every voice (the file ``en`` speaks ``en-gb``): the file's name
    is what opens it, and a name still read; a variant may follow a '+'."""
    _require_pyttsx3()
    listed = _listed()
    if ESPEAK:
        default = ("English (America), variant f2, the clearest measured (the system "
                   "engine's default); any voice below takes a variant such as +f5 or +m3")
    else:
        default = "the system's default voice (the system engine's default)"
    found = [Voice("system", DEFAULT_VOICE, default, shipped=True, variants=ESPEAK,
                   speaks="en-us" if ESPEAK else "")]
    languages = [language for _, _, language in listed]
    files = {name for name, _, _ in listed}
    for name, description, language in listed:
        if name == DEFAULT_VOICE:
            continue
        if ESPEAK and language and language != name and languages.count(language) == 1 \
                and language not in files:
            found.append(Voice("system", language, description, opens=name, aliases=(name,),
                               variants=True, speaks=language))
        else:
            found.append(Voice("system", name, description, variants=ESPEAK, speaks=language))
    return found


@cache
def _listed() -> tuple[tuple[str, str, str], ...]:
    """What the worker lists: each voice's name as it opens it, a description, and its
    language ('' where not known). Asked once a process: a voice named in a plan is
    looked up when the plan is checked and again when it speaks."""
    worker = _Worker(system_worker.DEFAULT_SPEAKER, subprocess.DEVNULL)
    try:
        listed = worker.call(["voices"], TIMEOUT)
    except _Fault as fault:
        raise EngineError(f"could not list the system voices: {fault}") from None
    finally:
        worker.stop()
    rows = []
    for entry in listed:
        name, description, *language = entry
        rows.append((str(name), str(description), str(language[0]).lower() if language
                     else ""))
    return tuple(rows)


def read_audio(path: str) -> tuple[np.ndarray, int]:
    """A sound file as float32 mono samples and their sample rate."""
    try:
        with wave.open(path, "rb") as wav:
            rate, width, channels = wav.getframerate(), wav.getsampwidth(), wav.getnchannels()
            data = wav.readframes(wav.getnframes())
        segment = None
        if (width, channels) != (2, 1):
            from pydub import AudioSegment

            if width == 1:  # 8-bit WAV is unsigned; pydub takes raw samples as signed
                signed = np.frombuffer(data, np.uint8).astype(np.int16) - 128
                data = signed.astype(np.int8).tobytes()

            segment = AudioSegment(data, sample_width=width, frame_rate=rate, channels=channels)
    except wave.Error:  # not PCM WAV, e.g. the AIFF of NSSpeechSynthesizer: needs ffmpeg
        from pydub import AudioSegment

        segment = AudioSegment.from_file(path)
    if segment is not None:
        segment = segment.set_channels(1).set_sample_width(2)
        data, rate = segment.raw_data, segment.frame_rate
    return np.frombuffer(data, dtype="<i2").astype(np.float32) / 32768.0, rate


def problem(samples: np.ndarray, rate: int, expected_rate: int | None, text: str,
            wpm: float) -> str | None:
    """What is wrong with a clip of ``text`` spoken at ``wpm``, or ``None``."""
    if samples.size == 0:
        return "the audio was empty"
    if expected_rate and rate != expected_rate:
        return f"the audio was at {rate} Hz instead of {expected_rate} Hz"
    if float(np.max(np.abs(samples))) < SILENT_PEAK:
        return "the audio was silent"
    words = max(1, len(text.split()))
    expected = words * 60.0 / wpm
    # digits and signs may be said as words of their own ("8255", "*"): about 5 letters a word
    longest = max(expected, letters_at_most(text) / 5 * 60.0 / wpm)
    seconds = samples.size / rate
    # The upper bound has a floor: short texts end in a pause as long as a word.
    if not 0.4 * expected <= seconds <= 2.5 * longest + 1.0:
        return f"{seconds:.1f} s of audio for {words} words (expected about {expected:.1f} s)"
    return None


def _shorten(text: str, limit: int = 50) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3].rstrip() + "..."


class SystemEngine:
    """A system voice at one rate; clips are verified, retried, and timed out."""

    name = "system"
    workers = 1  # one worker process speaks one sentence at a time

    def __init__(
        self,
        voice: str,
        wpm: float,
        *,
        speaker: str = system_worker.DEFAULT_SPEAKER,
        tries: int = TRIES,
        timeout: float = TIMEOUT,
        timeout_per_word: float = TIMEOUT_PER_WORD,
    ) -> None:
        """``speaker``, ``tries`` and the timeouts are for tests; the defaults are real."""
        _require_pyttsx3()
        self.voice, self.wpm, self.speaker = voice, wpm, speaker
        self.tries, self.timeout, self.timeout_per_word = tries, timeout, timeout_per_word
        self.identity = voice_identity("system", fingerprint(voice), wpm)
        self.sample_rate = 0
        self.info: dict[str, Any] = {}
        self._folder = tempfile.mkdtemp(prefix="tre-audio-system-")
        self._cleanup = weakref.finalize(self, shutil.rmtree, self._folder, True)
        self._worker: _Worker | None = None
        self._files = 0
        self._attempt("starting", lambda: None)

    def _wpm(self) -> float:
        """The rate the voice can reach (espeak-ng has a floor), for checking clips."""
        return float(self.info.get("wpm", self.wpm))

    def _path(self, suffix: str) -> str:
        self._files += 1
        return os.path.join(self._folder, f"{self._files}{suffix}")

    def _start(self) -> None:
        log = tempfile.TemporaryFile()  # noqa: SIM115 - the worker closes it
        self._worker = _Worker(self.speaker, log)
        warm_up = self._path(".wav")
        self.info = self._worker.call(["open", self.voice, self.wpm, warm_up], self.timeout)
        samples, rate = self._read(warm_up)
        bad = problem(samples, rate, self.sample_rate, system_worker.WARM_UP, self._wpm())
        if bad:
            raise _Fault(f"warm-up: {bad}")
        self.sample_rate = self.sample_rate or rate

    @staticmethod
    def _read(path: str) -> tuple[np.ndarray, int]:
        try:
            return read_audio(path)
        except FileNotFoundError:
            raise _Fault("no audio file was written") from None
        except Exception as error:  # wave, pydub and the OS all raise their own errors
            raise _Fault(f"unreadable audio ({type(error).__name__}: {error})") from None
        finally:
            if os.path.exists(path):
                os.remove(path)

    def _attempt(self, what: str, action: Callable[[], T]) -> T:
        """``action`` with a working worker, retried on a fresh worker after a fault."""
        fault = ""
        for _ in range(self.tries):
            try:
                if self._worker is None:
                    self._start()
                return action()
            except _Fault as error:
                fault = str(error)
                self._stop(gracefully=False)
            except BaseException:
                self._stop(gracefully=False)
                raise
        raise EngineError(f"the system voice failed {self.tries} times {what}: {fault}")

    def synthesize(self, text: str) -> np.ndarray:
        """Speak one sentence; float32 mono samples in [-1, 1] at ``sample_rate``."""
        timeout = self.timeout + self.timeout_per_word * len(text.split())

        def speak() -> np.ndarray:
            assert self._worker is not None
            path = self._path(".wav")
            self._worker.call(["speak", text, path], timeout)
            samples, rate = self._read(path)
            bad = problem(samples, rate, self.sample_rate, text, self._wpm())
            if bad:
                raise _Fault(bad)
            return samples

        return self._attempt(f"on '{_shorten(text)}'", speak)

    def _stop(self, gracefully: bool = True) -> None:
        if self._worker is not None:
            self._worker.stop(gracefully)
            self._worker = None

    def close(self) -> None:
        """Stop the worker and remove its files."""
        self._stop()
        self._cleanup()


def open_engine(voice: str, wpm: float) -> SystemEngine:
    """Start a system voice speaking at about ``wpm`` words a minute."""
    return SystemEngine(voice, wpm)
