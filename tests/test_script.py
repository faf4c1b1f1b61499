"""The narration script format: cues, sentences, errors that name the line."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bounded import finishes
from tre_audio.errors import ScriptError, TreAudioWarning
from tre_audio.narration.script import (Bell, Chapter, Hold, Pause, Say, clean,
                                        format_event, parse, read)

GOOD = """\
# a comment
[chapter: Ankle rolls]
[bell]
Stand with your feet apart. Let your knees soften!
Are you comfortable?
[pause 2 breaths]
[pause 4s]   # planned: 4 s
[pause 1.5 min]
[hold 30-60s]
[hold 1-2 min]
[hold 45 seconds]

Roll onto the outer edges,
and then back again.
"""


def test_cues_and_sentences_are_parsed():
    events = parse(GOOD)
    assert events == [
        Chapter("Ankle rolls", 2),
        Bell(3),
        Say("Stand with your feet apart.", 4),
        Say("Let your knees soften!", 4),
        Say("Are you comfortable?", 4),
        Pause(2, "breath", 6),
        Pause(4, "s", 7),
        Pause(90, "s", 8),
        Hold(30, 60, "s", 9),
        Hold(60, 120, "s", 10),
        Hold(45, 45, "s", 11),
        Say("Roll onto the outer edges, and then back again.", 13),
    ]


def test_formatting_parses_back_to_the_same_events():
    events = parse(GOOD)
    text = "\n".join(format_event(e) for e in events)
    assert [format_event(e) for e in parse(text)] == [format_event(e) for e in events]


@pytest.mark.parametrize(
    ("text", "line", "why"),
    [
        ("[chapter: A]\n[pause]\n", 2, "malformed cue"),
        ("[chapter: A]\n[pause 3 parsecs]\n", 2, "unknown unit"),
        ("[chapter: A]\n[hold 60-30s]\n", 2, "range must go low-high"),
        ("[chapter: A]\n[pause 0s]\n", 2, "above zero"),
        ("[chapter: A]\n[pause 2-4s]\n", 2, "one length"),
        ("[chapter: A]\n[hold 10-45 min]\n", 2, "at most 30 minutes"),
        ("[chapter: A]\nHello.\n[chapter]\n", 3, "needs a title"),
        ("[chapter: A]\n[bell\n", 2, "malformed cue"),
        ("Hello there.\n[chapter: A]\n", 1, "before the first [chapter"),
        ("[bell]\n[chapter: A]\n", 1, "before the first [chapter"),
    ],
)
def test_malformed_scripts_name_the_line(text, line, why):
    with pytest.raises(ScriptError) as error:
        parse(text, source="my.txt")
    message = str(error.value)
    assert f"my.txt, line {line}:" in message and why in message
    assert "\n" not in message


@pytest.mark.parametrize("text", ["", "   \n# only a comment\n", "[chapter: A]\n[bell]\n"])
def test_scripts_with_nothing_to_say_are_refused(text):
    with pytest.raises(ScriptError, match="empty|no narration"):
        parse(text)


def test_read_refuses_missing_binary_and_folder(tmp_path):
    with pytest.raises(ScriptError, match="not found"):
        read(tmp_path / "missing.txt")
    with pytest.raises(ScriptError, match="folder"):
        read(tmp_path)
    binary = tmp_path / "b.txt"
    binary.write_bytes(b"\xff\xfe\x00\x81")
    with pytest.raises(ScriptError, match="not UTF-8"):
        read(binary)


# Plain text: what a script may hold, and what it may not


def test_a_byte_order_mark_is_ignored(tmp_path):
    path = tmp_path / "s.txt"
    path.write_bytes(b"\xef\xbb\xbf[chapter: A]\r\nHello.\r\n")
    assert read(path) == [Chapter("A", 1), Say("Hello.", 2)]


def test_a_line_separator_breaks_a_line_and_errors_count_lines_as_an_editor_does():
    text = "[chapter: A]\nRest.\u2028[pause 4s]\u2029Again.\n"
    assert parse(text) == [Chapter("A", 1), Say("Rest.", 2), Pause(4, "s", 2), Say("Again.", 2)]
    with pytest.raises(ScriptError, match=r"^s\.txt, line 3: unknown unit"):
        parse("[chapter: A]\u2028Hello.\r\nRest.\r[pause 4 parsecs]\n", source="s.txt")


def test_a_nul_is_an_error_naming_its_line():
    with pytest.raises(ScriptError, match=r"^s\.txt, line 4: a NUL character"):
        parse("[chapter: A]\nHello.\n\nHel\0lo.\n", source="s.txt")


def test_other_control_characters_are_dropped():
    events = parse("[chapter: Ca\x01lm\x7f]\nBreathe\x0bin\x07 slowly.\x9b\n")
    assert events == [Chapter("Calm", 1), Say("Breathe in slowly.", 2)]
    assert clean("a\tb\r\nc\x0cd\x00\ufeffe\uffff") == "a\tb\r\nc de"


def test_text_that_looks_like_a_cue_is_read_aloud_with_a_warning():
    text = ("[chapter: A]\nRest now (pause 5s) and then {hold 30s}.\n"
            "A <bell>, then [breathe in 4s] with me.\nHold on (gently), (hold on).\n")
    with pytest.warns(TreAudioWarning) as caught:
        events = parse(text, source="s.txt")
    assert [str(w.message) for w in caught] == [
        "s.txt, line 2: '(pause 5s)' looks like a cue but is read aloud; a cue is a line "
        "of its own in square brackets: [pause 5s]",
        "s.txt, line 2: '{hold 30s}' looks like a cue but is read aloud; a cue is a line "
        "of its own in square brackets: [hold 30s]",
        "s.txt, line 3: '<bell>' looks like a cue but is read aloud; a cue is a line of its "
        "own in square brackets: [bell]",
        "s.txt, line 3: '[breathe in 4s]' looks like a cue but is read aloud; a cue is a "
        "line of its own in square brackets: [breathe in 4s]",
    ]
    assert [e.text for e in events if isinstance(e, Say)] == [
        "Rest now (pause 5s) and then {hold 30s}.", "A <bell>, then [breathe in 4s] with me.",
        "Hold on (gently), (hold on)."]


@pytest.mark.parametrize(("text", "why"), [
    ("[chapter: A]\nIn " + "and " * 250 + "out.\n", "a sentence of 1,007 characters"),
    ("[chapter: A]\nWrapped " + "and\n" * 250 + "out.\n", "a sentence of 1,012 characters"),
    ("# long\n[chapter: " + "A" * 1001 + "]\nHello.\n", "a chapter title may be at most 1,000"),
    ("[chapter: A]\n[breathe in 4s: " + "a" * 1001 + "]\n", "each count is one to 3 words"),
])
def test_a_sentence_title_or_count_is_at_most_1000_characters(text, why):
    with pytest.raises(ScriptError, match=r"^s\.txt, line 2: ") as error:
        parse(text, source="s.txt")
    assert why in str(error.value) and len(str(error.value)) < 200
    assert parse("[chapter: A]\n" + "a" * 999 + ".\n")[1] == Say("a" * 999 + ".", 2)


def test_read_refuses_what_is_not_a_regular_file_of_at_most_1_mb(tmp_path):
    big = tmp_path / "big.txt"
    big.write_bytes(b"[chapter: A]\n" + b"Rest.\n" * 170_000)
    with pytest.raises(ScriptError, match="larger than 1 MB"):
        read(big)
    pipe = tmp_path / "pipe.txt"
    os.mkfifo(pipe)
    with pytest.raises(ScriptError, match="not a regular file"):
        finishes(lambda: read(pipe))
    with pytest.raises(ScriptError, match="not a regular file"):
        read(Path("/dev/zero"))
