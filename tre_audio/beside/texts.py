"""Text views of a planned session: the annotated script and the transcript."""

from __future__ import annotations

from collections.abc import Sequence

from pathlib import Path

from ..narration import render
from ..narration.plan import Plan
from ..narration.script import Breathe, Chapter, Event, Hold, Pause, Say, format_event


def notice(language: str = "en", templates: Path | None = None) -> str:
    """The notice every session carries, in ``language`` (``languages/LANGUAGE/
    notice.j2``): self-care, and who tre-audio is not. The page and the feed, which are
    tre-audio's own, carry the English one."""
    return render.text(language, "notice", {}, templates)


def clock(seconds: float) -> str:
    """``seconds`` as m:ss, or h:mm:ss past an hour: rounded down, as players show time
    (a micro-second short of a second still counts as the second)."""
    whole = int(seconds + 1e-6)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _paragraphs(events: Sequence[Event], plan: Plan) -> list[tuple[Event, str, float, float]]:
    """Events with their script text, sentences of one paragraph joined again."""
    rows: list[tuple[Event, str, float, float]] = []
    for event, (start, length) in zip(events, plan.timings):
        if isinstance(event, Say) and rows:
            last, text, began, taken = rows[-1]
            if isinstance(last, Say) and last.line == event.line:
                rows[-1] = (last, f"{text} {event.text}", began, taken + length)
                continue
        rows.append((event, format_event(event), start, length))
    return rows


def annotated_script(events: Sequence[Event], plan: Plan, header: Sequence[str]) -> str:
    """The script with planned timings as comments; it parses back to the same events."""
    lines = [f"# {h}" if h else "#" for h in header]
    lines.append(
        f"# planned length {clock(plan.duration)}; the holds let it range from "
        f"{clock(plan.shortest)} to {clock(plan.longest)}"
    )
    for event, text, start, length in _paragraphs(events, plan):
        if isinstance(event, Chapter):
            lines += ["", f"{text}  # at {clock(start)}"]
        elif isinstance(event, (Pause, Hold)):
            lines.append(f"{text}  # {length:.0f} s")
        else:
            lines.append(text)
    return "\n".join(lines) + "\n"


def transcript(events: Sequence[Event], plan: Plan, title: str, notice: str) -> str:
    """What the session says, under chapter headings with their times."""
    lines = [title, notice, ""]
    run: list[tuple[Breathe, float]] = []
    for event, text, start, length in _paragraphs(events, plan):
        if isinstance(event, Breathe):
            run.append((event, length))
            continue
        if run:
            lines.append(breathing_summary(run))
            run = []
        if isinstance(event, Chapter):
            lines += ["", f"[{clock(start)}] {event.title}", ""]
        elif isinstance(event, Say):
            lines.append(text)
    if run:
        lines.append(breathing_summary(run))
    return "\n".join(lines).strip() + "\n"


def breathing_summary(run: Sequence[tuple[Breathe, float]]) -> str:
    """One line for a stretch of paced breathing: its length, its round, how many
    rounds, and how many of them the voice counts."""
    steps = [(b.phase, b.seconds) for b, _ in run]
    period = next(p for p in range(1, len(steps) + 1)
                  if len(steps) % p == 0
                  and all(steps[i] == steps[i % p] for i in range(len(steps))))
    rounds = len(steps) // period
    shape = ", ".join(f"{phase} {seconds:g} s" for phase, seconds in steps[:period])
    voiced = [any(b.counts for b, _ in run[r * period:(r + 1) * period])
              for r in range(rounds)]
    counted = sum(voiced)
    told = f"{rounds} rounds" if rounds > 1 else "once"
    if counted == rounds:
        told += ", counted aloud" if rounds == 1 else ", all counted aloud"
    elif counted and all(voiced[:counted]):
        told += f", the first {counted} counted aloud"
    elif counted:
        told += f", {counted} of them counted aloud"
    total = sum(length for _, length in run)
    return f"(Breathing with the tones for {clock(total)}: {shape}; {told}.)"
