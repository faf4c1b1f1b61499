"""The studio's addresses: the form (``/make``; its POST makes a session or a course,
checks the length it can reach, or saves the answers as the user's defaults), the length
a form can reach as JSON for the page's script (``/reach``), a session being made
(``/job/ID``; a POST cancels it), the previews of voices and beds
(``/preview/voice/NAME``, ``/preview/bed/NAME``) and deleting a session or a course
(``/delete/ID``: a page that asks first; its POST deletes), and a course made again
from the practice record (``/continue/FOLDER``, a POST from a session's page).

A POST must carry the server's form token, come from the server's own origin where the
browser says so, and be a form of at most ``form.MAX_BODY`` bytes.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from pathlib import Path
from typing import Any, BinaryIO, Protocol
from urllib.parse import parse_qsl, quote

from starlette.requests import Request
from starlette.responses import Response

from . import form, pages
from .answers import HTML, STUDIO_POLICY, Refused, see_other, whole
from .library import Library
from ..errors import Busy, InvalidOption, TreAudioError

KINDS = ("make", "job", "reach", "preview", "delete", "continue")
"""What ``server.route`` finds that the studio answers."""
POSTED = ("make", "job", "reach", "delete", "continue")
"""Those that take a POST."""
SETTINGS_LIMIT = 4_000_000
"""The largest timeline read for a session's settings ("make it again")."""
ACTIONS = ("make", "check", "defaults", "forget")
"""What a POST to the form asks (its ``do`` field): make the session, say what length
it can reach, save the answers as the user's defaults, or remove one of them
(``forget:KEY``)."""
_FORM_TYPE = "application/x-www-form-urlencoded"


class JobView(Protocol):
    """A session the studio is making, as the page shows it."""

    @property
    def id(self) -> str: ...

    @property
    def state(self) -> str: ...

    @property
    def stage(self) -> str: ...

    @property
    def made(self) -> Path | None: ...

    @property
    def error(self) -> str: ...

    @property
    def percent(self) -> int: ...

    @property
    def finished(self) -> bool: ...

    @property
    def what(self) -> str: ...


class Studio(Protocol):
    """What makes sessions for the page (``tre_audio.studio``: it has the registries and
    the session, which this layer does not import)."""

    def choices(self) -> Mapping[str, Sequence[tuple[str, str]]]: ...

    def check(self, given: Mapping[str, Any]) -> object: ...

    def reach(self, given: Mapping[str, Any]) -> str: ...

    def submit(self, given: Mapping[str, Any]) -> JobView: ...

    def get(self, job_id: str) -> JobView | None: ...

    def unfinished(self) -> Sequence[JobView]: ...

    def cancel(self, job_id: str) -> JobView | None: ...

    def defaults(self) -> dict[str, Any]: ...

    def again(self, settings: Mapping[str, Any]) -> dict[str, Any]: ...

    def length_note(self, given: Mapping[str, Any]) -> str: ...

    def practice_note(self, given: Mapping[str, Any]) -> str: ...

    def save_defaults(self, given: Mapping[str, Any]) -> list[str]: ...

    def forget_default(self, key: str) -> None: ...

    def continues(self, folder: str) -> bool: ...

    def forecast(self, programme: str | None) -> str: ...

    def carry_on(self, folder: str) -> JobView: ...

    def preview(self, kind: str, name: str) -> Path: ...

    def deletes(self, mp3: Path) -> str: ...

    def delete(self, mp3: Path) -> str: ...


class SessionServer(Protocol):
    """What the studio's pages need of the server (``server.SessionServer``)."""

    library: Library
    studio: Studio | None
    csrf: str

    @property
    def prefix(self) -> str: ...

    def file(self, handle: BinaryIO, content_type: str, request: Request, head: bool
             ) -> Response: ...


def answer(server: SessionServer, request: Request, kind: str, name: str,
           body: bytes | None, head: bool) -> Response:
    """The studio's answer to a request for ``kind`` and ``name`` (``server.route``'s),
    ``body`` that of a POST. Raises ``Refused``."""
    studio = server.studio
    if studio is None:
        raise Refused(HTTPStatus.NOT_FOUND)
    if body is None and kind in ("reach", "continue") or \
            body is not None and kind not in POSTED:
        raise Refused(HTTPStatus.METHOD_NOT_ALLOWED)
    try:
        pairs = posted(server, request, body) if body is not None else None
    except Stale as old:
        if kind != "make":
            raise Refused(HTTPStatus.FORBIDDEN) from None
        return _make(server, studio, request, old.pairs, head, stale=True)
    if kind == "job":
        return _job(server, studio, name, pairs is not None, head)
    if kind == "continue":
        try:
            job = studio.carry_on(name)
        except InvalidOption:
            raise Refused(HTTPStatus.CONFLICT) from None  # nothing to make again now
        except Busy:
            raise Refused(HTTPStatus.SERVICE_UNAVAILABLE) from None
        return see_other(f"{server.prefix}/job/{quote(job.id)}")
    if kind == "preview":
        return _preview(server, studio, name, request, head)
    if kind == "delete":
        return _delete(server, studio, name, pairs is not None, head)
    if kind == "reach" and pairs is not None:
        return _reach(studio, pairs)
    return _make(server, studio, request, pairs, head)


def _make(server: SessionServer, studio: Studio, request: Request,
          pairs: list[tuple[str, str]] | None, head: bool, stale: bool = False) -> Response:
    """The form, each field left as it is following the profile (shown beside it), or
    filled from a session's settings (``?again=ID``); a POST makes, checks or saves, and
    shows the form again beside what it found. A ``stale`` form (its token of an earlier
    run of the server) is shown again with its answers, and nothing done."""
    errors: dict[str, str] = {}
    problem = said = reach = practice = ""
    status = HTTPStatus.OK
    choices = studio.choices()
    if pairs is None:
        again = request.query_params.get("again")
        given: dict[str, Any] = _settings(server, studio, again) if again is not None else {}
        reach = _quietly(studio, given)
        said = studio.length_note(given)
        practice = studio.practice_note(given)
    else:
        actions = [value for key, value in pairs if key == "do"] or ["make"]
        pairs = [(key, value) for key, value in pairs if key != "do"]
        if len(actions) != 1 or actions[0].partition(":")[0] not in ACTIONS:
            raise Refused(HTTPStatus.BAD_REQUEST)
        try:
            read = form.read(pairs, choices)
            if stale:
                problem = ("The page was older than the studio, which has started again "
                           "since: check the answers, then choose again.")
                status = HTTPStatus.CONFLICT
            elif actions[0] == "make":
                return see_other(f"{server.prefix}/job/{quote(studio.submit(read).id)}")
            elif actions[0].startswith("forget:"):
                studio.forget_default(actions[0].partition(":")[2])
                said = (f"Removed {form.label(actions[0].partition(':')[2])} from your "
                        "defaults.")
            elif actions[0] == "defaults":
                left = studio.save_defaults(read)
                said = ("Saved as your defaults: the fields you left as they were keep "
                        "what your profile had.")
                if left:
                    said += (" A profile does not keep " + ", ".join(
                        form.label(key) for key in left) + ": they belong to one session.")
            else:
                reach = studio.reach(read)
                studio.check(read)
                practice = studio.practice_note(read)
                said = " ".join(filter(None, ["These settings can be made.",
                                              studio.length_note(read)]))
        except InvalidOption as error:
            key, text = form.message(error)
            errors, problem = ({key: text}, "") if key else ({}, text)
            status = HTTPStatus.UNPROCESSABLE_ENTITY
        except Busy as error:
            problem, status = str(error), HTTPStatus.SERVICE_UNAVAILABLE
        except TreAudioError as error:
            problem, status = str(error), HTTPStatus.UNPROCESSABLE_ENTITY
        given = form.refill(pairs)
    defaults = studio.defaults()
    page = pages.make(form.fields(choices, given, errors, defaults),
                      problem, server.prefix, server.csrf, reach=reach, said=said,
                      previews=_previews(server, choices), practice=practice,
                      defaults=form.defaults(defaults))
    return html(page, head, status)


def _quietly(studio: Studio, given: Mapping[str, Any]) -> str:
    """The length ``given`` can reach, or '' if the options themselves are refused."""
    try:
        return studio.reach(given)
    except TreAudioError:
        return ""


def _previews(server: SessionServer, choices: Mapping[str, Sequence[tuple[str, str]]]
              ) -> dict[str, list[tuple[str, str]]]:
    """Each voice's and bed's name and its preview's address ("none" has none)."""
    return {kind: [(value, f"{server.prefix}/preview/{kind}/{quote(value)}")
                   for value, _ in choices.get(key, ()) if value != "none"]
            for kind, key in (("voice", "voice"), ("bed", "ambient"))}


def _settings(server: SessionServer, studio: Studio, session_id: str) -> dict[str, Any]:
    """The form's answers that make a session like ``session_id`` (from its timeline's
    ``settings``)."""
    entry = server.library.find(session_id)
    if entry is None:
        raise Refused(HTTPStatus.NOT_FOUND)
    text = entry.read_text(".json", SETTINGS_LIMIT)
    try:
        settings = json.loads(text or "{}").get("settings") or {}
    except (ValueError, AttributeError):
        settings = {}
    return studio.again(settings if isinstance(settings, dict) else {})


def _reach(studio: Studio, pairs: list[tuple[str, str]]) -> Response:
    """For the page's script: the length the answers can reach, and the error of the
    first field refused (its key and the words), as JSON."""
    pairs = [(key, value) for key, value in pairs if key != "do"]
    out: dict[str, str] = {"reach": "", "field": "", "error": ""}
    try:
        read = form.read(pairs, studio.choices())
        out["reach"] = studio.reach(read)
        studio.check(read)
    except InvalidOption as error:
        out["field"], out["error"] = form.message(error)
    except TreAudioError as error:
        out["error"] = str(error)
    return whole(json.dumps(out).encode(), "application/json", False)


def _job(server: SessionServer, studio: Studio, name: str, cancel: bool, head: bool
         ) -> Response:
    job = studio.get(name)
    if job is None:
        raise Refused(HTTPStatus.NOT_FOUND)  # unknown, or cut off by a restart
    if cancel:
        studio.cancel(name)
        return see_other(f"{server.prefix}/job/{quote(name)}")
    listen = None
    if job.state == "made" and job.made is not None:
        made = job.made.resolve()
        if made.is_relative_to(server.library.folder.resolve()):
            made_id = made.relative_to(server.library.folder.resolve()).with_suffix("")
            if server.library.find(made_id.as_posix()) is not None:  # not deleted since
                listen = f"{server.prefix}/session/{quote(made_id.as_posix())}"
    return html(pages.job(job, server.prefix, server.csrf, listen), head)


def _preview(server: SessionServer, studio: Studio, name: str, request: Request,
             head: bool) -> Response:
    """A voice's or a bed's preview, whole or the range asked for (as a player seeks)."""
    kind, _, which = name.partition("/")
    try:
        path = studio.preview(kind, which)
    except InvalidOption:
        raise Refused(HTTPStatus.NOT_FOUND) from None
    return server.file(path.open("rb"), "audio/mpeg", request, head)


def _delete(server: SessionServer, studio: Studio, session_id: str, confirmed: bool,
            head: bool) -> Response:
    entry = server.library.find(session_id)
    if entry is None:
        raise Refused(HTTPStatus.NOT_FOUND)
    listed = server.library.folder / f"{entry.id}.mp3"  # a link in the folder: itself
    if not confirmed:
        whole_course = studio.deletes(listed) == "course"
        return html(pages.delete(entry, server.prefix, server.csrf, whole_course), head)
    studio.delete(listed)
    return see_other(f"{server.prefix}/?deleted")


def posted(server: SessionServer, request: Request, body: bytes) -> list[tuple[str, str]]:
    """A form's fields, once the request is shown to come from this server's own page:
    its type (415), its origin where the browser says it (403) and the form's token
    (403); a body that is not a form gets 400."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != _FORM_TYPE:
        raise Refused(HTTPStatus.UNSUPPORTED_MEDIA_TYPE)
    own = "http://" + request.headers.get("host", "").strip(" \t").lower()
    origin = request.headers.get("origin")
    if origin is not None and origin.strip().lower() != own:
        raise Refused(HTTPStatus.FORBIDDEN)
    if request.headers.get("sec-fetch-site", "same-origin") != "same-origin":
        raise Refused(HTTPStatus.FORBIDDEN)
    try:
        pairs = parse_qsl(body.decode("ascii"), keep_blank_values=True,
                          max_num_fields=form.MAX_FIELDS, errors="strict")
    except (UnicodeDecodeError, ValueError):
        raise Refused(HTTPStatus.BAD_REQUEST) from None
    tokens = [value for key, value in pairs if key == "csrf"]
    if len(tokens) != 1:
        raise Refused(HTTPStatus.FORBIDDEN)
    rest = [(key, value) for key, value in pairs if key != "csrf"]
    if not hmac.compare_digest(tokens[0].encode("utf-8"), server.csrf.encode("ascii")):
        # from this origin, by the browser's word: a page of an earlier run of the server
        if request.headers.get("origin") is None or \
                request.headers.get("sec-fetch-site") != "same-origin":
            raise Refused(HTTPStatus.FORBIDDEN)
        raise Stale(rest)
    return rest


class Stale(Exception):
    """A form from this server's origin with another token: a page the server made
    before it started again."""

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        super().__init__("stale form")
        self.pairs = pairs


def html(page: str, head: bool, status: int = HTTPStatus.OK,
         headers: Mapping[str, str] | None = None) -> Response:
    """A page of the studio's: it may post its forms to its own server."""
    # A page whose referrer policy is no-referrer posts with "Origin: null" (the Fetch
    # standard), which the origin check refuses: the studio's pages send their origin to
    # their own server, and to nothing else.
    return whole(page.encode(), HTML, head, {"Content-Security-Policy": STUDIO_POLICY,
                                            "Referrer-Policy": "same-origin",
                                            **(headers or {})}, status)
