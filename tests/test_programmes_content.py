"""The narration of the built-in programmes besides classic: tremor, seated, grounding,
spiral and cooldown.

Each is rendered at every level, pace and session length, with and without a name, and
parsed; no audio is made, so these tests are fast. They check the chapters, the safety
content every session must speak, what each programme is about, the tremor dose, the
script syntax of the narration, and the lengths the sessions can be fitted to.
"""

from __future__ import annotations

import itertools
import re

import pytest

from narration import as_spoken, chapters as _chapters, norm as _norm, spoken as _spoken
from tre_audio.narration import plan, programmes, render, script
from tre_audio.options import settings
from tre_audio.errors import InvalidOption

CHAPTERS = {
    "tremor": [
        "Arrival and safety",
        "Warm-up",
        "Butterfly and hip lift",
        "Tremor",
        "Rest",
        "Closing",
    ],
    "seated": [
        "Arrival and safety",
        "Settling in the chair",
        "Seated ankle rolls",
        "Seated heel raises",
        "Seated knee lifts",
        "Seated forward fold",
        "Pelvis rocking",
        "Seated tremor",
        "Rest",
        "Closing",
    ],
    "grounding": [
        "Arriving",
        "Feet on the floor",
        "Here and now",
        "Five senses",
        "Slow breathing",
        "Closing",
    ],
    "spiral": [
        "Arrival and safety",
        "Settling",
        "A mild memory",
        "Noticing the body",
        "The spiral",
        "Coming back",
        "A peaceful image",
        "Closing",
    ],
    "cooldown": [
        "Arrival",
        "Easing down",
        "Calf stretch",
        "Thigh stretch",
        "Hip stretch",
        "Forward fold",
        "Slow breathing",
        "Body check-in",
        "Running and you",
        "Closing",
    ],
}
PROGRAMMES = list(CHAPTERS)

# The chapter of each programme where the legs are invited to shake, and how long
# that may last at most, in minutes, for a level.
TREMOR_CHAPTERS = {
    "tremor": ("Tremor", lambda level: level.tremor_high),
    "seated": ("Seated tremor", lambda level: min(level.tremor_low, 3)),
}

NAME = "Ingrid"

CASES = list(
    itertools.product(PROGRAMMES, settings.LEVELS, settings.PACES, (False, True))
)


def _render(
    programme: str, level: str, pace: str, short: bool, listener: str = NAME,
    binaural: bool = False, minutes: float | None = None,
) -> list[script.Event]:
    if minutes is None and short:
        minutes = 20
    text = render.render(
        programme,
        pace=settings.pace(pace),
        level=settings.level(level),
        minutes=minutes,
        listener=listener,
        binaural=binaural,
    )
    return script.parse(text, source=f"{programme} {level} {pace} short={short}")


def _estimate(text: str) -> float:
    return len(text.split()) * 60 / 170


@pytest.fixture(
    params=CASES, ids=lambda c: f"{c[0]}-{c[1]}-{c[2]}-{'short' if c[3] else 'full'}"
)
def case(request):
    programme, level, pace, short = request.param
    return programme, level, pace, short, _render(programme, level, pace, short)


def test_every_programme_is_listed_with_a_one_line_summary():
    listed = programmes.programmes()
    assert set(listed) == {"classic", "breathing", *PROGRAMMES}
    for name, entry in listed.items():
        if name == "classic":  # the exercises in their order, framed
            assert entry.exercises and entry.template is None
            assert programmes.classic_order()[1:-1] == entry.exercises
        else:
            assert entry.template == f"{name}/session.j2"
        assert entry.summary and "\n" not in entry.summary
        assert len(entry.summary) <= 90, name


def test_chapters_in_order(case):
    programme, *_, events = case
    titles = [e.title for e in events if isinstance(e, script.Chapter)]
    assert titles == CHAPTERS[programme]
    assert isinstance(events[0], script.Chapter)
    assert isinstance(events[1], script.Bell)
    assert isinstance(events[-1], script.Bell), "the session ends with a bell"
    for title, part in _chapters(events).items():
        assert any(isinstance(e, script.Say) for e in part), f"{title} says nothing"


# Every session says these in its first chapter; checked in lower case.
OPENING = [
    "self-care",
    "not a treatment",
    "not crisis care",
    "stop at any time",
    "eyes open",
    "emergency number",
    "112",
    "911, 999, or 000",
    "findahelpline.com",
    "crisis lines for every country",
]
# ... and these in its last chapter.
CLOSING = [
    "emergency number",
    "112",
    "findahelpline.com",
    "go gently",
]
# Where pain or discomfort means changing position or stopping, per programme.
PAIN = {
    "tremor": "if something hurts, change your position or stop",
    "seated": "if something hurts, change your position or stop",
    "grounding": "if anything hurts, change your position or stop",
    "spiral": "uncomfortable at any point, change your position",
    "cooldown": "if something hurts, ease off or stop",
}

# Programme-specific phrases, per chapter; checked in lower case, whitespace collapsed.
CONTENT: dict[str, dict[str, list[str]]] = {
    "tremor": {
        "Arrival and safety": [
            "already know the exercises",
            "injury", "recent surgery", "pregnancy", "serious mental health condition",
            "clinician", "stopping early is a success",
            "the brake is knees together, feet flat",
            "the stop is legs out straight, roll to one side, and sit up",
            "blanket", "water", "silence your phone",
        ],
        "Warm-up": [
            "outer edge of your left foot", "ankle injury", "out of ten", "never pain",
            "shake out", "head and arms hang", "roll up slowly",
        ],
        "Butterfly and hip lift": [
            "on your back", "first three months", "do not lie flat", "butterfly",
            "lift your hips", "five centimetres", "quiver",
        ],
        "Tremor": [
            "feet flat", "natural and harmless", "less is more", "you are in control",
            "bring your knees together", "your brake",
            "straighten your legs", "roll onto one side", "sit up",
            "drink some water", "stand and walk", "stopping early is a success",
            "spaced out", "unreal", "far from your body", "numb", "losing time",
            "open your eyes", "name a few objects", "texture",
            "say your name, where you are, today's date, and that you are safe",
            "five things you see, four you can touch, three you hear, two you smell, "
            "and one you taste",
        ],
        "Rest": ["legs out straight", "roll slowly onto your side", "sitting", "water"],
        "Closing": [
            "twenty-four to thirty-six hours", "twitches", "soreness", "mood", "sleep",
            "dreams", "water", "quiet", "aftercare", "the tremor half as long",
        ],
    },
    "seated": {
        "Arrival and safety": [
            "chair", "it is not a treatment", "consult a doctor", "injury",
            "recent surgery", "three months", "pregnant, ask your provider",
            "serious mental health condition", "acute crisis",
            "psychosis, mania, or severe depression", "trained provider",
            "if you stop, that is a success", "carry on only while it feels safe",
            "up anxiety", "trusted person", "signs for taking a break", "aftercare",
            "not today", "sturdy chair without wheels", "against a wall",
            "cannot slide", "feet rest flat", "private space", "silence your phone",
        ],
        "Settling in the chair": ["feet on the floor", "around the room"],
        "Seated ankle rolls": ["outer edge of your left foot", "ankle injury"],
        "Seated heel raises": ["heels", "balls of your feet", "out of ten", "never pain"],
        "Seated knee lifts": [
            "left knee", "right leg", "press your left heel", "out of ten", "never pain",
        ],
        "Seated forward fold": [
            "fold slowly forward", "head and arms hang", "comfortable", "dizzy",
            "roll up slowly",
        ],
        "Pelvis rocking": ["rock your pelvis", "side to side", "stillness"],
        "Seated tremor": [
            "chair holds you", "feet flat on the floor", "knees a little apart",
            "quiver", "natural and harmless", "you are in control",
            "bring your knees together", "your brake", "stretch your legs out",
            "drink a little water", "stopping early is a success",
            "spaced out", "unreal", "far from your body", "numb", "losing time",
            "open your eyes", "texture",
            "say your name, where you are, today's date, and that you are safe",
            "five things you see, four you can touch, three you hear, two you smell, "
            "and one you taste",
        ],
        "Rest": ["knees together", "hands resting in your lap", "water"],
        "Closing": [
            "twenty-four to thirty-six hours", "twitches", "soreness", "mood", "sleep",
            "dreams", "water", "aftercare", "shorter next time", "hand on the chair",
        ],
    },
    "grounding": {
        "Arriving": ["spaced out", "into the room", "both feet on the floor"],
        "Feet on the floor": ["press your feet", "floor"],
        "Here and now": [
            "eyes open", "name a few objects", "texture", "say your name",
            "where you are", "today's date", "that you are safe",
        ],
        "Five senses": [
            "find five things you see, four you can touch, three you hear, two you "
            "smell, and one you taste",
            "five things you can see", "four things you can touch",
            "three things you can hear", "two things you can smell",
            "one thing you can taste", "imagined is fine",
        ],
        "Slow breathing": [
            "breath out be a little longer", "through your nose",
            "long breath out through your mouth", "feet on the floor",
        ],
        "Closing": ["still feel far away", "water", "clinician"],
    },
    "spiral": {
        "Arrival and safety": [
            "spiral technique", "it is not therapy", "mild memory only",
            "two or three out of ten", "never a trauma", "clinician",
            "serious mental health condition", "acute crisis",
            "to stop, open your eyes, press your feet into the floor, and name five "
            "things you can see",
            "if your distress rises", "with a clinician rather than alone",
            "keep your eyes open", "private", "silence your phone",
        ],
        "Settling": ["feet flat on the floor", "around the room"],
        "A mild memory": [
            "mildly unpleasant memory", "two or three out of ten",
            "choose something smaller", "or stop here",
            "rate how much distress you feel, from zero to ten",
            "remember your number", "above three",
        ],
        "Noticing the body": ["heartbeat", "stomach", "where the feeling sits"],
        "The spiral": [
            "spiral", "which way it turns", "how fast", "turn the spiral the other way",
            "simply watch it", "grows stronger at any point, stop",
            "open your eyes",
        ],
        "Coming back": [
            "let the spiral and the memory go", "look around the room",
            "how your body feels", "rate your distress again, from zero to ten",
            "first number", "if it went up", "clinician", "stillness",
        ],
        "A peaceful image": ["peaceful or loving image"],
        "Closing": ["water", "trusted person", "clinician"],
    },
    "cooldown": {
        "Arrival": [
            "your run", "injury", "recent surgery", "pregnancy", "clinician",
            "gentle pull, never pain", "eyes open", "wall",
        ],
        "Easing down": ["walk slowly", "feet on the ground"],
        "Calf stretch": ["left foot back", "heel down", "right foot back", "calf"],
        "Thigh stretch": ["right ankle", "left ankle", "knees side by side"],
        "Hip stretch": ["step forward", "front of your left hip", "left foot forward"],
        "Forward fold": ["head and arms hang", "comfortable", "roll up slowly"],
        "Slow breathing": ["through your nose", "count of five"],
        "Body check-in": [
            "feet and ankles", "hips and belly", "shoulders", "jaw", "sore or tight",
            "your mood",
        ],
        "Running and you": [
            "no judgement", "sense of control", "avoid feelings",
            "need to run whenever", "numb", "punish yourself", "widen your toolkit",
            "breathing", "yoga", "journal", "rest", "people you trust", "professional",
        ],
        "Closing": ["aftercare", "water", "rest"],
    },
}


def test_safety_content_in_every_render(case):
    programme, level, pace, short, events = case
    parts = _chapters(events)
    titles = CHAPTERS[programme]
    first, last = _norm(_spoken(parts[titles[0]])), _norm(_spoken(parts[titles[-1]]))
    missing = [f"opening: {p!r}" for p in OPENING if p not in first]
    missing += [f"closing: {p!r}" for p in CLOSING if p not in last]
    if PAIN[programme] not in _norm(_spoken(events)):
        missing.append(f"pain: {PAIN[programme]!r}")
    missing += [
        f"{title}: {phrase!r}"
        for title, phrases in CONTENT[programme].items()
        for phrase in phrases
        if phrase not in _norm(_spoken(parts[title]))
    ]
    assert not missing, "missing: " + "; ".join(missing)


@pytest.mark.parametrize("programme", ["tremor", "seated"])
def test_effort_follows_the_level(programme):
    words = {4: "four", 5: "five", 6: "six", 7: "seven"}
    for level in settings.LEVELS:
        target = words[settings.level(level).fatigue]
        spoken = _norm(_spoken(_render(programme, level, "gentle", False)))
        assert f"about {target} out of ten" in spoken


def test_the_spiral_rates_distress_before_and_after_and_ends_with_an_image():
    events = _render("spiral", "first-time", "gentle", False)
    spoken = _norm(_spoken(events))
    before = spoken.index("from zero to ten")
    spiral = spoken.index("turn the spiral the other way")
    after = spoken.index("from zero to ten", spiral)
    image = spoken.index("peaceful or loving image", after)
    assert spoken.index("two or three out of ten") < before < spiral < after < image


def test_grounding_counts_down_the_senses_in_order():
    spoken = _norm(_spoken(_chapters(_render("grounding", "first-time", "gentle", False))[
        "Five senses"
    ]))
    steps = [spoken.index(f"{n} thing") for n in ("five", "four", "three", "two", "one")]
    assert steps == sorted(steps)


def _seconds(hold: script.Hold, pace: settings.Pace, end: str) -> float:
    amount = hold.low if end == "low" else hold.high
    return amount * pace.breath if hold.unit == "breath" else amount


@pytest.mark.parametrize("programme", TREMOR_CHAPTERS)
@pytest.mark.parametrize("level_name", settings.LEVELS)
@pytest.mark.parametrize("pace_name", settings.PACES)
@pytest.mark.parametrize("short", (False, True))
def test_tremor_holds_follow_the_level(programme, level_name, pace_name, short):
    """At their longest, the tremor holds and the check-ins spoken between them stay
    within the level's maximum (capped lower for the seated programme); at their
    shortest the holds alone reach the level's minimum (half the cap when seated)."""
    level, pace = settings.level(level_name), settings.pace(pace_name)
    title, top = TREMOR_CHAPTERS[programme]
    most = top(level) * 60
    least = level.tremor_low * 60 if programme == "tremor" else most / 2
    events = _render(programme, level_name, pace_name, short)
    tremor = _chapters(events)[title]
    holds = [e for e in tremor if isinstance(e, script.Hold)]
    assert len(holds) >= 2, "the tremor time is split into several holds"
    assert all(h.unit == "s" and h.flexible for h in holds)
    assert sum(_seconds(h, pace, "high") for h in holds) <= most + 1e-9
    assert sum(_seconds(h, pace, "low") for h in holds) >= least - 1e-9

    # Fit the session to its longest length: every hold is then at its maximum. The
    # time from the first tremor hold to the end of the last, check-ins included,
    # stays within the maximum.
    longest = plan.layout(events, pace, _estimate).longest
    fitted = plan.layout(events, pace, _estimate, minutes=longest / 60)
    index = {id(e): i for i, e in enumerate(events)}
    start = fitted.timings[index[id(holds[0])]][0]
    end = sum(fitted.timings[index[id(holds[-1])]])
    assert end - start <= most + 1e-6, f"{end - start:.1f} s > {most:.0f} s"

    # Check-ins between the holds tell the listener that time is passing, and the
    # brake is repeated among them.
    first = tremor.index(holds[0])
    runs: list[list[script.Event]] = [[]]
    for event in tremor[first + 1:]:
        if isinstance(event, script.Hold):
            runs.append([])
        else:
            runs[-1].append(event)
    check_ins = [_norm(_spoken(run)) for run in runs[:-1]]
    assert all(check_ins), "every hold but the last is followed by a check-in"
    assert any("knees together" in c for c in check_ins)


def test_the_seated_dose_stays_well_below_the_floor_dose():
    for level_name in settings.LEVELS:
        level = settings.level(level_name)
        events = _render("seated", level_name, "slow", False)
        holds = [e for e in _chapters(events)["Seated tremor"] if isinstance(e, script.Hold)]
        assert sum(h.high for h in holds) <= min(level.tremor_low, 3) * 60


def test_no_hold_elsewhere_is_longer_than_five_minutes():
    for programme, level, pace, short in CASES:
        events = _render(programme, level, pace, short)
        for title, part in _chapters(events).items():
            for hold in (e for e in part if isinstance(e, script.Hold)):
                assert _seconds(hold, settings.pace(pace), "high") <= 300, title


def test_narration_has_no_cue_syntax_or_digits(case):
    *_, events = case
    for event in events:
        if isinstance(event, script.Say):
            assert not set(event.text) & set("[]#{}<>"), event.text
            assert not re.search(r"\d", as_spoken(event.text)), \
                f"spell numbers out, or say them in the shipped lexicon: {event.text}"
            assert re.search(r"[.!?][\"'\u201d\u2019]?$", event.text), (
                f"a sentence ends with . ! or ?: {event.text}"
            )


def test_name_used_one_to_three_times(case):
    *_, events = case
    assert 1 <= len(re.findall(rf"\b{NAME}\b", _spoken(events))) <= 3


@pytest.mark.parametrize("programme", PROGRAMMES)
@pytest.mark.parametrize("short", (False, True))
def test_without_a_name_the_sentences_still_read(programme, short):
    for level in settings.LEVELS:
        events = _render(programme, level, "gentle", short, listener="")
        spoken = _spoken(events)
        assert NAME not in spoken
        assert ", ." not in spoken and " ." not in spoken and ",." not in spoken
        assert ", ," not in spoken and ",," not in spoken
        first = next(e.text for e in events if isinstance(e, script.Say))
        assert first.startswith("Welcome") and not first.startswith("Welcome ,")


@pytest.mark.parametrize("programme", PROGRAMMES)
def test_name_with_cue_characters_cannot_break_the_script(programme):
    events = _render(programme, "first-time", "gentle", False, listener="[bell] #Sam")
    first = next(e.text for e in events if isinstance(e, script.Say))
    assert first.startswith("Welcome, bell Sam")


@pytest.mark.parametrize("programme", PROGRAMMES)
def test_headphones_are_mentioned_once_early_with_a_binaural_tone(programme):
    title = CHAPTERS[programme][0]
    with_tone = _render(programme, "first-time", "gentle", False, binaural=True)
    assert _norm(_spoken(with_tone)).count("headphones") == 1
    assert "headphones" in _norm(_spoken(_chapters(with_tone)[title]))
    without = _render(programme, "first-time", "gentle", False, binaural=False)
    assert "headphones" not in _norm(_spoken(without))


@pytest.mark.parametrize("programme", PROGRAMMES)
def test_short_render_is_shorter_and_keeps_safety(programme):
    for level in settings.LEVELS:
        full = _spoken(_render(programme, level, "gentle", False)).split()
        brief = _spoken(_render(programme, level, "gentle", True)).split()
        assert len(brief) < len(full)


# Natural length at the gentle pace (minutes, with no --minutes), and lengths that
# --minutes must reach at every level.
NATURAL = {
    "tremor": (18, 34),
    "seated": (20, 30),
    "grounding": (8, 12),
    "spiral": (10, 16),
    "cooldown": (12, 20),
}
REACHABLE = {
    "tremor": (20, 25),
    "seated": (15, 20, 25),
    "grounding": (8, 10, 12),
    "spiral": (10, 12, 15),
    "cooldown": (12, 15, 20),
}


def _range(programme: str, level: str, short: bool, pace: str = "gentle"):
    events = _render(programme, level, pace, short)
    return plan.layout(events, settings.pace(pace), _estimate)


@pytest.mark.parametrize("programme", PROGRAMMES)
def test_plausible_lengths_at_gentle_pace(programme):
    low, high = NATURAL[programme]
    for level in settings.LEVELS:
        natural = _range(programme, level, False)
        brief = _range(programme, level, True)
        print(
            f"{programme} {level}: natural {natural.duration / 60:.1f} min "
            f"(fits {natural.shortest / 60:.1f}-{natural.longest / 60:.1f}); "
            f"short wording fits {brief.shortest / 60:.1f}-{brief.longest / 60:.1f}"
        )
        assert low <= natural.duration / 60 <= high, level
        assert natural.shortest < natural.duration < natural.longest
        assert natural.longest - natural.shortest >= 0.25 * natural.duration, (
            "enough flexible holds to stretch or shrink the session"
        )


@pytest.mark.parametrize("programme", PROGRAMMES)
@pytest.mark.parametrize("level", settings.LEVELS)
def test_minutes_can_be_reached(programme, level):
    wanted = list(REACHABLE[programme])
    if programme == "tremor" and settings.level(level).tremor_high <= 6:
        wanted.insert(0, 15)
    pace = settings.pace("gentle")
    for minutes in wanted:
        events = _render(programme, level, "gentle", False, minutes=minutes)
        fitted = plan.layout(events, pace, _estimate, minutes=minutes)
        assert abs(fitted.duration / 60 - minutes) <= minutes * plan.TOLERANCE + 1e-6


@pytest.mark.parametrize("programme", PROGRAMMES)
def test_far_out_lengths_are_refused(programme):
    events = _render(programme, "first-time", "gentle", True, minutes=3)
    with pytest.raises(InvalidOption):
        plan.layout(events, settings.pace("gentle"), _estimate, minutes=3)


# What each programme takes: a choice is applied, or refused, never ignored ------------

def _script(given):
    from tre_audio import session
    from tre_audio.choices import layers, profile

    return session.script_text(layers.options(given, profile=profile.Profile()))


@pytest.mark.parametrize("name", list(programmes.programmes()))
def test_a_tremor_time_is_applied_where_there_is_a_tremor_phase_and_refused_elsewhere(name):
    entry = programmes.programmes()[name]
    if "tremor" not in entry.takes:
        with pytest.raises(InvalidOption, match="has no tremor phase"):
            _script({"programme": name, "tremor": 2.0})
        return
    most = entry.tremor_most or settings.LEVELS["regular"].tremor_high
    low = _script({"programme": name, "level": "regular", "tremor": 2.0})
    high = _script({"programme": name, "level": "regular", "tremor": float(most)})
    assert low != high
    with pytest.raises(InvalidOption, match=f"1 to {most:g} minutes"):
        _script({"programme": name, "level": "regular", "tremor": most + 0.5})


@pytest.mark.parametrize("name", list(programmes.programmes()))
def test_a_breathing_pattern_is_applied_only_by_the_programme_that_paces_one(name):
    if "pattern" not in programmes.programmes()[name].takes:
        with pytest.raises(InvalidOption, match="only the breathing programme"):
            _script({"programme": name, "pattern": "sigh"})
        return
    assert _script({"programme": name, "pattern": "box"}) != \
        _script({"programme": name, "pattern": "sigh"})


def test_exercise_settings_are_refused_where_the_exercise_is_not_in_the_session():
    assert _script({"programme": "classic", "tune": {"calves": {"hold": 45}}}) != \
        _script({"programme": "classic"})
    with pytest.raises(InvalidOption, match="'calves' is not in programme 'seated'"):
        _script({"programme": "seated", "tune": {"calves": {"hold": 45}}})
    with pytest.raises(InvalidOption, match="'calves' is not in your list of exercises"):
        _script({"exercises": ["ankles"], "tune": {"calves": {"hold": 45}}})
    with pytest.raises(InvalidOption, match="your list of exercises: it has no tremor"):
        _script({"exercises": ["ankles", "rest"], "tremor": 2.0})


def test_a_length_out_of_reach_names_one_range_whichever_side_it_misses():
    # the shorter lead-ins reach further down, the full ones further up: one range
    from tre_audio.narration.plan import reaches

    messages = []
    for minutes in (10.0, 60.0):
        with pytest.raises(InvalidOption) as error:
            _script({"programme": "classic", "minutes": minutes})
        messages.append(str(error.value).split("can last ")[1])
    assert messages[0] == messages[1]
    low, high = (float(n) for n in messages[0].removesuffix(" minutes").split(" to "))
    for minutes in (low, (low + high) / 2, high, 28.0, 29.0):
        assert "tre-audio narration script" in _script({"programme": "classic",
                                                        "minutes": minutes})
    assert not reaches(10 * 60, low * 60, high * 60)
    with pytest.raises(InvalidOption, match=r"the first-time level, with 3 minutes of "
                       r"tremor and the body limits ankles/knees, can last [\d.]+ to "):
        _script({"programme": "classic", "minutes": 5.0, "tremor": 3.0,
                 "limits": frozenset({"knees", "ankles"})})


def test_the_full_lead_ins_are_used_wherever_they_fit():
    def words(text):  # the sentences, without the timings
        return [line for line in text.splitlines() if line and line[0] not in "#["]

    natural = words(_script({"programme": "classic"}))
    assert words(_script({"programme": "classic", "minutes": 29.0})) == natural
    assert words(_script({"programme": "classic", "minutes": 20.0})) != natural


@pytest.mark.parametrize("name", list(programmes.programmes()))
def test_a_level_is_refused_by_a_programme_that_is_the_same_at_every_level(name):
    """'level' is among what a programme takes exactly when its words or holds change
    with the level; the option's help names the ones it does not change."""
    from tre_audio.choices import layers, profile
    from tre_audio.options import table

    renderings = {tuple(_render(name, level, "gentle", False)) for level in settings.LEVELS}
    takes = "level" in programmes.programmes()[name].takes
    assert takes == (len(renderings) > 1)
    help_text = table.BY_KEY["level"].help
    assert (f"`{name}`" in help_text.split("refused by")[1]) != takes
    if not takes:
        with pytest.raises(InvalidOption, match=f"--level is not taken by programme '{name}'"):
            layers.options({"programme": name, "level": "regular"}, profile=profile.Profile())
    else:
        layers.options({"programme": name, "level": "regular"}, profile=profile.Profile())
    # a profile's level is general: it does not stop any programme
    layers.options({"programme": name}, profile=profile.Profile(level="regular"))
