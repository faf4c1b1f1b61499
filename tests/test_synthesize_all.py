"""Sentences spoken side by side: order kept, work bounded, failures not waited out."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from tre_audio.errors import EngineError
from tre_audio.speech.engine import synthesize_all


class Fake:
    """Speaks a sentence as as many samples as it has characters, slowly."""

    name = "fake"
    identity = "fake"
    sample_rate = 22050

    def __init__(self, workers: int, fail_on: str = "") -> None:
        self.workers, self.fail_on = workers, fail_on
        self.busy = self.most_busy = 0
        self.spoken: list[str] = []
        self._lock = threading.Lock()

    def synthesize(self, text: str) -> np.ndarray:
        with self._lock:
            self.busy += 1
            self.most_busy = max(self.most_busy, self.busy)
        time.sleep(0.05 if len(text) % 2 else 0.01)  # finish out of order
        with self._lock:
            self.busy -= 1
            self.spoken.append(text)
        if text == self.fail_on:
            raise EngineError(f"failed on {text}")
        return np.zeros(len(text), dtype=np.float32)

    def close(self) -> None:
        pass


TEXTS = [f"sentence {'x' * n}" for n in range(12)]


@pytest.mark.parametrize("workers", [1, 2, 4])
def test_clips_come_in_order_with_at_most_workers_at_once(workers):
    engine = Fake(workers)
    clips = list(synthesize_all(engine, TEXTS))
    assert [len(c) for c in clips] == [len(t) for t in TEXTS]
    assert engine.most_busy == workers


def test_a_failure_stops_the_rest_without_speaking_them():
    engine = Fake(2, fail_on=TEXTS[1])
    with pytest.raises(EngineError, match="failed on"):
        list(synthesize_all(engine, TEXTS))
    assert len(engine.spoken) <= 4  # the failed one and those already under way
