"""The studio's queue: real sessions made one at a time, their stages read while they are
made, a cancelled one leaving nothing behind, errors as the command line words them.
A maker that waits on an event stands in only where the test is about the queue."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from serving import make_session
from tre_audio.choices import layers, profile
from tre_audio import session
from tre_audio.studio.jobs import (CANCELLED, FAILED, LIMIT, MADE, MAKING, QUEUED, Jobs,
                                   QueueFull)


def _real(folder: Path):
    """Makes the short session ``SCRIPTS[name]`` of ``serving`` into ``folder``."""
    def make(given, progress):
        return make_session(folder, given["name"], progress).path
    return make


def test_a_session_is_made_and_its_stages_are_seen(tmp_path):
    seen = []

    def make(given, progress):
        def watched(stage, done, total):
            seen.append((stage, done, total))
            progress(stage, done, total)
        return _real(tmp_path)(given, watched)

    jobs = Jobs(make)
    try:
        job = jobs.wait(jobs.submit({"name": "morning"}).id, timeout=120)
    finally:
        jobs.close()
    assert job.state == MADE and job.made == tmp_path / "morning.mp3" and job.made.is_file()
    assert job.made.with_suffix(".json").is_file()
    assert {stage for stage, *_ in seen} >= {"speech"}
    assert job.percent == 100 and seen[-1][1] == seen[-1][2]


def test_a_session_cancelled_while_it_is_made_leaves_nothing_behind(tmp_path):
    folder = tmp_path / "new" / "sessions"  # made for the run: removed again with it
    jobs: Jobs
    cancelled = []

    def make(given, progress):
        def cancel_at_first(stage, done, total):
            if not cancelled:
                cancelled.append(jobs.cancel(given["id"]).state)
            progress(stage, done, total)
        return make_session(folder, given["name"], cancel_at_first).path

    (tmp_path / "new").mkdir()
    jobs = Jobs(make)
    try:
        job = jobs.submit({"name": "morning", "id": None})
        job.given["id"] = job.id  # type: ignore[index]  (the test's own note to itself)
        done = jobs.wait(job.id, timeout=120)
    finally:
        jobs.close()
    assert cancelled == [MAKING] and done.state == CANCELLED
    assert not folder.exists() or not any(folder.rglob("*"))
    assert [p.name for p in tmp_path.rglob("*.mp3")] == []


def test_an_error_is_the_command_lines_and_names_its_option(tmp_path):
    def make(given, progress):
        options = layers.options(given, profile=profile.Profile())
        return session.generate(options, out=tmp_path / "out" / "x.mp3",
                                progress=progress).path

    jobs = Jobs(make)
    try:
        job = jobs.wait(jobs.submit({"programme": "classic", "minutes": 3.0}).id, timeout=60)
    finally:
        jobs.close()
    assert job.state == FAILED and job.option == "--minutes"
    assert job.error.startswith("cannot fit 3 minutes: programme 'classic'")
    assert not (tmp_path / "out").exists()


def test_the_queue_has_a_limit_and_a_waiting_job_can_be_cancelled(tmp_path):
    release = threading.Event()
    started = threading.Event()
    order = []

    def make(given, progress):  # stands in for a long session: the queue is the subject
        order.append(given["n"])
        started.set()
        release.wait(30)
        return tmp_path / f"{given['n']}.mp3"

    jobs = Jobs(make)
    try:
        first = jobs.submit({"n": 0})
        assert started.wait(10) and jobs.get(first.id).state == MAKING
        waiting = [jobs.submit({"n": n}) for n in range(1, LIMIT + 1)]
        with pytest.raises(QueueFull, match=f"{LIMIT} sessions are waiting"):
            jobs.submit({"n": 99})
        assert jobs.cancel(waiting[0].id).state == CANCELLED
        assert [j.state for j in jobs.all()[1:]] == [CANCELLED] + [QUEUED] * (LIMIT - 1)
        jobs.submit({"n": LIMIT + 1})  # a place is free again
        release.set()
        last = jobs.wait(jobs.all()[-1].id, timeout=30)
        assert last.state == MADE
    finally:
        release.set()
        jobs.close()
    assert order == [0, *range(2, LIMIT + 2)]  # one at a time, in order, never the cancelled


def test_a_fault_in_the_making_fails_that_job_and_the_next_is_made(tmp_path):
    def make(given, progress):
        if given["name"] == "broken":
            raise RuntimeError("a fault injected")
        return _real(tmp_path)(given, progress)

    jobs = Jobs(make)
    try:
        broken = jobs.submit({"name": "broken"})
        fine = jobs.submit({"name": "morning"})
        assert jobs.wait(broken.id, 60).state == FAILED
        assert "a fault injected" in jobs.get(broken.id).error
        assert jobs.wait(fine.id, 120).state == MADE
    finally:
        jobs.close()
