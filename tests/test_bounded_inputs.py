"""Inputs bounded in size, depth and work, and options that hold plain text only: each
ends at once with one clear line (the cases in the README's table are in
test_bad_input.py)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings as hypothesis_settings, strategies as st

from bounded import finishes
from tre_audio.choices import layers as choices, planfile, profile as profiles
from tre_audio.speech import lexicon
from tre_audio.files import tomlfile
from tre_audio.errors import InvalidOption, LexiconError, PlanError, ProfileError
from tre_audio.speech.lexicon import Lexicon

# Names and other free text: plain, and short


@pytest.mark.parametrize(("given", "option", "why"), [
    ({"name": "Sam\x01\x0b"}, "--name", "plain text: it holds a control character (U+0001)"),
    ({"name": "Sam\t"}, "--name", "(U+0009)"),
    ({"name": "Sam\u2028"}, "--name", "(U+2028)"),
    ({"name": "Sam\udcff"}, "--name", "(U+DCFF)"),  # an undecodable byte on a command line
    ({"name": "Sam\uffff"}, "--name", "(U+FFFF)"),
    ({"trusted": "Al\u202eex"}, "--trusted", "(U+202E)"),
    ({"name": "S" * 61}, "--name", "at most 60 characters long (it has 61)"),
    ({"trusted": "A" * 61}, "--trusted", "at most 60 characters long"),
])
def test_a_name_is_plain_text_of_at_most_60_characters(given, option, why):
    with pytest.raises(InvalidOption) as caught:
        choices.build(given)
    assert caught.value.option == option and why in str(caught.value)
    assert str(caught.value).startswith(f"{option} must be ")


def test_names_in_every_script_and_joiners_are_plain_text():
    made = choices.build({"name": "Zoë Ōtani-\u0645\u200c\u0631 " + "x" * 40,
                          "trusted": "\U0001f469\u200d\U0001f33e Li"})
    assert made.name.startswith("Zoë") and made.recipe.trusted.endswith("Li")


def test_a_profile_or_plan_name_that_is_not_plain_text_names_its_line(tmp_path):
    profile = tmp_path / "profile.toml"
    profile.write_text('level = "beginner"\ntrusted_person = "Al\\u0007ex"\n')
    with pytest.raises(ProfileError, match=r"profile\.toml, line 2, trusted_person: "
                                           r"trusted must be plain text"):
        profiles.load(profile)
    plan = tmp_path / "p.toml"
    plan.write_text('pace = "slow"\nname = "Sam\\u001b[31m"\n')
    with pytest.raises(PlanError, match=r"p\.toml, line 2, name: name must be plain text"):
        planfile.load(plan)


def test_a_plan_named_with_control_characters_is_labelled_without_them(tmp_path):
    plan = tmp_path / "Mon\x01day\x1b.toml"
    plan.write_text('pace = "slow"\n')
    assert choices.options({}, plan, profiles.Profile()).label == "Monday"


# Plans, profiles and lexicons: regular files, bounded in size and depth


@pytest.mark.parametrize("read", [
    lambda path: planfile.load(path),
    lambda path: profiles.load(path),
    lambda path: lexicon.load(path),
])
def test_a_named_pipe_or_a_device_is_refused_at_once(read, tmp_path):
    pipe = tmp_path / "pipe.toml"
    os.mkfifo(pipe)
    for path in (pipe, Path("/dev/zero")):
        with pytest.raises((PlanError, ProfileError, LexiconError), match="not a regular file"):
            finishes(lambda: read(path))


@pytest.mark.parametrize(("text", "line"), [
    ("x = " + "[" * 5000 + "]" * 5000, 0),  # a RecursionError in tomllib
    ("x = " + "{a=" * 5000 + "1" + "}" * 5000, 0),
    ("x" + ".x" * 5000 + " = 1", 1),
    ('pace = "slow"\n["x"' + ".x" * 5000 + "]\ny = 1", 2),
    ('y = {"a"."b"."c"."d"."e" = 1}', 1),
    ("[a.b.c]\nd.e = 1", 0),
    ("a = [[[[1]]]]", 0),
])
def test_data_nested_more_than_3_deep_is_refused(text, line, tmp_path):
    path = tmp_path / "deep.toml"
    path.write_text(text)
    at = f"deep.toml, line {line}: " if line else "deep.toml: "
    with pytest.raises(PlanError) as caught:
        planfile.load(path)
    assert str(caught.value).endswith(f"{at}tables or lists nested more than 3 levels deep")
    with pytest.raises(LexiconError, match="nested more than 3 levels deep"):
        lexicon.load(path)


def test_data_3_deep_is_read():
    assert tomlfile.loads("e = [[[1]]]\n[a.b]\nc.d = 1\n") == \
        {"e": [[[1]]], "a": {"b": {"c": {"d": 1}}}}
    assert tomlfile.loads('"a.b.c.d.e" = "x.y.z.w.v"  # a.b.c.d.e') == \
        {"a.b.c.d.e": "x.y.z.w.v"}


def test_a_plan_of_deep_keys_is_refused_before_tomllib_spends_minutes_on_it(tmp_path):
    # tomllib's time grows with the square of a dotted key's length: 25 s for 40,000
    # parts; a 256 kB plan holds 128,000
    path = tmp_path / "deep.toml"
    path.write_text("x" + ".x" * 130_000 + " = 1\n")
    assert path.stat().st_size < tomlfile.MAX_BYTES
    code = ("import sys; from pathlib import Path; from tre_audio.choices import planfile\n"
            "try: planfile.load(Path(sys.argv[1]))\n"
            "except Exception as error: print(error)")
    done = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True,
                          text=True, timeout=60)
    assert done.stdout.strip().endswith("deep.toml, line 1: tables or lists nested more "
                                        "than 3 levels deep"), done.stderr


@pytest.mark.parametrize(("read", "error", "limit"), [
    (planfile.load, PlanError, "256 kB"),
    (profiles.load, ProfileError, "256 kB"),
    (lexicon.load, LexiconError, "1 MB"),
])
def test_a_file_too_large_is_refused(read, error, limit, tmp_path):
    path = tmp_path / "big.toml"
    path.write_text("# nothing but comments\n" * 50_000)
    with pytest.raises(error, match=f"larger than {limit}"):
        read(path)


# The lexicon: a large one costs its size to read, and little a sentence


def _by_one_pattern(entries: dict[str, str], text: str) -> str:
    """How lexicons respelled text until 2026-12: one regular expression of all keys."""
    def normal(word: str) -> str:
        return " ".join(word.split()).casefold()

    ordered = sorted(entries, key=lambda w: (-len(normal(w)), normal(w)))
    keys = "|".join("(" + r"\s+".join(re.escape(p) for p in w.split()) + ")" for w in ordered)
    pattern = re.compile(rf"(?<!\w)(?:{keys})(?!\w)", re.IGNORECASE)
    return pattern.sub(lambda m: entries[ordered[(m.lastindex or 1) - 1]], text)


WORDS = st.text(alphabet="aAbBéÉ_1-.'  ", min_size=1, max_size=7)


@hypothesis_settings(max_examples=400, deadline=None)
@given(keys=st.lists(WORDS, min_size=1, max_size=8),
       text=st.text(alphabet="aAbBéÉ_1-.' ,\t\n()", max_size=40))
def test_respelling_matches_as_one_regular_expression_of_all_keys_did(keys, text):
    entries = {key: f"<{n}>" for n, key in enumerate(keys)}
    try:
        respell = Lexicon(entries)
    except LexiconError:  # an empty key, or one that repeats another
        return
    assert respell(text) == _by_one_pattern(entries, text)


def test_a_lexicon_of_1_mb_respells_a_session_in_moments(tmp_path):
    # 10,000 keys as one regular expression took 46 s for a 15-minute session's 106
    # sentences, and some 50,000 fit in 1 MB; now: well under a second
    path = tmp_path / "big.toml"
    rows = [f'"w{n:05d} x{n:05d}" = "r{n}"\n' if n % 7 == 0 else f'w{n:05d} = "r{n}"\n'
            for n in range(50_000)]
    path.write_text("knees = \"neez\"\n" + "".join(rows))
    assert 900_000 < path.stat().st_size <= lexicon.MAX_BYTES
    code = ("import sys; from pathlib import Path; from tre_audio.speech import lexicon\n"
            "from tre_audio.narration import render\nfrom tre_audio.options import settings\n"
            "from tre_audio.narration.script import parse, spoken\n"
            "text = render.render('classic', pace=settings.pace('steady'), "
            "level=settings.level('sensitive'), minutes=15.0)\n"
            "respell = lexicon.load(Path(sys.argv[1]))\n"
            "said = [respell(s) for s in spoken(parse(text))]\n"
            "print(len(respell), sum('neez' in s for s in said))")
    done = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    entries, respelled = map(int, done.stdout.split())
    assert entries == 50_001 and respelled == 13
