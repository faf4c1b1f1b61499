"""A short session through the real path (Piper, lameenc, mutagen), measured with ffmpeg."""

from __future__ import annotations

import datetime
from pathlib import Path

import numpy as np
import pytest

from measure import RATE, decode, peak_db, probe, rms_db
from tre_audio.session import generate
from tre_audio.options.values import Options
from tre_audio.options.values import Sound
from tre_audio.speech import speaker

SCRIPT = """\
[chapter: Arrival]
[bell]
Welcome to this short practice. Let your shoulders soften.
[pause 4s]
[chapter: Resting]
[bell]
Now rest for a while, and let your breath find its own pace.
[hold 12-30s]
[chapter: Closing]
[bell]
That is the end of this practice. Thank you for taking this time.
"""


@pytest.fixture(scope="module")
def made(tmp_path_factory, speech_cache):
    """One session made once, with the tests' shared speech cache."""
    folder = tmp_path_factory.mktemp("session")
    script = folder / "practice-script.txt"
    script.write_text(SCRIPT, encoding="utf-8")
    session = generate(Options(name="Sam"), out=folder / "practice.mp3", script=script,
                       cache=speech_cache)
    return session, decode(session.path), probe(session.path)


def test_duration_matches_the_plan(made):
    session, samples, info = made
    assert abs(float(info["format"]["duration"]) - session.plan.duration) < 0.1
    assert len(samples) == round(session.plan.duration * RATE)  # LAME's delay and padding trimmed
    stream = info["streams"][0]
    assert (stream["codec_name"], stream["channels"], int(stream["sample_rate"])) == ("mp3", 1, RATE)


def test_chapters_read_back_in_time_order(made):
    session, _, info = made
    chapters = info["chapters"]
    assert [c["tags"]["title"] for c in chapters] == ["Arrival", "Resting", "Closing"]
    for got, planned in zip(chapters, session.plan.chapters):
        assert float(got["start_time"]) == pytest.approx(planned.start, abs=0.002)
        assert float(got["end_time"]) == pytest.approx(planned.end, abs=0.002)
    starts = [float(c["start_time"]) for c in chapters]
    assert starts == sorted(starts) and starts[0] == 0.0


def test_tags_say_what_and_who_and_that_it_is_not_treatment(made):
    _, _, info = made
    tags = info["format"]["tags"]
    assert tags["title"].startswith("Sam's practice-script session, gentle pace")
    assert tags["artist"] == "tre-audio"
    assert tags["album"] == "tre-audio sessions"
    assert tags["date"] == datetime.date.today().isoformat()
    assert "not treatment" in tags["comment"] and "not affiliated" in tags["comment"]


def test_voice_speaks_where_planned_and_the_bed_fills_the_silences(made):
    session, samples, _ = made
    speech = [s for s in session.plan.segments if s.kind == "speech"]
    quiet = [s for s in session.plan.segments if s.kind in ("pause", "hold")]
    assert len(speech) == 5 and len(quiet) == 2
    for s in speech:
        assert rms_db(samples, s.start, s.end) > -28, s.text
    hold = quiet[1]
    # after the bell's tail has died away, only the bed is left in a hold
    bed = rms_db(samples, hold.end - 5, hold.end)
    voice = float(np.mean([rms_db(samples, s.start, s.end) for s in speech]))
    assert -55 < bed < voice - 15


def test_bells_ring_at_chapter_starts(made):
    session, samples, _ = made
    bells = [s for s in session.plan.segments if s.kind == "bell"]
    assert len(bells) == 3
    # the first bell opens the session with its own, lower tone
    for bell, tone in zip(bells, (262, 330, 330)):
        part = samples[int(bell.start * RATE) : int((bell.start + 1.0) * RATE)]
        spectrum = np.abs(np.fft.rfft(part * np.hanning(len(part))))
        peak_hz = np.fft.rfftfreq(len(part), 1 / RATE)[np.argmax(spectrum)]
        assert abs(peak_hz - tone) < 5
        assert rms_db(samples, bell.start, bell.start + 1.0) > -35


def test_nothing_clips(made):
    _, samples, _ = made
    assert peak_db(samples) < -0.5


def test_transcript_has_chapters_times_and_words(made):
    session, _, _ = made
    text = session.transcript.read_text(encoding="utf-8")
    assert "[0:00] Arrival" in text and "Resting" in text and "[" in text
    assert "Welcome to this short practice. Let your shoulders soften." in text
    assert "not treatment" in text


def test_a_second_render_with_another_pace_bed_and_length_reuses_the_speech(
    made, tmp_path, speech_cache, monkeypatch
):
    session, _, _ = made

    def no_engine(*args, **kwargs):
        raise AssertionError("the engine was opened although every clip was cached")

    monkeypatch.setattr(speaker, "open_engine", no_engine)
    script = tmp_path / "practice.txt"
    script.write_text(SCRIPT, encoding="utf-8")
    again = generate(Options(pace="slow", sound=Sound(ambient="brown"), minutes=1.3),
                     out=tmp_path / "again.mp3", script=script, cache=speech_cache)
    assert abs(again.plan.duration - 78) < 78 * 0.03
    assert abs(float(probe(again.path)["format"]["duration"]) - again.plan.duration) < 0.1


def test_no_bed_means_true_silence_in_the_holds(tmp_path, speech_cache):
    script = tmp_path / "practice.txt"
    script.write_text(SCRIPT, encoding="utf-8")
    session = generate(Options(sound=Sound(ambient="none")), out=tmp_path / "quiet.mp3", script=script,
                       cache=speech_cache)
    samples = decode(session.path)
    hold = [s for s in session.plan.segments if s.kind == "hold"][0]
    assert rms_db(samples, hold.end - 4, hold.end) < -70


def test_the_system_voice_makes_the_same_session(tmp_path, speech_cache):
    script = tmp_path / "practice.txt"
    script.write_text(SCRIPT, encoding="utf-8")
    session = generate(Options(engine="system"), out=tmp_path / "system.mp3", script=script,
                       cache=speech_cache)
    samples, info = decode(session.path), probe(session.path)
    assert abs(float(info["format"]["duration"]) - session.plan.duration) < 0.1
    assert [c["tags"]["title"] for c in info["chapters"]] == ["Arrival", "Resting", "Closing"]
    speech = [s for s in session.plan.segments if s.kind == "speech"]
    for s in speech:
        assert rms_db(samples, s.start, s.end) > -28, s.text
        assert 0.3 < s.duration < len(s.text.split()) * 60 / 170 * 1.6 + 0.5, s.text
    hold = [s for s in session.plan.segments if s.kind == "hold"][0]
    voice = float(np.median([rms_db(samples, s.start, s.end) for s in speech]))
    assert 15 < voice - rms_db(samples, hold.end - 4, hold.end) < 25
    assert peak_db(samples) < -0.5


def test_a_session_made_again_from_its_cache_is_the_same_file(tmp_path):
    """The first render uses its speech as the cache keeps it (16-bit), so a second
    render, which reads the speech back, makes the same file to the byte."""
    script = tmp_path / "s.txt"
    script.write_text(SCRIPT.replace("short practice", "short, new practice"), encoding="utf-8")
    cache = tmp_path / "cache"
    first = generate(Options(), out=tmp_path / "first.mp3", script=script, cache=cache)
    assert len(list(cache.rglob("*.wav"))) == 5  # every sentence spoken by Piper
    again = generate(Options(), out=tmp_path / "again.mp3", script=script, cache=cache)
    assert first.path.read_bytes() == again.path.read_bytes()
    assert first.mastered == again.mastered
