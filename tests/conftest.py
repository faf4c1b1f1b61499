"""Keep the user's real folders out of the tests; share one speech cache per run."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def speech_cache(tmp_path_factory: pytest.TempPathFactory):
    return tmp_path_factory.mktemp("speech-cache")


@pytest.fixture(autouse=True)
def private_folders(monkeypatch, tmp_path, speech_cache):
    """Cache, config and data folders in temporary places; cwd in a fresh folder."""
    monkeypatch.setenv("TRE_AUDIO_CACHE", str(speech_cache))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return work
