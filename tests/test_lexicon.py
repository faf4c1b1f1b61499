"""The pronunciation lexicon: parsing, respelling, its errors, ``say``, and a session
that speaks respelled words while its subtitles keep them as written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from measure import RATE, decode, probe, rms_db
from test_cli_errors import assert_one_line_error, no_audio_written
from tre_audio.cli import cli
from tre_audio.errors import LexiconError
from tre_audio.speech.lexicon import Lexicon, default_path, find, layered, load, shipped
from tre_audio import session as session_module
from tre_audio.session import SAY_LEAD, SAY_TAIL, generate
from tre_audio.options.values import Options, Sound
from tre_audio.options.settings import pace
from tre_audio.speech import speaker as speaker_module

LEXICON = """\
# how the voice should say them
Berceli = "ber chelly"
TRE = "T R E"
psoas = "so ass"
find = "look for"
"find a helpline" = "find a help line"
"""


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


@pytest.fixture
def words(private_folders) -> Path:
    path = private_folders / "words.toml"
    path.write_text(LEXICON, encoding="utf-8")
    return path


@pytest.fixture
def config_home(tmp_path, monkeypatch) -> Path:
    """A config folder of this test's own, so a lexicon put there is seen by no other."""
    home = tmp_path / "config"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home))
    return home


# Respelling


@pytest.fixture
def respell(words) -> Lexicon:
    return load(words)


def test_whole_words_in_any_case(respell):
    assert respell("TRE, tre and Tre.") == "T R E, T R E and T R E."
    assert respell("Berceli's BERCELI") == "ber chelly's ber chelly"


def test_a_word_inside_another_word_is_untouched(respell):
    text = "TREmor, stress and the psoases; finding a pathfinder."
    assert respell(text) == text


def test_punctuation_around_a_word_is_kept(respell):
    assert respell('(TRE) "psoas", TRE-based; psoas? TRE.') == \
        '(T R E) "so ass", T R E-based; so ass? T R E.'


def test_several_words_match_with_any_spacing_and_the_longest_key_wins(respell):
    assert respell("Find a  helpline, or find one.") == "find a help line, or look for one."
    assert respell("find a helper") == "look for a helper"


def test_every_voice_says_the_numbers_and_address_a_person_reads():
    said = shipped("heart")
    assert said("112 works on most mobile phones, and some countries use 911, 999, or "
                "000.") == ("one one two works on most mobile phones, and some countries "
                            "use nine one one, nine nine nine, or triple zero.")
    assert shipped("joe")("use 911, 999, or 000.") == (  # joe's own layer, over en.toml
        "use nine one one, or nine nine nine, or triple zero.")
    assert said("Call it: 112 from most mobiles.") == "Call it: one one two from most mobiles."
    assert said("The website findahelpline.com has crisis lines.") == (
        "The website find a helpline dot com, all one word, has crisis lines.")
    for yours in ("In 2,000 years we walked 1,112 miles.", "Dial 112.5 or $112 or 112-911.",
                  "It has 1,999 lines, and 000 is zero."):
        assert said(yours) == yours  # numbers of a script of yours are left to the voice
    assert len(shipped("heart", "de")) == 0  # English words, for English texts only


def test_the_user_s_lexicon_wins_over_the_shipped_one(tmp_path):
    mine = Lexicon({"112 works": "eleven twelve works", "TRE": "T R E"}, tmp_path / "l.toml")
    both = layered(shipped("heart"), mine)
    assert both("TRE: 112 works, or findahelpline.com has them.") == (
        "T R E: eleven twelve works, or find a helpline dot com, all one word, has them.")
    assert both.source == mine.source and len(both) == len(shipped("heart")) + 1


def test_respellings_are_used_as_written_once(tmp_path):
    swap = Lexicon({"up": "down", "down": "up", "slash": r"a \1 b"})
    assert swap("Up, down, slash.") == r"down, up, a \1 b."  # one pass; no regex escapes
    assert Lexicon({})("Nothing to do.") == "Nothing to do."


def test_the_speaker_loads_the_given_lexicon(words):
    speaker = session_module.speaker(Options(lexicon=words))
    assert isinstance(speaker.lexicon, Lexicon) and speaker.lexicon.source == words
    assert len(speaker.lexicon) == 5 + len(shipped("heart"))  # over the shipped words
    assert speaker.spoken("Hello TRE.") == "Hello T R E."


def test_the_users_own_lexicon_is_found_and_a_given_one_wins(config_home, words):
    assert find(None) is None
    assert session_module.speaker(Options()).lexicon.entries == shipped("heart").entries
    mine = default_path()
    assert mine == config_home / "tre-audio" / "lexicon.toml"
    mine.parent.mkdir(parents=True)
    mine.write_text('TRE = "trauma release"\n', encoding="utf-8")
    assert session_module.speaker(Options()).spoken("TRE.") == "trauma release."
    assert session_module.speaker(Options(lexicon=words)).spoken("TRE.") == "T R E."


def test_entries_made_in_code_are_checked_too():
    with pytest.raises(LexiconError, match="empty respelling"):
        Lexicon({"TRE": " "})
    with pytest.raises(LexiconError, match="'tre' repeats 'TRE'"):
        Lexicon({"TRE": "T R E", "tre": "tree"})


# Errors: the file and the line, one line on stderr, nothing written


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("psoas = 3\n", ["line 1", "'psoas' is a number, not a string", 'word = "respelling"']),
        ('TRE = "T R E"\npsoas = true\n', ["line 2", "true or false, not a string"]),
        ('TRE = "T R E"\nlist = ["a"]\n', ["line 2", "a list, not a string"]),
        ('TRE = "T R E"\n\n[more]\nx = "y"\n', ["line 3", "'more' is a table"]),
        ('"" = "nothing"\n', ["line 1", "an empty word", 'word = "respelling"']),
        ('# words\nTRE = "  "\n', ["line 2", "'TRE' has an empty respelling"]),
        ('TRE = "[T R E]"\n', ["line 1", "contains '['", "without [, ] or #"]),
        ('TRE = "T R E"\npsoas = "so # ass"\n', ["line 2", "contains '#'"]),
        ('TRE = "T R\\nE"\n', ["line 1", "line break", "one line"]),
        ('TRE = "T R E"\ntre = "tree"\n', ["line 2", "'tre' repeats 'TRE'"]),
        ('TRE = "T R E"\nfind a helpline = "x"\n', ["not valid TOML", "line 2",
                                                    "quote a key of several words"]),
        ('TRE = "T R E"\npsoas =\n', ["not valid TOML", "line 2"]),
        ('TRE = "T R E\n', ["not valid TOML", "line 1"]),
    ],
)
def test_a_bad_lexicon_names_file_and_line_and_exits_1(text, words, private_folders):
    path = private_folders / "bad.toml"
    path.write_text(text, encoding="utf-8")
    result = run("say", "Hello.", "--lexicon", "bad.toml", "-o", "out/x.mp3")
    assert_one_line_error(result, 1, "lexicon bad.toml", *words)
    assert no_audio_written(private_folders)


def test_a_lexicon_that_is_not_utf8(private_folders):
    path = private_folders / "bad.toml"
    path.write_bytes('TRE = "T R E"\nBerceli = "ber chelly"\nx = "caf\xe9"\n'.encode("latin-1"))
    result = run("say", "Hello.", "--lexicon", "bad.toml", "-o", "out/x.mp3")
    assert_one_line_error(result, 1, "lexicon bad.toml, line 3", "not UTF-8")
    assert no_audio_written(private_folders)


def test_a_users_lexicon_that_cannot_be_read(config_home, private_folders):
    (config_home / "tre-audio" / "lexicon.toml").mkdir(parents=True)  # a folder: unreadable
    result = run("say", "Hello.", "-o", "out/x.mp3")
    assert_one_line_error(result, 1, "lexicon.toml is a folder, not a file")
    assert no_audio_written(private_folders)


def test_a_session_with_a_bad_lexicon_fails_before_speaking(private_folders, monkeypatch):
    def no_engine(*args, **kwargs):
        raise AssertionError("the engine was opened")

    monkeypatch.setattr(speaker_module, "open_engine", no_engine)
    script = private_folders / "s.txt"
    script.write_text("[chapter: A]\nHello.\n", encoding="utf-8")
    (private_folders / "bad.toml").write_text("TRE = 1\n", encoding="utf-8")
    result = run("generate", "--script", str(script), "--lexicon", "bad.toml")
    assert_one_line_error(result, 1, "lexicon bad.toml, line 1", "not a string")
    assert no_audio_written(private_folders)


def test_a_broken_users_lexicon_does_not_stop_commands_that_speak_nothing(
        config_home, private_folders):
    (config_home / "tre-audio").mkdir(parents=True, exist_ok=True)
    (config_home / "tre-audio" / "lexicon.toml").write_text("TRE = 1\n", encoding="utf-8")
    assert run("script").exit_code == 0
    assert run("plot", "-o", "shape.svg").exit_code == 0
    assert_one_line_error(run("say", "Hello."), 1, "lexicon.toml, line 1")


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["say", "Hello.", "--lexicon", "missing.toml"], ["lexicon file does not exist",
                                                          "missing.toml"]),
        (["generate", "--lexicon", "missing.toml"], ["lexicon file does not exist"]),
        (["say", "Hello.", "--lexicon", "."], ["'.' is a directory"]),
        (["say", "   "], ["nothing to say"]),
        (["say", ""], ["nothing to say"]),
        (["say", "Hello.", "-o", "hello.wav"], ["must end in .mp3"]),
        (["say", "Hello.", "--voice", "nobody"], ["unknown voice 'nobody'"]),
    ],
)
def test_usage_errors_exit_2(args, words, private_folders):
    assert_one_line_error(run(*args), 2, *words)
    assert no_audio_written(private_folders)


# say: real speech with Piper, measured


def test_say_speaks_a_respelled_line_into_a_short_mp3(words, private_folders, speech_cache):
    result = run("say", "TRE. Tree.", "--lexicon", str(words))
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines() == ["output/say.mp3", "spoken as: T R E. Tree."]
    path = private_folders / "output" / "say.mp3"
    info = probe(path)
    stream = info["streams"][0]
    assert (stream["codec_name"], stream["channels"]) == ("mp3", 1)
    assert int(stream["sample_rate"]) == RATE

    # the cache holds the respelled sentence, not the written one
    speaker = session_module.speaker(Options(lexicon=words), speech_cache)
    letters = speaker.cache.get(speaker.cache.key(speaker.identity, "T R E."))
    tree = speaker.cache.get(speaker.cache.key(speaker.identity, "Tree."))
    assert letters is not None and tree is not None
    assert speaker.cache.get(speaker.cache.key(speaker.identity, "TRE.")) is None
    # three letters take longer than one word: the respelling is what was spoken
    assert len(letters) / RATE > len(tree) / RATE + 0.3
    # four words at the voice's 170 words a minute take about 1.4 s
    assert 0.7 < (len(letters) + len(tree)) / RATE < 2.8

    # the file is exactly the two clips with the gap, lead and tail around them
    planned = SAY_LEAD + (len(letters) + len(tree)) / RATE + pace("gentle").min_gap + SAY_TAIL
    assert abs(float(info["format"]["duration"]) - planned) < 0.1
    samples = decode(path)
    assert rms_db(samples, SAY_LEAD, SAY_LEAD + len(letters) / RATE) > -24
    assert rms_db(samples, 0, SAY_LEAD - 0.05) < -60

    # nothing respelled: only the path is printed (and the clip comes from the cache)
    again = run("say", "Tree.", "--lexicon", str(words), "-o", "check/tree.mp3")
    assert again.exit_code == 0, again.stderr
    assert again.stdout == "check/tree.mp3\n"
    planned = SAY_LEAD + len(tree) / RATE + SAY_TAIL
    assert abs(float(probe(private_folders / "check" / "tree.mp3")["format"]["duration"])
               - planned) < 0.1


# A session: the lexicon is spoken, the text is kept

SCRIPT = """\
[chapter: Arrival]
Welcome to TRE with Berceli.
[pause 2s]
Breathe out slowly.
"""


def test_a_session_speaks_the_respellings_and_keeps_the_written_text(
    words, private_folders, speech_cache, monkeypatch
):
    script = private_folders / "short.txt"
    script.write_text(SCRIPT, encoding="utf-8")
    spoken: list[str] = []
    synthesize_all = speaker_module.synthesize_all

    def recording(engine, texts):
        spoken.extend(texts)
        return synthesize_all(engine, texts)

    monkeypatch.setattr(speaker_module, "synthesize_all", recording)
    quiet = Sound(ambient="none", bells=False)  # the voice alone: quicker to make
    options = Options(lexicon=words, sound=quiet)
    session = generate(options, out=private_folders / "first.mp3", script=script,
                       cache=speech_cache)
    assert "Welcome to T R E with ber chelly." in spoken
    assert "Welcome to TRE with Berceli." not in spoken

    for suffix in (".vtt", ".srt", ".txt"):
        text = session.path.with_suffix(suffix).read_text(encoding="utf-8")
        assert "Welcome to TRE with Berceli." in text and "ber chelly" not in text, suffix
    timeline = json.loads(session.path.with_suffix(".json").read_text(encoding="utf-8"))
    assert timeline["lexicon"] == words.name  # its name: the page hands the timeline out
    said = [s for s in timeline["segments"] if s["kind"] == "speech"]
    assert [s["text"] for s in said] == ["Welcome to TRE with Berceli.", "Breathe out slowly."]

    # the voice says the respelling where the plan puts the sentence
    speaker = session_module.speaker(options, speech_cache)
    respelled = "Welcome to T R E with ber chelly."
    clip = speaker.cache.get(speaker.cache.key(speaker.identity, respelled))
    first = session.plan.segments[[s.kind for s in session.plan.segments].index("speech")]
    assert first.duration == pytest.approx(len(clip) / RATE, abs=1e-6)
    assert rms_db(decode(session.path), first.start, first.end) > -28

    # another respelling: only the sentence it changes is spoken again
    spoken.clear()
    other = private_folders / "other.toml"
    other.write_text('TRE = "tee are ee"\n', encoding="utf-8")
    generate(Options(lexicon=other, sound=quiet), out=private_folders / "second.mp3", script=script,
             cache=speech_cache)
    assert spoken == ["Welcome to tee are ee with Berceli."]


def test_a_lexicon_may_not_lengthen_a_sentence_past_what_a_voice_takes(private_folders):
    """Each respelling is one line, but a thousand of them can make a sentence far longer
    than a script may write one; the voice is never asked for it."""
    (private_folders / "l.toml").write_text(f'calm = "{"so " * 300}"\n', encoding="utf-8")
    result = CliRunner().invoke(cli, ["say", "Calm, calm, calm.", "--lexicon", "l.toml"])
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.startswith("tre-audio: the lexicon makes 2,7")
    assert "a sentence spoken may be at most 2,000" in result.stderr
    assert [p.name for p in private_folders.rglob("*") if p.is_file()] == ["l.toml"]
