"""The Info frame that opens a constant bit rate MP3, with LAME's extension to it.

A frame of no audio ahead of the stream tells players its frame count and length (exact
duration and seeking) and, in the LAME extension, the encoder's delay and padding: a
gapless player trims them, so the session starts at its first sample and ends at its last,
where its chapters and subtitles say. Without it every decoder adds LAME's 576 samples and
its own 529 at the start (50 ms at 22.05 kHz) and plays the padding at the end.

The layout is LAME's, which ffmpeg (tested) and most players read: the header and empty
side information of a stream frame, ``Info``, flags, frame count, byte count, a 100-entry
seek table and a quality figure, then the 36-byte LAME extension, the last 2 bytes of
which are a CRC-16 of the frame up to them.
"""

from __future__ import annotations

import functools
import struct

import numpy as np

from .frames import HEADER, Mp3FormatError, parse_header

ENCODER_DELAY = 576
"""Samples LAME puts ahead of the input (measured with ffmpeg; decoders add 529 more)."""
DECODER_DELAY = 529
"""Samples an MP3 decoder puts ahead of what it decodes; gapless decoders know it."""
VERSION = b"LAME3.100"
"""The encoder, as the extension names it (lameenc's LAME); decoders read the delay and
padding only after a name they know."""
_FLAGS = 0x1 | 0x2 | 0x4 | 0x8  # frames, bytes, seek table and quality, as LAME writes
_CBR = 1  # the extension's "VBR method" for constant bit rate; tag revision 0
_VBR_QUALITY = 4  # LAME's default, part of the quality figure even at a constant rate
_MAX_PADDING = 4095  # 12 bits


def _crc_table() -> np.ndarray:
    table = np.arange(256, dtype=np.uint32)
    for _ in range(8):
        table = np.where(table & 1, (table >> 1) ^ 0xA001, table >> 1)
    return table.astype(np.uint16)


_TABLE = _crc_table()
_PAIRS = ((_TABLE[np.arange(65536) & 0xFF] >> 8) ^ _TABLE[
    ((np.arange(65536) >> 8) ^ _TABLE[np.arange(65536) & 0xFF]) & 0xFF]).astype(np.intp)
"""The CRC after two bytes, by the CRC before them XORed with them (little-endian): a
16-bit CRC takes in two bytes whole. Index-sized, so ``np.take`` converts nothing."""
_ROWS = 4096
"""Stretches of one chunk whose CRCs are worked out side by side, then combined."""


def crc16(data: bytes | bytearray | memoryview, crc: int = 0) -> int:
    """CRC-16/ARC (polynomial 0x8005, reflected, as LAME's tag uses) of ``data``, going
    on from ``crc``: ``crc16(b, crc16(a)) == crc16(a + b)``.

    A byte at a time in Python takes seconds for a session, so long data is cut into
    ``_ROWS`` stretches whose CRCs numpy works out at once, two bytes a step: the CRC is
    linear, and ``crc(a + b) == shift(crc(a), len(b)) ^ crc(b)`` joins them.
    """
    buffer = np.frombuffer(data, dtype=np.uint8)
    rows = _ROWS if len(buffer) >= 16 * _ROWS else 1
    width = len(buffer) // rows & ~1
    if rows > 1:
        words = buffer[: rows * width].view("<u2").reshape(rows, width // 2)
        states, mixed = np.zeros(rows, dtype=np.intp), np.empty(rows, dtype=np.intp)
        states[0] = crc
        for column in np.ascontiguousarray(words.T):
            np.bitwise_xor(states, column, out=mixed)
            np.take(_PAIRS, mixed, out=states)
        crc = _join(states.astype(np.uint16), width)
        buffer = buffer[rows * width :]
    table = _TABLE.tolist()
    for byte in buffer.tolist():
        crc = (crc >> 8) ^ table[(crc ^ byte) & 0xFF]
    return crc


@functools.cache
def _shift_by(count: int) -> np.ndarray:
    """What ``count`` zero bytes do to each bit of a CRC: column ``i`` is the CRC after
    them of a CRC of bit ``i`` alone."""
    step = np.array([1 << i for i in range(16)], dtype=np.uint16)
    step = (step >> 8) ^ _TABLE[step & 0xFF]  # one zero byte
    shift = np.array([1 << i for i in range(16)], dtype=np.uint16)  # none
    while count:
        if count & 1:
            shift = _apply(step, shift)
        step = _apply(step, step)
        count >>= 1
    return shift


def _apply(shift: np.ndarray, crcs: np.ndarray) -> np.ndarray:
    out = np.zeros_like(crcs)
    for bit in range(16):
        out ^= np.where(crcs >> bit & 1, shift[bit], 0).astype(np.uint16)
    return out


def _join(states: np.ndarray, width: int) -> int:
    """The CRC of stretches one after another, from each one's own (the first's going on
    from the CRC before it), each ``width`` bytes; their count a power of two."""
    while len(states) > 1:
        states = _apply(_shift_by(width), states[0::2]) ^ states[1::2]
        width *= 2
    return int(states[0])


def placeholder(head: bytes) -> bytes:
    """The frame to reserve at the start of a stream of frames like ``head``'s, to be
    filled in by ``info_frame`` when the stream is whole."""
    return info_frame(head, frames=0, stream_bytes=0, samples=0, music_crc=0, quality=0,
                      checked=False)


def info_frame(head: bytes, frames: int, stream_bytes: int, samples: int, music_crc: int,
               quality: int, checked: bool = True) -> bytes:
    """The Info frame for a CBR stream of ``frames`` audio frames like ``head``'s, that
    holds ``samples`` samples a channel: ``stream_bytes`` from this frame's first byte
    to the audio's last, ``music_crc`` the CRC-16 of the audio frames, ``quality``
    LAME's speed/quality setting (0-9)."""
    header = parse_header(head)
    if header.crc:
        raise Mp3FormatError("an Info frame for a stream with CRCs is not supported")
    word = int.from_bytes(head[:HEADER], "big") & ~(1 << 9)  # no padding byte
    header = parse_header(word.to_bytes(HEADER, "big"))
    padding = frames * header.samples - ENCODER_DELAY - samples
    if checked and not 0 <= padding <= _MAX_PADDING:
        raise Mp3FormatError(f"{frames} frames cannot hold {samples} samples after LAME's "
                             f"delay with a padding LAME's tag can say ({padding})")
    frame = bytearray(word.to_bytes(HEADER, "big") + bytes(header.side_info) + b"Info")
    frame += struct.pack(">III", _FLAGS, frames, stream_bytes)
    frame += bytes(i * 256 // 100 for i in range(100))  # even: constant bit rate
    frame += struct.pack(">I", 100 - 10 * _VBR_QUALITY - quality)
    frame += VERSION + bytes([_CBR, 0])  # no lowpass figure
    frame += bytes(4 + 2 + 2 + 1)  # no peak, no ReplayGain, no flags or ATH type
    frame += bytes([min(header.bitrate, 255)])
    frame += (ENCODER_DELAY << 12 | max(padding, 0)).to_bytes(3, "big")
    frame += bytes(1 + 1 + 2)  # misc, MP3 gain, preset and surround
    frame += struct.pack(">IH", stream_bytes, music_crc)
    frame += struct.pack(">H", crc16(frame))
    if len(frame) > header.size:
        raise Mp3FormatError(f"a {header.size}-byte frame cannot hold LAME's tag")
    return bytes(frame + bytes(header.size - len(frame)))
