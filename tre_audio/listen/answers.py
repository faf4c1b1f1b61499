"""The answers the pages and the studio give alike: a refusal, a whole answer of known
length, a redirect after a POST, and the pages' content policies."""

from __future__ import annotations

import email.utils
import time
from http import HTTPStatus

from starlette.requests import Request
from starlette.responses import Response

from . import wire

HTML = "text/html; charset=utf-8"
PAGE_POLICY = ("default-src 'none'; script-src 'self'; style-src 'self'; media-src 'self'; "
               "img-src 'self' data:; manifest-src 'self'; base-uri 'none'; "
               "form-action 'none'; frame-ancestors 'none'")
STUDIO_POLICY = PAGE_POLICY.replace("form-action 'none'", "form-action 'self'") \
    + "; connect-src 'self'"
"""The studio's pages post their forms to this server, and its script asks it too."""


class Refused(Exception):
    """A request answered with an error status (and, for a redirect, where to go)."""

    def __init__(self, status: HTTPStatus, location: str | None = None) -> None:
        super().__init__(status.phrase)
        self.status = status
        self.location = location


class Sized(Response):
    """A whole answer whose Content-Length is ``length`` (for HEAD, with no body)."""

    def __init__(self, body: bytes, status: int, headers: dict[str, str],
                 media_type: str, length: int) -> None:
        super().__init__(body, status, {**headers, "content-length": str(length)},
                         media_type)


def whole(data: bytes, content_type: str, head: bool, headers: dict[str, str] | None = None,
          status: int = HTTPStatus.OK) -> Response:
    """``data`` as the answer (none of it for HEAD, its length all the same)."""
    return Sized(b"" if head else data, status, headers or {}, content_type, len(data))


def refusal(refused: Refused, head: bool) -> Response:
    headers = {"Location": refused.location} if refused.location else {}
    return whole(wire.error_body(refused.status), "text/plain; charset=utf-8", head, headers,
                 refused.status)


def see_other(location: str) -> Response:
    """Where to go after a POST (303)."""
    return Sized(b"", HTTPStatus.SEE_OTHER, {"Location": location},
                 "text/plain; charset=utf-8", 0)


def unchanged(request: Request, etag: str, modified: float) -> bool:
    """Whether the client's copy, by its ``If-None-Match`` (or else its
    ``If-Modified-Since``), is the one of ``etag``, last modified at ``modified``
    (RFC 9110, 13.1.2 and 13.1.3)."""
    match = request.headers.get("if-none-match")
    if match is not None:
        tags = {tag.strip().removeprefix("W/") for tag in match.split(",")}
        return "*" in tags or etag in tags
    since = request.headers.get("if-modified-since")
    if since is None:
        return False
    try:
        when = email.utils.parsedate_to_datetime(since)
    except (TypeError, ValueError, IndexError, OverflowError):
        return False
    # a date in the future is not one the client had from us (RFC 9110: it may be ignored)
    return when.tzinfo is not None and int(modified) <= when.timestamp() <= time.time()


def not_modified(headers: dict[str, str]) -> Response:
    """304: the client's copy is current (``headers``: its validators)."""
    return Response(b"", HTTPStatus.NOT_MODIFIED, headers)


def current(data: bytes, content_type: str, head: bool, request: Request, etag: str,
            modified: float) -> Response:
    """``data`` as ``whole`` does, with its validators, or 304 if the client has it."""
    headers = {"ETag": etag, "Last-Modified": email.utils.formatdate(modified, usegmt=True)}
    if unchanged(request, etag, modified):
        return not_modified(headers)
    return whole(data, content_type, head, headers)
