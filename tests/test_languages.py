"""A programme in another language, added from a templates folder: its session, made
for real, carries none of tre-audio's English, and says its language where files can."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from mutagen.id3 import ID3

from tre_audio.cli import cli
from tre_audio.errors import InvalidOption
from tre_audio.narration import programmes, render
from tre_audio.speech import piper

PROGRAMMES = """\
[stille]
template = "stille/session.j2"
summary = "zehn ruhige Minuten zum Ankommen"
language = "de"
"""
SESSION = """\
[chapter: Ankommen]
[bell]
Willkommen{% if name %}, {{ name }}{% endif %}. Setz dich bequem hin.
[pause 1 breath]
Atme ruhig ein und wieder aus.
[hold 20-40s]
[chapter: Abschluss]
Du kannst jederzeit aufhören. Aufhören ist ein Erfolg.
[bell]
"""
GERMAN = {
    "notice.j2": "Selbstfürsorge, keine Behandlung und keine Krisenhilfe. tre-audio ist "
                 "unabhängig und nicht mit TRE for All, Inc. verbunden.",
    "title.j2": "{% if name %}{{ name }}: {% endif %}{{ label }}, {{ minutes }} Minuten",
    "album.j2": "tre-audio Sitzungen",
}
ENGLISH = [render.text("en", "notice", {}), render.text("en", "album", {}), "session",
           " pace", " min", "Self-care", "treatment", "Welcome", "breath", "Chapter", "Speech"]
"""What tre-audio says in English around a session: none of it may reach this one."""


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    made = tmp_path / "templates"
    (made / "stille").mkdir(parents=True)
    (made / "languages" / "de").mkdir(parents=True)
    (made / "programmes.toml").write_text(PROGRAMMES, encoding="utf-8")
    (made / "stille" / "session.j2").write_text(SESSION, encoding="utf-8")
    for name, text in GERMAN.items():
        (made / "languages" / "de" / name).write_text(text, encoding="utf-8")
    return made


def test_a_programme_from_the_templates_folder_is_listed_in_its_language(folder):
    assert programmes.programme("stille", folder).language == "de"
    result = CliRunner().invoke(cli, ["list", "programmes", "--templates", str(folder)])
    assert "stille" in result.stdout and "zehn ruhige Minuten" in result.stdout


@pytest.fixture
def german_voice(private_folders: Path) -> str:
    """A Piper voice named as German, in the folder's voices/ (Joe's model, linked:
    what it sounds like does not matter here, which voice is chosen does)."""
    model = piper._bundled_model()
    assert model is not None
    (private_folders / "voices").mkdir()
    for source, suffix in ((model, ".onnx"), (model.with_name(model.name + ".json"),
                                              ".onnx.json")):
        target = private_folders / "voices" / f"de_DE-probe-medium{suffix}"
        try:
            os.link(source, target)
        except OSError:  # another file system
            shutil.copyfile(source, target)
    return "de_DE-probe-medium"


def test_without_a_voice_of_its_language_the_session_is_refused(folder, private_folders):
    result = CliRunner().invoke(cli, ["generate", "stille", "--templates", str(folder)])
    assert result.exit_code == 2
    assert "no voice here speaks de, the language of programme 'stille'" in result.stderr
    assert result.stderr.count("\n") == 1 and not (private_folders / "output").exists()


def test_a_session_in_another_language_carries_no_english_of_tre_audios(
        folder, private_folders, german_voice):
    out = private_folders / "out" / "stille.mp3"
    result = CliRunner().invoke(cli, ["generate", "stille", "--templates", str(folder),
                                      "--name", "Sam", "-o", str(out)])
    assert result.exit_code == 0, result.output
    texts = {suffix: out.with_suffix(suffix).read_text(encoding="utf-8")
             for suffix in (".txt", ".vtt", ".srt", ".json")}
    tags = ID3(out, translate=False)  # as written: mutagen would name genre 101 itself
    said = [str(tags[key]) for key in ("TIT2", "TALB")] + [
        c.text[0] for c in tags.getall("COMM")] + [
        str(sub) for element in (*tags.getall("CHAP"), *tags.getall("CTOC"))
        for sub in element.sub_frames.values()] + tags["TCON"].text
    for where, text in [*texts.items(), *(("tag", t) for t in said)]:
        for english in ENGLISH:
            assert english not in text, (where, english)
    assert "Sam: stille" in said[0] and "Minuten" in said[0]
    assert {c.lang for c in tags.getall("COMM")} == {"deu"}
    assert tags["TCON"].genres == ["Speech"]  # by its number, which players name
    assert "TYER" in tags and "TDRC" not in tags  # a v2.3 tag's date, as eyeD3 reads it
    timeline = json.loads(texts[".json"])
    assert timeline["language"] == "de" and timeline["notice"] == GERMAN["notice.j2"]
    assert timeline["settings"]["voice"] == german_voice  # the language's own voice
    assert "Selbstfürsorge" in texts[".txt"]


def test_a_language_without_its_texts_is_one_clear_line_before_anything_is_made(
        folder, private_folders, german_voice):
    (folder / "languages" / "de" / "title.j2").unlink()
    for command in (["generate", "stille"], ["list", "programmes"]):
        result = CliRunner().invoke(cli, [*command, "--templates", str(folder)])
        assert result.exit_code == 1
        assert result.stderr.strip().endswith(
            "stille: a programme in 'de' needs its texts beside it: languages/de/title.j2 "
            "not found")
        assert result.stderr.count("\n") == 1
    assert not (private_folders / "output").exists()


def test_a_course_in_a_language_without_its_course_texts_is_refused_first(
        folder, private_folders, german_voice):
    from tre_audio.choices import layers, profile
    from tre_audio.course import Course
    from tre_audio.errors import ScriptError

    with (folder / "programmes.toml").open("a", encoding="utf-8") as toml:
        toml.write('[zittern]\nexercises = ["tremor"]\nsummary = "Zittern"\n'
                   'language = "de"\n')
    options = layers.options({"programme": "zittern", "templates": folder},
                             profile=profile.Profile())
    with pytest.raises(ScriptError, match="a course in 'de' needs its texts among the "
                       "templates: languages/de/course-session.j2, "):
        Course(options)


def test_an_engine_chosen_alone_still_speaks_the_programmes_language(folder, german_voice):
    from tre_audio.choices import layers, profile
    from tre_audio.session import resolve

    def voice(**given):
        return resolve(layers.options({"programme": "stille", "templates": folder, **given},
                                      profile=profile.Profile())).voice

    assert voice(engine="piper") == german_voice
    with pytest.raises(InvalidOption, match="no system voice here speaks de"):
        voice(engine="system")
    assert voice(voice="joe") == "joe"  # a voice chosen by name is the person's choice
