"""Serve a folder's sessions over HTTP: a page to listen on a phone, and a podcast feed.

Private by default: it listens on 127.0.0.1 only. On the local network (``lan``) every
address starts with a random token, ``/TOKEN/``, and a request without it gets 403,
whatever it asks for. Only the files of the sessions the library lists are served, found
by their names in that list (never by joining a path onto the folder), so there is no
path traversal, no symlink out of the folder, no hidden or half-written file and no
directory listing. Files are sent with byte ranges (206) so that players can seek.

Addresses, under ``/TOKEN`` with a token:

- ``/`` the sessions, newest first; ``/session/ID`` one session's page
- ``/files/NAME`` a session's file (``ID.mp3``, ``ID.vtt``, ... and ``ID.chapters.json``)
- ``/feed.xml`` the podcast feed; ``/assets/NAME`` the page's style and script
"""

from __future__ import annotations

import email.utils
import errno
import hmac
import ipaddress
import os
import re
import secrets
import socket
import sys
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import BinaryIO
from urllib.parse import unquote

from . import feed, pages
from .errors import InvalidOption, ServeError
from .library import CHAPTERS_SUFFIX, Library

DEFAULT_PORT = 8737
LOOPBACK = "127.0.0.1"
EVERYWHERE = "0.0.0.0"
TOKEN_BYTES = 16
"""The token has 128 random bits (22 characters)."""
CHUNK = 64 * 1024
IDLE_SECONDS = 120
"""A connection that sends nothing for this long is closed."""

_TYPES = {".mp3": "audio/mpeg", ".txt": "text/plain; charset=utf-8",
          ".vtt": "text/vtt; charset=utf-8", ".srt": "application/x-subrip; charset=utf-8",
          ".json": "application/json", ".svg": "image/svg+xml"}
_PAGE_POLICY = ("default-src 'none'; script-src 'self'; style-src 'self'; media-src 'self'; "
                "img-src 'self' data:; base-uri 'none'; form-action 'none'; "
                "frame-ancestors 'none'")
_FILE_POLICY = "default-src 'none'; media-src 'self'; style-src 'unsafe-inline'; sandbox"
_RANGE = re.compile(r"\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*", re.ASCII | re.IGNORECASE)
_HOST = re.compile(r"(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?", re.ASCII)


class Refused(Exception):
    """A request answered with an error status (and, for a redirect, where to go)."""

    def __init__(self, status: HTTPStatus, location: str | None = None) -> None:
        super().__init__(status.phrase)
        self.status = status
        self.location = location


class Unsatisfiable(Exception):
    """A byte range that starts past the end of the file."""


def route(target: str, token: str | None) -> tuple[str, str]:
    """What the request target asks for: ``(kind, name)`` with kind ``index``, ``feed``,
    ``asset``, ``session`` or ``file``. Raises ``Refused``: 403 without the right token,
    400 for a target that is not a path, 404 for anything else that is not a page."""
    if not target.startswith("/"):
        raise Refused(HTTPStatus.BAD_REQUEST)
    raw = target.split("#", 1)[0].split("?", 1)[0].split("/")[1:]
    if token is not None:
        given = unquote(raw[0]).encode("utf-8", "surrogateescape")
        if not hmac.compare_digest(given, token.encode("ascii")):
            raise Refused(HTTPStatus.FORBIDDEN)
        raw = raw[1:]
        if not raw:
            raise Refused(HTTPStatus.MOVED_PERMANENTLY, f"/{token}/")
    try:
        parts = [unquote(part, errors="strict") for part in raw]
    except UnicodeDecodeError:
        raise Refused(HTTPStatus.BAD_REQUEST) from None
    if parts == [""]:
        return "index", ""
    if any(not part or part.startswith(".") or any(c in part for c in "/\\\0")
           for part in parts):
        raise Refused(HTTPStatus.NOT_FOUND)  # also ".." and "%2e%2e", "%2F", "//"
    head, rest = parts[0], "/".join(parts[1:])
    if parts == ["feed.xml"]:
        return "feed", ""
    if head in ("assets", "session", "files") and rest:
        return {"assets": "asset", "session": "session", "files": "file"}[head], rest
    raise Refused(HTTPStatus.NOT_FOUND)


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The first and last byte a ``Range`` header asks for, or None to send the whole
    file (no header, another unit, several ranges or a malformed one: RFC 9110 lets a
    server ignore those). Raises ``Unsatisfiable`` for a range past the end."""
    match = _RANGE.fullmatch(header) if header is not None else None
    if match is None:
        return None
    first, last = match.groups()
    if not first:
        if not last:
            return None
        if int(last) == 0 or size == 0:
            raise Unsatisfiable
        return max(0, size - int(last)), size - 1
    start = int(first)
    if last and int(last) < start:
        return None
    if start >= size:
        raise Unsatisfiable
    return start, (min(int(last), size - 1) if last else size - 1)


def lan_address() -> str:
    """This machine's address on its network (a guess; 127.0.0.1 if there is none)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            # Connecting a UDP socket sends nothing; it only picks the outgoing interface.
            probe.connect(("192.0.2.1", 9))
            return str(probe.getsockname()[0])
        except OSError:
            pass
    try:
        return socket.gethostbyname(socket.gethostname())
    except OSError:
        return LOOPBACK


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class SessionServer(ThreadingHTTPServer):
    """The HTTP server over a ``Library``; ``token`` None means no token is asked."""

    daemon_threads = True

    def __init__(self, library: Library, address: tuple[str, int], token: str | None
                 ) -> None:
        self.library = library
        self.token = token
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        super().__init__(address, _Handler)

    @property
    def prefix(self) -> str:
        """What every address starts with: ``/TOKEN``, or nothing."""
        return f"/{self.token}" if self.token else ""

    @property
    def url(self) -> str:
        """The address to open, with the token (the network address if bound to all)."""
        host, port = str(self.server_address[0]), int(self.server_address[1])
        if host in (EVERYWHERE, "::"):
            host = lan_address()
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{port}{self.prefix}/"

    def handle_error(self, request: object, client_address: object) -> None:
        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            return  # players drop connections all the time
        super().handle_error(request, client_address)  # type: ignore[arg-type]


def open_server(folder: Path, *, lan: bool = False, host: str | None = None,
                port: int = DEFAULT_PORT) -> SessionServer:
    """A server (bound, not yet serving) for the sessions in ``folder``: on 127.0.0.1, or
    with ``lan`` on all addresses (or ``host``) with a new random token."""
    library = Library(folder)
    if host is not None and not lan and not _is_loopback(host):
        raise InvalidOption("--host", f"--host {host} is not a loopback address; add --lan "
                            "to serve on the network (every address then needs a token)")
    if not 0 <= port <= 65535:
        raise InvalidOption("--port", f"--port must be 0 to 65535, not {port}")
    host = host or (EVERYWHERE if lan else LOOPBACK)
    token = secrets.token_urlsafe(TOKEN_BYTES) if lan else None
    try:
        return SessionServer(library, (host, port), token)
    except OSError as error:
        reason = error.strerror or str(error)
        hint = ("; try another --port, or --port 0 for any free one"
                if error.errno == errno.EADDRINUSE else "")
        raise ServeError(f"cannot listen on {host}:{port}: {reason}{hint}") from None


class _Handler(BaseHTTPRequestHandler):
    server: SessionServer
    protocol_version = "HTTP/1.1"
    server_version = "tre-audio"
    timeout = IDLE_SECONDS

    def do_GET(self) -> None:  # noqa: N802 (http.server's names)
        self._answer(body=True)

    def do_HEAD(self) -> None:  # noqa: N802
        self._answer(body=False)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        """Log nothing: every address carries the token, which is printed only once."""

    def version_string(self) -> str:
        return self.server_version  # without Python's version

    def _answer(self, body: bool) -> None:
        try:
            kind, name = route(self.path, self.server.token)
            if kind == "index":
                self._page(pages.index(self.server.library.sessions(), self.server.prefix,
                                       self._base() + feed.FEED_NAME), body)
            elif kind == "session":
                entry = self.server.library.find(name)
                if entry is None:
                    raise Refused(HTTPStatus.NOT_FOUND)
                self._page(pages.session(entry, self.server.prefix), body)
            elif kind == "feed":
                files = self._base() + "files/"
                text = feed.rss(self.server.library.sessions(), files, self._base())
                self._send(HTTPStatus.OK, text.encode(), "application/rss+xml; charset=utf-8",
                           body)
            elif kind == "asset":
                data = pages.asset(name)
                if data is None:
                    raise Refused(HTTPStatus.NOT_FOUND)
                self._send(HTTPStatus.OK, data, pages.ASSETS[name], body)
            else:
                self._file(name, body)
        except Refused as refusal:
            self._refuse(refusal)
        except (ConnectionError, TimeoutError):
            self.close_connection = True

    def _base(self) -> str:
        """This server's address as the client used it (for the feed's full addresses)."""
        host = self.headers.get("Host", "")
        if not _HOST.fullmatch(host):
            return self.server.url
        return f"http://{host}{self.server.prefix}/"

    def _file(self, name: str, body: bool) -> None:
        library = self.server.library
        if name.endswith(CHAPTERS_SUFFIX):
            entry = library.find(name[: -len(CHAPTERS_SUFFIX)])
            if entry is None:
                raise Refused(HTTPStatus.NOT_FOUND)
            self._send(HTTPStatus.OK, feed.chapters_json(entry).encode(),
                       feed.CHAPTERS_TYPE, body)
            return
        found = library.file(name)
        if found is None:
            raise Refused(HTTPStatus.NOT_FOUND)
        path = found[1]
        try:
            handle = path.open("rb")
        except OSError:
            raise Refused(HTTPStatus.NOT_FOUND) from None
        with handle:
            self._send_file(handle, _TYPES.get(Path(name).suffix.lower(),
                                               "application/octet-stream"), body)

    def _send_file(self, handle: BinaryIO, content_type: str, body: bool) -> None:
        status = os.fstat(handle.fileno())
        size = status.st_size
        etag = f'"{status.st_mtime_ns:x}-{size:x}"'
        modified = email.utils.formatdate(status.st_mtime, usegmt=True)
        asked = self.headers.get("Range")
        if_range = self.headers.get("If-Range")
        if if_range is not None and if_range.strip() not in (etag, modified):
            asked = None  # the file changed since the client's first part: send it whole
        headers = {"Accept-Ranges": "bytes", "ETag": etag, "Last-Modified": modified}
        if content_type == "image/svg+xml":
            headers["Content-Security-Policy"] = _FILE_POLICY
        try:
            span = byte_range(asked, size)
        except Unsatisfiable:
            self._send(HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE, b"", "text/plain", body,
                       {**headers, "Content-Range": f"bytes */{size}"})
            return
        if span is None:
            code, start, length = HTTPStatus.OK, 0, size
        else:
            code, start, length = HTTPStatus.PARTIAL_CONTENT, span[0], span[1] - span[0] + 1
            headers["Content-Range"] = f"bytes {span[0]}-{span[1]}/{size}"
        self._head(code, content_type, length, headers)
        if not body:
            return
        handle.seek(start)
        while length > 0:
            chunk = handle.read(min(CHUNK, length))
            if not chunk:  # the file shrank under us: end the connection, not the answer
                self.close_connection = True
                return
            self.wfile.write(chunk)
            length -= len(chunk)

    def _page(self, html: str, body: bool) -> None:
        self._send(HTTPStatus.OK, html.encode(), "text/html; charset=utf-8", body,
                   {"Content-Security-Policy": _PAGE_POLICY})

    def _refuse(self, refusal: Refused) -> None:
        headers = {"Location": refusal.location} if refusal.location else {}
        message = f"{refusal.status.value} {refusal.status.phrase}\n".encode()
        self._send(refusal.status, message, "text/plain; charset=utf-8",
                   self.command != "HEAD", headers)

    def _send(self, status: HTTPStatus, data: bytes, content_type: str, body: bool,
              headers: dict[str, str] | None = None) -> None:
        self._head(status, content_type, len(data), headers or {})
        if body:
            self.wfile.write(data)

    def _head(self, status: HTTPStatus, content_type: str, length: int,
              headers: dict[str, str]) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(length))
        self.send_header("Cache-Control", "no-cache")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
