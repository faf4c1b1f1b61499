"""Print a Piper voice's words a minute at some length scales, as tre-audio's
calibration measures them (each the mean of several runs), for ``_MEASURED_RATES``.

    .venv/bin/python scripts/voice_rate.py                 # the bundled voice
    .venv/bin/python scripts/voice_rate.py VOICE --runs 8 --scales 1.0 1.45 1.55 1.65
"""

from __future__ import annotations

import argparse

import numpy as np

from tre_audio.options.settings import VOICE_WPM
from tre_audio.speech import piper


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("voice", nargs="?", default=piper.DEFAULT_VOICE)
    parser.add_argument("--runs", type=int, default=8)
    parser.add_argument("--scales", type=float, nargs="+", default=[1.0, 1.45, 1.55, 1.65])
    args = parser.parse_args()
    path = piper.model_path(args.voice)
    engine = piper.open_engine(args.voice, VOICE_WPM)
    rates = []
    for scale in sorted(args.scales, reverse=True):
        runs = np.array([piper._measured_wpm(engine, scale) for _ in range(args.runs)])
        print(f"length scale {scale:g}: {runs.mean():.1f} wpm (standard deviation {runs.std():.1f})")
        rates.append(f"({runs.mean():.1f}, {scale:g})")
    print(f'("{path.stem}", {path.stat().st_size}): ({", ".join(rates)}),')


if __name__ == "__main__":
    main()
