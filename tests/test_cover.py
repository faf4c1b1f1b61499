"""The cover art: drawn the same every time, the programmes told apart at a podcast app's
60-pixel tile, the name large enough to read from 300 pixels up; embedded in every MP3
as eyeD3 and mutagen read it; served to the page and named in the feeds."""

from __future__ import annotations

import hashlib
import io
import itertools
import subprocess
import sys

import eyed3
import mutagen.id3
import numpy as np
import pytest
from PIL import Image, ImageFont

from serving import make_session, request, running
from tre_audio.beside import cover
from tre_audio.listen.server import open_server

EVERY = [*cover.ARTS.values(), cover.OWN]


def pixels(picture: Image.Image) -> np.ndarray:
    return np.asarray(picture.convert("RGB"), dtype=float)


@pytest.mark.parametrize("size", cover.SIZES)
def test_every_picture_is_drawn_at_its_size_the_same_each_time(size):
    for art in EVERY[:2] if size == 3000 else EVERY:
        first, again = cover.png(art, size), cover.png(art, size)
        assert first == again
        picture = Image.open(io.BytesIO(first))
        assert picture.size == (size, size) and picture.mode == "RGB"


def test_another_process_draws_the_same_pixels():
    code = ("import hashlib; from tre_audio.beside import cover; "
            "print(hashlib.sha256(cover.png(cover.ARTS['spiral'], 600)).hexdigest())")
    there = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           check=True).stdout.strip()
    assert there == hashlib.sha256(cover.png(cover.ARTS["spiral"], 600)).hexdigest()


def test_the_programmes_differ_at_60_pixels_in_colour_and_in_shape():
    tiles = {art.name: pixels(cover.draw(art, 60)) for art in EVERY}
    for (one, a), (other, b) in itertools.combinations(tiles.items(), 2):
        colour = np.linalg.norm(a.mean(axis=(0, 1)) - b.mean(axis=(0, 1)))
        # the shape alone: each tile's brightness above its own background's
        shape_a, shape_b = (t.mean(axis=2) - np.median(t.mean(axis=2)) for t in (a, b))
        shape = np.abs(shape_a[:40] - shape_b[:40]).mean()  # above the name
        assert colour > 20 and shape > 4, (one, other, colour, shape)


def test_the_name_is_large_enough_to_read_from_300_pixels():
    # at 300 pixels a side the name's letters would stand this many pixels tall
    font = ImageFont.load_default(size=round(300 * 0.105))
    left, top, right, bottom = font.getbbox("Grounding")
    assert bottom - top >= 24 and right - left < 300 * 0.84
    for art in EVERY:  # and the longest name fits inside the margins at every size
        assert ImageFont.load_default(size=105).getlength(art.name) < 1000 * 0.84


def test_the_name_is_drawn_where_the_picture_says_it_is():
    plain = cover.Art("", cover.OWN.top, cover.OWN.bottom, "dot")
    text = pixels(cover.draw(cover.OWN, 600)) - pixels(cover.draw(plain, 600))
    rows = np.nonzero(np.abs(text).sum(axis=(1, 2)))[0]
    assert rows.min() > 600 * 0.7  # the name sits below the shape


def test_every_mp3_carries_its_programme_s_cover(tmp_path):
    made = make_session(tmp_path, "morning")  # from a script: tre-audio's own picture
    tag = eyed3.load(made.path).tag
    front, = [i for i in tag.images if i.picture_type == eyed3.id3.frames.ImageFrame.FRONT_COVER]
    assert front.mime_type == "image/jpeg"
    assert front.image_data == cover.jpeg(cover.OWN)
    apic, = mutagen.id3.ID3(made.path).getall("APIC")
    picture = Image.open(io.BytesIO(apic.data))
    assert picture.size == (cover.EMBEDDED, cover.EMBEDDED) and len(apic.data) < 60_000
    # the rest of the tag is as it was: title, date and chapters
    assert tag.title and tag.recording_date is not None
    assert len(mutagen.id3.ID3(made.path).getall("CHAP")) == 3


def test_the_server_offers_the_pictures_and_nothing_else(tmp_path):
    folder = tmp_path / "sessions"
    folder.mkdir()
    with open_server(folder, port=0) as server, running(server):
        for name, size in (("classic", 512), ("tre-audio", 96), ("cooldown", 3000)):
            answer = request(server, f"/art/{name}-{size}.png")
            assert answer.status == 200 and answer.header("Content-Type") == "image/png"
            assert Image.open(io.BytesIO(answer.body)).size == (size, size)
        for bad in ("classic-513.png", "nothing-512.png", "classic-512.jpg", "classic.png",
                    "../classic-512.png", "classic-0512.png", "CLASSIC-512.png"):
            assert request(server, f"/art/{bad}").status == 404, bad
