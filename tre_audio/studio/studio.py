"""What the page's studio makes sessions with: the form's choices from the registries,
each session's options checked as the command line's are (the user's profile under
them), the queue that makes them (or a course) into the served folder, the profile the
form starts from and can save, and the previews of voices and beds."""

from __future__ import annotations

import os
import re
import stat
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from .. import course, registries, session
from ..choices import layers, profile
from ..beside.files import BESIDE, MP3, suffixes_of
from ..errors import InvalidOption, OutputError, TreAudioError
from ..options import table
from ..options.values import Options, Sound
from ..speech import engine
from ..speech.cache import default_folder
from ..files.atomic import check_name, remove_leftovers
from .jobs import Job, Jobs, Progress

PREVIEW_LINE = ("Let your breath settle, and notice the ground holding you. "
                "There is no hurry here.")
"""What a voice says in its preview."""
COURSE_KEYS = ("weeks", "per_week")
NOT_OPTIONS = (*COURSE_KEYS, "out")
"""The form's fields that are not options of a session: a course's, and the file name."""
RECORD = "studio-jobs.json"
"""Beside the previews: the jobs not yet made, known as not made after a restart."""
_COURSE_FOLDER = re.compile(re.escape(course.DEFAULT_FOLDER.name) + r"(-\d+)?")
"""The form's fields that make a course instead of one session."""


class Studio:
    """Sessions made into ``folder`` (the folder served), one at a time; ``profile_path``
    is the profile the form starts from and saves to (None: the user's), ``previews``
    where the previews are kept (None: beside the speech cache)."""

    def __init__(self, folder: Path, profile_path: Path | None = None,
                 previews: Path | None = None) -> None:
        self.folder = folder
        self.profile_path = profile_path
        self.previews = previews or default_folder().parent / "previews"
        _sweep(folder)
        self.jobs = Jobs(self._make, record=self.previews.parent / RECORD)
        self._previewing = threading.Lock()
        self._lengths: dict[str, str] = {}

    def choices(self) -> dict[str, Sequence[tuple[str, str]]]:
        """The choices the registries own, as (value, what the page says) pairs."""
        named = {key: registries.names(registry) for key, registry in
                 (("programme", "programmes"), ("ambient", "ambients"),
                  ("engine", "engines"))}
        out: dict[str, Sequence[tuple[str, str]]] = {
            key: tuple((name, f"{name}: {about}") for name, about in found.items())
            for key, found in named.items()}
        out["programme"] = tuple((name, f"{said} ({self._natural(name)})")
                                 for name, said in out["programme"])
        out["voice"] = tuple((v.name, f"{v.name}: {v.description}") for v in self._voices())
        out["weeks"] = tuple((str(n), f"{n} week{'s' if n > 1 else ''}")
                             for n in range(1, course.MAX_WEEKS + 1))
        out["per_week"] = tuple((str(n), f"{n} a week") for n in range(1, course.MAX_PER_WEEK + 1))
        return out

    def check(self, given: Mapping[str, Any]) -> Options:
        """The session's options, checked as the command line's are, its length against
        what the settings can reach included (raises ``InvalidOption`` naming the option,
        or another ``TreAudioError``): before it is queued, not once it is made. With
        weeks or sessions a week, the course is checked."""
        options = self._options({k: v for k, v in given.items() if k not in NOT_OPTIONS})
        self._out(given)
        if any(given.get(key) is not None for key in COURSE_KEYS):
            self._course(options, given)
        else:
            session.script_text(options)
        return options

    def reach(self, given: Mapping[str, Any]) -> str:
        """How long a session of these options can last (their minutes aside)."""
        return session.reachable(self._options(
            {k: v for k, v in given.items() if k not in (*NOT_OPTIONS, "minutes")}))

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

    def defaults(self) -> dict[str, Any]:
        """What the profile sets of the form's fields: the form starts from it."""
        form_keys = {option.key for option in table.where(table.FORM)}
        return {key: value for key, value in profile.load(self.profile_path).values().items()
                if key in form_keys}

    def save_defaults(self, given: Mapping[str, Any]) -> Path:
        """Write the form's answers into the profile (those a profile keeps), as
        ``tre-audio profile set`` would; return the profile's path."""
        keys = [option.key for option in table.where(table.FORM) if option.key in profile.KEYS]
        profile.replace(given, keys, self.profile_path)
        return self.profile_path or profile.default_path()

    def preview(self, kind: str, name: str) -> Path:
        """The preview MP3 of the voice or bed ``name`` (``kind`` ``voice`` or ``bed``),
        made the first time it is asked for and kept. Raises ``InvalidOption`` for a
        name that is not offered."""
        make: Callable[[Path], object]
        if kind == "voice":
            voice = {v.name: v for v in self._voices()}.get(name)
            if voice is None:
                raise InvalidOption("--voice", f"unknown voice '{name[:40]}'")
            path = self.previews / f"voice-{voice.engine}-{voice.name}.mp3"
            options = layers.build({"engine": voice.engine, "voice": voice.name})
            make = lambda out: session.say(PREVIEW_LINE, options, out)  # noqa: E731
        elif kind == "bed" and name in registries.names("ambients"):
            path = self.previews / f"bed-{name}.mp3"
            make = lambda out: session.preview_ambient(Sound(ambient=name), out)  # noqa: E731
        else:
            raise InvalidOption("--ambient", f"unknown bed '{name[:40]}'")
        with self._previewing:  # one at a time: each may take a few seconds of CPU
            if not path.is_file():
                make(path)
        return path

    def deletes(self, mp3: Path) -> str:
        """What deleting the session whose MP3 is ``mp3`` deletes: ``session``, or
        ``course`` for one of a course's sessions."""
        root, mp3 = self.folder.resolve(), mp3.resolve()
        if not mp3.is_relative_to(root) or mp3.suffix != MP3.suffix:
            raise OutputError(f"{mp3.name} is not a session of the folder served")
        in_course = mp3.parent != root and (mp3.parent / course.PLAYLIST).is_file()
        return "course" if in_course else "session"

    def delete(self, mp3: Path) -> str:
        """Delete the session whose MP3 is ``mp3`` (in the folder served) and the files
        beside it; if it is one of a course's, the whole course, its folder too once
        empty. Returns what was deleted: ``session`` or ``course``."""
        mp3 = mp3.resolve()
        folder = mp3.parent
        if self.deletes(mp3) == "course":
            doomed = [p for p in folder.iterdir() if course.is_course_file(p.name)]
            for path in doomed:
                _unlink(path)
            try:
                folder.rmdir()
            except OSError:
                pass  # something of the user's is still there: kept
            return "course"
        for suffix in (MP3.suffix, *suffixes_of(BESIDE)):
            _unlink(mp3.with_suffix(suffix))
        return "session"

    def _natural(self, programme: str) -> str:
        """``about N minutes``: how long the programme lasts as it is (at the defaults,
        worked out once)."""
        if programme not in self._lengths:
            try:
                minutes = session.natural_minutes(layers.build({"programme": programme}))
                self._lengths[programme] = f"about {round(minutes)} minutes"
            except TreAudioError:
                self._lengths[programme] = "its length depends on the settings"
        return self._lengths[programme]

    def _options(self, given: Mapping[str, Any]) -> Options:
        return layers.options(given, profile=profile.load(self.profile_path))

    def _voices(self) -> list[engine.Voice]:
        return [v for v in engine.voices().voices if not v.refused]

    def _course(self, options: Options, given: Mapping[str, Any]) -> course.Course:
        counts = {key: given.get(key) for key in COURSE_KEYS}
        return course.Course(options, counts["weeks"] or course.DEFAULT_WEEKS,
                             counts["per_week"] or course.DEFAULT_PER_WEEK)

    def _out(self, given: Mapping[str, Any]) -> str | None:
        """The file name the form gives (``out``), checked: a plain name in the folder."""
        name = given.get("out")
        if name is None:
            return None
        name = str(name).strip()
        name = name[:-4] if name.lower().endswith(".mp3") else name
        if not name or name.startswith(".") or any(c in name for c in "/\\") \
                or name.lower().endswith(".chapters"):
            raise InvalidOption("--out", "--out must be a plain name: not empty, without "
                                "/ or \\, not starting with a dot")
        check_name(Path(name))
        return name

    def _make(self, given: Mapping[str, Any], progress: Progress) -> Path:
        options = self.check(given)
        name = self._out(given)
        if any(given.get(key) is not None for key in COURSE_KEYS):
            out = course.free_folder(self.folder / (name or course.DEFAULT_FOLDER.name))
            return course.build(self._course(options, given), out, progress).sessions[0].path
        path = session.free_name(self.folder / f"{name}.mp3") if name else None
        return session.generate(options, out=path, progress=progress, folder=self.folder).path


def _unlink(path: Path) -> None:
    """Remove ``path`` if it is a regular file (a link or anything else is left)."""
    try:
        if stat.S_ISREG(os.lstat(path).st_mode):
            os.unlink(path)
    except FileNotFoundError:
        pass
    except OSError as error:
        raise OutputError(f"cannot delete {path.name}: {error.strerror}") from None


def _sweep(folder: Path) -> None:
    """Remove what sessions and courses cut off by a crash left in ``folder``: part files
    no run is writing, and a course's folder left empty."""
    remove_leftovers(folder, ".", ".part")
    try:
        inside = [p for p in folder.iterdir() if p.is_dir() and not p.is_symlink()]
    except OSError:
        return
    for each in inside:
        if _COURSE_FOLDER.fullmatch(each.name):
            remove_leftovers(each, ".", ".part")
            try:
                each.rmdir()  # only if empty
            except OSError:
                pass
