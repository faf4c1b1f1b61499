"""The Info frame with LAME's extension that opens every MP3 the writer makes.

Read back by a real decoder (ffmpeg): it trims LAME's delay and padding only when the
frame is right, and names the encoder only when the frame's own CRC is right; so a
file decodes to exactly the samples it was given, the first one first. mutagen, which
parses the frame on its own, gives the same length to the sample.
"""

from __future__ import annotations

import json
import struct
import subprocess
from pathlib import Path

import numpy as np
import pytest
from mutagen.mp3 import MP3, BitrateMode

from measure import decode_saying as decoded
from tre_audio.mp3 import lametag
from tre_audio.mp3.export import Mp3Writer
from tre_audio.mp3.frames import Mp3FormatError, make_header, parse_header, parse_stream

RATE = 22050


def reference_crc(data: bytes, crc: int = 0) -> int:
    """CRC-16/ARC a bit at a time, as its definition goes."""
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


def test_crc16_is_crc16_arc_on_any_length_and_goes_on_from_a_crc():
    assert lametag.crc16(b"123456789") == 0xBB3D  # the catalogued check value
    rng = np.random.default_rng(3)
    for length in (0, 1, 255, 16 * lametag._ROWS - 1, 16 * lametag._ROWS, 200_003):
        data = rng.integers(0, 256, length, dtype=np.uint8).tobytes()
        assert lametag.crc16(data) == reference_crc(data), length
        cut = length // 3
        assert lametag.crc16(data[cut:], lametag.crc16(data[:cut])) == reference_crc(data)


def signal(seconds: float, channels: int = 1) -> np.ndarray:
    """Quiet noise with a click at sample 1000 (and a second channel at half level)."""
    rng = np.random.default_rng(5)
    x = (0.02 * rng.standard_normal(int(seconds * RATE) + 333)).astype(np.float32)
    x[:2000] = 0
    x[1000] = 0.9
    return x if channels == 1 else np.stack([x, 0.5 * x], axis=1)


def write(path: Path, source: np.ndarray, parts: int) -> Mp3Writer:
    channels = 1 if source.ndim == 1 else source.shape[1]
    with Mp3Writer(path, RATE, channels=channels, parts=parts) as writer:
        for index, part in enumerate(writer.split(len(source), 2205)):
            for start in range(part.start, part.end, 5 * RATE):
                writer.write(source[start : min(start + 5 * RATE, part.end)], index)
    return writer


def encoder_named(path: Path) -> str | None:
    out = subprocess.run(["ffprobe", "-v", "error", "-print_format", "json", "-show_streams",
                          str(path)], capture_output=True, check=True, text=True).stdout
    return json.loads(out)["streams"][0].get("tags", {}).get("encoder")


@pytest.mark.parametrize(("channels", "parts"), [(1, 1), (1, 3), (2, 1), (2, 2)])
def test_a_file_decodes_to_exactly_what_it_was_given(channels, parts, tmp_path, parallel):
    source = signal(40, channels)
    path = tmp_path / "x.mp3"
    write(path, source, parts)
    samples, said = decoded(path)
    assert said == ""
    assert len(samples) == len(source)
    assert int(np.argmax(np.abs(samples[:3000]))) == 1000  # not 1105 samples late
    assert encoder_named(path) == "LAME3.100"  # ffmpeg checked the frame's CRC
    info = MP3(path).info  # mutagen reads the frame on its own
    assert info.length == pytest.approx(len(source) / RATE, abs=1e-6)
    assert info.bitrate_mode == BitrateMode.CBR
    assert info.encoder_info == "LAME 3.100.0+" and not info.sketchy


def test_the_info_frame_says_what_the_stream_holds(tmp_path, parallel):
    source = signal(40)
    path = tmp_path / "x.mp3"
    write(path, source, 2)
    data = path.read_bytes()
    info, *audio = parse_stream(data)
    assert info.tag and not any(frame.tag for frame in audio)
    assert info.header.bitrate == audio[0].header.bitrate and not info.header.padding
    body = data[info.header.payload_start : info.size]
    flags, frames, size = struct.unpack(">4xIII", body[:16])
    assert body[:4] == b"Info" and flags == 0xF
    assert frames == len(audio) and size == len(data)
    lame = body[16 + 100 + 4 :]
    assert lame[:9] == b"LAME3.100" and lame[9] == 1  # constant bit rate
    word = int.from_bytes(lame[21:24], "big")
    assert word >> 12 == lametag.ENCODER_DELAY
    assert word & 4095 == len(audio) * 576 - lametag.ENCODER_DELAY - len(source)
    length, music_crc, tag_crc = struct.unpack(">IHH", lame[28:36])
    assert length == len(data)
    assert music_crc == reference_crc(data[info.size :])
    assert tag_crc == reference_crc(data[: info.header.payload_start + 16 + 100 + 4 + 34])


def test_a_file_without_the_frame_starts_late_and_ends_long(tmp_path):
    """What the frame mends: the same stream with it cut off."""
    source = signal(20)
    path = tmp_path / "x.mp3"
    write(path, source, 1)
    data = path.read_bytes()
    bare = tmp_path / "bare.mp3"
    bare.write_bytes(data[parse_stream(data)[0].size :])
    samples, _ = decoded(bare)
    assert int(np.argmax(np.abs(samples[:3000]))) == 1000 + 576 + 529
    assert len(samples) > len(source) + 1105
    assert encoder_named(bare) is None


def test_a_frame_with_a_wrong_crc_is_not_believed(tmp_path):
    """The measures above can fail: ffmpeg names the encoder only for a sound frame."""
    path = tmp_path / "x.mp3"
    write(path, signal(10), 1)
    data = bytearray(path.read_bytes())
    info = parse_stream(bytes(data))[0]
    data[info.header.payload_start + 16 + 100 + 4 + 10] ^= 0xFF  # the lowpass byte
    path.write_bytes(bytes(data))
    assert encoder_named(path) is None


def test_what_the_frame_cannot_say_is_a_clear_error():
    head = make_header(RATE, 1, 64)
    with pytest.raises(Mp3FormatError, match="10 frames cannot hold 9000 samples"):
        lametag.info_frame(head, 10, 2000, 9000, 0, 7)
    assert len(lametag.info_frame(head, 10, 2000, 5000, 0, 7)) == parse_header(head).size
    with pytest.raises(Mp3FormatError, match="no MPEG audio frame has a rate of 7000 Hz"):
        make_header(7000, 1, 64)
    with pytest.raises(Mp3FormatError, match="no layer III frame at 22050 Hz has 320 kbit/s"):
        make_header(RATE, 2, 320)
