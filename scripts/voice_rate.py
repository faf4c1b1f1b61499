"""Print a neural voice's words a minute at some length scales, as tre-audio's
calibration measures them (each the mean of several runs), for ``_MEASURED_RATES``.

    .venv/bin/python scripts/voice_rate.py                        # Piper's bundled voice
    .venv/bin/python scripts/voice_rate.py heart --engine hibari --scales 1.0 1.1 1.2 1.3
"""

from __future__ import annotations

import argparse
import importlib

import numpy as np

from tre_audio.options.settings import VOICE_WPM


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("voice", nargs="?")
    parser.add_argument("--engine", choices=("piper", "hibari"), default="piper")
    parser.add_argument("--runs", type=int, default=8)
    parser.add_argument("--scales", type=float, nargs="+", default=[1.0, 1.45, 1.55, 1.65])
    args = parser.parse_args()
    module = importlib.import_module(f"tre_audio.speech.{args.engine}")
    voice = args.voice or module.DEFAULT_VOICE
    path = module.model_path(voice)
    engine = module.open_engine(voice, VOICE_WPM)
    rates = []
    for scale in sorted(args.scales, reverse=True):
        runs = np.array([module._measured_wpm(engine, scale) for _ in range(args.runs)])
        print(f"length scale {scale:g}: {runs.mean():.1f} wpm (standard deviation {runs.std():.1f})")
        rates.append(f"({runs.mean():.1f}, {scale:g})")
    key = path.stem if args.engine == "piper" else path.name
    print(f'("{key}", {path.stat().st_size}): ({", ".join(rates)}),')


if __name__ == "__main__":
    main()
