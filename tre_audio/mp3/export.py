"""Write the session's MP3: LAME in parts joined into one stream, the Info frame, ID3
tags and chapters."""

from __future__ import annotations

import itertools
import math
import os
import queue
import shutil
import tempfile
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import lameenc
import numpy as np
from mutagen import MutagenError
from mutagen.id3 import (APIC, CHAP, COMM, CTOC, ID3, TALB, TCON, TDRC, TIT2, TPE1, TRCK,
                         CTOCFlags, PictureType)

from . import lametag
from ..errors import OutputError
from .frames import (HEADER, Frame, FrameIndex, Mp3FormatError, Seam, SpliceError,
                     apply_seam, make_header, parse_frame, plan_seam, read_frames,
                     samples_per_frame)
from ..narration.plan import ChapterMark

PARTS = 4
"""Most parts a session is encoded in at once."""
PARALLEL_SECONDS = 120.0
"""Sessions shorter than this are encoded in one part: splitting would gain little."""
OVERLAP_FRAMES = 40
"""Frames each part encodes past its nominal seam, and the next one before it: LAME's
state has settled by the seam (a part's frames got the bits a single stream's did
within 30 frames of its start, measured on a session)."""
SEAM_SEARCH = 16
"""Frame boundaries tried, from the nominal seam on, for one where the reservoir fits."""
RESERVOIR_FRAMES = 24
"""Frames read before a seam for the reservoir's bytes (up to 511 of them)."""
BITRATE = 64
"""kbit/s a channel: ample for one voice over a soft bed at 22.05 kHz."""
LAME_SCALE = 0.95
"""lameenc's LAME scales its input by 0.95 (-0.45 dB, measured on sines and sessions at
every quality and bit rate); blocks are raised by as much, so the file plays at the
level it was mastered to."""
QUALITY = 7
"""LAME's speed/quality trade-off: 7 encoded 30 minutes in 2.5 s against 4.7 s at 5,
with the same error over speech (segmental SNR 24.9 against 24.2 dB)."""
CRC_CHUNK = 4 << 20
"""Bytes of the finished stream read at a time for the Info frame's CRC."""


@dataclass(frozen=True)
class Tags:
    title: str
    album: str
    date: str
    comment: str
    artist: str = "tre-audio"
    language: str = "eng"
    """Of the comment: ISO 639-2."""
    track: str = ""
    """In a course: its number and the count (``3/12``); '' for none."""
    cover: bytes = b""
    """The front cover, a JPEG (b'' for none)."""


def _encoder_failed(error: BaseException) -> OutputError:
    """An error of the MP3 encoder (LAME), as one line; disk errors stay ``OSError``."""
    why = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return OutputError(f"the MP3 encoder failed: {why}")


def default_parts() -> int:
    """How many parts a long session is encoded in at once: one a core, at most ``PARTS``."""
    return max(1, min(os.cpu_count() or 1, PARTS))


@dataclass(frozen=True)
class Part:
    """What one encoder of a session split in parts is fed, and what it stands for."""

    start: int
    """First sample fed (a whole number of frames into the session)."""
    end: int
    """Sample after the last one fed: ``OVERLAP_FRAMES`` past its stretch, but the last."""
    own_start: int
    """First sample of the stretch between its nominal seams."""
    own_end: int


def plan_parts(length: int, count: int, frame: int, grid: int = 1) -> tuple[Part, ...]:
    """``length`` samples in ``count`` parts (fewer if they would be too short), their
    nominal seams on multiples of both ``frame`` and ``grid``."""
    unit = math.lcm(frame, grid)
    overlap = OVERLAP_FRAMES * frame
    inner = {round(length * i / count / unit) * unit for i in range(1, count)}
    seams = [0, *sorted(s for s in inner if 2 * overlap < s < length - 2 * overlap), length]
    return tuple(Part(max(a - overlap, 0), min(b + overlap, length), a, b)
                 for a, b in itertools.pairwise(seams))


def new_encoder(sample_rate: int, channels: int) -> lameenc.Encoder:
    """A LAME encoder at tre-audio's settings (bit rate a channel, quality)."""
    try:
        encoder = lameenc.Encoder()
        encoder.set_bit_rate(BITRATE * channels)
        encoder.set_in_sample_rate(sample_rate)
        encoder.set_channels(channels)
        encoder.set_quality(QUALITY)
    except Exception as error:  # lameenc raises its own untyped errors
        raise _encoder_failed(error) from None
    return encoder


def _tag_room(sample_rate: int, channels: int) -> bytes:
    try:
        return lametag.placeholder(make_header(sample_rate, channels, BITRATE * channels))
    except Mp3FormatError as error:
        raise OutputError(f"cannot write an MP3 at {sample_rate} Hz: {error}") from None


class _Encoding:
    """One LAME in a thread of its own (it releases the GIL), fed through a queue of at
    most two blocks; what it writes is indexed frame by frame, if it is to be joined.
    ``lead`` is written ahead of the stream; a tag frame the encoder opens its stream with
    is left out (the writer makes its own)."""

    def __init__(self, encoder: lameenc.Encoder, write: Callable[[bytes], object],
                 index: FrameIndex | None = None, lead: bytes = b"") -> None:
        self.encoder = encoder
        self.write = write
        self.index = index
        self.lead: bytes | None = lead
        """Written with the first bytes of the stream; ``None`` once they are."""
        self.blocks: queue.Queue[bytes | None] = queue.Queue(maxsize=2)
        self.failure: BaseException | None = None
        self.thread = threading.Thread(target=self._encode, name="mp3", daemon=True)
        self.thread.start()

    def _output(self, data: bytes) -> None:
        if self.lead is not None and data:
            lead, self.lead = self.lead, None
            if len(data) > HEADER and (first := parse_frame(data[:64])).tag:
                data = data[first.size :]
            data = lead + data
        self.write(data)
        if self.index is not None:
            self.index.feed(data)

    def _encode(self) -> None:
        ended = encoded = False
        try:
            while (pcm := self.blocks.get()) is not None:
                self._output(self.encoder.encode(pcm))
                encoded = True
            ended = True
            if encoded:  # LAME refuses to flush what it never started
                self._output(self.encoder.flush())
        except BaseException as error:  # handed to the writing thread
            self.failure = error if isinstance(error, OSError) else _encoder_failed(error)
            while not ended and self.blocks.get() is not None:  # so write() never blocks
                pass

    def finish(self) -> None:
        self.blocks.put(None)
        self.thread.join()

    def offsets(self) -> Sequence[int]:
        """Where each frame it wrote begins, once it has finished."""
        if self.index is None:
            raise RuntimeError("the encoding of a part was not indexed")
        self.index.check_whole()
        return self.index.offsets


class Mp3Writer:
    """Encodes float blocks in [-1, 1] (mono (n,) or stereo (n, 2)) into an MP3 file.

    Written block after block, the file is one LAME stream, encoded in a thread while
    the next block is mixed. A long session can instead be ``split`` into parts, fed in
    turn and encoded at once on as many cores; each part runs past its seam into the
    next, and at the end they are joined into one stream at a frame boundary, the bit
    reservoir moved across (``mp3frames``), so the seam neither gaps nor clicks. Part 0
    is written into the file, the others into hidden nameless files beside it. At most
    two blocks a part wait, so memory stays flat.
    """

    def __init__(self, path: Path, sample_rate: int, channels: int = 1,
                 parts: int | None = None) -> None:
        self.path, self.rate, self.channels = path, sample_rate, channels
        self.most = parts or default_parts()
        encoder = new_encoder(sample_rate, channels)
        self.tag = _tag_room(sample_rate, channels)
        """The Info frame's room at the start of the file, filled in at the end."""
        self.file: BinaryIO = path.open("w+b")
        self.parts: tuple[Part, ...] = ()
        self.others: list[BinaryIO] = []
        """The files of parts 1 on."""
        self.written = False
        self.fed = 0
        """Samples a channel given to part 0."""
        self.joins: list[int] = []
        """Where each part after the first begins in the session, in samples: where a
        gapless decoder (which trims LAME's delay) gives the join."""
        # looked up at each write: a test may replace self.file
        self.encodings = [_Encoding(encoder, lambda data: self.file.write(data), FrameIndex(),
                                    lead=self.tag)]

    def split(self, length: int, grid: int = 1) -> tuple[Part, ...]:
        """Plan ``length`` samples in parts, nominal seams on multiples of ``grid`` (and
        of the MP3 frame); blocks of part ``i`` then go to ``write(block, i)``, in order
        within the part. One part if the session is short or one core is all there is."""
        if self.written or self.parts:
            raise RuntimeError("split an Mp3Writer once, before writing to it")
        count = self.most if length >= PARALLEL_SECONDS * self.rate else 1
        self.parts = plan_parts(length, count, samples_per_frame(self.rate), grid)
        for _ in self.parts[1:]:
            encoder = new_encoder(self.rate, self.channels)
            file = self._hidden_file()
            self.others.append(file)
            self.encodings.append(_Encoding(encoder, file.write, FrameIndex()))
        return self.parts

    def _hidden_file(self) -> BinaryIO:
        """A file beside the MP3 (so on its disk), nameless where the system allows it,
        else hidden and removed when closed."""
        return tempfile.TemporaryFile(dir=self.path.parent, prefix=f".{self.path.name}.",
                                      suffix=".part")

    def write(self, block: np.ndarray, part: int = 0) -> None:
        if (failure := self._failure()) is not None:
            raise failure
        pcm = np.clip(np.round(block * (32767 / LAME_SCALE)), -32768, 32767).astype("<i2")
        self.written = True
        if part == 0:
            self.fed += len(block)
        self.encodings[part].blocks.put(pcm.tobytes())

    def _failure(self) -> BaseException | None:
        return next((e.failure for e in self.encodings if e.failure is not None), None)

    def __enter__(self) -> Mp3Writer:
        return self

    def __exit__(self, kind: object, *rest: object) -> None:
        try:
            for encoding in self.encodings:
                encoding.finish()
            if kind is None:
                if (failure := self._failure()) is not None:
                    raise failure
                if self.written:
                    self._write_tag(self._join())
                self.file.flush()
                os.fsync(self.file.fileno())
        finally:
            self.file.close()
            for file in self.others:
                file.close()

    def _join(self) -> int:
        """Join the parts' streams into the file, at a seam near each nominal one; returns
        how many frames the file holds."""
        if not self.others:
            try:
                return len(self.encodings[0].offsets())
            except Mp3FormatError as error:
                raise OutputError(f"the MP3 encoder's stream is broken: {error}") from None
        files = [self.file, *self.others]
        frame = samples_per_frame(self.rate)
        try:
            offsets = [encoding.offsets() for encoding in self.encodings]
            for file in files:
                file.flush()
            firsts = [_first_frame(file, where) for file, where in zip(files, offsets)]
            if any(first.header.sample_rate != self.rate for first in firsts):
                raise Mp3FormatError(f"LAME did not keep the rate of {self.rate} Hz")
            # a Xing/Info frame ahead of the audio would put a stream's count one off
            leads = [int(first.tag) for first in firsts]
            seams = [self._seam(files, offsets, leads, i) for i in range(len(files) - 1)]
        except (Mp3FormatError, SpliceError) as error:
            raise OutputError(f"cannot join the parts of the MP3: {error}") from None
        delay = lametag.ENCODER_DELAY + lametag.DECODER_DELAY
        for i, seam in enumerate(seams):
            apply_seam(files[i], files[i + 1], seam)
            self.joins.append((seam.frame - leads[i]) * frame + self.parts[i].start - delay)
        self.file.seek(0, os.SEEK_END)
        for file, seam in zip(self.others, seams):
            file.seek(seam.resume)
            shutil.copyfileobj(file, self.file)
        kept = [seams[0].frame, *(b.frame - a.later_frame for a, b in itertools.pairwise(seams)),
                len(offsets[-1]) - seams[-1].later_frame]
        return sum(kept)

    def _write_tag(self, frames: int) -> None:
        """Fill in the Info frame at the start of the file (one of its ``frames``) now
        that the stream is whole."""
        size = len(self.tag)
        self.file.flush()
        end = self.file.seek(0, os.SEEK_END)
        self.file.seek(size)
        head, crc = b"", 0
        while chunk := self.file.read(CRC_CHUNK):
            head = head or chunk[:HEADER]  # the first audio frame's
            crc = lametag.crc16(chunk, crc)
        samples = self.parts[-1].end if len(self.parts) > 1 else self.fed
        try:
            tag = lametag.info_frame(head, frames - 1, end, samples, crc, QUALITY)
        except Mp3FormatError as error:
            raise OutputError(f"cannot write the MP3's Info frame: {error}") from None
        if len(tag) != size:
            raise OutputError(f"the MP3's Info frame needs {len(tag)} bytes, not {size}")
        self.file.seek(0)
        self.file.write(tag)

    def _seam(self, files: list[BinaryIO], offsets: list[Sequence[int]], leads: list[int],
              i: int) -> Seam:
        """Where part ``i`` hands over to part ``i + 1``: at a frame boundary from the
        nominal seam on where the reservoir fits (``plan_seam``)."""
        frame = samples_per_frame(self.rate)
        earlier, later = self.parts[i : i + 2]
        first = earlier.own_end // frame - earlier.start // frame + leads[i]
        shift = (later.start - earlier.start) // frame + leads[i] - leads[i + 1]
        return plan_seam(_frames_near(files[i], offsets[i], first),
                         _frames_near(files[i + 1], offsets[i + 1], first - shift), shift,
                         range(first, first + SEAM_SEARCH))


def _frames_near(file: BinaryIO, offsets: Sequence[int], first: int) -> dict[int, Frame]:
    """The frames a seam from frame ``first`` on may need."""
    return read_frames(file, offsets, first - RESERVOIR_FRAMES, first + SEAM_SEARCH)


def _first_frame(file: BinaryIO, offsets: Sequence[int]) -> Frame:
    if not offsets:
        raise Mp3FormatError("a part was never written to")
    return read_frames(file, offsets, 0, 1)[0]


class _TimeOrderedID3(ID3):
    """ID3 that writes frames in the order they were added.

    mutagen sorts frames by size, which scatters CHAP frames; ffprobe and players that
    ignore the CTOC then list chapters out of time order.
    """

    def _write(self, config):  # type: ignore[no-untyped-def]
        from mutagen.id3._tags import save_frame

        return bytearray().join(save_frame(f, config=config) for f in self.values())


def tag_mp3(path: Path, tags: Tags, chapters: Sequence[ChapterMark]) -> None:
    """Write ID3v2.3 tags and one chapter per ``ChapterMark``, in time order."""
    id3 = _TimeOrderedID3()
    id3.add(TIT2(encoding=3, text=tags.title))
    id3.add(TPE1(encoding=3, text=tags.artist))
    id3.add(TALB(encoding=3, text=tags.album))
    id3.add(TDRC(encoding=3, text=tags.date))
    id3.add(COMM(encoding=3, lang=tags.language, desc="", text=tags.comment))
    if tags.track:
        id3.add(TRCK(encoding=3, text=tags.track))
    if tags.cover:
        id3.add(APIC(encoding=3, mime="image/jpeg", type=PictureType.COVER_FRONT,
                     desc="Cover", data=tags.cover))
    ids = [f"ch{i:02d}" for i in range(len(chapters))]
    id3.add(
        CTOC(
            element_id="toc",
            flags=CTOCFlags.TOP_LEVEL | CTOCFlags.ORDERED,
            child_element_ids=ids,
            sub_frames=[TIT2(encoding=3, text=tags.title)],
        )
    )
    for element, mark in zip(ids, chapters):
        id3.add(
            CHAP(
                element_id=element,
                start_time=int(round(mark.start * 1000)),
                end_time=int(round(mark.end * 1000)),
                sub_frames=[TIT2(encoding=3, text=mark.title)],
            )
        )
    id3.update_to_v23()  # the date as TYER: v2.3 readers (eyeD3) show no TDRC
    # ID3v1 genre 101, Speech, by its number: players name it in their own language
    # (added after the update, which would write the English name)
    id3.add(TCON(encoding=3, text="(101)"))
    try:
        id3.save(path, v2_version=3)
    except MutagenError as error:  # mutagen wraps the OS's errors (a full disk) in its own
        cause = error.__cause__ or error.__context__
        if isinstance(cause, OSError):
            raise cause from None  # atomic_file names the file and the reason
        raise OutputError(f"cannot write the tags of {path}: {error}") from None
