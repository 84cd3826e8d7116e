"""Command-line machinery shared by the C-family compiler plugins.

gcc/clang, MSVC (cl.exe, clang-cl) and nvcc plugins all need the same two
things before they can understand a call, and this module is the one place
that has them:

**Response files.** ``@file`` arguments are replaced by the arguments the
file holds, before any option is looked at (the compilers do the same).
Two quoting styles exist::

    expand_response_files(argv, style="gnu", cwd=call_cwd)      # gcc, clang, nvcc
    expand_response_files(argv, style="windows", cwd=call_cwd)  # cl.exe, clang-cl

``gnu`` splits like libiberty's ``buildargv``: whitespace separates
arguments, ``'...'`` and ``"..."`` quote, a backslash escapes the next
character anywhere. ``windows`` splits like the Microsoft C runtime: quotes
toggle, ``2n`` backslashes before a quote give ``n`` backslashes, ``2n+1``
give ``n`` and a literal quote, ``""`` inside quotes is a literal quote, other
backslashes are literal. Nested ``@file`` arguments inside a file are
expanded too. A file that cannot be read is kept as a literal argument in
``gnu`` style (gcc does that) and raises `ResponseFileError` in ``windows``
style (cl.exe refuses the call).

**Option tables.** An `OptionTable` is built from `OptionSpec` rows: the
option's spelling, how it takes its value (`ArgForm`), a category, whether
the value names a path, and a free ``tag`` the plugin dispatches on::

    TABLE = OptionTable([
        OptionSpec("-c", ArgForm.FLAG, Category.OUTPUT, tag="compile"),
        OptionSpec("-o", ArgForm.JOINED_OR_SEPARATE, Category.OUTPUT, path=True, tag="output"),
        OptionSpec("-I", ArgForm.JOINED_OR_SEPARATE, Category.PREPROCESSOR, path=True),
        OptionSpec("-std", ArgForm.EQUALS, Category.CODEGEN),
        OptionSpec("-W", ArgForm.JOINED, Category.CODEGEN),
    ])
    for arg in TABLE.parse(argv):
        ...  # ParsedArg: spec (None = input or unknown option), value, tokens

Lookup is exact spelling first, then the longest spelling that is a prefix
of the argument, so specific rows (``-fprofile-use=``) win over generic ones
(``-f``). Nothing here knows any particular compiler: the tables live in the
plugins.
"""

from __future__ import annotations

import codecs
import enum
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from .errors import UsageError

__all__ = [
    "ArgForm",
    "Category",
    "OptionSpec",
    "OptionTable",
    "ParsedArg",
    "ResponseFileError",
    "ResponseFiles",
    "expand_response_files",
    "split_gnu",
    "split_windows",
]


# --- response files -----------------------------------------------------------


class ResponseFileError(UsageError):
    """A response file could not be read, or they nest too deeply."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ResponseFiles:
    """The arguments after expansion, and the response files that were read
    (absolute paths, in the order they were opened)."""

    arguments: tuple[str, ...]
    files: tuple[Path, ...]


#: libiberty gives up after this many expansions (its guard against a file
#: that includes itself); so do we.
MAX_EXPANSIONS = 2000

_GNU_SPACE = " \t\n\r\f\v"


def split_gnu(text: str) -> list[str]:
    """Split a response file's text the way gcc (libiberty ``buildargv``) does."""
    args: list[str] = []
    i, n = 0, len(text)
    while i < n:
        while i < n and text[i] in _GNU_SPACE:
            i += 1
        if i >= n:
            break
        current: list[str] = []
        squote = dquote = False
        while i < n:
            ch = text[i]
            if ch in _GNU_SPACE and not squote and not dquote:
                break
            if ch == "\\" and i + 1 < n:
                # A backslash escapes the next character, inside quotes too.
                current.append(text[i + 1])
                i += 2
                continue
            if ch == "\\":
                i += 1  # a trailing lone backslash is dropped, as buildargv does
                continue
            if squote:
                if ch == "'":
                    squote = False
                else:
                    current.append(ch)
            elif dquote:
                if ch == '"':
                    dquote = False
                else:
                    current.append(ch)
            elif ch == "'":
                squote = True
            elif ch == '"':
                dquote = True
            else:
                current.append(ch)
            i += 1
        args.append("".join(current))
    return args


_WIN_SPACE = " \t\n\r"


def split_windows(text: str) -> list[str]:
    """Split text the way the Microsoft C runtime splits a command line
    (newlines separate arguments too, as they do in a response file)."""
    args: list[str] = []
    i, n = 0, len(text)
    while i < n:
        while i < n and text[i] in _WIN_SPACE:
            i += 1
        if i >= n:
            break
        current: list[str] = []
        quoted = False
        while i < n:
            ch = text[i]
            if ch in _WIN_SPACE and not quoted:
                break
            if ch == "\\":
                run = i
                while i < n and text[i] == "\\":
                    i += 1
                count = i - run
                if i < n and text[i] == '"':
                    current.append("\\" * (count // 2))
                    if count % 2:
                        current.append('"')
                        i += 1
                    # an even run leaves the quote to toggle below
                else:
                    current.append("\\" * count)
                continue
            if ch == '"':
                if quoted and i + 1 < n and text[i + 1] == '"':
                    current.append('"')  # "" inside quotes: a literal quote
                    i += 2
                    continue
                quoted = not quoted
                i += 1
                continue
            current.append(ch)
            i += 1
        args.append("".join(current))
    return args


def _decode(data: bytes, style: str) -> str:
    if style == "windows":
        if data.startswith(codecs.BOM_UTF16_LE) or data.startswith(codecs.BOM_UTF16_BE):
            return data.decode("utf-16")
        if data.startswith(codecs.BOM_UTF8):
            return data[len(codecs.BOM_UTF8) :].decode("utf-8", "surrogateescape")
    # gcc reads bytes; the arguments of the call arrived as file-system text.
    return os.fsdecode(data) if os.name != "nt" else data.decode("utf-8", "surrogateescape")


def expand_response_files(
    arguments: Sequence[str],
    *,
    style: str = "gnu",
    cwd: str | os.PathLike[str] | None = None,
    read: Callable[[Path], bytes] | None = None,
) -> ResponseFiles:
    """Replace every ``@file`` argument by the arguments in that file.

    Relative names are relative to ``cwd`` (the call's working directory,
    not the server's), as the compilers resolve them. ``style`` is ``"gnu"``
    or ``"windows"`` (see the module docstring).
    """
    if style not in ("gnu", "windows"):
        raise ValueError(f"unknown response file style {style!r}")
    if not any(a.startswith("@") for a in arguments):
        return ResponseFiles(arguments=tuple(arguments), files=())
    split = split_gnu if style == "gnu" else split_windows
    reader = read or (lambda p: p.read_bytes())
    base = Path(cwd) if cwd is not None else Path.cwd()
    out: list[str] = []
    files: list[Path] = []
    pending = list(reversed(arguments))
    expansions = 0
    while pending:
        arg = pending.pop()
        if not arg.startswith("@") or len(arg) == 1:
            out.append(arg)
            continue
        path = Path(arg[1:])
        if not path.is_absolute():
            path = base / path
        try:
            data = reader(path)
        except OSError as exc:
            if style == "gnu":
                out.append(arg)  # gcc: "the option will be treated literally"
                continue
            raise ResponseFileError(f"cannot read response file {path}: {exc.strerror or exc}") from exc
        expansions += 1
        if expansions > MAX_EXPANSIONS:
            raise ResponseFileError(f"more than {MAX_EXPANSIONS} response files expanded (a file that includes itself?)")
        files.append(path)
        pending.extend(reversed(split(_decode(data, style))))
    return ResponseFiles(arguments=tuple(out), files=tuple(files))


# --- option tables ------------------------------------------------------------


class ArgForm(enum.Enum):
    """How an option takes its value."""

    #: no value: ``-c``
    FLAG = "flag"
    #: the next argument: ``-Xclang -foo``
    SEPARATE = "separate"
    #: the rest of the same argument, possibly empty: ``-O2``, ``-Wall``, ``-O``
    JOINED = "joined"
    #: joined, or the next argument when nothing is joined: ``-Iinc``, ``-I inc``
    JOINED_OR_SEPARATE = "either"
    #: after ``=`` in the same argument: ``-std=c11``; with
    #: ``OptionSpec.separate_ok`` also ``--param name=value`` as two arguments
    EQUALS = "equals"


class Category:
    """Well-known option categories. Plugins may add their own strings."""

    #: affects only what the preprocessor reads and defines (-I, -D)
    PREPROCESSOR = "preprocessor"
    #: affects the compiled result or the diagnostics (-O2, -Wall, -g)
    CODEGEN = "codegen"
    #: names or selects an output (-o, -c, -MF)
    OUTPUT = "output"
    #: dependency-file generation (-MD, -MT)
    DEPENDENCY = "dependency"
    #: linking only
    LINK = "link"
    #: changes nothing the cache could observe (-pipe)
    IGNORED = "ignored"
    #: makes the call a non-compilation (--version) or not cacheable
    #: (-save-temps); the ``tag`` says which
    REFUSED = "refused"


@dataclass(frozen=True, slots=True)
class OptionSpec:
    """One row of an option table.

    ``path``: the value is (or contains) a file-system path, so it must be
    made portable before it is hashed. ``tag``: the plugin's own name for
    what the option means ("output", "depfile", a not-cacheable reason...).
    ``separate_ok``: for `ArgForm.EQUALS`, the value may also be the next
    argument (``--sysroot dir``).
    """

    spelling: str
    form: ArgForm
    category: str
    path: bool = False
    tag: str = ""
    separate_ok: bool = False


@dataclass(frozen=True, slots=True)
class ParsedArg:
    """One option or input as it appeared on the command line.

    ``spec`` is None for an input (``is_input``) and for an unknown option
    (``is_unknown``). ``tokens`` are the argument(s) exactly as given: one,
    or two for a separate value. ``missing_value``: the option wants a
    separate value and the command line ended.
    """

    spec: OptionSpec | None
    value: str | None
    tokens: tuple[str, ...]
    index: int
    missing_value: bool = False

    @property
    def is_input(self) -> bool:
        return self.spec is None and not _looks_like_option(self.tokens[0])

    @property
    def is_unknown(self) -> bool:
        return self.spec is None and _looks_like_option(self.tokens[0])

    @property
    def option(self) -> str:
        """The spelling of the matched option ("" for inputs and unknown ones)."""
        return self.spec.spelling if self.spec is not None else ""

    def joined(self) -> str:
        """The option as one argument (``-I inc`` -> ``-Iinc``); an `ArgForm.EQUALS`
        or `ArgForm.SEPARATE` value keeps its separator."""
        if self.spec is None or len(self.tokens) == 1:
            return self.tokens[0]
        if self.spec.form is ArgForm.EQUALS:
            return f"{self.spec.spelling}={self.value}"
        if self.spec.form is ArgForm.SEPARATE:
            return f"{self.spec.spelling} {self.value}"
        return f"{self.spec.spelling}{self.value}"


def _looks_like_option(token: str) -> bool:
    # A lone "-" is the standard input, an input rather than an option.
    return len(token) > 1 and token[0] == "-"


class OptionTable:
    """A set of `OptionSpec` rows and the parser that applies them.

    Immutable once built: safe to share between threads.
    """

    def __init__(self, specs: Iterable[OptionSpec]) -> None:
        self._specs = tuple(specs)
        exact: dict[str, OptionSpec] = {}
        prefixed: dict[str, list[OptionSpec]] = {}
        for spec in self._specs:
            if spec.form in (ArgForm.FLAG, ArgForm.SEPARATE, ArgForm.JOINED_OR_SEPARATE):
                self._add_exact(exact, spec.spelling, spec)
            if spec.form is ArgForm.EQUALS and spec.separate_ok:
                self._add_exact(exact, spec.spelling, spec)
            if spec.form in (ArgForm.JOINED, ArgForm.JOINED_OR_SEPARATE):
                prefixed.setdefault(spec.spelling[:2], []).append(spec)
            if spec.form is ArgForm.EQUALS:
                prefixed.setdefault(spec.spelling[:2], []).append(spec)
        for rows in prefixed.values():
            rows.sort(key=lambda s: len(s.spelling), reverse=True)
        self._exact = exact
        self._prefixed = prefixed

    @staticmethod
    def _add_exact(exact: dict[str, OptionSpec], spelling: str, spec: OptionSpec) -> None:
        if spelling in exact and exact[spelling] != spec:
            raise ValueError(f"option {spelling!r} is in the table twice")
        exact[spelling] = spec

    @property
    def specs(self) -> tuple[OptionSpec, ...]:
        return self._specs

    def lookup(self, token: str) -> OptionSpec | None:
        """The row that matches ``token``: the exact spelling, else the
        longest joined/``=`` spelling that prefixes it."""
        spec = self._exact.get(token)
        if spec is not None:
            return spec
        for row in self._prefixed.get(token[:2], ()):
            if row.form is ArgForm.EQUALS:
                if token.startswith(row.spelling + "="):
                    return row
            elif token.startswith(row.spelling):
                return row
        return None

    def parse(self, arguments: Sequence[str]) -> list[ParsedArg]:
        """Split ``arguments`` into options (with their values) and inputs."""
        parsed: list[ParsedArg] = []
        i, n = 0, len(arguments)
        while i < n:
            token = arguments[i]
            spec = self.lookup(token) if _looks_like_option(token) else None
            if spec is None:
                parsed.append(ParsedArg(None, None, (token,), i))
                i += 1
                continue
            form = spec.form
            if form is ArgForm.FLAG:
                parsed.append(ParsedArg(spec, None, (token,), i))
                i += 1
            elif token == spec.spelling and (
                form in (ArgForm.SEPARATE, ArgForm.JOINED_OR_SEPARATE) or (form is ArgForm.EQUALS and spec.separate_ok)
            ):
                if i + 1 >= n:
                    parsed.append(ParsedArg(spec, None, (token,), i, missing_value=True))
                    i += 1
                else:
                    parsed.append(ParsedArg(spec, arguments[i + 1], (token, arguments[i + 1]), i))
                    i += 2
            elif form is ArgForm.EQUALS:
                parsed.append(ParsedArg(spec, token[len(spec.spelling) + 1 :], (token,), i))
                i += 1
            else:  # JOINED, or JOINED_OR_SEPARATE with a joined value
                parsed.append(ParsedArg(spec, token[len(spec.spelling) :], (token,), i))
                i += 1
        return parsed
