"""Keep the user's real folders out of the tests; share one speech cache per run."""

from __future__ import annotations

import os

# Before anything can import onnxruntime (test tools may load a voice themselves): no
# telemetry from the test process either, as tre-audio's own processes do.
os.environ["ORT_DISABLE_TELEMETRY"] = "1"

import signal  # noqa: E402

import pytest

# A test run started in the background by a script (as CI may do) inherits SIGINT
# ignored, and so would every tre-audio process the tests start: Ctrl-C could not be
# tested. Give the children the usual disposition.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture(scope="session", autouse=True)
def private_home(tmp_path_factory: pytest.TempPathFactory):
    """Cache, config and data folders in temporary places for the whole run.

    Session-scoped so that module-scoped fixtures which render sessions use them too.
    """
    home = tmp_path_factory.mktemp("home")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HOME", str(home))
        patch.setenv("TRE_AUDIO_CACHE", str(home / "speech-cache"))
        for name in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME"):
            patch.setenv(name, str(home / name.lower()))
        yield home


@pytest.fixture(scope="session")
def speech_cache(private_home):
    """The speech cache every test shares (speech is keyed by its content)."""
    return private_home / "speech-cache"


@pytest.fixture(autouse=True)
def private_folders(monkeypatch, tmp_path):
    """Each test runs in a fresh, empty current folder, with a data folder of its own (a
    practice record of its own: one test's sessions do not shape another's)."""
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    return work


@pytest.fixture
def parallel(monkeypatch):
    """Sessions of a minute are split into parts as long ones are."""
    from tre_audio.mp3 import export

    monkeypatch.setattr(export, "PARALLEL_SECONDS", 10.0)
