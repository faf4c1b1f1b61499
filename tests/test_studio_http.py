"""The studio over HTTP, as a browser without JavaScript uses it: the form built from the
option table, a session made by posting it (real speech, real files), its job page
following along, errors beside their field, and every way a request from elsewhere is
refused (the form's token, the origin, the type and size of the body)."""

from __future__ import annotations

import http.client
import re
import socket
import time
from urllib.parse import urlencode

import pytest

from serving import chromium, get, running, serving, wait_for
from tre_audio.listen.server import open_server
from tre_audio.options import table
from tre_audio.studio.studio import Studio

FORM = "application/x-www-form-urlencoded"


@pytest.fixture(scope="module")
def studio(tmp_path_factory):
    folder = tmp_path_factory.mktemp("studio") / "sessions"
    folder.mkdir()
    made = Studio(folder)
    server = open_server(folder, lan=True, host="127.0.0.1", port=0, studio=made)
    with running(server):
        port = int(server.server_address[1])
        page = get(port, f"/{server.token}/make").body.decode()
        csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
        yield {"server": server, "port": port, "prefix": f"/{server.token}",
               "folder": folder, "csrf": csrf, "page": page}
    made.close()


def post(studio, target: str, fields, headers=None, csrf: object = True):
    pairs = list(fields.items()) if isinstance(fields, dict) else list(fields)
    if csrf is True:
        pairs.append(("csrf", studio["csrf"]))
    elif csrf:
        pairs.append(("csrf", csrf))
    body = urlencode(pairs)
    return get(studio["port"], studio["prefix"] + target, method="POST",
               headers={"Content-Type": FORM, "Content-Length": str(len(body)),
                        **(headers or {})}, body=body.encode())


def test_the_form_has_a_field_for_every_option_a_form_may_set(studio):
    page = studio["page"]
    for option in table.where(table.FORM):
        assert f'name="{option.key}"' in page, option.key
    assert 'name="templates"' not in page and 'name="lexicon"' not in page
    answer = get(studio["port"], f"{studio['prefix']}/make")
    assert "form-action 'self'" in answer.header("Content-Security-Policy")
    index = get(studio["port"], f"{studio['prefix']}/").body.decode()
    assert f'href="{studio["prefix"]}/make"' in index


def test_a_session_is_made_from_the_form_and_can_be_listened_to(studio):
    answer = post(studio, "/make", {"programme": "breathing", "pattern": "sigh",
                                    "ambient": "none", "name": "Sam"})
    assert answer.status == 303, answer.body
    job = answer.header("Location")
    assert re.fullmatch(rf"{studio['prefix']}/job/[\w-]+", job)
    first = get(studio["port"], job).body.decode()
    assert 'http-equiv="refresh"' in first  # follows along without JavaScript
    page = _finished(studio, job)
    listen = re.search(r'class="listen" href="([^"]+)"', page).group(1)
    session = get(studio["port"], listen)
    assert session.status == 200 and b"<audio" in session.body
    made = sorted(studio["folder"].glob("breathing-*.mp3"))
    assert len(made) == 1 and made[0].with_suffix(".json").is_file()
    assert '"name": "Sam"' in made[0].with_suffix(".json").read_text(encoding="utf-8")


def _finished(studio, job: str, wait: float = 120) -> str:
    end = time.monotonic() + wait
    while time.monotonic() < end:
        page = get(studio["port"], job).body.decode()
        if 'http-equiv="refresh"' not in page:
            return page
        time.sleep(0.2)
    raise AssertionError(f"{job} not finished in {wait} s")


def test_a_length_out_of_reach_is_refused_beside_its_field_before_anything_is_made(studio):
    before = sorted(studio["folder"].iterdir())
    answer = post(studio, "/make", {"programme": "classic", "minutes": "3"})
    assert answer.status == 422
    page = answer.body.decode()
    error = re.search(r'<p class="error" id="error-minutes" role="alert">([^<]+)</p>', page)
    assert error and error.group(1).startswith("Cannot fit 3 minutes: programme")
    assert "--help" not in page and 'value="3"' in page  # what was typed stays
    assert sorted(studio["folder"].iterdir()) == before


def test_a_value_of_the_wrong_kind_names_the_field(studio):
    answer = post(studio, "/make", {"bed_level": "loud"})
    assert answer.status == 422
    assert "Bed level must be a number" in answer.body.decode()


def test_a_waiting_session_can_be_cancelled_and_leaves_nothing(studio):
    before = sorted(p.name for p in studio["folder"].iterdir())
    first = post(studio, "/make", {"programme": "breathing", "pattern": "box",
                                   "ambient": "none", "seed": "7"}).header("Location")
    second = post(studio, "/make", {"programme": "breathing", "pattern": "4-7-8",
                                    "ambient": "none"}).header("Location")
    cancel = post(studio, second.removeprefix(studio["prefix"]), {})
    assert cancel.status == 303 and cancel.header("Location") == second
    assert "Cancelled" in _finished(studio, second)
    assert "Ready" in _finished(studio, first)
    after = sorted(p.name for p in studio["folder"].iterdir())
    assert [name for name in after if name not in before and "4-7-8" in name] == []


@pytest.mark.parametrize(("why", "headers", "csrf", "status"), [
    ("no token", {}, None, 403),
    ("another token", {}, "x" * 22, 403),
    ("another site", {"Origin": "http://evil.example"}, True, 403),
    ("a site's sandboxed page", {"Origin": "null"}, True, 403),
    ("another site, by the browser's word", {"Sec-Fetch-Site": "cross-site"}, True, 403),
    ("not a form", {"Content-Type": "application/json"}, True, 415),
])
def test_a_post_from_elsewhere_is_refused(studio, why, headers, csrf, status):
    before = sorted(studio["folder"].iterdir())
    answer = post(studio, "/make", {"programme": "grounding"}, headers, csrf)
    assert answer.status == status, why
    assert "default-src 'none'" in answer.header("Content-Security-Policy")
    assert sorted(studio["folder"].iterdir()) == before


def test_a_post_that_is_too_big_or_elsewhere_is_refused(studio):
    big = post(studio, "/make", {"name": "a" * 20_000})
    assert big.status == 413
    assert post(studio, "/", {}).status == 501
    assert post(studio, "/files/x.mp3", {}).status == 501
    unknown = post(studio, "/make", {"colour": "red"})
    assert unknown.status == 422 and "The form has no field" in unknown.body.decode()
    own = post(studio, "/make", {"programme": "nothing"},
               {"Origin": f"http://127.0.0.1:{studio['port']}",
                "Sec-Fetch-Site": "same-origin"})
    assert own.status == 422  # from its own page: checked, and refused for its value


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    driver = chromium(tmp_path_factory.mktemp("chromium-profile"))
    driver.set_window_size(390, 844)  # a phone
    yield driver
    driver.quit()


def test_a_person_makes_a_session_in_a_browser_and_hears_it(studio, browser):
    """Headless Chromium, phone-sized, JavaScript and all: the form as a person fills
    it, the browser's own post (its Origin and the form's token), the job page until
    the session is ready, and its player."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    base = f"http://127.0.0.1:{studio['port']}{studio['prefix']}"
    browser.get(base + "/")
    browser.find_element(By.CSS_SELECTOR, "a.make").click()
    Select(browser.find_element(By.ID, "programme")).select_by_value("classic")
    browser.find_element(By.ID, "minutes").send_keys("3")
    browser.find_element(By.CSS_SELECTOR, "form.studio button[type=submit]").click()
    wait_for(browser, "return document.getElementById('error-minutes') !== null")
    error = browser.find_element(By.ID, "error-minutes")
    assert error.text.startswith("Cannot fit 3 minutes") and error.is_displayed()
    Select(browser.find_element(By.ID, "programme")).select_by_value("breathing")
    Select(browser.find_element(By.ID, "pattern")).select_by_value("sigh")
    Select(browser.find_element(By.ID, "ambient")).select_by_value("none")
    browser.find_element(By.ID, "minutes").clear()
    browser.find_element(By.CSS_SELECTOR, "form.studio button[type=submit]").click()
    wait_for(browser, "return location.pathname.includes('/job/')")
    wait_for(browser, "return document.querySelector('a.listen') !== null", timeout=120)
    browser.find_element(By.CSS_SELECTOR, "a.listen").click()
    duration = wait_for(browser, "const p = document.getElementById('player');"
                                 "return p.readyState >= 1 && p.duration;")
    assert duration > 60


def test_a_body_is_read_only_behind_the_token_and_only_for_so_long(studio, monkeypatch):
    """Without the token, a POST is refused before its body is read; with it, a body
    that stops coming gets 408 (here after 1 s, not 10)."""
    from tre_audio.listen import form

    monkeypatch.setattr(form, "BODY_SECONDS", 1.0)
    port = studio["port"]
    for target, status in (("/make", 403), (f"{studio['prefix']}/make", 408)):
        with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
            began = time.monotonic()
            connection.sendall(f"POST {target} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                               f"Content-Type: {FORM}\r\nContent-Length: 16000\r\n\r\n"
                               f"csrf=".encode())
            answer = http.client.HTTPResponse(connection, method="POST")
            answer.begin()
            assert answer.status == status, target
            assert time.monotonic() - began < 5


def test_a_session_being_made_when_serve_stops_leaves_nothing(tmp_path):
    """Ctrl-C while the studio is speaking a session: serve stops as it always does,
    and the half-made session is gone, hidden parts and all."""
    folder = tmp_path / "sessions"
    folder.mkdir()
    with serving(folder) as served:
        page = get(served.port, "/make").body.decode()
        csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
        body = urlencode({"programme": "classic", "minutes": "40", "csrf": csrf})
        made = get(served.port, "/make", method="POST", body=body.encode(),
                   headers={"Content-Type": FORM, "Content-Length": str(len(body))})
        assert made.status == 303
        end = time.monotonic() + 60
        while "speaking" not in get(served.port, made.header("Location")).body.decode():
            assert time.monotonic() < end, "the session was never being spoken"
            time.sleep(0.1)
    assert list(folder.rglob("*")) == []
