"""Plan files: the example, custom lists of exercises, per-exercise settings, errors
that name the file, line and key, and a session made from a plan and measured."""

from __future__ import annotations

from pathlib import Path

import json

import pytest
from click.testing import CliRunner

from measure import probe
from narration import chapters as by_chapter, spoken
from tre_audio.choices import layers as choices, planfile
from tre_audio import session
from tre_audio.cli import cli
from tre_audio.errors import PlanError
from tre_audio.narration.script import Chapter, Hold, parse


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


def write(folder: Path, text: str, name: str = "plan.toml") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def events_of(plan: Path, **given):
    return session.narration(choices.options(given, plan))[0]


def test_plan_new_writes_an_example_that_generates_the_classic(private_folders):
    result = run("plan", "new", "mine.toml")
    assert result.exit_code == 0 and result.stdout.strip() == "mine.toml"
    text = (private_folders / "mine.toml").read_text(encoding="utf-8")
    assert "tre-audio generate --plan mine.toml" in text and "[exercise.calves]" in text
    options = choices.options({}, private_folders / "mine.toml")
    assert options.programme == "classic" and options.label == "mine"
    chapters = [e.title for e in events_of(private_folders / "mine.toml")
                if isinstance(e, Chapter)]
    assert len(chapters) == 12
    # every commented setting, uncommented, is a valid plan
    uncommented = "\n".join(
        line[2:] if line.startswith("# [") or line.startswith("# ") and "=" in line else line
        for line in text.splitlines() if not line.startswith("# exercises"))
    planfile.load(write(private_folders, uncommented, "all.toml"))


def test_plan_new_refuses_an_existing_file(private_folders):
    existing = write(private_folders, "mine", "mine.toml")
    result = run("plan", "new", str(existing))
    assert result.exit_code == 2 and "already exists" in result.stderr
    assert existing.read_text(encoding="utf-8") == "mine"


def test_a_list_of_exercises_is_framed_by_arrival_and_closing(private_folders):
    plan = write(private_folders, 'exercises = ["calves", "floor", "tremor", "rest"]\n')
    chapters = [e.title for e in events_of(plan) if isinstance(e, Chapter)]
    assert chapters == ["Arrival and safety", "Calf raises", "Floor and butterfly", "Tremor",
                        "Rest and integration", "Closing"]
    # a programme on the command line wins over the plan's list
    chapters = [e.title for e in events_of(plan, programme="tremor") if isinstance(e, Chapter)]
    assert "Calf raises" not in chapters


def test_per_exercise_settings_reach_the_script(private_folders):
    plan = write(private_folders, (
        'exercises = ["ankles", "calves", "forward-bend", "wall-sit"]\n'
        '[exercise.calves]\nrepetitions = 8\nhold = 40\n'
        '[exercise.ankles]\nrepetitions = 7\n'
        '[exercise.forward-bend]\nbreaths = 3\n'
        '[exercise.wall-sit]\nhold = 25\n'))
    events = events_of(plan)
    said = {title: spoken(part) for title, part in by_chapter(events).items()}
    assert "Eight slow rises" in said["Calf raises"]
    assert "seven times each way" in said["Ankle rolls"].lower()
    holds = {}
    chapter = None
    for event in events:
        if isinstance(event, Chapter):
            chapter = event.title
        elif isinstance(event, Hold):
            holds.setdefault(chapter, []).append((event.low, event.high, event.unit))
    assert holds["Calf raises"][0] == (40, 40, "s") and holds["Calf raises"][2] == (40, 40, "s")
    assert all(h == (3, 3, "breath") for h in holds["Forward bend"])
    assert holds["Wall sit and forward fold"][0] == (25, 25, "s")


def test_the_tremor_time_sets_the_tremor_holds(private_folders):
    for minutes in (2, 5):
        plan = write(private_folders, f'tremor = {minutes}\n')
        events = events_of(plan)
        start = next(i for i, e in enumerate(events)
                     if isinstance(e, Chapter) and e.title == "Tremor")
        end = next(i for i, e in enumerate(events[start + 1:], start + 1)
                   if isinstance(e, Chapter))
        holds = [e for e in events[start:end] if isinstance(e, Hold)]
        assert sum(h.low for h in holds) == pytest.approx(minutes * 60, abs=3)


BAD_PLANS = [
    ('pace = 3\n', "line 1, pace", "must be text"),
    ('colour = "red"\n', "line 1, colour", "a plan may set"),
    ('\nexercises = ["calves", "jumping"]\n', "line 2, exercises", "unknown exercise 'jumping'"),
    ('exercises = ["arrival", "calves"]\n', "line 1, exercises", "leave it out"),
    ('exercises = []\n', "line 1, exercises", "empty"),
    ('exercises = "calves"\n', "line 1, exercises", "a list of text"),
    ('[exercise.calves]\nbreaths = 3\n', "line 2, exercise.calves.breaths", "takes: hold, repetitions"),
    ('[exercise.calves]\nhold = 3000\n', "line 2, exercise.calves.hold", "1 to 600"),
    ('[exercise.calves]\nhold = "long"\n', "line 2, exercise.calves.hold", "a number"),
    ('[exercise.calves]\nspeed = 2\n', "line 2, exercise.calves.speed", "hold, repetitions, breaths"),
    ('[exercise.jump]\nhold = 3\n', "line 1, exercise.jump", "unknown exercise 'jump'"),
    ('exercise = 3\n', "line 1, exercise", "tables"),
    ('tremor = 9\n', "line 1, tremor", "1 to 6 minutes at the first-time level"),
    ('level = "sensitive"\ntremor = 4\n', "line 2, tremor", "1 to 3 minutes"),
    ('pace = "fast"\n', "line 1, pace", "unknown pace 'fast'"),
    ('minutes = -5\n', "line 1, minutes", "above 0"),
    ('programme = "yoga"\n', "line 1, programme", "unknown programme"),
    ('programme = "classic"\nexercises = ["calves"]\n', "line 2, exercises", "not both"),
    ('loudness = -14\n', "line 1, loudness", "-16, -19 or -23"),
    ('bells = "no"\n', "line 1, bells", "true or false"),
    ('pace = \n', "line 1", "not valid TOML"),
    ('trusted = "A"\ntrusted_person = "B"\n', "line 2, trusted_person",
     "'trusted_person' is the older name of 'trusted', which is also given: keep one"),
    ('exercises = ["calves"]\n[exercise.calves]\nrepetitions = 2.5\n',
     "line 3, exercise.calves.repetitions", "must be a whole number"),
    ('interval_bell = 10\n', "line 1, interval_bell", "20 to 600 seconds, or 0 for none"),
]


@pytest.mark.parametrize("text, where, what", BAD_PLANS)
def test_plan_errors_name_file_line_and_key(private_folders, text, where, what):
    plan = write(private_folders, text)
    with pytest.raises(PlanError) as caught:
        choices.options({}, plan)
    assert str(caught.value).startswith(f"{plan}, {where}"), caught.value
    assert what in str(caught.value)
    result = run("generate", "--plan", str(plan))
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and where in result.stderr
    assert not list(private_folders.rglob("*.mp3"))


def test_unreadable_plans_are_one_line(private_folders):
    for name, data, words in [("bin.toml", b"\x00\x01", "not a text file"),
                              ("latin.toml", b'name = "Ren\xe9e"\n', "line 1: not UTF-8"),
                              ("gone.toml", None, "plan not found")]:
        path = private_folders / name
        if data is not None:
            path.write_bytes(data)
        result = run("script", "--plan", str(path))
        assert result.exit_code == 1 and words in result.stderr, result.stderr


def test_the_command_line_wins_over_a_plan_value_it_replaces(private_folders):
    plan = write(private_folders, 'tremor = 9\n')
    assert run("script", "--plan", str(plan), "--level", "regular").exit_code == 0
    plan = write(private_folders, 'pace = "fast"\n')
    assert run("script", "--plan", str(plan), "--pace", "slow").exit_code == 1  # still read


def test_a_session_from_a_plan_is_made_and_measured(private_folders, speech_cache):
    plan = write(private_folders, (
        'exercises = ["tremor", "rest"]\nlevel = "sensitive"\ntremor = 1\npace = "steady"\n'
        'ambient = "none"\nname = "Sam"\n'), "short-practice.toml")
    result = run("generate", "--plan", str(plan))
    assert result.exit_code == 0, result.stderr
    mp3 = next((private_folders / "output").glob("short-practice-steady-*min.mp3"))
    made = probe(mp3)
    chapters = [c["tags"]["title"] for c in made["chapters"]]
    assert chapters == ["Arrival and safety", "Tremor", "Rest and integration", "Closing"]
    timeline = (mp3.with_suffix(".json")).read_text(encoding="utf-8")
    planned = json.loads(timeline)["duration"]
    assert float(made["format"]["duration"]) == pytest.approx(planned, abs=0.15)
    assert "Sam's short-practice session" in made["format"]["tags"]["title"]
