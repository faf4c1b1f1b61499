"""The breathing programme: the [breathe ...] cue, its exact timing in the plan, the
breath tones, the four patterns' narration, and a real session measured in the file."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from measure import RATE, decode, rms_db
from narration import as_spoken, chapters, norm, spoken as said
from tre_audio.narration import render
from tre_audio import session
from tre_audio.options import settings, values
from tre_audio.sound import tones
from tre_audio.errors import ScriptError
from tre_audio.sound.mix import DUCK_RELEASE, Ducking, Mixer, placed_tones
from tre_audio.narration.plan import ChapterMark, Plan, Segment, layout
from tre_audio.beside.plot import svg
from tre_audio.narration.script import Breathe, Say, format_event, parse, spoken
from tre_audio.beside.texts import annotated_script, transcript
from tre_audio.beside.timedtext import manifest, srt, webvtt

ROUND = {"box": 16.0, "4-7-8": 19.0, "coherent": 11.0, "sigh": 10.0}
"""Seconds of one round of each pattern (box at four counts a side)."""


def words_seconds(text: str) -> float:
    return len(text.split()) * 60 / 170


def breaths(plan: Plan) -> list[Segment]:
    return [s for s in plan.segments if s.kind == "breathe"]


def pitch(samples: np.ndarray, start: float, end: float) -> float:
    """The strongest frequency from 150 to 600 Hz between ``start`` and ``end`` seconds."""
    part = samples[int(start * RATE) : int(end * RATE)].astype(np.float64)
    size = 1 << 18  # zero-padded: about 0.08 Hz between bins
    spectrum = np.abs(np.fft.rfft(part * np.hanning(len(part)), size))
    freqs = np.fft.rfftfreq(size, 1 / RATE)
    band = (freqs > 150) & (freqs < 600)
    return float(freqs[band][np.argmax(spectrum[band])])


def crossings_pitch(samples: np.ndarray) -> float:
    """Pitch in Hz by counting upward zero crossings."""
    up = np.count_nonzero((samples[:-1] < 0) & (samples[1:] >= 0))
    return up * RATE / len(samples)


# --- the cue -------------------------------------------------------------------------

CUES = """\
[chapter: Breath]
Breathe with the tones.
[breathe in 4s]
[breathe hold 7 s]
[breathe out 8 seconds]
[Breathe IN 5.5s: In, two, three, four, five]
[breathe out 6s: Slowly out]   # planned: 6 s
[breathe in 1s: Top up]
"""


def test_breathe_cues_parse_and_format_back():
    events = parse(CUES)
    assert events[2:] == [
        Breathe("in", 4.0, 3),
        Breathe("hold", 7.0, 4),
        Breathe("out", 8.0, 5),
        Breathe("in", 5.5, 6, ("In", "two", "three", "four", "five")),
        Breathe("out", 6.0, 7, ("Slowly out",)),
        Breathe("in", 1.0, 8, ("Top up",)),
    ]
    assert format_event(events[5]) == "[breathe in 5.5s: In, two, three, four, five]"
    again = parse("\n".join(format_event(e) for e in events))
    assert [format_event(e) for e in again] == [format_event(e) for e in events]
    # the voice speaks the sentences and each counted word once
    assert spoken(events) == ["Breathe with the tones.", "In", "two", "three", "four",
                              "five", "Slowly out", "Top up"]


@pytest.mark.parametrize(
    ("cue", "why"),
    [
        ("[breathe]", "a breathing phase is written"),
        ("[breathe in]", "a breathing phase is written"),
        ("[breathe sideways 4s]", "unknown breathing phase 'sideways'"),
        ("[breathe in 1 min]", "timed in seconds"),
        ("[breathe in 2 breaths]", "timed in seconds"),
        ("[breathe in 4 parsecs]", "timed in seconds"),
        ("[breathe hold 0s]", "0.5 to 30 seconds"),
        ("[breathe hold 45s]", "0.5 to 30 seconds"),
        ("[breathe in 4-6s]", "a breathing phase is written"),
        ("[breathe in 4s: in,, two]", "none empty"),
        ("[breathe in 4s:]", "none empty"),
        ("[breathe in 4s: and now breathe in]", "one to 3 words"),
        ("[breathe in 2s: one, two, three, four]", "too many counts"),
    ],
)
def test_bad_breathe_cues_name_the_line(cue, why):
    with pytest.raises(ScriptError) as error:
        parse(f"[chapter: A]\nSome words.\n{cue}\n", source="my script")
    message = str(error.value)
    assert message.startswith("my script, line 3: ") and why in message, message
    assert message.endswith(cue)


def test_a_breathe_cue_needs_a_chapter_first():
    with pytest.raises(ScriptError, match="line 1: a cue before the first"):
        parse("[breathe in 4s]\n[chapter: A]\nWords.\n")


# --- the plan ------------------------------------------------------------------------

PATTERNED = """\
[chapter: Arrive]
Sit down and settle in.
[hold 10-60s]
[chapter: Practice]
Breathe with the tones.
[pause 2 breaths]
[breathe in 4s: In, two, three, four]
[breathe hold 7s: Hold]
[breathe out 8s]
[breathe in 4s]
[breathe hold 7s]
[breathe out 8s]
[chapter: Rest]
Let the pattern go.
[hold 30-120s]
"""


@pytest.mark.parametrize("pace", settings.PACES)
def test_breath_phases_are_exact_at_every_pace(pace):
    plan = layout(parse(PATTERNED), settings.pace(pace), words_seconds)
    phases = breaths(plan)
    assert [(s.phase, s.duration) for s in phases] == [
        ("in", 4.0), ("hold", 7.0), ("out", 8.0)] * 2
    for before, after in zip(phases, phases[1:]):  # back to back, no gaps
        assert after.start == pytest.approx(before.end, abs=1e-9)
    assert phases[3].start - phases[0].start == pytest.approx(19.0, abs=1e-9)
    # counted words sit on their beats, one a second from the phase's start
    counted = [s for s in plan.segments if s.kind == "speech"
               and phases[0].start - 1e-9 <= s.start < phases[-1].end]
    assert [(s.text, round(s.start - phases[0].start, 9)) for s in counted] == [
        ("In", 0.0), ("two", 1.0), ("three", 2.0), ("four", 3.0), ("Hold", 4.0)]


@pytest.mark.parametrize("fraction", [0.0, 0.4, 1.0])
def test_fitting_to_a_length_never_stretches_a_breath(fraction):
    gentle = settings.pace("gentle")
    free = layout(parse(PATTERNED), gentle, words_seconds)
    target = free.shortest + fraction * (free.longest - free.shortest)
    plan = layout(parse(PATTERNED), gentle, words_seconds, minutes=target / 60)
    assert plan.duration == pytest.approx(target)
    assert [s.duration for s in breaths(plan)] == [4.0, 7.0, 8.0] * 2
    # the breath phases are fixed time: the range comes from the holds alone
    assert free.longest - free.shortest == pytest.approx(50.0 + 90.0)


# --- the programme's narration -------------------------------------------------------

def render_events(pattern: str, level: str = "first-time", pace: str = "gentle",
                  minutes: float | None = None, **recipe):
    text = render.render(
        "breathing", pace=settings.pace(pace), level=settings.level(level),
        minutes=minutes, listener=recipe.pop("listener", ""),
        recipe=values.Recipe(pattern=pattern, **recipe),
    )
    return parse(text, source=f"breathing {pattern}")


def rounds(events) -> list[list[Breathe]]:
    """The pattern's rounds: each starts with a breath in (the sigh's top-up, a
    second breath in, belongs to its round); 4-7-8's first full breath out is not one."""
    out: list[list[Breathe]] = []
    previous = None
    for event in events:
        if not isinstance(event, Breathe):
            previous = None
            continue
        if event.phase == "in" and previous != "in":
            out.append([])
        if out:
            out[-1].append(event)
        previous = event.phase
    return out


CASES = [(p, lv, pc) for p in settings.PATTERNS for lv in settings.LEVELS
         for pc in settings.PACES]


@pytest.mark.parametrize(("pattern", "level", "pace"), CASES)
def test_each_pattern_renders_with_true_rounds(pattern, level, pace):
    events = render_events(pattern, level, pace)
    plan = layout(events, settings.pace(pace), words_seconds)
    found = rounds(events)
    shapes = {tuple((b.phase, b.seconds) for b in r) for r in found}
    assert len(shapes) == 1, shapes  # every round the same
    assert sum(b.seconds for b in found[0]) == pytest.approx(
        12.0 if (pattern, level) == ("box", "sensitive") else ROUND[pattern])
    count = len(found)
    if pattern == "box":
        assert 5 <= count <= 10
        side = 3 if level == "sensitive" else 4
        assert [b.phase for b in found[0]] == ["in", "hold", "out", "hold"]
        assert {b.seconds for b in found[0]} == {side}
    elif pattern == "4-7-8":
        assert count <= 4
        assert [(b.phase, b.seconds) for b in found[0]] == [("in", 4), ("hold", 7), ("out", 8)]
        first = next(e for e in events if isinstance(e, Breathe))
        assert first.phase == "out"  # a full breath out before the first round
    elif pattern == "coherent":
        assert [(b.phase, b.seconds) for b in found[0]] == [("in", 5.5), ("out", 5.5)]
        assert 10 * 60 <= count * 11.0 <= 20 * 60 + 11
    else:
        assert 1 <= count <= 3
        top_up = found[0][1]
        assert [b.phase for b in found[0]] == ["in", "in", "out"]
        assert top_up.seconds < found[0][0].seconds < found[0][2].seconds
    # the voice counts the first round, then falls silent and the tones carry on
    assert found[0][0].counts[0] == "In"
    assert all(not b.counts for b in found[-1])
    # in the plan a round lasts the pattern's time, counted or not
    starts = [s.start for s in breaths(plan) if s.phase == "in"]
    if pattern == "sigh":
        starts = starts[::2]
    elif pattern == "4-7-8":
        assert breaths(plan)[0].phase == "out"
    length = sum(b.seconds for b in found[0])
    assert np.diff(starts) == pytest.approx([length] * (len(starts) - 1), abs=1e-9)


@pytest.mark.parametrize("pattern", settings.PATTERNS)
def test_the_narration_keeps_the_safety_frame(pattern):
    events = render_events(pattern, listener="Ingrid", trusted="Maya")
    parts = chapters(events)
    titles = list(parts)
    first, last = norm(said(parts[titles[0]])), norm(said(parts[titles[-1]]))
    for phrase in ("self-care", "not a treatment", "not crisis care", "sit down, or lie down",
                   "light-headed", "breathe normally", "stop at any time", "eyes open",
                   "emergency number", "112", "findahelpline.com"):
        assert phrase in first, phrase
    for phrase in ("emergency number", "findahelpline.com", "maya", "go gently"):
        assert phrase in last, phrase
    everything = said(events)
    assert 1 <= everything.count("Ingrid") <= 3 and "Maya" in everything
    for event in events:
        if isinstance(event, Say):
            assert not re.search(r"[\d\[\]#]", as_spoken(event.text)), event.text
            assert re.search(r"[.!?]$", event.text), event.text
    assert "provider" not in norm(everything)
    for limit in ("pregnancy", "surgery"):
        careful = norm(said(render_events(pattern, limits=frozenset({limit}))))
        assert "check with your provider" in careful


def test_pattern_facts_are_spoken():
    def words(pattern: str) -> str:
        return norm(said(render_events(pattern)))

    assert "three or two" in words("box") and "four" in words("box")
    seven = words("4-7-8")
    for phrase in ("through your nose for four", "hold for seven",
                   "through your mouth for eight", "breathe all the way out",
                   "stay sitting or lying down", "four is the most"):
        assert phrase in seven, phrase
    assert "five and a half" in words("coherent")
    sigh = words("sigh")
    assert "through your nose" in sigh and "extra sip" in sigh and "through your mouth" in sigh
    assert "let the pattern go" in sigh  # easy, natural breathing follows
    assert "keep your eyes open" in norm(said(render_events("box", eyes_open=True)))


@pytest.mark.parametrize(("pattern", "minutes"),
                         [("box", 8), ("box", 12), ("4-7-8", 10), ("sigh", 8),
                          ("coherent", 16), ("coherent", 20), ("coherent", 25)])
def test_sessions_fit_a_length_with_the_rounds_untouched(pattern, minutes):
    gentle = settings.pace("gentle")
    events = render_events(pattern, minutes=minutes)
    plan = layout(events, gentle, words_seconds, minutes=minutes)
    assert abs(plan.duration / 60 - minutes) <= minutes * 0.03
    assert [s.duration for s in breaths(plan)] == [
        e.seconds for e in events if isinstance(e, Breathe)]
    if pattern == "coherent":  # the practice grows with the session, within 10-20 min
        practice = sum(s.duration for s in breaths(plan)) / 60
        assert 10 <= practice <= 20.2 and practice >= min(20, minutes - 7.5)


# --- the views of a plan: timed text, transcript, script, picture ----------------------

@pytest.fixture(scope="module")
def box():
    events = render_events("box")
    return events, layout(events, settings.pace("gentle"), words_seconds)


def test_timed_text_leaves_the_tones_out_and_the_manifest_lists_them(box):
    events, plan = box
    vtt = webvtt(plan)
    speech = [s for s in plan.segments if s.kind == "speech"]
    assert vtt.count(" --> ") == len(speech) == srt(plan).count(" --> ")
    assert "\nIn\n" in vtt and "\nHold\n" in vtt  # counted words are spoken words
    rows = json.loads(manifest(plan, title="Box", audio="box.mp3"))["segments"]
    phases = [r for r in rows if r["kind"] == "breathe"]
    assert [r["phase"] for r in phases[:4]] == ["in", "hold", "out", "hold"]
    assert all(r["end"] - r["start"] == pytest.approx(4.0, abs=0.002) for r in phases)
    assert all("phase" not in r for r in rows if r["kind"] != "breathe")


def test_the_script_and_transcript_carry_the_breathing(box):
    events, plan = box
    text = annotated_script(events, plan, ["header"])
    assert "[breathe in 4s: In, two, three, four]" in text
    assert [format_event(e) for e in parse(text)] == [format_event(e) for e in events]
    told = transcript(events, plan, "Box", "A notice.")
    assert ("(Breathing with the tones for 1:36: in 4 s, hold 4 s, out 4 s, hold 4 s; "
            "6 rounds, the first 3 counted aloud.)") in told
    assert "[breathe" not in told


def test_the_picture_draws_rising_and_falling_tones(box):
    _, plan = box
    root = ET.fromstring(svg(plan, title="Box"))
    ns = "{http://www.w3.org/2000/svg}"
    shapes = [e for e in root.iter() if e.get("class") == "breathe"]
    assert [e.get("data-phase") for e in shapes] == [s.phase for s in breaths(plan)]
    assert {e.tag for e in shapes} == {f"{ns}polygon", f"{ns}rect"}
    assert "breath" in ["".join(t.itertext()) for t in root.iter(f"{ns}text")]


# --- the tones -------------------------------------------------------------------------

LEVEL = -32.0
"""dBFS: the level the mixer asks for, 12 dB under the voice."""


@pytest.mark.parametrize(("phase", "low", "high"), [("in", 220.0, 330.0), ("out", 330.0, 220.0)])
def test_a_tone_glides_over_the_whole_phase_and_starts_and_ends_at_rest(phase, low, high):
    samples = tones.tone(RATE, phase, 4.0, low, high, LEVEL)
    assert len(samples) == 4 * RATE and not samples.flags.writeable
    assert abs(samples[0]) < 1e-4 and abs(samples[-1]) < 1e-4
    assert np.max(np.abs(np.diff(samples))) < 0.01  # no step sharper than the wave
    quarters = [crossings_pitch(q) for q in np.array_split(samples, 8)[1:-1]]
    rising = np.diff(quarters) > 0
    assert rising.all() if phase == "in" else not rising.any(), quarters
    assert quarters[0] == pytest.approx(low * (high / low) ** (1.5 / 8), rel=0.03)
    # level: full swell 12 dB (RMS) under the -20 dBFS voice, peaks well under it
    middle = samples[int(1.5 * RATE) : int(2.5 * RATE)]
    assert rms_db(middle, 0, 1) == pytest.approx(LEVEL + 20 * np.log10(0.85), abs=0.5)
    assert np.max(np.abs(samples)) < 10 ** (-26 / 20)


def test_a_hold_is_silent_and_pitches_follow_the_breath():
    assert len(tones.tone(RATE, "hold", 7.0, 330.0, 330.0, LEVEL)) == 0
    sigh = [("in", 0.0, 3.0), ("in", 3.0, 1.0), ("out", 4.0, 6.0), ("in", 30.0, 3.0)]
    up, top_up, down, fresh = tones.pitches(sigh)
    assert up == (tones.LOW_HZ, tones.HIGH_HZ)
    assert top_up[0] == tones.HIGH_HZ and top_up[1] > tones.HIGH_HZ * 1.15
    assert down == (top_up[1], tones.LOW_HZ)
    assert fresh == (tones.LOW_HZ, tones.HIGH_HZ)  # after a break, a fresh breath
    box = [("in", 0, 4), ("hold", 4, 4), ("out", 8, 4), ("hold", 12, 4), ("in", 16, 4)]
    assert [p for p in tones.pitches(box)] == [
        (220.0, 330.0), (330.0, 330.0), (330.0, 220.0), (220.0, 220.0), (220.0, 330.0)]
    with pytest.raises(ValueError):
        tones.tone(RATE, "sideways", 4.0, 220.0, 330.0, LEVEL)


def test_the_mixer_renders_tones_identically_in_any_block_size():
    events = parse(PATTERNED)
    plan = layout(events, settings.pace("gentle"), words_seconds)
    clips = {text: np.full(int(words_seconds(text) * RATE), 0.01, dtype=np.float32)
             for text in spoken(events)}
    for clip in clips.values():
        clip[:50] = clip[-50:] = 0
    mixer = Mixer(plan, clips, values.Sound(ambient="none", bells=False), RATE)
    assert len(placed_tones(plan, RATE)) == 6  # tones play with the bells off too
    whole = mixer.render(0, mixer.length)
    for block in (4096, 7777, RATE * 3 + 1):
        parts = [mixer.render(a, min(a + block, mixer.length))
                 for a in range(0, mixer.length, block)]
        assert np.array_equal(np.concatenate(parts), whole)
    hold = breaths(plan)[4]  # a hold of the uncounted round is silent
    assert np.max(np.abs(whole[int(hold.start * RATE) + 10 : int(hold.end * RATE) - 10])) == 0
    out = breaths(plan)[5]
    assert rms_db(whole, out.start + 2, out.end - 2) > -40


def test_the_bed_stays_down_through_a_counted_round_instead_of_pumping():
    plan = layout(parse(PATTERNED), settings.pace("gentle"), words_seconds)
    first = breaths(plan)[0]  # counted: In, two, three, four
    times = np.arange(first.start, first.end - 0.5, 0.01)
    assert np.all(Ducking(plan, 8.0).db(times) <= -7.99)
    # ...while a sentence stands alone: the bed rises in the gap after it
    sentence = next(s for s in plan.segments if s.kind == "speech")
    gap = np.array([sentence.end + DUCK_RELEASE + 0.05])
    assert Ducking(plan, 8.0).db(gap)[0] == 0.0


# --- a real session, measured in the file ----------------------------------------------

@pytest.fixture(scope="module")
def made(tmp_path_factory, speech_cache):
    options = values.Options(programme="breathing", recipe=values.Recipe(pattern="box"),
                              sound=values.Sound(ambient="none"))
    out = tmp_path_factory.mktemp("breathing") / "b.mp3"
    made = session.generate(options, out=out, cache=speech_cache)
    return made, decode(made.path)


def test_the_box_session_lasts_its_plan(made):
    done, samples = made
    assert abs(len(samples) / RATE - done.plan.duration) < 0.1
    timeline = json.loads(done.path.with_suffix(".json").read_text(encoding="utf-8"))
    assert sum(r["kind"] == "breathe" for r in timeline["segments"]) == 24


def tone_alone(done) -> list[Segment]:
    """Breath phases with no counted word over them."""
    speech = [s for s in done.plan.segments if s.kind == "speech"]
    return [b for b in breaths(done.plan)
            if not any(b.start - 0.5 < s.end and s.start < b.end for s in speech)]


def test_tones_rise_while_breathing_in_and_fall_while_breathing_out(made):
    done, samples = made
    alone = tone_alone(done)
    assert {b.phase for b in alone} == {"in", "hold", "out"} and len(alone) >= 8
    for b in alone:
        early = pitch(samples, b.start + 0.15 * b.duration, b.start + 0.35 * b.duration)
        late = pitch(samples, b.start + 0.65 * b.duration, b.start + 0.85 * b.duration)
        if b.phase == "in":  # 220 to 330 Hz: about 244 Hz early, 298 Hz late
            assert early == pytest.approx(244, abs=8) and late == pytest.approx(298, abs=8)
        elif b.phase == "out":
            assert early == pytest.approx(298, abs=8) and late == pytest.approx(244, abs=8)
        else:  # holds are silent
            assert rms_db(samples, b.start + 0.05, b.end - 0.05) < -70
    # the measure can tell: the same stretch read backwards falls
    b = next(b for b in alone if b.phase == "in")
    backwards = samples[int(b.start * RATE) : int(b.end * RATE)][::-1]
    assert pitch(backwards, 0.15 * b.duration, 0.35 * b.duration) > pitch(
        backwards, 0.65 * b.duration, 0.85 * b.duration) + 30


def test_the_tones_sit_comfortably_under_the_voice(made):
    done, samples = made
    voice = np.median([rms_db(samples, s.start, s.end) for s in done.plan.segments
                       if s.kind == "speech" and s.duration > 1.5])
    tone = np.median([rms_db(samples, b.start + 1.0, b.end - 1.0)
                      for b in tone_alone(done) if b.phase != "hold"])
    print(f"voice {voice:.1f} dBFS, tones {tone:.1f} dBFS: {voice - tone:.1f} dB under")
    assert 8.0 <= voice - tone <= 18.0


def onset(samples: np.ndarray, near: float, threshold_db: float = -50.0) -> float:
    """The first time after ``near`` - 0.3 s where the 5 ms RMS passes ``threshold_db``
    (the word counted a second before has ended by then)."""
    frame = RATE // 200
    start = int((near - 0.3) * RATE)
    part = samples[start : start + 3 * RATE].astype(np.float64)
    frames = part[: len(part) // frame * frame].reshape(-1, frame)
    loud = 20 * np.log10(np.sqrt(np.mean(frames**2, axis=1)) + 1e-12) > threshold_db
    return (start + int(np.argmax(loud)) * frame) / RATE


def test_each_round_lasts_the_patterns_time_counted_or_not(made):
    done, samples = made
    ins = [b for b in breaths(done.plan) if b.phase == "in"]
    assert len(ins) == 6
    heard = [onset(samples, b.start) for b in ins]
    # every round starts when planned, whether the voice counts it (rounds 1-3) or not
    assert np.abs(np.array(heard) - [b.start for b in ins]).max() < 0.12, heard
    alone = [t for t, b in zip(heard, ins) if b in tone_alone(done)]
    assert len(alone) == 3
    assert np.diff(alone) == pytest.approx([16.0, 16.0], abs=0.02)
    assert heard[-1] - heard[0] == pytest.approx(5 * 16.0, abs=0.15)
