"""Print the README's option table from the command line's declaration (the option
table and generate's own options); paste it over the table in the README (the test
tests/test_cli.py checks it).

    .venv/bin/python scripts/options_table.py   (after scripts/install --test: it reads the tests)
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1] / "tests"))

import test_cli  # noqa: E402  (from the tests folder)

print("\n".join(test_cli.option_rows()))
