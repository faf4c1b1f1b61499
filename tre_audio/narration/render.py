"""Render a programme's Jinja templates into narration script text.

Templates render in Jinja's sandbox with strict undefined names. A user templates
folder (``--templates DIR``, or ``templates`` in the data folder) is searched before
the shipped templates, so it can override any of them or add exercises. Only regular
files inside that folder are read (no symlink out of it), of at most
``MAX_TEMPLATE_BYTES``. ``default:NAME`` is always the shipped template NAME (never the
user's), so that a template of the user's can include, import or extend the shipped
one it overrides.

A rendering is bounded: ``RENDER_SECONDS``, ``MAX_TEXT`` characters of script, and
``RENDER_MEMORY`` more memory (where the system can cap it: Linux; not in a process
that does other work beside, see ``share_process``). The sandbox refuses
the single steps that could make a huge text, list or number at once (``'a' * 10**10``,
``9**9**9``, a width of a billion), which no deadline could interrupt. Compiled templates
are not cached on disk: whoever could write that cache would run code as the user.
"""

from __future__ import annotations

import ctypes
import dataclasses
import os
import re
import string
import threading
from collections.abc import Generator, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from importlib.resources import files
from pathlib import Path
from types import TracebackType
from typing import Any, cast

import jinja2
import jinja2.filters
import jinja2.loaders
import jinja2.sandbox
import platformdirs

from ..files import inputs
from ..errors import InvalidOption, ScriptError
from ..options.settings import DEFAULT_PATTERN, Level, Pace
from ..options.values import Recipe
from .programmes import classic_order, parts, programme, user_folder

try:
    import resource
except ImportError:  # not on Windows
    resource = None  # type: ignore[assignment]

SHORT_SESSION_MINUTES = 28
"""Sessions asked to be shorter than this use the programmes' shorter lead-ins."""

MAX_TEMPLATE_BYTES = 256 * 1024
RENDER_SECONDS = 5.0
MAX_TEXT = 1_000_000
"""Characters of script a rendering may make, and the longest text or list (or the
widest field) any one step of a template may make."""
MAX_NUMBER_BITS = 65_536
"""The largest whole number a template may make (some 20,000 digits)."""
RENDER_MEMORY = 512 * 2**20
"""Bytes of address space a rendering may add to the process, where it can be capped."""
MEMORY_CAPPED = True
"""Whether a rendering caps the process's address space (``share_process`` turns it
off)."""
SHIPPED_PREFIX = "default"
"""``default:NAME`` in an include, import or extends is the shipped template NAME."""


@dataclass(frozen=True)
class Exercise:
    """An exercise template: ``exercises/NAME.j2``, shipped or the user's own."""

    name: str
    summary: str
    tunes: tuple[str, ...]
    """The settings a plan may give it: hold, repetitions, breaths."""
    source: str
    """'shipped', 'yours' (added) or 'yours, replacing shipped'."""


_TUNES = re.compile(r"\[tunes:(?P<tunes>[a-z ,]*)\]$")
MAX_HEADER = 500
"""Characters of a template's first line read for its summary."""


def _header(text: str) -> tuple[str, tuple[str, ...]]:
    """The summary and tunes in a template's first line, ``{# Summary [tunes: a, b] #}``
    (read in one pass: a pattern that backtracked took minutes on a line of spaces)."""
    line = text.split("\n", 1)[0][:MAX_HEADER]
    end = line.find("#}")
    if not line.startswith("{#") or end < 0:
        return "", ()
    body = line[2:end].strip()
    found = _TUNES.search(body)
    if found is None:
        return body, ()
    tunes = tuple(t for t in re.split(r"[ ,]+", found["tunes"]) if t)
    return body[: found.start()].strip(), tunes


def exercises(templates: Path | None = None) -> dict[str, Exercise]:
    """Every exercise, shipped and the user's, by name in a stable order. The first
    line of an exercise's template is a comment: its summary and what it tunes."""
    shipped = files(__package__).joinpath("templates/exercises")
    found = {p.name: p.read_text("utf-8") for p in shipped.iterdir() if p.name.endswith(".j2")}
    origin = dict.fromkeys(found, "shipped")
    folder = user_folder(templates)
    if folder is not None and (folder / "exercises").is_dir():
        root = folder.resolve()
        for path in sorted((folder / "exercises").glob("*.j2")):
            origin[path.name] = "yours, replacing shipped" if path.name in found else "yours"
            try:
                found[path.name] = _read_template(path, root)
            except _Unusable as error:
                raise ScriptError(str(error)) from None
    order = [f"{name}.j2" for name in classic_order()]
    names = [n for n in order if n in found] + sorted(n for n in found if n not in order)
    result = {}
    for file_name in names:
        summary, tunes = _header(found[file_name])
        name = file_name.removesuffix(".j2")
        result[name] = Exercise(name, summary, tunes, origin[file_name])
    return result


class _Unusable(jinja2.TemplateError):
    """A template of the user's that is not read: it leads out of the templates folder,
    is not a regular file, is too large, or is not UTF-8 text."""


def _read_template(path: Path, root: Path) -> str:
    """The text of the user's template at ``path``, which must lead to a regular file
    inside the folder ``root`` (resolved); a byte-order mark is left out."""
    try:
        real = path.resolve(strict=True)
    except (OSError, RuntimeError):  # a dangling symlink, or a loop of them
        raise _Unusable(f"cannot read template {path}: it leads nowhere") from None
    if not real.is_relative_to(root):
        raise _Unusable(f"template {path} leads out of the templates folder") from None
    try:
        data = inputs.read_bytes(real, MAX_TEMPLATE_BYTES)
    except inputs.NotRegular:
        raise _Unusable(f"template {path} is not a regular file") from None
    except inputs.TooLarge:
        raise _Unusable(f"template {path} is larger than "
                        f"{inputs.size_text(MAX_TEMPLATE_BYTES)}, the most a template may be"
                        ) from None
    except OSError as error:
        raise _Unusable(f"cannot read template {path}: {error.strerror}") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise _Unusable(f"template {path}, line {line}: not UTF-8 text; save it as UTF-8"
                        ) from None
    if "\0" in text:
        line = text.count("\n", 0, text.index("\0")) + 1
        raise _Unusable(f"template {path}, line {line}: a NUL character, which plain text "
                        "never holds; save it as UTF-8 text")
    return text


class _UserLoader(jinja2.BaseLoader):
    """The user's templates folder, read with ``_read_template``: a name that is not
    there falls through to the shipped templates; one that cannot be read is an error."""

    def __init__(self, folder: Path, root: Path) -> None:
        self.folder = folder
        self.root = root

    def get_source(self, environment: jinja2.Environment, template: str
                   ) -> tuple[str, str, Any]:
        pieces = jinja2.loaders.split_template_path(template)  # refuses '..'
        path = Path(os.path.normpath(self.folder.joinpath(*pieces)))
        if not os.path.lexists(path):
            raise jinja2.TemplateNotFound(template)
        text = _read_template(path, self.root)
        version = _version(path)
        return text, str(path), lambda: _version(path) == version


class _Prefixed(jinja2.PrefixLoader):
    """``default:NAME``: the shipped template NAME and nothing else (not found there, it
    is not found: the user's folder is never searched for it); any other name: ``own``
    (the user's folder first, then the shipped templates)."""

    def __init__(self, own: jinja2.BaseLoader, shipped: jinja2.BaseLoader) -> None:
        super().__init__({SHIPPED_PREFIX: shipped}, delimiter=":")
        self.own = own

    def get_loader(self, template: str) -> tuple[jinja2.BaseLoader, str]:
        prefix, delimiter, name = template.partition(self.delimiter)
        if delimiter and prefix in self.mapping:
            return self.mapping[prefix], name
        return self.own, template

    def list_templates(self) -> list[str]:
        return sorted({*super().list_templates(), *self.own.list_templates()})


def _version(path: Path) -> tuple[int, ...] | None:
    """What changes when the file at ``path`` is changed or replaced."""
    try:
        status = path.stat()
    except OSError:
        return None
    return status.st_ino, status.st_size, status.st_mtime_ns


@cache
def _environment(folder: Path | None, root: Path | None) -> jinja2.Environment:
    """The templates' environment, with the user's ``folder`` (``root`` once resolved: a
    relative folder is another one in another working folder) searched first."""
    shipped = jinja2.PackageLoader(__package__, "templates")
    loader = shipped if folder is None or root is None else jinja2.ChoiceLoader(
        [_UserLoader(folder, root), shipped])
    return _Sandbox(
        loader=_Prefixed(loader, shipped),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


class _OverBudget(Exception):
    """A rendering that went over its time or text, or a step that would make too much;
    ``where`` is the template and line, when not told by the traceback."""

    def __init__(self, message: str, where: str | None = None) -> None:
        super().__init__(message)
        self.where = where


class _TookTooLong(_OverBudget):
    def __init__(self) -> None:
        super().__init__(f"rendering took longer than {RENDER_SECONDS:g} seconds")


def _bounded(size: int, what: str) -> None:
    """Refuse to make ``what`` (with ``{:,}`` for its size) past ``MAX_TEXT``."""
    if size > MAX_TEXT:
        raise _OverBudget(f"it would make {what.format(size)}; at most {MAX_TEXT:,}")


def _bounded_number(bits: int) -> None:
    if bits > MAX_NUMBER_BITS:
        raise _OverBudget(f"it would make a number of about {bits:,} bits; at most "
                          f"{MAX_NUMBER_BITS:,}")


def _check_width(width: Any) -> None:
    if isinstance(width, int):
        _bounded(width, "a field {:,} characters wide")


_PRINTF = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?")


def _check_printf(text: str, values: Any) -> None:
    """Refuse a ``%`` format of ``text`` whose widths or precisions are too large."""
    for spec in _PRINTF.finditer(text):
        for size in spec.groups():
            if size == "*":
                for value in values if isinstance(values, tuple) else (values,):
                    _check_width(value)
            elif size is not None:
                _check_width(int(size))


def _check_format(text: str, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> None:
    """Refuse a ``str.format`` of ``text`` whose widths or precisions are too large."""
    for _, _, spec, _ in string.Formatter().parse(text):
        if spec and "{" in spec:  # nested: the width comes from the arguments
            for value in (*args, *kwargs.values()):
                _check_width(value)
        for size in re.findall(r"\d+", spec or ""):
            _check_width(int(size))


def _check_replace(text: str, old: str, new: str, count: int | None) -> None:
    found = text.count(old) if old else len(text) + 1
    if count is not None and count >= 0:
        found = min(found, count)
    _bounded(len(text) + found * (len(new) - len(old)), "a text of {:,} characters")


def _center(value: str, width: int = 80) -> str:
    _check_width(width)
    return jinja2.filters.do_center(value, width)


def _indent(text: str, width: int | str = 4, first: bool = False, blank: bool = False
            ) -> str:
    _check_width(width if isinstance(width, int) else len(width))
    return jinja2.filters.do_indent(text, width, first, blank)


def _format(value: str, *args: Any, **kwargs: Any) -> str:
    _check_printf(str(value), kwargs or args)
    return jinja2.filters.do_format(value, *args, **kwargs)


def _batch(value: Any, linecount: int, fill_with: Any = None) -> Any:
    _check_width(linecount)
    return jinja2.filters.do_batch(value, linecount, fill_with)


@jinja2.pass_eval_context
def _replace(context: Any, text: str, old: str, new: str, count: int | None = None) -> str:
    _check_replace(str(text), str(old), str(new), count)
    return jinja2.filters.do_replace(context, text, old, new, count)


@jinja2.pass_environment
def _sum(environment: jinja2.Environment, iterable: Any, attribute: Any = None,
         start: Any = 0) -> Any:
    """Numbers only: adding lists or texts one by one takes time that grows with the
    square of their length, in one call no deadline can stop."""
    if not isinstance(start, int | float) or isinstance(start, bool):
        raise jinja2.sandbox.SecurityError("sum adds numbers, not texts or lists")
    return jinja2.filters.sync_do_sum(environment, iterable, attribute, start)


_FILTERS = {"center": _center, "indent": _indent, "format": _format, "batch": _batch,
            "replace": _replace, "sum": _sum}
_WIDTHS = {"center", "ljust", "rjust", "zfill"}


class _Template(jinja2.Template):
    """A template that keeps track of its renderings, so that the one making text when
    a rendering has made too much can be named (an include is not a ``yield from``)."""

    @classmethod
    def _from_namespace(cls, environment: jinja2.Environment, namespace: Any, globals: Any
                        ) -> jinja2.Template:
        made = super()._from_namespace(environment, namespace, globals)
        root = made.root_render_func

        def tracked(context: jinja2.runtime.Context) -> Iterator[str]:
            rendering, running = root(context), _running()
            running.append((made, rendering))
            try:
                yield from rendering
            finally:
                running.remove((made, rendering))

        made.root_render_func = tracked
        return made


_renderings = threading.local()


def _running() -> list[tuple[jinja2.Template, Any]]:
    """The renderings of templates under way in this thread, the innermost last."""
    if not hasattr(_renderings, "running"):
        _renderings.running = []
    running: list[tuple[jinja2.Template, Any]] = _renderings.running
    return running


def _making_text(running: list[tuple[jinja2.Template, Any]] | None = None) -> str | None:
    """The template and line making text now (the innermost of ``running``, by default
    this thread's renderings)."""
    for template, rendering in reversed(list(_running() if running is None else running)):
        frame = getattr(rendering, "gi_frame", None)
        if frame is not None:
            line = template.get_corresponding_lineno(frame.f_lineno)
            return f"{template.filename or template.name}, line {line}"
    return None


class _Sandbox(jinja2.sandbox.SandboxedEnvironment):
    """Jinja's sandbox, with the operators, methods and filters that could make a huge
    text, list or number in one step refused past ``MAX_TEXT`` (or ``MAX_NUMBER_BITS``),
    and no ``lipsum`` (a filler text generator, of any length)."""

    intercepted_binops = frozenset({"*", "**", "%"})
    template_class = _Template

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        del self.globals["lipsum"]
        self.filters.update(_FILTERS)

    def call_binop(self, context: jinja2.runtime.Context, operator: str, left: Any,
                   right: Any) -> Any:
        if operator == "*":
            for items, times in ((left, right), (right, left)):
                if isinstance(items, str | bytes | list | tuple) and isinstance(times, int):
                    _bounded(len(items) * times, "a text or list of {:,} characters or items")
            if isinstance(left, int) and isinstance(right, int):
                _bounded_number(left.bit_length() + right.bit_length())
        elif operator == "**":
            if isinstance(left, int) and isinstance(right, int) and abs(left) > 1 \
                    and right > 0:
                _bounded_number(left.bit_length() * right)
        elif operator == "%" and isinstance(left, str):
            _check_printf(left, right)
        return super().call_binop(context, operator, left, right)

    def call(__self, __context: jinja2.runtime.Context, __obj: Any, *args: Any,
             **kwargs: Any) -> Any:
        owner = getattr(__obj, "__self__", None)
        name = getattr(__obj, "__name__", "")
        if isinstance(owner, str):
            if name in _WIDTHS and args:
                _check_width(args[0])
            elif name == "expandtabs":
                size = args[0] if args else kwargs.get("tabsize", 8)
                if isinstance(size, int):
                    _bounded(owner.count("\t") * size + len(owner), "a text of {:,} characters")
            elif name == "replace" and len(args) >= 2:
                count = args[2] if len(args) > 2 else kwargs.get("count")
                _check_replace(owner, str(args[0]), str(args[1]), count)
        elif isinstance(owner, list) and name == "extend" and args:
            if hasattr(args[0], "__len__"):
                _bounded(len(owner) + len(args[0]), "a list of {:,} items")
        return super().call(__context, __obj, *args, **kwargs)

    def wrap_str_format(self, value: Any) -> Any:
        wrapped = super().wrap_str_format(value)
        if wrapped is None:
            return None
        text = value.__self__

        def checked(*args: Any, **kwargs: Any) -> str:
            values = args[0] if value.__name__ == "format_map" and args else kwargs
            _check_format(text, args, values if isinstance(values, Mapping) else {})
            return str(wrapped(*args, **kwargs))

        return checked


@contextmanager
def _deadline(seconds: float) -> Iterator[dict[str, Any]]:
    """Raise ``_TookTooLong`` in this thread, wherever it is in Python code, if the block
    is still running after ``seconds``. (Template code is Python code, and a loop with
    an empty body makes no output to count.) Only where CPython says how (ctypes).
    It yields a dict whose ``where`` is then the template and line that was running:
    the exception may land outside the template's frames (between two chunks of text)."""
    thread = threading.get_ident()
    raise_in = getattr(getattr(ctypes, "pythonapi", None), "PyThreadState_SetAsyncExc", None)
    state: dict[str, Any] = {"running": True, "fired": False, "where": None}
    if raise_in is None:
        yield state
        return
    lock = threading.Lock()
    running = _running()

    def fire() -> None:
        with lock:
            if state["running"]:
                state["where"] = _making_text(running)
                raise_in(ctypes.c_ulong(thread), ctypes.py_object(_TookTooLong))
                state["fired"] = True

    timer = threading.Timer(seconds, fire)
    timer.daemon = True
    timer.start()
    try:
        yield state
    finally:
        with lock:
            state["running"] = False
            if state["fired"]:  # if not raised yet, it never is
                raise_in(ctypes.c_ulong(thread), ctypes.c_void_p(0))
        timer.cancel()


def share_process() -> None:
    """Render without the cap on memory from now on, in a process where other work goes
    on beside the renderings (the studio: speech being made, pages answered, a browser
    started). The cap is the process's: it would fall on that work too, and on any
    program started meanwhile (a browser given it at start fails at once). The sandbox's
    bounds on each step, the bound on the text and the deadline still hold."""
    global MEMORY_CAPPED
    MEMORY_CAPPED = False


@contextmanager
def _uncapped() -> Iterator[None]:
    yield


@contextmanager
def _memory_cap(extra: int) -> Iterator[None]:
    """Let the process's address space grow by at most ``extra`` bytes in the block, so
    that a template that fills the memory meets a ``MemoryError`` instead of the
    kernel's OOM killer (Linux: the size is read from /proc)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            size = int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError, AttributeError):
        size = 0
    if resource is None or not size:
        yield
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    cap = size + extra if hard == resource.RLIM_INFINITY else min(size + extra, hard)
    if soft != resource.RLIM_INFINITY and soft <= cap:
        yield
        return
    resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def _text(template: jinja2.Template, context: Mapping[str, Any]) -> str:
    """The template rendered, or ``_OverBudget`` once it makes more than ``MAX_TEXT``."""
    chunks, size = [], 0
    stream = cast(Generator[str, None, None], template.generate(context))
    try:
        for chunk in stream:
            size += len(chunk)
            if size > MAX_TEXT:
                raise _OverBudget(f"it made more than {inputs.size_text(MAX_TEXT)} of text",
                                  _making_text())
            chunks.append(chunk)
    finally:
        stream.close()
    return "".join(chunks)


def render(
    name: str, *, pace: Pace, level: Level, minutes: float | None, listener: str = "",
    binaural: bool = False, recipe: Recipe = Recipe(), templates: Path | None = None,
    short: bool | None = None,
) -> str:
    """The narration script of programme ``name`` (or of ``recipe.exercises``) for
    these options; ``short``: with the shorter lead-ins (None: if ``minutes`` is under
    ``SHORT_SESSION_MINUTES``)."""
    if short is None:
        short = minutes is not None and minutes < SHORT_SESSION_MINUTES
    if recipe.tremor is not None:
        level = dataclasses.replace(level, tremor_low=recipe.tremor, tremor_high=recipe.tremor)
    context = {
        "name": listener.strip(),
        "pace": pace.name,
        "level": level,
        "minutes": minutes,
        "short": short,
        "binaural": binaural,
        "trusted": recipe.trusted.strip(),
        "limits": recipe.limits,
        "eyes_open": recipe.eyes_open,
        "returning": recipe.returning,
        "adapted": recipe.adapted.strip(),
        "ground_first": recipe.ground_first,
        "pattern": recipe.pattern or DEFAULT_PATTERN,
        "tune": {key: dict(value) for key, value in recipe.tune.items()},
    }
    made_of = parts(name, recipe.exercises, templates)
    top = programme(name, templates).template if recipe.exercises is None else None
    listed = made_of.exercises
    if top is None and recipe.ground_first and "grounding" not in listed:  # a template
        listed = (listed[0], "grounding", *listed[1:])  # grounds itself (ground_first)
    return _bounded_render(top or _listed(listed), top is not None, context,
                           templates, made_of.where)


def text(language: str, name: str, context: Mapping[str, Any],
         templates: Path | None = None) -> str:
    """The text ``languages/LANGUAGE/NAME.j2`` makes for ``context`` (the user's
    templates first, as for the narration), without the spaces around it: the words
    beside the narration (notice, titles, a course's schedule) in a programme's
    language."""
    made = _bounded_render(f"languages/{language}/{name}.j2", True, context, templates,
                           f"the {language} texts")
    return made.strip()


def _bounded_render(source: str, named: bool, context: Mapping[str, Any],
                    templates: Path | None, where: str) -> str:
    """The template named ``source`` (or, not ``named``, the template text ``source``),
    rendered within the bounds; any problem is one ``ScriptError`` saying ``where``."""
    folder = user_folder(templates)
    environment = _environment(folder, folder.resolve() if folder else None)
    try:
        # the cap outermost: the deadline is past (its exception raised or dropped) by
        # the time the cap is lifted, so that nothing can keep it on
        capped = _memory_cap(RENDER_MEMORY) if MEMORY_CAPPED else _uncapped()
        with capped, _deadline(RENDER_SECONDS) as late:
            template = (environment.get_template(source) if named else
                        environment.from_string(source))
            return _text(template, context)
    except _OverBudget as error:
        at = (error.where or (late["where"] if isinstance(error, _TookTooLong) else None)
              or _origin(error.__traceback__, where))
        raise ScriptError(f"template {at}: {error}") from None
    except MemoryError as error:
        raise ScriptError(f"template {_origin(error.__traceback__, where)}: rendering "
                          f"needed more than {RENDER_MEMORY >> 20} MB of memory"
                          ) from None
    except _Unusable as error:  # it names the template
        raise ScriptError(str(error)) from None
    except jinja2.TemplateNotFound as error:
        at = _origin(error.__traceback__, where)  # the template that included it
        raise ScriptError(f"{at}: template not found: {error.name}") from None
    except jinja2.TemplateSyntaxError as error:
        at = f"{error.filename or error.name or where}, line {error.lineno}"
        raise ScriptError(f"template {at}: {error.message}") from None
    except jinja2.sandbox.SecurityError as error:
        raise ScriptError(f"template {_origin(error.__traceback__, where)}: refused by the "
                          f"sandbox: {error}") from None
    except jinja2.TemplateError as error:
        raise ScriptError(f"template {_origin(error.__traceback__, where)}: {error.message}"
                          ) from None
    except RecursionError as error:
        raise ScriptError(f"template {_origin(error.__traceback__, where)}: it includes or "
                          "calls itself without end, directly or in a circle") from None
    except (TypeError, ValueError, ArithmeticError, LookupError) as error:
        raise ScriptError(f"template {_origin(error.__traceback__, where)}: {error}") from None


def _listed(exercises: tuple[str, ...]) -> str:
    return "".join(f'{{% include "exercises/{name}.j2" %}}\n' for name in exercises)


def _origin(trace: TracebackType | None, fallback: str) -> str:
    """The template file and line a rendering error came from (the innermost one)."""
    found = fallback
    while trace is not None:
        filename = trace.tb_frame.f_code.co_filename
        if filename.endswith(".j2"):
            found = f"{filename}, line {trace.tb_lineno}"
        trace = trace.tb_next
    return found
