"""Part files and folders left by runs killed outright, and which of them are removed.

A writer locks its part while it writes; the system lets the lock go when the process
dies. So a part that can be locked and is older than ``STALE_SECONDS`` is a leftover,
and anything else, above all a part some run is writing, is left alone.
"""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path

import pytest

from tre_audio.files import atomic
from tre_audio import course
from tre_audio.files.atomic import atomic_file, remove_leftovers


def aged(path: Path, seconds: float = atomic.STALE_SECONDS + 5) -> Path:
    ago = time.time() - seconds
    os.utime(path, (ago, ago), follow_symlinks=False)
    return path


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    out = tmp_path / "out"
    out.mkdir()
    return out


def planted(folder: Path, name: str, old: bool = True) -> Path:
    path = folder / name
    path.write_bytes(b"written by someone")
    return aged(path) if old else path


def test_only_stale_unlocked_parts_of_that_file_are_removed(folder):
    planted(folder, ".s.mp3.k1l2.part")  # killed: the one to remove
    planted(folder, ".s.mp3.m3n4.part", old=False)  # just begun
    busy = planted(folder, ".s.mp3.o5p6.part")  # old, but still being written
    planted(folder, ".t.mp3.q7r8.part")  # another file's
    for name in ("s.mp3", ".s.mp3.part", "s.mp3.k1l2.part"):  # not parts of s.mp3
        planted(folder, name)
    target = planted(folder, "target.txt")
    link = folder / ".s.mp3.s9t0.part"
    link.symlink_to(target)
    aged(link)
    writer = os.open(busy, os.O_RDONLY)  # another open file, as another process's
    try:
        fcntl.flock(writer, fcntl.LOCK_EX)
        remove_leftovers(folder, ".s.mp3.", ".part")
    finally:
        os.close(writer)
    assert sorted(p.name for p in folder.iterdir()) == sorted([
        ".s.mp3.m3n4.part", ".s.mp3.o5p6.part", ".t.mp3.q7r8.part", "s.mp3", ".s.mp3.part",
        "s.mp3.k1l2.part", "target.txt", ".s.mp3.s9t0.part"])
    assert target.read_bytes() == b"written by someone"


def test_a_part_being_written_is_locked_until_it_is_done(folder):
    final = folder / "s.mp3"
    with atomic_file(final) as temporary:
        temporary.write_bytes(b"being written")
        aged(temporary)
        remove_leftovers(folder, ".s.mp3.", ".part")  # as a second run would
        assert temporary.exists()
        probe = os.open(temporary, os.O_RDONLY)
        try:
            with pytest.raises(BlockingIOError):
                fcntl.flock(probe, fcntl.LOCK_EX | fcntl.LOCK_NB)
        finally:
            os.close(probe)
    assert final.read_bytes() == b"being written"
    assert sorted(p.name for p in folder.iterdir()) == ["s.mp3"]


def test_a_new_atomic_file_removes_what_a_killed_one_left(folder):
    planted(folder, ".s.mp3.k1l2.part")
    with atomic_file(folder / "s.mp3") as temporary:
        temporary.write_bytes(b"whole")
    assert sorted(p.name for p in folder.iterdir()) == ["s.mp3"]


def test_a_course_folder_left_is_removed_and_a_live_one_kept(folder):
    stale = folder / ".course-a1b2.part"
    stale.mkdir()
    (stale / "01-week1-session1.mp3").write_bytes(b"half")
    aged(stale)
    staging, held = course.staging_folder(folder)
    try:
        assert not stale.exists() and staging.is_dir()
        aged(staging)
        remove_leftovers(folder, ".course-", ".part")  # a second course, at once
        assert staging.is_dir()
    finally:
        course.discard(staging, held)
    assert list(folder.iterdir()) == []


def test_a_set_with_a_file_that_cannot_be_replaced_moves_nothing(folder):
    """Checked under the folder's lock, before the first file moves: a folder that
    appeared where a file of the set goes fails the set, and every file stays as it was."""
    from tre_audio.files.atomic import atomic_files
    from tre_audio.errors import OutputError

    (folder / "x.mp3").write_bytes(b"old audio")
    with pytest.raises(OutputError, match=r"cannot write .*x\.txt: it is a folder"):
        with atomic_files() as part:
            part(folder / "x.mp3").write_bytes(b"new audio")
            part(folder / "x.txt").write_bytes(b"new text")
            (folder / "x.txt").mkdir()  # after the part was made
    assert (folder / "x.mp3").read_bytes() == b"old audio"
    assert sorted(p.name for p in folder.iterdir()) == ["x.mp3", "x.txt"]


def test_a_new_file_taken_by_another_run_meanwhile_is_not_replaced(folder):
    """A name chosen as free is checked again under the folder's lock."""
    from tre_audio.files.atomic import atomic_files
    from tre_audio.errors import OutputError

    with pytest.raises(OutputError, match=r"x\.mp3 was made by another run meanwhile"):
        with atomic_files() as part:
            part(folder / "x.mp3", new=True).write_bytes(b"mine")
            (folder / "x.mp3").write_bytes(b"theirs")
    assert (folder / "x.mp3").read_bytes() == b"theirs"
    assert sorted(p.name for p in folder.iterdir()) == ["x.mp3"]
