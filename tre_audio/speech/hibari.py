"""The hibari neural voice engine (``hibari-tts``), offline.

hibari's voices are small distillations of Kokoro-82M's. ``heart`` (American English,
female) is inside its package. Its other voices it would download from a model hub on
first use, which tre-audio never lets it do: the model's path is always given, and a
person who wants another voice puts its file, named as hibari's registry names it
(``bf_emma.int8.onnx``), in ``./voices`` or the data folder's ``voices`` by hand.

The same sentence is the same audio every time: its noise is seeded.
"""

from __future__ import annotations

import json
import os
import stat
from dataclasses import dataclass
from functools import cache
from importlib import metadata
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import EngineError, InvalidOption, VoiceError
from ..files.inputs import read_bytes
from . import rate
from .cache import voice_identity
from .engine import Voice, voice_folders

DEFAULT_VOICE = "heart"
SHIPPED: tuple[str, ...] = (DEFAULT_VOICE,)
SPEEDS: dict[str, float] = {"heart": 99.0}
"""Times faster than real time the shipped voice speaks a session's sentences, two at a
time on the two cores of an AMD EPYC (Zen 3; shown by ``list voices``)."""
INSTALL_HINT = "pip install 'hibari-tts[fast]'"
SEED = 0
"""The seed of every sentence's noise: the same text is the same audio."""
MAX_MODEL = 200_000_000
"""The largest voice model read (hibari's are 8 MB)."""

# heart's speech time grows about as 1/speed (244 words a minute at 1, 173 at 1/1.4)
_LENGTH_EXPONENT = 1.0
_MEASURED_RATES: dict[tuple[str, int], rate.Measured] = {
    ("hibari.onnx", 7936868): ((128.8, 1.8), (150.3, 1.6), (162.4, 1.5), (173.1, 1.4),
                               (176.9, 1.35), (178.7, 1.3), (198.8, 1.25), (244.3, 1.0)),
}
"""Words a minute at some length scales (1/speed), for voice files known by name and
size, from the calibration sentences (``scripts/voice_rate.py``): seeded, every run is
the same. Not smooth: hibari rounds each sound's length to its 12.5 ms frames."""


@cache
def _package() -> tuple[Path | None, dict[str, dict[str, Any]]]:
    """hibari's assets folder and its voices by name (its ``assets/voices.json``), read
    without importing it; (None, {}) if it is not installed."""
    try:
        spec = find_spec("hibari")
    except (ImportError, ValueError):  # ValueError: imported, and then made unimportable
        return None, {}
    if spec is None or not spec.submodule_search_locations:
        return None, {}
    assets = Path(next(iter(spec.submodule_search_locations))) / "assets"
    try:
        voices = json.loads(read_bytes(assets / "voices.json", 1_000_000))
    except (OSError, ValueError):
        return None, {}
    return assets, {name: entry for name, entry in voices.items()
                    if isinstance(entry, dict) and isinstance(entry.get("file"), str)}


def _registry() -> dict[str, dict[str, Any]]:
    return _package()[1]


def files() -> frozenset[str]:
    """The file names of hibari's voices (which Piper leaves alone in ``voices/``)."""
    return frozenset(entry["file"] for entry in _registry().values())


def _path(name: str) -> Path | None:
    """The model file of voice ``name``: in the package, or in a voices folder (the
    first that has a file of its name, whatever the file is: see ``voices``)."""
    entry = _registry().get(name)
    if entry is None:
        return None
    assets = _package()[0]
    if entry.get("bundled") and assets is not None:
        return assets / entry["file"]
    for folder in voice_folders():
        if (folder / entry["file"]).exists() or (folder / entry["file"]).is_symlink():
            return folder / entry["file"]
    return None


def voices() -> list[Voice]:
    """``heart`` (refused if hibari is not installed), then the other voices of hibari's
    registry whose files are in a voices folder. Only file names are read."""
    registry = _registry()
    if not registry:
        return [Voice("hibari", DEFAULT_VOICE, "the hibari voice in its package (the default)",
                      shipped=True, refused=f"it is not installed: {INSTALL_HINT}",
                      speaks="en-US", accent="American", gender="female")]
    found = []
    for name, entry in registry.items():
        path = _path(name)
        if path is None:
            continue
        where = "in its package (the default)" if entry.get("bundled") else \
            f"in your file, in {path.parent}"
        found.append(Voice("hibari", name, f"the hibari voice {where}",
                           shipped=name in SHIPPED, speaks=str(entry.get("language", "en")),
                           accent=str(entry.get("accent", "")),
                           gender=str(entry.get("gender", "")),
                           refused="" if path.is_file() else "it is not a regular file"))
    return found


def model_path(voice: str) -> Path:
    path = _path(voice)
    if path is None:
        if not _registry():
            raise EngineError(f"the hibari engine is not installed: {INSTALL_HINT}")
        raise InvalidOption("--voice", f"unknown hibari voice '{voice}'; see: tre-audio list "
                                       "voices")
    return path


def fingerprint(voice: str) -> str:
    """Names hibari's version and the voice file's, for cache keys, without loading it."""
    path = model_path(voice)
    status = path.stat()
    return f"hibari-{metadata.version('hibari-tts')}:{voice}:{status.st_size}:" \
           f"{status.st_mtime_ns}"


@dataclass
class HibariEngine:
    tts: Any
    """One synthesizer for every worker thread: after loading, hibari's text front end
    and model only read their state (onnxruntime runs a session from many threads)."""
    identity: str
    length_scale: float = 1.0
    """1/speed: above 1 slower."""
    workers: int = 1
    name: str = "hibari"

    @property
    def sample_rate(self) -> int:
        return 24_000

    def synthesize(self, text: str) -> np.ndarray:
        try:
            audio = self.tts(text, speed=1.0 / self.length_scale, seed=SEED)
        except Exception as error:  # onnxruntime and hibari raise their own untyped errors
            why = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            raise EngineError(f"hibari failed on '{text[:60]}': {why}") from None
        if len(audio) == 0:
            raise EngineError(f"hibari produced no audio for: {text[:60]}")
        return np.asarray(audio, dtype=np.float32)

    def close(self) -> None:
        self.tts = None


def _load(voice: str, model: Path) -> Any:
    try:
        import onnxruntime
        from hibari import Hibari
    except ImportError:
        raise EngineError(f"the hibari engine is not installed: {INSTALL_HINT}") from None
    # as for Piper: telemetry off here too, and onnxruntime's own log lines kept off
    # stderr (its failures reach us as exceptions)
    onnxruntime.disable_telemetry_events()
    onnxruntime.set_default_logger_severity(4)
    try:
        # the model's path is given: hibari never looks for it, or fetches it, itself
        made = Hibari(voice=voice, model=str(model), threads=1)
        takes = {given.name for given in made.sess.get_inputs()}
    except Exception as error:  # onnxruntime raises its own untyped errors
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise VoiceError(f"voice '{voice}' is corrupt or not a hibari model ({model}): "
                         f"{first}") from None
    if takes != {"ids", "speed"}:  # another kind of model (a Piper voice, say)
        raise VoiceError(f"voice '{voice}' is not a hibari model ({model}): it takes "
                         f"{', '.join(sorted(takes))}")
    return made


def open_engine(voice: str, wpm: float) -> HibariEngine:
    """Load a hibari voice and set its speed so it speaks at about ``wpm``."""
    path = model_path(voice)
    try:
        status = path.stat()
    except OSError as error:
        raise VoiceError(f"voice '{voice}' cannot be read ({path}): {error.strerror}") from None
    if not stat.S_ISREG(status.st_mode) or status.st_size > MAX_MODEL:
        raise VoiceError(f"voice '{voice}' is not a regular file of at most 200 MB ({path})")
    tts = _load(voice, path)  # a broken model fails here, in one line
    tts.g2p  # the text front end loads now (0.45 s), not in a worker thread at once
    engine = HibariEngine(tts, voice_identity("hibari", fingerprint(voice), wpm),
                          workers=min(2, os.cpu_count() or 1))
    shipped = rate.from_measured(_MEASURED_RATES.get((path.name, status.st_size), ()), wpm)
    engine.length_scale = shipped if shipped is not None else rate.calibrated(
        engine.identity, wpm, lambda scale: _measured_wpm(engine, scale), _LENGTH_EXPONENT)
    return engine


def _measured_wpm(engine: HibariEngine, length_scale: float) -> float:
    """The words a minute ``engine`` speaks the calibration sentences at, at a scale."""
    return rate.spoken_at(engine, length_scale, "hibari")
