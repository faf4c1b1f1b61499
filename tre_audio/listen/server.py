"""Serve a folder's sessions over HTTP: a page to listen on a phone, and a podcast feed.

Private by default: it listens on 127.0.0.1 only. On the local network (``lan``) every
address starts with a random token, ``/TOKEN/``, and a request without it gets 403,
whatever it asks for. A request whose ``Host`` is not one of this machine's own names with
the server's port gets 400, so that a web page whose name was made to point here (DNS
rebinding) cannot read it through the user's own browser. Only the files of the sessions
the library lists are served, found by their names in that list (never by joining a path
onto the folder), so there is no path traversal, no symlink out of the folder, no hard
link, no hidden or half-written file and no directory listing. Files are sent with byte
ranges (206) so that players can seek.

The machine's addresses are read from its interfaces (``getifaddrs``, through psutil):
finding them sends nothing and looks no name up.

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
import threading
import time
from collections.abc import Callable, Iterable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import BinaryIO
from urllib.parse import unquote

from . import feed, pages
from ..errors import InvalidOption, ServeError
from ..files.inputs import read_bytes
from .library import Entry, Library
from ..beside.files import CHAPTERS, MP3, WEBVTT, WRITTEN

DEFAULT_PORT = 8737
LOOPBACK = "127.0.0.1"
EVERYWHERE = "0.0.0.0"
TOKEN_BYTES = 16
"""The token has 128 random bits (22 characters)."""
CHUNK = 64 * 1024
IDLE_SECONDS = 120
"""A connection that sends nothing for this long is closed."""
REREAD_SECONDS = 5.0
"""A ``Host`` that is not known reads the interfaces' addresses again, at most this often
(an address that changed while the server runs is then answered)."""
RANGE_DIGITS = 18
"""A byte position with more digits is past the end of any file (416)."""
VTT_LIMIT = 4_000_000
"""The largest WebVTT file read for a session's page."""
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")

_TYPES = {kind.suffix: kind.media_type for kind in (MP3, *WRITTEN)}
_PAGE_POLICY = ("default-src 'none'; script-src 'self'; style-src 'self'; media-src 'self'; "
                "img-src 'self' data:; base-uri 'none'; form-action 'none'; "
                "frame-ancestors 'none'")
_FILE_POLICY = "default-src 'none'; media-src 'self'; style-src 'unsafe-inline'; sandbox"
_ERROR_POLICY = "default-src 'none'; base-uri 'none'; form-action 'none'; " \
    "frame-ancestors 'none'; sandbox"
_RANGE = re.compile(r"\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*", re.ASCII | re.IGNORECASE)
_VIRTUAL = ("docker", "br-", "veth", "virbr", "vmnet", "vboxnet", "lxc", "lxd", "podman",
            "tun", "tap", "wg", "tailscale", "zt", "utun", "bridge", "awdl", "llw")
"""Interface names of containers, VMs and VPNs: their addresses are offered last."""


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


class SessionServer(ThreadingHTTPServer):
    """The HTTP server over a ``Library``; ``token`` None means no token is asked. It
    answers the Host names of ``own_names`` with its port, and with ``lan`` the addresses
    of the machine's interfaces too (a server on loopback cannot be reached by those)."""

    daemon_threads = True

    def __init__(self, library: Library, address: tuple[str, int], token: str | None,
                 lan: bool = False) -> None:
        self.library = library
        self.token = token
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        super().__init__(address, _Handler)
        found = interfaces() if lan else {}  # on loopback, no other address reaches it
        self._shown = lan_address(found) if address[0] in (EVERYWHERE, "::") else address[0]
        addresses = [a for each in found.values() for a in each]
        self.hosts = Hosts(int(self.server_address[1]), own_names(address[0]) + addresses,
                           _all_addresses if lan else None)
        self._rendered: dict[tuple[str, str], tuple[int, bytes]] = {}

    def rendered(self, kind: str, base: str, make: Callable[[list[Entry]], str]) -> bytes:
        """The page or feed ``kind`` for ``base`` as ``make`` renders it from the sessions,
        kept until the library's listing changes (rendering 3,000 takes a fair part of a
        second)."""
        listing = self.library.refresh()
        kept = self._rendered.get((kind, base))
        if kept is not None and kept[0] == listing.version:
            return kept[1]
        data = make(list(listing.sessions)).encode()
        if len(self._rendered) > 64:  # a few Host names and two kinds: never many
            self._rendered.clear()
        self._rendered[(kind, base)] = (listing.version, data)
        return data

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

    def handle_error(self, request: object, client_address: object) -> None:
        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            return  # players drop connections all the time
        super().handle_error(request, client_address)  # type: ignore[arg-type]


def open_server(folder: Path, *, lan: bool = False, host: str | None = None,
                port: int = DEFAULT_PORT, report: Callable[[str], None] | None = None
                ) -> SessionServer:
    """A server (bound, not yet serving) for the sessions in ``folder``: on 127.0.0.1, or
    with ``lan`` on all addresses (or ``host``) with a new random token. ``report`` hears
    why each skipped session or file name was skipped, once each (see ``Library``)."""
    library = Library(folder, report)
    if host is not None and not lan and not _is_loopback(host):
        raise InvalidOption("--host", f"--host {host} is not a loopback address; add --lan "
                            "to serve on the network (every address then needs a token)")
    if not 0 <= port <= 65535:
        raise InvalidOption("--port", f"--port must be 0 to 65535, not {port}")
    host = host or (EVERYWHERE if lan else LOOPBACK)
    token = secrets.token_urlsafe(TOKEN_BYTES) if lan else None
    try:
        server = SessionServer(library, (host, port), token, lan)
    except OSError as error:
        reason = error.strerror or str(error)
        hint = ("; try another --port, or --port 0 for any free one"
                if error.errno == errno.EADDRINUSE else "")
        raise ServeError(f"cannot listen on {host}:{port}: {reason}{hint}") from None
    library.refresh()  # read the folder now: what is skipped is told before serving
    return server


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

    def send_error(self, code: int, message: str | None = None,
                   explain: str | None = None) -> None:
        """The errors http.server finds itself (a malformed request line, a method other
        than GET and HEAD...), answered as ours are, and the connection closed."""
        self.close_connection = True
        status = HTTPStatus(code)
        body = getattr(self, "command", None) != "HEAD" and code >= 200 and \
            code not in (HTTPStatus.NO_CONTENT, HTTPStatus.NOT_MODIFIED)
        self._send(status, f"{status.value} {status.phrase}\n".encode(),
                   "text/plain; charset=utf-8", body, {"Connection": "close"})

    def _answer(self, body: bool) -> None:
        try:
            hosts = self.headers.get_all("Host") or []
            if len(hosts) != 1 or not self.server.hosts.allows(hosts[0]):
                raise Refused(HTTPStatus.BAD_REQUEST)
            kind, name = route(self.path, self.server.token)
            library, prefix = self.server.library, self.server.prefix
            if kind == "index":
                self._page(self.server.rendered("index", self._base(), lambda e: pages.index(
                    e, prefix, self._base() + feed.FEED_NAME)), body)
            elif kind == "session":
                entry = library.find(name)
                if entry is None:
                    raise Refused(HTTPStatus.NOT_FOUND)
                vtt = entry.read_text(WEBVTT.suffix, VTT_LIMIT)
                self._page(pages.session(entry, prefix, vtt).encode(), body)
            elif kind == "feed":
                text = self.server.rendered("feed", self._base(), lambda e: feed.rss(
                    e, self._base() + "files/", self._base()))
                self._send(HTTPStatus.OK, text, "application/rss+xml; charset=utf-8", body)
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
        """This server's address as the client used it (for the feed's full addresses):
        the Host was checked to be one of the server's own."""
        host = str(self.headers.get("Host", "")).strip(" \t").lower()
        return f"http://{host}{self.server.prefix}/"

    def _file(self, name: str, body: bool) -> None:
        library = self.server.library
        if name.endswith(CHAPTERS.suffix):
            entry = library.find(name[: -len(CHAPTERS.suffix)])
            if entry is None:
                raise Refused(HTTPStatus.NOT_FOUND)
            self._send(HTTPStatus.OK, feed.chapters_json(entry).encode(),
                       CHAPTERS.media_type, body)
            return
        handle = library.open(name)
        if handle is None:
            raise Refused(HTTPStatus.NOT_FOUND)
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

    def _page(self, html: bytes, body: bool) -> None:
        self._send(HTTPStatus.OK, html, "text/html; charset=utf-8", body,
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
        """The status line and headers; every answer is for this origin only, and one
        that is not a success loads and runs nothing."""
        if status >= 300 and "Content-Security-Policy" not in headers:
            headers = {**headers, "Content-Security-Policy": _ERROR_POLICY}
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(length))
        self.send_header("Cache-Control", "no-cache")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        self.send_header("Cross-Origin-Resource-Policy", "same-origin")
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
