"""Loaded by every Python process started with this folder on ``PYTHONPATH`` (the
privacy tests do so): an audit hook that refuses, and writes down, any network socket.

Sockets of the AF_UNIX family (local pipes between processes) are allowed; any other
socket, connection, bind, send or name lookup is logged to ``$TRE_AUDIO_PRIVACY_LOG``
and made to fail. Each process also logs that it carries the hook, so a test can tell
that the hook reached the worker processes.
"""

import os
import socket
import sys

_LOG = os.environ.get("TRE_AUDIO_PRIVACY_LOG")
_NETWORK = {
    "socket.__new__", "socket.connect", "socket.bind", "socket.sendto", "socket.sendmsg",
    "socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyaddr",
    "socket.getnameinfo",
}


def _note(line: str) -> None:
    fd = os.open(_LOG, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, (line.replace("\n", " ") + "\n").encode("utf-8", "replace"))
    finally:
        os.close(fd)


def _local(event: str, args: tuple) -> bool:
    if event == "socket.__new__":
        return args[1] == socket.AF_UNIX
    if event in ("socket.connect", "socket.bind", "socket.sendto", "socket.sendmsg"):
        return getattr(args[0], "family", None) == socket.AF_UNIX
    return False


def _hook(event: str, args: tuple) -> None:
    if event in _NETWORK and not _local(event, args):
        _note(f"NETWORK {os.getpid()} {event} {args[1:]!r}")
        raise PermissionError(f"the privacy test refuses network access: {event}")


if _LOG:
    _note(f"HOOKED {os.getpid()} {sys.argv!r}")
    sys.addaudithook(_hook)
