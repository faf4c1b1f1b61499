"""The one exception family of tre-audio.

Every error the library raises on purpose is a ``TreAudioError``; its message is one
line a person can act on. ``InvalidOption`` marks a bad choice made by the caller (an
unknown name, an impossible length), which a command line reports as a usage error.
"""


class TreAudioError(Exception):
    """Base class of all tre-audio errors."""


class TreAudioWarning(UserWarning):
    """Something the user should know that does not stop the work (a line that looks
    like a cue but is read aloud); the command line shows it as one line on stderr."""


class InvalidOption(TreAudioError):
    """An option value that cannot be used; ``option`` names it (e.g. ``"--pace"``)."""

    def __init__(self, option: str, message: str) -> None:
        super().__init__(message)
        self.option = option


class ScriptError(TreAudioError):
    """A narration script that cannot be read; the message names the line."""


class EngineError(TreAudioError):
    """A speech engine that is missing, failed, hung or produced bad audio."""


class VoiceError(TreAudioError):
    """A voice that is unknown, unreadable or corrupt."""


class OutputError(TreAudioError):
    """The session or a file beside it could not be written."""


class LexiconError(TreAudioError):
    """A pronunciation lexicon that cannot be read; the message names the file and line."""


class ProfileError(TreAudioError):
    """A profile that cannot be read or written; the message names the file and line."""


class PlanError(TreAudioError):
    """A plan file that cannot be used; the message names the file, line and key."""


class ServeError(TreAudioError):
    """The sessions could not be served (e.g. the port is taken)."""


class Busy(TreAudioError):
    """Too much is already waiting to be done: try again later."""


class PracticeError(TreAudioError):
    """The practice record cannot be read or written; the message names the file."""
