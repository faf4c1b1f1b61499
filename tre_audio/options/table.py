"""The one table of a session's options.

Each option is declared here once: its name (the key in plans, profiles, the timeline
and a web form; ``--name-with-dashes`` on the command line), its kind, the values it
takes, its default, a line of help, and where it may be set. The command line's
options, the keys of plans and profiles, their checks and error texts, the timeline's
settings and the README's option table all come from it.

Choices that live in a stage (programmes, beds, engines, exercises) are named by their
registry (``registry``): this module imports no stage; ``tre_audio.registries`` looks
them up.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from ..errors import InvalidOption
from . import settings

COMMAND = "command line"
PLAN = "plan"
PROFILE = "profile"
FORM = "form"
EVERYWHERE = frozenset({COMMAND, PLAN, PROFILE, FORM})
ONE_SESSION = frozenset({COMMAND, PLAN, FORM})
"""Choices for one session, which a general profile does not make."""
PROFILE_ONLY = frozenset({PROFILE})
"""What only a profile says: about the listener's feeds, not about any session."""

KINDS = ("text", "a number", "a whole number", "true or false", "a list of text",
         "a file", "a folder", "exercise settings")


@dataclass(frozen=True)
class Option:
    """One option of a session."""

    key: str
    kind: str
    help: str
    """One line, for --help, the README and a form."""
    default: Any = None
    """None: not set (the programme's or engine's own, or none)."""
    shown_default: str = ""
    """The default as people read it ('' for none worth saying)."""
    where: frozenset[str] = EVERYWHERE
    part: str = "session"
    """Which part of the value object holds it: session, sound or recipe (``feed``: none;
    the feeds read it from the profile, and no session holds it)."""
    choices: tuple[Any, ...] = ()
    """The values it takes, where they are fixed."""
    registry: str | None = None
    """The registry its choices come from (see ``tre_audio.registries``)."""
    noun: str = ""
    """What one choice is called: 'unknown pace ...'."""
    low: float | None = None
    high: float | None = None
    above: bool = False
    """Whether ``low`` itself is out (above 0)."""
    off: bool = False
    """Whether 0 turns it off, over a profile's or plan's choice."""
    must: str = ""
    """The rule, as the error says it: '--bed-level must be 6 to 40 dB under the voice'."""
    flag: str = ""
    """The command line's spelling, where it is not ``--key`` ('PROGRAMME', '--limit',
    '--no-bells'); '' where the command line does not take it."""
    metavar: str = ""
    old: tuple[str, ...] = ()
    """Earlier names of the key, still read."""
    most_characters: int | None = settings.MAX_NAME
    example: Any = None
    """A value to show in a commented profile (None: the default)."""
    label: str = ""
    """How the studio's form names it, where the key would not do ('': from the key)."""
    page: str = ""
    """The help as the studio's form says it, where the command line's words would not do
    ('': ``help``)."""
    pattern: str = ""
    """A regular expression plain text must match whole ('': any), as ``must`` says it."""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"option {self.key}: unknown kind {self.kind}")

    @property
    def option(self) -> str:
        """How messages name it: its command-line spelling."""
        return self.flag or "--" + self.key.replace("_", "-")

    @property
    def spelling(self) -> str:
        """Its command-line spelling as help shows it: ``--bells/--no-bells``, ``--minutes
        N``, ``PROGRAMME``."""
        if self.kind == "true or false":
            return f"{self.option}/--no-{self.option.removeprefix('--')}"
        return f"{self.option} {self.metavar}".strip()

    @property
    def plain_help(self) -> str:
        """The help without the README's marks."""
        return self.help.replace("`", "")

    @property
    def allowed(self) -> str:
        """What it takes, for people: in a profile or plan's comments and errors."""
        if self.choices and self.kind != "a number":
            return f"one of {', '.join(str(c) for c in self.choices)}"
        if self.must.startswith(f"{self.kind} "):
            return self.must.removeprefix(f"{self.kind} ")
        return self.must or self.plain_help


def _range(low: float, high: float, unit: str = "") -> str:
    return f"{low:g} to {high:g}{unit}"


OPTIONS: tuple[Option, ...] = (
    Option("programme", "text", "the built-in programme (tre-audio list programmes)",
           "classic", "`classic`", ONE_SESSION, registry="programmes", flag="PROGRAMME",
           page="what the session is: each says what it holds and how long it lasts"),
    Option("exercises", "a list of text", "your own list and order of exercises, between "
           "the arrival and the closing (tre-audio list exercises)", None, "",
           frozenset({PLAN}), "recipe", registry="exercises"),
    Option("tune", "exercise settings", "settings of single exercises: hold (seconds), "
           "repetitions, breaths ([exercise.NAME] tables)", None, "", frozenset({PLAN}),
           "recipe"),
    Option("pace", "text", "`slow`, `gentle` or `steady`: narration rate, silences, breath "
           "length", settings.DEFAULT_PACE, f"`{settings.DEFAULT_PACE}`",
           choices=tuple(settings.PACES), noun="pace"),
    Option("level", "text", "`sensitive` (tremor 1-3 min: with a trauma history, or after a "
           "session that felt too much), `first-time` (3-6), `beginner` (5-10), `regular` "
           "(8-15); refused by `grounding`, `spiral` and `cooldown`, the same at every "
           "level", settings.DEFAULT_LEVEL, f"`{settings.DEFAULT_LEVEL}`",
           choices=tuple(settings.LEVELS), noun="level"),
    Option("minutes", "a number", "fit the session to N minutes (within 3%) by lengthening "
           "or shortening its flexible holds; the full lead-ins wherever they fit, else "
           "shorter ones; an N out of reach fails with the range the programme, pace and "
           "level can reach", None, "natural length", low=0, high=settings.MAX_MINUTES,
           above=True, must=f"a number above 0 and at most {settings.MAX_MINUTES}",
           metavar="N", example=30, page="how long the session lasts: its holds and "
           "silences grow or shrink to fit; empty, it has its natural length"),
    Option("name", "text", "your name, said at most three times", "", "none", example="Sam"),
    Option("email", "text", "your email address, named as your feeds' owner "
           "(`itunes:owner`, `podcast:locked`) for podcast apps that ask who owns a feed; "
           "without it both are left out", None, "none", PROFILE_ONLY, part="feed",
           most_characters=254, pattern=r"[^@\s]+@[^@\s]+\.[^@\s]+",
           must="an email address, such as sam@example.org", example="sam@example.org"),
    Option("trusted", "text", "someone you trust and may call, named in the safety plan and "
           "the aftercare", "", "none", part="recipe", metavar="NAME",
           old=("trusted_person",), example="Alex", label="Trusted person"),
    Option("limits", "a list of text", "a body limit the session adapts to, repeatable: "
           + ", ".join(f"`{name}`" for name in settings.LIMITS), (),
           "none", part="recipe", choices=tuple(settings.LIMITS), noun="body limit",
           flag="--limit", metavar="L", example=["knees"], label="Body limits",
           page="what your body needs care with: the exercises adapt to each one ticked"),
    Option("eyes_open", "true or false", "eyes open: no invitation to close them, a soft "
           "gaze on one spot instead", False, "closed", part="recipe", example=True),
    Option("tremor", "a number", "minutes of tremor, from 1 to the level's most (`seated`: "
           "at most 3); refused by a programme without a tremor phase", None,
           "the level's range", ONE_SESSION, "recipe",
           must="minutes, from 1 to the level's most", metavar="MIN"),
    Option("pattern", "text", "the breathing pattern of the `breathing` programme: "
           + ", ".join(f"`{name}`" for name in settings.PATTERNS) + "; refused by the others",
           None, f"`{settings.DEFAULT_PATTERN}`", ONE_SESSION, "recipe",
           choices=tuple(settings.PATTERNS), noun="pattern"),
    Option("engine", "text", "`hibari` or `piper` (neural, natural) or `system` (pyttsx3: "
           "espeak-ng, SAPI5, NSSpeech); given with a voice, it must be the voice's", None,
           "the voice's, else `hibari`", registry="engines", example="piper"),
    Option("voice", "text", "a voice by its name in `tre-audio list voices`, which brings "
           "its engine", None, "`heart`, or the engine's own", most_characters=200,
           example="joe", page="the voice that guides you; hear each one below"),
    Option("ambient", "text", "the bed: `pink` or `brown` noise, `drone` (a slowly breathing "
           "chord), `surf` (slow swells), `rain` (soft droplets over a hush), or `none`",
           "pink", "`pink`", part="sound", registry="ambients"),
    Option("seed", "a whole number", "another variation of the generated bed (the same seed "
           "gives the same sound)", 0, "`0`", part="sound", low=0, high=2**32 - 1,
           must="a whole number from 0 to 4294967295", metavar="N"),
    Option("bed_level", "a number", "how far under the voice the bed sits in the silences; "
           "it dips 8 dB further while the voice speaks", 20.0, "`20`", part="sound",
           low=6, high=40, must="6 to 40 dB under the voice", metavar="DB"),
    Option("bells", "true or false", "the bells (the start, chapter and end bells have "
           "their own tones); --no-bells leaves them out", True, "bells", part="sound",
           page="the bells at the start, at each chapter and at the end"),
    Option("interval_bell", "a number", "a very soft chime every S seconds inside long "
           "holds, so you know time is passing; 0 for none", None, "none", part="sound", low=20,
           high=600, off=True, must="20 to 600 seconds, or 0 for none", metavar="S",
           example=60, label="Interval chime", page="a very soft chime every so many "
           "seconds (20 to 600) inside long holds, so you know time is passing; 0 for none"),
    Option("binaural", "a number", "a binaural beat of HZ (1-30) on a low 200 Hz carrier "
           "under the bed; the session becomes stereo and says to use headphones; 0 for none",
           None, "none", part="sound", low=1, high=30, off=True,
           must="a beat of 1 to 30 Hz, or 0 for none", metavar="HZ", example=6,
           page="a binaural beat of 1 to 30 Hz under the bed, for headphones (the session "
           "becomes stereo); 0 for none"),
    Option("loudness", "a number", "`-16` (phones, podcasts), `-19` or `-23` LUFS "
           "integrated", -16.0, "`-16`", part="sound",
           choices=settings.LOUDNESS_TARGETS,
           must=f"{', '.join(f'{t:g}' for t in settings.LOUDNESS_TARGETS[:-1])} or "
                f"{settings.LOUDNESS_TARGETS[-1]:g} LUFS",
           page="-16 suits phones and podcast apps; -19 and -23 are quieter"),
    Option("record", "true or false", "keep the session in your practice record on this "
           "computer (`tre-audio checkin`, `history`), and let your check-ins set its tremor; "
           "--no-record does neither", True, "on", frozenset({COMMAND, PROFILE, FORM}),
           example=True, label="Practice record",
           page="keep this session in your practice record on this computer, and let your "
           "check-ins set its shaking phase"),
    Option("templates", "a folder", "your own templates, searched before the shipped ones",
           None, "`templates` in the data folder, if there is one", frozenset({COMMAND}),
           metavar="DIR"),
    Option("lexicon", "a file", "respell words before they are spoken (TOML: word = "
           "\"respelling\")",
           None, "`lexicon.toml` in the config folder, if there is one",
           frozenset({COMMAND}), metavar="FILE"),
)

BY_KEY = {option.key: option for option in OPTIONS}
WORDS = ("programme", "exercises", "tune", "level", "tremor", "pattern", "limits",
         "eyes_open", "trusted", "templates")
"""The options that shape only the narration's words, which a script has already
written: a session from a script takes none of them."""
OLD_KEYS = {old: option.key for option in OPTIONS for old in option.old}


def where(place: str) -> tuple[Option, ...]:
    """The options that may be set in ``place`` (COMMAND, PLAN, PROFILE or FORM)."""
    return tuple(option for option in OPTIONS if place in option.where)


def part(name: str) -> tuple[str, ...]:
    """The keys the value object's ``name`` part holds (session, sound, recipe), or
    ``feed``'s, which it does not hold."""
    return tuple(option.key for option in OPTIONS if option.part == name)


def check(key: str, value: Any) -> Any:
    """``value`` if option ``key`` takes it, as far as the table knows (its kind, range,
    fixed choices and plain text; a registry's names are checked by the registry), else
    an ``InvalidOption`` naming the option."""
    option = BY_KEY[key]
    if value is None:
        return value
    if option.kind in ("a number", "a whole number"):
        _check_number(option, value)
    elif option.kind == "text" and isinstance(value, str) and option.registry is None:
        if option.choices:
            _check_choice(option, value)
        elif option.most_characters is not None:
            settings.check_text(option.option, value, option.most_characters)
        if option.pattern and not re.fullmatch(option.pattern, value):
            raise InvalidOption(option.option, f"{option.option} must be {option.must}")
    elif option.kind == "a list of text" and option.choices:
        for item in sorted(set(value) - set(option.choices)):
            _check_choice(option, item)
    return value


def _check_number(option: Option, value: Any) -> None:
    whole = option.kind == "a whole number"
    fits = (not isinstance(value, bool) and isinstance(value, int | float)
            and (not whole or isinstance(value, int) or float(value).is_integer())
            and math.isfinite(value))
    if fits and option.off and value == 0:
        return
    if fits and option.choices:
        fits = value in option.choices
    if fits and option.low is not None:
        fits = value > option.low if option.above else value >= option.low
    if fits and option.high is not None:
        fits = value <= option.high
    if not fits:
        raise InvalidOption(option.option, f"{option.option} must be {option.must}")


def _check_choice(option: Option, value: str) -> None:
    if value not in option.choices:
        raise InvalidOption(option.option, f"unknown {option.noun} '{value}'; choose from: "
                            f"{', '.join(option.choices)}")
