"""The next session's dose from the check-ins before it: the rules as properties over any
history (hypothesis, derandomised: the same examples every run), and the cases the issue
names."""

from __future__ import annotations

from hypothesis import given, settings, strategies as st

from tre_audio.options.settings import LEVELS
from tre_audio.practice.dose import LEAST, STEP, Dose, Outcome, next_dose

SAME_EVERY_RUN = settings(derandomize=True, database=None, max_examples=400, deadline=None)

RATING = st.none() | st.integers(0, 10)
OUTCOME = st.builds(Outcome, tremor=st.floats(1, 15).map(lambda m: round(m * 2) / 2)
                    | st.floats(0.01, 30),  # and what a crafted timeline might say
                    checked=st.booleans(), before=RATING, after=RATING,
                    felt=st.none() | st.sampled_from(["too-much", "about-right", "more"]),
                    spaced_out=st.booleans())
LEVEL = st.sampled_from(sorted(LEVELS))
PLANNED = st.floats(0.5, 20).map(lambda m: round(m * 2) / 2)


@SAME_EVERY_RUN
@given(LEVEL, st.lists(OUTCOME, max_size=8), PLANNED, st.none() | PLANNED)
def test_any_history_gives_a_dose_from_1_minute_to_the_level_s_highest(level, history,
                                                                      planned, chosen):
    dose = next_dose(LEVELS[level], history, planned, chosen)
    assert LEAST <= dose.tremor <= LEVELS[level].tremor_high


@SAME_EVERY_RUN
@given(LEVEL, st.lists(OUTCOME, max_size=8), PLANNED)
def test_after_a_hard_session_the_dose_is_at_most_half_and_never_rises(level, history,
                                                                      planned):
    hard = Outcome(tremor=history[-1].tremor if history else 4.0, checked=True,
                   felt="too-much")
    dose = next_dose(LEVELS[level], [*history, hard], planned)
    assert dose.rule == "halved"
    assert dose.tremor <= max(LEAST, hard.tremor / 2) and dose.tremor <= max(LEAST, planned)
    assert dose.said.startswith("Last time the shaking felt like a lot")


@SAME_EVERY_RUN
@given(LEVEL, st.lists(OUTCOME, max_size=8), PLANNED)
def test_the_dose_never_rises_more_than_half_a_minute_past_the_last(level, history,
                                                                   planned):
    dose = next_dose(LEVELS[level], history, planned)
    if history and history[-1].checked:
        assert dose.tremor <= max(history[-1].tremor + STEP, LEAST)
        if dose.tremor > max(history[-1].tremor, LEAST):  # (the floor lifts a crafted 0.5)
            assert dose.rule == "raised" and history[-1].good and history[-2].good
    assert dose.tremor <= max(planned, LEAST)  # the history never goes past the plan


def test_the_cases_the_issue_names():
    beginner = LEVELS["beginner"]  # 5-10 minutes
    good = Outcome(6.0, checked=True, before=5, after=3, felt="about-right")
    # nothing known yet: the plan stands
    assert next_dose(beginner, [], 8.0) == Dose(8.0, "planned")
    assert next_dose(beginner, [Outcome(6.0)], 8.0) == Dose(8.0, "planned")
    # one good session: held; two in a row: half a minute more, no further than planned
    assert next_dose(beginner, [good], 8.0) == Dose(6.0, "kept")
    assert next_dose(beginner, [good, good], 8.0).tremor == 6.5
    assert next_dose(beginner, [good, good], 6.2).tremor == 6.2
    # distress rose: halved, even below the level's lowest; spaced out: grounding first
    rose = Outcome(6.0, checked=True, before=3, after=6, felt="about-right")
    assert next_dose(beginner, [good, rose], 8.0).tremor == 3.0
    assert "tension rose" in next_dose(beginner, [rose], 8.0).said
    spaced = next_dose(beginner, [Outcome(1.5, checked=True, spaced_out=True)], 8.0)
    assert spaced.tremor == LEAST and spaced.grounding_first and "grounding" in spaced.said
    # a tremor chosen for this session wins, inside the level's limits
    assert next_dose(beginner, [rose], 8.0, chosen=9.0) == Dose(9.0, "chosen")
    assert next_dose(beginner, [], 8.0, chosen=14.0).tremor == 10.0
