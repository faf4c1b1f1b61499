"""The practice record's addresses: checking in after a session (``/checkin/ID``: a
form; its POST records the answers and shows what comes next, the grounding steps and
the crisis pointer first when the session was hard) and the history (``/history``, with
its picture ``/history.svg`` and its CSV file ``/history.csv``).

They are the studio's (a POST is checked as the studio's are) and answer only when the
page has a studio. It is health data: it is shown behind the address and token like
everything else, and exported only when asked for.
"""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus
from pathlib import PurePath
from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response

from . import pages, studio_pages
from .answers import Refused, whole
from .library import clean_text
from ..errors import TreAudioError
from ..practice import checkin as checkins, history, report, store

KINDS = ("checkin", "history")
POSTED = ("checkin",)
FIELDS = frozenset({"before", "after", "felt", "spaced_out", "note"})


def answer(server: studio_pages.SessionServer, request: Request, kind: str, name: str,
           body: bytes | None, head: bool) -> Response:
    """The answer to ``kind`` (``checkin`` with a session's id, ``history`` with ''
    ``svg`` or ``csv``); ``body``: a POST's. Raises ``Refused``."""
    studio = server.studio
    if studio is None:
        raise Refused(HTTPStatus.NOT_FOUND)
    if body is not None and kind not in POSTED:
        raise Refused(HTTPStatus.METHOD_NOT_ALLOWED)
    if kind == "history":
        return _history(server, name, head)
    entry = server.library.find(name)
    if entry is None:
        raise Refused(HTTPStatus.NOT_FOUND)
    context: dict[str, Any] = {
        "title": entry.title, "href": pages.session_href(server.prefix, entry),
        "id": quote(entry.id), "prefix": server.prefix, "csrf": server.csrf}
    if body is None:
        return studio_pages.html(pages.checkin(**context, off=not recording(studio)), head)
    try:
        pairs = studio_pages.posted(server, request, body)
    except studio_pages.Stale:
        raise Refused(HTTPStatus.FORBIDDEN) from None
    if not recording(studio):
        raise Refused(HTTPStatus.FORBIDDEN)
    given = dict(pairs)
    if len(given) != len(pairs) or not set(given) <= FIELDS:
        raise Refused(HTTPStatus.BAD_REQUEST)
    try:
        answers = _answers(given)
    except ValueError as error:
        return studio_pages.html(pages.checkin(**context, off=False, given=given,
                                               problem=str(error)),
                                 head, HTTPStatus.UNPROCESSABLE_ENTITY)
    mp3 = server.library.folder / f"{entry.id}.mp3"
    try:
        checked = checkins.check_in(checkins.session_of(mp3), answers)
    except TreAudioError as error:
        return studio_pages.html(pages.checkin(**context, off=False, given=given,
                                               problem=str(error)),
                                 head, HTTPStatus.UNPROCESSABLE_ENTITY)
    return studio_pages.html(pages.checked(
        title=entry.title, href=context["href"], prefix=server.prefix, care=checked.care,
        grounding=checkins.GROUNDING, again=checkins.AGAIN,
        next=studio.forecast(checked.session.programme)), head)


def recording(studio: studio_pages.Studio) -> bool:
    """Whether the user's profile keeps the practice record (it does unless it says
    ``record = false``)."""
    return studio.defaults().get("record") is not False


def _answers(given: Mapping[str, str]) -> checkins.Answers:
    """The form's answers, checked; a ``ValueError`` says what is wrong."""
    ratings: dict[str, int | None] = {}
    for key, label in (("before", "Before"), ("after", "After")):
        text = given.get(key, "").strip()
        if text and not (text.isascii() and text.isdigit() and 0 <= int(text) <= 10):
            raise ValueError(f"{label} must be a whole number from 0 to 10.")
        ratings[key] = int(text) if text else None
    felt = given.get("felt", "") or None
    if felt is not None and felt not in store.FELT:
        raise ValueError("The shaking phase felt: choose one of the three, or none.")
    spaced = given.get("spaced_out", "")
    if spaced not in ("", "yes"):
        raise ValueError("Spaced out: tick it, or leave it.")
    note = clean_text(given.get("note", ""))
    if len(note) > store.NOTE_LIMIT:
        raise ValueError(f"The note may be at most {store.NOTE_LIMIT:,} characters.")
    return checkins.Answers(ratings["before"], ratings["after"], felt, spaced == "yes", note)


def _history(server: studio_pages.SessionServer, name: str, head: bool) -> Response:
    private = {"Cache-Control": "no-store"}
    try:
        rows = history.rows(history.load())
    except TreAudioError as error:  # a damaged record: said, never written over
        if name:
            raise Refused(HTTPStatus.INTERNAL_SERVER_ERROR) from None
        return studio_pages.html(pages.history([], server.prefix, report.HEALTH, "",
                                               problem=str(error)), head,
                                 HTTPStatus.INTERNAL_SERVER_ERROR, private)
    if name == "svg":
        return whole(report.svg(rows, "Your practice").encode(), "image/svg+xml", head,
                     private)
    if name == "csv":
        return whole(report.csv_text(rows).encode(), "text/csv; charset=utf-8", head,
                     {**private, "Content-Disposition": 'attachment; filename="practice.csv"'})
    return studio_pages.html(pages.history([_row(r) for r in rows], server.prefix,
                                           report.HEALTH, _summary(rows)), head,
                             headers=private)


def _row(row: history.Row) -> dict[str, Any]:
    made, answer = row.session, row.check_in
    return {"made": report.day(made.made),
            "programme": made.programme or PurePath(made.path).stem,
            "tremor": "" if made.tremor is None else f"{made.tremor:.1f} min",
            "before": "" if answer is None or answer.before is None else answer.before,
            "after": "" if answer is None or answer.after is None else answer.after,
            "felt": dict(pages.CHECKIN_FELT).get(answer.felt or "", "") if answer else "",
            "spaced_out": ("yes" if answer.spaced_out else "no") if answer else "",
            "note": answer.note if answer else ""}


def _summary(rows: list[history.Row]) -> str:
    """The picture in words, for those who cannot see it."""
    doses = [r.session.tremor for r in rows if r.session.tremor is not None]
    checked = sum(r.check_in is not None for r in rows)
    said = f"{len(rows)} session{'s' if len(rows) != 1 else ''}, {checked} checked in"
    if doses:
        said += (f"; shaking phase from {min(doses):.1f} to {max(doses):.1f} minutes, "
                 f"{doses[-1]:.1f} last time")
    return said + "."
