"""A session is understood: its classic session, as a listener hears it (bed, ducking and
mastering included), transcribed by an offline recogniser (see ``hearing``) and scored
against the words the timeline says were spoken.

heart's speech is seeded, so the same session is the same audio and the same words
heard on every run: its bound holds by measure, not by chance. Piper samples its
durations and sound afresh for every sentence, so joe's session differs from run to run:
over 5 runs its error rate was 4.6-5.8% (mean 5.1%; heart's 0.9%), so its bound is set
over that spread (7.5%), not at the 5% heart meets, and its safety sentences, one of
them misheard by a word in one run of five ("sit up" as "sit out"), are not held to
word for word.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from hearing import Heard, hear
from tre_audio.cli import cli

pytestmark = pytest.mark.slow

SAFETY = {
    "the brake": "bring your knees together",
    "the stop": "straighten your legs out along the floor, roll onto one side",
    "permission to stop": "stopping is a success",
    "the crisis pointer": "call your local emergency number",
}
"""Words of the safety sentences that must be heard exactly, by what they are."""


BOUND = {"heart": 0.05, "joe": 0.075}
"""The highest word error rate allowed for each shipped natural voice."""


def _heard(folder: Path, voice: str) -> Heard:
    out = folder / f"classic-{voice}.mp3"
    result = CliRunner().invoke(cli, ["generate", "classic", "--voice", voice, "-o",
                                      str(out)])
    assert result.exit_code == 0, result.stderr
    return hear(out)


@pytest.fixture(scope="module")
def heard(tmp_path_factory) -> Heard:
    return _heard(tmp_path_factory.mktemp("heard"), "heart")


@pytest.mark.parametrize("voice", BOUND)
def test_the_classic_session_is_understood(voice, heard, tmp_path):
    session = heard if voice == "heart" else _heard(tmp_path, voice)
    assert len(session.said.split()) > 1500
    assert session.error_rate <= BOUND[voice], session.misheard()


@pytest.mark.parametrize("what", SAFETY)
def test_the_safety_sentences_are_heard_word_for_word(heard, what):
    """Each sentence that says it, cut out of the session as heard, is heard whole."""
    found = heard.alone(SAFETY[what])
    assert found, f"the session does not say: {SAFETY[what]}"
    for said, alone in found:
        assert said in alone, (what, said, alone)
