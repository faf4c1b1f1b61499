"""Reading rendered narration in tests: events by chapter, the words spoken."""

from __future__ import annotations

from tre_audio import script


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
