"""The system engine: real pyttsx3 + espeak-ng for the main path, fakes for the faults.

The fakes below run inside the worker process, which imports this module by name
(``PYTHONPATH`` points at this folder) and counts calls in a file named by an
environment variable, so that a fault can strike once and then clear.
"""

from __future__ import annotations

import os
import re
import sys
import time
import wave
from pathlib import Path

import numpy as np
import pytest

import faulty
from faulty import write_noise
from tre_audio.errors import EngineError, InvalidOption
from tre_audio.speech import system, system_worker

SENTENCES = [
    "Let your feet rest on the floor and your knees soften.",
    "Breathe in.",
    "There is nothing to get right, so take your time and notice how you feel.",
    "Rest.",
    "Now lie down on your back, with the soles of your feet together.",
]
STATE = "TRE_AUDIO_TEST_FAKE_STATE"


# --- fakes, run in the worker -------------------------------------------------------


def _calls() -> int:
    """Counts one more call to ``save`` across worker restarts; the count so far."""
    counter = Path(os.environ[STATE]) / "calls"
    count = int(counter.read_text()) + 1 if counter.exists() else 1
    counter.write_text(str(count))
    return count


class Fake(faulty.Fake):
    """Speaks noise as long as the words need at the rate, or misbehaves."""

    def save(self, text: str, path: str) -> None:
        if not self.misbehave(_calls(), path):
            write_noise(path, len(text.split()) * 60 / self.wpm)

    def misbehave(self, call: int, path: str) -> bool:
        return False


class Hang(Fake):
    def misbehave(self, call: int, path: str) -> bool:
        time.sleep(60)
        return True


class CrashOnce(Fake):
    def misbehave(self, call: int, path: str) -> bool:
        if call == 1:
            print("fake crash", file=sys.stderr, flush=True)
            os._exit(3)
        return False


class EmptyOnce(Fake):
    def misbehave(self, call: int, path: str) -> bool:
        if call == 1:
            write_noise(path, 0)
        return call == 1


class AlwaysEmpty(Fake):
    def misbehave(self, call: int, path: str) -> bool:
        write_noise(path, 0)
        return True


class NoEspeak(system_worker.Pyttsx3Speaker):
    """The real speaker on a machine where the espeak-ng library cannot be loaded."""

    def __init__(self) -> None:
        import ctypes

        def missing(name: str) -> None:
            raise OSError(f"{name}: cannot open shared object file")

        ctypes.cdll.LoadLibrary = missing  # type: ignore[method-assign]
        super().__init__()


# --- fixtures ------------------------------------------------------------------------


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """Opens engines whose worker speaks with a fake from this module."""
    monkeypatch.setenv("PYTHONPATH", str(Path(__file__).parent))
    monkeypatch.setenv(STATE, str(tmp_path))
    opened: list[system.SystemEngine] = []

    def open_fake(name: str, **options) -> system.SystemEngine:
        engine = system.SystemEngine("fake", 170, speaker=f"{__name__}:{name}", **options)
        opened.append(engine)
        return engine

    yield open_fake
    for engine in opened:
        engine.close()


def calls(tmp_path: Path) -> int:
    return int((tmp_path / "calls").read_text())


# --- the real engine -----------------------------------------------------------------


@pytest.mark.skipif(not system.ESPEAK, reason="measured against espeak-ng")
def test_speaks_sentences_in_a_row_at_the_rate(capfd: pytest.CaptureFixture[str]) -> None:
    # Imported here: the fakes run this module in the worker, which must start quickly.
    from tre_audio.sound.clip import trim

    engine = system.open_engine(system.DEFAULT_VOICE, 170)
    try:
        clips = [engine.synthesize(text) for text in SENTENCES]
        assert engine.sample_rate == 22050
        for text, clip in zip(SENTENCES, clips, strict=True):
            assert clip.dtype == np.float32 and clip.ndim == 1 and clip.size > 0
            assert np.max(np.abs(clip)) <= 1.0
            assert np.max(np.abs(clip)) > 0.1, f"silent: {text}"
            expected = len(text.split()) * 60 / 170
            spoken = trim(clip, engine.sample_rate).size / engine.sample_rate
            if len(text.split()) >= 5:  # the rate is calibrated: sentences match it
                assert 0.75 * expected < spoken < 1.33 * expected, text
            else:
                assert 0.3 * expected < spoken < 2.5 * expected + 0.5, text
            assert system.problem(clip, 22050, 22050, text, 170) is None
        slow = system.open_engine(system.DEFAULT_VOICE, 110)
        try:
            assert slow.synthesize(SENTENCES[2]).size > 1.3 * clips[2].size
        finally:
            slow.close()
        # Below espeak-ng's slowest rate the clips are checked against what it can do.
        slowest = system.open_engine(system.DEFAULT_VOICE, 30)
        try:
            assert slowest.synthesize(SENTENCES[2]).size > slow.sample_rate
        finally:
            slowest.close()
    finally:
        engine.close()
    assert capfd.readouterr().out == ""


@pytest.mark.skipif(not system.ESPEAK, reason="espeak-ng voices")
def test_identity_names_engine_version_voice_and_rate() -> None:
    identity = system.fingerprint("en-us+f3")
    assert identity.startswith("espeak-ng-1.") and identity.endswith(":en-us+f3")
    engine = system.open_engine("en-us", 150)
    try:
        assert engine.name == "system"
        assert engine.identity == f"system:{system.fingerprint('en-us')}:150"
        assert engine.info["version"] in engine.identity
    finally:
        engine.close()


@pytest.mark.parametrize("voice, message", [
    ("no-such-voice", "unknown system voice 'no-such-voice'; see: tre-audio list voices"),
    ("en-us+zz", "unknown voice variant '+zz'; espeak-ng's include +f1 to +f5 and +m1 "
                 "to +m7; see: tre-audio list voices"),
    # a variant names a file: espeak-ng opened "!v/../../etc/passwd", and one past its
    # buffer (here 40 letters) aborted it ("buffer overflow detected")
    ("en-us+../../../../../../etc/passwd", "unknown voice variant "
     "'+../../../../../../etc/passwd'; espeak-ng's include +f1 to +f5 and +m1 to +m7; "
     "see: tre-audio list voices"),
    ("en-us+" + "a" * 40, f"unknown voice variant '+{'a' * 40}'; espeak-ng's include +f1 "
                          "to +f5 and +m1 to +m7; see: tre-audio list voices")])
def test_unknown_voice_is_an_invalid_option(voice: str, message: str) -> None:
    with pytest.raises(InvalidOption, match=f"^{re.escape(message)}$") as info:
        system.open_engine(voice, 170)
    assert info.value.option == "--voice"


def test_voices_lists_the_default(capfd: pytest.CaptureFixture[str]) -> None:
    voices = system.voices()
    assert voices[0].name == system.DEFAULT_VOICE and "default" in voices[0].description
    assert all(voice.engine == "system" for voice in voices)
    if system.ESPEAK:
        by_name = {voice.name: voice for voice in voices}
        assert {"en-us", "en-gb", "en-gb-x-rp"} <= set(by_name)  # named by their language
        assert by_name["en-gb"].opens == "en" and by_name["en-gb"].aliases == ("en",)
        for name in ("en", "en-gb-x-rp+m3"):  # what they open, with a variant, is accepted
            system.open_engine(name, 170).close()
    assert capfd.readouterr().out == ""


def test_close_ends_the_worker_and_removes_its_files() -> None:
    engine = system.open_engine(system.DEFAULT_VOICE, 170)
    worker, folder = engine._worker, engine._folder
    assert worker is not None and os.path.isdir(folder)
    engine.close()
    assert worker.process.poll() is not None and not os.path.exists(folder)


# --- faults --------------------------------------------------------------------------


def test_a_hang_is_killed_and_becomes_an_engine_error(fake) -> None:
    engine = fake("Hang", tries=2, timeout=1.0, timeout_per_word=0.0)
    started = time.monotonic()
    with pytest.raises(EngineError, match="failed 2 times on 'Breathe in.': no answer within 1 s"):
        engine.synthesize("Breathe in.")
    assert time.monotonic() - started < 2 * 1.0 + 4


def test_a_crashed_worker_is_restarted_and_the_clip_retried(fake, tmp_path: Path) -> None:
    engine = fake("CrashOnce")
    first = engine._worker
    clip = engine.synthesize(SENTENCES[0])
    assert clip.size > 0 and calls(tmp_path) == 2
    assert engine._worker is not first and first is not None and first.process.returncode == 3


def test_an_empty_clip_is_retried(fake, tmp_path: Path) -> None:
    engine = fake("EmptyOnce")
    assert engine.synthesize(SENTENCES[2]).size > 0
    assert calls(tmp_path) == 2


def test_persistent_failure_is_a_one_line_engine_error(fake, tmp_path: Path) -> None:
    engine = fake("AlwaysEmpty")
    with pytest.raises(EngineError) as info:
        engine.synthesize(SENTENCES[2])
    message = str(info.value)
    assert message == (
        "the system voice failed 3 times on 'There is nothing to get right, so take your "
        "tim...': the audio was empty"
    )
    assert "\n" not in message and calls(tmp_path) == 3


def test_a_crash_message_carries_the_workers_last_words(fake) -> None:
    engine = fake("CrashOnce", tries=1)
    with pytest.raises(EngineError, match=r"died \(exit code 3\): fake crash$"):
        engine.synthesize("Rest.")


def test_missing_pyttsx3_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pyttsx3", None)
    hint = r"^the system engine needs pyttsx3: pip install pyttsx3$"
    with pytest.raises(EngineError, match=hint):
        system.open_engine(system.DEFAULT_VOICE, 170)
    with pytest.raises(EngineError, match="pip install pyttsx3"):
        system.voices()


@pytest.mark.skipif(not system.ESPEAK, reason="espeak-ng is the Linux synthesizer")
def test_missing_espeak_says_how_to_install_it(fake) -> None:
    with pytest.raises(EngineError, match=r"^the system engine needs espeak-ng: sudo apt-get"):
        fake("NoEspeak")


def test_a_clip_is_checked_for_rate_silence_and_length() -> None:
    speech = np.full(22050 * 2, 0.5, dtype=np.float32)
    text = "one two three four five six"  # about 2.1 s at 170 words a minute
    assert system.problem(speech, 22050, 22050, text, 170) is None
    assert "empty" in system.problem(speech[:0], 22050, 22050, text, 170)
    assert "16000 Hz" in system.problem(speech, 16000, 22050, text, 170)
    assert "silent" in system.problem(speech * 0.001, 22050, 22050, text, 170)
    assert "expected about 2.1 s" in system.problem(speech[:5000], 22050, 22050, text, 170)
    assert "expected" in system.problem(np.tile(speech, 4), 22050, 22050, text, 170)


@pytest.mark.parametrize(("width", "channels"), [(2, 1), (2, 2), (1, 1), (4, 1)])
def test_audio_of_any_width_and_channels_is_read_as_mono(
    tmp_path: Path, width: int, channels: int
) -> None:
    path = str(tmp_path / "clip.wav")
    tone = 0.5 * np.sin(np.linspace(0, 200 * np.pi, 22050))
    scale, kind = {1: (127, "u1"), 2: (32767, "<i2"), 4: (2**31 - 1, "<i4")}[width]
    pcm = tone * scale + (128 if width == 1 else 0)
    with wave.open(path, "wb") as wav:
        wav.setnchannels(channels)
        wav.setsampwidth(width)
        wav.setframerate(22050)
        wav.writeframes(np.repeat(pcm, channels).astype(kind).tobytes())
    samples, rate = system.read_audio(path)
    assert rate == 22050 and samples.dtype == np.float32 and samples.size == 22050
    assert abs(float(np.max(samples)) - 0.5) < 0.02


def test_nothing_in_the_current_folder_is_run(private_folders: Path) -> None:
    """The worker is a Python of its own: a module named like one it imports, in the
    folder the user runs tre-audio from, must not be imported (``python -c`` would)."""
    import subprocess

    marker = private_folders / "ran"
    for module in ("json", "wave"):
        (private_folders / f"{module}.py").write_text(
            f"open({str(marker)!r}, 'a').write({module!r})\n", encoding="utf-8")
    tool = Path(sys.executable).with_name("tre-audio")
    for args in (["list", "voices"], ["say", "Hello.", "--engine", "system"]):
        done = subprocess.run([str(tool), *args], cwd=private_folders, capture_output=True,
                              text=True, timeout=120)
        assert done.returncode == 0, done.stderr
    assert not marker.exists()


def test_a_variant_that_is_not_a_name_is_refused_with_the_options() -> None:
    """Before any worker starts: when the options are checked (a form's included)."""
    from tre_audio.choices import layers

    with pytest.raises(InvalidOption, match=r"^unknown voice variant '\+\.\./x'"):
        layers.build({"voice": "en-us+../x"})
