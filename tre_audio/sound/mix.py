"""Render any stretch of a planned session: speech, bells, chimes, breath tones and a
ducked bed.

Nothing is mixed ahead: ``Mixer.render(start, end)`` builds just the samples asked for,
so a session of any length is made block by block in constant memory. (Joining or
overlaying pydub segments copies the whole session for every clip: 10-26 s for 30
minutes, against under 2 s here; see scripts/bench.)
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from . import ambient
from . import tones
from .bells import bell
from ..narration.plan import Plan
from ..options.values import Sound
from .clip import SPEECH_RMS_DB

FADE_IN = 4.0
FADE_OUT = 6.0
DUCK_ATTACK = 0.35
DUCK_RELEASE = 1.2
"""Seconds the bed takes to dip before the voice starts and to rise after it stops."""
BINAURAL_CARRIER = 200.0
BINAURAL_BELOW_BED_DB = 4.0
CONTROL_STEP = 220
"""Samples (10 ms) between the points of the ducking envelope; those between are
interpolated."""


def _smoothstep(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3 - 2 * x)


class Ducking:
    """How far the bed is lowered under the voice, over time."""

    def __init__(self, plan: Plan, depth: float) -> None:
        self.depth = depth
        self.speech = _spans(plan)
        self.ends = [end for _, end in self.speech]

    def db(self, times: np.ndarray) -> np.ndarray:
        """The bed's gain (dB, 0 or below) at each of the ascending ``times`` (s)."""
        weight = np.zeros(len(times))
        if not len(times):
            return weight
        first = bisect.bisect_left(self.ends, times[0] - DUCK_RELEASE)
        for a, b in self.speech[first:]:
            if a - DUCK_ATTACK > times[-1]:
                break
            rise = _smoothstep((times - (a - DUCK_ATTACK)) / DUCK_ATTACK)
            fall = 1 - _smoothstep((times - b) / DUCK_RELEASE)
            weight = np.maximum(weight, np.minimum(rise, fall))
        return -self.depth * weight

    def curve(self, duration: float, bed_level: float, step: float = 0.25
              ) -> list[tuple[float, float]]:
        """(seconds, dB under the voice) points of the bed's level, for pictures."""
        times = np.arange(0.0, duration + step, step)
        return [(float(t), float(-bed_level + d)) for t, d in zip(times, self.db(times))]


def _spans(plan: Plan) -> list[tuple[float, float]]:
    """The stretches the bed ducks under: each sentence, and each run of words counted
    over breath phases as one stretch, so the bed does not pump on every count."""
    phases = sorted((s.start, s.end) for s in plan.segments if s.kind == "breathe")
    starts = [a for a, _ in phases]

    def counted(start: float) -> bool:
        i = bisect.bisect_right(starts, start + 1e-9) - 1
        return i >= 0 and start < phases[i][1]

    spans: list[list[float]] = []
    was_counted = False
    for s in (s for s in plan.segments if s.kind == "speech"):
        now = counted(s.start)
        if now and was_counted and s.start - spans[-1][1] < DUCK_ATTACK + DUCK_RELEASE:
            spans[-1][1] = max(spans[-1][1], s.end)
        else:
            spans.append([s.start, s.end])
        was_counted = now
    return [(a, b) for a, b in spans]


class Mixer:
    """A planned session, ready to render stretch by stretch."""

    def __init__(self, plan: Plan, clips: Mapping[str, np.ndarray], sound: Sound,
                 sample_rate: int) -> None:
        self.rate = sample_rate
        self.length = int(round(plan.duration * sample_rate))
        self.channels = sound.channels
        self.sound = sound
        with ThreadPoolExecutor(max_workers=1) as pool:  # the bed is made beside the bells
            bed = pool.submit(ambient.loop, sound.ambient, sample_rate, sound.seed)
            self.sounds = self._sounds(plan, clips, sound)
            self.bed = bed.result()
        self.starts = [start for start, _ in self.sounds]
        self.longest = max((len(s) for _, s in self.sounds), default=0)
        self.ducking = Ducking(plan, sound.duck)
        self.bed_gain = 10 ** ((SPEECH_RMS_DB - sound.bed_level) / 20)

    def _sounds(self, plan: Plan, clips: Mapping[str, np.ndarray], sound: Sound
                ) -> list[tuple[int, np.ndarray]]:
        """Every sentence, bell and breath tone with its first sample, in time order."""
        sounds: list[tuple[int, np.ndarray]] = []
        speech = [s for s in plan.segments if s.kind == "speech"]
        for segment in speech:
            sounds.append((self._sample(segment.start),
                           clips[segment.text] * np.float32(10 ** (segment.level / 20))))
        if sound.bells:
            sounds += [(self._sample(start), chime)
                       for start, chime in placed_bells(plan, self.rate)]
        # breath tones always play: once the voice stops counting they carry the rhythm
        sounds += [(self._sample(start), tone)
                   for start, tone in placed_tones(plan, self.rate) if len(tone)]
        sounds.sort(key=lambda item: item[0])
        return sounds

    def _sample(self, seconds: float) -> int:
        return int(round(seconds * self.rate))

    def render(self, start: int, end: int) -> np.ndarray:
        """Samples ``start`` to ``end`` (outside the session: silence) as float32, shape
        (n,) in mono or (n, 2) with a binaural tone."""
        n = end - start
        out = np.zeros(n, dtype=np.float32)
        inside = slice(max(start, 0), min(end, self.length))
        if inside.stop > inside.start:
            bed = self._bed(inside.start, inside.stop)
            if bed is not None:
                out[inside.start - start : inside.stop - start] = bed
        first = bisect.bisect_left(self.starts, start - self.longest)
        last = bisect.bisect_left(self.starts, end)
        for at, sound in self.sounds[first:last]:
            a, b = max(at, start), min(at + len(sound), end)
            if a < b:
                out[a - start : b - start] += sound[a - at : b - at]
        if self.channels == 1:
            return out
        stereo = np.repeat(out[:, None], 2, axis=1)
        if inside.stop > inside.start:
            stereo[inside.start - start : inside.stop - start] += self._binaural(
                inside.start, inside.stop
            )
        return stereo

    def _envelope(self, start: int, end: int) -> np.ndarray | float:
        """The bed's fade in and out of the session, per sample (1.0 between them)."""
        if FADE_IN * self.rate <= start and end <= self.length - FADE_OUT * self.rate:
            return 1.0
        index = np.arange(start, end, dtype=np.float64)
        fade_in = np.clip(index / (FADE_IN * self.rate), 0, 1)
        fade_out = np.clip((self.length - index) / (FADE_OUT * self.rate), 0, 1)
        return (fade_in * fade_out).astype(np.float32)

    def _bed(self, start: int, end: int) -> np.ndarray | None:
        if self.bed is None:
            return None
        size = len(self.bed)
        pieces, at = [], start
        while at < end:  # the loop's stretches that cover start..end
            take = min(end - at, size - at % size)
            pieces.append(self.bed[at % size : at % size + take])
            at += take
        loop = np.concatenate(pieces) if len(pieces) > 1 else pieces[0].copy()
        loop *= np.float32(self.bed_gain)
        loop *= self._envelope(start, end)
        duck = self._duck(start, end)
        if duck is not None:
            loop *= duck
        return loop

    def _duck(self, start: int, end: int) -> np.ndarray | None:
        """The ducking gain per sample, or None where the bed is not lowered."""
        step = CONTROL_STEP
        # on one grid for the whole session, so that blocks join seamlessly
        first = start // step * step
        points = np.arange(first, end + step, step)
        db = self.ducking.db(points / self.rate)
        if not db.any():
            return None
        gain = (10 ** (db / 20)).astype(np.float32)
        ramp = np.arange(step, dtype=np.float32) / step
        curve = (gain[:-1, None] + (gain[1:] - gain[:-1])[:, None] * ramp[None, :]).ravel()
        return curve[start - first : end - first]

    def _binaural(self, start: int, end: int) -> np.ndarray:
        """A low carrier in the left ear and the carrier plus the beat in the right."""
        assert self.sound.binaural is not None
        t = np.arange(start, end, dtype=np.float64) / self.rate
        level = 10 ** ((SPEECH_RMS_DB - self.sound.bed_level - BINAURAL_BELOW_BED_DB) / 20)
        amplitude = np.full(end - start, level * np.sqrt(2), dtype=np.float32)
        amplitude *= self._envelope(start, end)
        left = np.sin(2 * np.pi * BINAURAL_CARRIER * t)
        right = np.sin(2 * np.pi * (BINAURAL_CARRIER + self.sound.binaural) * t)
        return (np.stack([left, right], axis=1) * amplitude[:, None]).astype(np.float32)


def placed_bells(plan: Plan, sample_rate: int) -> list[tuple[float, np.ndarray]]:
    """Each bell of the plan with its tone: the first opens, those after the last words
    close, the others mark a new chapter; then the interval chimes."""
    bells = [s.start for s in plan.segments if s.kind == "bell"]
    spoken = [s.end for s in plan.segments if s.kind == "speech"]
    last_word = max(spoken, default=0.0)
    placed = []
    for i, start in enumerate(bells):
        kind = "start" if i == 0 else "end" if start >= last_word else "transition"
        placed.append((start, bell(sample_rate, kind)))
    placed += [(start, bell(sample_rate, "interval")) for start in plan.chimes]
    return placed


def placed_tones(plan: Plan, sample_rate: int) -> list[tuple[float, np.ndarray]]:
    """Each breathe segment of the plan with its tone (empty for a hold), at a level
    ``tones.TONE_BELOW_VOICE_DB`` under the voice."""
    phases = [(s.phase, s.start, s.duration) for s in plan.segments if s.kind == "breathe"]
    level = SPEECH_RMS_DB - tones.TONE_BELOW_VOICE_DB
    return [
        (start, tones.tone(sample_rate, phase, seconds, low, high, level))
        for (phase, start, seconds), (low, high) in zip(phases, tones.pitches(phases))
    ]
