"""No code is loaded from the cache folder: compiled templates are not cached on disk,
since whoever can write that folder would run code as the user (Jinja's bytecode cache
unpickles a checksum and unmarshals code from it)."""

from __future__ import annotations

import marshal
import pickle
from pathlib import Path

import jinja2.bccache
import pytest
from click.testing import CliRunner

from tre_audio.narration import render
from tre_audio.cli import cli

ARGS = ["script", "--level", "sensitive", "--pace", "steady", "--minutes", "15"]


class _Touch:
    """Unpickled, it creates the file ``path``: the proof that code ran."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return self.path.touch, ()


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    """A fresh cache folder, with the template environment made anew for it."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("TRE_AUDIO_CACHE", str(folder))
    render._environment.cache_clear()
    yield folder
    render._environment.cache_clear()


def test_a_crafted_file_in_the_cache_folder_runs_no_code(cache, tmp_path):
    ran = tmp_path / "ran"
    # a bytecode-cache entry for every shipped template, where Jinja would look for it
    environment = jinja2.Environment(loader=jinja2.PackageLoader("tre_audio.narration", "templates"))
    bytecode = jinja2.bccache.FileSystemBytecodeCache(str(cache / "templates"))
    (cache / "templates").mkdir(parents=True)
    for name in environment.list_templates():
        _, filename, _ = environment.loader.get_source(environment, name)
        key = bytecode.get_cache_key(name, filename)
        entry = Path(bytecode._get_cache_filename(jinja2.bccache.Bucket(environment, key, "")))
        entry.write_bytes(jinja2.bccache.bc_magic + pickle.dumps(_Touch(ran))
                          + marshal.dumps(compile("", "<crafted>", "exec")))
    planted = sorted(p.name for p in (cache / "templates").iterdir())
    assert len(planted) >= 30

    result = CliRunner().invoke(cli, ARGS)
    assert result.exit_code == 0, result.stderr
    assert "[chapter tremor: Tremor]" in result.stdout
    assert not ran.exists(), "a file planted in the cache folder ran code"
    assert sorted(p.name for p in (cache / "templates").iterdir()) == planted


def test_nothing_is_written_to_the_cache_folder(cache):
    assert CliRunner().invoke(cli, ARGS).exit_code == 0
    assert not (cache / "templates").exists()
