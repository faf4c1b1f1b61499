"""The answers the pages and the studio give alike: a refusal, a whole answer of known
length, a redirect after a POST, and the pages' content policies."""

from __future__ import annotations

from http import HTTPStatus

from starlette.responses import Response

from . import wire

HTML = "text/html; charset=utf-8"
PAGE_POLICY = ("default-src 'none'; script-src 'self'; style-src 'self'; media-src 'self'; "
               "img-src 'self' data:; base-uri 'none'; form-action 'none'; "
               "frame-ancestors 'none'")
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
