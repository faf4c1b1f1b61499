"""Serve a folder's sessions over HTTP: a page to listen on a phone, and a podcast feed.

Private by default: it listens on 127.0.0.1 only. On the local network (``lan``) every
address starts with a random token, ``/TOKEN/``, and a request without it gets 403,
whatever it asks for. A request whose ``Host`` is not one of this machine's own names with
the server's port gets 400, so that a web page whose name was made to point here (DNS
rebinding) cannot read it through the user's own browser. Only the files of the sessions
the library lists are served, found by their names in that list (never by joining a path
onto the folder), so there is no path traversal, no symlink out of the folder, no hard
link, no hidden or half-written file and no directory listing. Files are sent with byte
ranges (206) so that players can seek, from the handle the library opened (a file is
never opened again by its path).

Requests and answers are Starlette's, on uvicorn's HTTP/1.1 (``wire``). One application
answers every request: routing is ``route``'s alone, on the target exactly as sent.

The machine's addresses are read from its interfaces (``getifaddrs``, through psutil):
finding them sends nothing and looks no name up.

Addresses, under ``/TOKEN`` with a token:

- ``/`` the sessions, newest first; ``/session/ID`` one session's page
- ``/files/NAME`` a session's file (``ID.mp3``, ``ID.vtt``, ... and ``ID.chapters.json``)
- ``/feed.xml`` the podcast feed; ``/assets/NAME`` the page's style and script
- with a studio, its addresses (``studio_pages``): ``/make``, ``/reach``, ``/job/ID``,
  ``/preview/voice/NAME``, ``/preview/bed/NAME`` and ``/delete/ID``
"""

from __future__ import annotations

import email.utils
import errno
import hashlib
import hmac
import ipaddress
import os
import re
import secrets
import socket
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterable
from http import HTTPStatus
from pathlib import Path
from typing import BinaryIO, NamedTuple
from urllib.parse import quote, unquote

import anyio
import anyio.to_thread
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from . import (DEFAULT_PORT, answers, art, feed, form, pages, practice_pages, studio_pages,
               wire)
from ..errors import InvalidOption, ServeError
from ..files.inputs import read_bytes
from .library import Library, Listing, by_folder
from .answers import HTML, PAGE_POLICY, Refused, Sized, refusal
from .studio_pages import Studio
from .wire import Listener
from ..beside.files import CHAPTERS, COURSE, MP3, WEBVTT, WRITTEN

LOOPBACK = "127.0.0.1"
EVERYWHERE = "0.0.0.0"
TOKEN_BYTES = 16
"""The token has 128 random bits (22 characters)."""
CHUNK = 64 * 1024
REREAD_SECONDS = 5.0
"""A ``Host`` that is not known reads the interfaces' addresses again, at most this often
(an address that changed while the server runs is then answered)."""
RANGE_DIGITS = 18
"""A byte position with more digits is past the end of any file (416)."""
VTT_LIMIT = 4_000_000
"""The largest WebVTT file read for a session's page."""
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")

_TYPES = {kind.suffix: kind.media_type for kind in (MP3, *WRITTEN)} | {
    Path(kind.name).suffix: kind.media_type for kind in COURSE}
_FILE_POLICY = "default-src 'none'; media-src 'self'; style-src 'unsafe-inline'; sandbox"
_RANGE = re.compile(r"\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*", re.ASCII | re.IGNORECASE)
_VIRTUAL = ("docker", "br-", "veth", "virbr", "vmnet", "vboxnet", "lxc", "lxd", "podman",
            "tun", "tap", "wg", "tailscale", "zt", "utun", "bridge", "awdl", "llw")
"""Interface names of containers, VMs and VPNs: their addresses are offered last."""


class Rendered(NamedTuple):
    """A page or feed as rendered: its bytes, when, and its ``ETag``."""

    data: bytes
    at: float
    tag: str


class Unsatisfiable(Exception):
    """A byte range that starts past the end of the file."""


def route(target: str, token: str | None) -> tuple[str, str]:
    """What the request target asks for: ``(kind, name)`` with kind ``index``, ``feed``,
    ``asset``, ``art``, ``manifest``, ``session``, ``file``, or one of the studio's
    (``studio_pages.KINDS``).
    Raises ``Refused``: 403 without the right token, 400 for a target that is not a path,
    404 for anything else that is not a page."""
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
    if parts == ["make"]:
        return "make", ""
    if head == "job" and len(parts) == 2:
        return "job", rest
    if parts == ["reach"]:
        return "reach", ""
    if head == "preview" and len(parts) == 3 and parts[1] in ("voice", "bed"):
        return "preview", rest
    if head == "delete" and rest:
        return "delete", rest
    if head == "continue" and rest:
        return "continue", rest
    if head == "checkin" and len(parts) >= 2:
        return "checkin", rest
    if parts == ["history"] or parts in (["history.svg"], ["history.csv"]):
        return "history", head.partition(".")[2]
    if head == "art" and len(parts) == 2:
        return "art", rest
    if parts == ["manifest.webmanifest"]:
        return "manifest", ""
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
    if len(first) > RANGE_DIGITS or len(last) > RANGE_DIGITS:
        raise Unsatisfiable  # and never an int() of thousands of digits
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


def interfaces() -> dict[str, list[str]]:
    """The IPv4 and IPv6 addresses of each network interface, by interface name (IPv6
    without a ``%zone``). Read from the kernel: nothing is sent, no name looked up."""
    import psutil  # only serve needs it; slow to import

    try:
        found = psutil.net_if_addrs()
    except (OSError, psutil.Error):
        return {}
    return {name: [a.address.split("%", 1)[0] for a in addresses
                   if a.family in (socket.AF_INET, socket.AF_INET6)]
            for name, addresses in found.items()}


def _default_route_interfaces() -> set[str]:
    """The interfaces that Linux's default IPv4 routes go through (none elsewhere)."""
    try:
        table = read_bytes(Path("/proc/net/route"), 1 << 20).decode("ascii", "replace")
    except OSError:
        return set()
    names = set()
    for line in table.splitlines()[1:]:
        fields = line.split()  # Iface Destination Gateway Flags ... (hexadecimal)
        try:
            up = int(fields[3], 16) & 1
        except (IndexError, ValueError):
            continue
        if fields[1] == "00000000" and up:
            names.add(fields[0])
    return names


def lan_address(found: dict[str, list[str]] | None = None) -> str:
    """This machine's IPv4 address on its network, for the address printed: not of a
    container's, VM's or VPN's interface if there is another, of the interface the default
    route goes through if it can be told, private ranges first; else 127.0.0.1."""
    found = interfaces() if found is None else found
    routed = _default_route_interfaces()
    ranked = []
    for order, (name, addresses) in enumerate(found.items()):
        for text in addresses:
            try:
                address = ipaddress.ip_address(text)
            except ValueError:
                continue
            if address.version != 4 or address.is_loopback or address.is_link_local \
                    or address.is_unspecified:
                continue
            ranked.append(((name.lower().startswith(_VIRTUAL), name not in routed,
                            not address.is_private, order), text))
    return min(ranked)[1] if ranked else LOOPBACK


def _host_name(address: str) -> str:
    """``address`` as it is written in a Host header: IPv6 in brackets, lower case."""
    address = address.lower()
    return f"[{address}]" if ":" in address else address


class Hosts:
    """The ``Host`` values a server answers: each of its ``names`` (addresses or host
    names) with its port, alone too for port 80. On a miss, ``addresses`` (if given) is
    asked for the machine's addresses again, at most once every ``REREAD_SECONDS``."""

    def __init__(self, port: int, names: Iterable[str],
                 addresses: Callable[[], Iterable[str]] | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.port = port
        self._names = {_host_name(name) for name in names}
        self._addresses = addresses
        self._clock = clock
        self._lock = threading.Lock()
        self._read_at = clock()
        self._allowed = self._with_port(self._names)

    def allows(self, host: str | None) -> bool:
        """Whether ``host`` (a Host header's value, or None) is one of this server's."""
        if host is None:
            return False
        host = host.strip(" \t").lower()
        if host in self._allowed:
            return True
        with self._lock:
            if self._addresses is None or self._clock() - self._read_at < REREAD_SECONDS:
                return False
            self._read_at = self._clock()
            self._allowed = self._with_port(self._names | self._read())
        return host in self._allowed

    def _read(self) -> set[str]:
        return {_host_name(a) for a in self._addresses()} if self._addresses else set()

    def _with_port(self, names: set[str]) -> frozenset[str]:
        own = {f"{name}:{self.port}" for name in names}
        return frozenset(own | names if self.port == 80 else own)


def own_names(host: str) -> list[str]:
    """The names of this machine that need no look-up: loopback, its host name and that
    name on the local network (``NAME.local``, which phones resolve by mDNS), and
    ``host``, the address listened on."""
    names = list(LOOPBACK_NAMES)
    try:
        hostname = socket.gethostname()  # the kernel's name for the machine: no look-up
    except OSError:
        hostname = ""
    if hostname:
        names += [hostname, hostname.split(".", 1)[0] + ".local"]
    if host not in (EVERYWHERE, "::"):
        names.append(host)
    return names


def _all_addresses() -> list[str]:
    return [a for addresses in interfaces().values() for a in addresses]


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class SessionServer(Listener):
    """The server over a ``Library``; ``token`` None means no token is asked. It answers
    the Host names of ``own_names`` with its port, and with ``lan`` the addresses of the
    machine's interfaces too (a server on loopback cannot be reached by those)."""

    def __init__(self, library: Library, address: tuple[str, int], token: str | None,
                 lan: bool = False, studio: Studio | None = None) -> None:
        self.library = library
        self.token = token
        self.studio = studio
        self.owner: str | None = None
        """The feeds' owner, an email address (see ``feed.rss``)."""
        self.csrf = secrets.token_urlsafe(TOKEN_BYTES)
        """The form's own token: a page of this server holds it, no other site can."""
        super().__init__(_Guard(self), address)
        found = interfaces() if lan else {}  # on loopback, no other address reaches it
        self._shown = lan_address(found) if address[0] in (EVERYWHERE, "::") else address[0]
        addresses = [a for each in found.values() for a in each]
        self.hosts = Hosts(int(self.server_address[1]), own_names(address[0]) + addresses,
                           _all_addresses if lan else None)
        self._rendered: dict[tuple[str, str], tuple[int, Rendered]] = {}
        self._lock = threading.Lock()

    @staticmethod
    def file(handle: BinaryIO, content_type: str, request: Request, head: bool) -> Response:
        """The file open at ``handle``, whole or the range asked for (``_file``)."""
        return _file(handle, content_type, request, head)

    def rendered(self, kind: str, base: str, make: Callable[[Listing], str]) -> Rendered:
        """The page or feed ``kind`` for ``base`` as ``make`` renders it from the sessions,
        kept until the library's listing changes (rendering 3,000 takes a fair part of a
        second)."""
        listing = self.library.refresh()
        with self._lock:
            kept = self._rendered.get((kind, base))
        if kept is not None and kept[0] == listing.version:
            return kept[1]
        data = make(listing).encode()
        made = Rendered(data, time.time(), f'"{hashlib.sha256(data).hexdigest()[:32]}"')
        with self._lock:
            if len(self._rendered) > 64:  # a few Host names and two kinds: never many
                self._rendered.clear()
            self._rendered[(kind, base)] = (listing.version, made)
        return made

    @property
    def prefix(self) -> str:
        """What every address starts with: ``/TOKEN``, or nothing."""
        return f"/{self.token}" if self.token else ""

    @property
    def url(self) -> str:
        """The address to open, with the token (the network address if bound to all)."""
        host, port = self._shown, int(self.server_address[1])
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{port}{self.prefix}/"


def open_server(folder: Path, *, lan: bool = False, host: str | None = None,
                port: int = DEFAULT_PORT, report: Callable[[str], None] | None = None,
                studio: Studio | None = None, token: str | None = None,
                owner: str | None = None) -> SessionServer:
    """A server (bound, not yet serving) for the sessions in ``folder``: on 127.0.0.1, or
    with ``lan`` on all addresses (or ``host``) with ``token`` (or a new random one; see
    ``kept`` for one that lasts). ``report`` hears why each skipped session or file name
    was skipped, once each (see ``Library``); the feeds name ``owner`` (``feed.rss``)."""
    library = Library(folder, report)
    if host is not None and not lan and not _is_loopback(host):
        raise InvalidOption("--host", f"--host {host} is not a loopback address; add --lan "
                            "to serve on the network (every address then needs a token)")
    if not 0 <= port <= 65535:
        raise InvalidOption("--port", f"--port must be 0 to 65535, not {port}")
    host = host or (EVERYWHERE if lan else LOOPBACK)
    token = (token or secrets.token_urlsafe(TOKEN_BYTES)) if lan else None
    try:
        server = SessionServer(library, (host, port), token, lan, studio)
    except OSError as error:
        reason = error.strerror or str(error)
        hint = ("; try another --port, or --port 0 for any free one"
                if error.errno == errno.EADDRINUSE else "")
        raise ServeError(f"cannot listen on {host}:{port}: {reason}{hint}") from None
    server.owner = owner
    library.refresh()  # read the folder now: what is skipped is told before serving
    return server


class _Guard:
    """The application: GET and HEAD (and POST with a studio) only (501), one ``Host`` of
    the server's own (400),
    then ``answer`` in a worker thread; every answer gets ``wire.COMMON``, and one that is
    not a success ``wire.ERROR_POLICY`` unless it has a policy of its own. An answer that
    fails before it starts is a 500 of the same kind."""

    def __init__(self, server: SessionServer) -> None:
        self.server = server

    async def __call__(self, scope: wire.Scope, receive: wire.Receive, send: wire.Send
                       ) -> None:
        if scope["type"] != "http":
            return
        started = False

        async def guarded(message: wire.Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                given = message.get("headers", ())
                headers = [(k, v) for k, v in given if k.lower() not in _COMMON_NAMES]
                headers += wire.COMMON
                if (b"cache-control", b"no-store") in given:  # health data: not even kept
                    headers = [(k, b"no-store" if k == b"cache-control" else v)
                               for k, v in headers]
                if not any(k.lower() == wire.REFERRER[0] for k, _ in headers):
                    headers.append(wire.REFERRER)
                if message["status"] >= 300 and not any(
                        k.lower() == b"content-security-policy" for k, _ in headers):
                    headers.append((b"content-security-policy", wire.ERROR_POLICY.encode()))
                message = {**message, "headers": headers}
            await send(message)

        head = scope["method"] == "HEAD"
        try:
            too_long = wire.too_long(scope)
            if too_long is not None:
                raise Refused(too_long)
            posted = scope["method"] == "POST" and self.server.studio is not None
            if scope["method"] not in ("GET", "HEAD") and not posted:
                raise Refused(HTTPStatus.NOT_IMPLEMENTED)
            hosts = [value for name, value in scope["headers"] if name == b"host"]
            host = hosts[0].decode("latin-1") if len(hosts) == 1 else None
            if not self.server.hosts.allows(host):
                raise Refused(HTTPStatus.BAD_REQUEST)
            request = Request(scope, receive)
            asked = route(scope["raw_path"].decode("latin-1"), self.server.token)
            body = None
            if posted:  # the token and the address first: nothing is read before them
                if asked[0] not in studio_pages.POSTED + practice_pages.POSTED:
                    raise Refused(HTTPStatus.NOT_IMPLEMENTED)
                body = await _body(request)
            response = await anyio.to_thread.run_sync(_answer, self.server, request, asked,
                                                      head, body)
        except Refused as refused:
            response = refusal(refused, head)
        except Exception:
            if started:
                raise
            response = refusal(Refused(HTTPStatus.INTERNAL_SERVER_ERROR), head)
        await response(scope, receive, guarded)


_COMMON_NAMES = {name for name, _ in wire.COMMON}


async def _body(request: Request) -> bytes:
    """A POST's body, at most ``form.MAX_BODY`` bytes (413 for more), within
    ``form.BODY_SECONDS`` (408)."""
    declared = request.headers.get("content-length", "")
    if declared and (not declared.isdigit() or len(declared) > 9
                     or int(declared) > form.MAX_BODY):
        raise Refused(HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
    body = bytearray()
    try:
        with anyio.fail_after(form.BODY_SECONDS):
            async for chunk in request.stream():
                body += chunk
                if len(body) > form.MAX_BODY:
                    raise Refused(HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
    except TimeoutError:
        raise Refused(HTTPStatus.REQUEST_TIMEOUT) from None
    return bytes(body)


def _answer(server: SessionServer, request: Request, asked: tuple[str, str], head: bool,
            body: bytes | None) -> Response:
    """The answer to a request whose Host was checked, asking for ``asked`` (``route``'s
    kind and name; ``body``: a POST's). Raises ``Refused``."""
    kind, name = asked
    library, prefix = server.library, server.prefix
    base = _base(server, request)
    if kind in practice_pages.KINDS:
        return practice_pages.answer(server, request, kind, name, body, head)
    if body is not None or kind in studio_pages.KINDS:
        return studio_pages.answer(server, request, kind, name, body, head)

    def whole(data: bytes, content_type: str, headers: dict[str, str] | None = None
              ) -> Response:
        return answers.whole(data, content_type, head, headers)

    if kind == "index":
        making = server.studio.unfinished() if server.studio is not None else ()
        deleted = "deleted" in request.query_params
        if making or deleted:  # said once: not kept
            page = pages.index(library.sessions(), prefix, base, True,
                               making=pages.jobs(making, prefix), deleted=deleted,
                               course_files=library.refresh().extras).encode()
        else:
            page = server.rendered("index", base, lambda listed: pages.index(
                listed.sessions, prefix, base, server.studio is not None,
                course_files=listed.extras)).data
        return whole(page, HTML, {"Content-Security-Policy": PAGE_POLICY})
    if kind == "session":
        entry = library.find(name)
        if entry is None:
            raise Refused(HTTPStatus.NOT_FOUND)
        vtt = entry.read_text(WEBVTT.suffix, VTT_LIMIT)
        studio = server.studio
        if studio is None or not practice_pages.recording(studio):
            return whole(pages.session(entry, prefix, vtt, studio is not None).encode(), HTML,
                         {"Content-Security-Policy": PAGE_POLICY})
        folder = entry.id.rpartition("/")[0]
        return studio_pages.html(  # its check-in form posts to this server
            pages.session(entry, prefix, vtt, True, checkin_csrf=server.csrf,
                          carry_on=folder if folder and studio.continues(folder) else ""),
            head)
    if kind == "feed" or (kind == "file" and name.endswith("/" + feed.FEED_NAME)):
        return _feed(server, base, name.rpartition("/")[0], request, head)
    if kind == "art":
        picture = art.picture(name)
        if picture is None:
            raise Refused(HTTPStatus.NOT_FOUND)
        return whole(picture, "image/png")
    if kind == "manifest":
        return whole(art.manifest(prefix), "application/manifest+json")
    if kind == "asset":
        data = pages.asset(name)
        if data is None:
            raise Refused(HTTPStatus.NOT_FOUND)
        return whole(data, pages.ASSETS[name])
    if name.endswith(CHAPTERS.suffix):
        entry = library.find(name[: -len(CHAPTERS.suffix)])
        if entry is None:
            raise Refused(HTTPStatus.NOT_FOUND)
        return whole(feed.chapters_json(entry).encode(), CHAPTERS.media_type)
    handle = library.open(name)
    if handle is None:
        raise Refused(HTTPStatus.NOT_FOUND)
    try:
        return _file(handle, _TYPES.get(Path(name).suffix.lower(), "application/octet-stream"),
                     request, head)
    except BaseException:
        handle.close()
        raise




def _feed(server: SessionServer, base: str, course: str, request: Request,
          head: bool) -> Response:
    """The feed of every session, or of the ``course`` in that folder."""
    def make(listed: Listing) -> str:
        entries = listed.sessions
        files, pages_url, art_url = base + "files/", base + "session/", base + "art/"
        owner = server.owner
        if not course:
            return feed.rss(entries, files, base, feed_url=base + feed.FEED_NAME,
                            pages_url=pages_url, art_url=art_url, owner=owner)
        return feed.rss(by_folder(entries).get(course, []), files, base,
                        feed_url=base + pages.course_feed(course), pages_url=pages_url,
                        art_url=art_url, serial=True, title=feed.course_title(course),
                        owner=owner)

    if course and course not in by_folder(server.library.sessions()):
        raise Refused(HTTPStatus.NOT_FOUND)  # only a folder of sessions has a feed
    made = server.rendered("feed:" + course, base, make)
    # uvicorn's Date ticks once a second: a second earlier, Last-Modified is never later
    return answers.current(made.data, "application/rss+xml; charset=utf-8", head, request,
                           made.tag, made.at - 1)


def _base(server: SessionServer, request: Request) -> str:
    """This server's address as the client used it (for the feed's full addresses): the
    Host was checked to be one of the server's own."""
    host = request.headers.get("host", "").strip(" \t").lower()
    return f"http://{host}{server.prefix}/"


def _file(handle: BinaryIO, content_type: str, request: Request, head: bool) -> Response:
    """The file open at ``handle``, whole or the byte range asked for; the handle is
    closed when the answer ends, however it ends."""
    status = os.fstat(handle.fileno())
    size = status.st_size
    etag = f'"{status.st_mtime_ns:x}-{size:x}"'
    modified = email.utils.formatdate(status.st_mtime, usegmt=True)
    asked = request.headers.get("range")
    if_range = request.headers.get("if-range")
    if if_range is not None and if_range.strip() not in (etag, modified):
        asked = None  # the file changed since the client's first part: send it whole
    headers = {"Accept-Ranges": "bytes", "ETag": etag, "Last-Modified": modified}
    if answers.unchanged(request, etag, status.st_mtime):
        handle.close()
        return answers.not_modified(headers)
    if content_type == "image/svg+xml":
        headers["Content-Security-Policy"] = _FILE_POLICY
    try:
        span = byte_range(asked, size)
    except Unsatisfiable:
        handle.close()
        return Sized(b"", HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE,
                      {**headers, "Content-Range": f"bytes */{size}"}, "text/plain", 0)
    if span is None:
        code, start, length = HTTPStatus.OK, 0, size
    else:
        code, start, length = HTTPStatus.PARTIAL_CONTENT, span[0], span[1] - span[0] + 1
        headers["Content-Range"] = f"bytes {span[0]}-{span[1]}/{size}"
    return _Part(handle, start, 0 if head else length, length, code, headers, content_type)


class _Part(StreamingResponse):
    """``sent`` bytes of ``handle`` from ``start``, under a Content-Length of ``length``;
    the handle is closed when the answer ends, a dropped connection included."""

    def __init__(self, handle: BinaryIO, start: int, sent: int, length: int, status: int,
                 headers: dict[str, str], content_type: str) -> None:
        self.handle = handle
        super().__init__(self._chunks(start, sent), status,
                         {**headers, "content-length": str(length)}, content_type)

    async def _chunks(self, start: int, length: int) -> AsyncIterator[bytes]:
        if length:
            await anyio.to_thread.run_sync(self.handle.seek, start)
        while length > 0:
            chunk = await anyio.to_thread.run_sync(self.handle.read, min(CHUNK, length))
            if not chunk:  # the file shrank under us: end the connection, not the answer
                raise ConnectionAbortedError("the file shrank while it was sent")
            length -= len(chunk)
            yield chunk

    async def __call__(self, scope: wire.Scope, receive: wire.Receive, send: wire.Send
                       ) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self.handle.close()
