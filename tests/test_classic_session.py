"""The default classic session, made by the command a new user runs, measured end to end."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from measure import RATE, decode, peak_db, probe
from narration import as_spoken
from tre_audio.cli import cli
from tre_audio.narration.plan import (SETTLE_SLOWER, TOLERANCE, estimate_speech, layout,
                                      sentence_slot)
from tre_audio.narration.script import Say, parse
from tre_audio.options.settings import LEVELS, PACES

CHAPTERS = [
    "Arrival and safety", "Grounding", "Ankle rolls", "Calf raises", "Thigh dips",
    "Forward bend", "Hip opener", "Wall sit and forward fold", "Floor and butterfly",
    "Tremor", "Rest and integration", "Closing",
]


@pytest.fixture(scope="module")
def default_session(tmp_path_factory):
    folder = tmp_path_factory.mktemp("classic")
    result = CliRunner().invoke(cli, ["generate", "-o", str(folder / "classic.mp3")])
    assert result.exit_code == 0, result.stderr
    return folder / "classic.mp3", result.stdout


def frame_rms_db(samples: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """RMS in dBFS of many stretches at once (seconds), from a running sum of squares."""
    power = np.concatenate([[0.0], np.cumsum(np.square(samples, dtype=np.float64))])
    a = np.clip((starts * RATE).astype(int), 0, len(samples))
    b = np.clip((ends * RATE).astype(int), 0, len(samples))
    mean = (power[b] - power[a]) / np.maximum(b - a, 1)
    return 10 * np.log10(np.maximum(mean, 1e-18))


@pytest.mark.slow
def test_default_session_is_30_to_50_minutes_with_twelve_chapters(default_session):
    path, stdout = default_session
    info = probe(path)
    duration = float(info["format"]["duration"])
    assert 30 * 60 <= duration <= 50 * 60
    assert [c["tags"]["title"] for c in info["chapters"]] == CHAPTERS
    assert stdout.startswith(str(path)) and stdout.rstrip().endswith("12 chapters")
    transcript = path.with_suffix(".txt").read_text(encoding="utf-8")
    for title in CHAPTERS:
        assert title in transcript
    assert "not a treatment" in transcript and "knees together" in transcript


@pytest.fixture(scope="module")
def spoken_classic(speech_cache):
    """The default classic script's events and their clips, as the voice speaks them."""
    from tre_audio import session
    from tre_audio.narration import render
    from tre_audio.options.values import Options

    events = parse(render.render("classic", pace=PACES["gentle"], level=LEVELS["first-time"],
                                 minutes=None))
    speaker = session.speaker(Options(), speech_cache)  # the default voice, as generate's
    return events, speaker.speak([e.text for e in events if isinstance(e, Say)])


@pytest.mark.slow
def test_default_session_speaks_where_its_plan_says(default_session, spoken_classic):
    """Rebuild the plan from the script and the cached clips; the file must match it."""
    path, _ = default_session
    events, clips = spoken_classic
    pace, level = PACES["gentle"], LEVELS["first-time"]
    plan = layout(events, pace, lambda text: len(clips[text]) / RATE)

    samples = decode(path)
    assert len(samples) == round(plan.duration * RATE)
    speech = [s for s in plan.segments if s.kind == "speech"]
    silent = [s for s in plan.segments if s.kind in ("pause", "hold") and s.duration >= 12]
    speech_db = frame_rms_db(samples, np.array([s.start for s in speech]),
                             np.array([s.end for s in speech]))
    # the last 4 s of a long silence are past any bell's tail: only the bed remains
    bed_db = frame_rms_db(samples, np.array([s.end - 4 for s in silent]),
                          np.array([s.end for s in silent]))
    assert len(speech) > 150 and len(silent) > 20
    assert speech_db.min() > -30
    assert bed_db.max() < speech_db.min() - 10
    # the bed sits --bed-level (20 dB) under the voice in the silences
    assert 18 < np.median(speech_db) - np.median(bed_db) < 22
    assert peak_db(samples) < -0.5

    def heard_wpm(chapter: int) -> float:
        said = [s for s in speech if s.chapter == chapter]
        words = sum(len(as_spoken(s.text).split()) for s in said)  # 112: three words
        narration = sum(s.duration for s in plan.segments
                        if s.kind in ("speech", "gap") and s.chapter == chapter)
        return words / (narration / 60)

    def settled(chapter: int) -> float:
        """How much slower the chapter is heard than its sentences at the plain pace."""
        said = [s for s in speech if s.chapter == chapter]
        plain = sum(sentence_slot(s.text, s.duration, pace) for s in said)
        narration = sum(s.duration for s in plan.segments
                        if s.kind in ("speech", "gap") and s.chapter == chapter)
        return plain / narration

    # the gentle pace (120 words a minute, short sentences held at least 0.9 s after)
    # as heard at the start and the end; slower and softer in between, most of all in
    # the tremor phase, as the voice settles
    first, tremor, last = 0, CHAPTERS.index("Tremor"), len(CHAPTERS) - 1
    assert 105 <= heard_wpm(first) <= 130 and 105 <= heard_wpm(last) <= 130
    assert settled(first) == pytest.approx(1.0) and settled(last) == pytest.approx(1.0)
    assert settled(tremor) == pytest.approx(1 - SETTLE_SLOWER)
    level_db = {c: np.median([d for s, d in zip(speech, speech_db) if s.chapter == c])
                for c in (first, tremor, last)}
    assert 1.5 < level_db[first] - level_db[tremor] < 3.5
    assert abs(level_db[first] - level_db[last]) < 1.0

    tremor = next(c for c in plan.chapters if c.title == "Tremor")
    held = sum(s.duration for s in plan.segments
               if s.kind == "hold" and tremor.start <= s.start < tremor.end)
    assert level.tremor_low * 60 <= held <= level.tremor_high * 60


@pytest.mark.slow
@pytest.mark.parametrize("minutes", [20, 45])
def test_minutes_fits_within_three_percent(minutes, tmp_path):
    out = tmp_path / "fitted.mp3"
    result = CliRunner().invoke(cli, ["generate", "--minutes", str(minutes), "-o", str(out)])
    assert result.exit_code == 0, result.stderr
    duration = float(probe(out)["format"]["duration"])
    assert abs(duration - minutes * 60) <= minutes * 60 * 0.03


def test_default_output_name_and_folder(private_folders: Path, tmp_path):
    script = private_folders / "mini.txt"
    script.write_text("[chapter: A]\n[bell]\nHello, and welcome.\n[hold 20-40s]\n")
    result = CliRunner().invoke(cli, ["generate", "--script", str(script), "--minutes", "0.75"])
    assert result.exit_code == 0, result.stderr
    made = sorted(p.relative_to(private_folders).as_posix()
                  for p in (private_folders / "output").iterdir())
    assert made == [f"output/mini-gentle-0.75min.{kind}"
                    for kind in ("json", "mp3", "srt", "txt", "vtt")]


@pytest.mark.slow
def test_the_estimate_made_before_speaking_is_close_to_the_speech(spoken_classic):
    """What --minutes is first checked against, and what 'script' shows: within half the
    fitting's tolerance of the plan the real speech gives, so a length that passes the
    first check passes the second (words alone fell up to 7% short)."""
    events, clips = spoken_classic
    for pace in PACES.values():
        real = layout(events, pace, lambda text: len(clips[text]) / RATE)
        guess = layout(events, pace, estimate_speech)
        for guessed, made in ((guess.shortest, real.shortest), (guess.longest, real.longest),
                              (guess.duration, real.duration)):
            assert abs(guessed / made - 1) < TOLERANCE / 2, (pace.name, guessed, made)
    spoken = sum(len(clip) for clip in clips.values()) / RATE
    assert abs(sum(estimate_speech(text) for text in clips) / spoken - 1) < 0.05
