"""A session is understood: its classic session, as a listener hears it (bed, ducking and
mastering included), transcribed by an offline recogniser (see ``hearing``) and scored
against the words the timeline says were spoken.

heart's speech is seeded, so the same session is the same audio and the same words
heard on every run: the bound holds by measure, not by chance.
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


@pytest.fixture(scope="module")
def heard(tmp_path_factory) -> Heard:
    out = tmp_path_factory.mktemp("heard") / "classic.mp3"
    result = CliRunner().invoke(cli, ["generate", "classic", "--voice", "heart", "-o",
                                      str(out)])
    assert result.exit_code == 0, result.stderr
    return hear(out)


def test_the_classic_session_is_understood(heard):
    assert len(heard.said.split()) > 1500
    assert heard.error_rate <= 0.05, heard.misheard()


@pytest.mark.parametrize("what", SAFETY)
def test_the_safety_sentences_are_heard_word_for_word(heard, what):
    """Each sentence that says it, cut out of the session as heard, is heard whole."""
    found = heard.alone(SAFETY[what])
    assert found, f"the session does not say: {SAFETY[what]}"
    for said, alone in found:
        assert said in alone, (what, said, alone)
