"""Checking in and the history on the page: over HTTP as a browser without JavaScript
does (the form, its checks, the care shown after a hard session, what is refused), and
in Debian's headless Chromium at phone size, where the form appears when the session
ends and is sent as a person would."""

from __future__ import annotations

import csv
import io
import json
import re
import sqlite3
import time
import xml.etree.ElementTree as ET
from urllib.parse import urlencode

import pytest

from serving import chromium, get, make_session, studio_running, wait_for
from tre_audio.choices import profile
from tre_audio.practice import store

FORM = "application/x-www-form-urlencoded"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    place = tmp_path_factory.mktemp("practice")
    with studio_running(place, lambda folder: make_session(folder, "morning")) as (server, made):
        port = int(server.server_address[1])
        prefix = f"/{server.token}"
        page = get(port, f"{prefix}/session/morning").body.decode()
        csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
        yield {"server": server, "port": port, "prefix": prefix, "csrf": csrf,
               "page": page, "place": place, "profile": place / "profile.toml"}


def post(site, target: str, pairs, headers=None):
    body = urlencode(list(pairs)).encode()
    return get(site["port"], site["prefix"] + target, method="POST", body=body,
               headers={"Content-Type": FORM, "Content-Length": str(len(body)),
                        **(headers or {})})


def checkin(site, **given):
    return post(site, "/checkin/morning", [*given.items(), ("csrf", site["csrf"])])


def saved() -> list[tuple]:
    with sqlite3.connect(store.default_path()) as db:
        return db.execute("SELECT before, after, felt, spaced_out, note FROM checkins "
                          "ORDER BY id").fetchall()


def test_the_session_page_offers_a_check_in_that_appears_when_it_ends(site):
    page = site["page"]
    assert f'href="{site["prefix"]}/checkin/morning">Check in</a>' in page
    section = page[page.index('<section id="checkin"'):]
    assert section.split(">", 1)[0].endswith("hidden")  # shown by the script at the end
    assert f'action="{site["prefix"]}/checkin/morning"' in section
    answer = get(site["port"], f"{site['prefix']}/session/morning")
    assert "form-action 'self'" in answer.header("Content-Security-Policy")
    assert answer.header("Referrer-Policy") == "same-origin"  # its POST carries an Origin
    alone = get(site["port"], f"{site['prefix']}/checkin/morning")
    assert alone.status == 200 and "How did it go?" in alone.body.decode()
    assert get(site["port"], f"{site['prefix']}/make").status == 200
    assert not store.default_path().exists()  # looking makes no record


def test_a_check_in_is_saved_and_says_what_the_next_session_does(site):
    answer = checkin(site, before="6", after="3", felt="about-right", note="warm legs")
    page = answer.body.decode()
    assert answer.status == 200, page
    assert "Your check-in is saved on this computer." in page
    assert "Come back to the room" not in page
    assert saved() == [(6, 3, "about-right", 0, "warm legs")]
    history = get(site["port"], f"{site['prefix']}/history")
    shown = history.body.decode()
    assert history.status == 200 and history.header("Cache-Control") == "no-store"
    assert "health data" in shown and "warm legs" in shown and "About right" in shown
    assert 'alt="1 session, 1 checked in."' in shown


@pytest.mark.parametrize("given", [{"after": "8"}, {"after": "2", "spaced_out": "yes"}])
def test_after_a_hard_session_the_grounding_steps_and_crisis_line_come_first(site, given):
    page = checkin(site, **given).body.decode()
    care = page.index("Come back to the room")
    assert care < page.index("Your check-in is saved")
    for words in ("Stop, sit up, and open your eyes.", 'href="tel:112"',
                  "findahelpline.com", "talk it over with a TRE provider"):
        assert page.index(words) > care


@pytest.mark.parametrize(("given", "words"), [
    ({"before": "11"}, "Before must be a whole number from 0 to 10."),
    ({"after": "-1"}, "After must be a whole number from 0 to 10."),
    ({"after": "\u0663"}, "After must be a whole number from 0 to 10."),
    ({"felt": "loads"}, "choose one of the three"),
    ({"spaced_out": "maybe"}, "tick it, or leave it"),
    ({"note": "x" * 2001}, "at most 2,000 characters"),
])
def test_answers_out_of_bounds_are_shown_again_and_nothing_is_saved(site, given, words):
    answer = checkin(site, **given)
    assert answer.status == 422 and words in answer.body.decode()
    assert not store.default_path().exists()


def test_check_ins_from_elsewhere_are_refused(site):
    fields = [("after", "3"), ("csrf", site["csrf"])]
    assert post(site, "/checkin/morning", fields[:1]).status == 403  # no form token
    assert post(site, "/checkin/morning", [("after", "3"), ("csrf", "x" * 43)]).status == 403
    assert post(site, "/checkin/morning", fields,
                {"Origin": "http://evil.example"}).status == 403
    assert post(site, "/checkin/morning", fields, {"Sec-Fetch-Site": "cross-site"}).status == 403
    assert post(site, "/checkin/morning", [("slept", "yes"), *fields]).status == 400
    assert post(site, "/checkin/morning", [("after", "2"), *fields]).status == 400  # twice
    assert post(site, "/checkin/nothing", fields).status == 404
    assert post(site, "/history", fields).status == 501  # as any address taking no POST
    assert get(site["port"], "/history").status == 403  # the LAN token, as everywhere
    assert get(site["port"], "/checkin/morning").status == 403
    assert not store.default_path().exists()


def test_the_history_exports_only_when_asked_and_draws_its_picture(site):
    checkin(site, before="5", after="2", felt="more", note="=cmd|' /C calc'!A0")
    table = get(site["port"], f"{site['prefix']}/history.csv")
    assert table.header("Content-Disposition") == 'attachment; filename="practice.csv"'
    rows = list(csv.DictReader(io.StringIO(table.body.decode())))
    assert rows[0]["felt"] == "more" and rows[0]["note"].startswith("'=cmd")
    picture = get(site["port"], f"{site['prefix']}/history.svg")
    assert picture.header("Content-Type").startswith("image/svg+xml")
    ET.fromstring(picture.body)


def test_with_the_record_turned_off_nothing_is_kept(site):
    site["profile"].write_text("record = false\n", encoding="utf-8")
    try:
        page = get(site["port"], f"{site['prefix']}/session/morning").body.decode()
        assert "/checkin/morning" not in page
        off = get(site["port"], f"{site['prefix']}/checkin/morning").body.decode()
        assert "turned off in your profile" in off
        assert checkin(site, after="3").status == 403
        assert not store.default_path().exists()
    finally:
        site["profile"].unlink()
    assert profile.load(site["profile"]).get("record") is None


def test_a_phone_checks_in_when_the_session_ends(site, tmp_path):
    driver = chromium(tmp_path / "chromium")
    try:
        driver.set_window_size(390, 844)
        base = f"http://127.0.0.1:{site['port']}{site['prefix']}"
        driver.get(f"{base}/session/morning")
        assert wait_for(driver, "return document.getElementById('checkin').hidden === true")
        assert wait_for(driver, "return document.getElementById('player').readyState >= 1")
        driver.find_element("css selector", "h1").click()  # a tap: the page may play
        driver.execute_script("const a = document.getElementById('player');"
                              "a.muted = true; a.currentTime = a.duration - 0.3; a.play();")
        assert wait_for(driver, "return !document.getElementById('checkin').hidden", 30)
        assert driver.execute_script("return document.activeElement.id") == "checkin-title"
        driver.find_element("css selector", "#checkin-before option[value='7']").click()
        driver.find_element("css selector", "#checkin-after option[value='4']").click()
        driver.find_element("css selector", "input[name=felt][value=too-much]").click()
        driver.find_element("id", "checkin-note").send_keys("a lot in the hips")
        driver.find_element("css selector", "#checkin button[type=submit]").click()
        wait_for(driver, "return document.querySelector('h1') && "
                         "document.querySelector('h1').textContent === 'Thank you'")
        said = driver.find_element("css selector", "main").text
        assert "Your check-in is saved on this computer." in said
        assert saved() == [(7, 4, "too-much", 0, "a lot in the hips")]
        driver.get(f"{base}/history")
        assert wait_for(driver, "const i = document.querySelector('img.history');"
                                "return i && i.complete && i.naturalWidth > 0")
        assert driver.execute_script("return document.documentElement.scrollWidth") <= 390
    finally:
        driver.quit()


def test_a_course_is_made_again_from_the_page_after_a_check_in(site):
    from tre_audio import course
    from tre_audio.options import values

    folder = site["server"].library.folder
    course.build(course.Course(values.Options(programme="tremor", level="first-time",
                                              pace="steady"), weeks=1, per_week=2),
                 folder / "course", record=store.default_path())
    site["server"].library.refresh()
    first = "course/01-week1-session1"
    page = get(site["port"], f"{site['prefix']}/session/{first}").body.decode()
    assert "/continue/" not in page  # nothing checked in yet: nothing to make again
    post(site, f"/checkin/{first}", [("felt", "too-much"), ("csrf", site["csrf"])])
    page = get(site["port"], f"{site['prefix']}/session/{first}").body.decode()
    assert f'action="{site["prefix"]}/continue/course"' in page
    assert post(site, "/continue/course", []).status == 403  # the form's token
    answer = post(site, "/continue/course", [("csrf", site["csrf"])])
    assert answer.status == 303, answer.body
    job = answer.header("Location")
    for _ in range(600):
        shown = get(site["port"], job).body.decode()
        if 'http-equiv="refresh"' not in shown:
            break
        time.sleep(0.2)
    assert "Ready" in shown, shown
    about = json.loads((folder / "course" / "02-week1-session2.json").read_text("utf-8"))
    assert about["dose"]["rule"] == "halved" and about["dose"]["tremor"] == 1.5
    for elsewhere in ("nothing", "..", "course%2f..%2f..", "morning.mp3"):
        assert post(site, f"/continue/{elsewhere}", [("csrf", site["csrf"])]).status in (
            404, 409), elsewhere
