"""A few weeks of example practice, as tre-audio adapts it: real sessions made with
``tre-audio generate`` and real check-ins with ``tre-audio checkin``, in a throwaway home
folder. Between sessions the record's times are moved back to the day each session is
meant to fall on (the only thing not done as a person would: nobody waits four weeks
for an example); the note on sessions a week is worked out for that day by the same
function ``generate`` uses.

Prints, per session: its day, the rule that set the shaking phase, the minutes made,
what the narration said about it, and the check-in given after it; then writes the
history's table, CSV file and picture into the folder given (default: practice-example).

    .venv/bin/python scripts/practice_example.py [FOLDER]
"""

from __future__ import annotations

import datetime
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

TOOL = Path(sys.executable).with_name("tre-audio")
START = datetime.datetime(2026, 11, 2, 19, 0, tzinfo=datetime.timezone.utc)  # a Monday
SESSION = ["tremor", "--level", "first-time", "--pace", "steady"]
PLAN = [  # day, then the check-in after that session's (None: no check-in)
    (0, ["--before", "6", "--after", "4", "--felt", "about-right"]),
    (3, ["--before", "5", "--after", "3", "--felt", "more"]),
    (7, ["--before", "5", "--after", "6", "--felt", "too-much", "--note",
         "hips shook a lot; tired after"]),
    (10, ["--before", "6", "--after", "4", "--felt", "about-right"]),
    (14, ["--before", "4", "--after", "3", "--felt", "about-right"]),
    (15, ["--before", "4", "--after", "2", "--felt", "more"]),
    (16, ["--before", "5", "--after", "3", "--felt", "about-right"]),
    (17, ["--before", "3", "--after", "2", "--felt", "about-right", "--spaced-out",
          "--note", "a bit far away at the end"]),
    (21, ["--before", "4", "--after", "3", "--felt", "about-right"]),
    (24, ["--before", "4", "--after", "2", "--felt", "more"]),
    (28, None),
]


def run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([str(TOOL), *args], env=env, capture_output=True, text=True,
                          timeout=600)
    if done.returncode != 0:
        raise SystemExit(f"tre-audio {' '.join(args)}: {done.stderr}")
    return done


def backdate(record: Path, day: int) -> None:
    """The last session made, and the check-ins after it, moved to ``day``."""
    when = (START + datetime.timedelta(days=day)).isoformat(timespec="seconds")
    after = (START + datetime.timedelta(days=day, minutes=25)).isoformat(timespec="seconds")
    with sqlite3.connect(record) as db:
        (last,) = db.execute("SELECT id FROM sessions ORDER BY rowid DESC LIMIT 1").fetchone()
        db.execute("UPDATE sessions SET made = ? WHERE id = ?", (when, last))
        db.execute("UPDATE checkins SET at = ? WHERE session = ?", (after, last))


def _said(answers: list[str]) -> str:
    """A check-in as the table shows it: ``6 -> 4, too-much, spaced out, "a note"``."""
    rest = [a for a in answers if a != "--spaced-out"]
    given = dict(zip(rest[::2], rest[1::2]))
    parts = [f"{given['--before']} -> {given['--after']}", given["--felt"]]
    if "--spaced-out" in answers:
        parts.append("spaced out")
    if "--note" in given:
        parts.append(f'"{given["--note"]}"')
    return ", ".join(parts)


def main() -> None:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "practice-example").absolute()
    out.mkdir(parents=True, exist_ok=True)
    home = Path(tempfile.mkdtemp(prefix="tre-audio-example-"))
    env = {**os.environ, "HOME": str(home), "XDG_DATA_HOME": str(home / "data"),
           "XDG_CONFIG_HOME": str(home / "config")}
    record = home / "data" / "tre-audio" / "practice.sqlite3"
    print("| day | set by | shaking phase | the narration said | then the check-in |")
    print("| --- | --- | --- | --- | --- |")
    os.environ.update(XDG_DATA_HOME=env["XDG_DATA_HOME"])
    from tre_audio.practice import history  # reads the record as generate does

    for number, (day, answers) in enumerate(PLAN, start=1):
        mp3 = home / f"session-{number:02d}.mp3"
        count = history.in_week(history.load(record), START + datetime.timedelta(days=day))
        run("generate", *SESSION, "-o", str(mp3), env=env)
        about = json.loads(mp3.with_suffix(".json").read_text("utf-8"))
        weekly = [f"({count} sessions in the seven days before: rest is suggested)"] \
            if count >= history.WEEKLY else []
        if answers is not None:
            run("checkin", *answers, "--yes", env=env)
        backdate(record, day)
        said = about["dose"]["said"] or "-"
        if about["chapters"][1]["title"] == "Grounding":
            said += " (opens with grounding)"
        checked = _said(answers) if answers else "none"
        print(f"| {(START + datetime.timedelta(days=day)):%a %d %b} | "
              f"{about['dose']['rule']} | {about['tremor_minutes']:.1f} min | {said}"
              f"{' ' + weekly[0] if weekly else ''} | {checked} |")
    shown = run("history", "--csv", str(out / "practice.csv"), "--plot",
                str(out / "practice.svg"), env=env)
    (out / "history.txt").write_text(run("history", env=env).stdout, encoding="utf-8")
    print(shown.stdout, end="")


if __name__ == "__main__":
    main()
