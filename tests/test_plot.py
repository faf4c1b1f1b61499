"""The session drawn as an SVG timeline."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from dataclasses import replace

import pytest

from tre_audio.narration.plan import ChapterMark, Plan, Segment, layout
from tre_audio.beside.plot import LEFT, RIGHT, svg
from tre_audio.narration.render import render
from tre_audio.narration.script import parse
from tre_audio.options.settings import level, pace

NS = "{http://www.w3.org/2000/svg}"
LANE_LABELS = {"voice", "pauses", "holds", "bells"}


def words_seconds(text: str) -> float:
    return len(text.split()) * 60 / 170


@pytest.fixture(scope="module")
def classic() -> Plan:
    """The classic programme at the gentle pace: 12 chapters, about 40 minutes."""
    gentle = pace("gentle")
    script = render("classic", pace=gentle, level=level("first-time"), minutes=None)
    return layout(parse(script), gentle, words_seconds)


def ducked_bed(plan: Plan, step: float = 0.1) -> list[tuple[float, float]]:
    """A bed at -30 dBFS that dips to -42 dBFS while the voice speaks."""
    spoken = [(s.start, s.end) for s in plan.segments if s.kind == "speech"]
    points, index = [], 0
    for n in range(int(plan.duration / step) + 1):
        t = n * step
        while index < len(spoken) and spoken[index][1] < t:
            index += 1
        speaking = index < len(spoken) and spoken[index][0] <= t
        points.append((t, -42.0 if speaking else -30.0))
    return points


def draw(plan: Plan, **options) -> ET.Element:
    return ET.fromstring(svg(plan, **{"title": "Classic", **options}))


def texts(root: ET.Element, cls: str | None = None) -> list[str]:
    return [
        "".join(t.itertext())
        for t in root.iter(f"{NS}text")
        if cls is None or t.get("class") == cls
    ]


def of_class(root: ET.Element, tag: str, cls: str) -> list[ET.Element]:
    return [e for e in root.iter(f"{NS}{tag}") if e.get("class") == cls]


def count(plan: Plan, kind: str) -> int:
    return sum(s.kind == kind for s in plan.segments)


def minutes_plan(minutes: float, chapters: int = 3) -> Plan:
    length = minutes * 60 / chapters
    marks = tuple(
        ChapterMark(f"Part {i + 1}", i * length, (i + 1) * length) for i in range(chapters)
    )
    segments = tuple(
        Segment(kind, i * length + offset, 10.0, i, "Words." if kind == "speech" else "")
        for i in range(chapters)
        for kind, offset in (("bell", 0.0), ("speech", 5.0), ("hold", 20.0))
    )
    return Plan(segments, marks, minutes * 60, minutes * 60, minutes * 60, ())


def test_a_realistic_session_draws_every_part(classic):
    assert len(classic.chapters) == 12 and 30 * 60 < classic.duration < 50 * 60
    root = draw(classic, bed_db=ducked_bed(classic), width=1400)
    assert root.get("width") == "1400"
    assert texts(root, "chapter-title") == [c.title for c in classic.chapters]
    assert LANE_LABELS | {"bed"} <= set(texts(root, "lane"))
    assert len(of_class(root, "rect", "hold")) == count(classic, "hold") > 20
    assert len(of_class(root, "circle", "bell")) == count(classic, "bell") > 10
    assert 0 < len(of_class(root, "rect", "speech")) <= count(classic, "speech")
    assert len(list(root.iter())) < 1500


def test_chapter_titles_in_one_row_do_not_overlap(classic):
    for width in (800, 1400):
        root = draw(classic, width=width)
        rows: dict[str, list[tuple[float, str]]] = {}
        for t in root.iter(f"{NS}text"):
            if t.get("class") == "chapter-title":
                rows.setdefault(t.get("y"), []).append((float(t.get("x")), t.text))
        for row in rows.values():
            for (x, text), (next_x, _) in zip(row, row[1:]):
                assert x + len(text) * 11 * 0.55 < next_x
            last_x, last_text = row[-1]
            assert last_x + len(last_text) * 11 * 0.55 <= width


def test_the_bed_line_keeps_its_points_or_each_columns_extremes(classic):
    few = [(t, -30.0 - 10 * math.sin(t / 60)) for t in range(0, 2000, 20)]
    line = of_class(draw(classic, bed_db=few), "polyline", "bed")
    assert len(line) == 1 and len(line[0].get("points").split()) == len(few)

    many = ducked_bed(classic)
    root = draw(classic, bed_db=many, width=1000)
    points = [tuple(map(float, p.split(","))) for p in
              of_class(root, "polyline", "bed")[0].get("points").split()]
    assert len(points) <= 2 * (1000 - LEFT - RIGHT) + 2 < len(many)
    assert [x for x, _ in points] == sorted(x for x, _ in points)
    assert len({y for _, y in points}) == 2  # the dips under the voice are all still there
    assert {"-50 dB", "-30 dB"} <= set(texts(root, "scale"))


def test_without_a_bed_there_is_no_bed_lane(classic):
    root = draw(classic)
    assert not of_class(root, "polyline", "bed")
    assert "bed" not in texts(root, "lane")


def test_titles_are_escaped():
    plan = minutes_plan(10)
    plan = replace(plan, chapters=(ChapterMark('Hips & "knees" <soft>', 0, 200),
                                   *plan.chapters[1:]))
    title = 'Tom & Jerry\'s <"first"> session'
    root = draw(plan, title=title)
    assert title in texts(root, "title")
    assert 'Hips & "knees" <soft>' in texts(root, "chapter-title")


def test_text_xml_cannot_hold_is_left_out_so_the_picture_stays_valid_xml():
    plan = minutes_plan(10)
    plan = replace(plan, chapters=(ChapterMark("Hips\x01\x0b\ud800\ufffe", 0, 200),
                                   *plan.chapters[1:]))
    root = draw(plan, title="Sam\x01\x0b\x1b's session \U0001f33f")  # a parse error today
    assert "Sam's session \U0001f33f" in texts(root, "title")
    assert "Hips" in texts(root, "chapter-title")


@pytest.mark.parametrize(("minutes", "step", "last"), [(60, 5, 60), (37, 5, 35), (12, 1, 12)])
def test_the_axis_is_marked_in_whole_minutes_to_the_end(minutes, step, last):
    ticks = [int(t) for t in texts(draw(minutes_plan(minutes)), "tick")]
    assert ticks == list(range(0, last + 1, step))


def test_unknown_kinds_are_drawn_neutrally_and_chimes_as_rings():
    plan = minutes_plan(10)
    plan = replace(
        plan,
        segments=(*plan.segments, Segment("breath-cue", 100.0, 4.0, 0)),
        chimes=(60.0, 120.0),
    )
    root = draw(plan)
    other = of_class(root, "rect", "other")
    assert [e.get("data-kind") for e in other] == ["breath-cue"]
    assert "other" in texts(root, "lane")
    assert len(of_class(root, "circle", "chime")) == 2
    assert len(of_class(root, "circle", "bell")) == 3


def test_a_narrow_picture_is_refused():
    with pytest.raises(ValueError, match="width"):
        svg(minutes_plan(10), title="t", width=100)
