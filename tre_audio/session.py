"""Make a session: programme or script -> plan -> speech -> mix -> MP3 and transcript.

This is the library's front door; the command line is a thin layer over it.
"""

from __future__ import annotations

import dataclasses
import datetime
import math
import os
import uuid
from contextlib import contextmanager
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .sound import ambient
from .beside import cover, plot, timedtext
from .beside.files import BESIDE, EVERY, PICTURE, SOME, suffixes_of
from .narration import programmes, render
from .options import settings, table
from .options.values import Options, Recipe, Sound
from .files.atomic import (atomic_file, atomic_files, check_name, check_replaceable,
                           check_writable)
from .errors import InvalidOption, OutputError, PracticeError
from .mp3.export import Mp3Writer, Tags, tag_mp3
from .speech.lexicon import Lexicon, find as find_lexicon, layered
from .speech.lexicon import shipped as shipped_lexicon
from .sound.master import SESSION_SPEECH_LUFS, Master, Mastered, master
from .sound.mix import Ducking, Mixer
from .narration.plan import (BELL_SECONDS, ChapterMark, Plan, Segment, estimate_speech,
                             layout, minutes_text, reaches, span_text)
from .narration.script import (MAX_SENTENCE, SENTENCE_RULE, Event, one_line, parse, read,
                               split_sentences, spoken)
from .speech.cache import ClipCache, default_folder
from .speech.engine import engine_module, listed_name, resolve as resolve_voice, speaking
from .speech.speaker import Speaker
from .beside.texts import annotated_script, notice, transcript
from .practice import store
from .practice.dose import Dose

Progress = Callable[[str, int, int], None]
"""Called with a stage (speech, measuring, writing), the work done and the work in all."""

DEFAULT_OUTPUT = Path("output")


@dataclass(frozen=True)
class Resolved:
    """A session's options with every name turned into what it names, once, at the edge
    (``resolve``): what the stages are given. ``options`` stay as chosen, by name."""

    options: Options
    pace: settings.Pace
    level: settings.Level
    made_of: programmes.Parts
    language: str
    engine: str
    voice: str
    """By the name ``list voices`` prints (the engine's default's, if none was chosen)."""
    from_script: bool = False
    """Made from a script, whose words no option shapes."""


def resolve(options: Options, script: Path | None = None) -> Resolved:
    """``options`` resolved: refused if they name what no registry has (programme, bed,
    engine, voice, exercises), an engine with another engine's voice, or what the
    session would not use (``programmes.check_fits``); the value object checked the rest
    when it was made. Without a voice or engine chosen, a programme in another language
    than English speaks with the first voice of its language (none here: refused)."""
    made_of = programmes.parts(options.programme, options.recipe.exercises,
                               options.templates)
    ambient.check(options.sound.ambient)
    level = settings.level(options.level)
    if script is None:  # a script's words are written: what would shape them is not used
        _check_recipe(made_of, options.recipe, level, options.templates)
    language = "en" if script is not None or options.recipe.exercises is not None else \
        programmes.programme(options.programme, options.templates).language
    engine, voice = options.engine, options.voice
    if voice is None and language.split("-")[0] != "en":
        found = speaking(language, engine)
        if found is None:
            which = f"{engine} voice" if engine else "voice"
            raise InvalidOption("--voice", f"no {which} here speaks {language}, the language "
                                f"of programme '{options.programme}': add a Piper voice for "
                                "it to voices/, or give --voice; see: tre-audio list voices")
        voice = found.name
    engine, _ = resolve_voice(engine, voice)  # the voice's engine, or refused
    voice = listed_name(engine, voice) if voice else engine_module(engine).DEFAULT_VOICE
    return Resolved(options, settings.pace(options.pace), level, made_of, language, engine,
                    voice, script is not None)


def check(options: Options) -> None:
    """Refuse ``options`` that ``resolve`` refuses."""
    resolve(options)


def speaker(options: Options, cache: Path | None = None) -> Speaker:
    """The voice ``options`` speak with (and their lexicon, read now), its clips kept in
    ``cache``."""
    return _speaker(resolve(options), cache, find_lexicon(options.lexicon))


def _speaker(resolved: Resolved, cache: Path | None, lexicon: Lexicon | None) -> Speaker:
    """The voice, speaking with the shipped respellings under the user's ``lexicon``."""
    return Speaker(resolved.engine, resolved.voice, settings.VOICE_WPM,
                   ClipCache(cache or default_folder(), settings.SAMPLE_RATE),
                   layered(shipped_lexicon(resolved.voice.partition("+")[0],
                                           resolved.language), lexicon))


MAX_REPETITIONS = 30
MAX_BREATHS = 20
MAX_EXERCISE_HOLD = 600


def _check_recipe(made_of: programmes.Parts, recipe: Recipe, level: settings.Level,
                  templates: Path | None) -> None:
    if recipe.exercises is not None or recipe.tune:
        known = render.exercises(templates)
        programmes.check_list(recipe.exercises or (), _exercises_refused)
        for name in recipe.exercises or ():
            if name not in known:
                raise InvalidOption("exercises", f"unknown exercise '{name}'; see: "
                                    "tre-audio list exercises")
        if recipe.exercises == ():
            raise InvalidOption("exercises", "the list of exercises is empty")
        for name, values in recipe.tune.items():
            if name not in known:
                raise InvalidOption(f"exercise.{name}", f"unknown exercise '{name}'; see: "
                                    "tre-audio list exercises")
            for key, value in values.items():
                _check_tune(name, key, value, known[name].tunes)
    programmes.check_fits(made_of, tremor=recipe.tremor,
                          tremor_most=level.tremor_high, level_name=level.name,
                          pattern=recipe.pattern, tune=recipe.tune)


def _exercises_refused(message: str) -> InvalidOption:
    return InvalidOption("exercises", message)


def _check_tune(name: str, key: str, value: float, tunes: tuple[str, ...]) -> None:
    option = f"exercise.{name}.{key}"
    if key not in tunes:
        allowed = ", ".join(tunes) or "nothing"
        raise InvalidOption(option, f"{name} has no setting '{key}'; it takes: {allowed}")
    top = {"hold": MAX_EXERCISE_HOLD, "repetitions": MAX_REPETITIONS,
           "breaths": MAX_BREATHS}[key]
    if isinstance(value, bool) or not isinstance(value, int | float) or not (
        math.isfinite(value) and 1 <= value <= top
    ):
        unit = " seconds" if key == "hold" else ""
        raise InvalidOption(option, f"{name} {key} must be a number from 1 to {top}{unit}")


@dataclass(frozen=True)
class Session:
    path: Path
    beside: tuple[Path, ...]
    """Transcript, subtitles, timeline and picture, in ``beside.files.WRITTEN`` order."""
    plan: Plan
    mastered: Mastered
    kept: Path | None = None
    """An earlier session's MP3 that had the name this one would have taken by default:
    kept, and this session given the next free name."""
    id: str = ""
    """Its own id (the timeline's ``id``)."""
    made: str = ""
    """When it was made (ISO 8601, UTC)."""

    @property
    def transcript(self) -> Path:
        return self.beside[0]


def narration(options: Options, script: Path | None = None) -> tuple[list[Event], str]:
    """The session's script events (from ``script``, or rendered from the programme)
    and its label (the script's name or the programme's). Rendered to fit
    ``options.minutes``: with the full lead-ins wherever they fit, else the shorter ones.
    The options are resolved first (``resolve``)."""
    return _narration(resolve(options, script), script)


def check_length(options: Options, script: Path | None = None) -> None:
    """Refuse ``options.minutes`` if the session (``script``'s, or the programme's) cannot
    last that long, as ``generate`` does before anything is spoken."""
    events, _ = narration(options, script)
    layout(events, settings.pace(options.pace), estimate_speech, options.minutes)


def _narration(resolved: Resolved, script: Path | None) -> tuple[list[Event], str]:
    options = resolved.options
    if script is not None:
        return read(script), one_line(script.stem) or "script"
    label = options.label or ("custom" if options.recipe.exercises is not None
                              else options.programme)
    full = _rendered(resolved, short=False)
    if options.minutes is None:
        return full, label
    return _fitting(resolved, full), label


def _rendered(resolved: Resolved, *, short: bool) -> list[Event]:
    options = resolved.options
    text = render.render(
        options.programme,
        pace=resolved.pace,
        level=resolved.level,
        minutes=options.minutes,
        listener=options.name,
        binaural=options.sound.binaural is not None,
        recipe=options.recipe,
        templates=options.templates,
        short=short,
    )
    return parse(text, source=f"programme '{options.programme}'")


def _fitting(resolved: Resolved, full: list[Event]) -> list[Event]:
    """``full`` if it can last ``options.minutes``, else the shorter wording if that can
    (estimated speech); else an ``InvalidOption`` naming what the two can last."""
    options = resolved.options
    target = (options.minutes or 0) * 60
    full_reach = _reach(resolved, full)
    if reaches(target, *full_reach):
        return full
    short = _rendered(resolved, short=True)
    short_reach = _reach(resolved, short)
    if target < full_reach[0] and reaches(target, *short_reach):
        return short
    recipe = options.recipe
    shaping = [f"{recipe.tremor:g} minutes of tremor" if recipe.tremor else "",
               f"the {recipe.pattern} pattern" if recipe.pattern else "",
               "the body limits " + "/".join(sorted(recipe.limits)) if recipe.limits else "",
               "your exercise settings" if recipe.tune else ""]
    also = ", with " + " and ".join(filter(None, shaping)) + "," if any(shaping) else ""
    raise InvalidOption("--minutes", f"cannot fit {minutes_text(options.minutes or 0)}: "
                        f"{resolved.made_of.where} at the {resolved.pace.name} pace and the "
                        f"{options.level} level{also} can last "
                        f"{_lengths(full_reach, short_reach)}")


def _reach(resolved: Resolved, events: list[Event]) -> tuple[float, float]:
    """The shortest and longest ``events`` can last, in seconds (estimated speech)."""
    planned = layout(events, resolved.pace, estimate_speech, None,
                     resolved.options.sound.interval_bell)
    return planned.shortest, planned.longest


def _lengths(full: tuple[float, float], short: tuple[float, float]) -> str:
    """What the full and the short wording can last, together: ``12.0 to 60.0 minutes``
    (or two ranges, where they do not meet)."""
    low, high = short[0], full[1]
    if not reaches(full[0], low, short[1]):
        return f"{low / 60:.1f} to {short[1] / 60:.1f} or {span_text(full[0] / 60, high / 60)}"
    return span_text(low / 60, high / 60)


def natural_minutes(options: Options) -> float:
    """How long a session of these options lasts when no length is asked (estimated)."""
    resolved = resolve(dataclasses.replace(options, minutes=None))
    planned = layout(_rendered(resolved, short=False), resolved.pace, estimate_speech, None,
                     options.sound.interval_bell)
    return planned.duration / 60


def reachable(options: Options) -> str:
    """How long a session of these options (their ``minutes`` aside) can last, as the
    refusal of a length out of reach says it: ``12.0 to 60.0 minutes``."""
    return _lengths(*_reaches(options))


def reach_span(options: Options) -> tuple[float, float]:
    """The shortest and longest a session of these options can last, in minutes (with
    the short wording and with the full one)."""
    full, short = _reaches(options)
    return short[0] / 60, full[1] / 60


def _reaches(options: Options) -> tuple[tuple[float, float], tuple[float, float]]:
    resolved = resolve(dataclasses.replace(options, minutes=None))
    return (_reach(resolved, _rendered(resolved, short=False)),
            _reach(resolved, _rendered(resolved, short=True)))


def script_text(options: Options) -> str:
    """The narration script with its cues and planned timings (nothing is spoken)."""
    resolved = resolve(options)
    events, label = _narration(resolved, None)
    planned = layout(events, resolved.pace, estimate_speech, options.minutes,
                     options.sound.interval_bell)
    header = [
        f"tre-audio narration script: {label}, {options.pace} pace, {options.level} level",
        "Edit the words freely and keep the [cues]; make audio with:",
        "  tre-audio generate --script THIS_FILE",
        "Timings are estimates until the voice has spoken.",
        "",
    ]
    return annotated_script(events, planned, header)


def _output_path(out: Path | None, label: str, options: Options, plan: Plan,
                 folder: Path = DEFAULT_OUTPUT) -> Path:
    if out is not None:
        return out
    minutes = f"{options.minutes:g}" if options.minutes else \
        f"{max(1, round(plan.duration / 60))}"  # a script of seconds: 1min, not 0min
    return folder / f"{label}-{options.pace}-{minutes}min.mp3"


def free_name(path: Path, suffixes: Sequence[str] = suffixes_of(BESIDE)) -> Path:
    """``path``, or if it or a file beside it (``suffixes``) is there, the first of
    ``NAME-2``, ``NAME-3``... that is free: a name chosen by default never replaces."""
    candidate, number = path, 1
    while any(candidate.with_suffix(s).exists() or candidate.with_suffix(s).is_symlink()
              for s in (path.suffix, *suffixes)):
        number += 1
        candidate = path.with_name(f"{path.stem}-{number}{path.suffix}")
    return candidate


@contextmanager
def _tidy_on_failure() -> Iterator[list[Path]]:
    """A list to note the folders made for an output in; if the block fails, those of
    them left empty are removed, the deepest first."""
    made: list[Path] = []
    try:
        yield made
    except BaseException:
        for folder in reversed(made):
            try:
                folder.rmdir()
            except OSError:  # not empty (or gone): left as it is
                break
        raise


def _check_output(path: Path, suffix: str = ".mp3", beside: Sequence[str] = (),
                  made: list[Path] | None = None) -> None:
    """Fail early, before any speech is made, if ``path``, or a file beside it with the
    suffixes ``beside``, cannot be written; note in ``made`` the folders made for it."""
    if not path.name:
        raise InvalidOption("--out", f"the output needs a file name ending in {suffix}")
    check_name(path)
    if path.is_dir():
        raise InvalidOption("--out", f"output path is a folder: {path}")
    if path.suffix.lower() != suffix:
        raise InvalidOption("--out", f"output file must end in {suffix}: {path}")
    if path.stem.lower().endswith(".chapters"):
        raise InvalidOption("--out", f"a session's name may not end in .chapters (a feed "
                            f"names its chapter files so): {path}")
    folder = path.parent
    for above in (folder, *folder.parents):
        if above.exists() and not above.is_dir():
            raise OutputError(f"cannot write {path}: {above} is a file, not a folder")
    missing = [above for above in (folder, *folder.parents) if not above.exists()]
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise OutputError(f"cannot create output folder {folder}: {error.strerror}") from None
    if made is not None:
        made.extend(reversed(missing))
    check_writable(folder)
    for each in (path, *(path.with_suffix(s) for s in beside)):
        if each.is_dir():
            raise OutputError(f"cannot write {each}: it is a folder; nothing was written")
        check_replaceable(each)


def generate(
    options: Options,
    out: Path | None = None,
    script: Path | None = None,
    progress: Progress | None = None,
    cache: Path | None = None,
    with_plot: bool = False,
    keep: Sequence[Path] = (),
    folder: Path = DEFAULT_OUTPUT,
    track: tuple[int, int] | None = None,
    dose: Dose | None = None,
    record: Path | None = None,
) -> Session:
    """Make the session's MP3 with its transcript, subtitles and timeline beside it (and
    a picture, ``with_plot``); return where they are, the plan and the mastering.
    ``track``: its number and the count, in a course (the MP3's track tag).
    ``dose``: what set its tremor, for the timeline; ``record``: the practice record to
    add it to once it is written (None: none).
    Neither ``script``, the lexicon nor the files in ``keep`` (the plan it came from)
    may be overwritten by them; an earlier session's picture or chapters there go.
    Without ``out``, the session takes a free name in ``folder``."""
    resolved = resolve(options, script)
    events, label = _narration(resolved, script)
    pace = resolved.pace
    layout(events, pace, estimate_speech, options.minutes)  # fails fast if unfittable
    with _tidy_on_failure() as made:  # folders made for it go again if it fails
        inputs = [p for p in (script, options.lexicon, *keep) if p is not None]
        if out is not None:
            _check_output(out, beside=_beside(with_plot), made=made)
            _spare(inputs, out, with_plot)
            _not_strays(out, with_plot)
        else:
            _check_output(folder / f"{label}.mp3", made=made)

        sentences = spoken(events)  # sentences, and the words that count breaths
        lexicon = find_lexicon(options.lexicon)
        clips = _speaker(resolved, cache, lexicon).speak(sentences, _stage(progress, "speech"))
        rate = settings.SAMPLE_RATE
        plan = layout(events, pace, lambda text: len(clips[text]) / rate, options.minutes,
                      options.sound.interval_bell)
        mixer = Mixer(plan, clips, options.sound, rate)

        default = _output_path(out, label, options, plan, folder)
        path = default if out is not None else free_name(default)
        if out is None:
            _check_output(path, beside=_beside(with_plot), made=made)
        _spare(inputs, path, with_plot)
        language = resolved.language
        title = _title(label, resolved, plan)
        said = notice(language, options.templates)
        tags = Tags(
            title=title,
            album=render.text(language, "album", {}, options.templates),
            date=datetime.date.today().isoformat(),
            comment=said,
            language=programmes.id3_language(language),
            track=f"{track[0]}/{track[1]}" if track else "",
            cover=cover.jpeg(cover.OWN if resolved.from_script
                             else cover.art_of(options.programme)),
        )
        beside = [path.with_suffix(suffix) for suffix in _beside(with_plot)]
        with atomic_files() as part:
            mp3 = part(path, new=out is None)  # another run may take the free name meanwhile
            mastered = master(mixer, options.sound.loudness,
                              lambda: Mp3Writer(mp3, rate, mixer.channels),
                              lambda stage: _stage(progress, stage))
            tag_mp3(mp3, tags, plan.chapters)
            about = _about(resolved, mastered, lexicon, said, plan, dose)
            texts = _side_texts(events, plan, title, path, options.sound, about)
            for final in beside:
                part(final).write_text(texts[final.suffix](), encoding="utf-8")
            # of an earlier session of this name: not of this one
            for suffix in suffixes_of(SOME):
                if suffix not in _beside(with_plot):
                    part.drop(path.with_suffix(suffix))
        session = Session(path, tuple(beside), plan, mastered,
                          default if path != default else None, about["id"], about["made"])
    if record is not None:
        add(record, session, options, dose)
    return session


def add(record: Path, session: Session, options: Options, dose: Dose | None,
        course: Path | None = None, number: int | None = None) -> None:
    """Add ``session`` (of ``course``, at ``number``) to the practice record at
    ``record``; a ``PracticeError`` says the session itself was made."""
    made = store.Made(session.id, session.made, str(session.path.absolute()),
                      options.programme if options.recipe.exercises is None else None,
                      options.level, session.plan.tremor_minutes,
                      round(session.plan.duration / 60, 4), options.settings(),
                      dose.rule if dose else None,
                      str(course.resolve()) if course else None, number)
    try:
        with store.Record(record) as kept:
            kept.add_session(made)
    except PracticeError as error:
        raise PracticeError(f"{session.path} was made, but not recorded: {error}") from None


def _beside(with_plot: bool) -> tuple[str, ...]:
    """The suffixes of the files written beside the MP3."""
    return suffixes_of(EVERY) + ((PICTURE.suffix,) if with_plot else ())


def _not_strays(mp3: Path, with_plot: bool) -> None:
    """Refuse an output that would replace files of its names that are not an earlier
    session's: beside no session's timeline (an MP3 of ``say`` has none), a transcript's
    name is a file of the user's."""
    if timedtext.is_manifest(mp3.with_suffix(".json")):
        return
    for suffix in _beside(with_plot):
        there = mp3.with_suffix(suffix)
        if there.exists() or there.is_symlink():
            raise InvalidOption("--out", f"{there} is there, and is not an earlier "
                                "session's (no session's timeline is beside it): it is not "
                                "replaced; move it or choose another --out")


def _spare(inputs: Sequence[Path], mp3: Path, with_plot: bool) -> None:
    """Refuse an output whose files beside it would overwrite a file it is made from."""
    for given in inputs:
        for suffix in (".mp3",) + _beside(with_plot):
            # realpath: Python 3.11's Path.resolve raises on a symlink loop
            if os.path.realpath(mp3.with_suffix(suffix)) == os.path.realpath(given):
                raise InvalidOption(
                    "--out", f"{mp3} would overwrite {given}, which the session is made "
                    f"from, with its {suffix} file; choose another --out"
                )


def _about(resolved: Resolved, mastered: Mastered, lexicon: Lexicon | None, said: str,
           plan: Plan, dose: Dose | None) -> dict[str, Any]:
    """What the timeline says of the session beside its plan."""
    options = resolved.options
    chosen = options.settings()
    if resolved.from_script:  # its words were written already: nothing shaped them here
        chosen = {k: v for k, v in chosen.items() if k not in table.WORDS}
    tremor = plan.tremor_minutes
    return {
        "id": str(uuid.uuid4()),
        "made": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "language": resolved.language,
        # as chosen, with the engine and voice that spoke
        "settings": {**chosen, "engine": resolved.engine, "voice": resolved.voice},
        # its name only: the page and feed hand the timeline out, and a path names the user
        "lexicon": lexicon.source.name if lexicon and lexicon.source else None,
        "loudness_lufs": round(mastered.loudness, 2), "gain_db": round(mastered.gain, 2),
        "notice": said,
        "tremor_minutes": None if tremor is None else round(tremor, 2),
        # planned: the plan's own tremor (None: the level's range, fitted to the length)
        "dose": None if dose is None else {
            "rule": dose.rule, "said": dose.said,
            "tremor": options.recipe.tremor if dose.rule == "planned" else dose.tremor},
    }


def _side_texts(events: Sequence[Event], plan: Plan, title: str, path: Path,
                sound: Sound, about: dict[str, Any]) -> dict[str, Callable[[], str]]:
    """How to make each file that may go beside the MP3, by suffix."""
    said = about["notice"]
    return {
        ".txt": lambda: transcript(events, plan, title, said),
        ".vtt": lambda: timedtext.webvtt(plan),
        ".srt": lambda: timedtext.srt(plan),
        ".json": lambda: timedtext.manifest(plan, title=title, audio=path.name,
                                            extra=about),
        ".svg": lambda: _picture(plan, title, sound),
    }


def _picture(plan: Plan, title: str, sound: Sound) -> str:
    bed = Ducking(plan, sound.duck).curve(plan.duration, sound.bed_level)
    return plot.svg(plan, title=title, bed_db=bed if sound.ambient != "none" else ())


def plot_session(options: Options, out: Path | None = None) -> Path:
    """Draw the planned session (speech timings estimated) as an SVG; return its path."""
    resolved = resolve(options)
    events, label = _narration(resolved, None)
    planned = layout(events, resolved.pace, estimate_speech, options.minutes,
                     options.sound.interval_bell)
    # by default, a free name: never the picture a session was made with
    path = out or free_name(_output_path(None, label, options, planned).with_suffix(".svg"),
                            (".mp3",))
    _check_output(path, ".svg")
    with atomic_file(path) as temporary:
        title = _title(label, resolved, planned)
        temporary.write_text(_picture(planned, title, options.sound), encoding="utf-8")
    return path


def _title(label: str, resolved: Resolved, plan: Plan) -> str:
    options = resolved.options
    title = one_line(render.text(resolved.language, "title", {
        "name": options.name.strip(), "label": label, "pace": options.pace,
        "minutes": max(1, round(plan.duration / 60))}, options.templates))
    return title[:MAX_TITLE]


MAX_TITLE = 200
"""Characters of a session's title (a template of the user's makes it)."""


def _stage(progress: Progress | None, stage: str) -> Callable[[int, int], None] | None:
    if progress is None:
        return None
    return lambda done, total: progress(stage, done, total)


PREVIEW_SECONDS = 20.0


def preview_ambient(sound: Sound, out: Path | None = None) -> Path:
    """A short MP3 of the bed ``sound.ambient`` (with a bell) at the level it has in a
    session; returns its path."""
    ambient.check(sound.ambient)
    path = out or DEFAULT_OUTPUT / f"preview-{sound.ambient}.mp3"
    _check_output(path)
    seconds = PREVIEW_SECONDS
    plan = Plan(segments=(Segment("bell", 1.0, BELL_SECONDS, 0),),
                chapters=(ChapterMark(f"{sound.ambient} bed", 0.0, seconds),),
                duration=seconds, shortest=seconds, longest=seconds, timings=())
    mixer = Mixer(plan, {}, sound, settings.SAMPLE_RATE)
    _write_sample(mixer, path, f"tre-audio {sound.ambient} bed", sound.loudness)
    return path


def _write_sample(mixer: Mixer, path: Path, title: str, loudness: float) -> None:
    """Write a short sample at the level its sound has in a session (no loudness pass:
    alone, a bed or a line would be brought up to the session's loudness)."""
    with atomic_file(path) as mp3:
        with Mp3Writer(mp3, mixer.rate, mixer.channels) as writer:
            Master(mixer).run(loudness - SESSION_SPEECH_LUFS, writer)
        tag_mp3(mp3, Tags(title=title, album="tre-audio previews",
                          date=datetime.date.today().isoformat(), comment=notice()),
                (ChapterMark(title, 0.0, mixer.length / mixer.rate),))


SAY_LEAD = 0.3
"""Seconds of silence before ``say`` speaks, so no player clips the first sound."""
SAY_TAIL = 0.5


def say(text: str, options: Options, out: Path | None = None, cache: Path | None = None
        ) -> tuple[Path, str]:
    """Speak ``text`` with the options' engine, voice and lexicon into a short MP3 at
    the session's format and speech level; return its path and what was spoken (the
    text as respelled). Each sentence is its own clip, cached as in a session."""
    settings.check_text("TEXT", text, most=None, allowed=settings.LINE_BREAKS)
    sentences = split_sentences(text)
    if not sentences:
        raise InvalidOption("TEXT", "nothing to say: TEXT is empty")
    longest = max(sentences, key=len)
    if len(longest) > MAX_SENTENCE:
        raise InvalidOption("TEXT", f"TEXT has a sentence of {len(longest):,} characters; "
                            f"{SENTENCE_RULE}")
    path = out or DEFAULT_OUTPUT / "say.mp3"
    _check_output(path)
    resolved = resolve(options)
    voice = _speaker(resolved, cache, find_lexicon(options.lexicon))
    clips = voice.speak(sentences)
    rate = settings.SAMPLE_RATE
    gap = resolved.pace.min_gap
    segments, at = [], SAY_LEAD
    for sentence in sentences:
        segments.append(Segment("speech", at, len(clips[sentence]) / rate, 0, sentence))
        at = segments[-1].end + gap
    duration = segments[-1].end + SAY_TAIL
    plan = Plan(segments=tuple(segments), chapters=(ChapterMark("say", 0.0, duration),),
                duration=duration, shortest=duration, longest=duration, timings=())
    voice_only = dataclasses.replace(options.sound, ambient="none", bells=False,
                                     interval_bell=None, binaural=None)
    mixer = Mixer(plan, clips, voice_only, rate)
    spoken = " ".join(voice.spoken(sentence) for sentence in sentences)
    _write_sample(mixer, path, f"tre-audio says: {' '.join(sentences)}"[:120],
                  voice_only.loudness)
    return path, spoken
