"""Make a session: programme or script -> plan -> speech -> mix -> MP3 and transcript.

This is the library's front door; the command line is a thin layer over it.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from . import ambient, render, settings
from .errors import InvalidOption, OutputError
from .export import Tags, atomic_file, check_writable, encode_mp3, tag_mp3
from .mix import mix
from .plan import Plan, estimate_speech, layout
from .script import Event, Say, parse, read
from .speech.cache import ClipCache, default_folder
from .speech.engine import DEFAULT_ENGINE, engine_module
from .speech.speaker import Speaker
from .texts import NOTICE, annotated_script, transcript

Progress = Callable[[str, int, int], None]
"""Called with a stage (speech, mixing, writing), the work done and the work in all."""

DEFAULT_OUTPUT = Path("output")


@dataclass(frozen=True)
class Options:
    """Everything that shapes one session; checked when made."""

    programme: str = "classic"
    pace: str = settings.DEFAULT_PACE
    level: str = settings.DEFAULT_LEVEL
    minutes: float | None = None
    name: str = ""
    engine: str = DEFAULT_ENGINE
    voice: str | None = None
    ambient: str = ambient.DEFAULT_AMBIENT
    seed: int = 0

    def __post_init__(self) -> None:
        render.programme(self.programme)
        settings.pace(self.pace)
        settings.level(self.level)
        settings.check_minutes(self.minutes)
        ambient.check(self.ambient)
        engine_module(self.engine)


@dataclass(frozen=True)
class Session:
    path: Path
    transcript: Path
    plan: Plan


def _events(options: Options, script: Path | None) -> tuple[list[Event], str]:
    if script is not None:
        return read(script), script.stem
    text = render.render(
        options.programme,
        pace=settings.pace(options.pace),
        level=settings.level(options.level),
        minutes=options.minutes,
        listener=options.name,
    )
    return parse(text, source=f"programme '{options.programme}'"), options.programme


def script_text(options: Options) -> str:
    """The narration script with its cues and planned timings (nothing is spoken)."""
    events, label = _events(options, None)
    pace = settings.pace(options.pace)
    planned = layout(events, pace, estimate_speech, options.minutes)
    header = [
        f"tre-audio narration script: {label}, {options.pace} pace, {options.level} level",
        "Edit the words freely and keep the [cues]; make audio with:",
        "  tre-audio generate --script THIS_FILE",
        "Timings are estimates until the voice has spoken.",
        "",
    ]
    return annotated_script(events, planned, header)


def _output_path(out: Path | None, label: str, options: Options, plan: Plan) -> Path:
    if out is not None:
        return out
    minutes = f"{options.minutes:g}" if options.minutes else f"{round(plan.duration / 60)}"
    return DEFAULT_OUTPUT / f"{label}-{options.pace}-{minutes}min.mp3"


def _check_output(path: Path) -> None:
    """Fail early, before any speech is made, if ``path`` cannot be written."""
    if path.is_dir():
        raise InvalidOption("--out", f"output path is a folder: {path}")
    if path.suffix.lower() != ".mp3":
        raise InvalidOption("--out", f"output file must end in .mp3: {path}")
    folder = path.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise OutputError(f"cannot create output folder {folder}: {error.strerror}") from None
    check_writable(folder)


def generate(
    options: Options,
    out: Path | None = None,
    script: Path | None = None,
    progress: Progress | None = None,
    cache: Path | None = None,
) -> Session:
    """Make the session's MP3 and transcript; return where they are and the plan."""
    events, label = _events(options, script)
    pace = settings.pace(options.pace)
    layout(events, pace, estimate_speech, options.minutes)  # fails fast if unfittable
    if out is not None:
        _check_output(out)
    else:
        _check_output(DEFAULT_OUTPUT / f"{label}.mp3")

    speaker = Speaker(options.engine, options.voice, settings.VOICE_WPM,
                      ClipCache(cache or default_folder(), settings.SAMPLE_RATE))
    sentences = [e.text for e in events if isinstance(e, Say)]
    clips = speaker.speak(sentences, _stage(progress, "speech"))
    rate = settings.SAMPLE_RATE
    plan = layout(events, pace, lambda text: len(clips[text]) / rate, options.minutes)

    _report(progress, "mixing", 0, 1)
    pcm = mix(plan, clips, ambient.loop(options.ambient, rate, options.seed), rate)
    _report(progress, "mixing", 1, 1)

    path = _output_path(out, label, options, plan)
    title = _title(label, options, plan)
    tags = Tags(
        title=title,
        album="tre-audio sessions",
        date=datetime.date.today().isoformat(),
        comment=NOTICE,
    )
    text_path = path.with_suffix(".txt")
    _report(progress, "writing", 0, 1)
    with atomic_file(path) as mp3, atomic_file(text_path) as txt:
        encode_mp3(pcm, rate, mp3)
        tag_mp3(mp3, tags, plan.chapters)
        txt.write_text(transcript(events, plan, title), encoding="utf-8")
    _report(progress, "writing", 1, 1)
    return Session(path, text_path, plan)


def _title(label: str, options: Options, plan: Plan) -> str:
    who = f"{options.name.strip()}'s " if options.name.strip() else ""
    minutes = round(plan.duration / 60)
    return f"{who}{label} session, {options.pace} pace, {minutes} min"


def _stage(progress: Progress | None, stage: str) -> Callable[[int, int], None] | None:
    if progress is None:
        return None
    return lambda done, total: progress(stage, done, total)


def _report(progress: Progress | None, stage: str, done: int, total: int) -> None:
    if progress is not None:
        progress(stage, done, total)
