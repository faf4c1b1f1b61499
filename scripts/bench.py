"""Render classic sessions cold and warm; print real-time factor and peak RSS.

Each render is a separate ``tre-audio generate`` process, so its peak memory is its own
(read with wait4). Cold starts from an empty speech cache; warm reuses it with another
bed, so only speech is saved. Targets on 2 cores: cold >= 40x, warm >= 300x real time.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TOOL = Path(sys.executable).with_name("tre-audio")


def render(minutes: float, out: Path, cache: Path, ambient: str) -> tuple[float, float, float]:
    """Wall seconds, peak RSS in MB and the session's length in seconds."""
    env = dict(os.environ, TRE_AUDIO_CACHE=str(cache))
    command = [str(TOOL), "generate", "classic", "--minutes", f"{minutes:g}",
               "--ambient", ambient, "-o", str(out)]
    started = time.perf_counter()
    child = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    output = child.stdout.read().decode() if child.stdout else ""
    if os.waitstatus_to_exitcode(status) != 0:
        error = child.stderr.read().decode() if child.stderr else ""
        sys.exit(f"bench: render failed: {error.strip()}")
    length = output.split()[1]  # "PATH  M:SS  N chapters"
    parts = [int(p) for p in length.split(":")]
    seconds = sum(p * 60**i for i, p in enumerate(reversed(parts)))
    return wall, usage.ru_maxrss / 1024, float(seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, nargs="+", default=[30.0])
    args = parser.parse_args()
    print(f"tre-audio bench on {platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}")
    print(f"{'session':>9} {'run':>5} {'wall s':>8} {'x real time':>12} {'peak RSS MB':>12}")
    with tempfile.TemporaryDirectory(prefix="tre-audio-bench-") as folder:
        work = Path(folder)
        for minutes in args.minutes:
            cache = work / f"cache-{minutes:g}"
            for run, ambient in (("cold", "pink"), ("warm", "brown")):
                wall, rss, length = render(minutes, work / f"{run}.mp3", cache, ambient)
                print(f"{minutes:>7g} m {run:>5} {wall:>8.1f} {length / wall:>12.0f} {rss:>12.0f}")


if __name__ == "__main__":
    main()
