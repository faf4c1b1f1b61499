"""Helpers for the tests of ``tre-audio serve`` and ``feed``: short real sessions, a server
running on a free loopback port, raw HTTP requests, and Debian's headless Chromium."""

from __future__ import annotations

import http.client
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tre_audio import session
from tre_audio.server import SessionServer

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
}


def make_session(folder: Path, name: str, progress: session.Progress | None = None
                 ) -> session.Session:
    """Speak ``SCRIPTS[name]`` (a few sentences) into ``folder/name.mp3`` and its files."""
    script = folder.parent / f"{name.replace('/', '-')}.txt"  # outside the served folder
    script.write_text(SCRIPTS[name], encoding="utf-8")
    return session.generate(session.Options(), out=folder / f"{name}.mp3", script=script,
                            progress=progress)


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
