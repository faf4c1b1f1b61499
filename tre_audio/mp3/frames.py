"""MPEG audio layer III frames, as much of them as joining streams needs.

A layer III frame is a header, an optional CRC, the side information and main data.
The main data of a frame may begin in the frames before it (the bit reservoir):
``main_data_begin`` says how many bytes before its own payload. Joining two streams at
a frame boundary is valid only if the bytes the later stream's first frame reaches back
for are put where it looks for them: in the room the earlier stream's last frames leave
after their own main data. ``plan_seam`` finds a boundary with room enough (or makes
room, giving the last frame a higher bit rate), and ``apply_seam`` does it on files.
"""

from __future__ import annotations

import dataclasses
import math
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import BinaryIO

from ..errors import TreAudioError

_BITRATES = {
    True: (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),  # MPEG-1
    False: (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),  # MPEG-2, 2.5
}
"""kbit/s of layer III by the header's bitrate index."""
_SAMPLE_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}
"""Hz by the header's version bits (3: MPEG-1, 2: MPEG-2, 0: MPEG-2.5) and rate index."""
HEADER = 4
TAGS = (b"Xing", b"Info")
"""What opens a VBR/LAME tag frame's payload: a frame of no audio, side info all zero."""


class Mp3FormatError(TreAudioError):
    """Bytes that are not the layer III frame they should be."""


class SpliceError(TreAudioError):
    """No frame boundary near a seam leaves room for the next part's bit reservoir."""


@dataclass(frozen=True)
class Header:
    mpeg1: bool
    bitrate: int
    """kbit/s"""
    sample_rate: int
    padding: bool
    channels: int
    crc: bool

    @property
    def size(self) -> int:
        """Bytes in the frame, header included."""
        slots = 144 if self.mpeg1 else 72
        return slots * self.bitrate * 1000 // self.sample_rate + self.padding

    @property
    def samples(self) -> int:
        """Samples a channel a frame: 1152 (MPEG-1) or 576 (MPEG-2 and 2.5, one granule)."""
        return 1152 if self.mpeg1 else 576

    @property
    def granules(self) -> int:
        return 2 if self.mpeg1 else 1

    @property
    def side_info(self) -> int:
        """Bytes of side information."""
        if self.mpeg1:
            return 17 if self.channels == 1 else 32
        return 9 if self.channels == 1 else 17

    @property
    def payload_start(self) -> int:
        """Where main data bytes begin, from the frame's start."""
        return HEADER + 2 * self.crc + self.side_info


def parse_header(data: bytes) -> Header:
    """The header in the first four bytes of ``data``."""
    if len(data) < HEADER:
        raise Mp3FormatError("a frame header cut short")
    word = int.from_bytes(data[:HEADER], "big")
    version, layer = word >> 19 & 3, word >> 17 & 3
    bitrate_index, rate_index = word >> 12 & 15, word >> 10 & 3
    if word >> 21 != 0x7FF or version == 1 or layer != 1:
        raise Mp3FormatError(f"not a layer III frame header: {bytes(data[:HEADER]).hex()}")
    if bitrate_index in (0, 15) or rate_index == 3:
        raise Mp3FormatError(f"a free-format or invalid frame header: {bytes(data[:4]).hex()}")
    mpeg1 = version == 3
    return Header(mpeg1=mpeg1, bitrate=_BITRATES[mpeg1][bitrate_index],
                  sample_rate=_SAMPLE_RATES[version][rate_index], padding=bool(word >> 9 & 1),
                  channels=1 if word >> 6 & 3 == 3 else 2, crc=not word >> 16 & 1)


def make_header(sample_rate: int, channels: int, kbps: int) -> bytes:
    """A layer III frame header at ``sample_rate`` and ``kbps``: no CRC, no padding byte,
    mono or joint stereo (as LAME chooses)."""
    version = next((v for v, rates in _SAMPLE_RATES.items() if sample_rate in rates), None)
    if version is None:
        raise Mp3FormatError(f"no MPEG audio frame has a rate of {sample_rate} Hz")
    bitrates = _BITRATES[version == 3]
    if kbps not in bitrates[1:]:
        raise Mp3FormatError(f"no layer III frame at {sample_rate} Hz has {kbps} kbit/s")
    mode = 3 if channels == 1 else 1
    word = (0x7FF << 21 | version << 19 | 1 << 17 | 1 << 16 | bitrates.index(kbps) << 12
            | _SAMPLE_RATES[version].index(sample_rate) << 10 | mode << 6)
    return word.to_bytes(HEADER, "big")


_SIZES: dict[bytes, int] = {}


def frame_size(data: bytes) -> int:
    """Bytes in the frame whose header opens ``data`` (fast: a stream has few headers)."""
    key = bytes(data[:HEADER])
    if (size := _SIZES.get(key)) is None:
        size = _SIZES[key] = parse_header(key).size
    return size


def samples_per_frame(sample_rate: int) -> int:
    """Samples a channel in a layer III frame at ``sample_rate`` (the encoder's output)."""
    return 1152 if sample_rate >= 32000 else 576


@dataclass(frozen=True)
class Frame:
    offset: int
    """Of the header, in its stream."""
    head: bytes
    """The header's four bytes."""
    header: Header
    main_data_begin: int
    """Bytes before this frame's payload where its main data begins."""
    main_data_bits: int
    """Sum of part2_3_length over granules and channels."""
    tag: bool = False
    """A Xing/Info frame: no audio."""

    @property
    def size(self) -> int:
        return self.header.size

    @property
    def payload(self) -> int:
        """Bytes of main data this frame carries (its own or later frames')."""
        return self.size - self.header.payload_start

    @property
    def main_data_length(self) -> int:
        return math.ceil(self.main_data_bits / 8)


class _Bits:
    """Reads big-endian bit fields one after another."""

    def __init__(self, data: bytes) -> None:
        self.value, self.left = int.from_bytes(data, "big"), 8 * len(data)

    def take(self, bits: int) -> int:
        self.left -= bits
        return self.value >> self.left & ((1 << bits) - 1)


def parse_frame(data: bytes, offset: int = 0) -> Frame:
    """The frame opening ``data`` (header, CRC and side info are enough)."""
    header = parse_header(data)
    start = HEADER + 2 * header.crc
    side = data[start : start + header.side_info]
    if len(side) < header.side_info:
        raise Mp3FormatError("a frame's side information cut short")
    bits = _Bits(side)
    mono = header.channels == 1
    if header.mpeg1:
        main_data_begin = bits.take(9)
        bits.take(5 if mono else 3)  # private bits
        bits.take(4 * header.channels)  # scfsi
    else:
        main_data_begin = bits.take(8)
        bits.take(1 if mono else 2)
    total = 0
    for _ in range(header.granules * header.channels):
        total += bits.take(12)  # part2_3_length
        bits.take(9 + 8 + (4 if header.mpeg1 else 9))  # big_values, gain, scalefac_compress
        # window switching: block type, mixed flag, 2 tables, 3 subblock gains; or else
        # 3 tables, region0 and region1 counts: 22 bits either way
        bits.take(1 + 22)
        bits.take(3 if header.mpeg1 else 2)  # (preflag), scalefac_scale, count1table
    payload = data[start + header.side_info : start + header.side_info + 4]
    tag = total == 0 and main_data_begin == 0 and bytes(payload) in TAGS
    return Frame(offset, bytes(data[:HEADER]), header, main_data_begin, total, tag)


def parse_stream(data: bytes) -> list[Frame]:
    """Every frame of a whole stream held in memory (for checks; files use ``FrameIndex``)."""
    frames, at = [], 0
    while at < len(data):
        frame = parse_frame(data[at : at + 64], at)
        if at + frame.size > len(data):
            raise Mp3FormatError(f"the last frame, at byte {at}, is cut short")
        frames.append(frame)
        at += frame.size
    return frames


class FrameIndex:
    """The offset of every frame of a stream written chunk by chunk, in 8 bytes a frame.

    Chunks need not end on frame boundaries: the few bytes of a header cut in two are
    kept for the next chunk.
    """

    def __init__(self) -> None:
        self.offsets = array("q")
        self.length = 0
        self.next = 0
        self.carry = b""

    def feed(self, chunk: bytes) -> None:
        base = self.length - len(self.carry)
        data = self.carry + chunk if self.carry else chunk
        self.length += len(chunk)
        at = self.next - base
        while at + HEADER <= len(data):
            self.offsets.append(base + at)
            at += frame_size(data[at : at + HEADER])
        self.next = base + at
        self.carry = bytes(data[at:]) if at < len(data) else b""

    def check_whole(self) -> None:
        """Raise unless the stream ends where its last frame does."""
        if self.next != self.length:
            raise Mp3FormatError(f"the stream ends inside a frame ({self.length} bytes, "
                                 f"the last frame ends at {self.next})")


def read_frames(file: BinaryIO, offsets: Sequence[int], first: int, end: int
                ) -> dict[int, Frame]:
    """Frames ``first`` to ``end`` (not included, and only those there are) of the stream
    in ``file``, by index."""
    frames = {}
    for index in range(max(first, 0), min(end, len(offsets))):
        file.seek(offsets[index])
        frames[index] = parse_frame(file.read(64), offsets[index])
    return frames


@dataclass(frozen=True)
class Seam:
    """Where two overlapping streams join, and the bytes that change at the join."""

    frame: int
    """Index of the first frame taken from the later stream, in the earlier stream's count."""
    later_frame: int
    """The same frame in the later stream's count."""
    cut: int
    """Offset in the earlier stream where it ends."""
    resume: int
    """Offset in the later stream where it is taken up."""
    source: tuple[tuple[int, int], ...]
    """(offset, length) in the later stream: the bytes its first kept frame reaches back
    for, in order."""
    target: tuple[tuple[int, int], ...]
    """(offset, length) in the earlier stream where those bytes go."""
    rewrite: tuple[tuple[int, bytes], ...] = ()
    """(offset, bytes) written into the earlier stream first: the header of its last frame
    made bigger to make room, and zeros for the room."""

    @property
    def moved(self) -> int:
        return sum(length for _, length in self.source)


def _before(frames: dict[int, Frame], index: int, count: int
            ) -> tuple[tuple[int, int], ...] | None:
    """(offset, length) in the file of the ``count`` main data bytes just before frame
    ``index``'s payload, in stream order; ``None`` if they lie before the frames given."""
    spans: list[tuple[int, int]] = []
    while count > 0:
        index -= 1
        if index not in frames:
            return None
        frame = frames[index]
        take = min(count, frame.payload)
        spans.append((frame.offset + frame.size - take, take))
        count -= take
    return tuple(reversed(spans))


def free_before(earlier: dict[int, Frame], index: int) -> int:
    """Main data bytes at the end of ``earlier``'s frames before ``index`` that none of
    them uses: those after the last one's own main data."""
    last = earlier[index - 1]
    return last.payload + last.main_data_begin - last.main_data_length


def grown(frame: Frame, extra: int) -> Frame | None:
    """``frame`` at the lowest higher bit rate that gives it ``extra`` bytes more room, if
    there is one (and it has no CRC, which covers the header)."""
    if frame.header.crc:
        return None
    word = int.from_bytes(frame.head, "big")
    for index in range((word >> 12 & 15) + 1, 15):
        head = (word & ~(15 << 12) | index << 12).to_bytes(HEADER, "big")
        header = parse_header(head)
        if header.size - frame.size >= extra:
            return dataclasses.replace(frame, head=head, header=header)
    return None


def _seam_at(earlier: dict[int, Frame], later: dict[int, Frame], index: int, theirs: int,
             grow: bool) -> Seam | str:
    """The seam before ``earlier[index]`` and ``later[theirs]``, growing the last earlier
    frame if ``grow`` and it must; else why not."""
    if index - 1 not in earlier or index not in earlier or theirs not in later:
        return f"frame {index}: not in both streams"
    first, last = later[theirs], earlier[index - 1]
    need, room = first.main_data_begin, free_before(earlier, index)
    rewrite: tuple[tuple[int, bytes], ...] = ()
    if need > room:
        bigger = grown(last, need - room) if grow else None
        if bigger is None:
            return f"frame {index}: {need} needed, {room} free"
        rewrite = ((last.offset, bigger.head), (last.offset + last.size,
                                                 bytes(bigger.size - last.size)))
        earlier = {**earlier, index - 1: bigger}
        last = bigger
    source, target = _before(later, theirs, need), _before(earlier, index, need)
    if source is None or target is None:
        return f"frame {index}: the reservoir reaches before the frames read"
    return Seam(index, theirs, last.offset + last.size, first.offset, source, target, rewrite)


def plan_seam(earlier: dict[int, Frame], later: dict[int, Frame], shift: int,
              candidates: Iterable[int]) -> Seam:
    """Join ``earlier`` to ``later`` at the first of ``candidates`` (frame indexes in the
    earlier stream's count; ``shift`` frames less in the later one's) where the earlier
    stream has room for the reservoir the later stream's frame reaches back for; if none
    has, at the first where a bigger last frame (a higher bit rate) makes the room.

    ``earlier`` and ``later`` map frame indexes to the frames around the candidates.
    """
    indexes = list(candidates)
    for grow in (False, True):
        tried = [_seam_at(earlier, later, index, index - shift, grow) for index in indexes]
        if seam := next((s for s in tried if isinstance(s, Seam)), None):
            return seam
    why = "; ".join(str(reason) for reason in tried[:3]) + ("; ..." if len(tried) > 3 else "")
    raise SpliceError("no frame boundary at the seam has room for the next part's bit "
                      f"reservoir, even in a bigger frame ({why})")


def apply_seam(earlier: BinaryIO, later: BinaryIO, seam: Seam) -> None:
    """Copy the reservoir bytes of ``later`` into the free end of ``earlier`` and cut
    ``earlier`` at the seam; ``later`` is then to be appended from ``seam.resume``."""
    moved = bytearray()
    for offset, length in seam.source:
        later.seek(offset)
        moved += later.read(length)
    for offset, data in seam.rewrite:
        earlier.seek(offset)
        earlier.write(data)
    at = 0
    for offset, length in seam.target:
        earlier.seek(offset)
        earlier.write(moved[at : at + length])
        at += length
    earlier.truncate(seam.cut)
    earlier.seek(seam.cut)
