"""Voice names: one name a voice, unique across the engines; the name brings the engine;
what `tre-audio list voices` prints as usable is what `--voice` takes."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from tre_audio.choices import layers
from tre_audio.choices.profile import Profile
from tre_audio.cli import cli
from tre_audio.errors import EngineError, InvalidOption, PlanError, ProfileError
from tre_audio.options.settings import SAMPLE_RATE, VOICE_WPM
from tre_audio.speech import engine, piper, system
from tre_audio.speech.cache import ClipCache
from tre_audio.speech.engine import engine_module, resolve
from tre_audio.speech.speaker import Speaker

ROW = re.compile(r"^(\S+) +(piper|hibari|system) +(\S+) +(.+?) +(\d+x|-) +(\S.*)$")
"""name, engine, language, accent and gender, speed, and the description."""


def columns() -> list[tuple[str, ...]]:
    """The rows of `tre-audio list voices`, column by column."""
    result = CliRunner().invoke(cli, ["list", "voices"])
    assert result.exit_code == 0, result.stderr
    rows = []
    for line in result.stdout.splitlines():
        match = ROW.match(line)
        assert match, line
        rows.append(match.groups())
    return rows


def listed() -> list[tuple[str, str, str]]:
    """The rows of `tre-audio list voices`: name, engine, the description."""
    return [(row[0], row[1], row[5]) for row in columns()]


CONFIG = b'{"audio": {"sample_rate": 22050}, "phoneme_id_map": {}}'
"""The least of a Piper voice's config that listing checks."""


def add_voices(folder, *names: str) -> None:
    (folder / "voices").mkdir()
    for name in names:
        (folder / "voices" / f"{name}.onnx").write_bytes(b"not read when listing")
        (folder / "voices" / f"{name}.onnx.json").write_bytes(CONFIG)


def test_every_name_listed_as_usable_is_taken_by_voice(private_folders):
    """Against the real list on this machine: each usable name is unique, brings its
    engine, and opens (the system voices are opened for real, with espeak-ng; a Piper
    voice's file is found, its model not loaded)."""
    rows = listed()
    usable = [(name, which) for name, which, about in rows if not about.startswith("refused")]
    names = [name for name, _ in usable]
    assert len(names) == len(set(names))  # one voice a name
    assert ("joe", "piper") in usable and "en_US-joe-medium" not in names
    if system.ESPEAK:
        assert ("en-gb", "system") in usable and "en" not in names
    for name, which in usable:
        assert resolve(None, name)[0] == which, name
        chosen, opens = resolve(which, name)  # with its own engine too
        assert chosen == which
        if which == "system":
            system.open_engine(opens, 170).close()
        else:
            assert engine_module(which).fingerprint(opens)


def test_the_list_prints_name_engine_language_accent_gender_speed_and_description(
        private_folders, tmp_path, monkeypatch):
    monkeypatch.setenv("TRE_AUDIO_CACHE", str(tmp_path / "cache"))
    rows = {row[0]: row[1:] for row in columns()}
    assert rows["heart"][:4] == ("hibari", "en-US", "American, female", "99x")  # shipped
    assert rows["joe"][:3] == ("piper", "en-US", "American, male")
    from tre_audio.speech import cache

    cache.keep_speed("hibari", "heart", 88.4)  # as a session that spoke keeps it
    assert {row[0]: row[4] for row in columns()}["heart"] == "88x"
    rows = listed()
    assert rows[0][:2] == ("heart", "hibari") and "(the default)" in rows[0][2]
    assert rows[1][:2] == ("joe", "piper") and "en_US-joe-medium" in rows[1][2]
    assert any(which == "system" for _, which, _ in rows)
    assert not any(name.startswith(("piper:", "system:")) for name, _, _ in rows)


def test_listing_runs_no_model(monkeypatch, private_folders):
    def refuse(*args, **kwargs):
        raise AssertionError("a voice was opened to list the voices")

    for module in (piper, system):
        monkeypatch.setattr(module, "open_engine", refuse)
    monkeypatch.setattr(piper, "fingerprint", refuse)
    assert engine.voices().voices


def test_a_name_brings_its_engine_and_an_engine_alone_its_default():
    assert resolve(None, None) == ("hibari", "heart")
    assert resolve("system", None) == ("system", system.DEFAULT_VOICE)
    assert resolve("piper", None) == ("piper", "joe")
    assert resolve(None, "joe") == ("piper", "joe")
    assert resolve(None, system.DEFAULT_VOICE) == ("system", system.DEFAULT_VOICE)


@pytest.mark.skipif(not system.ESPEAK, reason="espeak-ng's voice names")
def test_british_english_is_en_gb_and_old_names_still_work():
    assert resolve(None, "en-gb") == ("system", "en")  # espeak-ng's own name for it
    assert resolve("system", "en-gb") == ("system", "en")
    assert resolve(None, "en-gb+m3") == ("system", "en+m3")  # with a variant
    assert resolve(None, "en") == ("system", "en")  # the name it was listed by
    assert resolve(None, "en_US-joe-medium") == ("piper", "en_US-joe-medium")
    assert resolve("system", "de") == ("system", "de")  # not listed: the engine decides


@pytest.mark.parametrize(("chosen", "voice", "owner"), [
    ("system", "joe", "piper"), ("piper", system.DEFAULT_VOICE, "system"),
    ("piper", "en-us", "system")])
def test_an_engine_and_another_engines_voice_are_refused(chosen, voice, owner):
    message = (f"--voice '{voice}' is a {owner} voice, not a {chosen} one: give the voice "
               f"alone (it brings its engine) or a {chosen} voice; see: tre-audio list voices")
    with pytest.raises(InvalidOption, match=f"^{re.escape(message)}$") as info:
        resolve(chosen, voice)
    assert info.value.option == "--voice"


def test_an_unknown_name_is_refused():
    with pytest.raises(InvalidOption, match=r"^unknown voice 'nobody'; see: tre-audio "
                                            r"list voices$"):
        resolve(None, "nobody")
    with pytest.raises(InvalidOption, match=r"^unknown voice 'piper:joe'"):
        resolve(None, "piper:joe")  # the old listing's spelling is no name
    with pytest.raises(InvalidOption, match="^unknown engine 'robot'"):
        resolve("robot", "joe")
    with pytest.raises(InvalidOption, match="^unknown piper voice 'nobody'"):
        Speaker("piper", "nobody", 170, ClipCache(Path("cache"), 44100))  # as before


def test_a_users_voice_that_takes_a_taken_name_is_listed_as_refused(private_folders):
    add_voices(private_folders, "joe", "en_US-joe-medium", "mine", "en-gb",
               system.DEFAULT_VOICE)
    rows = {(name, which): about for name, which, about in listed()}
    assert rows[("mine", "piper")].startswith("your Piper voice, in ")
    for name in ("joe", "en_US-joe-medium"):
        assert rows[(name, "piper")].startswith(
            f"refused: '{name}' is a name of a shipped piper voice (your Piper voice")
    assert rows[(system.DEFAULT_VOICE, "piper")].startswith(
        f"refused: '{system.DEFAULT_VOICE}' is a name of a shipped system voice")
    assert resolve(None, "joe") == ("piper", "joe")  # the shipped one, not the file
    assert piper.model_path("joe") == piper.model_path("en_US-joe-medium") != \
        private_folders / "voices" / "joe.onnx"
    assert resolve(None, "mine") == ("piper", "mine")
    if system.ESPEAK:  # an earlier engine's voice has the name: the system's is refused
        assert rows[("en-gb", "piper")].startswith("your Piper voice")
        assert rows[("en-gb", "system")].startswith(
            "refused: 'en-gb' already names the piper voice listed above")
        assert resolve(None, "en-gb") == ("piper", "en-gb")
        with pytest.raises(InvalidOption, match=r"^--voice 'en' is the system voice "
                                                r"'en-gb', which is refused: 'en-gb' "
                                                r"already names the piper voice"):
            resolve(None, "en")  # its older name brings no voice of another engine
        assert resolve("system", "en") == ("system", "en")  # its engine still takes it


def test_the_same_file_name_in_two_folders_lists_the_second_as_refused(private_folders,
                                                                         monkeypatch):
    first, second = private_folders / "a", private_folders / "b"
    for folder in (first, second):
        folder.mkdir()
        (folder / "twin.onnx").write_bytes(b"x")
        (folder / "twin.onnx.json").write_bytes(CONFIG)
    monkeypatch.setattr(piper, "voice_folders", lambda: [first, second])
    twins = [v for v in engine.voices().voices if v.name == "twin"]
    assert [bool(v.refused) for v in twins] == [False, True]
    assert twins[1].refused == "'twin' already names the piper voice listed above"
    assert piper.model_path("twin") == first / "twin.onnx"


def test_a_bundled_voice_not_installed_is_listed_as_refused(monkeypatch):
    monkeypatch.setattr(piper, "_bundled_model", lambda: None)
    joe = next(v for v in engine.voices().voices if v.engine == "piper")
    assert joe.name == "joe" and joe.refused == f"it is not installed: {piper.INSTALL_HINT}"
    assert resolve(None, "joe") == ("piper", "joe")
    with pytest.raises(EngineError, match="bundled Piper voice is not installed"):
        piper.model_path("joe")


def test_an_engine_that_cannot_list_is_shown_and_named_in_the_refusal(monkeypatch):
    def missing() -> None:
        raise EngineError(system.PYTTSX3_HINT)

    monkeypatch.setattr(system, "_require_pyttsx3", missing)
    found = engine.voices()
    assert found.unavailable == (("system", system.PYTTSX3_HINT),)
    result = CliRunner().invoke(cli, ["list", "voices"])
    assert result.exit_code == 0
    assert result.stdout.splitlines()[-1].split()[:3] == ["-", "system", "unavailable:"]
    with pytest.raises(InvalidOption, match=r"^unknown voice 'en-gb'; see: tre-audio list "
                                            r"voices \(the system voices could not be "
                                            r"listed: the system engine needs pyttsx3"):
        resolve(None, "en-gb")
    assert resolve("system", "en-gb") == ("system", "en-gb")  # left to the engine


def test_profiles_and_plans_follow_the_same_rule(private_folders):
    made = layers.options({}, profile=Profile(voice="en-us"))
    assert made.engine is None and made.voice == "en-us"
    assert resolve(made.engine, made.voice)[0] == "system"
    with pytest.raises(ProfileError, match=r"^your profile, voice: voice 'joe' is a piper "
                                           r"voice, not a system one"):
        layers.options({}, profile=Profile(engine="system", voice="joe"))
    assert layers.options({"engine": "system"}, profile=Profile()).engine == "system"
    plan = Path("p.toml")
    plan.write_text('engine = "system"\nvoice = "joe"\n', encoding="utf-8")
    with pytest.raises(PlanError, match=r"^p.toml, line 2, voice: voice 'joe' is a piper "
                                        r"voice, not a system one"):
        layers.options({}, plan, profile=Profile())
    plan.write_text('voice = "en_US-joe-medium"\n', encoding="utf-8")  # an old plan
    assert layers.options({}, plan, profile=Profile()).voice == "en_US-joe-medium"
    from tre_audio.session import resolve as resolve_session

    made = layers.options({}, plan, profile=Profile())
    assert resolve_session(made).voice == "joe"  # what the timeline keeps: the listed name
    if system.ESPEAK:
        made = layers.options({"voice": "en+f3"}, profile=Profile())
        assert resolve_session(made).voice == "en-gb+f3"  # espeak-ng's file: its language


def test_say_refuses_a_mismatch_and_an_unknown_name_in_one_line():
    for args, words in ((["--engine", "system", "--voice", "joe"], "is a piper voice"),
                        (["--voice", "nobody"], "unknown voice 'nobody'")):
        result = CliRunner().invoke(cli, ["say", "Hello.", *args])
        assert result.exit_code == 2
        assert len(result.stderr.splitlines()) == 1 and words in result.stderr


@pytest.mark.skipif(not system.ESPEAK, reason="espeak-ng's voice names")
def test_a_voice_named_by_its_language_speaks_from_the_same_cache_as_before(tmp_path):
    """`en-gb` alone brings the system engine and speaks; its clips are keyed as those
    of `--engine system --voice en` were, so the cache made before still serves."""
    cache = ClipCache(tmp_path / "cache", SAMPLE_RATE)
    speaker = Speaker(None, "en-gb", VOICE_WPM, cache)
    assert (speaker.engine_name, speaker.voice) == ("system", "en")
    assert speaker.identity == Speaker("system", "en", VOICE_WPM, cache).identity
    assert speaker.speak(["Hello there."])["Hello there."].size > 0.3 * SAMPLE_RATE


@pytest.mark.skipif(not system.ESPEAK, reason="espeak-ng's voice names")
def test_say_speaks_with_a_system_voice_named_alone(private_folders):
    """The issue's case: `--voice en-gb` was refused, with or without `--engine system`."""
    for args in (["--voice", "en-gb"], ["--engine", "system", "--voice", "en-gb"]):
        result = CliRunner().invoke(cli, ["say", "Hello.", *args, "-o", "hi.mp3"])
        assert result.exit_code == 0, result.stderr
        assert (private_folders / "hi.mp3").stat().st_size > 0


def test_a_voice_file_that_cannot_work_or_be_typed_back_is_listed_as_refused(
        private_folders):
    (private_folders / "voices").mkdir()
    (private_folders / "voices" / "lonely.onnx").write_bytes(b"no config beside it")
    (private_folders / "voices" / "ctl\x07x.onnx").write_bytes(b"")
    (private_folders / "voices" / "ctl\x07x.onnx.json").write_bytes(CONFIG)
    (private_folders / "voices" / "odd.onnx").write_bytes(b"")
    (private_folders / "voices" / "odd.onnx.json").write_bytes(b'{"audio": []}')
    os.mkfifo(private_folders / "voices" / "pipe.onnx")
    (private_folders / "voices" / "zero.onnx").symlink_to("/dev/zero")
    for name in ("pipe", "zero"):
        (private_folders / "voices" / f"{name}.onnx.json").write_bytes(CONFIG)
    rows = {name: rest for name, _, rest in listed()}
    assert rows["pipe"].startswith("refused: it is not a regular file")
    assert rows["zero"].startswith("refused: it is not a regular file")
    assert rows["odd"].startswith("refused: odd.onnx.json, its config, is not a Piper "
                                  "voice's config")
    assert rows["lonely"].startswith("refused: lonely.onnx.json, its config, is not beside")
    assert rows["ctl\\x07x"].startswith("refused: its file name is not plain text")
    with pytest.raises(InvalidOption, match="which is refused: lonely.onnx.json"):
        resolve(None, "lonely")
