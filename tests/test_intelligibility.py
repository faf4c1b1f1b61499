"""A session is understood: its classic session, as a listener hears it (bed, ducking and
mastering included), transcribed by an offline recogniser (see ``hearing``) and scored
against the words the timeline says were spoken.

Both shipped natural voices are seeded (heart by hibari's seed, joe by its noise drawn
from each sentence: ``speech/seeded.py``), so the same session is the same audio and
the same words heard on every run: the bounds hold by measure, not by chance.
``scripts/hearing.py`` shows how joe's figure spreads over other takes of its noise.
"""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from hearing import Heard, hear
from tre_audio.cli import cli

pytestmark = pytest.mark.slow

SAFETY = {
    "the brake": "bring your knees together",
    "the stop": "straighten your legs out along the floor, roll onto one side",
    "permission to stop": "if you stop, that is a success",
    "the crisis pointer": "call your local emergency number",
}
"""Words of the safety sentences that must be heard exactly, by what they are."""


BOUND = {"heart": 0.05, "joe": 0.05}
"""The highest word error rate allowed for each shipped natural voice."""


@pytest.fixture(scope="module")
def heard(tmp_path_factory):
    """Each voice's classic session as heard, made once for the module."""
    made: dict[str, Heard] = {}

    def of(voice: str) -> Heard:
        if voice not in made:
            folder = tmp_path_factory.mktemp(voice)
            out = folder / f"classic-{voice}.mp3"
            result = CliRunner().invoke(cli, ["generate", "classic", "--voice", voice,
                                              "--no-record", "-o", str(out)])
            assert result.exit_code == 0, result.stderr
            made[voice] = hear(out)
        return made[voice]

    return of


@pytest.mark.parametrize("voice", BOUND)
def test_the_classic_session_is_understood(voice, heard):
    session = heard(voice)
    assert len(session.said.split()) > 1500
    assert session.error_rate <= BOUND[voice], session.misheard()


@pytest.mark.parametrize("voice", BOUND)
@pytest.mark.parametrize("what", SAFETY)
def test_the_safety_sentences_are_heard_word_for_word(heard, voice, what):
    """Each sentence that says it, cut out of the session as heard, is heard whole."""
    found = heard(voice).alone(SAFETY[what])
    assert found, f"the session does not say: {SAFETY[what]}"
    for said, alone in found:
        assert said in alone, (what, said, alone)
