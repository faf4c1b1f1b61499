"""The hibari engine with its packaged voice heart: rate, repeatability, the session's
format and level, voice files of the user's, and a model hub never asked."""

from __future__ import annotations

import os
import shutil
import threading

import numpy as np
import pytest
from click.testing import CliRunner

from tre_audio.cli import cli
from tre_audio.errors import EngineError, InvalidOption
from tre_audio.options.settings import SAMPLE_RATE, VOICE_WPM
from tre_audio.sound.clip import SPEECH_RMS_DB, TRIM_DB, prepare, resample
from tre_audio.speech import hibari, rate
from tre_audio.speech.engine import engine_module, voices

SENTENCES = [
    "Let your weight settle evenly through both feet.",
    "Roll slowly onto the outer edge of your left foot, and the inner edge of your right.",
    "When you are ready, come back to the middle and rest.",
]


@pytest.fixture(scope="module")
def engine():
    opened = hibari.open_engine(hibari.DEFAULT_VOICE, VOICE_WPM)
    yield opened
    opened.close()


@pytest.fixture(autouse=True)
def no_hub(monkeypatch):
    """Any attempt of hibari's to fetch a voice fails the test."""
    import hibari.voices

    def download(*args, **kwargs):
        raise AssertionError("hibari was asked to download a voice")

    monkeypatch.setattr(hibari.voices, "download", download)


def test_heart_opens_at_the_narration_rate_without_calibrating(monkeypatch):
    def no_calibration(engine, scale):
        raise AssertionError("the packaged voice was calibrated")

    monkeypatch.setattr(hibari, "_measured_wpm", no_calibration)
    opened = hibari.open_engine("heart", VOICE_WPM)
    try:
        assert 1.4 < opened.length_scale < 1.45  # measured: 173.1 wpm at 1.4, 162.4 at 1.5
        clips = list(map(opened.synthesize, rate.CALIBRATION))
        assert rate.words_a_minute(clips, opened.sample_rate) == pytest.approx(VOICE_WPM,
                                                                               rel=0.03)
    finally:
        opened.close()


def test_the_same_sentence_is_the_same_audio_from_any_thread(engine):
    first = engine.synthesize(SENTENCES[1])
    again: list[np.ndarray] = []
    threads = [threading.Thread(target=lambda: again.append(engine.synthesize(SENTENCES[1])))
               for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert engine.sample_rate == 24_000 and first.dtype == np.float32
    assert all(np.array_equal(first, each) for each in again)
    assert not np.array_equal(first[: len(first) // 2], engine.synthesize(SENTENCES[0])[
        : len(first) // 2])


def test_its_clips_are_brought_to_the_session_s_rate_and_level(engine):
    for sentence in SENTENCES:
        raw = engine.synthesize(sentence)
        clip = prepare(raw, engine.sample_rate, SAMPLE_RATE)
        resampled = resample(raw, engine.sample_rate, SAMPLE_RATE)
        assert len(resampled) == pytest.approx(len(raw) * SAMPLE_RATE / 24_000, abs=2)
        assert 0.5 * len(resampled) < len(clip) <= len(resampled)  # its silent ends trimmed
        rms_db = 10 * np.log10(np.mean(np.square(clip, dtype=np.float64)))
        assert abs(rms_db - SPEECH_RMS_DB) < 0.01
        loud = np.flatnonzero(np.abs(clip) > 10 ** (TRIM_DB / 20))
        assert loud[0] / SAMPLE_RATE < 0.03


def test_heart_is_listed_with_its_language_accent_and_gender():
    heart = next(v for v in voices().voices if v.name == "heart")
    assert (heart.engine, heart.speaks, heart.accent, heart.gender) == (
        "hibari", "en-US", "American", "female")
    assert heart.shipped and not heart.refused and heart.language == "en"


def test_a_hibari_voice_file_of_the_user_s_is_found_by_its_name(private_folders):
    """Another of hibari's voices, put in voices/ by hand (here heart's model under
    emma's file name): named as hibari names it, British, and not taken for Piper's."""
    (private_folders / "voices").mkdir()
    shutil.copyfile(hibari.model_path("heart"), private_folders / "voices" /
                    "bf_emma.int8.onnx")
    listed = {v.name: v for v in voices().voices}
    assert "bf_emma.int8" not in listed  # Piper leaves hibari's files alone
    emma = listed["emma"]
    assert (emma.engine, emma.speaks, emma.accent, emma.refused) == (
        "hibari", "en-GB", "British", "")
    result = CliRunner().invoke(cli, ["say", "Rest now.", "--voice", "emma", "-o", "e.mp3"])
    assert result.exit_code == 0, result.stderr
    assert (private_folders / "e.mp3").stat().st_size > 0


def test_a_corrupt_hibari_voice_file_is_one_line(private_folders, tmp_path, monkeypatch):
    monkeypatch.setenv("TRE_AUDIO_CACHE", str(tmp_path / "cache"))
    (private_folders / "voices").mkdir()
    (private_folders / "voices" / "bm_fable.int8.onnx").write_bytes(b"not a model" * 100)
    result = CliRunner().invoke(cli, ["say", "Rest now.", "--voice", "fable", "-o", "f.mp3"])
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert "voice 'fable' is corrupt or not a hibari model" in result.stderr
    assert not (private_folders / "f.mp3").exists()


def test_a_voice_hibari_would_download_is_unknown_here(private_folders):
    with pytest.raises(InvalidOption, match="unknown hibari voice 'kore'"):
        hibari.model_path("kore")
    assert "kore" not in {v.name for v in voices().voices}


def test_without_hibari_installed_the_engine_says_how_to_install_it(monkeypatch):
    monkeypatch.setattr(hibari, "_registry", lambda: {})
    (heart,) = hibari.voices()
    assert heart.refused == f"it is not installed: {hibari.INSTALL_HINT}"
    with pytest.raises(EngineError, match="pip install 'hibari-tts"):
        engine_module("hibari").open_engine("heart", VOICE_WPM)


def test_a_file_of_a_hibari_name_that_is_no_model_file_is_refused_with_why(
        private_folders, tmp_path, monkeypatch):
    from tre_audio.speech import piper

    monkeypatch.setenv("TRE_AUDIO_CACHE", str(tmp_path / "cache"))
    voices_folder = private_folders / "voices"
    voices_folder.mkdir()
    os.mkfifo(voices_folder / "bf_emma.int8.onnx")
    (voices_folder / "bm_fable.int8.onnx").symlink_to(piper.model_path("joe"))  # Piper's
    listed = {v.name: v for v in voices().voices}
    assert listed["emma"].refused == "it is not a regular file"
    refused = CliRunner().invoke(cli, ["say", "Rest now.", "--voice", "emma"])
    assert refused.exit_code == 2 and "it is not a regular file" in refused.stderr
    other = CliRunner().invoke(cli, ["say", "Rest now.", "--voice", "fable", "-o", "f.mp3"])
    assert other.exit_code == 1 and other.stderr.count("\n") == 1
    assert "voice 'fable' is not a hibari model" in other.stderr, other.stderr
