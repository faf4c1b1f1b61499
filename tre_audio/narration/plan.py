"""Lay a parsed script out in time, and fit its flexible holds to a length."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ..errors import InvalidOption, ScriptError
from .script import Bell, Breathe, Chapter, Event, Hold, Pause, Say
from ..options.settings import MAX_MINUTES, VOICE_WPM, Pace

LEAD_IN = 3.0
"""Seconds of ambient sound before the first bell."""
TAIL = 8.0
"""Seconds after the last word for the closing bell to ring out and the bed to fade."""
BELL_SECONDS = 3.5
"""Time a bell takes on the timeline; its tail rings on under what follows."""
TOLERANCE = 0.03
"""How far a fitted session may land from the length asked for."""
SETTLE_SLOWER = 0.08
SETTLE_SOFTER_DB = 2.5
"""At its deepest (the chapter with the most hold time: the tremor phase) the narration
is this much slower and softer, eased in from the start and undone for the last
chapter: a voice that grows slower and quieter relaxes muscles more (Knowlton and
Larkin 2006)."""
CHIME_RING = 4.0
"""An interval chime is not rung closer than this to the end of its hold."""


@dataclass(frozen=True)
class Segment:
    """One stretch of the timeline. ``kind`` is speech, gap, pause, hold, bell or
    breathe (a phase of paced breathing: ``phase`` is in, hold or out)."""

    kind: str
    start: float
    duration: float
    chapter: int
    text: str = ""
    level: float = 0.0
    """dB applied to speech: the voice settles over the session."""
    phase: str = ""
    """For breathe segments: in, hold or out."""

    @property
    def end(self) -> float:
        return self.start + self.duration


@dataclass(frozen=True)
class ChapterMark:
    title: str
    start: float
    end: float
    tremor: bool = False
    """The chapter of the shaking phase (``[chapter tremor: ...]``)."""


@dataclass(frozen=True)
class Plan:
    segments: tuple[Segment, ...]
    chapters: tuple[ChapterMark, ...]
    duration: float
    shortest: float
    longest: float
    """The range of lengths the flexible holds could reach."""
    timings: tuple[tuple[float, float], ...]
    """Start and length of each script event, in the script's order."""
    chimes: tuple[float, ...] = ()
    """Times of the soft interval chimes rung during long holds."""

    @property
    def tremor_minutes(self) -> float | None:
        """The shaking phase's holds, in minutes (None: no chapter is marked as it)."""
        marked = [i for i, chapter in enumerate(self.chapters) if chapter.tremor]
        if not marked:
            return None
        return sum(s.duration for s in self.segments
                   if s.kind == "hold" and s.chapter == marked[0]) / 60


SPEECH_ESTIMATE = (0.38, 0.0622, 0.41)
"""Seconds a sentence takes, spoken at ``ESTIMATED_AT_WPM``, for each of its
``speech_features``: so much, and so much for each character and each comma, colon or
semicolon (a pause). Fitted on the 556 sentences of
the built-in programmes as both engines speak them (``scripts/speech_estimate.py``): the
error is 0.36 s a sentence with Piper and 0.28 s with espeak-ng, against 0.90 and 0.74 s
for words alone at that rate, which fell 13% and 11% short in all (the sentences the
voice's rate is calibrated on have no commas)."""


ESTIMATED_AT_WPM = 170.0
"""The voice's rate when ``SPEECH_ESTIMATE`` was fitted; the estimate scales with it."""


def speech_features(text: str) -> tuple[float, float, float]:
    """What a sentence's speech time is estimated from: one, its characters, its pauses."""
    return 1.0, float(len(text)), float(sum(text.count(mark) for mark in ",;:"))


def estimate_speech(text: str) -> float:
    """Seconds a sentence is expected to take at the voice's speaking rate."""
    seconds = sum(c * f for c, f in zip(SPEECH_ESTIMATE, speech_features(text)))
    return seconds * ESTIMATED_AT_WPM / VOICE_WPM


def minutes_text(minutes: float) -> str:
    """``1 minute``, ``2.5 minutes``."""
    return f"{minutes:g} minute" + ("" if minutes == 1 else "s")


def span_text(low: float, high: float) -> str:
    """``18.3 to 47.0 minutes``, or ``about 0.3 minutes`` where the two read the same."""
    if f"{low:.1f}" == f"{high:.1f}":
        return f"only about {low:.1f} minutes"
    return f"{low:.1f} to {high:.1f} minutes"


def sentence_slot(text: str, speech: float, pace: Pace, depth: float = 0.0) -> float:
    """Seconds a sentence and the gap after it take at the pace's narration rate,
    slowed by ``depth`` (0-1) of the settling."""
    slot = max(len(text.split()) * 60.0 / pace.wpm, speech + pace.min_gap)
    return slot / (1 - SETTLE_SLOWER * depth)


def settling(events: Sequence[Event]) -> list[float]:
    """How far the voice has settled (0-1) in each chapter."""
    held: list[float] = []
    for event in events:
        if isinstance(event, Chapter):
            held.append(0.0)
        elif isinstance(event, Hold) and held:
            held[-1] += event.low + event.high
        elif isinstance(event, Breathe) and held:  # paced breathing is a deep stretch
            held[-1] += 2 * event.seconds
    if len(held) < 3 or max(held) == 0:  # settling needs an arrival, a depth, a return
        return [0.0] * len(held)
    deepest = held.index(max(held))
    depth = [min(1.0, i / deepest) if deepest else 1.0 for i in range(len(held))]
    if deepest < len(held) - 1:
        depth[-1] = 0.0
    return depth


def _seconds(amount: float, unit: str, pace: Pace) -> float:
    return amount * pace.breath if unit == "breath" else amount


def hold_range(hold: Hold, pace: Pace) -> tuple[float, float]:
    """The seconds a hold may last; the script's range is never left."""
    return _seconds(hold.low, hold.unit, pace), _seconds(hold.high, hold.unit, pace)


def default_hold(hold: Hold, pace: Pace) -> float:
    """A hold's length when no session length is asked for."""
    low, high = hold_range(hold, pace)
    return min(high, max(low, (low + high) / 2 * pace.hold_scale))


def layout(
    events: Sequence[Event],
    pace: Pace,
    speech_seconds: Callable[[str], float],
    minutes: float | None = None,
    interval_bell: float | None = None,
) -> Plan:
    """Place every event on the timeline, fitting holds to ``minutes`` if given, with an
    interval chime every ``interval_bell`` seconds inside longer holds."""
    depths = settling(events)
    depth_of = _chapter_depths(events, depths)
    holds = [e for e in events if isinstance(e, Hold)]
    ranges = [hold_range(h, pace) for h in holds]
    fixed = LEAD_IN + TAIL + sum(
        _fixed_seconds(e, pace, speech_seconds, depth)
        for e, depth in zip(events, depth_of) if not isinstance(e, Hold)
    )
    shortest = fixed + sum(low for low, _ in ranges)
    longest = fixed + sum(high for _, high in ranges)

    if minutes is None:
        lengths = [default_hold(h, pace) for h in holds]
        _check_length(fixed + sum(lengths), shortest)
    else:
        lengths = _fit(minutes * 60.0, shortest, longest, ranges, pace)

    segments: list[Segment] = []
    marks: list[tuple[str, float, bool]] = []
    timings: list[tuple[float, float]] = []
    chimes: list[float] = []
    clock = LEAD_IN
    hold_lengths = iter(lengths)
    for event, depth in zip(events, depth_of):
        chapter = len(marks) - 1
        began = clock
        match event:
            case Chapter(title=title, tremor=tremor):
                began = 0.0 if not marks else clock  # the first chapter holds the lead-in
                marks.append((title, began, tremor))
            case Say(text=text):
                speech = speech_seconds(text)
                slot = sentence_slot(text, speech, pace, depth)
                level = -SETTLE_SOFTER_DB * depth
                segments.append(Segment("speech", clock, speech, chapter, text, level))
                segments.append(Segment("gap", clock + speech, slot - speech, chapter))
                clock += slot
            case Bell():
                segments.append(Segment("bell", clock, BELL_SECONDS, chapter))
                clock += BELL_SECONDS
            case Pause():
                seconds = _fixed_seconds(event, pace, speech_seconds, depth)
                segments.append(Segment("pause", clock, seconds, chapter))
                clock += seconds
            case Breathe(phase=phase, seconds=seconds, counts=counts):
                # exact: neither the pace nor fitting to a length changes a breath count
                segments.append(Segment("breathe", clock, seconds, chapter, phase=phase))
                level = -SETTLE_SOFTER_DB * depth
                for k, word in enumerate(counts):  # each word on its beat, over the tone
                    at = clock + k * seconds / len(counts)
                    segments.append(
                        Segment("speech", at, speech_seconds(word), chapter, word, level)
                    )
                clock += seconds
            case Hold():
                seconds = next(hold_lengths)
                segments.append(Segment("hold", clock, seconds, chapter))
                if interval_bell:
                    chimes += _chimes(clock, seconds, interval_bell)
                clock += seconds
        timings.append((began, clock - began))
    duration = clock + TAIL
    ends = [start for _, start, _ in marks[1:]] + [duration]
    chapters = tuple(
        ChapterMark(title, start, end, tremor)
        for (title, start, tremor), end in zip(marks, ends)
    )
    return Plan(tuple(segments), chapters, duration, shortest, longest, tuple(timings),
                tuple(chimes))


def _check_length(natural: float, shortest: float) -> None:
    """Refuse a session longer than ``MAX_MINUTES``, as ``--minutes`` is (so that no
    script or template sets hours of work going)."""
    if natural <= MAX_MINUTES * 60:
        return
    if shortest > MAX_MINUTES * 60:
        raise ScriptError(f"this session would last at least {shortest / 60:,.0f} minutes; "
                          f"a session may last at most {MAX_MINUTES}: shorten its holds "
                          "and pauses")
    raise ScriptError(f"this session would last {natural / 60:,.0f} minutes; a session may "
                      f"last at most {MAX_MINUTES}: give --minutes {MAX_MINUTES} or less "
                      "to fit it")


def _chapter_depths(events: Sequence[Event], depths: Sequence[float]) -> list[float]:
    """The settling depth of each event's chapter."""
    chapter = -1
    out = []
    for event in events:
        if isinstance(event, Chapter):
            chapter += 1
        out.append(depths[chapter] if chapter >= 0 else 0.0)
    return out


def _chimes(start: float, seconds: float, every: float) -> list[float]:
    count = int((seconds - CHIME_RING) // every)
    return [start + every * k for k in range(1, count + 1)]


def _fixed_seconds(
    event: Event, pace: Pace, speech_seconds: Callable[[str], float], depth: float = 0.0
) -> float:
    match event:
        case Say(text=text):
            return sentence_slot(text, speech_seconds(text), pace, depth)
        case Bell():
            return BELL_SECONDS
        case Pause(amount=amount, unit=unit):
            return _seconds(amount, unit, pace) * pace.pause_scale
        case Breathe(seconds=seconds):
            return seconds
    return 0.0


def reaches(target: float, shortest: float, longest: float) -> bool:
    """Whether a session whose holds reach ``shortest`` to ``longest`` seconds can be
    fitted to ``target`` seconds, within the tolerance of the target (not of the range):
    the nearest length reachable may be off by ``TOLERANCE`` of what was asked, no more."""
    return shortest / (1 + TOLERANCE) <= target <= longest / (1 - TOLERANCE)


def _fit(
    target: float,
    shortest: float,
    longest: float,
    ranges: Sequence[tuple[float, float]],
    pace: Pace,
) -> list[float]:
    """Hold lengths that bring the session to ``target`` seconds.

    Every flexible hold moves the same fraction of the way through its own range, so
    short holds stay short and the tremor phase stays within its limits.
    """
    if not reaches(target, shortest, longest):
        raise InvalidOption(
            "--minutes",
            f"cannot fit {minutes_text(target / 60)} at the {pace.name} pace: this session "
            f"can last {span_text(shortest / 60, longest / 60)}",
        )
    spare = longest - shortest
    fraction = 0.0 if spare <= 0 else min(1.0, max(0.0, (target - shortest) / spare))
    return [low + fraction * (high - low) for low, high in ranges]
