"""Helpers for the tests of ``tre-audio serve`` and ``feed``: short real sessions, a server
running on a free loopback port (in a thread, or as a real ``tre-audio serve`` process),
raw HTTP requests, and Debian's headless Chromium."""

from __future__ import annotations

import http.client
import json
import queue
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from tre_audio import session
from tre_audio.options import values
from tre_audio.listen.server import SessionServer, open_server
from tre_audio.studio.studio import Studio

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--mute-audio")

SCRIPTS = {
    "morning": """[chapter: Arriving]
Welcome. Sit or lie down comfortably.
[pause 2s]
Let your breath settle, slow & easy.
[chapter: Grounding]
Feel your feet on the floor.
[pause 3s]
Notice five things you can see.
[chapter: Closing]
Thank you for practising.
""",
    "course/01-week1-session1": """[chapter: Start]
This is the first session of your course.
[pause 2s]
[chapter: Rest]
Rest now, and take your time.
""",
    "course/02-week1-session2": """[chapter: Again]
This is the second session of your course.
[pause 1s]
""",
}


def make_session(folder: Path, name: str, progress: session.Progress | None = None
                 ) -> session.Session:
    """Speak ``SCRIPTS[name]`` (a few sentences) into ``folder/name.mp3`` and its files."""
    script = folder.parent / f"{name.replace('/', '-')}.txt"  # outside the served folder
    script.write_text(SCRIPTS[name], encoding="utf-8")
    return session.generate(values.Options(), out=folder / f"{name}.mp3", script=script,
                            progress=progress)


@contextmanager
def studio_running(place: Path, before: Callable[[Path], object] = lambda folder: None
                   ) -> Iterator[tuple[SessionServer, Studio]]:
    """A server with a token and a studio over ``place/sessions`` (``before`` fills it
    first), its profile and previews in ``place`` too; the studio closed after."""
    folder = place / "sessions"
    folder.mkdir()
    before(folder)
    studio = Studio(folder, profile_path=place / "profile.toml", previews=place / "previews")
    server = open_server(folder, lan=True, host="127.0.0.1", port=0, studio=studio)
    try:
        with running(server):
            yield server, studio
    finally:
        studio.close()


@contextmanager
def running(server: SessionServer) -> Iterator[SessionServer]:
    """Serve in a thread until the block ends; then stop and close the server."""
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
        assert not thread.is_alive()


@dataclass(frozen=True)
class Answer:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def header(self, name: str) -> str | None:
        return self.headers.get(name)


def request(server: SessionServer, target: str, method: str = "GET",
            headers: dict[str, str] | None = None) -> Answer:
    """Send ``target`` exactly as written (no normalising of ``..`` or ``%2e``)."""
    host, port = server.server_address[:2]
    connection = http.client.HTTPConnection(str(host), int(port), timeout=10)
    try:
        connection.request(method, target, headers=headers or {})
        response = connection.getresponse()
        return Answer(response.status, response.headers, response.read())
    finally:
        connection.close()


DEFAULT_HOST = object()
"""``get``'s Host: ``127.0.0.1:PORT``, as http.client would send it."""


def get(port: int, target: str, method: str = "GET", host: object = DEFAULT_HOST,
        headers: dict[str, str] | None = None, body: bytes | None = None) -> Answer:
    """Send ``target`` as written to 127.0.0.1:``port`` with the Host given (None: no
    Host header at all) and ``body``, if any; the answer."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
        if host is DEFAULT_HOST:
            host = f"127.0.0.1:{port}"
        if host is not None:
            connection.putheader("Host", str(host))
        for name, value in (headers or {}).items():
            connection.putheader(name, value)
        connection.endheaders(body)
        response = connection.getresponse()
        return Answer(response.status, response.headers, response.read())
    finally:
        connection.close()


def raw(port: int, request: bytes) -> Answer:
    """Send ``request``, bytes as they are (a malformed request line...); the answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(request)
        response = http.client.HTTPResponse(connection, method="GET")
        response.begin()
        return Answer(response.status, response.headers, response.read())


SERVE = ("import signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler);"
         "sys.argv[0] = 'tre-audio'; from tre_audio.cli import main; main()")
"""``tre-audio serve`` as a process, with SIGINT as a terminal sets it (Python leaves it
ignored if its parent ignored it, as a CI runner may)."""


@dataclass
class Served:
    """A running ``tre-audio serve``: its process, the address it printed and the lines
    it wrote to stderr (read as they come)."""

    process: subprocess.Popen
    url: str
    port: int
    prefix: str
    """``/TOKEN`` with --lan, else empty."""
    started: list[str] = field(default_factory=list)
    """The lines on stderr before ``serving ...``: what was skipped at the start."""
    _lines: queue.Queue = field(default_factory=queue.Queue)
    errors: list[str] = field(default_factory=list)
    """Every line written to stderr so far (all of them once the process ended)."""

    def next_error(self, timeout: float = 10.0) -> str:
        """The next line on stderr, which the caller knows was written (the timeout only
        ends a test whose server did not write it)."""
        line = self._lines.get(timeout=timeout)
        assert line is not None, "serve ended"
        return line


@contextmanager
def serving(folder: Path, *args: str) -> Iterator[Served]:
    """Run ``tre-audio serve FOLDER --port 0 ARGS`` until the block ends; then stop it with
    Ctrl-C and check that it stopped cleanly."""
    process = subprocess.Popen([sys.executable, "-c", SERVE, "serve", str(folder),
                                "--port", "0", *args], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, errors="backslashreplace")
    try:
        url = process.stdout.readline().strip()
        found = re.fullmatch(r"http://[^/]+:(\d+)(/[\w-]+)?/", url)
        assert found, (url, process.stderr.read() if process.poll() is not None else "")
        served = Served(process, url, int(found.group(1)), found.group(2) or "")
        threading.Thread(target=_read_lines, args=(process, served), daemon=True).start()
        while not (line := served.next_error()).startswith("serving "):
            served.started.append(line)
        yield served
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=10)
        finally:
            if process.poll() is None:
                process.kill()
    while served._lines.get(timeout=10) is not None:  # the rest of stderr
        pass
    process.stdout.close()
    process.stderr.close()
    if process.returncode == -signal.SIGKILL:  # the test killed it: it said nothing more
        return
    assert served.errors[-1] == "tre-audio: stopped", served.errors
    assert not any("Traceback" in line for line in served.errors), served.errors


def _read_lines(process: subprocess.Popen, served: Served) -> None:
    for line in process.stderr:
        served.errors.append(line.rstrip("\n"))
        served._lines.put(line.rstrip("\n"))
    served._lines.put(None)


def copy_session(made: Path, folder: Path, name: str, title: str | None = None) -> Path:
    """Copy the session whose MP3 is ``made`` (with its files) to ``folder/name.mp3``,
    its timeline's title replaced by ``title`` if given; the copy's MP3."""
    target = folder / f"{name}.mp3"
    target.parent.mkdir(parents=True, exist_ok=True)
    for source in sorted(made.parent.glob(made.stem + ".*")):
        suffix = source.name[len(made.stem):]
        copy = folder / f"{name}{suffix}"
        if suffix == ".json" and title is not None:
            timeline = json.loads(source.read_text(encoding="utf-8"))
            timeline["title"] = title
            copy.write_text(json.dumps(timeline), encoding="utf-8")
        else:
            shutil.copyfile(source, copy)
    return target


def chromium(profile: Path):  # -> selenium.webdriver.Chrome
    """Debian's Chromium, headless, driven by Debian's ChromeDriver (nothing downloaded).

    Missing, it fails the tests: scripts/test installs it (scripts/install --test)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    for path in (CHROMIUM, CHROMEDRIVER):
        assert path.exists(), f"{path} is missing: install chromium and chromium-driver " \
                              "(scripts/install --test)"
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    return webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)


def wait_for(driver, script: str, timeout: float = 15.0) -> object:
    """Run ``script`` (it returns a value) until it is truthy; that value."""
    from selenium.webdriver.support.ui import WebDriverWait

    condition: Callable[[object], object] = lambda d: d.execute_script(script)  # noqa: E731
    return WebDriverWait(driver, timeout, poll_frequency=0.05).until(condition)
