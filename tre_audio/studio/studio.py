"""What the page's studio makes sessions with: the form's choices from the registries,
each session's options checked as the command line's are (the user's profile under
them), the queue that makes them (or a course) into the served folder, the profile the
form starts from and can save, and the previews of voices and beds."""

from __future__ import annotations

import dataclasses
import os
import re
import stat
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from .. import course, registries, session
from ..choices import layers, profile
from ..choices.adapted import adapt, forecast as adapted_forecast
from ..practice.dose import next_time
from ..continued import carry_on
from ..practice import history, store as practice_store
from ..beside.files import BESIDE, MP3, suffixes_of
from ..errors import InvalidOption, OutputError, TreAudioError
from ..narration import render
from ..narration.plan import span_text
from ..options import settings, table
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
MAX_NAME = 80
MAX_NAME_BYTES = 200
"""A file name from the form: room left for a number and the longest suffix."""
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
        render.share_process()  # the studio renders beside speech, pages and a browser
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
        out["voice"] = tuple((v.name, f"{v.name}: {v.description.split('; any voice')[0]}")
                             for v in self._voices())  # a select takes no variant
        out["weeks"] = tuple((str(n), f"{n} week{'s' if n > 1 else ''}")
                             for n in range(1, course.MAX_WEEKS + 1))
        out["per_week"] = tuple((str(n), f"{n} a week")
                                for n in range(1, course.MAX_PER_WEEK + 1))
        return out

    def check(self, given: Mapping[str, Any]) -> Options:
        """The session's options, checked as the command line's are, its length against
        what the settings can reach included (raises ``InvalidOption`` naming the option,
        or another ``TreAudioError``): before it is queued, not once it is made. With
        weeks or sessions a week, the course is checked."""
        options = self._options(_session_part(given))
        self._out(given)
        if _is_course(given):
            try:
                course.check_lengths(self._course(options, given))
            except InvalidOption as error:
                if error.option != "--minutes" or given.get("minutes") is not None \
                        or options.minutes is None:
                    raise
                options = dataclasses.replace(options, minutes=None)  # the profile's
                course.check_lengths(self._course(options, given))
        else:
            session.script_text(options)
        return options

    def reach(self, given: Mapping[str, Any]) -> str:
        """How long a session of these options can last (their minutes aside); for a
        course, the lengths every one of its sessions can last."""
        options = self._options(
            {k: v for k, v in given.items() if k not in (*NOT_OPTIONS, "minutes")})
        if not _is_course(given):
            return session.reachable(options)
        spans = {}
        for planned in course.plan(self._course(options, given)):
            tremor = planned.options.recipe.tremor
            if tremor not in spans:  # the sessions differ by their tremor and lead-ins
                spans[tremor] = session.reach_span(planned.options)
        low, high = max(s[0] for s in spans.values()), min(s[1] for s in spans.values())
        if low > high:
            return "only its natural length, session by session (leave Minutes empty)"
        return f"{span_text(low, high)} in every session of the course"

    def submit(self, given: Mapping[str, Any]) -> Job:
        """Check the options now, then queue the session."""
        self.check(given)
        return self.jobs.submit(given)

    def forecast(self, programme: str | None) -> str:
        """What the next session of ``programme`` will do, from the record ('' for
        nothing)."""
        dose = adapted_forecast(programme, profile=profile.load(self.profile_path))
        return next_time(dose) if dose is not None else ""

    def continues(self, folder: str) -> bool:
        """Whether the course in ``folder`` (in the served folder) has sessions to make
        again from the practice record (``course --continue``)."""
        place = (self.folder / folder).resolve()
        if not place.is_relative_to(self.folder.resolve()) or not place.is_dir():
            return False
        try:
            return bool(history.left_of_course(history.load(), str(place)))
        except TreAudioError:
            return False

    def carry_on(self, folder: str) -> Job:
        """Queue the course in ``folder`` to be continued, if it can be."""
        if not self.continues(folder):
            raise InvalidOption("--continue", f"the course in {folder} has no session to "
                                "make again: check in after the sessions you play")
        return self.jobs.submit({"continue": folder})

    def get(self, job_id: str) -> Job | None:
        return self.jobs.get(job_id)

    def unfinished(self) -> list[Job]:
        """The sessions waiting or being made, oldest first."""
        return [job for job in self.jobs.all() if not job.finished]

    def cancel(self, job_id: str) -> Job | None:
        return self.jobs.cancel(job_id)

    def close(self) -> None:
        self.jobs.close()

    def defaults(self) -> dict[str, Any]:
        """What the profile sets of the form's fields: what a field left as it is
        follows, shown beside it."""
        form_keys = {option.key for option in table.where(table.FORM)}
        return {key: value for key, value in profile.load(self.profile_path).values().items()
                if key in form_keys}

    def save_defaults(self, given: Mapping[str, Any]) -> list[str]:
        """Write the form's answers into the profile (those a profile keeps), as
        ``tre-audio profile set`` would: what is given is set, what is left as it is
        stays as the profile has it. Returns the keys given that a profile does not
        keep (a programme, a course's, a file name)."""
        keys = [option.key for option in table.where(table.FORM)
                if option.key in profile.KEYS and given.get(option.key) is not None]
        if "voice" in keys or "engine" in keys:  # a voice brings its engine: set both
            keys += [key for key in ("voice", "engine") if key not in keys]
        profile.replace(given, keys, self.profile_path)
        return [key for key, value in given.items()
                if value is not None and key not in profile.KEYS]

    def forget_default(self, key: str) -> None:
        """Remove ``key`` from the profile (as ``tre-audio profile set KEY ""``)."""
        if key not in self.defaults():
            raise InvalidOption(key, f"your profile does not set {key}")
        profile.replace({}, [key], self.profile_path)

    def again(self, settings: Mapping[str, Any]) -> dict[str, Any]:
        """The form's answers that make a session like the one made with ``settings``
        (its timeline's): those that differ from what the form gives today when left as
        it is, and none that the session's programme refuses (a level for grounding)."""
        options = {option.key: option for option in table.where(table.FORM)}
        wanted = {key: tuple(value) if isinstance(value, list) else value
                  for key, value in settings.items()
                  if key in options and _of_kind(options[key].kind, value)}
        programme = {"programme": wanted["programme"]} if "programme" in wanted else {}
        try:
            today = session.resolve(self._options(programme))
            usual = dataclasses.asdict(today.options)
            usual.update(engine=today.engine, voice=today.voice)
        except TreAudioError:
            usual = {}
        flat = {**usual, **usual.get("sound", {}), **usual.get("recipe", {})}
        out = {key: value for key, value in wanted.items()
               if key == "programme" or flat.get(key) != value
               and not (isinstance(value, tuple) and tuple(flat.get(key) or ()) == value)}
        for _ in range(len(out)):
            try:
                self.check(out)
                break
            except InvalidOption as error:
                refused = [option.key for option in table.where(table.FORM)
                           if option.option == error.option and option.key != "programme"]
                if not refused or refused[0] not in out:
                    break
                del out[refused[0]]
        return out

    def length_note(self, given: Mapping[str, Any]) -> str:
        """What the page says of the profile's length where these answers cannot reach
        it ('' otherwise): the session then has its natural length, as on the command
        line."""
        minutes = profile.load(self.profile_path).get("minutes")
        if minutes is None or given.get("minutes") is not None:
            return ""
        if _is_course(given):
            try:
                return "" if self.check(given).minutes is not None else (
                    f"Your profile's length of {minutes:g} minutes is out of reach for "
                    "some sessions of this course, so each has its natural length.")
            except TreAudioError:
                return ""
        try:
            session.check_length(self._options({**_session_part(given), "minutes": minutes}))
        except InvalidOption as error:
            if error.option == "--minutes":
                return (f"Your profile's length of {minutes:g} minutes is out of reach "
                        "here, so this session has its natural length.")
        except TreAudioError:
            pass
        return ""

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
        """What deleting the session whose MP3 is listed as ``mp3`` (in the folder served,
        a link not followed) deletes: ``session``, or ``course`` for one of a course's
        sessions."""
        root, folder = self.folder.resolve(), mp3.parent.resolve()
        if not folder.is_relative_to(root) or mp3.suffix != MP3.suffix:
            raise OutputError(f"{mp3.name} is not a session of the folder served")
        in_course = folder != root and course.is_course_file(mp3.name) \
            and (folder / course.PLAYLIST).is_file()
        return "course" if in_course else "session"

    def delete(self, mp3: Path) -> str:
        """Delete the session whose MP3 is listed as ``mp3`` (in the folder served) and
        the files beside it (a link itself, never what it points to); if it is one of a
        course's, the whole course, its folder too once empty. Returns what was deleted:
        ``session`` or ``course``."""
        folder = mp3.parent.resolve()
        mp3 = folder / mp3.name
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
        """The options ``given`` over the profile; the profile's length, out of reach
        here, left out (the page says so: ``length_note``)."""
        found = profile.load(self.profile_path)
        minutes = found.get("minutes")
        if minutes is None or given.get("minutes") is not None:
            return layers.options(given, profile=found)
        rest = profile.Profile(**{k: v for k, v in found.values().items() if k != "minutes"})
        made = layers.options(given, profile=rest)
        with_length = dataclasses.replace(made, minutes=minutes)
        try:
            session.check_length(with_length)
        except InvalidOption as error:
            if error.option != "--minutes":
                raise
            return made
        return with_length

    def _voices(self) -> list[engine.Voice]:
        return [v for v in engine.voices().voices if not v.refused]

    def _course(self, options: Options, given: Mapping[str, Any]) -> course.Course:
        weeks, per_week = (given.get(key) for key in COURSE_KEYS)
        return course.Course(options, course.DEFAULT_WEEKS if weeks is None else weeks,
                             course.DEFAULT_PER_WEEK if per_week is None else per_week)

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
        if len(name) > MAX_NAME or len(name.encode("utf-8", "surrogatepass")) > MAX_NAME_BYTES:
            raise InvalidOption("--out", f"--out must be at most {MAX_NAME} characters, "
                                f"and {MAX_NAME_BYTES} bytes of UTF-8 (a file name holds 255)")
        settings.check_text("--out", name, None)  # which character, as for the name
        try:
            check_name(Path(name), "--out")
        except InvalidOption as error:
            raise InvalidOption("--out", "--out " + str(error).removeprefix(
                "the output path ")) from None
        return name

    def practice_note(self, given: Mapping[str, Any]) -> str:
        """What the practice record does to a session of ``given`` (its shaking phase,
        sessions this week), as the form says it; '' for nothing."""
        if _is_course(given):
            return ""
        try:
            return " ".join(adapt(self._options(_session_part(given)),
                                  given.get("tremor")).notices)
        except TreAudioError:  # the form says what is wrong with the answers
            return ""

    def _make(self, given: Mapping[str, Any], progress: Progress) -> Path:
        if "continue" in given:
            trusted = profile.load(self.profile_path).get("trusted") or ""
            done = carry_on(self.folder / str(given["continue"]), trusted, progress=progress)
            return done.remade[0][1].path
        options = self.check(given)
        name = self._out(given)
        record = practice_store.default_path() if options.record else None
        if _is_course(given):
            out = _new_folder(self.folder / (name or course.DEFAULT_FOLDER.name))
            return course.build(self._course(options, given), out, progress,
                                record=record).sessions[0].path
        path = session.free_name(self.folder / f"{name}.mp3") if name else None
        adapted = adapt(options, given.get("tremor"))
        return session.generate(adapted.options, out=path, progress=progress,
                                folder=self.folder, dose=adapted.dose,
                                record=adapted.record).path


def _unlink(path: Path) -> None:
    """Remove ``path`` if it is a regular file or a link (the link, not what it points
    to); anything else is left."""
    try:
        mode = os.lstat(path).st_mode
        if stat.S_ISREG(mode) or stat.S_ISLNK(mode):
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


def _new_folder(base: Path) -> Path:
    """``base``, or the first of ``base-2``, ``base-3``... that is nothing yet: a course
    from the page gets a folder of its own, never one of the user's (or a link)."""
    candidate, number = base, 1
    while os.path.lexists(candidate):
        number += 1
        candidate = base.with_name(f"{base.name}-{number}")
    return candidate


def _of_kind(kind: str, value: object) -> bool:
    """Whether a timeline's ``value`` is of the option's ``kind`` (a form can show it)."""
    if kind == "a list of text":
        return isinstance(value, list) and all(isinstance(v, str) for v in value)
    if kind == "true or false":
        return isinstance(value, bool)
    if kind in ("a number", "a whole number"):
        return isinstance(value, (int, float)) and not isinstance(value, bool) \
            and (kind == "a number" or isinstance(value, int))
    return isinstance(value, str)


def _is_course(given: Mapping[str, Any]) -> bool:
    """Whether the form's answers ask for a course (weeks, or sessions a week)."""
    return any(given.get(key) is not None for key in COURSE_KEYS)


def _session_part(given: Mapping[str, Any]) -> dict[str, Any]:
    """The answers that are a session's options (not a course's, nor the file name)."""
    return {key: value for key, value in given.items() if key not in NOT_OPTIONS}
