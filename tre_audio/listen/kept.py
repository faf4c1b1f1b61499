"""What keeps ``serve``'s addresses the same from one start to the next: the token of
``--lan`` and the port, in ``serve.json`` in the config folder. A home-screen shortcut, a
place remembered on the phone and a podcast subscription then still work after a restart.

The file is the user's alone: its token opens the sessions to anyone on the network who
has it. ``--new-token`` makes another, and every old address stops working.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from . import DEFAULT_PORT
from ..errors import InvalidOption, ServeError
from ..files.atomic import atomic_file
from ..files.inputs import read_bytes

FILE_NAME = "serve.json"
LIMIT = 4096
"""The most the file is read of (it holds two values): a larger one is taken for none."""
TOKEN_BYTES = 16
"""128 random bits: no one guesses it over a network."""
_TOKEN = re.compile(r"[A-Za-z0-9_-]{22,86}", re.ASCII)


def default_path() -> Path:
    return Path(platformdirs.user_config_dir("tre-audio")) / FILE_NAME


@dataclass(frozen=True)
class Addresses:
    """Where ``serve`` listens: the port, and with ``--lan`` the token every address
    starts with (None on this computer only); ``keep`` is what to keep of them once the
    server listens (empty: nothing new)."""

    port: int
    token: str | None
    keep: tuple[tuple[str, object], ...] = ()


def addresses(lan: bool, port: int | None, new_token: bool = False,
              path: Path | None = None) -> Addresses:
    """The port (``port``, or the one kept, or the default) and with ``lan`` the token
    (the one kept, or a new one if there is none or ``new_token``), from ``path``
    (``serve.json`` in the config folder). What is new is kept by ``keep``, once the
    server listens; port 0, any free port, is not kept. A file that cannot be read is
    taken for none. Raises ``InvalidOption`` for ``new_token`` without ``lan``."""
    if new_token and not lan:
        raise InvalidOption("--new-token", "--new-token is for --lan: on this computer "
                            "alone no address has a token")
    kept = _read(path or default_path())
    token = kept.get("token") if lan and not new_token else None
    if lan and token is None:
        token = secrets.token_urlsafe(TOKEN_BYTES)
    chosen = port if port is not None else kept.get("port", DEFAULT_PORT)
    wanted = dict(kept)
    if token is not None:
        wanted["token"] = token
    if port:
        wanted["port"] = port
    changes = tuple((key, value) for key, value in wanted.items() if kept.get(key) != value)
    return Addresses(int(chosen), token, changes)


def keep(chosen: Addresses, path: Path | None = None) -> None:
    """Keep what is new of ``chosen`` in ``path`` (the values there stay), and make sure
    the file is the user's alone. Raises ``ServeError`` if it cannot be written."""
    path = path or default_path()
    try:
        if chosen.keep:
            _write(path, {**_read(path), **dict(chosen.keep)})
        elif path.is_file() and stat.S_IMODE(path.stat().st_mode) & 0o077:
            os.chmod(path, 0o600)  # one from a backup, say: its token is a key
    except OSError as error:
        raise ServeError(f"cannot keep the address in {path}: "
                         f"{error.strerror or error}") from None


def _read(path: Path) -> dict:
    """The valid values kept in ``path`` (none if it cannot be read as they were written:
    missing, damaged, too large or not a file)."""
    try:
        data = json.loads(read_bytes(path, LIMIT).decode("utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError):  # too large included
        return {}
    if not isinstance(data, dict):
        return {}
    kept = {}
    if isinstance(data.get("token"), str) and _TOKEN.fullmatch(data["token"]):
        kept["token"] = data["token"]
    port = data.get("port")
    if isinstance(port, int) and not isinstance(port, bool) and 1 <= port <= 65535:
        kept["port"] = port
    return kept


def _write(path: Path, kept: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    with atomic_file(path, private=True) as temporary:
        temporary.write_text(json.dumps(kept, indent=2) + "\n", encoding="utf-8")
    os.chmod(path, 0o600)  # a file from before, made by hand, is made private too
