"""``tre-audio serve`` checks who is asking and what it offers, seen over HTTP only: each
test talks to a real ``tre-audio serve`` process (or, to count its reads of the folder, to
the same server in a thread), so that the tests hold whatever web stack serves.

Requests go to 127.0.0.1 only; a Host header names the server as a browser would."""

from __future__ import annotations

import html
import http.client
import os
import re
import socket
import time
import unicodedata
import xml.etree.ElementTree as ET
from pathlib import Path

import psutil
import pytest

from serving import copy_session, get, make_session, raw, running, serving
from tre_audio.listen import wire
from tre_audio.listen.server import REREAD_SECONDS, Hosts, open_server

SECRET = "the contents of a file outside the folder"


@pytest.fixture(scope="module")
def made(tmp_path_factory) -> Path:
    """One real session (spoken, mixed, with its files), made once and copied."""
    folder = tmp_path_factory.mktemp("made") / "sessions"
    folder.mkdir()
    return make_session(folder, "morning").path


@pytest.fixture(scope="module")
def site(made, tmp_path_factory):
    """``serve --lan --host 127.0.0.1`` over two sessions and a hard-linked trap."""
    work = tmp_path_factory.mktemp("site")
    folder = work / "sessions"
    copy_session(made, folder, "morning", "Morning")
    copy_session(made, folder, "course/01-evening", "Evening")
    secret = work / "secret.txt"
    secret.write_text(SECRET, encoding="utf-8")
    copy_session(made, folder, "linked", "Linked")
    (folder / "linked.txt").unlink()
    os.link(secret, folder / "linked.txt")  # as `ln /etc/passwd out/x.txt`
    hour_ago = time.time() - 3600  # folders not written to this very second
    for each in (folder, folder / "course"):
        os.utime(each, (hour_ago, hour_ago))
    with serving(folder, "--lan", "--host", "127.0.0.1") as served:
        yield {"served": served, "folder": folder, "work": work}


def titles(page: bytes) -> list[str]:
    """The titles the page lists, in its order."""
    return [html.unescape(t) for t in
            re.findall(r'class="session" href="[^"]+">([^<]+)</a>', page.decode())]


def feed_items(xml: bytes) -> list[ET.Element]:
    """The feed's items, read by a conforming XML parser (expat): it fails on any
    character XML forbids."""
    root = ET.fromstring(xml)
    assert root.tag == "rss"
    return root.findall("channel/item")


def own_host_names(port: int) -> list[str]:
    """The Host values a browser on this machine or the network may send."""
    names = [f"127.0.0.1:{port}", f"localhost:{port}", f"LOCALHOST:{port}",
             f"[::1]:{port}", f"{socket.gethostname()}:{port}",
             f"{socket.gethostname().split('.')[0]}.local:{port}"]
    for addresses in psutil.net_if_addrs().values():
        for address in addresses:
            if address.family == socket.AF_INET:
                names.append(f"{address.address}:{port}")
            elif address.family == socket.AF_INET6:
                names.append(f"[{address.address.split('%')[0]}]:{port}")
    return names


def test_a_request_for_another_host_gets_400(site):
    served = site["served"]
    port, feed = served.port, f"{served.prefix}/feed.xml"
    foreign = ["evil.example", f"evil.example:{port}", f"127.0.0.1.evil.example:{port}",
               f"localhost.:{port}", f"localhost:{port}.evil.example", f"localhost:{port + 1}",
               "localhost", "127.0.0.1", f"127.0.0.1:{port}:{port}", f"[::1:{port}",
               f"user@127.0.0.1:{port}", f"127.0.0.1:0{port}", "", None]
    for host in foreign:
        for target in (feed, f"{served.prefix}/", f"{served.prefix}/files/morning.mp3"):
            answer = get(port, target, host=host)
            assert answer.status == 400, (host, target)
            assert b"evil" not in answer.body and b"morning" not in answer.body
    two = raw(port, f"GET {feed} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                    f"Host: evil.example\r\n\r\n".encode())
    assert two.status == 400
    for host in own_host_names(port):
        answer = get(port, feed, host=host)
        assert answer.status == 200, host
        for item in feed_items(answer.body):
            url = item.find("enclosure").get("url")
            assert url.startswith(f"http://{host.lower()}{served.prefix}/files/"), url


def test_every_answer_is_for_this_origin_only(site):
    served = site["served"]
    port, prefix = served.port, served.prefix
    answers = {
        "page": get(port, f"{prefix}/"),
        "session": get(port, f"{prefix}/session/morning"),
        "feed": get(port, f"{prefix}/feed.xml"),
        "file": get(port, f"{prefix}/files/morning.mp3"),
        "part": get(port, f"{prefix}/files/morning.mp3", headers={"Range": "bytes=0-9"}),
        "chapters": get(port, f"{prefix}/files/morning.chapters.json"),
        "asset": get(port, f"{prefix}/assets/style.css"),
        **error_answers(served),
    }
    assert [a.status for a in answers.values()] == [
        200, 200, 200, 200, 206, 200, 200, 301, 400, 403, 404, 416, 501, 400, 414, 431]
    for name, answer in answers.items():
        assert answer.header("Cross-Origin-Resource-Policy") == "same-origin", name
        assert answer.header("X-Content-Type-Options") == "nosniff", name
        # a session's page posts its check-in to this server: it names only this origin
        own = "same-origin" if name == "session" else "no-referrer"
        assert answer.header("Referrer-Policy") == own, name


def error_answers(served) -> dict:
    port, prefix = served.port, served.prefix
    return {
        "moved": get(port, prefix),
        "foreign host": get(port, f"{prefix}/", host="evil.example"),
        "no token": get(port, "/feed.xml"),
        "not found": get(port, f"{prefix}/files/nothing.mp3"),
        "past the end": get(port, f"{prefix}/files/morning.mp3",
                            headers={"Range": "bytes=99999999-"}),
        "POST": get(port, f"{prefix}/", method="POST"),
        "malformed": raw(port, b"GET / x HTTP/1.1\r\n\r\n"),
        # http.server reads lines of up to 65,536 bytes: these send one byte more (and
        # nothing after it, so that nothing is left unread when the server closes)
        "long target": raw(port, b"GET /" + b"a" * (65_537 - 5)),
        "long header": raw(port, b"GET / HTTP/1.1\r\nX-Long: " + b"a" * (65_537 - 8)),
    }


def test_an_error_answer_loads_and_runs_nothing(site):
    for name, answer in error_answers(site["served"]).items():
        assert answer.status >= 300, name
        policy = answer.header("Content-Security-Policy") or ""
        assert "default-src 'none'" in policy and "frame-ancestors 'none'" in policy, name
        assert answer.header("X-Content-Type-Options") == "nosniff", name
        # a session's page posts its check-in to this server: it names only this origin
        own = "same-origin" if name == "session" else "no-referrer"
        assert answer.header("Referrer-Policy") == own, name
        assert answer.header("Content-Type").startswith("text/plain"), name


def test_a_range_with_thousands_of_digits_gets_416(site):
    served = site["served"]
    target = f"{served.prefix}/files/morning.mp3"
    size = (site["folder"] / "morning.mp3").stat().st_size
    digits = "9" * 5000
    for asked in (f"bytes={digits}-", f"bytes=0-{digits}", f"bytes=-{digits}",
                  f"bytes={'0' * 5000}1-", f"bytes=1{'0' * 18}-"):
        answer = get(served.port, target, headers={"Range": asked})
        assert answer.status == 416, asked[:30]
        assert answer.header("Content-Range") == f"bytes */{size}" and answer.body == b""
    after = get(served.port, target, headers={"Range": "bytes=0-99"})
    assert after.status == 206 and len(after.body) == 100
    assert not any("Traceback" in line for line in served.errors)


def test_a_hard_link_is_not_served_and_serve_says_so(site, made):
    served, folder, work = site["served"], site["folder"], site["work"]
    for name in ("linked.txt", "linked.mp3", "linked.json"):
        answer = get(served.port, f"{served.prefix}/files/{name}")
        assert answer.status == 404 and SECRET.encode() not in answer.body, name
    assert titles(get(served.port, f"{served.prefix}/").body) == ["Morning", "Evening"]  # alone first, then by folder
    assert served.started == [
        "tre-audio: skipped session linked: linked.txt has 2 links (a hard link)"]
    # A link made to a listed file from outside the folder leaves the folder as it was,
    # so it is not read again: the file is refused as it is opened.
    vtt = f"{served.prefix}/files/morning.vtt"
    assert get(served.port, vtt).status == 200
    os.link(folder / "morning.vtt", work / "morning-link.vtt")
    try:
        assert get(served.port, vtt).status == 404
    finally:
        (work / "morning-link.vtt").unlink()
    assert get(served.port, vtt).status == 200
    # A session written while it serves whose MP3 is a hard link: said when it is found.
    copy_session(made, work, "elsewhere")
    copy_session(made, folder, "later", "Later")
    (folder / "later.mp3").unlink()
    os.link(work / "elsewhere.mp3", folder / "later.mp3")
    assert "Later" not in titles(get(served.port, f"{served.prefix}/").body)
    assert served.next_error() == \
        "tre-audio: skipped session later: later.mp3 has 2 links (a hard link)"


NOT_UTF8 = os.fsdecode(b"bad\xff")
CONTROL = "ctl\x1b[2J"


def test_names_that_are_not_utf8_or_have_control_characters_are_skipped(made, tmp_path):
    folder = tmp_path / "sessions"
    copy_session(made, folder, "morning", "Morning")
    copy_session(made, folder, NOT_UTF8, "Not UTF-8")
    copy_session(made, folder, CONTROL, "Control")
    copy_session(made, folder, "line\nbreak", "Line break")
    copy_session(made, folder, os.fsdecode(b"\xfe-course") + "/01", "In a bad folder")
    copy_session(made, folder, "course/01-evening", "Evening")
    with serving(folder) as served:
        page = get(served.port, "/")
        assert page.status == 200 and sorted(titles(page.body)) == ["Evening", "Morning"]
        feed = get(served.port, "/feed.xml")
        assert feed.status == 200
        assert sorted(i.findtext("title") for i in feed_items(feed.body)) == [
            "Evening", "Morning"]
        assert get(served.port, "/session/morning").status == 200
    assert sorted(served.started) == [
        "tre-audio: skipped a file whose name has control characters: 'ctl\\x1b[2J.mp3'",
        "tre-audio: skipped a file whose name has control characters: 'line\\nbreak.mp3'",
        "tre-audio: skipped a file whose name is not UTF-8: b'bad\\xff.mp3'",
        "tre-audio: skipped a folder whose name is not UTF-8: b'\\xfe-course'",
    ]


def test_names_no_address_can_carry_and_links_to_hidden_files_are_skipped(made, tmp_path):
    """A backslash (the server refuses it in a path), a session named like a feed's
    chapter file (``x.chapters.json`` would be both its timeline and x's chapters), and a
    symlink to a hidden file inside the folder (``serve ~`` would offer ``.ssh``)."""
    folder = tmp_path / "sessions"
    copy_session(made, folder, "morning", "Morning")
    copy_session(made, folder, "back\\slash", "Backslash")
    copy_session(made, folder, "morning.chapters", "Chapters")
    copy_session(made, folder, "leak", "Leak")
    (folder / ".secret").write_text(SECRET, encoding="utf-8")
    (folder / "leak.txt").unlink()
    (folder / "leak.txt").symlink_to(".secret")
    with serving(folder) as served:
        assert sorted(titles(get(served.port, "/").body)) == ["Morning"]
        assert get(served.port, "/files/leak.txt").status == 404
        chapters = get(served.port, "/files/morning.chapters.json")
        assert chapters.status == 200 and b'"startTime"' in chapters.body
    assert sorted(served.started) == [
        "tre-audio: skipped a file whose name has a backslash: 'back\\\\slash.mp3'",
        "tre-audio: skipped session leak: leak.txt leads to a hidden file (a symlink)",
        "tre-audio: skipped session morning.chapters: a name ending in .chapters is a "
        "feed's chapter file's",
    ]


def test_control_characters_in_titles_are_dropped_and_the_feed_stays_xml(made, tmp_path):
    folder = tmp_path / "sessions"
    copy_session(made, folder, "morning", "Morning")
    title = "Bell\x07 and\tscreen\x1b[2J\x00 cleared\x85\ud800\ufffe!"
    copy_session(made, folder, "noisy", title)  # json.dumps writes "\u0007"... escapes
    shown = "".join(" " if c in "\t\n\r" else c for c in title
                    if unicodedata.category(c) not in ("Cc", "Cs", "Cn") or c in "\t\n\r")
    assert shown == "Bell and screen[2J cleared!"
    with serving(folder) as served:
        items = feed_items(get(served.port, "/feed.xml").body)
        assert sorted(i.findtext("title") for i in items) == sorted(["Morning", shown])
        page = get(served.port, "/")
        assert page.status == 200 and shown in titles(page.body)
        assert get(served.port, "/session/noisy").status == 200


def _spy_on_folder_reads(monkeypatch, folder: Path) -> list[str]:
    """Every listing of ``folder`` or a folder inside it, as it is made."""
    reads: list[str] = []
    root = str(folder.resolve())
    listdir, scandir = os.listdir, os.scandir

    def note(path: object) -> None:
        if os.fspath(path).startswith(root):  # type: ignore[arg-type]
            reads.append(os.fspath(path))  # type: ignore[arg-type]

    def counted_scandir(path=".", *args):
        note(path)
        return scandir(path, *args)

    def counted_listdir(path=".", *args):
        note(path)
        return listdir(path, *args)

    monkeypatch.setattr(os, "scandir", counted_scandir)
    monkeypatch.setattr(os, "listdir", counted_listdir)
    return reads


def test_the_folder_is_read_again_only_when_it_changes(made, tmp_path, monkeypatch):
    folder = tmp_path / "sessions"
    for name in ("morning", "noon", "course/01-evening", "course/02-night"):
        copy_session(made, folder, name, name.title())
    hour_ago = time.time() - 3600
    for each in (folder, folder / "course"):  # not written to this very second
        os.utime(each, (hour_ago, hour_ago))
    reads = _spy_on_folder_reads(monkeypatch, folder)
    with open_server(folder, port=0) as server, running(server):
        port = int(server.server_address[1])
        assert len(reads) == 2  # the folder and its course, once, as the server opened
        for _ in range(3):
            for target in ("/", "/feed.xml", "/session/course/01-evening",
                           "/files/morning.mp3", "/files/course/02-night.vtt"):
                assert get(port, target).status == 200, target
        assert len(reads) == 2 == server.library.scans, reads  # nothing read again
        # generate's way: every file under a hidden name, renamed when whole
        hidden = copy_session(made, tmp_path / "elsewhere", "03-dawn", "Dawn")
        for source in sorted(hidden.parent.glob("03-dawn.*")):
            part = folder / "course" / f".{source.name}.x1.part"
            part.write_bytes(source.read_bytes())
            part.rename(folder / "course" / source.name)
        assert "Dawn" in titles(get(port, "/").body)
        assert reads[2:] == [str(folder.resolve() / "course")]  # that folder alone
        (folder / "noon.mp3").unlink()
        assert "Noon" not in titles(get(port, "/").body)
        assert get(port, "/files/noon.json").status == 404


def test_a_new_address_is_answered_after_the_addresses_are_read_again():
    now = [100.0]
    addresses = [["192.0.2.7"]]
    hosts = Hosts(8737, ["localhost", "192.0.2.7"], lambda: addresses[0], lambda: now[0])
    assert hosts.allows("192.0.2.7:8737") and hosts.allows("LOCALHOST:8737")
    assert not hosts.allows("localhost") and not hosts.allows("192.0.2.7:8738")
    addresses[0] = ["192.0.2.7", "2001:db8::5", "198.51.100.4"]
    now[0] += REREAD_SECONDS - 0.1
    assert not hosts.allows("198.51.100.4:8737")  # read at most every REREAD_SECONDS
    now[0] += 0.1
    assert hosts.allows("198.51.100.4:8737") and hosts.allows("[2001:db8::5]:8737")
    assert not hosts.allows("2001:db8::5:8737")
    assert Hosts(80, ["localhost"]).allows("localhost") and \
        Hosts(80, ["localhost"]).allows("localhost:80")


def test_a_connection_that_says_nothing_is_closed(made, tmp_path, monkeypatch):
    """After ``IDLE_SECONDS`` of silence: from its start, in the middle of a request's
    head, and after an answer while kept alive (here the limit is 1 s, not 120)."""
    monkeypatch.setattr(wire, "IDLE_SECONDS", 1.0)
    copy_session(made, tmp_path / "sessions", "morning", "Morning")
    with open_server(tmp_path / "sessions", port=0) as server, running(server):
        port = int(server.server_address[1])
        asks = {"nothing": b"", "half a head": b"GET / HTTP/1.1\r\nHost: local",
                "after an answer": f"GET /feed.xml HTTP/1.1\r\nHost: 127.0.0.1:{port}"
                                   f"\r\n\r\n".encode()}
        for what, sent in asks.items():
            with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
                began = time.monotonic()
                connection.sendall(sent)
                received = b"".join(iter(lambda: connection.recv(65536), b""))
                waited = time.monotonic() - began
            assert 0.9 <= waited < 5, (what, waited)
            assert received.startswith(b"HTTP/1.1 200") == (what == "after an answer"), what


def test_a_client_that_stops_reading_is_dropped(made, tmp_path, monkeypatch):
    """A file's answer waits at most ``IDLE_SECONDS`` (here 1 s) for a client that has
    stopped reading, then drops it: it does not hold the file and a task for ever."""
    monkeypatch.setattr(wire, "IDLE_SECONDS", 1.0)
    mp3 = copy_session(made, tmp_path / "sessions", "morning", "Morning")
    with mp3.open("ab") as grown:
        grown.write(bytes(64 * 1024 * 1024))  # far more than the sockets' buffers hold
    size = mp3.stat().st_size
    with open_server(tmp_path / "sessions", port=0) as server, running(server):
        port = int(server.server_address[1])
        with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
            connection.sendall(f"GET /files/morning.mp3 HTTP/1.1\r\nHost: 127.0.0.1:{port}"
                               f"\r\n\r\n".encode())
            time.sleep(3)  # reading nothing
            received = 0  # then what the kernels still held, and the end
            while chunk := connection.recv(1 << 20):
                received += len(chunk)
    assert 0 < received < size / 2


def test_a_long_request_is_refused_however_it_arrives(site):
    """h11 measures only a head that is still coming in: the same limits hold for one
    that arrives in a single piece."""
    served = site["served"]
    port, host = served.port, f"127.0.0.1:{served.port}"
    target = f"{served.prefix}/files/" + "a" * 100_000
    whole = raw(port, f"GET {target} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
    header = raw(port, f"GET {served.prefix}/ HTTP/1.1\r\nHost: {host}\r\nX-Long: "
                       f"{'a' * 70_000}\r\n\r\n".encode())
    assert (whole.status, header.status) == (414, 431)
    for answer in (whole, header):
        assert "default-src 'none'" in answer.header("Content-Security-Policy")
        assert answer.header("Cross-Origin-Resource-Policy") == "same-origin"


def test_a_websocket_upgrade_is_an_ordinary_request(site):
    """No WebSocket is taken up: an upgrade meets the Host check, the token and the
    headers of every answer, as any request does."""
    served = site["served"]
    upgrade = ("Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
               "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n")
    for host, target, status in (("evil.example", f"{served.prefix}/", 400),
                                 (f"127.0.0.1:{served.port}", "/", 403),
                                 (f"127.0.0.1:{served.port}", f"{served.prefix}/", 200)):
        answer = raw(served.port, f"GET {target} HTTP/1.1\r\nHost: {host}\r\n{upgrade}"
                                  f"\r\n".encode())
        assert answer.status == status, (host, target)
        assert answer.header("Cross-Origin-Resource-Policy") == "same-origin"
        assert answer.header("X-Content-Type-Options") == "nosniff"


def test_answers_on_a_kept_alive_connection_are_not_held_back(site):
    """Each answer leaves at once (TCP_NODELAY): without it, an answer written in two
    parts waited for the client's delayed ACK, 40 ms each on Linux."""
    served = site["served"]
    request = (f"GET {served.prefix}/files/morning.vtt HTTP/1.1\r\n"
               f"Host: 127.0.0.1:{served.port}\r\n\r\n").encode()
    took = []
    with socket.create_connection(("127.0.0.1", served.port), timeout=10) as connection:
        for _ in range(21):
            began = time.monotonic()
            connection.sendall(request)
            response = http.client.HTTPResponse(connection, method="GET")
            response.begin()
            assert response.status == 200 and response.read()
            took.append(time.monotonic() - began)
    assert sorted(took)[10] < 0.02, took
