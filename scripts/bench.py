"""Time tre-audio's classic sessions, cold and warm, for each voice, against a naive
pydub pipeline.

For each voice and session length there are three runs, each a process of its own so
that its peak memory (read with wait4) is its own:

- cold: ``tre-audio generate`` with an empty speech cache, so the voice speaks every
  sentence;
- warm: the same with that cache and another bed, so only the speech is reused;
- naive: the same session rebuilt from the library's plan and the warm cache, then mixed
  the way a first attempt with pydub would: joined piece by piece, bells and a repeated
  bed overlaid, exported with ffmpeg. It skips ducking, fades, loudness normalisation
  and limiting, so it does less work than tre-audio.

Each run's wall seconds, real-time factor (session seconds / wall seconds) and peak RSS
are printed, then whether the targets hold (they do not fail the bench): with the
default voice, cold >= 150x at 15 minutes and >= 250x at 30, warm >= 1000x at 30; with
Piper, cold >= 40x; warm memory flat with length, warm >= 5x faster than naive. The
default run takes several minutes; everything is written to a temporary folder.

Beside each target is the floor no pipeline of these parts can go under on this
machine: the CPU seconds the voice takes to speak the session's sentences, one after
another on one thread, and LAME to encode the session at tre-audio's settings, shared
over every core. A cold session needs both, a warm one the encoding; the best real-time
factor either can reach is the session's length over that. The floor leaves out what
every run also spends (starting Python, the narration, opening the voice, preparing
clips, mixing), so a run can come near it but not reach it.

Then ``tre-audio serve``'s page and feed are timed over 3,000 tiny sessions (an MP3 of a
few bytes and a valid timeline each), served on a free loopback port: the first request
(the server just opened), warm requests (nothing changed) and the first request after a
new session is written. It takes a few seconds.

    scripts/bench                    # heart and joe at 15, 30 and 60 minutes, then serve
    scripts/bench --minutes 30       # one length
    scripts/bench --voice heart      # one voice
    scripts/bench --no-naive         # cold and warm only
    scripts/bench --serve-only       # only the serve figures
    scripts/bench --studio-only      # only the studio figures

The studio's figures come from ``tre-audio serve`` run as a process of its own over
1,000 tiny sessions: how long its pages take (median of 20, warm), its memory idle
(VmRSS), and, for a 15-minute classic session (sensitive level, steady pace, the
default voice) posted to its form, the seconds from the POST to a playable MP3 with an
empty speech cache (cold) and then again (warm), with its peak memory (VmHWM). Targets:
pages <= 50 ms, cold <= 10 s, warm <= 3 s.
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import statistics
import threading
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pydub import AudioSegment

from tre_audio.sound import ambient
from tre_audio.options import settings, values
from tre_audio.sound.mix import placed_bells
from tre_audio.narration.plan import Plan, layout
from tre_audio.narration.script import Say
from tre_audio.listen.server import open_server
from tre_audio.session import narration, speaker as session_speaker
from tre_audio.speech.engine import open_engine
from tre_audio.mp3 import export
from tre_audio.options.values import Options
from tre_audio.sound.clip import SPEECH_RMS_DB
from tre_audio.beside.texts import clock

TOOL = Path(sys.executable).with_name("tre-audio")
RATE = settings.SAMPLE_RATE
SETTINGS = ((17.0, "sensitive", "steady"), (46.0, "first-time", "gentle"),
            (63.0, "regular", "slow"))
"""(up to minutes, level, pace): the classic programme reaches 15 minutes only at the
sensitive level and steady pace, 20 and 30 at the first-time level and gentle pace, 60
only at the regular level and slow pace (see ``tre-audio script --minutes N --level L
--pace P``)."""
COLD_AMBIENT, WARM_AMBIENT = "pink", "brown"
VOICES = ("heart", "joe")
COLD_TARGETS = {"heart": {15.0: 150.0, 30.0: 250.0}, "joe": {15.0: 40.0, 30.0: 40.0,
                                                             60.0: 40.0}}
"""Times real time a session made with an empty cache must reach, by voice and length."""
WARM_TARGET = (30.0, 1000.0)
"""At this length, times real time a session made again from the cache must reach."""
RSS_GROWTH_TARGET = 1.2
NAIVE_TARGET = 5.0
SERVE_SESSIONS = 3000
SERVE_WARM = 5
"""Warm requests timed for each address (the median is printed)."""


@dataclass(frozen=True)
class Run:
    wall: float
    """Seconds."""
    rss: float
    """Peak resident memory in MB."""


@dataclass(frozen=True)
class Length:
    """The runs for one voice and session length."""

    voice: str
    minutes: float
    level: str
    pace: str
    seconds: float
    """The session's length as rendered."""
    cold: Run
    warm: Run
    naive: Run | None
    floor: Floor


@dataclass(frozen=True)
class Floor:
    """CPU seconds the parts that cannot be skipped take, one thread each."""

    speaking: float
    """The voice speaking the session's distinct sentences, one after another."""
    encoding: float
    """LAME encoding the whole session at tre-audio's settings."""

    def best(self, seconds: float, cold: bool) -> float:
        """The highest real-time factor a session of ``seconds`` can reach on every core."""
        busy = (self.speaking if cold else 0.0) + self.encoding
        return seconds / (busy / cores())


def level_and_pace(minutes: float) -> tuple[str, str]:
    """The level and pace at which the classic programme can last ``minutes``."""
    for most, level, pace in SETTINGS:
        if minutes <= most:
            return level, pace
    return SETTINGS[-1][1:]  # too long for any: generate says which lengths it can make


def measure(command: Sequence[str], env: Mapping[str, str] | None = None) -> tuple[Run, str]:
    """Run ``command`` as a process of its own; its wall time, peak RSS and stdout. The
    user's profile, lexicon and templates are kept out: config and data folders are empty."""
    with (tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err,
          tempfile.TemporaryDirectory() as home):
        env = without_user_folders(env or os.environ, home)
        started = time.perf_counter()
        child = subprocess.Popen(command, env=env, stdout=out, stderr=err)
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)  # reaped by wait4, not Popen
        if child.returncode != 0:
            err.seek(0)
            sys.exit(f"bench: {' '.join(command)} failed: {err.read().decode().strip()}")
        out.seek(0)
        return Run(wall, usage.ru_maxrss / 1024), out.read().decode()


def without_user_folders(env: Mapping[str, str], home: str) -> dict[str, str]:
    """``env`` with empty config and data folders under ``home``: no profile, lexicon or
    templates of the user's."""
    return dict(env, XDG_CONFIG_HOME=f"{home}/config", XDG_DATA_HOME=f"{home}/data")


def session_seconds(output: str) -> float:
    """The length in generate's line ``PATH  M:SS  N chapters`` (or H:MM:SS)."""
    length = output.split()[-3]
    return float(sum(int(p) * 60**i for i, p in enumerate(reversed(length.split(":")))))


def generate(voice: str, minutes: float, level: str, pace: str, ambient_name: str,
             cache: Path, out: Path) -> tuple[Run, float]:
    """Render a classic session with ``tre-audio generate``; the run and its length."""
    env = dict(os.environ, TRE_AUDIO_CACHE=str(cache))
    command = [str(TOOL), "generate", "classic", "--minutes", f"{minutes:g}",
               "--level", level, "--pace", pace, "--ambient", ambient_name,
               "--voice", voice, "-o", str(out)]
    run, output = measure(command, env)
    return run, session_seconds(output)


def naive(voice: str, minutes: float, level: str, pace: str, cache: Path, out: Path) -> Run:
    """Run the naive pipeline in a process of its own (this script with ``--naive``)."""
    command = [sys.executable, str(Path(__file__).resolve()), "--naive", voice,
               f"{minutes:g}", level, pace, str(cache), str(out)]
    run, _ = measure(command)
    return run


def naive_session(voice: str, minutes: float, level: str, pace: str, cache: Path,
                  out: Path) -> None:
    """The warm session mixed with pydub as a first attempt would, written to ``out``."""
    options = Options(pace=pace, level=level, minutes=minutes, voice=voice,
                      sound=values.Sound(ambient=WARM_AMBIENT))
    events, _ = narration(options, None)  # the session's script, as generate makes it
    speaker = session_speaker(options, cache)  # the voice and lexicon generate used
    clips = speaker.speak([e.text for e in events if isinstance(e, Say)], cache_only)
    plan = layout(events, settings.pace(pace), lambda text: len(clips[text]) / RATE,
                  minutes, options.sound.interval_bell)
    track = voice_track(plan, {text: as_segment(clip) for text, clip in clips.items()})
    for start, tone in placed_bells(plan, RATE):  # the bells generate would ring, in its order
        track = track.overlay(as_segment(tone), position=round(start * 1000))
    track = track.overlay(bed(options.sound, len(track)))
    track.export(out, format="mp3", bitrate="64k").close()


def cache_only(cached: int, total: int) -> None:
    """Stop before the speaker opens its engine: the naive run only reuses speech."""
    if cached < total:
        sys.exit(f"bench: the warm cache lacks {total - cached} of {total} sentences")


def as_segment(samples: np.ndarray) -> AudioSegment:
    """Float samples in [-1, 1] as a 16-bit mono AudioSegment."""
    pcm = (np.clip(samples, -1, 32767 / 32768) * 32768).astype("<i2")
    return AudioSegment(pcm.tobytes(), sample_width=2, frame_rate=RATE, channels=1)


def silence(seconds: float) -> AudioSegment:
    return AudioSegment.silent(duration=seconds * 1000, frame_rate=RATE)


def voice_track(plan: Plan, clips: Mapping[str, AudioSegment]) -> AudioSegment:
    """The voice and its silences (bells included), joined in plan order."""
    track = silence(plan.segments[0].start)  # the lead-in
    for segment in plan.segments:
        if segment.kind == "speech":
            track = track + (clips[segment.text] + segment.level)  # the voice settles
        else:
            track = track + silence(segment.duration)
    return track + silence(plan.duration - plan.segments[-1].end)  # the tail


def bed(sound: values.Sound, milliseconds: int) -> AudioSegment:
    """The ambient loop repeated for ``milliseconds``, as far under the voice as
    tre-audio's bed between sentences (it is not ducked under speech here)."""
    samples = ambient.loop(sound.ambient, RATE, sound.seed)
    assert samples is not None  # the warm bed is never "none"
    loop = as_segment(samples / np.max(np.abs(samples)))  # RMS 1 would clip in 16 bits
    repeated = loop * math.ceil(milliseconds / len(loop))
    return repeated + (SPEECH_RMS_DB - sound.bed_level - loop.dBFS)


def floor(voice: str, minutes: float, level: str, pace: str, made: Path) -> Floor:
    """``measure_floor`` in a process of its own (this script with ``--floor``), so that
    the voice it loads does not swell the processes this one starts next (a child's peak
    RSS counts what it shared of this process before it ran the command). Like the runs
    beside it, it reads no profile, lexicon or templates of the user's."""
    command = [sys.executable, str(Path(__file__).resolve()), "--floor", voice,
               f"{minutes:g}", level, pace, str(made)]
    with tempfile.TemporaryDirectory() as home:
        done = subprocess.run(command, env=without_user_folders(os.environ, home),
                              capture_output=True, text=True)
    if done.returncode != 0:
        why = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "no message"
        sys.exit(f"bench: the floor of {voice} at {minutes:g} minutes failed: {why}")
    found = json.loads(done.stdout)
    return Floor(found["speaking"], found["encoding"])


def measure_floor(voice: str, minutes: float, level: str, pace: str, made: Path) -> Floor:
    """What the session ``made`` (an MP3 of these settings) costs at the least: its
    sentences spoken and its audio encoded at tre-audio's settings, each timed on one
    thread. The MP3 is read first, so that a missing one is told at once."""
    if not made.is_file():
        sys.exit(f"bench: no session to measure at {made}")
    channels = int(subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "a:0", "-show_entries",
         "stream=channels", "-of", "csv=p=0", str(made)],
        check=True, capture_output=True, text=True).stdout.strip())
    pcm = subprocess.run(["ffmpeg", "-v", "error", "-i", str(made), "-f", "s16le", "-ac",
                          str(channels), "-ar", str(RATE), "-"],
                         check=True, capture_output=True).stdout
    options = Options(pace=pace, level=level, minutes=minutes, voice=voice,
                      sound=values.Sound(ambient=COLD_AMBIENT))
    events, _ = narration(options, None)
    with tempfile.TemporaryDirectory() as cache:
        speaker = session_speaker(options, Path(cache))
    said = list(dict.fromkeys(speaker.spoken(e.text) for e in events if isinstance(e, Say)))
    engine = open_engine(speaker.engine_name, speaker.voice, speaker.wpm)
    try:
        started = time.thread_time()
        for text in said:
            engine.synthesize(text)
        speaking = time.thread_time() - started
    finally:
        engine.close()
    encoder = export.new_encoder(RATE, channels)
    started = time.thread_time()
    for at in range(0, len(pcm), 1 << 20):
        encoder.encode(pcm[at : at + (1 << 20)])
    encoder.flush()
    return Floor(speaking, time.thread_time() - started)


def bench_length(voice: str, minutes: float, work: Path, with_naive: bool) -> Length:
    """Cold, warm and (``with_naive``) naive runs of one voice and length, printed as
    they end."""
    level, pace = level_and_pace(minutes)
    cache = work / f"cache-{voice}-{minutes:g}"
    out = work / f"{voice}-{minutes:g}"
    row = (voice, minutes, level, pace)
    cold, seconds = generate(voice, minutes, level, pace, COLD_AMBIENT, cache,
                             out / "cold.mp3")
    print_row(*row, "cold", seconds, cold)
    warm, _ = generate(voice, minutes, level, pace, WARM_AMBIENT, cache, out / "warm.mp3")
    print_row(*row, "warm", seconds, warm)
    naive_run = None
    if with_naive:
        naive_run = naive(voice, minutes, level, pace, cache, out / "naive.mp3")
        print_row(*row, "naive", seconds, naive_run, naive_run.wall / warm.wall)
    least = floor(voice, minutes, level, pace, out / "cold.mp3")
    print(f"{'':<6} {'':>4}  {'':<18} floor: speaking {least.speaking:.1f} CPU s, encoding "
          f"{least.encoding:.1f} CPU s: at best {least.best(seconds, True):.0f}x cold, "
          f"{least.best(seconds, False):.0f}x warm", flush=True)
    return Length(voice, minutes, level, pace, seconds, cold, warm, naive_run, least)


def cores() -> int:
    """The cores this process may run on (its affinity, where the system tells it)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def processor() -> str:
    """The CPU's model name where Linux tells it, else the architecture: figures from two
    machines of the same size can differ twofold (a voice's speed follows the CPU)."""
    try:
        lines = Path("/proc/cpuinfo").read_text().split("\n\n")[0].splitlines()
    except OSError:
        return platform.machine()
    fields = {key.strip(): value.strip() for key, _, value in (l.partition(":") for l in lines)}
    if "model name" not in fields:
        return platform.machine()
    return (f"{fields['model name']} (family {fields.get('cpu family', '?')}, model "
            f"{fields.get('model', '?')}, {platform.machine()})")


def print_header(with_naive: bool) -> None:
    print(f"tre-audio bench on {processor()}, {cores()} cores, "
          f"Python {platform.python_version()}")
    if with_naive:
        print("naive: pydub joins and overlays of the warm session; it skips ducking, fades, "
              "loudness normalisation and limiting, so it does less work than tre-audio")
    print(f"{'voice':<6} {'min':>4}  {'level/pace':<18} {'run':<6} {'length':>7} "
          f"{'wall s':>7} {'x real time':>12} {'peak RSS MB':>12} {'naive/warm':>11}")


def print_row(voice: str, minutes: float, level: str, pace: str, run_name: str,
              seconds: float, run: Run, ratio: float | None = None) -> None:
    slower = f"{ratio:>10.1f}x" if ratio is not None else ""
    print(f"{voice:<6} {minutes:>4g}  {level + '/' + pace:<18} {run_name:<6} "
          f"{clock(seconds):>7} "
          f"{run.wall:>7.1f} {seconds / run.wall:>12.0f} {run.rss:>12.0f} {slower}".rstrip(),
          flush=True)


def print_targets(lengths: Sequence[Length]) -> None:
    """Each target with its figures and whether it holds on this machine."""
    print("\ntargets (reported, never failed):")
    for voice in dict.fromkeys(length.voice for length in lengths):
        mine = [length for length in lengths if length.voice == voice]
        aimed = [length for length in mine
                 if length.minutes in COLD_TARGETS.get(voice, {})]
        if aimed:
            cold = [length.seconds / length.cold.wall for length in aimed]
            wanted = [COLD_TARGETS[voice][length.minutes] for length in aimed]
            print_target(f"{voice}: cold >= " + ", ".join(
                f"{w:g}x at {length.minutes:g} min" for w, length in zip(wanted, aimed)),
                aimed, cold, "x", all(c >= w for c, w in zip(cold, wanted)), cold=True)
        at = [length for length in mine if length.minutes == WARM_TARGET[0]]
        if at:
            warm = [length.seconds / length.warm.wall for length in at]
            print_target(f"{voice}: warm >= {WARM_TARGET[1]:g}x real time at "
                         f"{WARM_TARGET[0]:g} min", at, warm, "x", min(warm) >= WARM_TARGET[1],
                         cold=False)
        short, long = mine[0], mine[-1]
        growth = long.warm.rss / short.warm.rss
        print(f"  {verdict(growth <= RSS_GROWTH_TARGET)}  {voice}: warm peak RSS at "
              f"{long.minutes:g} min <= {RSS_GROWTH_TARGET:g}x at {short.minutes:g} min: "
              f"{long.warm.rss:.0f} MB / {short.warm.rss:.0f} MB = {growth:.2f}x")
        naive_walls = [length.naive.wall for length in mine if length.naive is not None]
        if naive_walls:  # every length has a naive run, or none has
            ratios = [wall / length.warm.wall for wall, length in zip(naive_walls, mine)]
            print_target(f"{voice}: naive wall / warm wall >= {NAIVE_TARGET:g}x", mine,
                         ratios, "x", min(ratios) >= NAIVE_TARGET, ".1f")


def print_target(label: str, lengths: Sequence[Length], figures: Sequence[float],
                 unit: str, holds: bool, spec: str = ".0f",
                 cold: bool | None = None) -> None:
    """One target's line; ``cold`` (True or False): with the floor of each length."""
    each = ", ".join(f"{length.minutes:g} min {figure:{spec}}{unit}" + (
        f" (floor {length.floor.best(length.seconds, cold):.0f}x)" if cold is not None else "")
                     for length, figure in zip(lengths, figures))
    print(f"  {verdict(holds)}  {label}: {each}")


def verdict(holds: bool) -> str:
    return "yes" if holds else "no "


def fake_session(folder: Path, name: str) -> None:
    """A session the server lists: an MP3 of a few bytes and a valid timeline."""
    timeline = {"format": "tre-audio manifest 1", "title": f"Session {name}",
                "audio": f"{name}.mp3", "duration": 905.0,
                "chapters": [{"index": i, "title": title, "start": 300.0 * i,
                              "end": 300.0 * (i + 1)}
                             for i, title in enumerate(("Arriving", "Shaking", "Resting"))]}
    (folder / f"{name}.json").write_text(json.dumps(timeline), encoding="utf-8")
    (folder / f"{name}.mp3").write_bytes(b"\xff\xfb\x90\x00" * 4)


def timed_get(port: int, target: str) -> float:
    """Seconds until the whole answer to ``GET target`` is read (it must be a 200)."""
    started = time.perf_counter()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request("GET", target)
        response = connection.getresponse()
        response.read()
    finally:
        connection.close()
    if response.status != 200:
        sys.exit(f"bench: GET {target} answered {response.status}")
    return time.perf_counter() - started


def bench_serve() -> None:
    """Milliseconds a request to serve's page and feed takes over ``SERVE_SESSIONS``
    sessions in one folder: first (opening the server included), warm, and after a new
    session appears."""
    with tempfile.TemporaryDirectory(prefix="tre-audio-bench-serve-") as work:
        folder = Path(work)
        for index in range(SERVE_SESSIONS):
            fake_session(folder, f"s{index:05d}")
        hour_ago = time.time() - 3600  # as a folder not written to this very second
        os.utime(folder, (hour_ago, hour_ago))
        started = time.perf_counter()
        server = open_server(folder, port=0)
        opened = time.perf_counter() - started
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            port = int(server.server_address[1])
            targets = ("/", "/feed.xml", "/art/classic-3000.png", "/art/spiral-192.png")
            first = {t: timed_get(port, t) + (opened if t == "/" else 0.0) for t in targets}
            warm = {t: statistics.median(timed_get(port, t) for _ in range(SERVE_WARM))
                    for t in targets}
            changed = {}
            for number, target in enumerate(targets):
                fake_session(folder, f"new{number}")
                changed[target] = timed_get(port, target)
            rows = [(t, first[t], warm[t], changed[t]) for t in targets]
        finally:
            server.shutdown()
            server.server_close()
            thread.join()
    print(f"serve over {SERVE_SESSIONS:,} sessions in one folder, ms a request "
          "(first: opening the server included for /)")
    print(f"  {'address':<22} {'first':>8} {'warm':>8} {'changed':>8}")
    for target, opened, again, after in rows:
        print(f"  {target:<22} {opened * 1000:>8.1f} {again * 1000:>8.1f} "
              f"{after * 1000:>8.1f}", flush=True)


STUDIO_SESSIONS = 1_000
STUDIO_TARGETS = {"page": 0.050, "cold": 10.0, "warm": 3.0}


def memory(pid: int) -> dict[str, int]:
    """The process's VmRSS and VmHWM (its peak), in bytes."""
    found = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            found[key] = int(value.split()[0]) * 1024
    return found


def bench_studio() -> None:
    """Seconds from posting the studio's form to a playable session, cold and warm, its
    pages' answer times and the server's memory (see the module's docstring)."""
    import re
    import urllib.parse

    with tempfile.TemporaryDirectory(prefix="tre-audio-bench-studio-") as work:
        folder = Path(work) / "sessions"
        folder.mkdir()
        for index in range(STUDIO_SESSIONS):
            fake_session(folder, f"s{index:05d}")
        hour_ago = time.time() - 3600  # as a folder not written to this very second
        os.utime(folder, (hour_ago, hour_ago))
        env = {**os.environ, "TRE_AUDIO_CACHE": str(Path(work) / "cache"),
               "HOME": str(Path(work) / "home")}
        process = subprocess.Popen([str(TOOL), "serve", str(folder), "--port", "0"],
                                   stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                   text=True, env=env)
        try:
            url = process.stdout.readline().strip() if process.stdout else ""
            port = int(url.rsplit(":", 1)[1].strip("/"))
            pages = {target: statistics.median(timed_get(port, target) for _ in range(20))
                     for target in ("/", "/make", "/session/s00001")}
            idle = memory(process.pid)["VmRSS"]
            form = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            form.request("GET", "/make")
            found = re.search(r'name="csrf" value="([^"]+)"', form.getresponse().read().decode())
            if found is None:
                sys.exit("bench: the studio's form has no csrf token")
            token = found.group(1)
            form.close()
            made: dict[str, float] = {}
            busy: list[float] = []
            for run in ("cold", "warm"):
                body = urllib.parse.urlencode({
                    "programme": "classic", "minutes": "15", "level": "sensitive",
                    "pace": "steady", "csrf": token})
                started = time.perf_counter()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                connection.request("POST", "/make", body, {
                    "Content-Type": "application/x-www-form-urlencoded",
                    "Origin": f"http://127.0.0.1:{port}"})
                answer = connection.getresponse()
                answer.read()
                job = answer.getheader("Location") or ""
                connection.close()
                if answer.status != 303:
                    sys.exit(f"bench: the studio refused the form ({answer.status})")
                deadline = time.monotonic() + 600
                while time.monotonic() < deadline:
                    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                    connection.request("GET", job)
                    page = connection.getresponse().read().decode()
                    connection.close()
                    listen = re.search(r'class="listen" href="[^"]*/session/([^"]+)"', page)
                    if listen:
                        break
                    if "<h1>Not made</h1>" in page:
                        sys.exit("bench: the studio did not make the session")
                    busy.append(timed_get(port, "/"))
                    time.sleep(0.02)
                else:
                    sys.exit("bench: the session was not made in 10 minutes")
                mp3 = f"/files/{listen.group(1)}.mp3"
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                connection.request("GET", mp3, headers={"Range": "bytes=0-65535"})
                playable = connection.getresponse()
                playable.read()
                connection.close()
                if playable.status != 206:
                    sys.exit(f"bench: the new session's MP3 answered {playable.status}")
                made[run] = time.perf_counter() - started
            peak = memory(process.pid)["VmHWM"]
        finally:
            process.terminate()
            process.wait()
    mb = 1 << 20
    print(f"studio (tre-audio serve, a process of its own) over {STUDIO_SESSIONS:,} sessions")
    for target, seconds in pages.items():
        print(f"  {verdict(seconds <= STUDIO_TARGETS['page'])}  GET {target:<16} "
              f"{seconds * 1000:7.1f} ms (median of 20; target <= 50 ms)")
    for run in ("cold", "warm"):
        print(f"  {verdict(made[run] <= STUDIO_TARGETS[run])}  15-minute session, {run}: "
              f"{made[run]:.1f} s from the POST to a playable MP3 "
              f"(target <= {STUDIO_TARGETS[run]:g} s)")
    print(f"  GET / while a session is made: median {statistics.median(busy) * 1000:.1f} ms, "
          f"at most {max(busy) * 1000:.1f} ms ({len(busy)} requests)")
    print(f"  memory: {idle / mb:.0f} MB idle, {peak / mb:.0f} MB at most while making")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, nargs="+", default=[15.0, 30.0, 60.0],
                        help="session lengths to render (default: 15 30 60)")
    parser.add_argument("--voice", nargs="+", default=list(VOICES),
                        help="voices to render with (default: heart joe)")
    parser.add_argument("--no-naive", action="store_true",
                        help="leave out the naive pydub pipeline")
    parser.add_argument("--naive", nargs=6,
                        metavar=("VOICE", "MINUTES", "LEVEL", "PACE", "CACHE", "OUT"),
                        help="run only the naive pipeline, once (the bench runs this itself)")
    parser.add_argument("--floor", nargs=5, metavar=("VOICE", "MINUTES", "LEVEL", "PACE", "MP3"),
                        help="print only the floor's CPU seconds as JSON, for the session "
                        "MP3 made with these settings (the bench runs this itself)")
    parser.add_argument("--serve-only", action="store_true",
                        help="only time serve's page and feed over 3,000 sessions")
    parser.add_argument("--studio-only", action="store_true",
                        help="only the studio's figures (pages, making, memory)")
    args = parser.parse_args()
    if args.naive:
        voice, minutes, level, pace, cache, out = args.naive
        naive_session(voice, float(minutes), level, pace, Path(cache), Path(out))
        return
    if args.floor:
        voice, minutes, level, pace, made = args.floor
        least = measure_floor(voice, float(minutes), level, pace, Path(made))
        print(json.dumps({"speaking": least.speaking, "encoding": least.encoding}))
        return
    with_naive = not args.no_naive
    if args.serve_only or args.studio_only:
        print(f"tre-audio bench on {processor()}, {cores()} cores, "
              f"Python {platform.python_version()}")
        bench_serve() if args.serve_only else bench_studio()
        return
    print_header(with_naive)
    with tempfile.TemporaryDirectory(prefix="tre-audio-bench-") as folder:
        lengths = [bench_length(voice, minutes, Path(folder), with_naive)
                   for voice in dict.fromkeys(args.voice)
                   for minutes in sorted(set(args.minutes))]
    print_targets(lengths)
    print()
    bench_serve()
    print()
    bench_studio()


if __name__ == "__main__":
    main()
