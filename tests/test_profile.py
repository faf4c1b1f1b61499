"""The profile: init, show, set and path; merging with plans and the command line."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from tre_audio.choices import layers as choices, profile as profiles
from tre_audio.cli import cli
from tre_audio.errors import ProfileError


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


@pytest.fixture
def profile_file(monkeypatch, tmp_path) -> Path:
    """An empty config folder of the test's own."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    return tmp_path / "config" / "tre-audio" / "profile.toml"


def one_line(result, code: int, *words: str) -> str:
    assert result.exit_code == code, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


def test_path_init_show_set(profile_file):
    assert run("profile", "path").stdout.strip() == str(profile_file)
    assert run("profile", "init").stdout.strip() == str(profile_file)
    assert profiles.load() == profiles.Profile()  # every key is commented out
    assert "# trusted = " in profile_file.read_text(encoding="utf-8")
    for key, value in [("name", "Sam"), ("trusted_person", "Alex"), ("level", "beginner"),
                       ("limits", "knees, lower-back"), ("eyes_open", "yes"),
                       ("pace", "slow"), ("ambient", "rain"), ("minutes", "30"),
                       ("loudness", "-19"), ("engine", "system"), ("voice", "en-us")]:
        assert run("profile", "set", key, value).exit_code == 0, key
    assert profiles.load() == profiles.Profile(
        name="Sam", trusted="Alex", level="beginner", limits=("knees", "lower-back"),
        eyes_open=True, pace="slow", ambient="rain", minutes=30.0, loudness=-19.0,
        voice="en-us")  # set after the engine, the voice (which brings its own) cleared it
    shown = run("profile", "show").stdout
    assert re.search(r"^limits +knees, lower-back$", shown, re.M)
    assert re.search(r"^eyes_open +true$", shown, re.M)
    run("profile", "set", "minutes", "")
    assert profiles.load().get("minutes") is None


def test_init_refuses_to_replace_a_profile(profile_file):
    run("profile", "init")
    run("profile", "set", "name", "Sam")
    before = profile_file.read_bytes()
    one_line(run("profile", "init"), 2, "already exists")
    assert profile_file.read_bytes() == before


@pytest.mark.parametrize("key, value, words", [
    ("colour", "red", ["unknown profile key 'colour'", "trusted"]),
    ("level", "expert", ["unknown level 'expert'", "sensitive"]),
    ("limits", "knees,elbows", ["unknown body limit 'elbows'", "pregnancy"]),
    ("minutes", "thirty", ["minutes must be a number"]),
    ("minutes", "500", ["at most 180"]),
    ("loudness", "-14", ["-16, -19 or -23"]),
    ("eyes_open", "maybe", ["true or false"]),
    ("pace", "fast", ["unknown pace"]),
    ("ambient", "jungle", ["unknown ambient"]),
])
def test_bad_values_are_refused_and_the_profile_kept(profile_file, key, value, words):
    run("profile", "set", "name", "Sam")
    before = profile_file.read_bytes()
    one_line(run("profile", "set", key, value), 2, *words)
    assert profile_file.read_bytes() == before


@pytest.mark.parametrize("text, words", [
    ('name = "Sam"\ncolour = "red"\n', ["line 2, colour", "unknown key"]),
    ('level = 3\n', ["line 1, level", "must be text"]),
    ('\nlimits = "knees"\n', ["line 2, limits", "a list of text"]),
    ('pace = "fast"\n', ["line 1, pace", "unknown pace"]),
    ('limits = ["knee"]\n', ["line 1, limits", "unknown body limit 'knee'"]),
    ('name = "Sam\n', ["line 1", "not valid TOML"]),
    ('minutes = 0\n', ["line 1, minutes", "above 0"]),
])
def test_a_broken_profile_names_its_file_line_and_key(profile_file, text, words):
    profile_file.parent.mkdir(parents=True)
    profile_file.write_text(text, encoding="utf-8")
    with pytest.raises(ProfileError) as caught:
        profiles.load()
    for word in words:
        assert word in str(caught.value)
    line = one_line(run("script"), 1, str(profile_file))
    assert words[0] in line


def test_a_binary_profile_is_one_line(profile_file):
    profile_file.parent.mkdir(parents=True)
    profile_file.write_bytes(b"\x00\x01\xff")
    one_line(run("script"), 1, "not a text file")


def test_command_line_over_plan_over_profile_over_defaults(profile_file, tmp_path):
    profile = profiles.Profile(pace="slow", level="beginner", name="Sam", ambient="rain",
                               limits=("knees",), trusted_person="Alex", loudness=-19.0)
    options = choices.options({}, profile=profile)
    assert (options.pace, options.level, options.name, options.sound.ambient) == (
        "slow", "beginner", "Sam", "rain")
    assert options.recipe.limits == {"knees"} and options.recipe.trusted == "Alex"
    assert options.sound.loudness == -19.0
    plan = tmp_path / "plan.toml"
    plan.write_text('pace = "steady"\nambient = "surf"\n', encoding="utf-8")
    options = choices.options({}, plan, profile)
    assert (options.pace, options.level, options.sound.ambient) == ("steady", "beginner", "surf")
    options = choices.options({"pace": "gentle", "ambient": None}, plan, profile)
    assert (options.pace, options.sound.ambient) == ("gentle", "surf")
    assert choices.options({}, profile=profiles.Profile()).pace == "gentle"


def test_zero_turns_off_a_profiles_binaural_beat_and_interval_chime(profile_file):
    profile = profiles.Profile(binaural=6.0, interval_bell=60.0)
    sound = choices.options({}, profile=profile).sound
    assert (sound.binaural, sound.interval_bell, sound.channels) == (6.0, 60.0, 2)
    sound = choices.options({"binaural": 0, "interval_bell": 0}, profile=profile).sound
    assert (sound.binaural, sound.interval_bell, sound.channels) == (None, None, 1)
    run("profile", "set", "binaural", "6")
    assert "headphones" in run("script").stdout
    assert "headphones" not in run("script", "--binaural", "0").stdout
    one_line(run("script", "--binaural", "0.5"), 2, "--binaural must be a beat of 1 to 30 "
             "Hz, or 0 for none")


def test_the_profile_shapes_what_the_command_line_makes(profile_file):
    run("profile", "set", "level", "beginner")
    run("profile", "set", "name", "Sam")
    header = run("script").stdout.splitlines()[0]
    assert "gentle pace, beginner level" in header
    assert "steady pace, regular level" in run(
        "script", "--pace", "steady", "--level", "regular").stdout.splitlines()[0]
    assert "Sam" in run("script").stdout


def test_a_profile_length_out_of_reach_is_left_out_saying_so(profile_file, private_folders):
    """A profile is general: its 30 minutes cannot fit the ten-minute grounding, which
    then has its natural length; given on the command line or in a plan, it is refused."""
    run("profile", "set", "minutes", "30")
    result = run("script", "grounding")
    assert result.exit_code == 0
    assert result.stderr.startswith("tre-audio: warning: your profile's length of 30 minutes")
    assert "natural length" in result.stderr and result.stderr.count("\n") == 1
    one_line(run("script", "grounding", "--minutes", "30"), 2, "cannot fit 30 minutes")
    (private_folders / "p.toml").write_text('programme = "grounding"\nminutes = 60\n',
                                            encoding="utf-8")
    one_line(run("script", "--plan", "p.toml"), 1, "p.toml, line 2, minutes: cannot fit 60")
    assert "warning" not in run("script", "classic").stderr  # 30 minutes fit the classic
    (private_folders / "s.txt").write_text("[chapter: A]\nHello.\n[hold 5-20s]\n",
                                           encoding="utf-8")
    made = run("generate", "--script", "s.txt", "-o", "out.mp3")  # a script: its own length
    assert made.exit_code == 0 and "your profile's length of 30 minutes" in made.stderr
    assert made.stdout.split()[1].startswith("0:")
    run("profile", "set", "minutes", "")
    assert run("script", "grounding").stdout == result.stdout  # its natural length


def test_a_profile_choice_refused_here_names_the_profile(profile_file, private_folders):
    profile_file.parent.mkdir(parents=True)
    profile_file.write_text('voice = "en-gb"\nengine = "piper"\n', encoding="utf-8")
    line = one_line(run("say", "Hello."), 1, f"your profile {profile_file}, voice:",
                    "tre-audio profile set voice")
    assert "--voice" not in line
    profile_file.write_text('voice = "mine"\n', encoding="utf-8")  # a file of another folder
    one_line(run("script"), 1, f"your profile {profile_file}, voice: unknown voice 'mine'")
