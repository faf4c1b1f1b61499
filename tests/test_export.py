"""The MP3 writer: blocks encoded in a thread of their own, and failures that end it."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from measure import RATE, decode
from tre_audio.mp3.export import Mp3Writer


def within(seconds: float, action) -> None:
    """Run ``action``; fail if it has not returned after ``seconds``."""
    errors: list[BaseException] = []

    def run() -> None:
        try:
            action()
        except BaseException as error:
            errors.append(error)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), "the writer hung"
    if errors:
        raise errors[0]


def test_blocks_are_encoded_in_order(tmp_path):
    tone = (0.3 * np.sin(2 * np.pi * 440 * np.arange(RATE * 3) / RATE)).astype(np.float32)
    path = tmp_path / "tone.mp3"
    with Mp3Writer(path, RATE) as writer:
        for block in np.array_split(tone, 7):
            writer.write(block)
    decoded = decode(path)
    assert abs(len(decoded) / RATE - 3.0) < 0.1
    rms = float(np.sqrt(np.mean(np.square(decoded[RATE : 2 * RATE]))))
    assert abs(20 * np.log10(rms / (0.3 / np.sqrt(2)))) < 0.2  # LAME's 0.95 made up for


@pytest.mark.parametrize("blocks", [0, 1, 3])
def test_an_error_while_writing_ends_the_writer_promptly(tmp_path, blocks):
    def fail() -> None:
        with Mp3Writer(tmp_path / "x.mp3", RATE) as writer:
            for _ in range(blocks):
                writer.write(np.zeros(RATE, dtype=np.float32))
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        within(10, fail)
