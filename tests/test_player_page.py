"""A session's page as a phone shows it, in Debian's headless Chromium: the lock screen's
Media Session (title, artwork, and its actions as a headset or lock screen sends them),
the place and speed remembered on the device, the speed never below 1x, the transcript
keeping the current line in view, a skip link past it, the crisis line as a link, and
the web app manifest and icons."""

from __future__ import annotations

import json
import re
from io import BytesIO
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from PIL import Image

from serving import chromium, request, running, wait_for
from tre_audio import session
from tre_audio.beside.texts import clock
from tre_audio.listen.server import open_server
from tre_audio.options import values

LINES = 28
"""Sentences in the session: more than the transcript's box shows at once."""
ACTIONS = """
window.__actions = {};
if (navigator.mediaSession) {
  const own = navigator.mediaSession.setActionHandler.bind(navigator.mediaSession);
  navigator.mediaSession.setActionHandler = function (name, handler) {
    window.__actions[name] = handler;
    return own(name, handler);
  };
}
"""
"""Run before the page's own script: keeps each Media Session action as the page sets it,
so the test can call it as the lock screen would."""


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    place = tmp_path_factory.mktemp("player")
    folder = place / "sessions"
    folder.mkdir()
    script = place / "long.txt"
    parts = []
    for chapter in range(4):
        parts.append(f"[chapter: Part {chapter + 1}]")
        for line in range(LINES // 4):
            parts += [f"This is line {line + 1} of part {chapter + 1}. Breathe out slowly.",
                      "[pause 1s]"]
    script.write_text("\n".join(parts) + "\n", encoding="utf-8")
    session.generate(values.Options(), out=folder / "long.mp3", script=script)
    server = open_server(folder, lan=True, host="127.0.0.1", port=0)
    with server, running(server):
        yield {"server": server, "folder": folder,
               "base": f"http://127.0.0.1:{server.server_address[1]}/{server.token}"}


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    driver = chromium(tmp_path_factory.mktemp("chromium-profile"))
    driver.set_window_size(390, 844)  # a phone
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": ACTIONS})
    yield driver
    driver.quit()


def open_page(browser, site) -> dict:
    browser.get(site["base"] + "/session/long")
    wait_for(browser, "return document.getElementById('player').readyState >= 1")
    return site


def now(browser) -> float:
    return browser.execute_script("return document.getElementById('player').currentTime")


def act(browser, name: str, details: dict | None = None) -> float:
    """Send the Media Session action ``name``; where the player then is."""
    browser.execute_script("window.__actions[arguments[0]](arguments[1]);"
                           "document.getElementById('player').pause();", name, details or {})
    return now(browser)


def chapter_starts(folder: Path) -> list[float]:
    timeline = json.loads((folder / "long.json").read_text(encoding="utf-8"))
    return [c["start"] for c in timeline["chapters"]]


def test_the_lock_screen_shows_the_session_and_its_artwork(browser, site):
    open_page(browser, site)
    metadata = browser.execute_script(
        "const m = navigator.mediaSession.metadata; return {title: m.title, artist: m.artist,"
        " album: m.album, artwork: m.artwork.map(a => [a.src, a.sizes, a.type])};")
    timeline = json.loads((site["folder"] / "long.json").read_text(encoding="utf-8"))
    assert metadata["title"] == timeline["title"] and metadata["artist"] == "tre-audio"
    assert [a[1] for a in metadata["artwork"]] == ["96x96", "192x192", "512x512"]
    for src, sizes, kind in metadata["artwork"]:
        assert src.startswith(site["base"] + "/art/tre-audio-") and kind == "image/png"
        answer = request(site["server"], urlsplit(src).path)
        picture = Image.open(BytesIO(answer.body))
        assert answer.status == 200 and f"{picture.width}x{picture.height}" == sizes
    assert sorted(browser.execute_script("return Object.keys(window.__actions)")) == sorted(
        ["play", "pause", "seekbackward", "seekforward", "seekto", "previoustrack",
         "nexttrack"])


def test_the_lock_screen_skips_by_15_seconds_and_by_chapter(browser, site):
    open_page(browser, site)
    starts = chapter_starts(site["folder"])
    assert act(browser, "nexttrack") == pytest.approx(starts[1], abs=0.01)
    assert act(browser, "nexttrack") == pytest.approx(starts[2], abs=0.01)
    assert act(browser, "seekforward") == pytest.approx(starts[2] + 15, abs=0.01)
    assert act(browser, "seekbackward") == pytest.approx(starts[2], abs=0.01)
    assert act(browser, "seekbackward", {"seekOffset": 5}) == pytest.approx(starts[2] - 5,
                                                                            abs=0.01)
    # more than 3 s into a chapter: back to its start; within 3 s: to the one before
    assert act(browser, "previoustrack") == pytest.approx(starts[1], abs=0.01)
    assert act(browser, "previoustrack") == pytest.approx(starts[0], abs=0.01)
    assert act(browser, "seekto", {"seekTime": 42.5}) == pytest.approx(42.5, abs=0.01)


def test_the_place_is_offered_again_after_a_reload(browser, site):
    open_page(browser, site)
    browser.execute_script("localStorage.clear()")
    start = chapter_starts(site["folder"])[2]
    browser.find_elements("css selector", "a.chapter")[2].click()  # a tap: it plays
    wait_for(browser, "const a = document.getElementById('player');"
                      f"return !a.paused && a.currentTime > {start + 0.2}")
    browser.execute_script("document.getElementById('player').pause()")
    placed = now(browser)
    open_page(browser, site)
    wait_for(browser, "return !document.getElementById('resume').hidden")
    offered = browser.find_element("id", "resume-at")
    assert offered.text == f"Resume at {clock(placed)}" and offered.is_displayed()
    assert now(browser) == 0  # nothing moves until asked
    offered.click()
    wait_for(browser, "return document.getElementById('resume').hidden")
    assert int(placed) <= now(browser) < placed + 2
    browser.execute_script("document.getElementById('player').pause()")

    open_page(browser, site)  # starting over forgets the place
    browser.find_element("id", "start-over").click()
    browser.execute_script("document.getElementById('player').pause()")
    assert now(browser) < 2
    open_page(browser, site)
    assert browser.execute_script("return document.getElementById('resume').hidden")


def test_the_speed_goes_from_1x_to_1_5x_and_is_kept(browser, site):
    open_page(browser, site)
    speed = browser.find_element("id", "speed")
    offered = [o.get_attribute("value") for o in speed.find_elements("tag name", "option")]
    assert offered == ["1", "1.1", "1.25", "1.5"]
    help_text = browser.find_element("id", "speed-help").text
    assert "tremor" in help_text and "slow pace" in help_text
    speed.find_element("css selector", "option[value='1.5']").click()
    assert browser.execute_script("return document.getElementById('player').playbackRate") \
        == 1.5
    open_page(browser, site)
    assert browser.execute_script("return document.getElementById('player').playbackRate") \
        == 1.5
    # a player's own menu cannot take it below 1x either
    browser.execute_script("document.getElementById('player').playbackRate = 1.25")
    wait_for(browser, "return document.getElementById('speed').value === '1.25'")
    browser.execute_script("document.getElementById('player').playbackRate = 2")
    wait_for(browser, "return document.getElementById('speed').value === ''")
    browser.execute_script("document.getElementById('player').playbackRate = 0.5")
    wait_for(browser, "return document.getElementById('player').playbackRate === 1")
    assert browser.find_element("id", "speed").get_attribute("value") == "1"


def test_the_transcript_keeps_the_line_being_said_in_view(browser, site):
    open_page(browser, site)
    box = browser.find_element("id", "transcript")
    assert browser.execute_script("return arguments[0].scrollHeight > "
                                  "2 * arguments[0].clientHeight", box)
    for seconds in (30.0, 75.0, 110.0, 20.0):
        browser.execute_script("document.getElementById('player').currentTime = arguments[0]",
                               seconds)
        inside = wait_for(browser, """
            const line = document.querySelector('.cue.now');
            const box = document.getElementById('transcript').getBoundingClientRect();
            if (!line) return false;
            const r = line.getBoundingClientRect();
            return r.top >= box.top && r.bottom <= box.bottom
                && Math.abs(parseFloat(line.dataset.start) - arguments[0]) < 15 && 'yes';
        """.replace("arguments[0]", str(seconds)))
        assert inside == "yes", seconds


def test_a_skip_link_passes_the_transcript_and_the_crisis_line_is_a_link(browser, site):
    page = open_page(browser, site) and browser.page_source
    skip = browser.find_element("css selector", "a.skip")
    assert skip.get_attribute("href").endswith("#downloads")
    cues_before = browser.execute_script(
        "return arguments[0].compareDocumentPosition(document.querySelector('.cue')) & 4",
        skip)
    assert cues_before  # the skip link comes before the first line
    skip.click()
    assert browser.execute_script("return document.activeElement.id") == "downloads"
    assert browser.find_element("css selector", "a[href='tel:112']").text == "112"
    assert 'href="https://findahelpline.com/"' in page


def test_the_times_on_the_page_are_rounded_down_as_players_show_them(site):
    page = request(site["server"], f"/{site['server'].token}/session/long").body.decode()
    for start, shown in re.findall(r'data-seek="([0-9.]+)"\s+data-end="[0-9.]+">'
                                   r'<span class="at">([0-9:]+)</span>', page):
        seconds = float(start)
        minutes, secs = divmod(int(seconds), 60)
        assert shown == f"{minutes}:{secs:02d}"
    assert clock(59.999) == "0:59" and clock(60) == "1:00" and clock(3599.5) == "59:59"


def test_the_page_can_go_on_a_home_screen(browser, site):
    open_page(browser, site)
    token = site["server"].token
    manifest_href = browser.find_element("css selector", "link[rel=manifest]") \
        .get_attribute("href")
    answer = request(site["server"], urlsplit(manifest_href).path)
    assert answer.status == 200 and answer.header("Content-Type") == "application/manifest+json"
    manifest = json.loads(answer.body)
    assert manifest["start_url"] == f"/{token}/" and manifest["display"] == "standalone"
    assert manifest["theme_color"] == browser.find_element(
        "css selector", "meta[name=theme-color]").get_attribute("content")
    for icon in manifest["icons"]:
        picture = Image.open(BytesIO(request(site["server"], icon["src"]).body))
        assert f"{picture.width}x{picture.height}" == icon["sizes"]
    # the browser itself reads the manifest, under the page's content policy
    read = browser.execute_cdp_cmd("Page.getAppManifest", {})
    assert not read.get("errors"), read.get("errors")
    assert json.loads(read["data"])["short_name"] == "tre-audio"
    # on this computer (a secure context) Chromium would install it as an app
    assert browser.execute_cdp_cmd("Page.getInstallabilityErrors", {}) == \
        {"installabilityErrors": []}
