"""Courses: the plan (tremor, lead-ins, rest days, numbering), bad values, and a real
two-week course made with Piper, measured from its files."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import eyed3
import mutagen.id3
import pytest
from click.testing import CliRunner

from measure import RATE, decode, probe
from tre_audio import course as course_module
from tre_audio.beside import cover
from tre_audio.narration import render
from tre_audio.options import settings, values
from tre_audio.course import Course, build, plan, tremor_minutes
from tre_audio.errors import InvalidOption, OutputError
from tre_audio.cli import cli
from tre_audio.narration.script import Say
from tre_audio.speech.lexicon import shipped
from tre_audio.session import narration
from tre_audio.options.values import Options
from tre_audio.speech import speaker

MINUTES = 19
"""Short enough to mix quickly; long enough for the sensitive level's tremor of 2.5 min."""


def _schedule_rows(course):
    """The schedule's table rows for ``course``, as if each session were made at its
    natural length (nothing is spoken)."""
    planned = plan(course)
    made = [(f"{p.name}.mp3", 600.0) for p in planned]
    text = course_module.schedule_text(course, planned, made)
    return [line for line in text.splitlines() if line.startswith("| ") and ".mp3" in line]


def no_engine(*args, **kwargs):
    raise AssertionError("the speech engine was opened although every clip was cached")


def clips_in(cache: Path) -> set[Path]:
    return set(cache.rglob("*.wav"))


# The plan -------------------------------------------------------------------------


@pytest.mark.parametrize("level", list(settings.LEVELS))
def test_four_weeks_raise_the_tremor_gently_within_the_level(level):
    limits = settings.LEVELS[level]
    planned = plan(Course(Options(level=level), weeks=4, per_week=3))
    doses = [p.tremor for p in planned]
    assert len(doses) == 12
    assert doses[0] == limits.tremor_low
    assert all(d * 2 == int(d * 2) for d in doses)  # half minutes
    assert all(later - earlier in (0, 0.5) for earlier, later in zip(doses, doses[1:]))
    assert doses[-1] > doses[0]
    assert max(doses) <= limits.tremor_high
    if level == "sensitive":
        assert max(doses) <= 3
    for p in planned:  # what the sessions are rendered with
        assert p.options.recipe.tremor == p.tremor and p.options.level == level


@pytest.mark.parametrize("level", list(settings.LEVELS))
def test_a_long_course_ends_at_the_top_of_the_level_and_never_passes_it(level):
    limits = settings.LEVELS[level]
    doses = tremor_minutes(limits, 48)
    assert doses[-1] == min(limits.tremor_high, 3 if level == "sensitive" else 99)
    assert doses == sorted(doses) and max(doses) <= limits.tremor_high


def test_your_own_tremor_setting_is_the_ceiling():
    options = Options(level="beginner", recipe=values.Recipe(tremor=7))
    doses = [p.tremor for p in plan(Course(options, weeks=12, per_week=4))]
    assert doses[0] == 5 and max(doses) == 7


def test_a_single_session_course_has_the_lowest_dose_and_the_full_lead_ins():
    (only,) = plan(Course(Options(level="regular"), weeks=1, per_week=1))
    assert (only.tremor, only.returning, only.name) == (8, False, "01-week1-session1")


def test_later_sessions_have_the_briefer_lead_ins():
    planned = plan(Course(Options(), weeks=4, per_week=3))
    assert [p.returning for p in planned] == [False] * 3 + [True] * 9
    assert all(p.options.recipe.returning == p.returning for p in planned)
    rows = _schedule_rows(Course(Options(), weeks=4, per_week=3))
    assert "shorter lead-ins" in rows[3] and "shorter lead-ins" not in rows[4]
    once_a_week = plan(Course(Options(), weeks=3, per_week=1))
    assert [p.returning for p in once_a_week] == [False, False, True]  # heard twice first


def test_sessions_are_numbered_in_playing_order():
    planned = plan(Course(Options(), weeks=4, per_week=3))
    names = [p.name for p in planned]
    assert names[:4] == ["01-week1-session1", "02-week1-session2", "03-week1-session3",
                         "04-week2-session1"]
    assert names[-1] == "12-week4-session3"
    assert [p.number for p in planned] == list(range(1, 13))
    assert [(p.week, p.in_week) for p in planned[2:4]] == [(1, 3), (2, 1)]


@pytest.mark.parametrize("per_week", [1, 2, 3, 4])
def test_a_rest_day_between_sessions_where_the_week_allows(per_week):
    planned = plan(Course(Options(), weeks=3, per_week=per_week))
    days = [p.course_day for p in planned]
    assert all(1 <= p.day <= 7 for p in planned)
    gaps = [later - earlier for earlier, later in zip(days, days[1:])]
    if per_week <= 3:
        assert min(gaps) >= 2, days
    else:  # four in seven days: the only back-to-back pair is at the turn of the week
        back_to_back = [p for p, gap in zip(planned[1:], gaps) if gap < 2]
        assert [p.number for p in back_to_back] == [5, 9]
        assert all(p.in_week == 1 and p.days < 2 for p in back_to_back)
        rows = _schedule_rows(Course(Options(), weeks=3, per_week=per_week))
        assert [n + 1 for n, row in enumerate(rows) if "rest a day first" in row] == [5, 9]
        assert all(gap == 2 for gap, p in zip(gaps, planned[1:]) if p.in_week > 1)


# Bad values -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("weeks", "per_week", "option"),
    [(0, 2, "--weeks"), (13, 2, "--weeks"), (2.5, 2, "--weeks"), (True, 2, "--weeks"),
     (4, 0, "--per-week"), (4, 5, "--per-week")],
)
def test_weeks_and_sessions_a_week_out_of_range_are_refused(weeks, per_week, option):
    with pytest.raises(InvalidOption) as caught:
        Course(Options(), weeks=weeks, per_week=per_week)
    assert caught.value.option == option
    assert "1 to" in str(caught.value)


def test_a_programme_without_a_tremor_cannot_make_a_course():
    with pytest.raises(InvalidOption, match="tremor phase"):
        Course(Options(programme="grounding"))


def test_a_folder_that_is_a_file_is_refused_before_any_speech(tmp_path, monkeypatch):
    monkeypatch.setattr(speaker, "open_engine", no_engine)
    out = tmp_path / "course"
    out.write_text("mine", encoding="utf-8")
    with pytest.raises(InvalidOption, match="is a file") as caught:
        build(Course(Options(level="sensitive"), 1, 1), out, cache=tmp_path / "cache")
    assert caught.value.option == "--out"
    assert out.read_text(encoding="utf-8") == "mine"


def test_a_folder_with_a_course_is_refused_and_nothing_in_it_changes(tmp_path, monkeypatch):
    monkeypatch.setattr(speaker, "open_engine", no_engine)
    (tmp_path / "notes.txt").write_text("mine", encoding="utf-8")
    (tmp_path / "03-week2-session1.mp3").write_bytes(b"an earlier course")
    before = sorted(p.name for p in tmp_path.iterdir())
    with pytest.raises(InvalidOption, match="already holds a course"):
        build(Course(Options(level="sensitive"), 1, 1), tmp_path, cache=tmp_path / "cache")
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    assert (tmp_path / "03-week2-session1.mp3").read_bytes() == b"an earlier course"


def test_minutes_no_session_can_fit_are_refused_before_any_speech(tmp_path, monkeypatch):
    monkeypatch.setattr(speaker, "open_engine", no_engine)
    with pytest.raises(InvalidOption, match="cannot fit"):
        build(Course(Options(level="sensitive", minutes=5), 1, 1), tmp_path / "c",
              cache=tmp_path / "cache")
    assert not (tmp_path / "c").exists()


# A real course --------------------------------------------------------------------


class _Counting:
    """An engine that records every sentence it is asked to speak."""

    def __init__(self, engine, said: list[str]) -> None:
        self._engine = engine
        self._said = said

    def __getattr__(self, name):
        return getattr(self._engine, name)

    def synthesize(self, text: str):
        self._said.append(text)
        return self._engine.synthesize(text)


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    """A two-week course, two sessions a week, made once into a fresh speech cache,
    with every engine opening and every sentence spoken recorded."""
    cache = tmp_path_factory.mktemp("course-cache")
    folder = tmp_path_factory.mktemp("course") / "my course"
    opened: list[str] = []
    said: list[str] = []
    progress: list[tuple[str, int, int]] = []
    real_open = speaker.open_engine

    def counting_open(*args, **kwargs):
        opened.append(args[0])
        return _Counting(real_open(*args, **kwargs), said)

    course = Course(Options(level="sensitive", minutes=MINUTES), weeks=2, per_week=2)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(speaker, "open_engine", counting_open)
        built = build(course, folder, progress=lambda *a: progress.append(a), cache=cache)
    return {"built": built, "course": course, "cache": cache, "opened": opened,
            "said": said, "progress": progress}


def test_every_session_is_written_and_decodes_at_its_planned_length(made):
    built = made["built"]
    names = sorted(p.name for p in built.folder.glob("*.mp3"))
    assert names == ["01-week1-session1.mp3", "02-week1-session2.mp3",
                     "03-week2-session1.mp3", "04-week2-session2.mp3"]
    for session in built.sessions:
        assert session.path.parent == built.folder
        samples, info = decode(session.path), probe(session.path)
        assert abs(float(info["format"]["duration"]) - session.plan.duration) < 0.1
        assert abs(len(samples) / RATE - session.plan.duration) < 0.1
        assert abs(session.plan.duration - MINUTES * 60) <= MINUTES * 60 * 0.03
        for suffix in (".txt", ".vtt", ".srt", ".json"):
            assert session.path.with_suffix(suffix).stat().st_size > 0


def test_chapters_read_back_from_every_session(made):
    for session in made["built"].sessions:
        chapters = probe(session.path)["chapters"]
        assert [c["tags"]["title"] for c in chapters] == [c.title for c in session.plan.chapters]
        for got, planned in zip(chapters, session.plan.chapters):
            assert float(got["start_time"]) == pytest.approx(planned.start, abs=0.002)


def test_each_session_carries_its_track_number_as_eyed3_and_mutagen_read_it(made):
    sessions = made["built"].sessions
    for number, session in enumerate(sessions, start=1):
        tag = eyed3.load(session.path).tag
        assert tag.version == (2, 3, 0)
        assert tuple(tag.track_num) == (number, len(sessions))
        timeline = json.loads(session.path.with_suffix(".json").read_text(encoding="utf-8"))
        assert tag.recording_date is not None and tag.title == timeline["title"]
        assert mutagen.id3.ID3(session.path)["TRCK"].text == [f"{number}/{len(sessions)}"]
        front, = tag.images  # the programme's own picture (classic: ripples, in green)
        assert front.image_data == cover.jpeg(cover.ARTS["classic"])


def test_the_tremor_in_the_files_rises_as_planned(made):
    built = made["built"]
    held = []
    for session in built.sessions:
        timeline = json.loads(session.path.with_suffix(".json").read_text(encoding="utf-8"))
        held.append(sum(s["end"] - s["start"] for s in timeline["segments"]
                        if s["kind"] == "hold" and s["chapter"] == "Tremor"))
    assert held == pytest.approx([60 * p.tremor for p in built.planned], abs=0.01)
    assert [p.tremor for p in built.planned] == [1, 1.5, 2, 2.5]


def test_the_playlist_lists_the_sessions_in_order_with_their_lengths(made):
    built = made["built"]
    text = built.playlist.read_text(encoding="utf-8")
    lines = text.splitlines()
    assert lines[0] == "#EXTM3U"
    entries = [line for line in lines if line and not line.startswith("#")]
    infos = [line for line in lines if line.startswith("#EXTINF:")]
    assert entries == [s.path.name for s in built.sessions]  # relative, in order
    assert len(infos) == len(entries)
    for info, entry in zip(infos, entries):
        seconds, title = re.fullmatch(r"#EXTINF:(\d+),(.+)", info).groups()
        measured = float(probe(built.folder / entry)["format"]["duration"])
        assert abs(int(seconds) - measured) <= 1
        assert "Week" in title and "tremor" in title
    assert lines.index(infos[0]) + 1 == lines.index(entries[0])


def test_the_schedule_names_every_file_with_its_day_length_and_tremor(made):
    built = made["built"]
    text = built.schedule.read_text(encoding="utf-8")
    rows = [line for line in text.splitlines() if re.match(r"\| \d", line)]
    assert len(rows) == 4
    for row, p, session in zip(rows, built.planned, built.sessions):
        cells = [c.strip() for c in row.strip("|").split("|")]
        assert cells[:5] == [str(p.week), str(p.day), session.path.name,
                             f"{round(session.plan.duration) // 60}:"
                             f"{round(session.plan.duration) % 60:02d}", f"{p.tremor:g} min"]
    assert [r.split("|")[2].strip() for r in rows] == ["1", "4", "1", "4"]
    assert "Rest at least one day between sessions" in text
    assert "the tremor half as long next time" in text
    assert "Stop whenever you like" in text and "not treatment" in text


def test_speech_was_made_once_in_one_batch(made):
    assert made["opened"] == ["hibari"]
    said = made["said"]
    assert len(said) == len(set(said))
    spoken = shipped("heart")  # the engine is asked for the sentences as spoken
    everything = {spoken(event.text) for p in made["built"].planned
                  for event in narration(p.options)[0] if isinstance(event, Say)}
    assert set(said) == everything


def test_one_progress_stage_counts_up_to_the_end(made):
    progress = made["progress"]
    assert {stage for stage, _, _ in progress} == {"course"}
    done = [d for _, d, _ in progress]
    totals = {t for _, _, t in progress}
    assert len(totals) == 1 and done == sorted(done)
    assert done[0] == 0 and done[-1] == totals.pop() and len(done) > 20


def test_nothing_but_the_course_is_left_in_the_folder(made):
    names = {p.name for p in made["built"].folder.iterdir()}
    assert len(names) == 4 * 5 + 2
    assert all(course_module.is_course_file(name) for name in names)


# Interruptions and failures leave the folder as it was ----------------------------


@pytest.mark.parametrize("where", ["second session", "schedule"])
def test_an_interrupted_course_leaves_no_file(where, made, tmp_path, monkeypatch):
    monkeypatch.setattr(speaker, "open_engine", no_engine)
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "notes.txt").write_text("mine", encoding="utf-8")
    real = course_module.generate
    calls = []

    def generate(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    def schedule(*args):
        raise KeyboardInterrupt

    if where == "schedule":
        monkeypatch.setattr(course_module, "schedule_text", schedule)
    else:
        monkeypatch.setattr(course_module, "generate", generate)
    course = Course(Options(level="sensitive", minutes=MINUTES), weeks=1,
                    per_week=2 if where == "second session" else 1)
    with pytest.raises(KeyboardInterrupt):
        build(course, folder, cache=made["cache"])
    assert [p.name for p in folder.iterdir()] == ["notes.txt"]


def test_a_failure_while_moving_the_files_in_takes_back_those_moved(made, tmp_path,
                                                                    monkeypatch):
    monkeypatch.setattr(speaker, "open_engine", no_engine)
    moved = []

    class FailingOs:  # only the course's own moves fail, not the files' atomic writes
        def __getattr__(self, name):
            return getattr(os, name)

        def replace(self, source, target):
            moved.append(target)
            if len(moved) == 4:
                raise OSError(28, "No space left on device")
            return os.replace(source, target)

    monkeypatch.setattr(course_module, "os", FailingOs())
    out = tmp_path / "new" / "course"
    course = Course(Options(level="sensitive", minutes=MINUTES), weeks=1, per_week=1)
    with pytest.raises(OutputError, match="No space left"):
        build(course, out, cache=made["cache"])
    assert not out.exists()  # made by the course, so taken away again when empty


# The command line -----------------------------------------------------------------


def test_the_course_command_makes_a_course_from_the_cached_speech(made, tmp_path,
                                                                 monkeypatch):
    monkeypatch.setattr(speaker, "open_engine", no_engine)
    monkeypatch.setenv("TRE_AUDIO_CACHE", str(made["cache"]))
    clips = clips_in(made["cache"])
    out = tmp_path / "one"
    result = CliRunner().invoke(cli, ["course", "--weeks", "1", "--per-week", "1",
                                      "--level", "sensitive", "--minutes", str(MINUTES),
                                      "-o", str(out)])
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 3
    assert re.fullmatch(rf"{re.escape(str(out / '01-week1-session1.mp3'))}  "
                        r"1\d:\d\d  tremor 1 min", lines[0])
    assert lines[1:] == [str(out / "course.m3u8"), str(out / "schedule.md")]
    info = probe(out / "01-week1-session1.mp3")
    assert abs(float(info["format"]["duration"]) - MINUTES * 60) <= MINUTES * 60 * 0.03
    assert clips_in(made["cache"]) == clips  # no new clips: the speech was reused


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--weeks", "0"], ["--weeks must be a whole number from 1 to 12"]),
        (["--weeks", "13"], ["--weeks must be a whole number from 1 to 12"]),
        (["--per-week", "5"], ["--per-week must be a whole number from 1 to 4"]),
        (["--per-week", "two"], ["'two' is not a valid integer"]),
        (["-o", "a-file"], ["is a file"]),
        (["grounding"], ["--level is not taken by programme 'grounding'"]),  # its own first
    ],
)
def test_a_bad_value_is_one_line_on_stderr_with_exit_2(args, words, private_folders,
                                                      monkeypatch):
    monkeypatch.setattr(speaker, "open_engine", no_engine)
    (private_folders / "a-file").write_text("mine", encoding="utf-8")
    result = CliRunner().invoke(cli, ["course", "--level", "sensitive", *args])
    assert result.exit_code == 2, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("tre-audio: ")
    for word in words:
        assert word in lines[0]
    assert result.stdout == ""
    assert sorted(p.name for p in private_folders.iterdir()) == ["a-file"]


def test_a_course_made_without_a_folder_never_joins_another(private_folders):
    from tre_audio.course import DEFAULT_FOLDER, free_folder

    assert free_folder() == DEFAULT_FOLDER  # none yet
    DEFAULT_FOLDER.mkdir(parents=True)
    (DEFAULT_FOLDER / "notes.txt").write_text("mine")
    assert free_folder() == DEFAULT_FOLDER  # no course in it: the course may go there
    (DEFAULT_FOLDER / "course.m3u8").write_text("#EXTM3U\n")
    assert free_folder() == Path("output/course-2")
    Path("output/course-2").mkdir()
    (Path("output/course-2") / "01-week1-session1.mp3").write_bytes(b"")
    assert free_folder() == Path("output/course-3")


def test_a_seated_course_keeps_to_the_seated_tremor():
    planned = plan(Course(Options(programme="seated", level="regular"), weeks=4))
    assert max(p.tremor for p in planned) == 3
    assert "seated" in course_module.with_tremor()
