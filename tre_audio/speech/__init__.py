"""Speech: engines that turn one sentence into audio, a disk cache, and clip clean-up."""

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # mypy holds each engine module to the contract; nothing runs here
    from . import hibari, piper, system
    from .engine import EngineModule

    _ENGINES: tuple[EngineModule, ...] = (piper, hibari, system)
