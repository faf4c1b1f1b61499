"""Laying a script out in time and fitting its holds to a length."""

from __future__ import annotations

import pytest

from tre_audio.errors import InvalidOption, ScriptError
from tre_audio.narration.plan import (BELL_SECONDS, LEAD_IN, SETTLE_SLOWER,
                                      SETTLE_SOFTER_DB, TAIL, layout, sentence_slot)
from tre_audio.narration.script import parse
from tre_audio.options.settings import PACES

SCRIPT = """\
[chapter: One]
[bell]
One two three four five six.
[pause 2 breaths]
[hold 10-50s]
[chapter: Two]
Seven eight.
[hold 1-3 min]
[pause 5s]
"""
GENTLE = PACES["gentle"]


def two_seconds(text: str) -> float:
    return 2.0


def test_sentences_take_their_share_of_time_at_the_narration_rate():
    plan = layout(parse(SCRIPT), GENTLE, two_seconds)
    speech = [s for s in plan.segments if s.kind == "speech"]
    gaps = [s for s in plan.segments if s.kind == "gap"]
    # six words at 120 wpm take 3 s, so the gap is 1 s; two words get the minimum gap
    assert speech[0].duration == 2.0 and gaps[0].duration == pytest.approx(1.0)
    assert gaps[1].duration == pytest.approx(GENTLE.min_gap)


def test_default_holds_sit_mid_range_and_chapters_cover_the_session():
    plan = layout(parse(SCRIPT), GENTLE, two_seconds)
    holds = [s.duration for s in plan.segments if s.kind == "hold"]
    assert holds == [30.0, 120.0]
    fixed = LEAD_IN + BELL_SECONDS + 3.0 + 10.0 + (2.0 + GENTLE.min_gap) + 5.0 + TAIL
    assert plan.duration == pytest.approx(fixed + 150.0)
    assert plan.shortest == pytest.approx(fixed + 70.0)
    assert plan.longest == pytest.approx(fixed + 230.0)
    assert [c.title for c in plan.chapters] == ["One", "Two"]
    assert plan.chapters[0].start == 0.0
    assert plan.chapters[0].end == plan.chapters[1].start
    assert plan.chapters[-1].end == plan.duration


@pytest.mark.parametrize("fraction", [0.0, 0.3, 0.77, 1.0])
def test_fitting_lands_on_the_length_asked(fraction):
    base = layout(parse(SCRIPT), GENTLE, two_seconds)
    target = base.shortest + fraction * (base.longest - base.shortest)
    plan = layout(parse(SCRIPT), GENTLE, two_seconds, minutes=target / 60)
    assert plan.duration == pytest.approx(target)
    for segment, (low, high) in zip(
        [s for s in plan.segments if s.kind == "hold"], [(10, 50), (60, 180)]
    ):
        assert low - 1e-9 <= segment.duration <= high + 1e-9


def test_a_length_out_of_reach_names_the_range():
    with pytest.raises(InvalidOption) as error:
        layout(parse(SCRIPT), GENTLE, two_seconds, minutes=60)
    assert error.value.option == "--minutes"
    assert "can last 1.8 to 4.4 minutes" in str(error.value)


def test_paces_scale_pauses_and_breaths():
    slow = layout(parse(SCRIPT), PACES["slow"], two_seconds)
    pauses = [s.duration for s in slow.segments if s.kind == "pause"]
    assert pauses == pytest.approx([2 * 6.0 * 1.25, 5 * 1.25])


def test_the_voice_settles_towards_the_longest_holds_and_returns_for_the_close():
    script = "".join(
        f"[chapter: {title}]\nOne two three four five six.\n[hold {hold}]\n"
        for title, hold in [("Arrive", "5s"), ("Work", "10s"), ("Deep", "60-120s"),
                            ("Rest", "20s"), ("Close", "5s")]
    )
    plan = layout(parse(script), GENTLE, two_seconds)
    speech = [s for s in plan.segments if s.kind == "speech"]
    slots = [s.duration + g.duration for s, g in
             zip(speech, [g for g in plan.segments if g.kind == "gap"])]
    plain = sentence_slot("One two three four five six.", 2.0, GENTLE)
    depths = [0.0, 0.5, 1.0, 1.0, 0.0]
    assert slots == pytest.approx([plain / (1 - SETTLE_SLOWER * d) for d in depths])
    assert [s.level for s in speech] == pytest.approx([-SETTLE_SOFTER_DB * d for d in depths])


def test_interval_chimes_ring_inside_long_holds_only():
    plan = layout(parse(SCRIPT), GENTLE, two_seconds, interval_bell=30)
    holds = [s for s in plan.segments if s.kind == "hold"]  # 30 s and 120 s
    assert plan.chimes == pytest.approx([holds[1].start + 30 * k for k in (1, 2, 3)])


def test_a_session_is_at_most_180_minutes_as_minutes_is():
    never = "[chapter: A]\nHello.\n" + "[hold 30 min]\n" * 200  # 100 hours at the least
    with pytest.raises(ScriptError, match="would last at least 6,000 minutes; a session may "
                                          "last at most 180: shorten"):
        layout(parse(never), GENTLE, two_seconds)
    long = "[chapter: A]\nHello.\n" + "[hold 10-30 min]\n" * 10  # 100 to 300 minutes
    with pytest.raises(ScriptError, match="would last 200 minutes; a session may last at "
                                          "most 180: give --minutes 180 or less"):
        layout(parse(long), GENTLE, two_seconds)
    assert layout(parse(long), GENTLE, two_seconds, minutes=180).duration == \
        pytest.approx(180 * 60)
