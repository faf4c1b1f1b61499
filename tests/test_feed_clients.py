"""The feeds as podcast apps read them: gPodder's podcastparser, feedparser and Podcast
Index's podcast-partytime (with the machine's Node), on the served feed, a course's serial
feed and the static files of ``tre-audio feed``; ids and dates that survive a copy; and
304 answers to a client whose copy is current."""

from __future__ import annotations

import datetime
import email.utils
import io
import json
import re
import shutil
import subprocess
import time
import uuid
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import urlsplit

import feedparser
import podcastparser
import pytest
from PIL import Image
from click.testing import CliRunner

from serving import get, make_session, request, running, serving
from tre_audio.beside.texts import clock
from tre_audio.cli import cli
from tre_audio.listen.server import open_server

TOOLS = Path(__file__).parent / "tools"
COURSE = ("course/01-week1-session1", "course/02-week1-session2")


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    """A session of its own and a course of two, made in that order."""
    folder = tmp_path_factory.mktemp("clients") / "sessions"
    folder.mkdir()
    for name in ("morning", *COURSE):
        make_session(folder, name)
    return folder


def timeline(folder: Path, name: str) -> dict:
    return json.loads((folder / f"{name}.json").read_text(encoding="utf-8"))


def partytime(xml: str) -> dict:
    """What Podcast Index's parser makes of ``xml``."""
    done = subprocess.run(["node", str(TOOLS / "partytime.js")], input=xml, text=True,
                          capture_output=True, check=True, timeout=60,
                          env={"PATH": "/usr/local/bin:/usr/bin:/bin", "PARTYTIME_LOG": "silent"})
    parsed = json.loads(done.stdout)
    assert parsed, "partytime took it for no podcast"
    return parsed


def gpodder(xml: str, url: str) -> dict:
    return podcastparser.parse(url, io.BytesIO(xml.encode("utf-8")))


def served(server, target: str) -> str:
    answer = request(server, target)
    assert answer.status == 200, target
    return answer.body.decode("utf-8")


def made(folder: Path, name: str) -> int:
    return int(datetime.datetime.fromisoformat(timeline(folder, name)["made"]).timestamp())


def test_every_client_reads_the_served_feed_whole(folder):
    with open_server(folder, lan=True, host="127.0.0.1", port=0) as server, running(server):
        host, port = server.server_address[:2]
        base = f"http://{host}:{port}/{server.token}/"
        xml = served(server, f"/{server.token}/feed.xml")

    names = ["morning", *COURSE]
    newest = sorted(names, key=lambda n: (-made(folder, n), n))

    podcast = gpodder(xml, base + "feed.xml")
    assert podcast["type"] == "episodic" and podcast["link"] == base
    # sessions made from a script have tre-audio's own picture, as the feed has
    assert podcast["cover_url"] == base + "art/tre-audio-3000.png"
    assert {e["episode_art_url"] for e in podcast["episodes"]} == {podcast["cover_url"]}
    episodes = {e["guid"]: e for e in podcast["episodes"]}
    assert list(episodes) == [timeline(folder, n)["id"] for n in newest]
    for name in names:
        about = timeline(folder, name)
        episode = episodes[about["id"]]
        # gPodder reads the chapters inline (Podlove Simple Chapters), to the millisecond
        assert [(c["start"], c["title"]) for c in episode["chapters"]] == [
            (int(c["start"]), c["title"]) for c in about["chapters"]]
        assert episode["published"] == made(folder, name)
        assert episode["link"] == base + "session/" + name
        assert episode["enclosures"][0]["url"] == base + "files/" + name + ".mp3"
        assert episode["total_time"] == int(about["duration"])
        # the notes list each chapter at its time, rounded down as players show it
        for chapter in about["chapters"]:
            line = f"{clock(chapter['start'])} {chapter['title']}"
            assert line in episode["description"] and line in episode["description_html"]
    assert sorted(e["number"] for e in episodes.values()) == [1, 2, 3]
    assert episodes[timeline(folder, newest[-1])["id"]]["number"] == 1  # the first made

    parsed = feedparser.parse(xml)
    assert not parsed.bozo, parsed.get("bozo_exception")
    channel = parsed.feed
    assert channel.itunes_type == "episodic" and channel.itunes_block == 1
    assert channel.podcast_guid == str(uuid.uuid5(
        uuid.UUID("ead4c236-bf58-58c6-a2c6-a6b28d128cb6"), base.split("://")[1] + "feed.xml"))
    assert {(link.rel, link.href) for link in channel.links} >= {
        ("self", base + "feed.xml"), ("alternate", base)}
    assert channel.image.href == podcast["cover_url"]
    for entry in parsed.entries:
        assert entry.id == entry.guid and not entry.guidislink
        assert entry.itunes_title == entry.title and entry.itunes_episodetype == "full"
        assert entry.content[0].type == "text/html" and "<ol>" in entry.content[0].value

    party = partytime(xml)
    assert party["guid"] == channel.podcast_guid
    assert party["itunesImage"] == party["image"]["url"] == podcast["cover_url"]
    assert party["pubsub"]["self"] == base + "feed.xml"
    assert party["podcastBlocked"] == "yes" and party["itunesBlock"] is True
    assert party["itunesType"] == "episodic"
    for item in party["items"]:
        name = urlsplit(item["enclosure"]["url"]).path.split("/files/", 1)[1][:-4]
        assert item["guid"] == timeline(folder, name)["id"]
        assert item["podcastChapters"]["url"] == base + "files/" + name + ".chapters.json"
        assert item["podcastTranscripts"][0]["url"] == base + "files/" + name + ".vtt"
        assert item["itunesEpisodeType"] == "full" and item["itunesEpisode"] >= 1
        assert item["itunesImage"] == podcast["cover_url"]


def test_a_course_has_a_serial_feed_of_its_own_in_order(folder):
    with open_server(folder, lan=True, host="127.0.0.1", port=0) as server, running(server):
        host, port = server.server_address[:2]
        base = f"http://{host}:{port}/{server.token}/"
        index = served(server, f"/{server.token}/")
        xml = served(server, f"/{server.token}/files/course/feed.xml")
        assert request(server, f"/{server.token}/files/other/feed.xml").status == 404
        assert request(server, f"/{server.token}/files/feed.xml").status == 404
    assert f'href="{base}files/course/feed.xml"' in index

    ids = [timeline(folder, n)["id"] for n in COURSE]
    podcast = gpodder(xml, base + "files/course/feed.xml")
    assert podcast["type"] == "serial" and "course" in podcast["title"]
    assert [(e["guid"], e["number"]) for e in podcast["episodes"]] == [(ids[0], 1), (ids[1], 2)]
    party = partytime(xml)
    assert party["itunesType"] == "serial"
    assert [(i["guid"], i["itunesEpisode"]) for i in party["items"]] == [(ids[0], 1), (ids[1], 2)]


def test_a_copied_folder_gives_the_same_ids_and_dates(folder, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(folder, copy)  # new modification times, as cp, a restore or a sync
    for each in (folder, copy):
        result = CliRunner().invoke(cli, ["feed", str(each), "--base-url", "https://a.example/"])
        assert result.exit_code == 0, result.stderr
    for name in ("feed.xml", "course/feed.xml"):
        episodes = [gpodder((f / name).read_text(encoding="utf-8"), "https://a.example/")
                    ["episodes"] for f in (folder, copy)]
        assert [(e["guid"], e["published"]) for e in episodes[0]] == \
            [(e["guid"], e["published"]) for e in episodes[1]]
    # a course's static feed, without a base, points one folder up
    CliRunner().invoke(cli, ["feed", str(copy)])
    relative = gpodder((copy / "course/feed.xml").read_text(encoding="utf-8"),
                       "https://b.example/course/feed.xml")
    assert relative["episodes"][0]["enclosures"][0]["url"] == \
        "https://b.example/course/01-week1-session1.mp3"


def test_a_session_from_before_ids_gets_one_from_its_own_content(folder, tmp_path):
    old = tmp_path / "old"
    old.mkdir()
    for suffix in (".mp3", ".json"):
        shutil.copy(folder / f"morning{suffix}", old / f"morning{suffix}")
    about = timeline(old, "morning")
    del about["id"], about["made"]
    (old / "morning.json").write_text(json.dumps(about), encoding="utf-8")
    shutil.copytree(old, tmp_path / "again")

    guids = []
    for each in (old, tmp_path / "again"):
        CliRunner().invoke(cli, ["feed", str(each)])
        episode, = gpodder((each / "feed.xml").read_text(encoding="utf-8"),
                           "https://a.example/feed.xml")["episodes"]
        guids.append(episode["guid"])
    assert guids[0] == guids[1] and uuid.UUID(guids[0]).version == 5
    assert guids[0] != timeline(folder, "morning")["id"]


def test_a_client_with_a_current_copy_is_answered_304(folder):
    with open_server(folder, lan=False, host="127.0.0.1", port=0) as server, running(server):
        for target in ("/feed.xml", "/files/course/feed.xml", "/files/morning.mp3"):
            first = request(server, target)
            tag, modified = first.header("ETag"), first.header("Last-Modified")
            assert first.status == 200 and tag and modified
            again = request(server, target, headers={"If-None-Match": tag})
            assert again.status == 304 and again.body == b"" and again.header("ETag") == tag
            since = request(server, target, headers={"If-Modified-Since": modified})
            assert since.status == 304
            other = request(server, target, headers={"If-None-Match": '"other"',
                                                     "If-Modified-Since": modified})
            assert other.status == 200 and other.body == first.body  # the tag decides
            old = request(server, target, headers={
                "If-Modified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"})
            assert old.status == 200 and old.body == first.body


def test_a_course_s_playlist_and_schedule_are_served_and_linked(folder, tmp_path):
    course = tmp_path / "sessions" / "course"
    shutil.copytree(folder / "course", course)
    (course / "course.m3u8").write_text("#EXTM3U\n01-week1-session1.mp3\n", encoding="utf-8")
    outside = tmp_path / "secret.md"
    outside.write_text("not the course's", encoding="utf-8")
    (course / "schedule.md").symlink_to(outside)  # leads out of the folder: not offered
    skipped = []
    with open_server(course.parent, port=0, report=skipped.append) as server, running(server):
        playlist = request(server, "/files/course/course.m3u8")
        assert playlist.status == 200 and playlist.body.startswith(b"#EXTM3U")
        assert playlist.header("Content-Type").startswith("audio/x-mpegurl")
        assert request(server, "/files/course/schedule.md").status == 404
        index = served(server, "/")
        assert 'href="/files/course/course.m3u8"' in index and "schedule.md" not in index
        assert skipped == ["course/schedule.md leads out of the folder (a symlink)"]

        (course / "schedule.md").unlink()
        (course / "schedule.md").write_text("# Week 1\n", encoding="utf-8")
        assert request(server, "/files/course/schedule.md").body == b"# Week 1\n"
        assert 'href="/files/course/schedule.md"' in served(server, "/")
        assert request(server, "/files/course.m3u8").status == 404  # only in a course


def test_an_email_in_the_profile_names_the_feeds_owner_and_nothing_else(
        folder, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    copy = tmp_path / "copy"
    shutil.copytree(folder, copy)
    assert CliRunner().invoke(cli, ["feed", str(copy)]).exit_code == 0
    unowned = (copy / "feed.xml").read_text(encoding="utf-8")
    party = partytime(unowned)
    assert "podcastOwner" not in party and "itunes:owner" not in unowned  # left out
    assert 'owner="' not in unowned
    assert not feedparser.parse(unowned).feed.get("publisher_detail")

    refused = CliRunner().invoke(cli, ["profile", "set", "email", "not an address"])
    assert refused.exit_code == 2 and "must be an email address" in refused.stderr
    assert CliRunner().invoke(cli, ["profile", "set", "email", "sam@example.org"]) \
        .exit_code == 0
    with serving(copy) as served:
        owned = get(served.port, "/feed.xml").body.decode()
        course = get(served.port, "/files/course/feed.xml").body.decode()
    for xml in (owned, course):
        party = partytime(xml)
        assert party["locked"] is True and party["podcastOwner"] == "sam@example.org"
        owner = feedparser.parse(xml).feed.publisher_detail
        assert owner.email == "sam@example.org" and owner.name == "tre-audio"
    # a session's own files say nothing of it
    assert not any("sam@example.org" in p.read_text(encoding="utf-8", errors="replace")
                   for p in copy.rglob("*.json"))
    made = make_session(copy, "morning")  # made with the profile in place
    assert "example.org" not in made.path.with_suffix(".json").read_text(encoding="utf-8")


@pytest.mark.parametrize("zone", ["Asia/Tokyo", "America/New_York", "UTC"])
def test_a_timeline_s_date_out_of_range_takes_down_nothing(folder, tmp_path, monkeypatch,
                                                           zone):
    monkeypatch.setenv("TZ", zone)
    time.tzset()
    try:
        hostile = tmp_path / "hostile"
        shutil.copytree(folder, hostile)
        for name, made in (("late", "9999-12-31T23:59:59-14:00"),
                           ("early", "0001-01-01T00:00:00+14:00"),
                           ("edge", "9999-12-31T23:59:59+00:00"),
                           ("start", "0001-01-01T00:00:00+00:00")):
            about = timeline(hostile, "morning") | {"made": made, "id": str(uuid.uuid4())}
            shutil.copy(hostile / "morning.mp3", hostile / f"{name}.mp3")
            (hostile / f"{name}.json").write_text(json.dumps(about), encoding="utf-8")
        with open_server(hostile, port=0) as server, running(server):
            for target in ("/", "/feed.xml", "/session/late", "/session/start"):
                assert request(server, target).status == 200, target
            xml = served(server, "/feed.xml")
        assert not feedparser.parse(xml).bozo and len(gpodder(xml, "http://a/")["episodes"]) == 7
        result = CliRunner().invoke(cli, ["feed", str(hostile)])
        assert result.exit_code == 0 and "Traceback" not in result.output
    finally:
        monkeypatch.undo()
        time.tzset()


def test_a_course_copied_inside_the_folder_gets_ids_of_its_own(folder, tmp_path):
    place = tmp_path / "sessions"
    shutil.copytree(folder, place)
    time.sleep(0.01)
    # as cp -r copies: new file times, which tell the copy from the original
    shutil.copytree(place / "course", place / "course-b", copy_function=shutil.copy)
    (place / "notes").mkdir()
    (place / "notes" / "schedule.md").write_text("mine\n", encoding="utf-8")
    (place / "nest" / "inner").mkdir(parents=True)
    shutil.copy(folder / "morning.mp3", place / "nest" / "inner" / "deep.mp3")
    shutil.copy(folder / "morning.json", place / "nest" / "inner" / "deep.json")
    with open_server(place, port=0) as server, running(server):
        xml = served(server, "/feed.xml")
        original = gpodder(served(server, "/files/course/feed.xml"), "http://a/")
        copied = gpodder(served(server, "/files/course-b/feed.xml"), "http://a/")
        pages = [request(server, f"/session/{n}").body.decode()
                 for n in ("course/01-week1-session1", "course-b/01-week1-session1")]
        # a folder without sessions has no course files, and a folder above one no feed
        assert request(server, "/files/notes/schedule.md").status == 404
        assert request(server, "/files/nest/feed.xml").status == 404
        assert request(server, "/files/nest/inner/feed.xml").status == 200
    guids = [e["guid"] for e in gpodder(xml, "http://a/")["episodes"]]
    assert len(guids) == len(set(guids)) == 6
    assert sorted(int(n.text) for n in ET.fromstring(xml).iter(
        "{http://www.itunes.com/dtds/podcast-1.0.dtd}episode")) == [1, 2, 3, 4, 5, 6]
    # the original keeps its id; the copy's are its own, and the same every time
    assert [e["guid"] for e in original["episodes"]] == [
        timeline(folder, n)["id"] for n in COURSE]
    assert not {e["guid"] for e in copied["episodes"]} & {
        timeline(folder, n)["id"] for n in COURSE}
    ids = [re.search(r'data-id="([^"]+)"', page).group(1) for page in pages]
    assert ids[0] != ids[1]  # each remembers its own place on the phone


def test_a_date_from_the_future_is_no_reason_for_304_and_dates_are_not_ahead(folder):
    with open_server(folder, port=0) as server, running(server):
        first = request(server, "/feed.xml")
        modified = email.utils.parsedate_to_datetime(first.header("Last-Modified"))
        assert modified <= email.utils.parsedate_to_datetime(first.header("Date"))
        ahead = email.utils.format_datetime(
            datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=1),
            usegmt=True)
        for target in ("/feed.xml", "/files/morning.mp3"):
            assert request(server, target, headers={"If-Modified-Since": ahead}).status == 200


def test_a_static_feed_points_at_its_files_from_a_course_two_folders_down(folder, tmp_path):
    place = tmp_path / "sessions"
    (place / "nest" / "inner").mkdir(parents=True)
    for suffix in (".mp3", ".json"):
        shutil.copy(folder / f"morning{suffix}", place / "nest" / "inner" / f"deep{suffix}")
    assert CliRunner().invoke(cli, ["feed", str(place)]).exit_code == 0
    podcast = gpodder((place / "nest/inner/feed.xml").read_text(encoding="utf-8"),
                      "https://a.example/nest/inner/feed.xml")
    assert podcast["episodes"][0]["enclosures"][0]["url"] == \
        "https://a.example/nest/inner/deep.mp3"
    assert podcast["cover_url"] == "https://a.example/covers/tre-audio-3000.png"
    assert sorted(p.name for p in (place / "covers").iterdir()) == ["tre-audio-3000.png"]
    with Image.open(place / "covers" / "tre-audio-3000.png") as picture:
        assert picture.size == (3000, 3000)
