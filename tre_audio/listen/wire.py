"""The HTTP layer under the server: uvicorn (its h11 protocol) on a socket bound here.

uvicorn answers what it cannot parse itself, before any application sees it, and with a
bare 400. Here those answers carry the same headers as every other (for this origin only,
loading and running nothing), with their own status: 414 for a request line longer than
``LINE_LIMIT``, 431 for headers longer than that (http.server's own limits, which h11
applies to the whole request head; ``too_long`` says the same of a head that arrived
whole, which h11 does not measure). No WebSocket is ever taken up: an upgrade is an
ordinary request. A connection is closed after ``IDLE_SECONDS`` of
silence, from its start and between requests, and dropped when its client stops reading
for that long (uvicorn times only the gap after an answer). Nothing is logged: every
address on the network carries the token.

The subclass reaches into uvicorn's and h11's own attributes (``conn``, ``cycle``, h11's
receive buffer), which is why both are pinned to exact versions.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import socket
import threading
from collections.abc import Awaitable, Callable, MutableMapping
from http import HTTPStatus
from typing import Any

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

IDLE_SECONDS = 120
"""A connection that sends nothing, or reads nothing, for this long is closed."""
LINE_LIMIT = 65_536
COMMON = ((b"cache-control", b"no-cache"), (b"x-content-type-options", b"nosniff"),
          (b"cross-origin-resource-policy", b"same-origin"))
"""Headers of every answer."""
REFERRER = (b"referrer-policy", b"no-referrer")
"""The referrer policy of every answer that sets none of its own."""
ERROR_POLICY = ("default-src 'none'; base-uri 'none'; form-action 'none'; "
                "frame-ancestors 'none'; sandbox")
"""The Content-Security-Policy of an answer that is not a success: it loads and runs
nothing."""

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]


def too_long(scope: Scope) -> HTTPStatus | None:
    """414 or 431 for a request whose target or headers are over ``LINE_LIMIT``, as
    they would be had they come in small parts; else None."""
    if len(scope["raw_path"]) + len(scope.get("query_string", b"")) > LINE_LIMIT:
        return HTTPStatus.REQUEST_URI_TOO_LONG
    if sum(len(name) + len(value) + 4 for name, value in scope["headers"]) > LINE_LIMIT:
        return HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE
    return None


def error_headers(length: int) -> list[tuple[bytes, bytes]]:
    """The headers of a plain-text error answer of ``length`` bytes."""
    return [(b"content-type", b"text/plain; charset=utf-8"),
            (b"content-length", str(length).encode()), *COMMON, REFERRER,
            (b"content-security-policy", ERROR_POLICY.encode())]


def error_body(status: HTTPStatus) -> bytes:
    return f"{status.value} {status.phrase}\n".encode()


class _Connection(h11.Connection):
    """h11's connection, keeping the parse error that uvicorn catches and drops."""

    error: h11.RemoteProtocolError | None = None

    def next_event(self) -> Any:
        try:
            return super().next_event()
        except h11.RemoteProtocolError as error:
            self.error = error
            raise


class _Protocol(H11Protocol):
    """uvicorn's h11 protocol with tre-audio's error answers and idle limits."""

    _stalled: asyncio.TimerHandle | None = None
    conn: _Connection

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.conn = _Connection(h11.SERVER, LINE_LIMIT)

    def send_400_response(self, msg: str) -> None:  # every parse error comes here
        error = self.conn.error
        status = HTTPStatus(error.error_status_hint if error is not None else 400)
        if status == HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE and \
                b"\n" not in bytes(self.conn._receive_buffer):
            status = HTTPStatus.REQUEST_URI_TOO_LONG  # the request line never ended
        body = error_body(status)
        head = [f"HTTP/1.1 {status.value} {status.phrase}\r\n".encode(), b"server: tre-audio\r\n"]
        head += [name + b": " + value + b"\r\n"
                 for name, value in (*error_headers(len(body)), (b"connection", b"close"))]
        self.transport.write(b"".join(head) + b"\r\n" + body)
        self.transport.close()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._idle()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)  # which stops the timer
        if (self.cycle is None or self.cycle.response_complete) \
                and not self.transport.is_closing():
            self._idle()

    def pause_writing(self) -> None:
        super().pause_writing()
        self._stalled = self.loop.call_later(self.timeout_keep_alive, self.transport.abort)

    def resume_writing(self) -> None:
        super().resume_writing()
        if self._stalled is not None:
            self._stalled.cancel()
            self._stalled = None

    def connection_lost(self, exc: Exception | None) -> None:
        if self._stalled is not None:
            self._stalled.cancel()
        super().connection_lost(exc)

    def _idle(self) -> None:
        self._unset_keepalive_if_required()
        self.timeout_keep_alive_task = self.loop.call_later(self.timeout_keep_alive,
                                                            self.transport.close)


def _held_back(call: Callable[[], object]) -> None:
    """``call()`` with Ctrl-C held back until it returns (where the system can hold a
    signal back: not on Windows)."""
    if not hasattr(signal, "pthread_sigmask"):
        call()
        return
    before = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        call()
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, before)


def _quiet() -> None:
    """No access log and no line from uvicorn or asyncio, on any stream."""
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "asyncio"):
        logger = logging.getLogger(name)
        logger.handlers = [logging.NullHandler()]
        logger.propagate = False


class Listener:
    """``app`` served by uvicorn on ``address``, bound (and so refused, if the port is
    taken) when made: ``serve_forever`` in one thread, ``shutdown`` from another."""

    def __init__(self, app: App, address: tuple[str, int]) -> None:
        family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        # IPPROTO_TCP by name: asyncio sets TCP_NODELAY on the connections only then, and
        # without it each answer on a kept-alive connection waited 40 ms for an ACK
        self.socket = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        try:
            self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self.socket.bind(address)
            self.socket.listen(128)
        except OSError:
            self.socket.close()
            raise
        self.server_address: tuple[Any, ...] = self.socket.getsockname()
        _quiet()
        self._server = uvicorn.Server(uvicorn.Config(
            app, http=_Protocol, ws="none", lifespan="off", log_config=None,
            access_log=False,
            server_header=False, headers=[("server", "tre-audio")], proxy_headers=False,
            timeout_keep_alive=IDLE_SECONDS, timeout_graceful_shutdown=2,
            h11_max_incomplete_event_size=LINE_LIMIT))
        self._done = threading.Event()
        self._done.set()

    def serve_forever(self, poll_interval: float = 0.1) -> None:
        """Serve until ``shutdown``; uvicorn looks for it every 0.1 s. On the main thread
        uvicorn runs in a thread of its own, so that its signal handlers are never
        installed: Ctrl-C and SIGTERM reach the program as they always do, and stop it."""
        self._done.clear()
        try:
            if threading.current_thread() is threading.main_thread():
                ended = threading.Event()
                thread = threading.Thread(target=self._run, args=(ended,), name="serve",
                                          daemon=True)
                # An Event, not join(): a join that Ctrl-C interrupts can leave the thread
                # marked as ended while it still runs (seen on Python 3.11), and the
                # socket would be closed under uvicorn. The timeout lets a signal taken
                # by another thread be seen. Ctrl-C waits while the thread starts: taken
                # then, the thread might run without being waited for, and the socket be
                # closed under uvicorn's start ("Bad file descriptor", seen in CI).
                try:
                    _held_back(thread.start)
                    while not ended.wait(poll_interval):
                        pass
                except BaseException:
                    self._server.should_exit = True  # uvicorn closes its connections
                    while thread.ident is not None and not ended.is_set():
                        try:  # within its 2 s grace, then the socket
                            ended.wait(poll_interval)
                        except KeyboardInterrupt:  # again: the grace is short
                            continue
                    raise
            else:
                self._run()
        finally:
            self._done.set()

    def _run(self, ended: threading.Event | None = None) -> None:
        try:
            self._server.run(sockets=[self.socket])
        finally:
            if ended is not None:
                ended.set()

    def shutdown(self) -> None:
        """Stop ``serve_forever`` and wait for it."""
        self._server.should_exit = True
        self._done.wait()

    def server_close(self) -> None:
        self.socket.close()

    def __enter__(self) -> Listener:
        return self

    def __exit__(self, *exc: object) -> None:
        self.server_close()
