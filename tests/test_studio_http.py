"""The studio over HTTP, as a browser without JavaScript uses it: the form built from the
option table, a session made by posting it (real speech, real files), its job page
following along, errors beside their field, and every way a request from elsewhere is
refused (the form's token, the origin, the type and size of the body)."""

from __future__ import annotations

import http.client
import json
import re
import socket
import time
from urllib.parse import quote, urlencode

import pytest

from serving import chromium, get, make_session, serving, studio_running, wait_for
from hearing import _hear, decoded, normal
from measure import probe
from tre_audio import session
from tre_audio.choices import layers
from tre_audio.files import atomic
from tre_audio.options import table
from tre_audio.studio.studio import PREVIEW_LINE

FORM = "application/x-www-form-urlencoded"


@pytest.fixture(scope="module")
def studio(tmp_path_factory):
    place = tmp_path_factory.mktemp("studio")
    folder = place / "sessions"
    with studio_running(place) as (server, made):
        port = int(server.server_address[1])
        page = get(port, f"/{server.token}/make").body.decode()
        csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
        yield {"server": server, "port": port, "prefix": f"/{server.token}",
               "folder": folder, "csrf": csrf, "page": page, "studio": made,
               "profile": place / "profile.toml"}


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
    natural = round(session.natural_minutes(layers.build({"programme": "grounding"})))
    assert "grounding: ten calm minutes" in page and f"(about {natural} minutes)" in page
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
    error = re.search(r'<p class="error" id="error-minutes">([^<]+)</p>', page)
    assert error and error.group(1).startswith("Cannot fit 3 minutes: programme")
    assert "--help" not in page and 'value="3"' in page  # what was typed stays
    assert sorted(studio["folder"].iterdir()) == before


def test_a_value_of_the_wrong_kind_names_the_field(studio):
    answer = post(studio, "/make", {"bed_level": "loud"})
    assert answer.status == 422
    assert "Bed level must be a number" in answer.body.decode()
    for typed in ("1_0", "\u0661\u0660", "1e1", "0x10"):  # Python reads them; people don't
        answer = post(studio, "/make", {"minutes": typed})
        assert "Minutes must be a number" in answer.body.decode(), typed
    answer = post(studio, "/make", {"weeks": "\u0661"})
    assert "Weeks of a course must be one of the choices the form offers" in answer.body.decode()
    answer = post(studio, "/make", {"out": "a\x00b"})
    assert answer.status == 422 and "\x00" not in answer.body.decode()
    answer = post(studio, "/make", {"out": "a\nb"})
    assert "File name must be plain text: it holds a control character (U+000A)" in \
        answer.body.decode()


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
    """Headless Chromium, phone-sized, JavaScript and all, as a person would: hears a
    voice and a bed, sees a length out of reach refused beside its field, makes a short
    programme and watches it being made, plays it and seeks to a chapter, cancels a
    second one, and deletes the first. The browser's own posts (its Origin and the
    form's token) throughout."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    base = f"http://127.0.0.1:{studio['port']}{studio['prefix']}"
    browser.get(base + "/")
    browser.find_element(By.CSS_SELECTOR, "a.make").click()
    Select(browser.find_element(By.ID, "programme")).select_by_value("grounding")
    reach = session.reachable(layers.options({"programme": "grounding"}))
    wait_for(browser, "return document.getElementById('reach').textContent"
                      f".includes('can last {reach}')")  # live, as the answers change
    for field, name in (("voice", "joe"), ("ambient", "surf")):
        previews = browser.find_element(By.CSS_SELECTOR, f"#field-{field} details")
        previews.find_element(By.TAG_NAME, "summary").click()  # a tap: it may play
        player = previews.find_element(By.CSS_SELECTOR, f"audio[src$='/{name}']")
        assert player.is_displayed()
        browser.execute_script("arguments[0].play()", player)
        wait_for(browser, f"var a = document.querySelector(\"#field-{field} "
                          f"audio[src$='/{name}']\"); return !a.paused && a.currentTime > 0.5",
                 timeout=30)
        browser.execute_script("arguments[0].pause()", player)
    Select(browser.find_element(By.ID, "programme")).select_by_value("classic")
    browser.find_element(By.ID, "minutes").send_keys("3")
    browser.find_element(By.CSS_SELECTOR, "button[value=make]").click()
    wait_for(browser, "return document.getElementById('error-minutes') !== null")
    error = browser.find_element(By.ID, "error-minutes")
    assert error.text.startswith("Cannot fit 3 minutes") and error.is_displayed()
    Select(browser.find_element(By.ID, "programme")).select_by_value("breathing")
    Select(browser.find_element(By.ID, "pattern")).select_by_value("sigh")
    Select(browser.find_element(By.ID, "ambient")).select_by_value("none")
    browser.find_element(By.ID, "minutes").clear()
    browser.find_element(By.CSS_SELECTOR, "button[value=make]").click()
    wait_for(browser, "return location.pathname.includes('/job/')")
    wait_for(browser, "return document.querySelector('progress') !== null"
                      " || location.pathname.includes('/session/')", timeout=60)
    # the job's page follows along by itself, and opens the player when it is made
    wait_for(browser, "return location.pathname.includes('/session/')", timeout=120)
    made = browser.current_url
    duration = wait_for(browser, "const p = document.getElementById('player');"
                                 "return p.readyState >= 1 && p.duration;")
    assert duration > 60
    chapter = browser.find_elements(By.CSS_SELECTOR, "a.chapter")[1]
    start = float(chapter.get_attribute("data-seek"))
    chapter.click()
    now = wait_for(browser, "var a = document.getElementById('player');"
                            "return !a.seeking && !a.paused && a.currentTime")
    assert start - 0.05 <= now < start + 1.0
    browser.execute_script("document.getElementById('player').pause()")

    browser.get(base + "/make")
    browser.find_element(By.ID, "minutes").send_keys("40")
    browser.find_element(By.CSS_SELECTOR, "button[value=make]").click()
    wait_for(browser, "return document.getElementById('cancel') !== null")
    browser.find_element(By.CSS_SELECTOR, "#cancel button").click()
    wait_for(browser, "return document.querySelector('h1').textContent === 'Cancelled'",
             timeout=60)

    browser.get(made)
    browser.find_element(By.LINK_TEXT, "Delete").click()
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    wait_for(browser, "return document.querySelector('h1').textContent === 'Your sessions'")
    assert made.rsplit("/", 1)[1] not in browser.page_source
    browser.get(made)
    assert "404" in browser.page_source


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


def _start(served, fields) -> str:
    """Post the form to a running serve; the job's address."""
    page = get(served.port, "/make").body.decode()
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    body = urlencode({**fields, "csrf": csrf})
    made = get(served.port, "/make", method="POST", body=body.encode(),
               headers={"Content-Type": FORM, "Content-Length": str(len(body))})
    assert made.status == 303, made.body
    return made.header("Location")


def _until(served, job: str, words: str, seconds: float = 60) -> None:
    end = time.monotonic() + seconds
    while words not in get(served.port, job).body.decode():
        assert time.monotonic() < end, f"the job's page never said {words!r}"
        time.sleep(0.05)


def test_a_session_being_made_when_serve_stops_leaves_nothing(tmp_path):
    """Ctrl-C while the studio is speaking a session: serve stops as it always does,
    and the half-made session is gone, hidden parts and all. Started again, serve knows
    the job as not made."""
    folder = tmp_path / "sessions"
    folder.mkdir()
    with serving(folder) as served:
        job = _start(served, {"programme": "classic", "minutes": "40"})
        _until(served, job, "Speaking")
    assert list(folder.rglob("*")) == []
    with serving(folder) as served:
        page = get(served.port, job).body.decode()
        assert "<h1>Not made</h1>" in page and "the studio stopped before" in page.lower()


@pytest.mark.slow
def test_a_session_cut_off_by_a_crash_is_known_as_not_made_and_leaves_nothing(tmp_path):
    """serve killed outright (SIGKILL) while it writes a course: the next serve removes
    what was left (once no process can be writing it) and says the job was not made."""
    folder = tmp_path / "sessions"
    folder.mkdir()
    with serving(folder) as served:
        job = _start(served, {"programme": "tremor", "ambient": "none", "weeks": "1",
                              "per_week": "2"})
        end = time.monotonic() + 120
        while not any(p.name.endswith(".part") for p in folder.rglob("*")):
            assert time.monotonic() < end, "nothing was being written"
            time.sleep(0.02)
        served.process.kill()
        served.process.wait()
    assert any(p.name.endswith(".part") for p in folder.rglob("*"))
    time.sleep(atomic.STALE_SECONDS)
    with serving(folder) as served:
        page = get(served.port, job).body.decode()
        assert "<h1>Not made</h1>" in page
    assert list(folder.rglob("*")) == []


def _fields(page: str) -> dict[str, str]:
    """Each select's chosen value and each text or number field's value."""
    found = {}
    for name, body in re.findall(r'<select id="(\w+)" name="\w+"[^>]*>(.*?)</select>', page,
                                 re.S):
        chosen = re.search(r'<option value="([^"]*)" selected>', body)
        found[name] = chosen.group(1) if chosen else ""
    for name, value in re.findall(r'<input id="(\w+)" name="\w+" type="(?:text|number)"'
                                  r'[^>]*value="([^"]*)"', page):
        found[name] = value
    return found


def test_the_form_says_what_length_it_can_reach_and_checks_without_making(studio):
    reach = session.reachable(layers.options({}))
    assert f"With these settings it can last {reach}." in studio["page"]
    before = sorted(studio["folder"].iterdir())
    answer = post(studio, "/make", {"programme": "grounding", "do": "check"})
    page = answer.body.decode()
    grounding = session.reachable(layers.options({"programme": "grounding"}))
    assert answer.status == 200 and f"it can last {grounding}." in page
    assert "These settings can be made." in page and _fields(page)["programme"] == "grounding"
    answer = post(studio, "/make", {"programme": "grounding", "minutes": "30", "do": "check"})
    assert answer.status == 422
    page = answer.body.decode()
    assert f"it can last {grounding}." in page and 'id="error-minutes"' in page
    assert sorted(studio["folder"].iterdir()) == before  # nothing made
    assert post(studio, "/make", {"do": "sing"}).status == 400


def test_the_page_script_asks_the_reach_as_json(studio):
    answer = post(studio, "/reach", {"programme": "grounding", "minutes": "30"})
    found = json.loads(answer.body)
    assert answer.status == 200 and answer.header("Content-Type") == "application/json"
    assert found["reach"] == session.reachable(layers.options({"programme": "grounding"}))
    assert found["field"] == "minutes" and found["error"].startswith("Cannot fit 30 minutes")
    found = json.loads(post(studio, "/reach", {"pace": "gentle", "minutes": "x"}).body)
    assert found == {"reach": "", "field": "minutes", "error": "Minutes must be a number"}
    assert get(studio["port"], studio["prefix"] + "/reach").status == 405
    assert post(studio, "/reach", {"programme": "grounding"}, csrf=False).status == 403


def test_each_voice_and_bed_can_be_heard_before_choosing(studio):
    page = studio["page"]
    voices = dict(studio["studio"].choices())["voice"]
    for name, _ in voices:
        assert f'src="{studio["prefix"]}/preview/voice/{quote(name)}"' in page, name
    assert f'src="{studio["prefix"]}/preview/bed/rain"' in page
    answer = get(studio["port"], f"{studio['prefix']}/preview/voice/heart")
    assert answer.status == 200 and answer.header("Content-Type") == "audio/mpeg"
    path = studio["profile"].parent / "previews" / "voice-hibari-heart.mp3"  # kept
    assert path.read_bytes() == answer.body
    said = normal(PREVIEW_LINE).split()
    heard = normal(_hear(decoded(path))).split()
    assert len(set(said) & set(heard)) >= len(set(said)) - 1, heard
    again = time.monotonic()
    assert get(studio["port"], f"{studio['prefix']}/preview/voice/heart").body == answer.body
    assert time.monotonic() - again < 1  # made once, kept
    part = get(studio["port"], f"{studio['prefix']}/preview/voice/heart",
               headers={"Range": "bytes=0-1"})
    assert part.status == 206 and part.body == answer.body[:2]  # as a player seeks
    assert part.header("Accept-Ranges") == "bytes"
    bed = get(studio["port"], f"{studio['prefix']}/preview/bed/rain")
    assert bed.status == 200
    seconds = float(probe(studio["profile"].parent / "previews" / "bed-rain.mp3")
                    ["format"]["duration"])
    assert 19 < seconds < 22
    for wrong in ("voice/nobody", "bed/thunder", "voice/..%2f..%2fetc", "song/heart"):
        assert get(studio["port"], f"{studio['prefix']}/preview/{wrong}").status == 404


def test_the_form_starts_from_the_profile_and_saves_it(studio):
    """Each field left as it is follows the profile, which the form shows beside it
    (not typed into it, so that it stays the profile's: its length, out of reach for
    another programme, is left out with a word, as on the command line). "Save as my
    defaults" sets what is given and keeps the rest."""
    profile = studio["profile"]
    try:
        answer = post(studio, "/make", {"pace": "slow", "voice": "joe", "bed_level": "14",
                                        "minutes": "8", "programme": "grounding",
                                        "do": "defaults"})
        assert answer.status == 200 and "Saved as your defaults" in answer.body.decode()
        text = profile.read_text(encoding="utf-8")
        assert 'pace = "slow"' in text and 'voice = "joe"' in text
        assert "bed_level = 14" in text and "minutes = 8" in text
        assert not re.search(r"^programme =", text, re.M)  # not a profile's key
        page = get(studio["port"], f"{studio['prefix']}/make").body.decode()
        assert set(_fields(page).values()) == {""}  # all as set: the profile's
        assert ">as set (slow, from your profile)</option>" in page
        assert 'placeholder="14 (from your profile)"' in page
        answer = post(studio, "/make", {"programme": "classic", "do": "check"})
        page = answer.body.decode()
        assert answer.status == 200 and "These settings can be made." in page
        assert "length of 8 minutes is out of reach here" in page
        grounding = post(studio, "/make", {"programme": "grounding", "minutes": "10",
                                           "pace": "gentle", "do": "check"})
        assert "out of reach" not in grounding.body.decode()  # a length given wins
        post(studio, "/make", {"pace": "steady", "do": "defaults"})
        text = profile.read_text(encoding="utf-8")
        assert 'pace = "steady"' in text and 'voice = "joe"' in text  # the rest kept
        answer = post(studio, "/make", {"engine": "system", "voice": "heart",
                                        "do": "defaults"})
        assert answer.status == 422 and "heart" in answer.body.decode()
        page = get(studio["port"], f"{studio['prefix']}/make").body.decode()
        assert 'value="forget:minutes"' in page and "Minutes: 8" in page
        answer = post(studio, "/make", {"do": "forget:minutes"})
        assert answer.status == 200 and "Removed Minutes from your defaults." in \
            answer.body.decode()
        text = profile.read_text(encoding="utf-8")
        assert not re.search(r"^minutes =", text, re.M) and 'pace = "steady"' in text
        assert post(studio, "/make", {"do": "forget:minutes"}).status == 422  # gone
        assert post(studio, "/make", {"do": "forget:email"}).status == 422  # not the form's
    finally:
        profile.unlink(missing_ok=True)


def _made(studio, fields) -> str:
    answer = post(studio, "/make", fields)
    assert answer.status == 303, answer.body
    page = _finished(studio, answer.header("Location"))
    return re.search(r'class="listen" href="[^"]+/session/([^"]+)"', page).group(1)


def test_a_session_is_made_again_from_its_settings_and_deleted(studio):
    for wrong in ("../up", ".hidden", "a/b", "x.chapters", "   "):
        answer = post(studio, "/make", {"programme": "breathing", "out": wrong})
        if wrong.strip():
            assert answer.status == 422 and 'id="error-out"' in answer.body.decode(), wrong
    made = _made(studio, {"programme": "breathing", "pattern": "box", "ambient": "none",
                          "pace": "steady", "name": "Ari", "loudness": "-19",
                          "out": "Ari's evening.mp3"})
    assert made == quote("Ari's evening")
    page = get(studio["port"], f"{studio['prefix']}/session/{made}").body.decode()
    assert f'href="{studio["prefix"]}/make?again={made}"' in page
    again = get(studio["port"], f"{studio['prefix']}/make?again={made}").body.decode()
    fields = _fields(again)
    assert (fields["programme"], fields["pattern"], fields["pace"], fields["ambient"],
            fields["name"], fields["loudness"]) == ("breathing", "box", "steady", "none",
                                                    "Ari", "-19")
    assert get(studio["port"], f"{studio['prefix']}/make?again=nothing").status == 404
    files = sorted(studio["folder"].glob("Ari's evening.*"))
    assert len(files) >= 4
    ask = get(studio["port"], f"{studio['prefix']}/delete/{made}")
    assert ask.status == 200 and "cannot be undone" in ask.body.decode()
    assert all(p.exists() for p in files)  # asking deletes nothing
    assert post(studio, f"/delete/{made}", {}, csrf="wrong").status == 403
    assert all(p.exists() for p in files)
    answer = post(studio, f"/delete/{made}", {})
    assert answer.status == 303 and answer.header("Location") == f"{studio['prefix']}/?deleted"
    assert "Deleted." in get(studio["port"], answer.header("Location")).body.decode()
    assert not any(p.exists() for p in files)
    assert get(studio["port"], f"{studio['prefix']}/session/{made}").status == 404
    assert post(studio, f"/delete/{made}", {}).status == 404
    assert made not in get(studio["port"], f"{studio['prefix']}/").body.decode()


@pytest.mark.slow
def test_a_course_is_made_from_the_form_listed_in_order_and_deleted_whole(studio):
    refused = post(studio, "/make", {"programme": "grounding", "weeks": "1"})
    assert refused.status == 422
    assert re.search(r'id="error-programme">A course needs a programme with a '
                     r'tremor phase', refused.body.decode())
    assert post(studio, "/make", {"programme": "tremor", "weeks": "13"}).status == 422
    made = _made(studio, {"programme": "tremor", "ambient": "none", "weeks": "1",
                          "per_week": "2"})
    folder = studio["folder"] / made.rsplit("/", 1)[0]
    assert made.endswith("/01-week1-session1") and (folder / "course.m3u8").is_file()
    assert sorted(p.name for p in folder.glob("*.mp3")) == ["01-week1-session1.mp3",
                                                            "02-week1-session2.mp3"]
    index = get(studio["port"], f"{studio['prefix']}/").body.decode()
    group = index[index.index(f"<h2>{folder.name}</h2>"):]
    assert group.index("01-week1-session1") < group.index("02-week1-session2")
    assert "week 1, day 4" in group  # the schedule, in each session's title
    ask = " ".join(get(studio["port"], f"{studio['prefix']}/delete/{made}").body.decode()
                   .split())
    assert "A course is deleted whole" in ask
    mine = folder / "my notes.txt"
    mine.write_text("kept", encoding="utf-8")
    assert post(studio, f"/delete/{made}", {}).status == 303
    assert sorted(p.name for p in folder.iterdir()) == ["my notes.txt"]  # only the user's
    mine.unlink()
    assert folder.name not in get(studio["port"], f"{studio['prefix']}/").body.decode()


def test_a_full_queue_is_said_with_503_and_nothing_is_queued(studio):
    jobs = []
    for _ in range(10):
        answer = post(studio, "/make", {"programme": "classic", "minutes": "40"})
        if answer.status != 303:
            break
        jobs.append(answer.header("Location"))
    try:
        assert answer.status == 503 and len(jobs) == 9  # one being made, eight waiting
        assert "sessions are waiting to be made; try again when one is done" in \
            answer.body.decode()
        index = get(studio["port"], f"{studio['prefix']}/").body.decode()
        assert index.count("Classic: waiting its turn") == 8 and "<h2>Being made</h2>" in index
        assert all(f'href="{job}"' in index for job in jobs)  # a way back to each
    finally:
        for job in jobs:
            post(studio, job.removeprefix(studio["prefix"]), {})
    for job in jobs:
        _finished(studio, job)


@pytest.mark.slow
def test_a_course_from_the_page_gets_a_folder_of_its_own_never_a_link(studio, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (studio["folder"] / "elsewhere").symlink_to(outside)
    try:
        made = _made(studio, {"programme": "tremor", "ambient": "none", "weeks": "1",
                              "per_week": "1", "out": "elsewhere"})
        assert made.startswith("elsewhere-2/") and list(outside.iterdir()) == []
        assert post(studio, f"/delete/{made}", {}).status == 303
    finally:
        (studio["folder"] / "elsewhere").unlink()


def test_what_a_course_or_a_name_would_fail_on_is_refused_before_it_is_queued(studio):
    for fields, key in (({"programme": "tremor", "weeks": "1", "minutes": "3"}, "minutes"),
                        ({"programme": "tremor", "weeks": "0"}, "weeks"),
                        ({"programme": "tremor", "per_week": "0"}, "per_week"),
                        ({"out": "a" * 81}, "out"),
                        ({"out": "\u65e5" * 70}, "out"),  # 210 bytes of UTF-8
                        ({"voice": "en-gb+m3"}, "voice")):  # a select takes no variant
        for do in ("check", "make"):
            answer = post(studio, "/make", {**fields, "do": do})
            assert answer.status == 422, (fields, do)
            assert f'id="error-{key}"' in answer.body.decode(), (fields, do)


def test_a_form_from_before_a_restart_is_shown_again_not_refused(studio):
    answer = post(studio, "/make", {"programme": "grounding", "name": "Kim"},
                  csrf="from-an-earlier-run", headers={
                      "Origin": f"http://127.0.0.1:{studio['port']}",
                      "Sec-Fetch-Site": "same-origin"})
    page = answer.body.decode()
    assert answer.status == 409 and "started again since" in page
    assert _fields(page)["programme"] == "grounding" and _fields(page)["name"] == "Kim"
    assert post(studio, "/make", {"programme": "grounding"}, csrf="x").status == 403


def test_make_it_again_leaves_out_what_the_programme_refuses(studio):
    """A session's timeline holds every setting, its level too, which grounding
    refuses: the form gets what differs from today's defaults and the programme takes."""
    settings = {"programme": "grounding", "level": "first-time", "pace": "slow",
                "minutes": None, "engine": "hibari", "voice": "heart", "ambient": "rain",
                "seed": 0, "bed_level": 20.0, "bells": True, "limits": ["knees"]}
    again = studio["studio"].again(settings)
    assert again == {"programme": "grounding", "pace": "slow", "ambient": "rain",
                     "limits": ("knees",)}
    studio["studio"].check(again)


def test_deleting_a_link_deletes_the_link_and_a_course_folder_keeps_what_is_not_its(studio):
    folder = studio["folder"]
    made = make_session(folder, "morning")
    names = sorted(p.name for p in folder.glob("morning.*"))
    for name in names:
        (folder / name.replace("morning", "alias")).symlink_to(folder / name)
    assert post(studio, "/delete/alias", {}).status == 303
    assert not list(folder.glob("alias.*")) and made.path.is_file()  # only the links
    assert sorted(p.name for p in folder.glob("morning.*")) == names
    mine = folder / "mine"
    mine.mkdir()
    for name in names:  # a session of the user's, in a folder that also has a playlist
        (folder / name).rename(mine / name)
    (mine / "course.m3u8").write_text("#EXTM3U\n", encoding="utf-8")
    ask = " ".join(get(studio["port"], f"{studio['prefix']}/delete/mine/morning").body
                   .decode().split())
    assert "A course is deleted whole" not in ask and "cannot be undone" in ask
    assert post(studio, "/delete/mine/morning", {}).status == 303
    assert sorted(p.name for p in mine.iterdir()) == ["course.m3u8"]


def test_a_course_says_the_lengths_every_session_can_last_and_follows_the_profile(studio):
    """Its sessions differ in their tremor: the range shown is the one they share, and a
    profile's length that some cannot reach gives each its natural length, with a word."""
    course = {"programme": "tremor", "level": "regular", "weeks": "12", "per_week": "4"}
    page = post(studio, "/make", {**course, "do": "check"}).body.decode()
    found = re.search(r"it can last ([\d.]+) to ([\d.]+) minutes in every session", page)
    low, high = float(found.group(1)), float(found.group(2))
    for minutes in (low + 0.2, high - 0.2):
        assert post(studio, "/make", {**course, "minutes": f"{minutes:.1f}", "do": "check"}
                    ).status == 200, minutes
    studio["profile"].write_text(f"minutes = {high + 3:.1f}\n", encoding="utf-8")
    try:
        answer = post(studio, "/make", {**course, "do": "check"})
        page = " ".join(answer.body.decode().split())
        assert answer.status == 200 and "out of reach for some sessions of this course" in page
        said = post(studio, "/make", {**course, "out": "x", "do": "defaults"}).body.decode()
        assert "A profile does not keep Programme, Weeks of a course, Sessions a week, " \
               "File name" in " ".join(said.split())
    finally:
        studio["profile"].unlink(missing_ok=True)


def test_make_it_again_ignores_a_setting_of_the_wrong_kind(studio):
    assert studio["studio"].again({"programme": "grounding", "bed_level": [1], "name": [1],
                                   "voice": ["x"], "loudness": True, "limits": [3]}) == {
        "programme": "grounding"}
