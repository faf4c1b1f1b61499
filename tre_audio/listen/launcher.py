"""Starting the page without a terminal: a desktop launcher (freedesktop.org's Desktop
Entry, which GNOME, KDE, Xfce and the rest list among the applications) that runs
``tre-audio serve FOLDER --open``: it serves on this computer only and opens the page in
the browser, or, when a tre-audio server already answers on the port, just opens it.
"""

from __future__ import annotations

import http.client
from pathlib import Path

import platformdirs

from ..errors import ServeError
from ..files.atomic import atomic_file

FILE_NAME = "tre-audio.desktop"


def applications_folder() -> Path:
    """Where a user's own launchers go (``~/.local/share/applications`` on Linux)."""
    return Path(platformdirs.user_data_dir()) / "applications"


def _exec_quoted(argument: str) -> str:
    """``argument`` as one argument of a Desktop Entry's ``Exec`` key."""
    if "\n" in argument or "\r" in argument:
        raise ServeError(f"a launcher cannot hold a path with a line break: {argument!r}")
    quoted = argument.replace("\\", "\\\\").replace('"', '\\"').replace("`", "\\`") \
        .replace("$", "\\$")
    # in the file, a backslash is itself escaped once more (the key's string escapes)
    return '"' + quoted.replace("%", "%%").replace("\\", "\\\\") + '"'


def entry(tool: Path, folder: Path) -> str:
    """The launcher's text: ``tool serve folder --open``, both as absolute paths."""
    command = " ".join(_exec_quoted(str(part)) for part in (
        tool.absolute(), "serve", folder.absolute(), "--open"))
    return (
        "[Desktop Entry]\n"
        "Type=Application\n"
        "Version=1.4\n"
        "Name=tre-audio\n"
        "GenericName=TRE sessions\n"
        "Comment=Listen to your TRE sessions in the browser, on this computer only\n"
        f"Exec={command}\n"
        "Terminal=false\n"
        "Categories=AudioVideo;Audio;Player;\n"
        "Keywords=TRE;tremor;relaxation;audio;\n"
        "StartupNotify=false\n"
    )


def install(tool: Path, folder: Path, applications: Path | None = None) -> Path:
    """Write the launcher into ``applications`` (the user's folder by default); return
    its path. Written whole or not at all."""
    target = (applications or applications_folder()) / FILE_NAME
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with atomic_file(target) as part:
            part.write_text(entry(tool, folder), encoding="utf-8")
    except OSError as error:
        raise ServeError(f"cannot write the launcher {target}: "
                         f"{error.strerror or error}") from None
    return target


def answering(port: int, token: str | None = None) -> str | None:
    """The address of the page a tre-audio server answers on this computer's ``port``
    (loopback only: nothing leaves the machine), or None: its list of sessions, or with
    ``token`` (the one ``serve --lan`` keeps) the list behind it."""
    for path in ("/", *([f"/{token}/"] if token else [])):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        try:
            connection.request("HEAD", path, headers={"Host": f"127.0.0.1:{port}"})
            response = connection.getresponse()
            if response.getheader("Server") != "tre-audio":
                return None
            if response.status == 200:
                return f"http://127.0.0.1:{port}{path}"
        except (OSError, http.client.HTTPException):
            return None
        finally:
            connection.close()
    return None

