"""The classic programme's narration: chapters, safety content, tremor dose, name use.

Renders the templates at every level, pace and session length, and parses them; no
audio is made, so these tests are fast.
"""

from __future__ import annotations

import itertools
import re

import pytest

from narration import as_spoken, chapters as _chapters, norm as _norm, spoken as _spoken
from tre_audio.narration import render, script
from tre_audio.options import settings

CHAPTERS = [
    "Arrival and safety",
    "Grounding",
    "Ankle rolls",
    "Calf raises",
    "Thigh dips",
    "Forward bend",
    "Hip opener",
    "Wall sit and forward fold",
    "Floor and butterfly",
    "Tremor",
    "Rest and integration",
    "Closing",
]

NAME = "Ingrid"

CASES = list(itertools.product(settings.LEVELS, settings.PACES, (False, True)))


def _render(level: str, pace: str, short: bool, listener: str = NAME) -> list[script.Event]:
    text = render.render(
        "classic",
        pace=settings.pace(pace),
        level=settings.level(level),
        minutes=20 if short else None,
        listener=listener,
    )
    return script.parse(text, source=f"classic {level} {pace} short={short}")


@pytest.fixture(params=CASES, ids=lambda c: f"{c[0]}-{c[1]}-{'short' if c[2] else 'full'}")
def case(request):
    level, pace, short = request.param
    return level, pace, short, _render(level, pace, short)


def test_twelve_chapters_in_order(case):
    *_, events = case
    titles = [e.title for e in events if isinstance(e, script.Chapter)]
    assert titles == CHAPTERS
    assert isinstance(events[0], script.Chapter)
    assert isinstance(events[1], script.Bell)
    for title, part in _chapters(events).items():
        assert any(isinstance(e, script.Say) for e in part), f"{title} says nothing"


# Phrases each chapter must speak; checked in lower case, whitespace collapsed.
SAFETY = {
    "Arrival and safety": [
        "self-care",
        "it is not a treatment",
        "not crisis care",
        "consult a doctor",
        "injury",
        "recent surgery",
        "three months",
        "pregnant, ask your provider",
        "do not lie flat",
        "serious mental health condition",
        "acute crisis",
        "psychosis, mania, or severe depression",
        "trained provider",
        "stop at any time",
        "if you stop, that is a success",
        "continue only while it feels safe",
        "change your position or stop",
        "too much, slow down or stop, sit, and have a sip of water",
        "eyes open",
        "up anxiety",
        "trusted person",
        "signs for taking a break",
        "aftercare",
        "not today",
        "private space",
        "padded floor",
        "blanket",
        "water",
        "silence your phone",
        "emergency number",
        "112",
        "911, 999, or 000",
        "findahelpline.com",
        "crisis lines for every country",
    ],
    "Grounding": ["feet on the floor", "around the room"],
    "Ankle rolls": ["outer edge of your left foot", "ankle injury", "shake out"],
    "Calf raises": ["left leg", "right leg", "out of ten", "never pain", "shake out"],
    "Thigh dips": ["knee height", "behind your toes", "never pain", "shake out"],
    "Forward bend": ["left foot", "right foot", "between your legs", "comfortable"],
    "Hip opener": ["not a deep backbend", "right shoulder", "left shoulder", "shake out"],
    "Wall sit and forward fold": [
        "surgery on your belly", "back to the wall", "five out of ten", "fold forward",
    ],
    "Floor and butterfly": [
        "on your back", "first three months", "butterfly", "lift your hips",
        "five centimetres", "quiver",
    ],
    "Tremor": [
        "natural",
        "harmless",
        "spread",
        "stop by itself",
        "you are in control",
        "bring your knees together",
        "feet flat",
        "your brake",
        "straighten your legs",
        "roll onto one side",
        "sit up",
        "drink some water",
        "stand and walk",
        "stopping early is a success",
        "spaced out",
        "unreal",
        "far from your body",
        "numb",
        "losing time",
        "open your eyes",
        "name objects in the room",
        "texture",
        "say your name, where you are, today's date, and that you are safe",
        "five things you see, four you can touch, three you hear, two you smell, "
        "and one you taste",
    ],
    "Rest and integration": ["rest", "roll slowly onto your side", "sitting"],
    "Closing": [
        "twenty-four to thirty-six hours",
        "twitches",
        "soreness",
        "mood",
        "sleep",
        "dreams",
        "water",
        "quiet",
        "comfort food",
        "two or three times a week",
        "rest day",
        "the tremor half as long",
        "emergency number",
        "112",
        "findahelpline.com",
    ],
}


def test_safety_content_in_every_render(case):
    level, pace, short, events = case
    parts = _chapters(events)
    missing = [
        f"{title}: {phrase!r}"
        for title, phrases in SAFETY.items()
        for phrase in phrases
        if phrase not in _norm(_spoken(parts[title]))
    ]
    assert not missing, "missing: " + "; ".join(missing)


def test_fatigue_target_follows_level(case):
    level, _, _, events = case
    words = {4: "four", 5: "five", 6: "six", 7: "seven"}
    target = words[settings.level(level).fatigue]
    spoken = _norm(_spoken(_chapters(events)["Calf raises"]))
    assert f"{target} out of ten" in spoken


def _seconds(hold: script.Hold, pace: settings.Pace, end: str) -> float:
    amount = hold.low if end == "low" else hold.high
    return amount * pace.breath if hold.unit == "breath" else amount


def test_tremor_holds_follow_the_level(case):
    level_name, pace_name, _, events = case
    level, pace = settings.level(level_name), settings.pace(pace_name)
    holds = [e for e in _chapters(events)["Tremor"] if isinstance(e, script.Hold)]
    assert len(holds) >= 3, "the tremor time is split into several holds"
    assert all(h.unit in ("s", "breath") for h in holds)
    low = sum(_seconds(h, pace, "low") for h in holds)
    high = sum(_seconds(h, pace, "high") for h in holds)
    assert high <= level.tremor_high * 60 + 1e-9
    assert low >= level.tremor_low * 60 - 1e-9
    # Check-ins between the holds tell the listener that time is passing.
    tremor = _chapters(events)["Tremor"]
    first = tremor.index(holds[0])
    check_ins = [
        " ".join(e.text for e in run if isinstance(e, script.Say))
        for run in _runs_between_holds(tremor[first:])
    ]
    assert len([c for c in check_ins if c]) >= 2
    assert any("knees together" in _norm(c) for c in check_ins)


def _runs_between_holds(events: list[script.Event]) -> list[list[script.Event]]:
    runs: list[list[script.Event]] = [[]]
    for event in events:
        if isinstance(event, script.Hold):
            runs.append([])
        else:
            runs[-1].append(event)
    return runs[1:]


def test_no_hold_is_elsewhere_longer_than_the_tremor():
    """Only the tremor chapter holds for minutes at a time (a sanity check on cues)."""
    for level, pace, short in CASES:
        events = _render(level, pace, short)
        for title, part in _chapters(events).items():
            if title == "Tremor":
                continue
            for hold in (e for e in part if isinstance(e, script.Hold)):
                assert _seconds(hold, settings.pace(pace), "high") <= 240, title


def test_name_used_at_most_three_times(case):
    *_, events = case
    spoken = _spoken(events)
    assert 1 <= len(re.findall(rf"\b{NAME}\b", spoken)) <= 3


@pytest.mark.parametrize("level", settings.LEVELS)
@pytest.mark.parametrize("short", (False, True))
def test_without_a_name_the_sentences_still_read(level, short):
    events = _render(level, "gentle", short, listener="")
    spoken = _spoken(events)
    assert NAME not in spoken
    assert ", ." not in spoken and " ." not in spoken and ",." not in spoken
    sentences = [e.text for e in events if isinstance(e, script.Say)]
    assert "Welcome." in sentences


def test_name_with_cue_characters_cannot_break_the_script():
    events = _render("first-time", "gentle", False, listener="[bell] #Sam")
    sentences = [e.text for e in events if isinstance(e, script.Say)]
    assert "Welcome, bell Sam." in sentences


def test_narration_has_no_cue_syntax_or_digits(case):
    *_, events = case
    for event in events:
        if isinstance(event, script.Say):
            assert not set(event.text) & set("[]#{}<>"), event.text
            assert not re.search(r"\d", as_spoken(event.text)), \
                f"spell numbers out, or say them in the shipped lexicon: {event.text}"


def test_short_render_is_shorter_and_keeps_safety():
    for level in settings.LEVELS:
        full = _spoken(_render(level, "gentle", False)).split()
        brief = _spoken(_render(level, "gentle", True)).split()
        assert len(brief) < len(full)
        assert 900 <= len(brief) <= 1200
        assert 1250 <= len(full) <= 1650


# The timing budget at the gentle pace, counted the way the brief counts it (kept here,
# independent of the planner): a sentence takes max(words at 120 a minute, its speech at
# 170 words a minute + 0.9 s); a breath is 5 s, a bell 4 s; a flexible hold defaults to
# its midpoint; 3 s of lead-in and 8 s of tail.
def _budget_minutes(events: list[script.Event]) -> tuple[float, float, float]:
    fixed = 3.0 + 8.0
    low = mid = high = 0.0
    for event in events:
        match event:
            case script.Say(text=text):
                words = len(text.split())
                fixed += max(words * 60 / 120, words * 60 / 170 + 0.9)
            case script.Bell():
                fixed += 4.0
            case script.Pause(amount=amount, unit=unit):
                fixed += amount * 5.0 if unit == "breath" else amount
            case script.Hold(low=lo, high=hi, unit=unit):
                scale = 5.0 if unit == "breath" else 1.0
                low, high = low + lo * scale, high + hi * scale
                mid += (lo + hi) / 2 * scale
    return (fixed + low) / 60, (fixed + mid) / 60, (fixed + high) / 60


@pytest.mark.parametrize("level", settings.LEVELS)
def test_timing_budget_at_gentle_pace(level):
    shortest, default, _ = _budget_minutes(_render(level, "gentle", False))
    top = 42 if level == "first-time" else 50
    assert 30 <= default <= top
    assert shortest < default - 5
    shortest_short, _, _ = _budget_minutes(_render(level, "gentle", True))
    if level == "first-time":
        assert shortest_short <= 18.5, "--minutes 20 must be reachable"
