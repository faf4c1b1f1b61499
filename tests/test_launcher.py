"""Starting the page without a terminal: the desktop launcher, checked by freedesktop.org's
own validator (``desktop-file-validate``) and run as a desktop would run it, and
``serve --open``, with a stand-in browser that writes down what it was asked to open."""

from __future__ import annotations

import configparser
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from serving import make_session, serving
from tre_audio.cli import cli
from tre_audio.listen import launcher

TOOL = Path(sys.executable).with_name("tre-audio")
ODD = "my sessions/it's \"ours\" $HOME `x` 100% \\ done"
"""A folder name with every character the launcher's command must quote."""


@pytest.fixture
def browser(tmp_path, monkeypatch) -> Path:
    """A stand-in browser (``$BROWSER``, as Python's webbrowser reads it): each address
    it is asked to open becomes a line of the file returned."""
    opened = tmp_path / "opened.txt"
    script = tmp_path / "browser"
    script.write_text(f'#!/bin/sh\necho "$1" >> {opened}\n', encoding="utf-8")
    script.chmod(0o755)
    monkeypatch.setenv("BROWSER", str(script))
    return opened


def _exec_arguments(value: str) -> list[str]:
    """A Desktop Entry's ``Exec`` as a desktop splits it: the string's escapes first,
    then the quoting (the specification, "The Exec key")."""
    value = value.replace("\\\\", "\0")
    assert "\\" not in value.replace('\\"', "").replace("\\`", "").replace("\\$", "")
    value = value.replace("\0", "\\")
    arguments, current, quoted, escaped, started = [], "", False, False, False
    for character in value:
        if escaped:
            current += character
            escaped = False
        elif quoted and character == "\\":
            escaped = True
        elif character == '"':
            quoted, started = not quoted, True
        elif character == " " and not quoted:
            if started or current:
                arguments.append(current)
            current, started = "", False
        else:
            current += character
    arguments.append(current)
    return [argument.replace("%%", "%") for argument in arguments]


def _read(path: Path) -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(path.read_text(encoding="utf-8"))
    return parser["Desktop Entry"]


def test_the_launcher_is_valid_and_runs_serve_on_its_folder(tmp_path):
    folder = tmp_path / ODD
    made = launcher.install(TOOL, folder, tmp_path / "applications")
    assert made == tmp_path / "applications" / "tre-audio.desktop"
    validated = subprocess.run(["desktop-file-validate", str(made)], capture_output=True,
                               text=True)
    assert validated.returncode == 0 and not validated.stdout.strip(), validated.stdout
    entry = _read(made)
    assert entry["Type"] == "Application" and entry["Terminal"] == "false"
    assert _exec_arguments(entry["Exec"]) == [str(TOOL), "serve", str(folder), "--open"]


def test_a_line_break_in_the_folder_is_refused_and_nothing_written(tmp_path):
    result = CliRunner().invoke(cli, ["desktop", str(tmp_path / "a\nb")],
                                env={"XDG_DATA_HOME": str(tmp_path)})
    assert result.exit_code == 1 and result.stderr.count("\n") == 1, result.stderr
    assert "line break" in result.stderr
    assert not (tmp_path / "applications").exists() or \
        not list((tmp_path / "applications").iterdir())


def test_the_launcher_command_writes_into_the_users_applications(tmp_path):
    result = CliRunner().invoke(cli, ["desktop", "output"],
                                env={"XDG_DATA_HOME": str(tmp_path / "data")})
    assert result.exit_code == 0, result.stderr
    written = tmp_path / "data" / "applications" / "tre-audio.desktop"
    assert result.stdout.strip() == str(written)
    assert _exec_arguments(_read(written)["Exec"])[2] == str(Path("output").absolute())


def test_the_launchers_command_serves_and_opens_the_page(tmp_path, browser):
    """The launcher's own command, as a desktop runs it (here on a free port): the page
    opens in the browser; run again while it serves, it only opens the page again."""
    folder = tmp_path / "sessions"
    folder.mkdir()
    make_session(folder, "morning")
    arguments = _exec_arguments(_read(launcher.install(TOOL, folder, tmp_path))["Exec"])
    assert arguments[1:] == ["serve", str(folder), "--open"]
    with serving(folder, *arguments[3:]) as served:
        assert _lines(browser) == [served.url]
        again = subprocess.run([str(TOOL), "serve", str(folder), "--open", "--port",
                                str(served.port)], capture_output=True, text=True,
                               timeout=30)
        assert again.returncode == 0 and again.stdout == again.stderr == ""
        assert _lines(browser) == [served.url, f"http://127.0.0.1:{served.port}/"]


def test_the_launcher_opens_the_page_of_a_server_already_on_the_network(tmp_path, browser):
    """With ``serve --lan`` running, the launcher's command cannot listen on the port, and
    the list without the token is refused: it opens the page behind the kept token."""
    folder = tmp_path / "sessions"
    folder.mkdir()
    with serving(folder, "--lan", "--port", "0") as served:
        again = subprocess.run([str(TOOL), "serve", str(folder), "--open", "--port",
                                str(served.port)], capture_output=True, text=True,
                               timeout=30)
        assert again.returncode == 0 and again.stdout == again.stderr == ""
        assert _lines(browser) == [f"http://127.0.0.1:{served.port}{served.prefix}/"]


def test_without_a_browser_the_address_is_given(tmp_path, monkeypatch):
    monkeypatch.setenv("BROWSER", "/nonexistent/browser")
    monkeypatch.setenv("PATH", str(tmp_path))  # no xdg-open, no browser of any name
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    folder = tmp_path / "sessions"
    folder.mkdir()
    with serving(folder, "--open") as served:
        assert f"tre-audio: no browser found; open {served.url}" in served.started


def _lines(opened: Path, wait: float = 10.0) -> list[str]:
    """The addresses opened so far (the browser is run as its own process)."""
    end = time.monotonic() + wait
    while not opened.exists() and time.monotonic() < end:
        time.sleep(0.05)
    return opened.read_text(encoding="utf-8").split()


def test_the_validator_is_there():
    """The launcher test needs freedesktop.org's validator (scripts/install --test)."""
    assert shutil.which("desktop-file-validate"), "apt-get install desktop-file-utils"
    assert os.access(TOOL, os.X_OK)
