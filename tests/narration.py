"""Reading rendered narration in tests: events by chapter, the words spoken."""

from __future__ import annotations

from tre_audio.narration import script


def chapters(events: list[script.Event]) -> dict[str, list[script.Event]]:
    """Events under each chapter title."""
    parts: dict[str, list[script.Event]] = {}
    current: list[script.Event] = []
    for event in events:
        if isinstance(event, script.Chapter):
            current = parts.setdefault(event.title, [])
        else:
            current.append(event)
    return parts


def spoken(events: list[script.Event]) -> str:
    return " ".join(e.text for e in events if isinstance(e, script.Say))


def norm(text: str) -> str:
    return " ".join(text.lower().split())


def sentences(events: list[script.Event]) -> list[str]:
    """Every spoken sentence, in order."""
    return [e.text for e in events if isinstance(e, script.Say)]


def missing(events: list[script.Event], phrases: dict[str, list[str]]) -> list[str]:
    """The phrases (per chapter title) a render does not speak in that chapter; checked
    in lower case with whitespace collapsed. A chapter that is absent misses them all."""
    parts = chapters(events)
    return [
        f"{title}: {phrase!r}"
        for title, wanted in phrases.items()
        for phrase in wanted
        if phrase not in norm(spoken(parts.get(title, [])))
    ]


def as_spoken(text: str) -> str:
    """``text`` as every voice is asked to say it: with the shipped lexicon's
    respellings (112 is said "one one two")."""
    from tre_audio.speech import lexicon

    return lexicon.shipped("", "en")(text)
