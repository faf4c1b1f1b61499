"""Addresses that last: ``serve --lan`` keeps its token, and ``serve`` its port, in the
config folder, so a home-screen shortcut, a remembered place and a podcast subscription
still work after a restart; ``--new-token`` ends every old address."""

from __future__ import annotations

import json
import socket
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from serving import get, make_session, serving
from tre_audio.cli import cli
from tre_audio.errors import TreAudioError
from tre_audio.listen import DEFAULT_PORT, kept


@pytest.fixture
def config(tmp_path, monkeypatch) -> Path:
    """A config folder of this test's own."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    return tmp_path / "config" / "tre-audio" / kept.FILE_NAME


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("kept") / "sessions"
    folder.mkdir()
    make_session(folder, "morning")
    return folder


def test_a_restart_keeps_the_token_and_a_new_token_ends_the_old_addresses(folder, config):
    with serving(folder, "--lan") as first:
        assert get(first.port, first.prefix + "/feed.xml").status == 200
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    assert stat.S_IMODE(config.parent.stat().st_mode) == 0o700
    with serving(folder, "--lan") as again:
        assert again.prefix == first.prefix
        assert get(again.port, first.prefix + "/session/morning").status == 200
    with serving(folder, "--lan", "--new-token") as renewed:
        assert renewed.prefix != first.prefix
        assert get(renewed.port, first.prefix + "/").status == 403
        assert get(renewed.port, renewed.prefix + "/").status == 200
    assert json.loads(config.read_text())["token"] == renewed.prefix[1:]


def started(lan: bool, port: int | None, path: Path) -> kept.Addresses:
    """The addresses as serve takes them, kept once it listens."""
    chosen = kept.addresses(lan, port, path=path)
    kept.keep(chosen, path)
    return chosen


def test_the_port_given_is_kept_for_the_next_time_and_port_0_is_not(config):
    assert started(False, None, config) == kept.Addresses(DEFAULT_PORT, None)
    assert not config.exists()  # nothing new to keep
    assert kept.addresses(False, 9123, path=config).port == 9123
    assert not config.exists()  # not before the server listens
    assert started(False, 9123, config).port == 9123
    assert started(True, None, config).port == 9123
    assert started(True, 0, config).port == 0
    assert started(True, None, config).port == 9123
    assert json.loads(config.read_text())["port"] == 9123


def test_a_port_serve_could_not_have_is_not_kept(folder, config):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(cli, ["serve", str(folder), "--port", str(port)])
    assert result.exit_code == 1 and "cannot listen on" in result.stderr
    assert not config.exists()


def test_a_kept_file_is_made_the_user_s_alone(folder, config):
    config.parent.mkdir(parents=True)
    config.write_text(json.dumps({"token": "A" * 22}), encoding="utf-8")
    config.chmod(0o644)  # as restored from a backup
    with serving(folder, "--lan") as served:
        assert served.prefix == "/" + "A" * 22
    assert stat.S_IMODE(config.stat().st_mode) == 0o600


@pytest.mark.parametrize("written", ["not json", '{"token": "short", "port": "80"}',
                                     '["a list"]', '{"token": "a/b\\\\u0000c", "port": 70000}'])
def test_a_damaged_file_is_written_anew_with_a_new_token(config, written):
    config.parent.mkdir(parents=True)
    config.write_text(written, encoding="utf-8")
    made = started(True, None, config)
    assert made.port == DEFAULT_PORT and len(made.token) >= 22
    assert json.loads(config.read_text()) == {"token": made.token}
    assert started(True, None, config).token == made.token


@pytest.mark.parametrize("written", [b" " * (kept.LIMIT + 1), b"[" * 4000 + b"]" * 4000])
def test_a_file_too_large_or_too_deep_is_taken_for_none(config, written):
    config.parent.mkdir(parents=True)
    config.write_bytes(written)
    assert started(False, None, config).port == DEFAULT_PORT  # serving here never needs it
    made = started(True, None, config)
    assert json.loads(config.read_text()) == {"token": made.token}


def test_a_file_that_cannot_be_kept_is_one_line_and_exit_1(folder, config):
    config.parent.mkdir(parents=True)
    config.mkdir()  # a folder where the file would be
    assert started(False, None, config).port == DEFAULT_PORT  # nothing to keep: fine
    result = CliRunner().invoke(cli, ["serve", str(folder), "--lan", "--port", "0"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.stderr == f"tre-audio: cannot write {config}: it is a folder; nothing " \
        "was written\n"
    with pytest.raises(TreAudioError):
        started(True, None, config)


def test_a_new_token_without_lan_is_a_usage_error(folder, config):
    result = CliRunner().invoke(cli, ["serve", str(folder), "--new-token"])
    assert result.exit_code == 2
    assert result.stderr.startswith("tre-audio: --new-token is for --lan") and \
        result.stderr.count("\n") == 1
    assert not config.exists()
