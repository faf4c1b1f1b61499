"""The listener's profile: who they are, their body limits and preferred choices.

A TOML file in the config folder (``~/.config/tre-audio/profile.toml`` on Linux).
Every key is optional; what the command line gives overrides it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import platformdirs

from ..sound import ambient
from ..options import settings
from ..files import tomlfile
from ..errors import InvalidOption, ProfileError
from ..files.atomic import atomic_file
from ..speech.engine import ENGINES, engine_module

FILE_NAME = "profile.toml"


@dataclass(frozen=True)
class Key:
    name: str
    kind: str
    about: str
    example: Any


KEYS = {
    k.name: k
    for k in (
        Key("name", "text", "your name, said a few times in the sessions", "Sam"),
        Key("trusted_person", "text", "someone you trust and may call after a session",
            "Alex"),
        Key("level", "text", f"one of {', '.join(settings.LEVELS)}", "first-time"),
        Key("limits", "a list of text", f"body limits, any of: {', '.join(settings.LIMITS)}",
            ["knees"]),
        Key("eyes_open", "true or false", "keep your eyes open throughout", True),
        Key("engine", "text", f"speech engine: {', '.join(ENGINES)}", "piper"),
        Key("voice", "text", "a voice name (tre-audio list voices)", "en_US-joe-medium"),
        Key("pace", "text", f"one of {', '.join(settings.PACES)}", "gentle"),
        Key("ambient", "text", f"one of {', '.join(ambient.AMBIENTS)}", "pink"),
        Key("minutes", "a number", f"session length, above 0 and at most "
            f"{settings.MAX_MINUTES}", 30),
        Key("loudness", "a number", "-16, -19 or -23 LUFS", -19),
    )
}


@dataclass(frozen=True)
class Profile:
    """What the profile sets; None (or empty) where it sets nothing."""

    name: str | None = None
    trusted_person: str | None = None
    level: str | None = None
    limits: tuple[str, ...] | None = None
    eyes_open: bool | None = None
    engine: str | None = None
    voice: str | None = None
    pace: str | None = None
    ambient: str | None = None
    minutes: float | None = None
    loudness: float | None = None

    def __post_init__(self) -> None:
        if self.level is not None:
            settings.level(self.level)
        if self.pace is not None:
            settings.pace(self.pace)
        if self.limits is not None:
            settings.check_limits(self.limits)
        if self.ambient is not None:
            ambient.check(self.ambient)
        if self.engine is not None:
            engine_module(self.engine)
        if self.minutes is not None:
            settings.check_minutes(self.minutes)
        if self.loudness is not None and self.loudness not in settings.LOUDNESS_TARGETS:
            raise InvalidOption("--loudness", "loudness must be -16, -19 or -23 LUFS")
        for key in ("name", "trusted_person"):
            if getattr(self, key) is not None:
                settings.check_text(key, getattr(self, key))

    def values(self) -> dict[str, Any]:
        """The keys the profile sets, with their values."""
        return {k: v for k, v in dataclasses.asdict(self).items() if v is not None}


def default_path() -> Path:
    """``profile.toml`` in the user's config folder."""
    return Path(platformdirs.user_config_dir("tre-audio")) / FILE_NAME


def load(path: Path | None = None) -> Profile:
    """The profile at ``path`` (default: the user's); an empty one if there is none."""
    path = path or default_path()
    if not path.exists():
        return Profile()
    doc = tomlfile.read(path, ProfileError, "profile")
    values: dict[str, Any] = {}
    for key, value in doc.data.items():
        if key not in KEYS:
            raise ProfileError(f"{doc.where(key)}: unknown key '{key}'; a profile may set: "
                               f"{', '.join(KEYS)}")
        spec = KEYS[key]
        tomlfile.check(doc, key, value, spec.kind, spec.about, ProfileError)
        values[key] = tuple(value) if isinstance(value, list) else value
    try:
        return Profile(**values)
    except InvalidOption as error:
        raise doc.refused(error, ProfileError) from None


def text(profile: Profile) -> str:
    """The profile as a commented TOML file; keys it does not set are commented out."""
    lines = [
        "# tre-audio profile. Every key is optional; options on the command line win.",
        "# Change a key with: tre-audio profile set KEY VALUE (or edit this file).",
        "",
    ]
    set_ = profile.values()
    for key in KEYS.values():
        lines.append(f"# {key.about}")
        if key.name in set_:
            lines.append(f"{key.name} = {tomlfile.toml_value(set_[key.name])}")
        else:
            lines.append(f"# {key.name} = {tomlfile.toml_value(key.example)}")
    return "\n".join(lines) + "\n"


def init(path: Path | None = None) -> Path:
    """Write an empty, commented profile at ``path``; refuse to replace one."""
    path = path or default_path()
    if path.exists():
        raise InvalidOption("profile", f"a profile already exists at {path}; change it with "
                            "'tre-audio profile set KEY VALUE'")
    _write(path, Profile())
    return path


def set_value(key: str, value: str, path: Path | None = None) -> Profile:
    """Set ``key`` to ``value`` (as typed on a command line; empty text unsets it) and
    write the profile; return it."""
    path = path or default_path()
    if key not in KEYS:
        raise InvalidOption("KEY", f"unknown profile key '{key}'; choose from: "
                            f"{', '.join(KEYS)}")
    current = load(path)
    new = dataclasses.replace(current, **{key: _parse(KEYS[key], value)})
    _write(path, new)
    return new


def _parse(key: Key, value: str) -> Any:
    value = value.strip()
    if not value:
        return None
    if key.kind == "a number":
        try:
            return float(value)
        except ValueError:
            raise InvalidOption("VALUE", f"{key.name} must be a number: {key.about}") from None
    if key.kind == "true or false":
        answers = {"true": True, "yes": True, "on": True, "false": False, "no": False,
                   "off": False}
        if value.lower() not in answers:
            raise InvalidOption("VALUE", f"{key.name} must be true or false")
        return answers[value.lower()]
    if key.kind == "a list of text":
        return tuple(v.strip() for v in value.split(",") if v.strip()) or None
    return value


def _write(path: Path, profile: Profile) -> None:
    """The profile may hold body limits and who the listener turns to: a new one, and a
    new config folder, are the user's alone."""
    try:
        path.parent.parent.mkdir(parents=True, exist_ok=True)
        path.parent.mkdir(mode=0o700, exist_ok=True)
    except OSError as error:
        raise ProfileError(f"cannot create {path.parent}: {error.strerror}") from None
    with atomic_file(path, private=True) as temporary:
        temporary.write_text(text(profile), encoding="utf-8")


def show(profile: Profile, path: Path | None = None) -> str:
    """The profile's keys and values, one a line, for people to read."""
    set_ = profile.values()
    rows = [f"# {path or default_path()}"]
    width = max(len(k) for k in KEYS)
    for key in KEYS:
        value = set_.get(key)
        shown = "(not set)" if value is None else (
            ", ".join(value) if isinstance(value, tuple) else f"{value:g}"
            if isinstance(value, float) else str(value).lower() if isinstance(value, bool)
            else str(value))
        rows.append(f"{key.ljust(width)}  {shown}")
    return "\n".join(rows) + "\n"


def as_choices(profile: Profile) -> Mapping[str, Any]:
    """The profile as choices for a session (keys as in ``choices.options``)."""
    values = profile.values()
    if "trusted_person" in values:
        values["trusted"] = values.pop("trusted_person")
    return values
