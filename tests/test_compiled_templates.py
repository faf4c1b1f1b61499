"""Compiled templates are kept in the cache folder and reused; a cache that cannot be
used costs only time."""

from __future__ import annotations

from pathlib import Path

import jinja2
import pytest

from tre_audio import render
from tre_audio.session import Options, script_text

OPTIONS = Options(level="sensitive", pace="steady", minutes=15.0)


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    """A fresh cache folder, with the template environment made anew for it."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("TRE_AUDIO_CACHE", str(folder))
    render._environment.cache_clear()
    yield folder
    render._environment.cache_clear()


def test_a_second_render_uses_the_compiled_templates(cache, monkeypatch):
    first = script_text(OPTIONS)
    assert len(list((cache / "templates").glob("*.cache"))) >= 12  # session and exercises
    render._environment.cache_clear()  # as a new process would start

    def no_compiling(*args, **kwargs):
        raise AssertionError("a template was compiled again")

    monkeypatch.setattr(jinja2.Environment, "compile", no_compiling)
    assert script_text(OPTIONS) == first


@pytest.mark.parametrize("where", ["inside a file", "emptied entries"])
def test_a_cache_that_cannot_be_used_only_costs_time(where, cache, monkeypatch):
    expected = script_text(OPTIONS)
    render._environment.cache_clear()
    if where == "inside a file":  # every read and write fails with NotADirectoryError
        cache.parent.joinpath("file").write_text("")
        monkeypatch.setenv("TRE_AUDIO_CACHE", str(cache.parent / "file" / "cache"))
    else:
        for entry in (cache / "templates").iterdir():
            entry.write_bytes(b"")
    assert script_text(OPTIONS) == expected
