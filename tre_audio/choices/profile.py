"""The listener's profile: who they are, their body limits and preferred choices.

A TOML file in the config folder (``~/.config/tre-audio/profile.toml`` on Linux).
Every key is optional; what the command line gives overrides it.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import platformdirs

from .. import registries
from ..errors import InvalidOption, ProfileError
from ..files import tomlfile
from ..files.atomic import atomic_file
from ..options import table

FILE_NAME = "profile.toml"


KEYS = {option.key: option for option in table.where(table.PROFILE)}
"""The keys a profile may set: every option general to all sessions (not a programme,
its tremor or pattern, nor a path)."""


@dataclass(frozen=True, init=False)
class Profile:
    """What the profile sets, by key (old names read as the new)."""

    items: tuple[tuple[str, Any], ...]

    def __init__(self, **values: Any) -> None:
        items = {}
        for written, value in values.items():
            key = table.OLD_KEYS.get(written, written)
            if key not in KEYS:
                raise InvalidOption(written, f"unknown profile key '{written}'; choose from: "
                                    f"{', '.join(KEYS)}")
            if value is None:
                continue
            value = tuple(value) if isinstance(value, list) else value
            table.check(key, value)
            registries.check(KEYS[key].registry, value)
            items[key] = value
        object.__setattr__(self, "items", tuple((k, items[k]) for k in KEYS if k in items))

    def get(self, key: str) -> Any:
        """The value the profile sets for ``key``, or None."""
        return dict(self.items).get(key)

    def values(self) -> dict[str, Any]:
        """The keys the profile sets, with their values."""
        return dict(self.items)


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
    for written, value in doc.data.items():
        tomlfile.option_of(doc, written, value, KEYS, ProfileError, "profile")
        values[written] = value
    try:
        return Profile(**values)
    except InvalidOption as error:
        names = {table.OLD_KEYS.get(k, k): k for k in values}
        raise doc.refused(error, ProfileError, names) from None


def text(profile: Profile) -> str:
    """The profile as a commented TOML file; keys it does not set are commented out."""
    lines = [
        "# tre-audio profile. Every key is optional; options on the command line win.",
        "# Change a key with: tre-audio profile set KEY VALUE (or edit this file).",
        "",
    ]
    set_ = profile.values()
    for option in KEYS.values():
        about = option.allowed if option.choices else option.plain_help
        lines += textwrap.wrap(about, 86, initial_indent="# ", subsequent_indent="# ")
        if option.key in set_:
            lines.append(f"{option.key} = {tomlfile.toml_value(set_[option.key])}")
        else:
            example = option.default if option.example is None else option.example
            lines.append(f"# {option.key} = {tomlfile.toml_value(example)}")
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
    key = table.OLD_KEYS.get(key, key)
    if key not in KEYS:
        raise InvalidOption("KEY", f"unknown profile key '{key}'; choose from: "
                            f"{', '.join(KEYS)}")
    values = load(path).values()
    values[key] = _parse(KEYS[key], value)
    if key in ("voice", "engine") and values[key] is not None:
        values.pop("engine" if key == "voice" else "voice", None)  # a voice brings its engine
    try:
        new = Profile(**values)
        if key in ("voice", "engine") and values[key] is not None:
            registries.check_voice(new.get("engine"), new.get("voice"))
    except InvalidOption as error:  # as a profile names it
        raise InvalidOption("VALUE", str(error).removeprefix("--")) from None
    _write(path, new)
    return new


def replace(given: Mapping[str, Any], keys: Iterable[str], path: Path | None = None
            ) -> Profile:
    """Set each of ``keys`` as ``given`` has it (unset where it has none), keep the
    profile's other keys, and write it; return it."""
    path = path or default_path()
    values = load(path).values()
    for key in keys:
        values.pop(key, None)
        if given.get(key) is not None:
            values[key] = given[key]
    new = Profile(**values)
    if new.get("voice") is not None or new.get("engine") is not None:
        registries.check_voice(new.get("engine"), new.get("voice"))
    _write(path, new)
    return new


_ANSWERS = {"true": True, "yes": True, "on": True, "false": False, "no": False, "off": False}


def _parse(option: table.Option, value: str) -> Any:
    value = value.strip()
    if not value:
        return None
    if option.kind in ("a number", "a whole number"):
        try:
            number = float(value) if option.kind == "a number" else int(value)
        except ValueError:
            raise InvalidOption("VALUE", f"{option.key} must be {option.kind}: "
                                f"{option.allowed}") from None
        return number
    if option.kind == "true or false":
        if value.lower() not in _ANSWERS:
            raise InvalidOption("VALUE", f"{option.key} must be true or false")
        return _ANSWERS[value.lower()]
    if option.kind == "a list of text":
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
    """The profile as choices for a session (keys as in the option table): without what
    only the feeds read (``email``)."""
    return {key: value for key, value in profile.values().items()
            if KEYS[key].part != "feed"}


def feed_owner(path: Path | None = None) -> str | None:
    """The email address the profile names as its feeds' owner, if any."""
    return load(path).get("email")
