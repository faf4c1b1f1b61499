"""Subtitles and the JSON timeline written beside each session."""

from __future__ import annotations

import html
import json
import re
from dataclasses import replace

import pytest

from tre_audio.narration.plan import ChapterMark, Plan, Segment, layout
from tre_audio.narration.script import parse
from tre_audio.options.settings import PACES
from tre_audio.beside.timedtext import manifest, srt, webvtt, wrap

SCRIPT = """\
[chapter: Arrival]
[bell]
Welcome. Find a quiet place where you will not be disturbed for a while.
Lie down on your back with your knees bent and your feet flat on the floor, about hip width apart.
[pause 2 breaths]
[chapter: Tremor]
Let the legs shake.
[hold 1-3 min]
Rest now.
"""

LONG = (
    "Lie down on your back with your knees bent and your feet flat on the floor, "
    "about hip width apart."
)


def words_seconds(text: str) -> float:
    return len(text.split()) * 60 / 170


@pytest.fixture
def plan() -> Plan:
    return layout(parse(SCRIPT), PACES["gentle"], words_seconds)


def speech(plan: Plan) -> list[Segment]:
    return [s for s in plan.segments if s.kind == "speech"]


def one_chapter(*segments: Segment, duration: float) -> Plan:
    return Plan(
        segments, (ChapterMark("Only", 0.0, duration),), duration, duration, duration, ()
    )


_TIME = r"(\d{2,}):([0-5]\d):([0-5]\d)[.,](\d{3})"


def _seconds(groups: tuple[str, ...]) -> float:
    hours, minutes, seconds, millis = map(int, groups)
    return hours * 3600 + minutes * 60 + seconds + millis / 1000


def parse_vtt(text: str) -> list[tuple[float, float, list[str]]]:
    """Cues of a WebVTT file: (start, end, lines), checking its structure on the way."""
    timing = re.compile(rf"^{_TIME.replace('[.,]', '[.]')} --> {_TIME.replace('[.,]', '[.]')}$")
    assert text.endswith("\n") and "\r" not in text
    blocks = text.rstrip("\n").split("\n\n")
    assert blocks[0] == "WEBVTT"
    cues = []
    for block in blocks[1:]:
        lines = block.split("\n")
        assert "" not in lines
        if lines[0].startswith("NOTE"):
            assert "-->" not in block
            continue
        match = timing.match(lines[0])
        assert match, lines[0]
        assert all("-->" not in line and not re.search(r"<|&(?!amp;|lt;|gt;)", line)
                   for line in lines[1:])
        cues.append((
            _seconds(match.groups()[:4]),
            _seconds(match.groups()[4:]),
            [html.unescape(line) for line in lines[1:]],
        ))
    return cues


def parse_srt(text: str) -> list[tuple[float, float, list[str]]]:
    """Cues of an SRT file: (start, end, lines), checking the numbering on the way."""
    timing = re.compile(rf"^{_TIME.replace('[.,]', ',')} --> {_TIME.replace('[.,]', ',')}$")
    cues = []
    for number, block in enumerate(text.rstrip("\n").split("\n\n"), start=1):
        lines = block.split("\n")
        assert lines[0] == str(number)
        match = timing.match(lines[1])
        assert match, lines[1]
        assert len(lines) > 2 and "" not in lines
        cues.append((_seconds(match.groups()[:4]), _seconds(match.groups()[4:]), lines[2:]))
    return cues


PARSERS = {"vtt": (webvtt, parse_vtt), "srt": (srt, parse_srt)}


@pytest.mark.parametrize("form", PARSERS)
def test_one_cue_per_sentence_at_the_sentences_own_times(plan, form):
    write, read = PARSERS[form]
    cues = read(write(plan))
    spoken = speech(plan)
    assert len(cues) == len(spoken) == 5
    for (start, end, lines), segment in zip(cues, spoken):
        assert start == pytest.approx(segment.start, abs=0.001)
        assert end == pytest.approx(segment.end, abs=0.001)
        assert " ".join(lines) == segment.text


@pytest.mark.parametrize("form", PARSERS)
def test_cues_run_in_time_order_without_overlapping(plan, form):
    write, read = PARSERS[form]
    cues = read(write(plan))
    for (start, end, _), (next_start, _, _) in zip(cues, cues[1:]):
        assert start < end <= next_start


def test_times_past_an_hour_are_exact():
    plan = one_chapter(Segment("speech", 3723.456, 1.544, 0, "Still here."), duration=3730)
    assert "01:02:03.456 --> 01:02:05.000" in webvtt(plan)
    assert "01:02:03,456 --> 01:02:05,000" in srt(plan)


def test_times_are_rounded_once_without_float_drift():
    plan = one_chapter(
        Segment("speech", 0.1 + 0.2, 59.9996 - (0.1 + 0.2), 0, "Carry the minute."),
        duration=61,
    )
    assert "00:00:00.300 --> 00:01:00.000" in webvtt(plan)


def test_long_sentences_wrap_on_two_lines_keeping_every_word(plan):
    lines = wrap(LONG)
    assert len(lines) == 2 and len(LONG) > 80
    assert " ".join(lines) == LONG
    assert abs(len(lines[0]) - len(lines[1])) < 12
    assert wrap("Rest now.") == ["Rest now."]
    assert wrap("x" * 100) == ["x" * 100]
    long_cue = [c for c in parse_vtt(webvtt(plan)) if " ".join(c[2]) == LONG]
    assert len(long_cue) == 1 and len(long_cue[0][2]) == 2


def test_vtt_notes_where_each_chapter_begins(plan):
    notes = [line for line in webvtt(plan).splitlines() if line.startswith("NOTE")]
    assert notes == ["NOTE 1. Arrival", "NOTE 2. Tremor"]


def test_unicode_markup_and_empty_sentences_survive():
    sentences = ["Café, naïve – fine.", "", "Tom & Jerry <b>sway</b> --> on."]
    segments = tuple(Segment("speech", i * 5.0, 3.0, 0, t) for i, t in enumerate(sentences))
    plan = one_chapter(*segments, Segment("interval-bell", 20.0, 1.0, 0), duration=25)
    # a blank sentence has no cue; VTT escapes markup, SRT cannot hold "-->" in text
    arrow = {"vtt": "-->", "srt": "->"}
    for form, (write, read) in PARSERS.items():
        cues = read(write(plan))
        texts = [" ".join(lines) for _, _, lines in cues]
        assert texts == ["Café, naïve – fine.", f"Tom & Jerry <b>sway</b> {arrow[form]} on."]
        assert [start for start, _, _ in cues] == [0.0, 10.0]
    timeline = json.loads(manifest(plan, title="Café", audio="café.mp3"))
    assert [s.get("text") for s in timeline["segments"]] == [*sentences, None]
    assert "Café, naïve" in manifest(plan, title="t", audio="a.mp3")  # not \u-escaped


def test_an_empty_plan_gives_empty_but_valid_subtitles():
    plan = one_chapter(duration=10)
    assert parse_vtt(webvtt(plan)) == []
    assert srt(plan) == ""


def test_the_manifest_carries_the_plans_timeline(plan):
    plan = replace(plan, chimes=(60.0 + 1 / 3, 90.0))
    extra = {"pace": "gentle", "level": "first-time", "loudness": -18.0}
    text = manifest(plan, title="Classic", audio="classic.mp3", extra=extra)
    timeline = json.loads(text)
    assert text.endswith("\n") and text.startswith('{\n  "format"')
    assert timeline["format"] == "tre-audio manifest 2"
    assert (timeline["title"], timeline["audio"]) == ("Classic", "classic.mp3")
    assert timeline["duration"] == round(plan.duration, 3)
    assert {k: timeline[k] for k in extra} == extra
    assert timeline["chapters"] == [
        {"index": i, "title": c.title, "start": round(c.start, 3), "end": round(c.end, 3)}
        for i, c in enumerate(plan.chapters)
    ]
    assert len(timeline["segments"]) == len(plan.segments)
    for row, segment in zip(timeline["segments"], plan.segments):
        assert row["kind"] == segment.kind
        assert row["start"] == pytest.approx(segment.start, abs=0.0005)
        assert row["end"] == pytest.approx(segment.end, abs=0.0005)
        assert row["chapter"] == plan.chapters[segment.chapter].title
        assert row.get("text") == (segment.text if segment.kind == "speech" else None)
    assert timeline["chimes"] == [60.333, 90.0]


def test_extra_keys_may_not_replace_the_manifests_own(plan):
    with pytest.raises(ValueError, match="duration, segments"):
        manifest(plan, title="t", audio="a.mp3", extra={"segments": [], "duration": 1})
