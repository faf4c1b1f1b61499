"""The HTML pages of ``tre-audio serve``: the list of sessions and a page per session.

The templates, style and script are package data in ``tre_audio/web``; the pages load
nothing from anywhere else. Everything but seeking works without JavaScript.
"""

from __future__ import annotations

import datetime
from collections.abc import Collection, Mapping, Sequence
from typing import Any
from importlib import resources
from urllib.parse import quote

import jinja2

from . import art, form
from .feed import FEED_NAME
from .library import Entry, by_folder, clean_text
from ..beside import cover
from ..beside.files import COURSE, MP3, WRITTEN
from ..beside.texts import clock, notice
from ..beside.timedtext import read_webvtt
from ..practice.store import NOTE_LIMIT

ASSETS = {"style.css": "text/css; charset=utf-8",
          "player.js": "text/javascript; charset=utf-8",
          "studio.js": "text/javascript; charset=utf-8"}
"""The files of ``web/`` served as they are, with their types."""
DOWNLOADS = (MP3, *WRITTEN)
"""What a session's page offers to download, of the files it has."""
SPEEDS = ("1", "1.1", "1.25", "1.5")
"""The playback speeds the page offers: never below 1, which would stretch the tremor
phase past its time (the slow pace is the way to a slower voice)."""

_environment = jinja2.Environment(
    loader=jinja2.PackageLoader(__package__, "web"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def asset(name: str) -> bytes | None:
    """A shipped page asset's bytes, or None if ``name`` is not one."""
    if name not in ASSETS:
        return None
    return resources.files(__package__).joinpath("web", name).read_bytes()


def session_href(prefix: str, entry: Entry) -> str:
    return f"{prefix}/session/{quote(entry.id)}"


def file_href(prefix: str, name: str) -> str:
    return f"{prefix}/files/{quote(name)}"


def course_feed(folder: str) -> str:
    """Where the feed of the course in ``folder`` is, under the server's address."""
    return f"files/{quote(folder)}/{FEED_NAME}"


def _when(entry: Entry) -> dict[str, str]:
    moment = datetime.datetime.fromtimestamp(entry.made).astimezone()
    return {"date": moment.strftime("%Y-%m-%d %H:%M"), "iso": moment.isoformat("T", "seconds")}


def index(entries: Sequence[Entry], prefix: str, base: str, studio: bool = False,
          making: Sequence[tuple[str, str]] = (), deleted: bool = False,
          course_files: Collection[str] = ()) -> str:
    """The sessions, newest first, each with its length, date and a link to its page;
    those in a folder of their own (a course's) under its name, in their order, with its
    feed (under ``base``, the server's full address) and those of its playlist and
    schedule that are in ``course_files``; with ``studio``, a link to make one; the
    sessions being ``made`` (address and state, from ``jobs``), and that one was
    ``deleted``."""
    def row(e: Entry) -> dict[str, Any]:
        return {"title": e.title, "href": session_href(prefix, e), "length": clock(e.duration),
                "chapters": len(e.chapters), "id": quote(e.id), **_when(e)}

    alone = [row(e) for e in entries if "/" not in e.id]
    groups = [{"name": name, "sessions": [row(e) for e in found],
               "feed": base + course_feed(name),
               "files": [(kind.label, file_href(prefix, f"{name}/{kind.name}"))
                         for kind in COURSE if f"{name}/{kind.name}" in course_files]}
              for name, found in by_folder(entries).items()]  # newest first
    return _environment.get_template("index.html").render(
        sessions=alone, groups=groups, prefix=prefix, feed_url=base + FEED_NAME, notice=notice(),
        language="en", studio=studio, making=making, deleted=deleted)


def jobs(found: Sequence[Any], prefix: str) -> list[tuple[str, str]]:
    """Each session being made (``studio_pages.JobView``): its page and its state."""
    return [(f"{prefix}/job/{quote(job.id)}", f"{job.what[:1].upper()}{job.what[1:]}: " + (
        f"{_STAGES.get(job.stage, job.stage) or 'starting'}, {job.percent}%"
        if job.state == "making" else "waiting its turn")) for job in found]


def make(fields: Sequence[Any], problem: str, prefix: str, csrf: str, *, reach: str = "",
         said: str = "", previews: Mapping[str, Sequence[tuple[str, str]]] | None = None,
         practice: str = "", defaults: Sequence[tuple[str, str, str]] = ()) -> str:
    """The studio's form: ``fields`` (``form.Field``), a ``problem`` not of one field,
    the length the answers can ``reach``, what was done (``said``), the ``previews`` of
    each voice and bed (name and address, by ``voice`` and ``bed``), what the
    practice record does to the session (``practice``), and the profile's values
    (``defaults``: key, label and value as shown), each of which can be removed."""
    return _environment.get_template("make.html").render(
        groups=form.groups(fields), problem=problem, prefix=prefix, csrf=csrf, notice=notice(),
        language="en", reach=reach, said=said, previews=previews or {}, practice=practice,
        defaults=defaults)


def delete(entry: Entry, prefix: str, csrf: str, whole_course: bool) -> str:
    """The question before a session (or its whole course) is deleted."""
    return _environment.get_template("delete.html").render(
        title=entry.title, href=session_href(prefix, entry), id=quote(entry.id),
        whole_course=whole_course, course=entry.id.rsplit("/", 1)[0], prefix=prefix,
        csrf=csrf, notice=notice(), language="en")


_STATES = {"queued": "Waiting its turn", "making": "Being made", "made": "Ready",
           "failed": "Not made", "cancelled": "Cancelled"}
_STAGES = {"speech": "speaking"}
"""The library's stage names as the page says them, where they differ."""


def job(job: Any, prefix: str, csrf: str, listen: str | None) -> str:
    """A session being made: its state and stage, refreshing itself until it is done;
    a button to cancel it, or the way to listen to it."""
    return _environment.get_template("job.html").render(
        job=job, state=_STATES.get(job.state, job.state),
        stage=_STAGES.get(job.stage, job.stage), prefix=prefix, csrf=csrf, listen=listen,
        notice=notice(), language="en")


def session(entry: Entry, prefix: str, vtt: str | None, studio: bool = False,
            checkin_csrf: str = "", carry_on: str = "") -> str:
    """The session's player, chapters, transcript (from ``vtt``, the text of its WebVTT
    file, if it has one) and downloads; with ``studio``, links to make it again and to
    delete it; with ``checkin_csrf`` (the studio's form token), a link to check in and
    the check-in form, which the page's script shows when the session ends; with
    ``carry_on`` (its course's folder), a button to make the rest of the course again
    from the check-ins."""
    audio = file_href(prefix, entry.name(".mp3"))
    chapters = [{"title": c.title, "start": f"{c.start:g}", "end": f"{c.end:g}",
                 "at": clock(c.start)} for c in entry.chapters]
    cues = [{"start": f"{c.start:g}", "end": f"{c.end:g}", "at": clock(c.start),
             "text": clean_text(c.text)} for c in read_webvtt(vtt or "")]
    downloads = [{"label": kind.label, "href": file_href(prefix, entry.name(kind.suffix)),
                  "filename": entry.name(kind.suffix).rsplit("/", 1)[-1]}
                 for kind in DOWNLOADS if kind.suffix in entry.files]
    painted = cover.art_of(entry.programme)
    return _environment.get_template("session.html").render(
        title=entry.title, length=clock(entry.duration), audio=audio, chapters=chapters,
        cues=cues, downloads=downloads, prefix=prefix, notice=entry.notice or notice(),
        language=entry.language, studio=studio, id=quote(entry.id), uid=entry.uid,
        programme=painted.name if painted is not cover.OWN else "",
        cover=art.href(prefix, entry.programme, 192),
        artwork=",".join(f"{art.href(prefix, entry.programme, size)} {size}"
                         for size in (96, 192, 512)),
        speeds=SPEEDS, checkin=_checkin_form(quote(entry.id), prefix, checkin_csrf)
        if checkin_csrf else None, carry_on=quote(carry_on), **_when(entry))


def checkin(*, title: str, href: str, id: str, prefix: str, csrf: str, off: bool,
            given: Mapping[str, str] | None = None, problem: str = "") -> str:
    """The check-in form after a session (or, ``off``, that the record is not kept)."""
    return _environment.get_template("checkin.html").render(
        **_checkin_form(id, prefix, csrf, given, problem), title=title, href=href,
        off=off, notice=notice(), language="en")


def _checkin_form(id: str, prefix: str, csrf: str, given: Mapping[str, str] | None = None,
                  problem: str = "") -> dict[str, Any]:
    return {"id": id, "prefix": prefix, "csrf": csrf, "given": given or {},
            "problem": problem, "felt": CHECKIN_FELT, "note_limit": NOTE_LIMIT}


CHECKIN_FELT = (("too-much", "Too much"), ("about-right", "About right"),
                ("more", "It could be more"))
"""How the shaking phase felt, as the form offers it."""


def checked(*, title: str, href: str, prefix: str, care: bool, grounding: Sequence[str],
            again: str, next: str) -> str:
    """A check-in saved: with ``care``, the grounding steps and the crisis pointer
    first; then what the next session will do."""
    return _environment.get_template("checked.html").render(
        title=title, href=href, prefix=prefix, care=care, grounding=grounding, again=again,
        next=next, studio=True, notice=notice(), language="en")


def history(rows: Sequence[Mapping[str, Any]], prefix: str, health: str, summary: str,
            problem: str = "") -> str:
    """The practice: its picture (described by ``summary``), a table and the CSV file;
    or the ``problem`` that keeps it from being read."""
    return _environment.get_template("history.html").render(
        rows=rows, prefix=prefix, health=health, summary=summary, problem=problem,
        notice=notice(), language="en")
