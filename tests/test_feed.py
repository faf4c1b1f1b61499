"""The podcast feed, served and written as static files: RSS 2.0 read back with
xml.etree, enclosures and durations against the files, Podcasting 2.0 JSON chapters
against the MP3's own chapters."""

from __future__ import annotations

import datetime
import email.utils
import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest
from click.testing import CliRunner

from measure import probe
from serving import make_session, request, running
from tre_audio.cli import cli
from tre_audio.listen.server import open_server

NS = {"itunes": "http://www.itunes.com/dtds/podcast-1.0.dtd",
      "podcast": "https://podcastindex.org/namespace/1.0"}
CHAPTER_KEYS = {"startTime": (int, float), "title": str, "img": str, "url": str, "toc": bool,
                "endTime": (int, float), "location": dict}


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """Two real sessions (one in a subfolder) and two that are not finished."""
    folder = tmp_path_factory.mktemp("feed") / "sessions"
    folder.mkdir()
    made = [make_session(folder, "morning"), make_session(folder, "course/01-week1-session1")]
    shutil.copy(made[0].path, folder / "unfinished.mp3")  # no timeline beside it yet
    (folder / ".morning.mp3.a1b2c3.part").write_bytes(b"ID3 half")
    return folder


def sessions(folder: Path) -> dict[str, Path]:
    return {"morning.mp3": folder / "morning.mp3",
            "course/01-week1-session1.mp3": folder / "course" / "01-week1-session1.mp3"}


def check_chapters(document: object) -> list[dict]:
    """Podcasting 2.0 JSON chapters: ``version`` (a string) and ``chapters``, each with a
    numeric ``startTime``, in time order; other keys only of the documented kinds."""
    assert isinstance(document, dict) and isinstance(document["version"], str)
    chapters = document["chapters"]
    assert isinstance(chapters, list) and chapters
    for chapter in chapters:
        assert isinstance(chapter["startTime"], (int, float)) and chapter["startTime"] >= 0
        for key, value in chapter.items():
            assert key in CHAPTER_KEYS and isinstance(value, CHAPTER_KEYS[key]), key
            assert not isinstance(value, bool) or key == "toc"
    starts = [c["startTime"] for c in chapters]
    assert starts == sorted(starts) and starts[0] == 0
    return chapters


def check_feed(xml: str, folder: Path, url_of: dict[str, str]) -> list[ET.Element]:
    """The feed's RSS 2.0 shape, and each item against its session's files; the items."""
    root = ET.fromstring(xml)
    assert root.tag == "rss" and root.get("version") == "2.0"
    channel = root.find("channel")
    for tag in ("title", "description"):
        assert channel.findtext(tag), tag
    link = channel.findtext("link")  # said only where it is a full address
    if urlsplit(next(iter(url_of.values()))).scheme:
        assert link and urlsplit(link).scheme in ("http", "https")
    else:
        assert link is None
    assert channel.findtext("itunes:block", namespaces=NS) == "Yes"
    items = channel.findall("item")
    assert len(items) == len(url_of)
    for item, (name, url) in zip(items, url_of.items(), strict=True):  # newest first
        path = folder / name
        info = probe(path)
        assert item.findtext("title") == json.loads(path.with_suffix(".json").read_text())["title"]
        enclosure = item.find("enclosure")
        assert enclosure.get("url") == url and enclosure.get("type") == "audio/mpeg"
        assert int(enclosure.get("length")) == path.stat().st_size
        duration = int(item.findtext("itunes:duration", namespaces=NS))
        # whole seconds, rounded down as players show them (under 1 s), plus LAME's delay
        # and padding in the file (under 0.1 s)
        assert 0 <= float(info["format"]["duration"]) - duration < 1.1
        assert email.utils.parsedate_to_datetime(item.findtext("pubDate")).tzinfo
        assert item.find("guid").text and item.find("guid").get("isPermaLink") == "false"
        chapters = item.find("podcast:chapters", NS)
        assert chapters.get("type") == "application/json+chapters"
        assert chapters.get("url") == url[: -len(".mp3")] + ".chapters.json"
    dates = [email.utils.parsedate_to_datetime(i.findtext("pubDate")) for i in items]
    assert dates == sorted(dates, reverse=True)
    assert len({i.findtext("guid") for i in items}) == len(items)
    return items


def check_against_mp3(chapters: list[dict], mp3: Path) -> None:
    """The JSON chapters are the MP3's ID3 chapters (titles and starts)."""
    own = probe(mp3)["chapters"]
    assert [c["title"] for c in chapters] == [c["tags"]["title"] for c in own]
    for chapter, mark in zip(chapters, own, strict=True):
        assert chapter["startTime"] == pytest.approx(float(mark["start_time"]), abs=0.001)
        assert chapter["endTime"] == pytest.approx(float(mark["end_time"]), abs=0.001)


def newest_first(folder: Path) -> dict[str, Path]:
    """The sessions as the feed lists them: by when they were made, newest first."""
    def made(path: Path) -> float:
        timeline = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
        return datetime.datetime.fromisoformat(timeline["made"]).timestamp()
    return dict(sorted(sessions(folder).items(), key=lambda kv: (-made(kv[1]), kv[0])))


def test_the_served_feed_carries_the_token_and_matches_the_files(folder):
    with open_server(folder, lan=True, host="127.0.0.1", port=0) as server, running(server):
        host, port = server.server_address[:2]
        files = f"http://{host}:{port}/{server.token}/files/"
        answer = request(server, f"/{server.token}/feed.xml")
        assert answer.status == 200 and answer.header("Content-Type").startswith(
            "application/rss+xml")
        order = newest_first(folder)
        items = check_feed(answer.body.decode(), folder, {n: files + n for n in order})
        for item, path in zip(items, order.values(), strict=True):
            enclosure = urlsplit(item.find("enclosure").get("url")).path
            assert request(server, enclosure).body == path.read_bytes()
            assert request(server, enclosure.replace(f"/{server.token}", "")).status == 403
            got = request(server, urlsplit(item.find("podcast:chapters", NS).get("url")).path)
            check_against_mp3(check_chapters(json.loads(got.body)), path)
            transcript = urlsplit(item.find("podcast:transcript", NS).get("url")).path
            assert request(server, transcript).body == path.with_suffix(".vtt").read_bytes()
        assert request(server, "/feed.xml").status == 403


def test_feed_writes_the_feed_and_chapters_as_static_files(folder):
    result = CliRunner().invoke(cli, ["feed", str(folder), "--base-url",
                                      "https://example.org/my tre"])
    assert result.exit_code == 0, result.stderr
    assert result.stdout == (f"{folder / 'feed.xml'}  2 sessions\n"
                             f"{folder / 'course' / 'feed.xml'}  a course, in order\n")
    order = newest_first(folder)
    base = "https://example.org/my%20tre/"  # as typed, the space written as addresses do
    check_feed((folder / "feed.xml").read_text(encoding="utf-8"), folder,
               {n: base + quote(n) for n in order})
    for path in order.values():
        written = path.with_name(path.stem + ".chapters.json")
        check_against_mp3(check_chapters(json.loads(written.read_text(encoding="utf-8"))),
                          path)
    assert not (folder / "unfinished.chapters.json").exists()
    assert {p.name for p in folder.rglob("*.part")} == {".morning.mp3.a1b2c3.part"}

    relative = CliRunner().invoke(cli, ["feed", str(folder)])
    assert relative.exit_code == 0, relative.stderr
    check_feed((folder / "feed.xml").read_text(encoding="utf-8"), folder,
               {n: n for n in order})


@pytest.mark.parametrize("url", ["ftp://example.org/", "example.org/tre", "https://x/?a=1"])
def test_feed_refuses_a_base_url_that_is_not_a_web_address(folder, url):
    result = CliRunner().invoke(cli, ["feed", str(folder), "--base-url", url])
    assert result.exit_code == 2
    assert result.stderr.startswith("tre-audio: --base-url must be") and \
        result.stderr.count("\n") == 1


def test_feed_of_a_missing_folder_is_a_usage_error(tmp_path):
    result = CliRunner().invoke(cli, ["feed", str(tmp_path / "nowhere")])
    assert result.exit_code == 2 and "no such folder" in result.stderr
