"""The next session's shaking phase, from how the last ones went: titration, as a
provider would set it, always inside the level's limits.

- A tremor chosen for this session (``--tremor``) wins, kept between 1 minute and the
  level's highest.
- After a session that was too much (the shaking felt too much, distress rose, or the
  listener felt spaced out), the next is at most half of it (to a tenth of a minute
  below), never under 1 minute (even below the level's usual lowest); after feeling
  spaced out it opens with grounding.
- After two sessions in a row that felt about right or could be more, with distress not
  rising, the dose may rise by half a minute at most, never past what was planned nor
  the level's highest.
- Otherwise, with a check-in after the last session, the dose stays where it was (or
  lower, as planned); without one, nothing is known, and the plan stands.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from ..options.settings import Level

RULES = ("chosen", "planned", "halved", "raised", "kept", "course")
"""What may set a session's shaking phase: this session's own choice, the plan (or the
level), the record (halved, raised or kept where it was), or a course's plan."""
LEAST = 1.0
"""Minutes: the shortest shaking phase, even after halving."""
STEP = 0.5
"""Minutes: the most the dose rises from one session to the next."""


@dataclass(frozen=True)
class Outcome:
    """A session made, and how it went if the listener said so."""

    tremor: float
    """Its shaking phase, in minutes."""
    checked: bool = False
    """Whether the listener checked in after it (else the rest is not known)."""
    before: int | None = None
    after: int | None = None
    felt: str | None = None
    """too-much, about-right or more."""
    spaced_out: bool = False

    @property
    def hard(self) -> bool:
        rose = self.before is not None and self.after is not None and self.after > self.before
        return self.checked and (self.felt == "too-much" or self.spaced_out or rose)

    @property
    def good(self) -> bool:
        return self.checked and self.felt in ("about-right", "more") and not self.hard


@dataclass(frozen=True)
class Dose:
    """The shaking phase set, the rule that set it, and what the narration says of it
    ('' where nothing changed)."""

    tremor: float
    rule: str
    """One of ``RULES``."""
    said: str = ""
    grounding_first: bool = False


def next_dose(level: Level, history: Sequence[Outcome], planned: float,
              chosen: float | None = None, most: float | None = None) -> Dose:
    """The shaking phase of the next session: ``planned`` (by the plan, the profile or
    the level) as the history of sessions with a shaking phase (oldest first) allows, or
    ``chosen`` for this session; never over the level's highest, nor ``most`` (the
    programme's own highest, if it has one)."""
    highest = min(level.tremor_high, most) if most is not None else level.tremor_high
    if chosen is not None:
        return Dose(min(max(chosen, LEAST), highest), "chosen")
    planned = min(max(planned, LEAST), highest)
    if not history or not history[-1].checked:
        return Dose(planned, "planned")
    last = history[-1]
    before = max(math.floor(last.tremor * 10 + 1e-9) / 10, LEAST)  # to a tenth, never up
    if last.hard:
        halved = max(LEAST, min(planned, math.floor(last.tremor / 2 * 10) / 10))
        return Dose(halved, "halved", _why_shorter(last, halved < before),
                    grounding_first=last.spaced_out)
    if len(history) >= 2 and last.good and history[-2].good and planned > before:
        raised = max(LEAST, min(planned, before + STEP, highest))
        return Dose(raised, "raised", "The last sessions went well, so today's shaking is "
                                      "a little longer.")
    return Dose(min(planned, before), "kept")


def _why_shorter(last: Outcome, shorter: bool) -> str:
    """Why the shaking phase is halved, said as it begins (``shorter``: it is shorter
    than last time; else it stays at its least)."""
    today = "shorter" if shorter else "as short as it can be"
    if last.spaced_out:
        return (f"Last time you felt spaced out, so today's shaking is {today}, and we "
                "begin by grounding.")
    if last.felt == "too-much":
        return f"Last time the shaking felt like a lot, so today's is {today}."
    return f"Last time your tension rose afterwards, so today's shaking is {today}."


def next_time(dose: Dose) -> str:
    """What a check-in tells of the next session's shaking phase ('' for the plan)."""
    minutes = f"{dose.tremor:g} minute" + ("" if dose.tremor == 1 else "s")
    return {"halved": f"Next session, the shaking phase is shorter: at most {minutes}.",
            "raised": f"Next session, the shaking phase may be a little longer: {minutes}.",
            "kept": f"Next session, the shaking phase stays at {minutes}.",
            }.get(dose.rule, "")
