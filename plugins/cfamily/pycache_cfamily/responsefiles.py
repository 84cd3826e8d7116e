"""Response files: ``@file`` arguments replaced by the arguments the file holds.

The compilers expand them before any option is looked at, and so must a
parser. Two quoting styles exist::

    expand_response_files(argv, style="gnu", cwd=call_cwd)      # gcc, clang, nvcc
    expand_response_files(argv, style="windows", cwd=call_cwd)  # cl.exe, clang-cl

``gnu`` splits like libiberty's ``buildargv``: whitespace separates
arguments, ``'...'`` and ``"..."`` quote, a backslash escapes the next
character anywhere. ``windows`` splits like the Microsoft C runtime: quotes
toggle, ``2n`` backslashes before a quote give ``n`` backslashes, ``2n+1``
give ``n`` and a literal quote, ``""`` inside quotes is a literal quote, other
backslashes are literal; a file starting with a UTF-16 or UTF-8 byte-order
mark is decoded accordingly. Nested ``@file`` arguments inside a file are
expanded too, relative to the call's working directory (not to the file
that names them). A file that cannot be read is kept as a literal argument
in ``gnu`` style (gcc does that) and raises `ResponseFileError` in
``windows`` style (cl.exe refuses the call). A response file that is no
regular file -- a FIFO, ``@<(...)``'s ``/dev/fd/N`` (the caller's descriptor,
not the reader's) -- raises `ResponseFileError` in both styles without
being opened: it can be read once, by the compiler.
"""

from __future__ import annotations

import codecs
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from pycache_core.errors import UsageError
from pycache_core.specialfiles import why_not_regular

__all__ = [
    "MAX_EXPANSIONS",
    "ResponseFileError",
    "ResponseFiles",
    "expand_response_files",
    "split_gnu",
    "split_windows",
]


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
        special = why_not_regular(os.fspath(path))
        if special:
            raise ResponseFileError(f"response file {path} {special}: it can be read once, by the compiler")
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
