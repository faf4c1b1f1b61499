"""What the practice record says: the session a check-in is about, how sessions went,
sessions a week, and the history as a table, a CSV file and a picture."""

from __future__ import annotations

import csv
import datetime
import io
import xml.etree.ElementTree as ET

import pytest

from tre_audio.choices.adapted import shaped
from tre_audio.options import values
from tre_audio.practice import history, report
from tre_audio.practice.history import Practice
from tre_audio.practice.store import CheckIn, Made

START = datetime.datetime(2026, 11, 2, 18, 0, tzinfo=datetime.timezone.utc)  # a Monday


def at(days: float) -> str:
    return (START + datetime.timedelta(days=days)).isoformat(timespec="seconds")


def made(n: int, days: float, tremor: float | None = 4.0, course: str | None = None,
         level: str = "first-time") -> Made:
    return Made(f"s{n}", at(days), f"/m/s{n}.mp3", "tremor", level, tremor, 20.0,
                {"programme": "tremor"}, None, course, n if course else None)


def answer(n: int, days: float, felt: str | None = "about-right", before: int | None = 4,
           after: int | None = 2, spaced_out: bool = False, note: str = "") -> CheckIn:
    return CheckIn(f"s{n}", at(days), before, after, felt, spaced_out, note)


def test_the_session_due_is_the_latest_or_a_course_s_first_not_checked_in():
    assert history.due(Practice((), ())) is None
    alone = [made(1, 0), made(2, 1)]
    assert history.due(Practice(tuple(alone), ())) == alone[1]
    course = [made(3, 2, course="/c"), made(4, 2.001, course="/c"), made(5, 2.002, course="/c")]
    practice = Practice((*alone, *course), (answer(3, 3),))
    assert history.due(practice) == course[1]
    everything = Practice((*alone, *course), tuple(answer(n, 3) for n in (3, 4, 5)))
    assert history.due(everything) == course[2]


def test_only_sessions_checked_in_count_and_a_course_s_plans_are_not_practice():
    sessions = (made(1, 0, 5.0), made(2, 1, 3.0), made(3, 2, None),
                made(4, 3, 2.0, course="/c"), made(5, 3.01, 2.5, course="/c"))
    practice = Practice(sessions, (answer(1, 0.1, "too-much"), answer(3, 2.1),
                                   answer(4, 5, "more", before=5, after=3)))
    found = history.outcomes(practice)
    assert [(o.tremor, o.felt) for o in found] == [(5.0, "too-much"), (2.0, "more")]
    assert [r.session.id for r in history.rows(practice)] == ["s1", "s2", "s3", "s4"]


def test_a_week_counts_sessions_made_and_course_sessions_practised():
    sessions = tuple(made(n, n * 1.5) for n in range(1, 6)) + (
        made(6, 1, course="/c"), made(7, 1.01, course="/c"))
    practice = Practice(sessions, (answer(6, 7.4),))
    now = START + datetime.timedelta(days=8.6)  # s1 (day 1.5) is out; s6's check-in counts
    assert history.in_week(practice, now) == 5
    assert history.weeks(history.rows(practice)) == [
        (datetime.date(2026, 11, 2), 4), (datetime.date(2026, 11, 9), 2)]


@pytest.mark.parametrize(("after", "spaced_out", "care"), [
    (7, False, False), (8, False, True), (10, False, True), (None, False, False),
    (2, True, True)])
def test_care_is_shown_from_an_after_rating_of_8_or_feeling_spaced_out(after, spaced_out,
                                                                        care):
    assert history.needs_care(answer(1, 0, after=after, spaced_out=spaced_out)) is care


def options(**chosen) -> values.Options:
    return values.build({"programme": "tremor", "level": "first-time", **chosen})


def test_the_record_shapes_the_options_and_says_why():
    practice = Practice((made(1, 0, 5.2),), (answer(1, 0.1, "too-much", before=3, after=3),))
    now = START + datetime.timedelta(days=1)
    adapted = shaped(options(), None, practice, now)
    assert adapted.dose is not None and adapted.dose.rule == "halved"
    assert adapted.options.recipe.tremor == 2.6
    assert adapted.options.recipe.adapted.startswith("Last time the shaking felt like a lot")
    assert not adapted.options.recipe.ground_first
    # a tremor given for this session wins, inside the level
    chosen = shaped(options(tremor=6), 6.0, practice, now)
    assert chosen.dose is not None and chosen.dose.rule == "chosen"
    assert chosen.options == options(tremor=6)
    # the cap applies over a profile's or a plan's tremor
    assert shaped(options(tremor=6), None, practice, now).options.recipe.tremor == 2.6


def test_feeling_spaced_out_grounds_first_and_offers_the_grounding_programme():
    practice = Practice((made(1, 0, 3.0),), (answer(1, 0.1, "about-right", spaced_out=True),))
    adapted = shaped(options(), None, practice, START + datetime.timedelta(days=1))
    assert adapted.options.recipe.ground_first
    assert adapted.options.recipe.tremor == 1.5
    assert any("tre-audio generate grounding" in n for n in adapted.notices)


def test_a_length_the_shorter_dose_cannot_fill_gives_the_natural_length_saying_so():
    practice = Practice((made(1, 0, 6.0),), (answer(1, 0.1, "too-much"),))
    now = START + datetime.timedelta(days=1)
    longest = options(minutes=29)  # the tremor programme's reach at this level: 14.8-29.8
    adapted = shaped(longest, None, practice, now)
    assert adapted.options.minutes is None
    assert any("natural length" in n for n in adapted.notices)
    assert shaped(options(minutes=16), None, practice, now).options.minutes == 16


def test_more_than_three_sessions_a_week_is_said_without_refusing():
    sessions = tuple(made(n, n * 0.5) for n in range(1, 5))
    practice = Practice(sessions, ())
    adapted = shaped(options(), None, practice, START + datetime.timedelta(days=2.5))
    assert any("4 sessions in the last seven days" in n for n in adapted.notices)
    assert adapted.options == options()


def test_programmes_without_a_shaking_phase_are_not_shaped():
    practice = Practice((made(1, 0, 5.0),), (answer(1, 0.1, "too-much"),))
    grounding = values.build({"programme": "grounding"})
    adapted = shaped(grounding, None, practice, START + datetime.timedelta(days=1))
    assert adapted.dose is None and adapted.options == grounding


def test_the_table_and_the_csv_file_carry_every_session_and_check_in():
    sessions = (made(1, 0, 5.0), made(2, 2, 2.5))
    practice = Practice(sessions, (answer(1, 0.1, "too-much", note="=HYPERLINK(\"x\")"),))
    rows = history.rows(practice)
    lines = report.table(rows).splitlines()
    assert lines[0].split()[:3] == ["made", "programme", "level"]
    assert "too-much" in lines[1] and "5.0" in lines[1]
    assert lines[2].split()[-4:] == ["-", "-", "-", "-"]
    table = list(csv.reader(io.StringIO(report.csv_text(rows))))
    assert table[0] == list(report.COLUMNS)
    first = dict(zip(table[0], table[1]))
    assert first["session"] == "s1.mp3" and first["felt"] == "too-much"
    assert first["tremor_minutes"] == "5.0" and first["before"] == "4"
    assert first["note"] == "'=HYPERLINK(\"x\")"  # not run as a formula
    assert dict(zip(table[0], table[2]))["checked_in"] == ""


def test_the_picture_draws_a_bar_per_session_its_ratings_and_the_weeks():
    sessions = tuple(made(n, n * 2, 3.0 + n * 0.5) for n in range(1, 8))
    answers = tuple(answer(n, n * 2 + 0.1, "too-much" if n == 4 else "about-right",
                           before=5, after=3) for n in range(1, 7))
    picture = report.svg(history.rows(Practice(sessions, answers)), "Sam's practice")
    root = ET.fromstring(picture)
    ns = {"s": "http://www.w3.org/2000/svg"}
    bars = [r for r in root.iterfind("s:rect", ns) if r.find("s:title", ns) is not None]
    sessions_drawn = [b for b in bars if "min" in b.find("s:title", ns).text]
    weeks_drawn = [b for b in bars if b.find("s:title", ns).text.startswith("week of")]
    assert len(sessions_drawn) == 7
    heights = [float(b.get("height")) for b in sessions_drawn]
    assert heights == sorted(heights)  # the dose rose session by session
    assert len(root.findall("s:circle", ns)) == 2 * 6 + 2  # before and after, and the key
    assert len(weeks_drawn) == 3
    assert "Sam&#x27;s" in picture or "Sam's" in picture
    empty = ET.fromstring(report.svg([], "Practice"))
    assert "No sessions recorded yet." in "".join(empty.itertext())
