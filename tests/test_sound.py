"""How a session sounds, measured in the files: loudness and true peak (ffmpeg's ebur128),
the bed ducking under the voice, subtitles against the audio, bells, chimes, the
binaural tone, the seed, joins without clicks, and the blockwise mastering."""

from __future__ import annotations

import datetime
import json
import re
import subprocess
import uuid
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from measure import RATE, Blocks, decode, probe, rms_db
from tre_audio.sound import master as master_module
from tre_audio.cli import cli
from tre_audio.sound.loudness import LoudnessMeter
from tre_audio.sound.master import Master
from tre_audio.sound.mix import Mixer
from tre_audio.narration.plan import layout
from tre_audio.narration.script import Say, parse
from tre_audio.session import generate
from tre_audio.options.settings import PACES, SAMPLE_RATE, VOICE_WPM
from tre_audio.options import table
from tre_audio.options.values import Options, Sound
from tre_audio.speech.cache import ClipCache
from tre_audio.speech.speaker import Speaker

SCRIPT = """\
[chapter: Arrival]
[bell]
Welcome. Let your shoulders soften, and let your breath settle.
Feel your feet on the floor, and the weight of your body.
This practice is self-care, not treatment. You can stop at any time.
If something hurts, change your position or stop.
[pause 3s]
[chapter: Standing]
[bell]
Now stand with your feet apart and your knees soft.
Rise slowly onto your toes, and lower again.
Keep a hand on the wall if that helps your balance.
Aim for a clear effort, never pain.
[hold 20-30s]
Shake out your legs, one at a time, loose and easy.
[chapter: Tremor]
[bell]
Lie down and let your legs quiver, as much or as little as they like.
Remember the brake: knees together, feet flat.
To stop, straighten your legs, roll to one side, and sit up.
[hold 60-80s]
You are doing well. Keep breathing, slow and easy.
[hold 20-30s]
[chapter: Closing]
[bell]
That is the end of this practice. Thank you for taking this time.
Drink some water, and rest quietly for a while.
[pause 2s]
[bell]
"""


def ebur128(path: Path) -> tuple[float, float]:
    """Integrated loudness (LUFS) and true peak (dBTP) as ffmpeg measures them."""
    log = subprocess.run(
        ["ffmpeg", "-nostats", "-i", str(path), "-af", "ebur128=peak=true", "-f", "null", "-"],
        capture_output=True, text=True, check=True,
    ).stderr
    summary = log[log.rindex("Summary:"):]
    loudness = float(re.search(r"I:\s+(-?[\d.]+) LUFS", summary)[1])
    peak = float(re.search(r"Peak:\s+(-?[\d.]+) dBFS", summary)[1])
    return loudness, peak


@pytest.fixture(scope="module")
def script(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("sound") / "practice-script.txt"
    path.write_text(SCRIPT, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def made(script, speech_cache):
    session = generate(Options(), out=script.with_name("practice.mp3"), script=script,
                       cache=speech_cache)
    return session, decode(session.path)


def make(script: Path, speech_cache: Path, name: str, **sound):
    return generate(Options(sound=Sound(**sound)), out=script.with_name(f"{name}.mp3"),
                    script=script, cache=speech_cache)


def test_loudness_and_true_peak_by_an_independent_meter(made):
    session, _ = made
    loudness, peak = ebur128(session.path)
    assert -17 <= loudness <= -15
    assert peak <= -1.0
    assert abs(session.mastered.loudness - -16) < 0.5  # tre-audio's own meter agrees


@pytest.mark.parametrize("target", [-19, -23])
def test_quieter_loudness_targets(script, speech_cache, target):
    session = make(script, speech_cache, f"loud{target}", loudness=float(target))
    loudness, peak = ebur128(session.path)
    assert abs(loudness - target) <= 1 and peak <= -1.0


def test_the_bed_ducks_under_the_voice_and_rises_in_the_silences(made):
    session, samples = made
    segments = session.plan.segments
    speech = [s for s in segments if s.kind == "speech"]
    hold = max((s for s in segments if s.kind == "hold"), key=lambda s: s.duration)
    bed = rms_db(samples, hold.end - 5, hold.end)  # the bells have long died away
    voice = float(np.median([rms_db(samples, s.start, s.end) for s in speech]))
    assert 18 < voice - bed < 22  # the default --bed-level 20
    # right after a sentence the bed is still down, and it is back up mid-hold
    after = [rms_db(samples, s.end + 0.1, s.end + 0.3) for s, g in zip(speech, segments[1:])
             if g.kind == "gap" and g.duration > 0.9]
    assert np.median(after) < bed - 4


def test_subtitles_match_the_speech_in_the_audio(made, script, speech_cache):
    """Timed against a file of the voice alone (no bed, no bells): the subtitles are
    the same for any bed, and onsets can be found without a bell's tail."""
    session = make(script, speech_cache, "voice-only", ambient="none", bells=False)
    samples = decode(session.path)
    assert session.path.with_suffix(".vtt").read_text(encoding="utf-8") == (
        made[0].path.with_suffix(".vtt").read_text(encoding="utf-8"))
    vtt = session.path.with_suffix(".vtt").read_text(encoding="utf-8")
    cues = re.findall(r"(\d\d):(\d\d):(\d\d)\.(\d{3}) --> (\d\d):(\d\d):(\d\d)\.(\d{3})", vtt)
    times = [(int(h) * 3600 + int(m) * 60 + int(s) + int(ms) / 1000,
              int(h2) * 3600 + int(m2) * 60 + int(s2) + int(ms2) / 1000)
             for h, m, s, ms, h2, m2, s2, ms2 in cues]
    speech = [s for s in session.plan.segments if s.kind == "speech"]
    assert len(times) == len(speech)
    frame = int(0.01 * RATE)
    for start, end in times:
        # where the voice is in the file: 10 ms frames within 45 dB of its loudest
        a, b = int((start - 0.3) * RATE), int((end + 0.3) * RATE)
        frames = samples[a:b][: (b - a) // frame * frame].reshape(-1, frame)
        level = 10 * np.log10(np.mean(np.square(frames, dtype=np.float64), axis=1) + 1e-12)
        loud = np.flatnonzero(level > level.max() - 45)
        onset, offset = a / RATE + loud[0] * 0.01, a / RATE + (loud[-1] + 1) * 0.01
        assert abs(onset - start) < 0.1 and abs(offset - end) < 0.1, (start, onset, end, offset)
    srt = session.path.with_suffix(".srt").read_text(encoding="utf-8")
    assert srt.count(" --> ") == len(speech)


def test_the_timeline_lists_every_segment_and_the_settings(made):
    session, _ = made
    manifest = json.loads(session.path.with_suffix(".json").read_text(encoding="utf-8"))
    assert manifest["audio"] == "practice.mp3"
    assert manifest["duration"] == pytest.approx(session.plan.duration, abs=0.001)
    assert [c["title"] for c in manifest["chapters"]] == [
        "Arrival", "Standing", "Tremor", "Closing"]
    kinds = [s["kind"] for s in manifest["segments"]]
    assert kinds == [s.kind for s in session.plan.segments]
    said = [s["text"] for s in manifest["segments"] if s["kind"] == "speech"]
    assert said == [e.text for e in parse(SCRIPT) if isinstance(e, Say)]
    assert manifest["settings"]["ambient"] == "pink"
    assert manifest["settings"]["loudness"] == -16
    # as chosen, with the engine and voice that spoke (the default's, here); made from a
    # script, whose words no option shaped, without the options that shape words
    chosen = {k: v for k, v in Options().settings().items() if k not in table.WORDS}
    assert manifest["settings"] == {**chosen, "engine": "hibari", "voice": "heart"}
    assert str(uuid.UUID(manifest["id"])) == manifest["id"]  # the session's own id
    made_at = datetime.datetime.fromisoformat(manifest["made"])
    assert abs((datetime.datetime.now(datetime.timezone.utc) - made_at).total_seconds()) < 600
    assert "trusted" not in manifest["settings"]  # another person's name stays out


def _peak_hz(samples: np.ndarray, start: float, seconds: float, low: float = 100) -> float:
    part = samples[int(start * RATE) : int((start + seconds) * RATE)]
    spectrum = np.abs(np.fft.rfft(part * np.hanning(len(part))))
    freqs = np.fft.rfftfreq(len(part), 1 / RATE)
    spectrum[freqs < low] = 0
    return float(freqs[np.argmax(spectrum)])


def test_bells_have_their_tones_and_can_be_left_out(made, script, speech_cache):
    session, samples = made
    bells = [s.start for s in session.plan.segments if s.kind == "bell"]
    tones = [_peak_hz(samples, start, 1.0) for start in bells]
    assert tones[0] == pytest.approx(262, abs=5)  # the start
    assert tones[1:4] == pytest.approx([330] * 3, abs=5)  # a new chapter
    assert tones[4] == pytest.approx(220, abs=5)  # the end
    quiet = decode(make(script, speech_cache, "nobells", bells=False).path)
    for start in bells[1:4]:
        assert rms_db(quiet, start, start + 1.0) < rms_db(samples, start, start + 1.0) - 10


def test_interval_chimes_ring_softly_inside_the_long_hold(script, speech_cache):
    session = make(script, speech_cache, "chimes", interval_bell=20.0)
    samples = decode(session.path)
    hold = max((s for s in session.plan.segments if s.kind == "hold"), key=lambda s: s.duration)
    chimes = session.plan.chimes
    inside = [t for t in chimes if hold.start < t < hold.end]
    assert len(inside) >= 3
    for t in inside:
        assert _peak_hz(samples, t, 0.5, low=500) == pytest.approx(880, abs=8)
        assert rms_db(samples, t, t + 0.5) > rms_db(samples, t - 1.0, t - 0.5) + 3


def test_a_binaural_session_is_stereo_with_the_beat_between_the_ears(script, speech_cache):
    session = make(script, speech_cache, "binaural", binaural=6.0)
    info = probe(session.path)
    assert info["streams"][0]["channels"] == 2
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", str(session.path), "-f", "s16le",
                          "-ac", "2", "-ar", str(RATE), "-"], capture_output=True, check=True).stdout
    stereo = np.frombuffer(raw, dtype="<i2").reshape(-1, 2).astype(np.float32) / 32768
    hold = max((s for s in session.plan.segments if s.kind == "hold"), key=lambda s: s.duration)
    left = _peak_hz(stereo[:, 0], hold.start + 20, 20, low=150)
    right = _peak_hz(stereo[:, 1], hold.start + 20, 20, low=150)
    assert left == pytest.approx(200, abs=0.2) and right == pytest.approx(206, abs=0.2)
    assert "headphones" in CliRunner().invoke(cli, ["script", "--binaural", "6"]).stdout


def test_the_same_seed_gives_the_same_bed_and_another_seed_another(script, speech_cache):
    one = decode(make(script, speech_cache, "seed1", seed=1).path)
    again = decode(make(script, speech_cache, "seed1-again", seed=1).path)
    other = decode(make(script, speech_cache, "seed2", seed=2).path)
    assert np.array_equal(one, again)
    assert not np.array_equal(one, other)


@pytest.fixture(scope="module")
def planned(speech_cache):
    """The script's plan and its sentences, spoken by the default voice."""
    events = parse(SCRIPT)
    speaker = Speaker(None, None, VOICE_WPM, ClipCache(speech_cache, SAMPLE_RATE))
    clips = speaker.speak([e.text for e in events if isinstance(e, Say)])
    return layout(events, PACES["gentle"], lambda text: len(clips[text]) / SAMPLE_RATE), clips


@pytest.fixture(scope="module")
def mixer(planned):
    # a steady bed: rain's droplets are transients by design (its seam: test_ambient.py)
    return Mixer(*planned, Sound(ambient="pink"), SAMPLE_RATE)


EDGE = RATE // 1000
"""The samples of a sound's edge whose steps count at its join: its first or last
millisecond, the step from or into silence included, so that a sudden onset counts too."""


def join_over_local(mix: np.ndarray, part: np.ndarray, at: int,
                    into: range | None = None) -> float:
    """How sharp the join at sample ``at`` is: the largest step the joining ``part`` of
    ``mix`` (that sound alone, as mixed) takes into the samples ``into`` (``at`` alone by
    default), over the largest steps (99.9th percentile) of the mix in the half second
    around. Above 1, the join is sharper than the sound it is heard in.

    Only the joining part's own steps count. The other parts' steps under a join change
    with every take of Piper's (its timing moves the joins along the bed), and one in a
    thousand passes that percentile, join or not: counting them, the measure read up to
    1.26 where a bell had died away 60 dB under the bed."""
    step = max(abs(float(part[i]) - float(part[i - 1])) for i in into or range(at, at + 1))
    around = np.abs(np.diff(mix[max(0, at - RATE // 4) : at + RATE // 4]))
    return step / float(np.percentile(around, 99.9))


def test_no_clicks_where_clips_bells_and_the_bed_loop_join(planned, mixer):
    for _, sound in mixer.sounds:  # every clip and bell starts and ends at rest
        assert abs(sound[0]) < 1e-3 and abs(sound[-1]) < 1e-3
    x = mixer.render(0, mixer.length)
    # the mix in its parts, each rendered by the mixer on its own
    voice_only = Mixer(*planned, Sound(ambient="none", bells=False), SAMPLE_RATE)
    voice = voice_only.render(0, mixer.length)
    no_bed = Mixer(*planned, Sound(ambient="none"), SAMPLE_RATE).render(0, mixer.length)
    bells, bed = no_bed - voice, x - no_bed
    spoken = {start for start, _ in voice_only.sounds}
    joins = []  # (the joining part, the join, the samples whose steps count)
    for start, sound in mixer.sounds:
        part, end = voice if start in spoken else bells, start + len(sound)
        joins += [(part, start, range(start, start + EDGE)),
                  (part, end, range(end - EDGE + 1, end + 1))]
    loops = list(range(len(mixer.bed), mixer.length, len(mixer.bed)))
    joins += [(bed, at, range(at, at + 1)) for at in loops]
    steps = [join_over_local(x, part, at, into) for part, at, into in joins
             if RATE // 4 < at < mixer.length - RATE // 4]
    assert len(steps) > 20 and max(steps) < 1.0
    # the measure does catch a click: a step the size of a soft syllable, in the bed...
    step = np.zeros_like(x)
    step[loops[0]:] = 0.02
    assert join_over_local(x + step, bed + step, loops[0]) > 1.5
    # ...and the opening bell struck at its loudest sample with no mallet, or cut off there
    start, ring = mixer.sounds[0]
    assert start not in spoken
    peak = start + int(np.argmax(np.abs(ring)))
    rung = np.zeros_like(x)
    rung[start : start + len(ring)] = ring
    for kept, into in ((slice(peak, None), range(peak, peak + EDGE)),
                       (slice(None, peak), range(peak - EDGE + 1, peak + 1))):
        broken = bells - rung
        broken[kept] += rung[kept]
        assert join_over_local(x - bells + broken, broken, peak, into) > 1.5


def test_mastering_in_blocks_is_seamless(mixer, monkeypatch):
    """The same session mastered in 30-second and in 7.3-second blocks is identical."""
    outputs = []
    for steps in (300, 73):  # of 100 ms
        monkeypatch.setattr(master_module, "BLOCK_STEPS", steps)
        blocks = Blocks()
        Master(mixer).run(6.0, blocks)
        outputs.append(blocks.audio)
    assert len(outputs[0]) == len(outputs[1]) == mixer.length
    assert np.max(np.abs(outputs[0] - outputs[1])) < 1e-6


@pytest.mark.parametrize("gain", [0.0, 14.0])  # the limiter idle, and busy
def test_the_loudness_reached_reuses_the_measure_yet_is_exact(mixer, gain):
    """After ``measure``, ``run`` takes each step's loudness from it, measuring again
    only where the limiter acted; the result is what a meter makes of the output."""
    mastering = Master(mixer)
    mastering.measure()
    blocks = Blocks()
    reached = mastering.run(gain, blocks)
    meter = LoudnessMeter(mixer.rate)
    meter.add(blocks.audio)
    assert reached == pytest.approx(meter.integrated, abs=1e-4)
    assert np.isfinite(reached)
    if gain:
        assert reached < mastering.measure() + gain - 0.1  # the limiter took some off


def test_preview_writes_twenty_seconds_of_a_bed(private_folders):
    result = CliRunner().invoke(cli, ["preview", "ambient", "surf", "--seed", "3"])
    assert result.exit_code == 0, result.stderr
    path = private_folders / "output" / "preview-surf.mp3"
    assert result.stdout.strip() == str(Path("output") / "preview-surf.mp3")
    samples = decode(path)
    assert abs(len(samples) / RATE - 20) < 0.1
    assert rms_db(samples, 12, 20) > -60  # the bed, after the bell


def test_plot_draws_the_planned_session(private_folders):
    result = CliRunner().invoke(cli, ["plot", "--minutes", "30", "-o", "shape.svg"])
    assert result.exit_code == 0, result.stderr
    svg = (private_folders / "shape.svg").read_text(encoding="utf-8")
    assert svg.startswith("<svg") or svg.startswith("<?xml")
    for title in ("Arrival and safety", "Tremor", "Closing"):
        assert title in svg
    bad = CliRunner().invoke(cli, ["plot", "-o", "shape.png"])
    assert bad.exit_code == 2 and "must end in .svg" in bad.stderr
    (private_folders / "output").mkdir()
    (private_folders / "output" / "grounding-gentle-11min.svg").write_text("a session's")
    kept = CliRunner().invoke(cli, ["plot", "grounding"])  # by default, a free name
    assert kept.stdout.strip().endswith("grounding-gentle-11min-2.svg"), kept.stdout
    assert (private_folders / "output" / "grounding-gentle-11min.svg").read_text() == \
        "a session's"
