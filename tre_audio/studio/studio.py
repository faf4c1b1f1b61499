"""What the page's studio makes sessions with: the form's choices from the registries,
each session's options checked as the command line's are (the user's profile under
them), and the queue that makes them into the served folder."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .. import registries, session
from ..choices import layers
from ..options.values import Options
from ..speech import engine
from .jobs import Job, Jobs, Progress


class Studio:
    """Sessions made into ``folder`` (the folder served), one at a time."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.jobs = Jobs(self._make)

    def choices(self) -> dict[str, Sequence[tuple[str, str]]]:
        """The choices the registries own, as (value, what the page says) pairs."""
        named = {key: registries.names(registry) for key, registry in
                 (("programme", "programmes"), ("ambient", "ambients"),
                  ("engine", "engines"))}
        out: dict[str, Sequence[tuple[str, str]]] = {
            key: tuple((name, f"{name}: {about}") for name, about in found.items())
            for key, found in named.items()}
        out["voice"] = tuple((v.name, f"{v.name}: {v.description}")
                             for v in engine.voices().voices if not v.refused)
        return out

    def check(self, given: Mapping[str, Any]) -> Options:
        """The session's options, checked as the command line's are, its length against
        what the settings can reach included (raises ``InvalidOption`` naming the option,
        or another ``TreAudioError``): before it is queued, not once it is made."""
        options = layers.options(given)
        session.script_text(options)
        return options

    def submit(self, given: Mapping[str, Any]) -> Job:
        """Check the options now, then queue the session."""
        self.check(given)
        return self.jobs.submit(given)

    def get(self, job_id: str) -> Job | None:
        return self.jobs.get(job_id)

    def cancel(self, job_id: str) -> Job | None:
        return self.jobs.cancel(job_id)

    def close(self) -> None:
        self.jobs.close()

    def _make(self, given: Mapping[str, Any], progress: Progress) -> Path:
        made = session.generate(self.check(given), progress=progress, folder=self.folder)
        return made.path
