"""Sessions made one at a time by a worker thread, from a queue of at most ``LIMIT``
waiting: each job's stage and progress can be read while it is made, and a job can be
cancelled, waiting or being made. A cancelled session leaves nothing behind: the
library writes every file whole or not at all, and removes the folders it made for a
run that fails. Jobs live as long as the process; with a ``record``, the jobs not yet
finished are written down, so that after a restart (or a crash) they are known as not
made.
"""

from __future__ import annotations

import json
import secrets
import threading
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ..errors import Busy, InvalidOption, TreAudioError
from ..files.atomic import atomic_file
from ..files.inputs import read_bytes

LIMIT = 8
"""Jobs waiting at most (the one being made not counted)."""
KEPT = 64
"""Jobs remembered at most: the oldest that are over are forgotten."""

Progress = Callable[[str, int, int], None]
Make = Callable[[Mapping[str, Any], Progress], Path]
"""Makes the session a job asks for (its options as given), reporting each stage's
progress; returns the session's MP3."""

QUEUED, MAKING, MADE, FAILED, CANCELLED = "queued", "making", "made", "failed", "cancelled"
CUT_OFF = ("the studio stopped before this session was made, and nothing of it was kept; "
           "make it again from the form")
RECORD_LIMIT = 65_536
"""The largest record of unfinished jobs read."""


class QueueFull(Busy):
    """More jobs are waiting than the queue takes."""


class _Cancelled(Exception):
    """Raised from the progress of a job that was cancelled, to unwind its making."""


@dataclass(frozen=True)
class Job:
    """One session asked for, as it stands."""

    id: str
    given: Mapping[str, Any]
    state: str = QUEUED
    stage: str = ""
    done: int = 0
    total: int = 0
    made: Path | None = None
    error: str = ""
    option: str = ""
    """The option an error concerns (``--minutes``), if it concerns one."""

    @property
    def percent(self) -> int:
        """How far its current stage is, 0 to 100."""
        return 100 * self.done // self.total if self.total else 0

    @property
    def finished(self) -> bool:
        return self.state in (MADE, FAILED, CANCELLED)

    @property
    def what(self) -> str:
        """What it makes, as a list of jobs says it: ``grounding``, ``a tremor course``,
        or the file name given."""
        if "continue" in self.given:
            return f"the rest of the course {self.given['continue']}"
        programme = str(self.given.get("programme") or "a session")
        kind = "course" if self.given.get("weeks") or self.given.get("per_week") else ""
        named = f"a {programme} {kind}".rstrip() if kind else programme
        out = self.given.get("out")
        return f"{named} ({out})" if out else named


class Jobs:
    """The queue and its worker; every method may be called from any thread."""

    def __init__(self, make: Make, limit: int = LIMIT, record: Path | None = None) -> None:
        self._make = make
        self._limit = limit
        self._record = record
        self._jobs: dict[str, Job] = {job_id: Job(job_id, {}, FAILED, error=CUT_OFF)
                                      for job_id in self._recorded()}
        self._waiting: deque[str] = deque()
        self._cancelled: set[str] = set()
        self._changed = threading.Condition()
        self._closed = False
        self._worker = threading.Thread(target=self._work, name="studio", daemon=True)
        self._worker.start()

    def submit(self, given: Mapping[str, Any]) -> Job:
        """Queue a session; raises ``QueueFull`` if ``LIMIT`` jobs are waiting."""
        with self._changed:
            if self._closed:
                raise TreAudioError("the studio is closing")
            if len(self._waiting) >= self._limit:
                raise QueueFull(f"{len(self._waiting)} sessions are waiting to be made; "
                                "try again when one is done")
            job = Job(secrets.token_urlsafe(9), dict(given))
            self._jobs[job.id] = job
            self._waiting.append(job.id)
            self._forget_old()
            self._write_record()
            self._changed.notify_all()
            return job

    def get(self, job_id: str) -> Job | None:
        with self._changed:
            return self._jobs.get(job_id)

    def all(self) -> list[Job]:
        """Every job remembered, oldest first."""
        with self._changed:
            return list(self._jobs.values())

    def cancel(self, job_id: str) -> Job | None:
        """Cancel a job waiting or being made (one finished stays as it is)."""
        with self._changed:
            job = self._jobs.get(job_id)
            if job is None or job.finished:
                return job
            if job.state == QUEUED:
                self._waiting.remove(job_id)
                job = self._set(job_id, state=CANCELLED)
            else:
                self._cancelled.add(job_id)  # its next progress unwinds it
            self._changed.notify_all()
            return job

    def wait(self, job_id: str, timeout: float | None = None) -> Job | None:
        """The job once it is finished (or as it is after ``timeout`` seconds)."""
        with self._changed:
            self._changed.wait_for(lambda: (j := self._jobs.get(job_id)) is None
                                   or j.finished, timeout)
            return self._jobs.get(job_id)

    def close(self) -> None:
        """Cancel every job and stop the worker."""
        with self._changed:
            self._closed = True
            for job_id in list(self._waiting):
                self._set(job_id, state=FAILED, error=CUT_OFF)
            self._waiting.clear()
            self._cancelled.update(j.id for j in self._jobs.values() if j.state == MAKING)
            self._changed.notify_all()
        self._worker.join()

    def _work(self) -> None:
        while True:
            with self._changed:
                self._changed.wait_for(lambda: self._waiting or self._closed)
                if self._closed and not self._waiting:
                    return
                job_id = self._waiting.popleft()
                job = self._set(job_id, state=MAKING)
            self._run(job)

    def _run(self, job: Job) -> None:
        def progress(stage: str, done: int, total: int) -> None:
            with self._changed:
                if job.id in self._cancelled:
                    raise _Cancelled
                self._set(job.id, stage=stage, done=done, total=total)
                self._changed.notify_all()

        try:
            made = self._make(job.given, progress)
        except _Cancelled:
            outcome: dict[str, Any] = ({"state": FAILED, "error": CUT_OFF} if self._closed
                                       else {"state": CANCELLED})
        except InvalidOption as error:
            outcome = {"state": FAILED, "error": str(error), "option": error.option}
        except TreAudioError as error:
            outcome = {"state": FAILED, "error": str(error)}
        except Exception as error:  # a fault in the making must not stop the worker
            outcome = {"state": FAILED, "error": f"unexpected error: {error!r}"}
        else:
            outcome = {"state": MADE, "made": made}
        with self._changed:
            self._cancelled.discard(job.id)  # cancelled after its last stage: made
            self._set(job.id, **outcome)
            if not self._closed:  # one the closing cut off stays in the record
                self._write_record()
            self._changed.notify_all()

    def _recorded(self) -> list[str]:
        """The jobs the record holds: those a stop or a crash cut off."""
        if self._record is None:
            return []
        try:
            found = json.loads(read_bytes(self._record, RECORD_LIMIT))
        except (OSError, ValueError):
            return []
        return [item for item in found if isinstance(item, str)][:KEPT] \
            if isinstance(found, list) else []

    def _write_record(self) -> None:
        """Write down the jobs not yet made, with those cut off before (the lock held)."""
        if self._record is None:
            return
        unfinished = [j.id for j in self._jobs.values()
                      if not j.finished or j.error == CUT_OFF]
        try:
            self._record.parent.mkdir(parents=True, exist_ok=True)
            with atomic_file(self._record, private=True) as part:
                part.write_text(json.dumps(unfinished), encoding="utf-8")
        except (OSError, TreAudioError):
            pass  # the record is a courtesy: the session is made all the same

    def _set(self, job_id: str, **changes: Any) -> Job:
        job = replace(self._jobs[job_id], **changes)
        self._jobs[job_id] = job
        return job

    def _forget_old(self) -> None:
        finished = [j.id for j in self._jobs.values() if j.finished]
        for job_id in finished[:max(0, len(self._jobs) - KEPT)]:
            del self._jobs[job_id]
