"""Every built-in programme spoken for real and measured: length against the plan,
chapters read back, loudness and true peak by ffmpeg."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner

from measure import probe
from test_sound import ebur128
from tre_audio.narration import programmes, render
from tre_audio.cli import cli

OTHERS = [name for name in programmes.programmes() if name != "classic"]  # classic: its own tests


@pytest.mark.slow
@pytest.mark.parametrize("programme", OTHERS)
def test_each_programme_makes_a_measured_session(programme, private_folders):
    script = CliRunner().invoke(cli, ["script", programme])
    assert script.exit_code == 0, script.stderr
    chapters = re.findall(r"^\[chapter(?: tremor)?: (.+?)\]", script.stdout, flags=re.M)
    result = CliRunner().invoke(cli, ["generate", programme, "-o", f"{programme}.mp3"])
    assert result.exit_code == 0, result.stderr
    path = private_folders / f"{programme}.mp3"
    info = probe(path)
    assert [c["tags"]["title"] for c in info["chapters"]] == chapters
    planned = float(info["chapters"][-1]["end_time"])
    assert abs(float(info["format"]["duration"]) - planned) < 0.1
    assert result.stdout.rstrip().endswith(f"{len(chapters)} chapters")
    loudness, peak = ebur128(path)
    assert -17 <= loudness <= -15 and peak <= -1.0
