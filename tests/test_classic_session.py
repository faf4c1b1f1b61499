"""The default classic session, made by the command a new user runs, measured end to end."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from measure import RATE, decode, peak_db, probe
from tre_audio.cli import cli
from tre_audio.plan import layout
from tre_audio.script import Say, parse
from tre_audio.settings import LEVELS, PACES

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


@pytest.mark.slow
def test_default_session_speaks_where_its_plan_says(default_session, speech_cache):
    """Rebuild the plan from the script and the cached clips; the file must match it."""
    from tre_audio import render, settings
    from tre_audio.speech.cache import ClipCache
    from tre_audio.speech.speaker import Speaker

    path, _ = default_session
    pace, level = PACES["gentle"], LEVELS["first-time"]
    events = parse(render.render("classic", pace=pace, level=level, minutes=None))
    speaker = Speaker("piper", None, settings.VOICE_WPM, ClipCache(speech_cache, RATE))
    clips = speaker.speak([e.text for e in events if isinstance(e, Say)])
    plan = layout(events, pace, lambda text: len(clips[text]) / RATE)

    samples = decode(path)
    assert abs(len(samples) / RATE - plan.duration) < 0.1
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
    assert -50 < np.median(bed_db) < -36
    assert peak_db(samples) < -0.5

    words = sum(len(s.text.split()) for s in speech)
    narration = sum(s.duration for s in plan.segments if s.kind in ("speech", "gap"))
    assert 110 <= words / (narration / 60) <= 130  # the gentle pace, as heard

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
    assert made == ["output/mini-gentle-0.75min.mp3", "output/mini-gentle-0.75min.txt"]
