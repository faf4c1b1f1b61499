"""The narration script format: cues, sentences, errors that name the line."""

from __future__ import annotations

import pytest

from tre_audio.errors import ScriptError
from tre_audio.script import Bell, Chapter, Hold, Pause, Say, format_event, parse, read

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
