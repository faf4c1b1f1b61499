"""Print the README's bad-input table by running every case in tests/test_bad_input.py.

    .venv/bin/python scripts/bad_input_table.py

Each case runs in a fresh temporary folder with empty config and data folders, as the
test does; paste the output over the table in the README (the test then checks it).
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1] / "tests"))
for variable in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "TRE_AUDIO_CACHE"):
    os.environ[variable] = tempfile.mkdtemp()

import test_bad_input as bad  # noqa: E402  (after the folders are set)


def main() -> None:
    config = Path(os.environ["XDG_CONFIG_HOME"]) / "tre-audio"
    print("| bad input | example | what tre-audio says | exit |")
    print("| --- | --- | --- | --- |")
    for case in bad.CASES:
        shutil.rmtree(config, ignore_errors=True)
        work = Path(tempfile.mkdtemp())
        os.chdir(work)
        message, _, _ = bad.run_case(case, work, config)
        command = "tre-audio " + " ".join(bad._shell(a) for a in case.args)
        shown = message.replace("|", "\\|")
        print(f"| {case.what} | `{command}` | {shown} | {case.code} |")
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
