"""The ``tre-audio`` command line: a few lines over each library call."""

from __future__ import annotations

import datetime
import os
import signal
import sys
import threading
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from . import __version__, registries
from .choices import layers as choices, planfile as planfiles, profile as profiles
from .choices.adapted import adapt, forecast
from .listen import qr
from .narration import render
from .options import settings, table, values
from .sound import ambient
from .course import DEFAULT_PER_WEEK, DEFAULT_WEEKS, Course, build as build_course
from .continued import carry_on
from .errors import InvalidOption, TreAudioError, TreAudioWarning
from .listen.feed import write as write_feed
from .options.values import Options
from .session import (generate as make_session, plot_session, preview_ambient,
                      say as say_text, script_text)
from .listen import DEFAULT_PORT, kept, launcher
from .speech.engine import DEFAULT_ENGINE, ENGINES, voices as all_voices
from .beside.texts import clock
from .practice import checkin as checkins, history, report, store
from .practice.dose import next_time


class _Interrupted(click.ClickException):
    exit_code = 130

    def __init__(self, message: str = "interrupted; no session was written") -> None:
        super().__init__(message)


_NO_ARGS: type[click.UsageError] = getattr(click.exceptions, "NoArgsIsHelpError",
                                            type("_Never", (click.UsageError,), {}))
"""What click raises for a group named without a command (click 8.2 and later)."""


class _OneLineErrors(click.Group):
    """Report every error as one line on stderr: exit 2 for usage, 1 for the rest."""

    def main(self, args: Sequence[str] | None = None, prog_name: str | None = None,
             complete_var: str | None = None, standalone_mode: bool = True, **extra: Any
             ) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, False, **extra)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("always", TreAudioWarning)
                warnings.showwarning = _warn
                code = super().main(args, prog_name, complete_var, False, **extra)
        except _NO_ARGS as error:  # a command alone: its help, as --help shows it
            click.echo(error.ctx.get_help() if error.ctx else error.format_message())
            sys.exit(0)
        except click.UsageError as error:
            hint = f" (see '{error.ctx.command_path} --help')" if error.ctx else ""
            # click lists choices a line each: one line of them here
            _fail(f"{error.format_message().replace(chr(10) + chr(9), ' ')}{hint}", 2)
        except click.ClickException as error:
            _fail(error.format_message(), error.exit_code)
        except (click.Abort, KeyboardInterrupt):
            _fail(_Interrupted().message, _Interrupted.exit_code)
        # The library bounds what it reads; these are the last line of defence.
        except OSError as error:  # a path the system refuses where no check looked first
            where = f"{os.fsdecode(error.filename)}: " if error.filename is not None else ""
            _fail(f"{where}{error.strerror or error}", 1)
        except RecursionError:  # before RuntimeError, its base
            _fail("an input is nested too deeply to be read", 1)
        except RuntimeError as error:
            if not str(error).startswith("Symlink loop"):  # Python 3.11's pathlib says so
                raise
            _fail(f"{str(error).removeprefix('Symlink loop from ')}: a symlink that leads "
                  "back to itself", 1)
        except MemoryError:
            _fail("out of memory: an input is too large to be read", 1)
        sys.exit(code if isinstance(code, int) else 0)

    # Ctrl-C is caught in these two, before click's own handler prints an empty line.
    def make_context(self, *args: Any, **kwargs: Any) -> click.Context:
        with _interruptible():
            return super().make_context(*args, **kwargs)

    def invoke(self, ctx: click.Context) -> Any:
        with _interruptible():
            return super().invoke(ctx)


@contextmanager
def _interruptible() -> Iterator[None]:
    try:
        yield
    except KeyboardInterrupt:
        if sys.stderr.isatty():
            click.echo(err=True)  # past the ^C the terminal shows
        raise _Interrupted() from None


def _warn(message: Warning | str, category: type[Warning], filename: str, lineno: int,
          file: Any = None, line: str | None = None) -> None:
    """Show a library warning as one line on stderr (others as Python would)."""
    if issubclass(category, TreAudioWarning):
        click.echo(f"tre-audio: warning: {_shown(str(message))}", err=True)
    else:
        _python_warning(message, category, filename, lineno, file, line)


_python_warning = warnings.showwarning


def _fail(message: str, code: int) -> None:
    click.echo(f"tre-audio: {_shown(message)}", err=True)
    sys.exit(code)


def _shown(message: str) -> str:
    """``message`` as one line a terminal shows as it is: control characters quoted (an
    escape sequence from a file's value must not reach the terminal), and the bytes of
    a name that were not UTF-8 as ``\\xNN``."""
    return "".join(_character(c) for c in message)


def _character(c: str) -> str:
    if c.isprintable() or c == " ":
        return c
    if 0xDC80 <= ord(c) <= 0xDCFF:  # a byte that was not UTF-8 (surrogateescape)
        return f"\\x{ord(c) - 0xDC00:02x}"
    return c.encode("unicode_escape").decode("ascii")


@contextmanager
def _library_errors() -> Iterator[None]:
    try:
        yield
    except InvalidOption as error:
        raise click.UsageError(str(error)) from None
    except TreAudioError as error:
        raise click.ClickException(str(error)) from None


def _from_table(option: table.Option) -> Callable[..., Any]:
    """The command line's option (or argument) for ``option`` of the table."""
    if option.flag == "PROGRAMME":
        return click.argument("programme", required=False)
    shown = option.shown_default.replace("`", "")
    helped = option.plain_help[:1].upper() + option.plain_help[1:]
    extra: dict[str, Any] = {
        "help": f"{helped} [default: {shown}]." if shown not in ("", "none") else f"{helped}."}
    if option.kind == "true or false":  # either way, to undo a profile's or a plan's
        return click.option(option.spelling, option.key, default=None, **extra)
    if option.choices and option.kind == "a number":
        extra["type"] = click.Choice([f"{c:g}" for c in option.choices])
        extra["callback"] = lambda ctx, param, value: None if value is None else float(value)
    elif option.choices or option.registry in ("ambients", "engines"):
        names = option.choices or tuple(registries.names(option.registry or ""))
        extra["type"] = click.Choice(list(names))
    else:
        extra["type"] = {"a number": float, "a whole number": int,
                         "a file": click.Path(dir_okay=False, path_type=Path),
                         "a folder": click.Path(file_okay=False, path_type=Path)
                         }.get(option.kind, str)
    if option.kind == "a list of text":
        extra["multiple"] = True
    if option.metavar:
        extra["metavar"] = option.metavar
    return click.option(option.option, option.key, **extra)


def _table_options(*keys: str, leave_out: tuple[str, ...] = ()) -> Callable[..., Any]:
    """The table's options ``keys`` (all the command line takes, if none), but
    ``leave_out``, in the table's order."""
    chosen = [o for o in table.where(table.COMMAND)
              if (o.key in keys or not keys) and o.key not in leave_out]

    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        return _decorate(command, [_from_table(option) for option in chosen])
    return decorate


_plan_option = click.option("--plan", type=click.Path(dir_okay=False, path_type=Path),
                            metavar="FILE", help="A plan file (tre-audio plan new); the "
                                                 "options you give win over it.")


def _session_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The options of the commands that make or describe sessions. Options left out fall
    back to the plan file, then the profile, then the defaults shown."""
    return _table_options(leave_out=("lexicon", "record"))(_plan_option(command))


_lexicon_option = _table_options("lexicon")
_record_option = _table_options("record")
_templates_option = _table_options("templates")
_bed_options = _table_options("bed_level", "seed", "binaural", "loudness")


def _decorate(command: Callable[..., Any], decorators: list[Callable[..., Any]]
              ) -> Callable[..., Any]:
    for decorate in reversed(decorators):
        command = decorate(command)
    return command


def _options(programme: str | None, plan: Path | None = None, script: Path | None = None,
             **given: Any) -> Options:
    """The session's options (of ``script``, if given): the command line over the plan
    over the profile."""
    given["programme"] = programme
    given["limits"] = given.get("limits") or None
    with _library_errors():
        return choices.options(given, plan, script=script)


def _sound(**given: Any) -> values.Sound:
    with _library_errors():
        return values.Sound(**{k: v for k, v in given.items() if v is not None})


@click.group(cls=_OneLineErrors, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="tre-audio")
def cli() -> None:
    """Make offline, personal audio sessions for Trauma Release Exercise practice.

    Sessions are self-care, not treatment. tre-audio is independent and not
    affiliated with TRE for All, Inc., owner of the TRE trademark.
    """


@cli.command()
@_session_options
@click.option("-o", "--out", type=click.Path(path_type=Path),
              help="The MP3 to write, replaced whole if it is there [default: "
                   "output/PROGRAMME-PACE-Nmin.mp3, or the next free name].")
@click.option("--script", "script_file", metavar="FILE",
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Speak a narration script you edited (tre-audio script) instead of a "
                   "programme; the options that shape words then do not apply.")
@click.option("--plot", "with_plot", is_flag=True,
              help="Also draw the session as an SVG picture beside the MP3.")
@_lexicon_option
@_record_option
def generate(programme: str | None, out: Path | None, script_file: Path | None,
             with_plot: bool, **values: Any) -> None:
    """Make a session MP3, with transcript, subtitles and timeline beside it."""
    if script_file and (programme or values.get("plan")):
        raise click.UsageError("--script is a whole session: give no PROGRAMME or --plan "
                               "with it")
    shaping = [table.BY_KEY[k].option for k in table.WORDS if values.get(k) not in (None, ())]
    if script_file and shaping:
        raise click.UsageError(f"{shaping[0]} does not apply to --script: a script's words "
                               "are already written")
    plan = values.get("plan")
    options = _options(programme, script=script_file, **values)
    with _library_errors():
        adapted = adapt(options, values.get("tremor"), scripted=script_file is not None)
    for notice in adapted.notices:
        click.echo(f"tre-audio: {notice}", err=True)
    with _library_errors(), _Progress() as progress:
        session = make_session(adapted.options, out=out, script=script_file,
                               progress=progress, with_plot=with_plot,
                               keep=[plan] if plan else [], dose=adapted.dose,
                               record=adapted.record)
    if session.kept is not None:
        click.echo(f"tre-audio: {session.kept} is an earlier session, kept; this one is "
                   f"{session.path.name}", err=True)
    chapters = len(session.plan.chapters)
    click.echo(f"{session.path}  {clock(session.plan.duration)}  {chapters} "
               f"chapter{'' if chapters == 1 else 's'}")


@cli.command()
@_session_options
@click.option("--weeks", type=int, default=DEFAULT_WEEKS, show_default=True,
              help="How many weeks the course lasts (1-12).")
@click.option("--per-week", type=int, default=DEFAULT_PER_WEEK, show_default=True,
              help="Sessions a week (1-4; two or three is the gentler advice).")
@click.option("-o", "--out", type=click.Path(path_type=Path),
              help="Folder to write the course into; it must not hold another course "
                   "[default: output/course, or the next free output/course-N].")
@_lexicon_option
@_record_option
@click.option("--continue", "carry", metavar="DIR",
              type=click.Path(file_okay=False, path_type=Path),
              help="Make again the sessions of the course in DIR after the last one you "
                   "checked in, each shaking phase set from your check-ins; it takes no "
                   "other option.")
@click.pass_context
def course(ctx: click.Context, programme: str | None, weeks: int, per_week: int,
           out: Path | None, carry: Path | None, **values: Any) -> None:
    """Make a course: numbered sessions over some weeks with the tremor rising gently,
    a playlist and a schedule with rest days."""
    if carry is not None:
        given = [name for name in ctx.params if name != "carry" and ctx.get_parameter_source(
            name) is not click.core.ParameterSource.DEFAULT]
        if given:
            raise click.UsageError("--continue takes no other option: the course keeps its "
                                   "own settings")
        with _library_errors(), _Progress() as progress:
            done = carry_on(carry, profiles.load().get("trusted") or "", progress=progress)
        if done.dose.said:
            click.echo(f"tre-audio: {done.dose.said.replace('today', 'the next session')}",
                       err=True)
        for planned, session in done.remade:
            click.echo(f"{session.path}  {clock(session.plan.duration)}  "
                       f"tremor {planned.tremor:g} min")
        click.echo(done.playlist)
        click.echo(done.schedule)
        return
    options = _options(programme, **values)
    with _library_errors(), _Progress() as progress:
        made = build_course(Course(options, weeks, per_week), out, progress=progress,
                            record=store.default_path() if options.record else None)
    if made.kept is not None:
        click.echo(f"tre-audio: {made.kept} holds an earlier course, kept; this one is in "
                   f"{made.folder}", err=True)
    for planned, session in zip(made.planned, made.sessions):
        click.echo(f"{session.path}  {clock(session.plan.duration)}  "
                   f"tremor {planned.tremor:g} min")
    click.echo(made.playlist)
    click.echo(made.schedule)


@cli.command()
@click.argument("text")
@click.option("--engine", type=click.Choice(list(ENGINES)),
              help=f"Speech engine; given with --voice, it must be the voice's [default: "
                   f"your profile's, or the voice's, or {DEFAULT_ENGINE}].")
@click.option("--voice", help="Voice, by its name in tre-audio list voices; it brings its "
                              "engine [default: your profile's, or the engine's own].")
@_lexicon_option
@click.option("-o", "--out", type=click.Path(path_type=Path),
              help="MP3 to write [default: output/say.mp3].")
def say(text: str, engine: str | None, voice: str | None, lexicon: Path | None,
        out: Path | None) -> None:
    """Speak TEXT as a session would (engine, voice, lexicon), to check how it sounds."""
    with _library_errors():
        options = choices.options({"engine": engine, "voice": voice, "lexicon": lexicon})
        path, spoken = say_text(text, options, out)
    click.echo(path)
    if spoken != " ".join(text.split()):
        click.echo(f"spoken as: {spoken}")


@cli.command()
@_session_options
def script(programme: str | None, **values: Any) -> None:
    """Print the narration script with its cues and planned timings."""
    options = _options(programme, **values)
    with _library_errors():
        click.echo(script_text(options), nl=False)


@cli.command()
@_session_options
@click.option("-o", "--out", type=click.Path(path_type=Path),
              help="SVG to write [default: output/PROGRAMME-PACE-Nmin.svg].")
def plot(programme: str | None, out: Path | None, **values: Any) -> None:
    """Draw the planned session as a picture (SVG): chapters, voice, holds, bells, bed."""
    options = _options(programme, **values)
    with _library_errors():
        click.echo(plot_session(options, out))


@cli.group()
def preview() -> None:
    """Listen to a choice before making a session."""


@preview.command(name="ambient")
@click.argument("name", type=click.Choice(list(ambient.AMBIENTS)))
@_bed_options
@click.option("-o", "--out", type=click.Path(path_type=Path),
              help="MP3 to write [default: output/preview-NAME.mp3].")
def preview_ambient_(name: str, out: Path | None, **values: Any) -> None:
    """Write a 20-second sample of an ambient bed (with a bell) to listen to."""
    sound = _sound(ambient=name, bells=True, interval_bell=None, **values)
    with _library_errors():
        click.echo(preview_ambient(sound, out))


_LISTS: dict[str, Callable[[Path | None], Sequence[tuple[str, str]]]] = {
    "programmes": lambda templates: list(registries.names("programmes", templates).items()),
    "exercises": lambda templates: [(e.name, _exercise_about(e))
                                    for e in render.exercises(templates).values()],
    "voices": lambda templates: _voice_rows(),
    "paces": lambda templates: [(p.name, p.summary) for p in settings.PACES.values()],
    "levels": lambda templates: [(lv.name, lv.summary) for lv in settings.LEVELS.values()],
    "limits": lambda templates: list(settings.LIMITS.items()),
    "patterns": lambda templates: list(settings.PATTERNS.items()),
    "ambients": lambda templates: list(registries.names("ambients").items()),
}


@cli.command(name="list")
@click.argument("what", metavar="WHAT", type=click.Choice(list(_LISTS)))
@_templates_option
def list_(what: str, templates: Path | None) -> None:
    """List programmes, exercises, voices, paces, levels, limits, patterns or ambients."""
    rows: Sequence[tuple[str, str]]
    with _library_errors():
        rows = _LISTS[what](templates)
    width = max(len(name) for name, _ in rows)
    for name, about in rows:
        click.echo(_shown(f"{name.ljust(width)}  {about}"))


def _exercise_about(exercise: render.Exercise) -> str:
    tunes = f" (takes: {', '.join(exercise.tunes)})" if exercise.tunes else ""
    mine = "" if exercise.source == "shipped" else f" [{exercise.source}]"
    return f"{exercise.summary}{tunes}{mine}"


@cli.group(name="profile")
def profile_() -> None:
    """Keep your name, body limits and preferred choices in a profile."""


@profile_.command(name="init")
def profile_init() -> None:
    """Write an empty, commented profile to fill in."""
    with _library_errors():
        click.echo(profiles.init())


@profile_.command(name="show")
def profile_show() -> None:
    """Show what your profile sets."""
    with _library_errors():
        click.echo(profiles.show(profiles.load()), nl=False)


@profile_.command(name="set", context_settings={"ignore_unknown_options": True})
@click.argument("key")
@click.argument("value")
def profile_set(key: str, value: str) -> None:
    """Set KEY to VALUE (an empty VALUE unsets it; limits are comma separated)."""
    with _library_errors():
        click.echo(profiles.show(profiles.set_value(key, value)), nl=False)


@profile_.command(name="path")
def profile_path() -> None:
    """Print where the profile is kept."""
    click.echo(profiles.default_path())


@cli.group(name="plan")
def plan_() -> None:
    """Write sessions down as plan files, for yourself or a client."""


@plan_.command(name="new")
@click.argument("file", type=click.Path(path_type=Path))
def plan_new(file: Path) -> None:
    """Write a commented example plan to FILE, to edit and then use with --plan."""
    with _library_errors():
        click.echo(planfiles.new(file))


@cli.command()
@click.argument("folder", required=False, default=Path("output"),
                type=click.Path(file_okay=False, path_type=Path))
@click.option("--lan", is_flag=True,
              help="Serve on the local network too; every address then carries a random "
                   "token, kept from one start to the next, shown with a QR code to scan.")
@click.option("--host", help="Address to listen on [default: 127.0.0.1; 0.0.0.0 with --lan].")
@click.option("--port", type=click.IntRange(0, 65535),
              help=f"Port to listen on (0: any free port); kept for the next time "
                   f"[default: the one kept, else {DEFAULT_PORT}].")
@click.option("--new-token", is_flag=True,
              help="With --lan: a new token, so every address given out before stops "
                   "working (the token is kept for the next time).")
@click.option("--open", "open_page", is_flag=True,
              help="Open the page in the browser; if tre-audio already serves on this "
                   "computer's port, just open that.")
def serve(folder: Path, lan: bool, host: str | None, port: int | None, new_token: bool,
          open_page: bool) -> None:
    """Serve the sessions in FOLDER (default: output) as a page to listen on, with a
    podcast feed. Private: only this computer can connect unless --lan. Ctrl-C stops."""
    def skipped(reason: str) -> None:  # at the start, and as later changes are found
        click.echo(f"tre-audio: skipped {reason}", err=True)

    from .listen.server import open_server  # the web stack, only when serving
    from .studio.studio import Studio

    with _library_errors():
        where = kept.addresses(lan, port, new_token)
    if open_page and where.port:  # already served here (with --lan: by its kept token)?
        page = launcher.answering(where.port, kept.addresses(True, where.port).token)
        if page is not None:
            _open_in_browser(page)
            return
    studio = Studio(folder)
    try:
        with _library_errors():
            server = open_server(folder, lan=lan, host=host, port=where.port,
                                 report=skipped, studio=studio, token=where.token,
                                 owner=profiles.feed_owner())
        with server:
            with _library_errors():
                kept.keep(where)  # once it listens: a port it could not have is not kept
            click.echo(server.url)
            if lan:
                colour = sys.stdout.isatty()
                click.echo(qr.terminal(server.url, color=colour), color=colour)
            if open_page:
                _open_in_browser(server.url)
            click.echo(f"serving {folder}; press Ctrl-C to stop", err=True)
            try:
                server.serve_forever()
            except KeyboardInterrupt:
                if sys.stderr.isatty():
                    click.echo(err=True)  # past the ^C the terminal shows
                click.echo("tre-audio: stopped", err=True)
    finally:
        studio.close()  # a session being made unwinds: nothing half-made is left


def _open_in_browser(url: str) -> None:
    """Open ``url`` in the user's browser, or say where to go if there is none."""
    import webbrowser

    if not webbrowser.open(url):
        click.echo(f"tre-audio: no browser found; open {url}", err=True)


@cli.command(name="desktop")
@click.argument("folder", required=False, default=Path("output"),
                type=click.Path(file_okay=False, path_type=Path))
def launcher_(folder: Path) -> None:
    """Add tre-audio to your desktop's applications: it serves FOLDER (default: output)
    on this computer only and opens the page in your browser, no terminal needed."""
    tool = Path(sys.argv[0]) if Path(sys.argv[0]).name == "tre-audio" else \
        Path(sys.executable).with_name("tre-audio")
    with _library_errors():
        click.echo(launcher.install(tool, folder))


@cli.command()
@click.argument("folder", required=False, default=Path("output"),
                type=click.Path(file_okay=False, path_type=Path))
@click.option("--base-url", metavar="URL",
              help="Where FOLDER will be published (https://...) [default: addresses "
                   "relative to feed.xml].")
def feed(folder: Path, base_url: str | None) -> None:
    """Write a podcast feed of the sessions in FOLDER (feed.xml, a course's in its folder,
    and chapters beside each MP3) to host yourself."""
    with _library_errors():
        written = write_feed(folder, base_url, profiles.feed_owner())
    click.echo(f"{written.feed}  {written.sessions} sessions")
    for course in written.courses:
        click.echo(f"{course}  a course, in order")


_FELT = click.Choice(list(store.FELT))


class _Rating(click.ParamType):
    """Tension or distress, a whole number from 0 to 10."""

    name = "0-10"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> int:
        text = str(value).strip()
        if not (text.isascii() and text.isdigit() and int(text) <= 10):
            self.fail("must be a whole number from 0 to 10", param, ctx)
        return int(text)


_RATING = _Rating()


@cli.command()
@click.option("--session", "session_file", metavar="FILE", type=click.Path(path_type=Path),
              help="The session's MP3 [default: the latest session made; in a course, its "
                   "first not checked in].")
@click.option("--before", type=_RATING, help="Tension or distress before the session, 0-10.")
@click.option("--after", type=_RATING, help="Tension or distress after it, 0-10.")
@click.option("--felt", type=_FELT, help="How the shaking phase felt.")
@click.option("--spaced-out/--not-spaced-out", default=None,
              help="Whether you felt spaced out, unreal or far from your body.")
@click.option("--note", default=None, help="A few words of your own.")
@click.option("-y", "--yes", is_flag=True, help="Ask nothing: record the answers given.")
def checkin(session_file: Path | None, before: int | None, after: int | None,
            felt: str | None, spaced_out: bool | None, note: str | None, yes: bool) -> None:
    """Say how a session went; the next session's shaking phase follows (kept on this
    computer only)."""
    if note is not None and len(note) > store.NOTE_LIMIT:
        raise click.BadParameter(f"at most {store.NOTE_LIMIT:,} characters",
                                 param_hint="'--note'")
    with _library_errors():
        made = checkins.about(session_file, profiles.load().get("record") is not False)
    click.echo(f"About {made.path} ({_when(made.made)})", err=True)
    if not yes:
        _need_terminal("give the answers as options, with --yes")
        try:
            before = before if before is not None else _ask(
                "Tension or distress before, 0-10", _RATING)
            after = after if after is not None else _ask(
                "Tension or distress after, 0-10", _RATING)
            if felt is None and made.tremor is not None:
                felt = _ask("The shaking phase felt (too-much, about-right, more)", _FELT)
            if spaced_out is None:
                spaced_out = click.confirm("Did you feel spaced out or unreal?",
                                           default=False, err=True)
            note = note if note is not None else _ask("A note", str) or ""
        except (click.Abort, KeyboardInterrupt):
            raise _Interrupted("stopped; nothing was recorded") from None
    answers = checkins.Answers(before, after, felt, bool(spaced_out), note or "")
    with _library_errors():
        checked = checkins.check_in(made, answers)
        coming = forecast(made.programme)
    click.echo("Recorded.")
    if checked.care:
        click.echo("\n".join(("", "Take care of yourself now:", *checkins.GROUNDING, "",
                              checkins.CRISIS, checkins.AGAIN)))
    if coming is not None and next_time(coming):
        click.echo(next_time(coming))


def _when(stamp: str) -> str:
    return datetime.datetime.fromisoformat(stamp).astimezone().strftime("%d %b %Y, %H:%M")


def _need_terminal(instead: str) -> None:
    if not sys.stdin.isatty():
        raise click.UsageError(f"no terminal to ask in: {instead}")


def _ask(question: str, kind: Any) -> Any:
    """An answer, or None if left empty."""
    answer = click.prompt(f"{question} (Enter: skip)", default="", show_default=False,
                          err=True, value_proc=lambda v: kind.convert(v, None, None)
                          if v and not isinstance(kind, type) else v)
    return answer if answer != "" else None


@cli.command(name="history")
@click.option("--csv", "csv_file", metavar="FILE", type=click.Path(path_type=Path),
              help="Write the history as a CSV file (to share with a therapist).")
@click.option("--plot", "plot_file", metavar="FILE", type=click.Path(path_type=Path),
              help="Draw it as an SVG picture: shaking phase, ratings, sessions a week.")
def history_(csv_file: Path | None, plot_file: Path | None) -> None:
    """Show your practice: each session, its shaking phase and how it went."""
    with _library_errors():
        rows = history.rows(history.load())
        for text, out in ((report.csv_text, csv_file), (report.svg, plot_file)):
            if out is not None:
                click.echo(report.write(text(rows), out))
    if csv_file is None and plot_file is None:
        click.echo(report.table(rows) if rows else "No sessions recorded yet.")
    click.echo(report.HEALTH, err=True)


@cli.command()
@click.option("-y", "--yes", is_flag=True, help="Do not ask first.")
def forget(yes: bool) -> None:
    """Delete your practice record: every session and check-in in it."""
    if not yes:
        _need_terminal("give --yes to delete it")
        try:
            sure = click.confirm(f"Delete your practice record ({store.default_path()})? "
                                 "This cannot be undone", err=True)
        except (click.Abort, KeyboardInterrupt):
            raise _Interrupted("stopped; nothing was deleted") from None
        if not sure:
            click.echo("Nothing was deleted.")
            return
    with _library_errors():
        gone = store.forget()
    click.echo(f"Deleted {len(gone)} file{'' if len(gone) == 1 else 's'}." if gone
               else "There was no practice record.")


def _voice_rows() -> list[tuple[str, str]]:
    """NAME, then ENGINE, LANGUAGE, WHO (accent and gender), SPEED (times real time, where
    measured) and the description (or why the voice is refused); an engine that cannot
    list its voices, as '-' and why."""
    found = all_voices()
    columns = [(v.engine, v.speaks or "-", ", ".join(filter(None, (v.accent, v.gender)))
                or "-", f"{v.speed:.0f}x" if v.speed else "-") for v in found.voices]
    widths = [max([len(row[i]) for row in columns]
                  + [max(map(len, ENGINES)) if i == 0 else 1]) for i in range(4)]
    rows = [(v.name, "  ".join(c.ljust(w) for c, w in zip(row, widths)) + "  "
             + (f"refused: {v.refused} ({v.description})" if v.refused else v.description))
            for v, row in zip(found.voices, columns)]
    rows += [("-", f"{engine.ljust(widths[0])}  unavailable: {why}")
             for engine, why in found.unavailable]
    return rows


class _Progress:
    """A progress bar on stderr that follows the library's stages."""

    def __init__(self) -> None:
        self._bar: Any = None
        self._stage = ""

    def __enter__(self) -> _Progress:
        return self

    def __call__(self, stage: str, done: int, total: int) -> None:
        if not sys.stderr.isatty():
            return
        if stage != self._stage:
            self._close()
            self._stage = stage
            self._bar = click.progressbar(length=total, label=f"{stage:<8}", file=sys.stderr)
            self._bar.__enter__()
        self._bar.update(done - self._bar.pos)

    def _close(self) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)
            self._bar = None

    def __exit__(self, *exc: object) -> None:
        self._close()


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _unraisable(unraisable: Any) -> None:
    """Where Python cannot raise (a weakref callback, ``__del__``), it drops a Ctrl-C or
    SIGTERM after printing a traceback, and the run went on to write its session: send
    it again, once Python is out of there (SIGTERM: its handler is always ours)."""
    if isinstance(unraisable.exc_value, KeyboardInterrupt):
        again = threading.Timer(0.05, os.kill, (os.getpid(), signal.SIGTERM))
        again.daemon = True
        again.start()
    else:
        sys.__unraisablehook__(unraisable)


def _quit(signum: int, frame: object) -> None:
    os._exit(_Interrupted.exit_code)


def main() -> None:
    """Run the command line as the program (see ``tre_audio.__main__``)."""
    try:
        try:
            # Ctrl-C and SIGTERM unwind from here on, so that temporary files are removed
            # on the way out; the command reports them in one line.
            sys.unraisablehook = _unraisable
            signal.signal(signal.SIGTERM, _interrupt)
            if signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:
                signal.signal(signal.SIGINT, _interrupt)
            cli()
        except KeyboardInterrupt:  # in the moment before or after the command's own care
            _fail(_Interrupted().message, _Interrupted.exit_code)
    except SystemExit as done:
        # The work is over: a signal from now on only ends the program.
        signal.signal(signal.SIGTERM, _quit)
        if signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:
            signal.signal(signal.SIGINT, _quit)
        if done.code != _Interrupted.exit_code:
            raise
        # Everything is unwound and cleaned up by now. A speech thread may still be inside
        # the voice's native code, which aborts if the interpreter is finalised under it.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(_Interrupted.exit_code)
