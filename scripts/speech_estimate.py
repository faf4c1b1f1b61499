"""Fit the speech estimate (``plan.SPEECH_ESTIMATE``) to the built-in programmes as a
voice speaks them, and print how far the estimate in use and words alone are off.

Every sentence of every programme, at the first and last levels and at its natural
length and two fitted ones, is spoken (from the speech cache where it is there) and
measured as a session uses it: trimmed and levelled.

    .venv/bin/python scripts/speech_estimate.py              # the default voice, heart
    .venv/bin/python scripts/speech_estimate.py --voice joe
    .venv/bin/python scripts/speech_estimate.py --voice en-us+f2   # a system voice
"""

from __future__ import annotations

import argparse

import numpy as np

from tre_audio.options import settings
from tre_audio.errors import TreAudioError
from tre_audio.narration.plan import SPEECH_ESTIMATE, estimate_speech, speech_features
from tre_audio.narration.programmes import programmes
from tre_audio.narration.script import spoken
from tre_audio.session import narration, speaker
from tre_audio.options.values import Options

LEVELS = ("sensitive", "regular")
MINUTES = (None, 12, 20)


def sentences() -> list[str]:
    found: set[str] = set()
    for programme in programmes():
        for level in LEVELS:
            for minutes in MINUTES:
                options = Options(programme=programme, level=level, minutes=minutes)
                try:
                    found.update(spoken(narration(options)[0]))
                except TreAudioError:  # a length the programme cannot reach
                    continue
    return sorted(found)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--voice", help="a voice by its name in tre-audio list voices")
    args = parser.parse_args()
    texts = sentences()
    clips = speaker(Options(voice=args.voice)).speak(texts)  # as a session speaks them
    real = np.array([len(clips[text]) / settings.SAMPLE_RATE for text in texts])
    columns = np.array([speech_features(text) for text in texts])
    fitted, *_ = np.linalg.lstsq(columns, real, rcond=None)

    def report(name: str, guess: np.ndarray) -> None:
        error = guess - real
        print(f"{name:<22} error a sentence {np.sqrt(np.mean(error**2)):.2f} s (most "
              f"{np.abs(error).max():.2f} s), in all {100 * (guess.sum() / real.sum() - 1):+.1f}%")

    print(f"{args.voice or 'the default voice'}: {len(texts)} sentences, "
          f"{real.sum():.0f} s of speech")
    report("words at VOICE_WPM", np.array([len(t.split()) * 60 / settings.VOICE_WPM
                                           for t in texts]))
    report(f"in use {SPEECH_ESTIMATE}", np.array([estimate_speech(t) for t in texts]))
    report(f"fitted {tuple(round(float(c), 4) for c in fitted)}", columns @ fitted)


if __name__ == "__main__":
    main()
