"""Run a call that might never return (a read of a named pipe, a runaway template) and
fail the test, rather than hang it, if it does not end in time."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest


def finishes(call: Callable[[], Any], seconds: float = 20.0) -> Any:
    """``call()``'s result, or what it raised; a test failure if it is still running
    after ``seconds`` (it is left running in a daemon thread, which ends with the run)."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["result"] = call()
        except BaseException as error:  # noqa: BLE001 (re-raised in the test's thread)
            outcome["error"] = error

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        pytest.fail(f"still running after {seconds:g} s")
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("result")
