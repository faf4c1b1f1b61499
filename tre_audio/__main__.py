"""Where the program starts: the ``tre-audio`` command and ``python -m tre_audio``.

Its first statements make Ctrl-C and SIGTERM end the program at once, quietly, while the
modules load (nothing has been written yet); the command line then takes them over and
unwinds on them, removing what it had begun to write.
"""

# _signal, not signal: importing signal imports enum, which takes longer than Python's
# own start; os is loaded by then.
import _signal  # type: ignore[import-not-found]  # not in typeshed; signal's C half
import os


def _interrupted(signum: int, frame: object) -> None:
    os.write(2, b"tre-audio: interrupted; no session was written\n")
    os._exit(130)


if _signal.getsignal(_signal.SIGINT) is not _signal.SIG_IGN:  # a background job ignores it
    _signal.signal(_signal.SIGINT, _interrupted)
_signal.signal(_signal.SIGTERM, _interrupted)  # after SIGINT: caught, both are


def main() -> None:
    from .cli import main as run

    run()


if __name__ == "__main__":
    main()
