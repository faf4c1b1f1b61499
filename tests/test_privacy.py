"""tre-audio never touches the network: each command runs in a real process (and its
speech worker processes) under an audit hook that refuses any socket but a local one.

The hook is ``privacy/sitecustomize.py``, loaded by every Python process that finds it
on ``PYTHONPATH``, which child processes inherit. Piper (onnxruntime) runs in the
command's own process; the system voice in a worker process of its own. (That ``serve``
listens only where it is told is tested with the server.)
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

HOOK = Path(__file__).parent / "privacy"
TOOL = Path(sys.executable).with_name("tre-audio")
SCRIPT = "[chapter: A]\n[bell]\nHello there, and welcome.\n[hold 5-20s]\nRest now.\n"


def hooked(args: list[str], folder: Path, log: Path) -> tuple[subprocess.CompletedProcess,
                                                             list[str]]:
    """Run ``args`` under the hook with an empty speech cache (so the voice really
    speaks); the process, and the lines the hook logged."""
    env = {**os.environ, "PYTHONPATH": str(HOOK), "TRE_AUDIO_PRIVACY_LOG": str(log),
           "TRE_AUDIO_CACHE": str(folder / "empty-cache")}
    done = subprocess.run(args, cwd=folder, env=env, capture_output=True, text=True,
                          timeout=300)
    return done, log.read_text(encoding="utf-8").splitlines() if log.exists() else []


def test_the_hook_refuses_and_logs_a_socket_in_a_child_of_a_child(tmp_path):
    """So that the tests below can fail: a grandchild opening a socket is caught."""
    code = ("import subprocess, sys; subprocess.run([sys.executable, '-c', "
            "'import socket; socket.create_connection((\"127.0.0.1\", 9), timeout=1)'])")
    log = tmp_path / "log"
    done, lines = hooked([sys.executable, "-c", code], tmp_path, log)
    assert "PermissionError: the privacy test refuses network access" in done.stderr
    assert len([line for line in lines if line.startswith("HOOKED")]) == 2
    assert any(line.startswith("NETWORK") for line in lines)
    local, _ = hooked([sys.executable, "-c", "import socket; socket.socketpair()"],
                      tmp_path, tmp_path / "local-log")
    assert local.returncode == 0, local.stderr


@pytest.mark.parametrize(
    ("args", "processes"),
    [
        (["generate", "--script", "s.txt", "-o", "out/s.mp3"], 1),
        (["script", "classic", "--minutes", "30"], 1),
        (["say", "Hello there. Rest now."], 1),
        (["say", "Hello there.", "--engine", "system"], 2),
        (["course", "tremor", "--engine", "system", "--weeks", "1", "--per-week", "1",
          "-o", "out/course"], 2),
    ],
    ids=["generate", "script", "say", "say-system", "course"],
)
def test_a_command_opens_no_network_connection(args, processes, private_folders, tmp_path):
    """``processes``: how many Python processes must carry the hook (the system voice
    speaks from a worker process)."""
    from tre_audio.cli import cli

    if args[0] not in cli.commands:  # pragma: no cover - commands still being added
        pytest.fail(f"there is no '{args[0]}' command yet")
    (private_folders / "s.txt").write_text(SCRIPT, encoding="utf-8")
    done, lines = hooked([str(TOOL), *args], private_folders, tmp_path / "log")
    assert done.returncode == 0, done.stderr
    assert [line for line in lines if line.startswith("NETWORK")] == []
    assert len({line.split()[1] for line in lines if line.startswith("HOOKED")}) >= processes
