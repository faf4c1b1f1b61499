"""MP3 frames, and a session encoded in parts and joined into one stream.

Measured with real LAME (lameenc) and decoded by a real decoder (ffmpeg): the joined
stream decodes without a complaint, as long as a single stream, and around each seam
as close to the source as a single stream is, with no gap. The same measures fail a
naive concatenation of streams encoded apart, so they can fail.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import lameenc
import numpy as np
import pytest

from measure import Blocks
from measure import decode_saying as decode
from tre_audio.mp3 import export, frames as mp3frames
from tre_audio.errors import OutputError
from tre_audio.mp3.export import Mp3Writer, plan_parts
from tre_audio.sound.loudness import LoudnessMeter
from tre_audio.sound.master import Master
from tre_audio.mp3.frames import (FrameIndex, SpliceError, parse_frame, parse_header,
                                  parse_stream, plan_seam)

RATE = 22050
FRAME = 576
DELAY = 576 + 529
"""LAME's encoder delay and the decoder's: where the source begins in ffmpeg's decode
of a stream with no Info frame to trim them (LAME's own, as ``lame`` makes). The
writer's files have one, so there the source begins at the first sample."""
SECONDS = 64.0
"""Ten spans of 6.4 s, the grid nominal seams lie on (frames and 100 ms steps)."""
WINDOW = RATE // 100
NEAR = RATE // 10
"""Windows of 10 ms are checked within 100 ms of each seam."""


def lame(samples: np.ndarray, rate: int = RATE, channels: int = 1) -> bytes:
    """``samples`` (int16, (n,) or (n, channels)) as one stream, as the writer sets LAME."""
    encoder = lameenc.Encoder()
    encoder.set_bit_rate(export.BITRATE * channels)
    encoder.set_in_sample_rate(rate)
    encoder.set_channels(channels)
    encoder.set_quality(export.QUALITY)
    return bytes(encoder.encode(samples.astype("<i2").tobytes()) + encoder.flush())


def power_db(x: np.ndarray) -> float:
    return float(10 * np.log10(np.mean(np.square(x)) + 1e-20))


# --- frames --------------------------------------------------------------------------


def noise(seconds: float, level: float, channels: int = 1, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    shape = (int(seconds * RATE), channels) if channels > 1 else (int(seconds * RATE),)
    return np.clip(rng.normal(0, level * 32767, shape), -32768, 32767)


def speech_over_noise(seconds: float, channels: int = 1) -> np.ndarray:
    """Bursts of noise 20 dB over a quiet bed: the reservoir fills and drains."""
    x = noise(seconds, 0.01, channels)
    for start in np.arange(0.5, seconds - 1, 2.0):
        at = slice(int(start * RATE), int((start + 1) * RATE))
        x[at] = noise(1, 0.1, channels, seed=int(start))
    return x


@pytest.mark.parametrize(("rate", "channels", "mpeg1"),
                         [(22050, 1, False), (22050, 2, False), (44100, 1, True),
                          (44100, 2, True)])
def test_frames_of_a_real_stream_fill_it_and_their_main_data_fits(rate, channels, mpeg1):
    source = speech_over_noise(12, channels)
    data = lame(source, rate, channels)
    frames = parse_stream(data)
    assert sum(frame.size for frame in frames) == len(data)
    assert {(f.header.mpeg1, f.header.sample_rate, f.header.channels, f.header.bitrate)
            for f in frames} == {(mpeg1, rate, channels, export.BITRATE * channels)}
    samples = frames[0].header.samples
    assert samples == (1152 if mpeg1 else 576)
    assert 0 <= len(frames) * samples - len(source) <= 3 * samples  # delay and padding only
    assert not any(frame.tag for frame in frames)  # lameenc writes no Xing/Info frame
    assert len({f.main_data_begin for f in frames}) > 20  # the reservoir is in use
    # each frame's main data lies after the one before's and before the next header;
    # LAME packs them end to end, which a misread side info would not show
    stream = 0  # main data bytes before the frame's payload
    previous_end = 0
    packed = 0
    for frame in frames:
        begins = stream - frame.main_data_begin
        assert previous_end <= begins
        packed += previous_end == begins
        previous_end = begins + frame.main_data_length
        stream += frame.payload
        assert previous_end <= stream
    assert packed > 0.85 * len(frames)


def test_the_index_of_a_stream_fed_in_any_chunks_finds_every_frame():
    data = lame(speech_over_noise(5))
    offsets = [frame.offset for frame in parse_stream(data)]
    rng = np.random.default_rng(1)
    for _ in range(5):
        index = FrameIndex()
        cuts = np.sort(rng.integers(0, len(data), 40))
        for a, b in zip([0, *cuts], [*cuts, len(data)]):
            index.feed(data[a:b])
        index.check_whole()
        assert list(index.offsets) == offsets
    index = FrameIndex()
    index.feed(data[:-1])
    with pytest.raises(mp3frames.Mp3FormatError, match="ends inside a frame"):
        index.check_whole()


def test_a_xing_frame_and_garbage_are_told_apart():
    header = bytes.fromhex("fff380c4")
    info = parse_frame(header + bytes(9) + b"Info" + bytes(200))
    assert info.tag and info.main_data_bits == 0
    assert not parse_frame(header + bytes(9) + b"abcd").tag
    assert parse_header(header).size == 208 and parse_header(header).side_info == 9
    for bad in (b"ID3\x03", bytes.fromhex("fffb0000"), bytes.fromhex("fff3f0c4")):
        with pytest.raises(mp3frames.Mp3FormatError):
            parse_header(bad)


# --- joining -------------------------------------------------------------------------


def pink(n: int, rng: np.random.Generator) -> np.ndarray:
    spectrum = np.fft.rfft(rng.standard_normal(n))
    spectrum[1:] /= np.sqrt(np.arange(1, len(spectrum)))
    spectrum[0] = 0
    x = np.fft.irfft(spectrum, n)
    return x / np.sqrt(np.mean(x**2))


def voice(seconds: float, rng: np.random.Generator) -> np.ndarray:
    """Something like speech at about -20 dBFS: harmonics of a gliding pitch, shaped
    into syllables four or five times a second."""
    t = np.arange(int(seconds * RATE)) / RATE
    pitch = 140 + 30 * np.sin(2 * np.pi * 0.3 * t + rng.uniform(0, 6))
    phase = 2 * np.pi * np.cumsum(pitch) / RATE
    x = sum(np.sin(k * phase) / k for k in range(1, 25) if k * 180 < RATE / 2)
    syllables = np.sin(np.pi * 4.5 * t) ** 2
    x = x * syllables
    return 0.1 * x / np.sqrt(np.mean(x**2))


BURSTS = [(1.0, 5.0), (7.0, 12.5), (14.0, 18.6), (20.5, 26.0), (36.0, 39.0), (42.0, 47.0),
          (50.0, 55.5), (57.0, 62.0)]
"""Speech: the seam at 19.2 s falls in the bed alone, the one at 44.8 s in speech."""
LOUD = (30.5, 34.0)
"""A loud tone and noise across the seam at 32 s."""


@pytest.fixture(scope="module")
def source() -> np.ndarray:
    """Speech-like bursts over pink noise at -35 dBFS, and a loud passage: floats."""
    rng = np.random.default_rng(7)
    n = int(SECONDS * RATE)
    x = 10 ** (-35 / 20) * pink(n, rng)
    for start, end in BURSTS:
        at = slice(int(start * RATE), int(end * RATE))
        x[at] += voice(end - start, rng)
    at = slice(int(LOUD[0] * RATE), int(LOUD[1] * RATE))
    t = np.arange(at.stop - at.start) / RATE
    x[at] += 0.55 * np.sin(2 * np.pi * 330 * t) + 0.2 * rng.uniform(-1, 1, len(t))
    assert np.max(np.abs(x)) < 0.9
    return x.astype(np.float32)


def test_the_signal_puts_its_seams_where_meant():
    assert [p.own_start / RATE for p in plan_parts(int(SECONDS * RATE), 2, FRAME, 2205)
            ] == [0.0, 32.0]
    assert [p.own_start / RATE for p in plan_parts(int(SECONDS * RATE), 3, FRAME, 2205)
            ] == [0.0, 19.2, 44.8]


def write(path: Path, source: np.ndarray, parts: int, block: int = 7 * RATE) -> Mp3Writer:
    """``source`` through an Mp3Writer in ``parts``, fed a block a part in turn."""
    with Mp3Writer(path, RATE, parts=parts) as writer:
        plan = writer.split(len(source), 2205)
        assert len(plan) == parts
        feeds = [list(range(part.start, part.end, block)) for part in plan]
        for turn in range(max(len(feed) for feed in feeds)):
            for index, (part, feed) in enumerate(zip(plan, feeds)):
                if turn < len(feed):
                    writer.write(source[feed[turn] : min(feed[turn] + block, part.end)], index)
    return writer


@pytest.fixture(scope="module")
def single(source, tmp_path_factory) -> np.ndarray:
    path = tmp_path_factory.mktemp("single") / "single.mp3"
    write(path, source, 1)
    decoded, said = decode(path)
    assert said == ""
    return decoded


def aligned(source: np.ndarray, length: int) -> np.ndarray:
    """The source where a gapless decoder gives a writer's file: from the first sample."""
    out = np.zeros(length)
    out[: min(length, len(source))] = source[:length]
    return out


def seam_faults(decoded: np.ndarray, single: np.ndarray, source: np.ndarray,
                seams: list[int], margin_db: float = 3.0) -> list[str]:
    """What is wrong with ``decoded`` around ``seams`` (samples into the decode) against
    the single stream's decode: its length, a 10 ms window within 100 ms of a seam
    whose error against the source is ``margin_db`` over the single stream's (a click,
    a misplaced frame), or whose level is as far under it (a gap)."""
    faults = []
    if len(decoded) != len(single):
        faults.append(f"{len(decoded)} samples decoded, {len(single)} in one stream")
    reference = aligned(source, len(single))
    padded = np.zeros(len(single))
    padded[: min(len(decoded), len(single))] = decoded[: len(single)]
    for seam in seams:
        for start in range(seam - NEAR, seam + NEAR, WINDOW):
            at = slice(start, start + WINDOW)
            error = power_db(padded[at] - reference[at])
            codec = power_db(single[at] - reference[at])
            if error > codec + margin_db:
                faults.append(f"error {error:.1f} dB against {codec:.1f} at "
                              f"{start / RATE:.3f} s")
            level, level_single = power_db(padded[at]), power_db(single[at])
            if level < level_single - margin_db:
                faults.append(f"level {level:.1f} dB against {level_single:.1f} at "
                              f"{start / RATE:.3f} s")
    return faults


@pytest.mark.parametrize("parts", [2, 3])
def test_a_stream_joined_from_parts_decodes_as_one_stream(parts, source, single, tmp_path,
                                                          parallel):
    path = tmp_path / "joined.mp3"
    writer = write(path, source, parts)
    decoded, said = decode(path)
    assert said == ""  # no overread, no invalid backstep
    assert len(decoded) == len(single)
    assert len(writer.joins) == parts - 1
    for join, part in zip(writer.joins, writer.parts[1:]):  # the seam's frame, decoded
        assert part.own_start - DELAY <= join < part.own_start - DELAY + export.SEAM_SEARCH * FRAME
    assert seam_faults(decoded, single, source, writer.joins) == []
    # the codec's own error, for the measure's scale: speech over a bed, ~25 dB under it
    reference = aligned(source, len(single))
    assert power_db(single - reference) < power_db(reference) - 20
    # before the first seam, the file is the single stream's encoding
    away = slice(5 * RATE, 10 * RATE)
    assert power_db(decoded[away] - single[away]) < power_db(single[away]) - 60


def test_the_measures_fail_a_naive_concatenation(source, single, tmp_path):
    parts = plan_parts(len(source), 2, FRAME, 2205)
    scaled = np.round(source * (32767 / export.LAME_SCALE))
    path = tmp_path / "naive.mp3"
    path.write_bytes(b"".join(lame(scaled[p.own_start : p.own_end]) for p in parts))
    decoded, said = decode(path)
    faults = seam_faults(decoded[DELAY:], single, source, [parts[1].own_start])
    assert faults[0].endswith("in one stream")  # longer by the delays and padding
    assert any(fault.startswith("level") for fault in faults)  # the gap
    assert any(fault.startswith("error") for fault in faults)


def test_the_measures_fail_a_seam_without_its_reservoir(source, single, tmp_path, parallel,
                                                        monkeypatch):
    """The bytes the first frame after a seam reaches back for are what makes it right."""
    real = export.plan_seam

    def without_reservoir(*args, **kwargs):
        return dataclasses.replace(real(*args, **kwargs), source=(), target=())

    monkeypatch.setattr(export, "plan_seam", without_reservoir)
    path = tmp_path / "cut.mp3"
    writer = write(path, source, 2)
    decoded, said = decode(path)
    assert seam_faults(decoded, single, source, writer.joins)


def _overlap(source: np.ndarray):
    """Frames of the single stream and of a stream begun 40 frames before the seam at
    32 s, by index in the single stream's count."""
    scaled = np.round(source * (32767 / export.LAME_SCALE))
    start = int(32 * RATE) - export.OVERLAP_FRAMES * FRAME
    earlier = {i: f for i, f in enumerate(parse_stream(lame(scaled)))}
    later = {i: f for i, f in enumerate(parse_stream(lame(scaled[start:])))}
    return earlier, later, start // FRAME


def test_a_seam_moves_on_to_a_frame_where_the_reservoir_fits(source):
    earlier, later, shift = _overlap(source)
    seam = int(32 * RATE) // FRAME
    window = range(seam - 30, seam + 30)
    fits = [mp3frames.free_before(earlier, i) >= later[i - shift].main_data_begin
            for i in window]
    assert any(fits) and not all(fits)  # real frames where it does not fit
    cramped = next(i for i, fit in zip(window, fits) if not fit)
    moved = next(i for i, fit in zip(window, fits) if fit and i > cramped)
    joined = plan_seam(earlier, later, shift, range(cramped, cramped + 30))
    assert joined.frame == moved and joined.later_frame == moved - shift
    assert joined.moved == later[moved - shift].main_data_begin and joined.rewrite == ()
    assert joined.cut == earlier[moved].offset and joined.resume == later[moved - shift].offset
    assert sum(length for _, length in joined.target) == joined.moved


def test_where_no_frame_has_room_the_last_one_before_the_seam_grows(source):
    earlier, later, shift = _overlap(source)
    seam = int(32 * RATE) // FRAME
    cramped = next(i for i in range(seam - 30, seam + 30)
                   if mp3frames.free_before(earlier, i) < later[i - shift].main_data_begin)
    joined = plan_seam(earlier, later, shift, [cramped])
    last = earlier[cramped - 1]
    (at, head), (room, zeros) = joined.rewrite
    bigger = parse_header(head)
    assert at == last.offset and room == earlier[cramped].offset
    assert bigger.bitrate == 80 and bigger.size == last.size + len(zeros)
    assert joined.cut == last.offset + bigger.size
    assert joined.target[-1][0] + joined.target[-1][1] == joined.cut
    # a frame with a CRC (over its header) is not grown: then there is no seam here
    header = dataclasses.replace(last.header, crc=True)
    protected = {**earlier, cramped - 1: dataclasses.replace(last, header=header)}
    with pytest.raises(SpliceError, match=f"no frame boundary at the seam has room for the "
                                          f"next part's bit reservoir, even in a bigger frame "
                                          f"\\(frame {cramped}: \\d+ needed, \\d+ free\\)"):
        plan_seam(protected, later, shift, [cramped])


def test_a_writer_moves_a_seam_whose_first_boundary_has_no_room(source, single, tmp_path,
                                                                parallel, monkeypatch):
    real = mp3frames.free_before
    asked: list[int] = []

    def cramped(earlier, index):
        asked.append(index)
        return -1 if len(asked) == 1 else real(earlier, index)

    monkeypatch.setattr(mp3frames, "free_before", cramped)
    path = tmp_path / "moved.mp3"
    writer = write(path, source, 2)
    assert writer.joins[0] > writer.parts[1].own_start - DELAY  # not the first boundary
    decoded, said = decode(path)
    assert said == "" and seam_faults(decoded, single, source, writer.joins) == []


def test_a_writer_grows_a_frame_where_no_boundary_has_room(source, single, tmp_path, parallel,
                                                           monkeypatch):
    monkeypatch.setattr(mp3frames, "free_before", lambda earlier, index: -1)
    path = tmp_path / "grown.mp3"
    writer = write(path, source, 3)
    frames = parse_stream(path.read_bytes())
    assert sum(f.header.bitrate != export.BITRATE for f in frames) == 2  # one a seam
    decoded, said = decode(path)
    assert said == "" and seam_faults(decoded, single, source, writer.joins) == []


def test_a_seam_with_room_nowhere_is_a_clear_error(source, tmp_path, parallel, monkeypatch):
    monkeypatch.setattr(mp3frames, "free_before", lambda earlier, index: -1000)
    with pytest.raises(OutputError, match="cannot join the parts of the MP3: no frame boundary "
                                          "at the seam has room for the next part's bit "
                                          r"reservoir, even in a bigger frame \(frame \d+: "
                                          r"\d+ needed, -1000 free;"):
        write(tmp_path / "x.mp3", source, 2)
    assert entries(tmp_path) == ["x.mp3"]


# --- the writer ----------------------------------------------------------------------


def entries(folder: Path) -> list[str]:
    """What is in ``folder``, hidden files too (but the fixtures' working folder)."""
    return sorted(p.name for p in folder.iterdir() if p.name != "work")


@pytest.mark.parametrize("parts", [2, 3, 4])
def test_a_writer_in_parts_writes_what_one_in_sequence_does(parts, source, single, tmp_path,
                                                            parallel):
    writer = write(tmp_path / "s.mp3", source, parts)
    decoded, said = decode(tmp_path / "s.mp3")
    assert said == "" and len(decoded) == len(single)
    assert abs(power_db(decoded) - power_db(single)) < 0.01
    assert entries(tmp_path) == ["s.mp3"]
    assert all(file.closed for file in writer.others) and len(writer.others) == parts - 1


def test_a_stereo_writer_in_parts(source, tmp_path, parallel):
    stereo = np.stack([source, 0.7 * source], axis=1)
    paths = {parts: tmp_path / f"{parts}.mp3" for parts in (1, 3)}
    for parts, path in paths.items():
        with Mp3Writer(path, RATE, channels=2, parts=parts) as writer:
            for index, part in enumerate(writer.split(len(stereo), 2205)):
                for start in range(part.start, part.end, 5 * RATE):
                    writer.write(stereo[start : min(start + 5 * RATE, part.end)], index)
    (single, _), (decoded, said) = decode(paths[1]), decode(paths[3])
    assert said == "" and len(decoded) == len(single)
    assert {f.header.channels for f in parse_stream(paths[3].read_bytes())} == {2}
    assert seam_faults(decoded, single, 0.85 * source, writer.joins) == []


class _Tagged:
    """lameenc's Encoder whose stream opens with an Info frame, as LAME's own tag: the
    first one made or, ``every``, each one."""

    made = 0
    every = True

    def __init__(self) -> None:
        type(self).made += 1
        self.real, self.tagged = _REAL_ENCODER(), self.every or self.made == 1

    def __getattr__(self, name: str):
        return getattr(self.real, name)

    def encode(self, pcm: bytes) -> bytes:
        data = self.real.encode(pcm)
        if self.tagged:
            self.tagged = False
            data = bytes.fromhex("fff380c4") + bytes(9) + b"Info" + bytes(191) + data
        return data


@pytest.mark.parametrize("every", [True, False])
def test_a_tag_frame_ahead_of_a_part_does_not_put_seams_out(every, source, tmp_path, parallel,
                                                            monkeypatch):
    monkeypatch.setattr(export.lameenc, "Encoder", _Tagged)
    monkeypatch.setattr(_Tagged, "every", every)
    writers = {}
    for parts in (1, 3):
        _Tagged.made = 0
        writers[parts] = write(tmp_path / f"{parts}.mp3", source, parts)
    for writer in writers.values():  # the writer's own Info frame, and no other
        frames = parse_stream(writer.path.read_bytes())
        assert frames[0].tag and not any(frame.tag for frame in frames[1:])
    (one, _), (decoded, said) = decode(writers[1].path), decode(writers[3].path)
    assert said == "" and len(decoded) == len(one) == len(source)
    assert seam_faults(decoded, one, source, writers[3].joins) == []


def test_a_writer_used_in_sequence_is_one_stream(source, single, tmp_path):
    with Mp3Writer(tmp_path / "s.mp3", RATE, parts=4) as writer:
        for block in np.array_split(source, 9):
            writer.write(block)
    assert writer.others == [] and writer.joins == []
    assert np.array_equal(decode(tmp_path / "s.mp3")[0], single)


def test_a_short_session_or_one_core_is_one_part(monkeypatch, tmp_path):
    with Mp3Writer(tmp_path / "a.mp3", RATE, parts=4) as writer:
        assert len(writer.split(int(119 * RATE), 2205)) == 1
    monkeypatch.setattr(export.os, "cpu_count", lambda: 1)
    with Mp3Writer(tmp_path / "b.mp3", RATE) as writer:
        assert len(writer.split(int(600 * RATE), 2205)) == 1
    monkeypatch.setattr(export.os, "cpu_count", lambda: 8)
    assert export.default_parts() == 4


class _FailsSecond:
    """lameenc's Encoder; the second one made fails once it has encoded a block."""

    made = 0

    def __init__(self) -> None:
        type(self).made += 1
        self.real, self.number, self.blocks = _REAL_ENCODER(), self.made, 0

    def __getattr__(self, name: str):
        return getattr(self.real, name)

    def encode(self, pcm: bytes) -> bytes:
        self.blocks += 1
        if self.number == 2 and self.blocks > 1:
            raise RuntimeError("lame_encode_buffer returned -1")
        return self.real.encode(pcm)


_REAL_ENCODER = lameenc.Encoder


def test_an_encoder_failing_in_one_part_fails_the_writer(source, tmp_path, parallel,
                                                         monkeypatch):
    monkeypatch.setattr(export.lameenc, "Encoder", _FailsSecond)
    with pytest.raises(OutputError, match="the MP3 encoder failed: lame_encode_buffer"):
        write(tmp_path / "x.mp3", source, 3, block=2 * RATE)
    assert entries(tmp_path) == ["x.mp3"]  # atomic_file removes it in a session


class _Interrupt:
    """A block whose scaling is interrupted, as by Ctrl-C inside write()."""

    def __mul__(self, other):
        raise KeyboardInterrupt


def test_an_interrupt_in_write_leaves_no_part_files(source, tmp_path, parallel):
    with pytest.raises(KeyboardInterrupt):
        with Mp3Writer(tmp_path / "x.mp3", RATE, parts=3) as writer:
            plan = writer.split(len(source), 2205)
            for index, part in enumerate(plan):
                writer.write(source[part.start : part.start + RATE], index)
            writer.write(_Interrupt(), 1)
    assert entries(tmp_path) == ["x.mp3"]
    assert all(file.closed for file in writer.others) and len(writer.others) == 2
    assert not any(encoding.thread.is_alive() for encoding in writer.encodings)


# --- mastering in parts --------------------------------------------------------------


class _Mixer:
    """A mixer's ``render``: noise and a tone whose level comes and goes, worked out
    from the sample's index alone (so any order of blocks gives the same audio)."""

    def __init__(self, seconds: float, channels: int) -> None:
        self.rate, self.channels = RATE, channels
        self.length = int(seconds * RATE)

    def render(self, start: int, end: int) -> np.ndarray:
        n = np.arange(start, end, dtype=np.float64)
        inside = (n >= 0) & (n < self.length)
        level = 0.05 + 0.3 * np.sin(2 * np.pi * n / (7.3 * RATE)) ** 8
        hashed = np.sin(n * 12.9898 + 78.233) * 43758.5453
        x = (level * (np.sin(2 * np.pi * 220 * n / RATE) + (hashed - np.floor(hashed) - 0.5))
             * inside).astype(np.float32)
        return x if self.channels == 1 else np.stack([x, 0.5 * x], axis=1)


@pytest.mark.parametrize("channels", [1, 2])
def test_mastering_in_parts_gives_the_same_audio_and_loudness(channels):
    mixer = _Mixer(150, channels)
    sequence = Blocks()
    whole = Master(mixer).run(3.0, sequence)
    sequence_audio = sequence.audio
    parts = Blocks(3)
    joined = Master(mixer).run(3.0, parts)
    assert joined == pytest.approx(whole, abs=1e-4) and np.isfinite(whole)
    meter = LoudnessMeter(RATE, channels)
    meter.add(sequence_audio)
    assert whole == meter.integrated
    for part, blocks in zip(parts.parts, parts.blocks):
        fed = np.concatenate(blocks)
        assert len(fed) == part.end - part.start
        assert np.max(np.abs(fed - sequence_audio[part.start : part.end])) < 1e-6


def test_mastering_into_an_mp3_writer_in_parts(tmp_path, parallel):
    mixer = _Mixer(40, 1)
    with Mp3Writer(tmp_path / "parts.mp3", RATE, parts=2) as writer:
        loudness = Master(mixer).run(0.0, writer)
    with Mp3Writer(tmp_path / "one.mp3", RATE, parts=1) as one:
        alone = Master(mixer).run(0.0, one)
    assert len(writer.parts) == 2 and len(writer.joins) == 1
    assert loudness == pytest.approx(alone, abs=1e-4)
    (decoded, said), (single, _) = decode(tmp_path / "parts.mp3"), decode(tmp_path / "one.mp3")
    assert said == "" and len(decoded) == len(single)
    assert abs(power_db(decoded) - power_db(single)) < 0.05
    # two encodings of the same audio, alike within the codec's noise
    assert power_db(decoded - single) < power_db(single) - 25
