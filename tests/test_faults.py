"""Faults, each injected: a stuck, crashing or silent voice, a failing encoder, a full disk,
signals mid-render (SIGKILL too), a damaged cache, two renders on one cache, a read-only
cache.

Every fault must end in one clear line (or, for the cache, be healed or worked around),
leave no partial file, leave the user's earlier files as they were, and a rerun must
succeed. Faults are injected as close to their source as a test can: a fake speaker in
the system engine's real worker process, Piper's own ``synthesize``, LAME's encoder,
the MP3 file's ``write``, a real tmpfs, real signals to a real process.
"""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import wave
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import piper
import pytest
from click.testing import CliRunner

import faulty
from tre_audio.files import atomic
from tre_audio.mp3 import export
from tre_audio.cli import cli
from tre_audio.speech import system
from tre_audio.speech.cache import ClipCache
from tre_audio.sound.clip import SPEECH_RMS_DB
from tre_audio.speech.rate import CALIBRATION as _CALIBRATION

TESTS = Path(__file__).parent
TOOL = Path(sys.executable).with_name("tre-audio")
RATE = 22050
SCRIPT = "[chapter: A]\n[bell]\nHello there, and welcome.\n[hold 5-20s]\nRest now, and breathe.\n"
SENTENCES = ("Hello there, and welcome.", "Rest now, and breathe.")
EARLIER = b"the user's earlier session"


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


def files(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (hidden ones too) with its bytes."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


@pytest.fixture
def work(private_folders: Path) -> Path:
    """A script and an earlier session that every failure must leave as they are."""
    (private_folders / "s.txt").write_text(SCRIPT, encoding="utf-8")
    (private_folders / "out").mkdir()
    (private_folders / "out" / "keep.mp3").write_bytes(EARLIER)
    (private_folders / "out" / "keep.txt").write_text("earlier transcript", encoding="utf-8")
    (private_folders / "out" / "keep.json").write_text(  # the earlier session's timeline
        '{"format": "tre-audio manifest 2"}', encoding="utf-8")
    return private_folders


@pytest.fixture
def fresh_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty speech cache, so that the voice is asked for every sentence."""
    cache = tmp_path / "fresh-cache"
    monkeypatch.setenv("TRE_AUDIO_CACHE", str(cache))
    return cache


def generate(*extra: str):
    return run("generate", "--script", "s.txt", "-o", "out/keep.mp3", *extra)


def assert_failed_cleanly(result, before: dict[str, bytes], folder: Path, *words: str,
                          code: int = 1) -> None:
    """One line on stderr naming ``words``, nothing on stdout, and not a byte changed."""
    assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr,
                                      result.exception)
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("tre-audio: "), result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""
    for word in words:
        assert word in lines[0], lines[0]
    assert files(folder) == before  # nothing written, no .part left, earlier files intact


def assert_rerun_succeeds(folder: Path, *extra: str) -> None:
    result = generate(*extra)
    assert result.exit_code == 0, (result.stderr, result.exception)
    mp3 = folder / "out" / "keep.mp3"
    assert mp3.read_bytes() != EARLIER and mp3.stat().st_size > 10_000
    assert "Hello there" in mp3.with_suffix(".txt").read_text(encoding="utf-8")
    assert not [p for p in folder.rglob("*") if p.suffix in (".part", ".tmp")]

def signal_when(child: subprocess.Popen, ready, signum: int, wait: float,
                poll: float = 0.05) -> tuple[str, str]:
    """Send ``signum`` to ``child`` once ``ready()`` (within a minute), then let it end
    (within ``wait`` seconds) and return its output; a child still running is killed."""
    try:
        deadline = time.monotonic() + 60
        while not ready() and child.poll() is None and time.monotonic() < deadline:
            time.sleep(poll)
        assert ready() and child.poll() is None, child.communicate(timeout=5)
        child.send_signal(signum)
        return child.communicate(timeout=wait)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()


def assert_interrupted(child: subprocess.Popen, output: tuple[str, str], work: Path,
                       before: dict) -> None:
    """The run ended as interrupted, changed nothing, and a rerun succeeds."""
    stdout, stderr = output
    assert child.returncode == 130, stderr
    assert stderr == "tre-audio: interrupted; no session was written\n" and stdout == ""
    assert files(work) == before
    assert_rerun_succeeds(work)



# --- the voice -----------------------------------------------------------------------


@pytest.fixture
def system_voice(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """Makes the system engine speak with a speaker from ``faulty``, in its real worker
    process, tried twice with a one-second timeout; returns the setter."""
    monkeypatch.setenv("PYTHONPATH", str(TESTS))
    chosen = {"speaker": "Fake"}

    def open_engine(voice: str, wpm: float) -> system.SystemEngine:
        return system.SystemEngine(voice, wpm, speaker=f"faulty:{chosen['speaker']}",
                                   tries=2, timeout=1.0, timeout_per_word=0.0)

    monkeypatch.setattr(system, "open_engine", open_engine)
    return lambda speaker: chosen.update(speaker=speaker)


@pytest.mark.parametrize(
    ("speaker", "words"),
    [
        ("Hang", ["the system voice failed 2 times on 'Hello there, and welcome.'",
                  "no answer within 1 s"]),
        ("Crash", ["the system voice failed 2 times", "died (exit code 3): fake crash"]),
        ("Empty", ["the system voice failed 2 times", "the audio was empty"]),
    ],
)
def test_a_stuck_crashing_or_silent_system_voice_ends_in_one_line(
    speaker, words, system_voice, work, fresh_cache
):
    system_voice(speaker)
    before = files(work)
    started = time.monotonic()
    assert_failed_cleanly(generate("--engine", "system"), before, work, *words)
    assert time.monotonic() - started < 20  # a stuck voice is given up on, not waited out
    system_voice("Fake")
    result = generate("--engine", "system")
    assert result.exit_code == 0, result.stderr


def _chunks(samples: np.ndarray):
    yield SimpleNamespace(audio_float_array=samples)


PIPER_FAULTS = {
    "crashes": (RuntimeError, "Piper failed on 'Hello there, and welcome.': onnx failed"),
    "gives nothing": (lambda: iter(()), "Piper produced no audio for: Hello there"),
    "gives silence": (lambda: _chunks(np.zeros(RATE, np.float32)),
                      "the piper engine spoke only silence for: Hello there"),
    "gives NaN": (lambda: _chunks(np.full(RATE, np.nan, np.float32)),
                  "the piper engine made broken audio (not a number) for: Hello there"),
}


@pytest.mark.parametrize("fault", list(PIPER_FAULTS))
def test_a_piper_voice_that_crashes_or_gives_no_audio_ends_in_one_line(
    fault, work, fresh_cache, monkeypatch
):
    """Piper loads and calibrates for real; then its sentences go wrong."""
    make, message = PIPER_FAULTS[fault]
    real = piper.PiperVoice.synthesize

    def broken(self, text, *args, **kwargs):
        if text in _CALIBRATION:
            return real(self, text, *args, **kwargs)
        if make is RuntimeError:
            raise RuntimeError("onnx failed\n(with a second line of detail)")
        return make()

    monkeypatch.setattr(piper.PiperVoice, "synthesize", broken)
    before = files(work)
    assert_failed_cleanly(generate("--voice", "joe"), before, work, message)
    monkeypatch.setattr(piper.PiperVoice, "synthesize", real)
    assert_rerun_succeeds(work, "--voice", "joe")


HIBARI_FAULTS = {
    "crashes": (RuntimeError, "hibari failed on 'Hello there, and welcome.': onnx failed"),
    "gives nothing": (lambda: np.zeros(0, np.float32),
                      "hibari produced no audio for: Hello there"),
    "gives silence": (lambda: np.zeros(24_000, np.float32),
                      "the hibari engine spoke only silence for: Hello there"),
    "gives NaN": (lambda: np.full(24_000, np.nan, np.float32),
                  "the hibari engine made broken audio (not a number) for: Hello there"),
}


@pytest.mark.parametrize("fault", list(HIBARI_FAULTS))
def test_a_hibari_voice_that_crashes_or_gives_no_audio_ends_in_one_line(
    fault, work, fresh_cache, monkeypatch
):
    """hibari loads for real (its rate is shipped: no calibration); then its sentences
    go wrong."""
    from hibari import Hibari

    make, message = HIBARI_FAULTS[fault]
    real = Hibari.__call__

    def broken(self, text, *args, **kwargs):
        if make is RuntimeError:
            raise RuntimeError("onnx failed\n(with a second line of detail)")
        return make()

    monkeypatch.setattr(Hibari, "__call__", broken)
    before = files(work)
    assert_failed_cleanly(generate("--voice", "heart"), before, work, message)
    monkeypatch.setattr(Hibari, "__call__", real)
    assert_rerun_succeeds(work, "--voice", "heart")


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_python_drops_in_a_destructor_still_ends_the_run(signum, work, tmp_path):
    """Python cannot raise in a ``__del__`` or a weakref callback: it printed a traceback,
    dropped the Ctrl-C and the run wrote its session (seen once at 250 ms). It is now
    raised again where it can be: one line, exit 130, nothing written."""
    before = files(work)
    child, stuck = _faulty_generate("deaf", work, tmp_path)
    output = signal_when(child, stuck.exists, signum, wait=30, poll=0.01)
    assert_interrupted(child, output, work, before)


@pytest.mark.parametrize("voice", ["joe", "heart"])
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_ends_a_render_whose_neural_voice_is_stuck(signum, voice, work, tmp_path):
    """Piper and hibari run in-process and cannot be timed out; Ctrl-C and SIGTERM must
    still end the render at once (the speech threads used to be joined at exit, so they
    hung)."""
    before = files(work)
    child, stuck = _faulty_generate("hang", work, tmp_path, "--voice", voice)
    output = signal_when(child, stuck.exists, signum, wait=10)
    assert_interrupted(child, output, work, before)


def _faulty_generate(fault: str, work: Path, tmp_path: Path, *extra: str
                     ) -> tuple[subprocess.Popen, Path]:
    """A real ``generate`` with the neural voices broken as ``fault`` says, and the file
    it touches once the fault has struck."""
    stuck = tmp_path / "stuck"
    env = {**os.environ, "PYTHONPATH": str(TESTS), faulty.FAULT: fault,
           faulty.STUCK: str(stuck), "TRE_AUDIO_CACHE": str(tmp_path / "cache")}
    child = subprocess.Popen(
        [sys.executable, "-c", "import faulty; faulty.cli()", "generate", "--script", "s.txt",
         "-o", "out/keep.mp3", *extra],
        cwd=work, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    return child, stuck


# --- the encoder and the disk --------------------------------------------------------


class _BrokenEncoder:
    """lameenc's Encoder, failing at ``when``: made, encoding or flushing."""

    when = "encode"

    def __init__(self) -> None:
        if self.when == "made":
            raise RuntimeError("unsupported configuration")
        self.real = _REAL_ENCODER()

    def __getattr__(self, name: str):
        return getattr(self.real, name)

    def encode(self, pcm: bytes) -> bytes:
        if self.when == "encode":
            raise RuntimeError("lame_encode_buffer returned -1")
        return self.real.encode(pcm)

    def flush(self) -> bytes:
        raise RuntimeError("lame_encode_flush returned -3")


_REAL_ENCODER = export.lameenc.Encoder


@pytest.mark.parametrize(
    ("when", "why"),
    [("made", "unsupported configuration"), ("encode", "lame_encode_buffer returned -1"),
     ("flush", "lame_encode_flush returned -3")],
)
def test_a_failing_encoder_ends_in_one_line(when, why, work, monkeypatch):
    before = files(work)
    with monkeypatch.context() as patch:
        patch.setattr(_BrokenEncoder, "when", when)
        patch.setattr(export.lameenc, "Encoder", _BrokenEncoder)
        assert_failed_cleanly(generate(), before, work, f"the MP3 encoder failed: {why}")
    assert_rerun_succeeds(work)


class _FullDisk:
    """A file whose writes fail with ENOSPC after ``room`` of them succeeded."""

    def __init__(self, file, room: int) -> None:
        self.file, self.room = file, room

    def write(self, data: bytes) -> int:
        if self.room <= 0:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        self.room -= 1
        return self.file.write(data)

    def __getattr__(self, name: str):
        return getattr(self.file, name)


@pytest.mark.parametrize("room", [0, 1])
def test_a_disk_that_fills_while_the_mp3_is_written(room, work, monkeypatch):
    real_init = export.Mp3Writer.__init__

    def init(self, *args, **kwargs) -> None:
        real_init(self, *args, **kwargs)
        self.file = _FullDisk(self.file, room)

    before = files(work)
    with monkeypatch.context() as patch:
        patch.setattr(export.Mp3Writer, "__init__", init)
        assert_failed_cleanly(generate(), before, work,
                              "cannot write out/keep.mp3: No space left on device")
    assert_rerun_succeeds(work)


def test_a_disk_that_fills_while_the_files_beside_are_written(work, monkeypatch):
    real = Path.write_text

    def write_text(self: Path, *args, **kwargs):
        if self.name.startswith(".keep.srt."):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(self, *args, **kwargs)

    before = files(work)
    with monkeypatch.context() as patch:
        patch.setattr(Path, "write_text", write_text)
        assert_failed_cleanly(generate(), before, work,
                              "cannot write out/keep.srt: No space left on device")
    assert_rerun_succeeds(work)


def test_a_disk_that_fills_while_the_tags_are_written(work, monkeypatch):
    """mutagen wraps the OS's error in its own (it used to escape as a traceback)."""
    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    before = files(work)
    with monkeypatch.context() as patch:
        patch.setattr(export._TimeOrderedID3, "_write", full)
        assert_failed_cleanly(generate(), before, work,
                              "cannot write out/keep.mp3: No space left on device")
    assert_rerun_succeeds(work)


def _mount_tmpfs(folder: Path, options: str) -> str | None:
    """Mount a tmpfs on ``folder``; why not, if it cannot be done here."""
    if os.geteuid() != 0 or not shutil.which("mount"):
        return "mounting a tmpfs needs root"
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)],
                          capture_output=True, text=True)
    return None if done.returncode == 0 else f"mount failed: {done.stderr.strip()}"


def _remount(folder: Path, options: str) -> None:
    subprocess.run(["mount", "-o", f"remount,{options}", str(folder)], check=True)


@pytest.fixture
def tmpfs(tmp_path: Path):
    """A real tmpfs (as root), unmounted afterwards; skipped, saying why, elsewhere. The
    injected ENOSPC tests above run everywhere."""
    folder = tmp_path / "tmpfs"
    folder.mkdir()
    why = _mount_tmpfs(folder, "size=256k")
    if why:
        pytest.skip(f"no real tmpfs: {why}")
    yield folder
    subprocess.run(["umount", "-l", str(folder)], check=False)


def test_a_really_full_disk(tmpfs, work):
    """A session of about 3 MB into a 256 kB filesystem, then the disk made bigger."""
    (work / "s.txt").write_text(SCRIPT.replace("[hold 5-20s]", "[hold 6 min]"))
    out = tmpfs / "keep.mp3"
    out.write_bytes(EARLIER)
    before = files(tmpfs)
    result = run("generate", "--script", "s.txt", "-o", str(out))
    assert result.exit_code == 1, result.stderr
    assert result.stderr == f"tre-audio: cannot write {out}: No space left on device\n"
    assert files(tmpfs) == before
    _remount(tmpfs, "size=16m")
    result = run("generate", "--script", "s.txt", "-o", str(out))
    assert result.exit_code == 0, result.stderr
    assert out.stat().st_size > 2_000_000
    assert sorted(p.name for p in tmpfs.iterdir()) == [
        "keep.json", "keep.mp3", "keep.srt", "keep.txt", "keep.vtt"]


# --- signals while the MP3 is written --------------------------------------------------


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_while_the_mp3_is_written(signum, work, speech_cache):
    """A real process, signalled once its MP3 is half made (the signal while it speaks
    is in test_cli.py); the earlier session stays and the rerun succeeds."""
    (work / "s.txt").write_text(SCRIPT.replace("[hold 5-20s]", "[hold 4 min]"))
    before = files(work)
    child = subprocess.Popen(
        [str(TOOL), "generate", "--script", "s.txt", "-o", "out/keep.mp3"], cwd=work,
        env={**os.environ, "TRE_AUDIO_CACHE": str(speech_cache)},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    output = signal_when(child, lambda: bool(list((work / "out").glob(".keep.mp3.*.part"))),
                         signum, wait=30, poll=0.01)
    assert_interrupted(child, output, work, before)


def _caught(pid: int) -> int:
    """The mask of the signals process ``pid`` has handlers for (bit N-1 for signal N)."""
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"^SigCgt:\s*([0-9a-f]+)$", status, re.M)[1], 16)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_in_the_first_quarter_second(signum, work):
    """Signals at 0 to 250 ms in 10 ms steps, while Python starts and the modules load.
    Once tre-audio's entry module has run (its SIGTERM handler is in place, read from
    /proc), the run ends with 130 and the one line; before, SIGTERM ends the process as
    it would any program (-15, silently). A SIGINT is sent only once the entry module
    has run: in the 5-15 ms before, Python's own start-up turns it into a traceback of
    its own, which no code of tre-audio can reach. Nothing is ever written."""
    before = files(work)
    outcomes = set()
    for step in range(0, 260, 10):
        started = time.monotonic()
        child = subprocess.Popen([str(TOOL), "generate", "--script", "s.txt", "-o",
                                  "out/keep.mp3"], cwd=work, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True)
        try:
            time.sleep(max(0.0, started + step / 1000 - time.monotonic()))
            ours = _caught(child.pid) >> (signal.SIGTERM - 1) & 1
            while signum == signal.SIGINT and not ours:
                time.sleep(0.0005)
                ours = _caught(child.pid) >> (signal.SIGTERM - 1) & 1
            child.send_signal(signum)
            stdout, stderr = child.communicate(timeout=30)
        finally:
            if child.poll() is None:
                child.kill()
                child.wait()
        if ours or child.returncode == 130:
            assert (child.returncode, stderr) == (
                130, "tre-audio: interrupted; no session was written\n"), (step, stderr)
        else:
            assert (child.returncode, stderr) == (-signum, ""), (step, stderr)
        assert stdout == "" and files(work) == before, step
        outcomes.add(child.returncode)
    assert 130 in outcomes


def test_a_run_killed_outright_leaves_a_part_the_next_run_removes(work, speech_cache):
    """SIGKILL cannot be caught: the hidden part file stays, its lock goes with the
    process, and the next run writing the same file removes it."""
    (work / "s.txt").write_text(SCRIPT.replace("[hold 5-20s]", "[hold 4 min]"))
    child = subprocess.Popen(
        [str(TOOL), "generate", "--script", "s.txt", "-o", "out/keep.mp3"], cwd=work,
        env={**os.environ, "TRE_AUDIO_CACHE": str(speech_cache)},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    signal_when(child, lambda: bool(list((work / "out").glob(".keep.mp3.*.part"))),
                signal.SIGKILL, wait=30, poll=0.01)
    assert child.returncode == -signal.SIGKILL
    (left,) = (work / "out").glob(".keep.mp3.*.part")
    assert (work / "out" / "keep.mp3").read_bytes() == EARLIER
    ago = time.time() - atomic.STALE_SECONDS - 1
    os.utime(left, (ago, ago))
    (work / "s.txt").write_text(SCRIPT)
    assert_rerun_succeeds(work)  # and no .part is left anywhere
    assert not left.exists()


# --- the cache -----------------------------------------------------------------------


def _entry(cache: ClipCache, seed: int = 1) -> tuple[str, Path, np.ndarray]:
    key = cache.key("voice", f"sentence {seed}")
    cache.put(key, faulty.clip(seed))
    return key, cache.folder / key[:2] / f"{key}.wav", cache.get(key)


def _old_style_wav(path: Path) -> None:
    """A well-formed WAV without the checksum (what format 6 wrote)."""
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(RATE)
        wav.writeframes(np.ones(RATE, "<i2").tobytes())


def _flip(offset: int):
    def damage(path: Path) -> None:
        data = bytearray(path.read_bytes())
        data[offset] ^= 0x40
        path.write_bytes(bytes(data))
    return damage


DAMAGE = {
    "truncated to half": lambda p: p.write_bytes(p.read_bytes()[: p.stat().st_size // 2]),
    "truncated by one byte": lambda p: p.write_bytes(p.read_bytes()[:-1]),
    "cut to its header": lambda p: p.write_bytes(p.read_bytes()[:84]),
    "empty": lambda p: p.write_bytes(b""),
    "a sample flipped": _flip(5000),
    "the last sample flipped": _flip(-1),
    "its rate changed": _flip(24),
    "its checksum flipped": _flip(60),
    "grown by a sample": lambda p: p.write_bytes(p.read_bytes() + b"\0\0"),
    "garbage": lambda p: p.write_bytes(os.urandom(4096)),
    "an old WAV without a checksum": _old_style_wav,
}


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_a_damaged_cache_entry_reads_as_missing(damage, tmp_path):
    cache = ClipCache(tmp_path, RATE)
    key, path, clip = _entry(cache)
    assert clip is not None and np.allclose(clip, faulty.clip(1), atol=1 / 32768)
    DAMAGE[damage](path)
    assert cache.get(key) is None
    cache.put(key, faulty.clip(1))  # what the speaker does next: made again, whole
    assert np.array_equal(cache.get(key), clip)


def _levelled(samples: np.ndarray) -> np.ndarray:
    rms = np.sqrt(np.mean(np.square(samples, dtype=np.float64)))
    return (samples * 10 ** (SPEECH_RMS_DB / 20) / rms).astype(np.float32)


FORGED = {  # each with a valid checksum: written through the cache itself
    "silence": lambda seconds: np.zeros(int(RATE * seconds), np.float32),
    "a minute of noise at speech level":
        lambda seconds: _levelled(np.random.default_rng(1).uniform(-1, 1, RATE * 60)),
    "a blip at speech level": lambda seconds: _levelled(np.hanning(RATE // 20)),
    "the speech 30 dB too quiet": None,  # the real clip, scaled
}


@pytest.mark.parametrize("forgery", list(FORGED))
def test_a_forged_cache_entry_is_not_spoken_but_made_again(forgery, work, fresh_cache):
    """Whoever can write the cache folder can write an entry whose checksum holds; what
    is read is checked as what a voice makes is (speech level, a length its text can
    take), and an entry that fails is made again."""
    assert generate().exit_code == 0
    cache = ClipCache(fresh_cache, RATE)
    genuine = {path: cache.get(path.stem) for path in _entries(fresh_cache)}
    for path, clip in genuine.items():
        forge = FORGED[forgery]
        cache.put(path.stem, clip * 10 ** (-30 / 20) if forge is None else forge(len(clip) / RATE))
    assert all(cache.get(path.stem) is not None for path in genuine)  # the checksums hold
    assert_rerun_succeeds(work)
    for path, clip in genuine.items():  # spoken again (Piper varies: not the same clip)
        remade = cache.get(path.stem)
        assert remade is not None and 0.6 < len(remade) / len(clip) < 1.6
        rms_db = 10 * np.log10(np.mean(np.square(remade, dtype=np.float64)))
        assert abs(rms_db - SPEECH_RMS_DB) < 0.1


@pytest.mark.parametrize("engine", ["piper", "system"])
def test_digits_and_signs_spoken_at_length_are_not_taken_for_a_forgery(engine, tmp_path,
                                                                        monkeypatch):
    """The checks of what a voice makes allow for a line that is mostly digits or signs,
    each of which may be said as a word; a clip fresh from the voice meets them twice
    (spoken, then read back from the cache)."""
    monkeypatch.setenv("TRE_AUDIO_CACHE", str(tmp_path / "cache"))
    text = "Count down: 5-4-3-2-1. Call 1-800-273-8255. 123456. ***. 🙂."
    for _ in range(2):
        result = run("say", text, "--engine", engine, "-o", "say.mp3")
        assert result.exit_code == 0, result.stderr


@pytest.mark.parametrize("kind", ["a FIFO", "a link to /dev/zero", "a 4 GB file"])
def test_a_cache_entry_that_is_no_regular_file_reads_as_missing(kind, work, fresh_cache):
    """In a real process, which a FIFO would hang and /dev/zero or a huge entry fill the
    memory of: each entry reads as missing at once, and is spoken again."""
    assert generate().exit_code == 0
    entries = list(_entries(fresh_cache))
    for path in entries:
        path.unlink()
        if kind == "a FIFO":
            os.mkfifo(path)
        elif kind == "a link to /dev/zero":
            path.symlink_to("/dev/zero")
        else:
            with path.open("wb") as big:
                big.truncate(4 << 30)  # sparse: it takes no room on the disk
    measured = ("import resource, subprocess, sys; "
                "done = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL); "
                "print(done.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    done = subprocess.run([sys.executable, "-c", measured, str(TOOL), "generate", "--script",
                           "s.txt", "-o", "out/keep.mp3"], cwd=work, capture_output=True,
                          text=True, timeout=180)
    code, peak_kib = map(int, done.stdout.split())
    assert code == 0 and done.stderr == "", done.stderr
    assert peak_kib < 2 << 20  # under 2 GB: the voice takes under 1 GB, the entry nothing
    assert _all_whole(fresh_cache) and sorted(_entries(fresh_cache)) == sorted(entries)
    assert all(p.is_file() and not p.is_symlink() for p in entries)  # spoken again


def test_an_entry_is_a_playable_wav(tmp_path):
    cache = ClipCache(tmp_path, RATE)
    _, path, clip = _entry(cache)
    with wave.open(str(path)) as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, RATE)
        samples = np.frombuffer(wav.readframes(wav.getnframes()), "<i2") / 32768
    assert np.array_equal(samples.astype(np.float32), clip)


def _entries(cache: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in cache.rglob("*.wav")}


def _all_whole(cache: Path) -> bool:
    reader = ClipCache(cache, RATE)
    return all(reader.get(p.stem) is not None for p in cache.rglob("*.wav"))


def test_a_damaged_cache_heals_and_the_rerun_succeeds(work, fresh_cache):
    assert generate().exit_code == 0
    entries = _entries(fresh_cache)
    assert len(entries) == len(SENTENCES) and _all_whole(fresh_cache)
    damaged = {}
    for (path, _), damage in zip(entries.items(), ["truncated to half", "a sample flipped"]):
        DAMAGE[damage](path)
        damaged[path] = path.read_bytes()
    assert not _all_whole(fresh_cache)
    assert_rerun_succeeds(work)
    healed = _entries(fresh_cache)
    assert healed.keys() == entries.keys() and _all_whole(fresh_cache)
    assert all(healed[path] != damaged[path] for path in damaged)


def test_two_renders_sharing_one_cache_at_once(work, fresh_cache):
    """Two real processes speak the same sentences into one empty cache side by side."""
    (work / "s.txt").write_text(SCRIPT + "".join(
        f"Sentence number {n} of the shared script.\n" for n in range(8)))
    children = [
        subprocess.Popen([str(TOOL), "generate", "--script", "s.txt", "-o", f"out/{name}.mp3"],
                         cwd=work, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for name in ("one", "two")
    ]
    for child in children:
        stdout, stderr = child.communicate(timeout=180)
        assert child.returncode == 0 and stderr == "", stderr
    for name in ("one", "two"):
        assert (work / "out" / f"{name}.mp3").stat().st_size > 10_000
    assert len(list(fresh_cache.rglob("*.wav"))) == len(SENTENCES) + 8
    assert _all_whole(fresh_cache) and not list(fresh_cache.rglob("*.tmp"))
    before = _entries(fresh_cache)
    assert_rerun_succeeds(work)
    assert _entries(fresh_cache) == before  # all spoken from the cache


def test_two_runs_writing_one_session_at_once_leave_the_files_of_one(work, monkeypatch):
    """Two runs make ``out/keep.mp3`` at once, each for another listener. The first to
    move its files into place is held after its first one until the other has finished
    (or waited two seconds for the folder: it is its turn only after the first run's).
    The MP3, transcript and timeline must then all be one run's."""
    from mutagen.id3 import ID3

    from tre_audio import session
    from tre_audio.options import values

    real_replace, real_tag = os.replace, session.tag_mp3
    second_tagged, second_done, held = (threading.Event() for _ in range(3))

    def replace(source, target):
        real_replace(source, target)
        if threading.current_thread().name == "first" and not held.is_set() and \
                Path(target).parent == work / "out":
            held.set()
            assert second_tagged.wait(60)  # the second run is about to move its files
            second_done.wait(2)

    def tag(path, *args):
        real_tag(path, *args)
        if threading.current_thread().name == "second":
            second_tagged.set()

    monkeypatch.setattr(atomic.os, "replace", replace)
    monkeypatch.setattr(session, "tag_mp3", tag)
    errors: list[BaseException] = []

    def make(name: str) -> None:
        try:
            session.generate(values.Options(name=name), out=work / "out" / "keep.mp3",
                             script=work / "s.txt")
        except BaseException as error:  # reported below, in the test's thread
            errors.append(error)
        finally:
            if name == "Alex":
                second_done.set()

    first = threading.Thread(target=make, args=("Sam",), name="first")
    first.start()
    assert held.wait(120) or errors, errors
    second = threading.Thread(target=make, args=("Alex",), name="second")
    second.start()
    first.join(120)
    second.join(120)
    assert errors == []
    out = work / "out" / "keep"
    title = json.loads(out.with_suffix(".json").read_text(encoding="utf-8"))["title"]
    assert title.startswith("Alex's")  # the second run's set, moved in after the first
    assert str(ID3(out.with_suffix(".mp3"))["TIT2"]) == title
    assert out.with_suffix(".txt").read_text(encoding="utf-8").startswith(title)


def test_many_processes_writing_and_reading_one_entry_never_see_a_partial_one(tmp_path):
    children = [
        subprocess.Popen([sys.executable, "-c",
                          f"import faulty; faulty.hammer({str(tmp_path)!r}, {seed}, 60)"],
                         env={**os.environ, "PYTHONPATH": str(TESTS)},
                         stderr=subprocess.PIPE, text=True)
        for seed in range(4)
    ]
    for child in children:
        _, stderr = child.communicate(timeout=120)
        assert child.returncode == 0, stderr
    assert len(list(tmp_path.rglob("*.wav"))) == 1 and not list(tmp_path.rglob("*.tmp"))
    assert _all_whole(tmp_path)


def test_a_render_interrupted_while_speaking_leaves_only_whole_entries(work, fresh_cache):
    """SIGINT to a real process while it fills an empty cache; whatever it kept is whole,
    nothing half-written is left, and the rerun speaks the rest."""
    (work / "s.txt").write_text(SCRIPT + "".join(
        f"This is sentence {n}, spoken before the signal comes.\n" for n in range(12)))
    before = files(work)
    child = subprocess.Popen(
        [str(TOOL), "generate", "--script", "s.txt", "-o", "out/keep.mp3"], cwd=work,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not list(fresh_cache.rglob("*.wav")) and time.monotonic() < deadline:
        time.sleep(0.02)
    child.send_signal(signal.SIGINT)
    _, stderr = child.communicate(timeout=30)
    assert child.returncode == 130, stderr
    assert files(work) == before
    kept = len(list(fresh_cache.rglob("*.wav")))
    assert 0 < kept < len(SENTENCES) + 12
    assert _all_whole(fresh_cache) and not list(fresh_cache.rglob("*.tmp"))
    assert_rerun_succeeds(work)
    assert len(list(fresh_cache.rglob("*.wav"))) == len(SENTENCES) + 12


@pytest.fixture
def read_only_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A cache folder and a function that makes it read-only: a tmpfs remounted read-only
    as root (root ignores permissions), its permissions taken away otherwise."""
    cache = tmp_path / "cache"
    cache.mkdir()
    monkeypatch.setenv("TRE_AUDIO_CACHE", str(cache))
    mounted = os.geteuid() == 0
    if mounted:
        why = _mount_tmpfs(cache, "size=16m")
        assert why is None, why  # root, yet no tmpfs: fail rather than test nothing

    def freeze() -> None:
        if mounted:
            _remount(cache, "ro")
        else:
            for folder in [cache, *[p for p in cache.rglob("*") if p.is_dir()]]:
                folder.chmod(0o555)

    yield cache, freeze
    if mounted:
        subprocess.run(["umount", "-l", str(cache)], check=False)
    else:
        for folder in [cache, *[p for p in cache.rglob("*") if p.is_dir()]]:
            folder.chmod(0o755)


def test_a_read_only_cache_is_read_and_the_session_still_made(work, read_only_cache):
    """Decision: the cache only saves time, so a cache that cannot be written never costs
    the session: entries already there are used, new speech is made and not kept."""
    cache, freeze = read_only_cache
    assert generate().exit_code == 0
    freeze()
    kept = files(cache)
    with open(work / "s.txt", "a", encoding="utf-8") as script:
        script.write("A new sentence, never spoken before.\n")
    assert_rerun_succeeds(work)
    assert "A new sentence" in (work / "out" / "keep.txt").read_text(encoding="utf-8")
    assert files(cache) == kept


@pytest.mark.parametrize("where", ["under a file", "in /proc"])
def test_a_cache_folder_that_cannot_be_made_still_gives_the_session(where, work, monkeypatch):
    folder = {"under a file": work / "s.txt" / "cache", "in /proc": Path("/proc/self/cache")}
    monkeypatch.setenv("TRE_AUDIO_CACHE", str(folder[where]))
    assert_rerun_succeeds(work)


def test_a_failed_run_leaves_no_folder_it_made_for_its_output(work, monkeypatch):
    from tre_audio.speech.speaker import Speaker
    from tre_audio.errors import EngineError

    def broken(self, sentences, progress=None):
        raise EngineError("the voice failed")

    monkeypatch.setattr(Speaker, "speak", broken)
    (work / "kept").mkdir()
    for out in ("new/deeper/x.mp3", "kept/new/x.mp3"):
        result = CliRunner().invoke(cli, ["generate", "--script", "s.txt", "-o", out])
        assert result.exit_code == 1 and "the voice failed" in result.stderr
    assert not (work / "new").exists() and list((work / "kept").iterdir()) == []
