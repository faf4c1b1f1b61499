"""Every page, as Chromium shows it on a phone and on a desktop, checked by axe-core
(Deque's accessibility engine, from the npm registry: ``scripts/install --test`` puts it
in ``tests/tools``) for every rule of WCAG 2.2 A and AA and axe's best practices: no
violations. With ``TRE_AUDIO_SCREENSHOTS=FOLDER`` each page is also saved there as a
picture, the whole page, for people to look at."""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

import pytest

from serving import chromium, make_session, studio_running, wait_for
from tre_audio.studio.jobs import CUT_OFF
from tre_audio.studio.studio import RECORD

AXE = Path(__file__).parent / "tools" / "node_modules" / "axe-core" / "axe.min.js"
SIZES = {"phone": (390, 844), "desktop": (1280, 900)}
RULES = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
CUT = "cutoffjob"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    place = tmp_path_factory.mktemp("accessible")
    (place / RECORD).write_text(json.dumps([CUT]), encoding="utf-8")  # a job cut off

    def sessions(folder):
        make_session(folder, "morning")
        make_session(folder, "course/01-week1-session1")

    with studio_running(place, sessions) as (server, studio):
        yield {"server": server, "base": f"http://127.0.0.1:{server.server_address[1]}"
                                          f"/{server.token}", "studio": studio}


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    assert AXE.is_file(), f"{AXE} is missing: run scripts/install --test"
    driver = chromium(tmp_path_factory.mktemp("chromium-profile"))
    yield driver
    driver.quit()


def violations(driver) -> list[str]:
    """What axe-core finds on the page shown: each violation and where."""
    driver.execute_script(AXE.read_text(encoding="utf-8"))
    found = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {runOnly: {type: 'tag', values: arguments[0]}})"
        ".then(r => done(r.violations.map(v => v.id + ': ' + v.help + ' at ' +"
        " v.nodes.map(n => n.target.join(' ')).join(', '))))"
        ".catch(e => done(['axe failed: ' + e]));", RULES)
    return list(found)


def look(driver, size: str, page: str) -> None:
    """Save the whole page as a picture, where ``TRE_AUDIO_SCREENSHOTS`` says."""
    folder = os.environ.get("TRE_AUDIO_SCREENSHOTS")
    if not folder:
        return
    width, height = SIZES[size]
    tall = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(width, max(height, int(tall) + 140))
    Path(folder).mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(Path(folder) / f"{page}-{size}.png"))
    driver.set_window_size(width, height)


def held(given, progress):
    """A job that stays at its first step until it is cancelled: the page of a job being
    made, checked without a race against a real session finishing first."""
    while True:
        progress("speech", 1, 3)  # raises once the job is cancelled
        time.sleep(0.05)


@pytest.mark.parametrize("size", SIZES)
def test_every_page_has_no_accessibility_violations(site, browser, size, monkeypatch):
    from selenium.webdriver.common.by import By

    browser.set_window_size(*SIZES[size])
    base = site["base"]
    found: dict[str, list[str]] = {}

    def check(page: str) -> None:
        wait_for(browser, "return document.readyState === 'complete'")
        found[page] = violations(browser)
        look(browser, size, page)

    browser.get(base + "/")
    check("index")
    browser.get(base + "/session/morning")
    wait_for(browser, "return document.getElementById('player').readyState >= 1")
    check("session")
    browser.execute_script("document.getElementById('checkin').hidden = false")
    check("session-ended")  # the check-in form shown as the session ends
    browser.get(base + "/checkin/morning")
    check("checkin")
    browser.find_element(By.CSS_SELECTOR, "#checkin-after option[value='9']").click()
    browser.find_element(By.CSS_SELECTOR, ".checkin button[type=submit]").click()
    wait_for(browser, "return document.querySelector('.care') !== null")
    check("checked-care")
    browser.get(base + "/history")
    wait_for(browser, "const i = document.querySelector('img.history');"
                      "return i && i.complete")
    check("history")
    browser.get(base + "/make")
    wait_for(browser, "return document.getElementById('reach').textContent !== ''")
    check("make")
    browser.find_element(By.ID, "minutes").send_keys("3")
    browser.find_element(By.CSS_SELECTOR, "button[value=check]").click()
    wait_for(browser, "return document.getElementById('error-minutes') !== null")
    check("make-refused")
    browser.get(base + "/make")
    browser.find_element(By.CSS_SELECTOR, "button[value=defaults]").click()
    wait_for(browser, "return document.querySelector('.said') !== null")
    check("make-saved")
    browser.get(base + "/delete/course/01-week1-session1")
    check("delete")
    browser.get(base + f"/job/{CUT}")
    assert CUT_OFF[:20] in browser.page_source.lower()
    check("job-not-made")
    browser.get(base + "/make")
    browser.find_element(By.ID, "minutes").send_keys("40")
    monkeypatch.setattr(site["studio"].jobs, "_make", held)
    browser.find_element(By.CSS_SELECTOR, "button[value=make]").click()
    wait_for(browser, "return document.querySelector('progress') !== null", timeout=60)
    check("job-making")
    browser.find_element(By.CSS_SELECTOR, "#cancel button").click()
    wait_for(browser, "return document.querySelector('h1').textContent === 'Cancelled'",
             timeout=60)
    check("job-cancelled")
    assert {page: v for page, v in found.items() if v} == {}
