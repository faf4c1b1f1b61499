"""Properties, tried on generated input: the cue parser and fitting a session to a length.

- Any events printed as a script parse back to the same events, cue for cue.
- Any text at all is either a script or a ``ScriptError``; nothing else is raised.
- Fitting to any number of minutes lands within the tolerance of it, or is refused
  with a clear ``InvalidOption``; nothing else is raised.
"""

from __future__ import annotations

import math

from hypothesis import HealthCheck, given, settings, strategies as st

from tre_audio.errors import InvalidOption, ScriptError
from tre_audio.narration.plan import TOLERANCE, estimate_speech, layout
from tre_audio.narration.script import (BREATH_PHASES, MAX_COUNT_WORDS, MAX_HOLD_SECONDS,
                                        MAX_PAUSE_SECONDS, MAX_PHASE_SECONDS,
                                        MIN_COUNT_SECONDS, MIN_PHASE_SECONDS, Bell,
                                        Breathe, Chapter, Hold, Pause, Say, format_event,
                                        parse)
from tre_audio.options.settings import PACES

FAST = settings(max_examples=150, deadline=None,
                suppress_health_check=[HealthCheck.too_slow])

# --- events a script can hold ---------------------------------------------------------

LETTERS = st.characters(categories=["L", "N"])
WORD = st.text(LETTERS | st.sampled_from(list(",;:'-\"()")), min_size=1, max_size=8).filter(
    lambda w: w[0] not in "#\"')" and any(c.isalnum() for c in w))
"""Words of a sentence: no sentence end inside, nothing that reads as a comment."""
TITLE_CHAR = st.characters(categories=["L", "N", "P", "S"], exclude_characters="]")


def sentence() -> st.SearchStrategy[str]:
    return st.builds(lambda words, end: " ".join(words) + end,
                     st.lists(WORD, min_size=1, max_size=8), st.sampled_from(".!?"))


def title() -> st.SearchStrategy[str]:
    return st.lists(st.text(TITLE_CHAR, min_size=1, max_size=6), min_size=1,
                    max_size=4).map(" ".join)


def seconds(low: float, high: float) -> st.SearchStrategy[float]:
    """Amounts as a person writes them: up to three decimals."""
    return st.integers(math.ceil(low * 1000), int(high * 1000)).map(lambda n: n / 1000)


def pause() -> st.SearchStrategy[Pause]:
    in_seconds = st.builds(lambda a: Pause(a, "s", 0), seconds(0.001, MAX_PAUSE_SECONDS))
    in_breaths = st.builds(lambda a: Pause(a, "breath", 0), seconds(0.001, MAX_PAUSE_SECONDS / 6))
    return in_seconds | in_breaths


def hold() -> st.SearchStrategy[Hold]:
    def make(unit: str, top: float) -> st.SearchStrategy[Hold]:
        return st.tuples(seconds(0.001, top), seconds(0.001, top)).map(
            lambda pair: Hold(min(pair), max(pair), unit, 0))
    return make("s", MAX_HOLD_SECONDS) | make("breath", MAX_HOLD_SECONDS / 6)


@st.composite
def breathe(draw: st.DrawFn) -> Breathe:
    length = draw(seconds(MIN_PHASE_SECONDS, MAX_PHASE_SECONDS))
    most = min(6, int(length / MIN_COUNT_SECONDS + 1e-9))
    words = st.lists(st.text(LETTERS, min_size=1, max_size=6), min_size=1,
                     max_size=MAX_COUNT_WORDS).map(" ".join)
    counts = draw(st.lists(words, max_size=most))
    return Breathe(draw(st.sampled_from(BREATH_PHASES)), length, 0, tuple(counts))


EVENT = st.one_of(
    st.builds(lambda t: Chapter(t, 0), title()),
    st.just(Bell(0)),
    st.builds(lambda t: Say(t, 0), sentence()),
    pause(),
    hold(),
    breathe(),
)


@st.composite
def events(draw: st.DrawFn) -> list:
    """A script's events: a chapter first, at least one sentence."""
    body = draw(st.lists(EVENT, max_size=25))
    body.insert(draw(st.integers(0, len(body))), Say(draw(sentence()), 0))
    return [Chapter(draw(title()), 0), *body]


def _numbered(events: list, step: int) -> list:
    """``events`` on the lines they are printed on, ``step`` lines apart."""
    import dataclasses

    return [dataclasses.replace(e, line=1 + step * i) for i, e in enumerate(events)]


# --- the parser -----------------------------------------------------------------------


@FAST
@given(events())
def test_printed_events_parse_back_to_the_same_events(script_events):
    text = "\n\n".join(format_event(e) for e in script_events)  # a blank line apart
    assert parse(text) == _numbered(script_events, 2)


@FAST
@given(events(), st.sampled_from(["", "   # planned: 1:00", "\t"]))
def test_cues_keep_their_meaning_with_a_comment_or_spaces_after_them(script_events, tail):
    lines = [format_event(e) + (tail if not isinstance(e, Say) else "")
             for e in script_events]
    assert parse("\n\n".join(lines)) == _numbered(script_events, 2)


SCRIPTISH = st.lists(
    st.sampled_from(["[chapter: A]", "[bell]", "[pause 4s]", "[hold 5-20s]", "[hold",
                     "[breathe in 4s: in, two]", "[breathe out 0.1s]", "[pause 2-4s]",
                     "Hello there.", "# comment", "", "[", "]", "[]", "[chapter:]",
                     "[hold 1e3s]", "[pause 99999999999999999999 min]", "\x00", "\ufeff",
                     "[breathe in 4s: ,]", "[breathe sideways 4s]", "[pause 4 breaths]"])
    | st.text(max_size=40),
    max_size=12,
).map("\n".join)


@FAST
@given(st.one_of(st.text(), st.binary().map(lambda b: b.decode("utf-8", "replace")),
                 SCRIPTISH))
def test_any_text_is_a_script_or_a_one_line_script_error(text):
    try:
        events = parse(text, source="t.txt")
    except ScriptError as error:
        message = str(error)
        assert message.startswith("t.txt") and message.strip()
        return
    assert any(isinstance(e, Say) for e in events) and isinstance(events[0], Chapter)


# --- fitting to a length --------------------------------------------------------------


MINUTES = st.one_of(
    st.floats(min_value=0.5, max_value=200),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.0, -1.0, 1e-300, 1e300]),
)


@FAST
@given(events(), MINUTES, st.sampled_from(list(PACES)))
def test_fitting_lands_within_the_tolerance_or_says_it_cannot(script_events, minutes, pace):
    try:
        plan = layout(script_events, PACES[pace], estimate_speech, minutes)
    except InvalidOption as error:
        assert error.option == "--minutes" and "cannot fit" in str(error)
        assert "\n" not in str(error)
        return
    target = minutes * 60
    assert abs(plan.duration - target) <= TOLERANCE * target * (1 + 1e-9)
    reachable = plan.shortest <= target <= plan.longest
    if reachable:  # inside the range, the length asked is met, not just nearly
        assert math.isclose(plan.duration, target, rel_tol=1e-9)


@FAST
@given(events(), st.sampled_from(list(PACES)), st.floats(0, 1))
def test_every_length_the_session_can_reach_is_reached(script_events, pace, fraction):
    free = layout(script_events, PACES[pace], estimate_speech)
    target = free.shortest + fraction * (free.longest - free.shortest)
    plan = layout(script_events, PACES[pace], estimate_speech, target / 60)
    assert math.isclose(plan.duration, target, rel_tol=1e-9)


@FAST
@given(events(), st.sampled_from(list(PACES)), st.booleans(),
       st.sampled_from([0.96, 0.9701, 0.9705, 0.9709, 0.971, 0.98]))
def test_lengths_just_outside_the_range_are_fitted_within_tolerance_or_refused(
    script_events, pace, low_side, factor
):
    """Near the edges: the nearest reachable length may be off by the tolerance of the
    length asked, no more (the check used to take it of the range: up to 3.09%)."""
    free = layout(script_events, PACES[pace], estimate_speech)
    target = free.shortest * factor if low_side else free.longest * (2 - factor)
    try:
        plan = layout(script_events, PACES[pace], estimate_speech, target / 60)
    except InvalidOption:
        return
    assert abs(plan.duration - target) <= TOLERANCE * target * (1 + 1e-9)
