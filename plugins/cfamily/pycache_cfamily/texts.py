"""Where a C-family compile names paths in text, for the core's base
directory relocation (`pycache_core.relocation`).

- `GNU_MKDEPS`, `LLVM_DEPFILE`: how gcc (libcpp's mkdeps) and clang write
  make dependency files -- the same escaping, different line wrapping and
  target spelling. A family lists the layouts its compilers may use; the
  core keeps the one that reproduces the compiler's file byte for byte.
- `GNU_DIAGNOSTICS`: where gcc and clang print paths in their diagnostics
  (coloured or not): the location a line starts with (``a.c:3:5:``,
  ``a.c: In function``) and the ``In file included from``/``from`` lines.
  A path anywhere else (a ``#warning`` text, a missing ``-I`` directory in
  a message) is not relocated, and the core then keeps the result to the
  call's own base directories.
- `portable_markers`: preprocessed output with only the line markers'
  paths made portable -- the paths a hit restores (diagnostics, the
  dependency file). String literals (``__FILE__``, ``assert``) stay as they
  are: they reach the object.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from pycache_core.api import LinePaths

__all__ = ["GNU_DIAGNOSTICS", "GNU_MKDEPS", "LLVM_DEPFILE", "make_escape", "marker_paths", "portable_markers"]


def make_escape(path: str) -> str:
    """A file name as gcc and clang write it in a rule: ``$`` doubled,
    ``#`` and white space after a backslash, and backslashes in front of
    white space doubled (GNU make's quoting)."""
    out: list[str] = []
    slashes = 0
    for ch in path:
        if ch == "\\":
            slashes += 1
        elif ch == "$":
            out.append("$")
            slashes = 0
        elif ch in " \t":
            out.append("\\" * slashes + "\\")
            slashes = 0
        elif ch == "#":
            out.append("\\")
            slashes = 0
        else:
            slashes = 0
        out.append(ch)
    return "".join(out)


def _unescaped_length(name: str) -> int:
    """The length of the file name ``name`` was escaped from."""
    if "\\" not in name and "$" not in name:
        return len(name)  # nothing escaped: most names of a kernel unit's ~800
    length = 0
    i = 0
    while i < len(name):
        ch = name[i]
        if ch == "$" and name[i + 1 : i + 2] == "$":
            i += 2
        elif ch == "\\":
            run = len(name[i:]) - len(name[i:].lstrip("\\"))
            after = name[i + run : i + run + 1]
            if after in (" ", "\t"):
                length += (run - 1) // 2 + 1  # 2N+1 backslashes + blank: N backslashes and the blank
                i += run + 1
                continue
            if after == "#" and run == 1:
                length += 1
                i += 2
                continue
            length += run
            i += run
            continue
        else:
            i += 1
        length += 1
    return length


class _GnuMkdeps:
    """libcpp's mkdeps (gcc 12): a name goes to the next line (`` \\``,
    newline, one space) when the column would pass 72; targets lose a
    leading ``./``."""

    name = "gnu-mkdeps"
    columns = 72

    def escape(self, path: str) -> str:
        return make_escape(path)

    def target(self, given: str) -> str:
        while given.startswith("./"):
            given = given[2:].lstrip("/")
        return make_escape(given)

    def rule(self, targets: Sequence[str], prerequisites: Sequence[str]) -> str:
        out: list[str] = []
        column = 0

        def write(name: str) -> None:
            nonlocal column
            if column:
                if column + len(name) > self.columns:
                    out.append(" \\\n")
                    column = 0
                column += 1
                out.append(" ")
            column += len(name)
            out.append(name)

        for name in targets:
            write(name)
        out.append(":")
        column += 1
        for name in prerequisites:
            write(name)
        return "".join(out)


class _LlvmDepfile:
    """clang's DependencyFileGenerator (clang 14): 75 columns, targets
    continue after `` \\``-newline and two spaces, prerequisites after one
    (each written with a space before it), widths of the unescaped names;
    targets as given."""

    name = "llvm"
    columns = 75

    def escape(self, path: str) -> str:
        return make_escape(path)

    def target(self, given: str) -> str:
        return make_escape(given)

    def rule(self, targets: Sequence[str], prerequisites: Sequence[str]) -> str:
        out: list[str] = []
        column = 0
        for name in targets:
            width = len(name)
            if column == 0:
                column += width
            elif column + width + 2 > self.columns:
                column = width + 2
                out.append(" \\\n  ")
            else:
                column += width + 1
                out.append(" ")
            out.append(name)
        out.append(":")
        column += 1
        for name in prerequisites:
            width = _unescaped_length(name)
            if column + (width + 1) + 2 > self.columns:
                out.append(" \\\n ")
                column = 2
            out.append(" ")
            out.append(name)
            column += width + 1
        return "".join(out)


GNU_MKDEPS = _GnuMkdeps()
LLVM_DEPFILE = _LlvmDepfile()

_SGR = rb"(?:\x1b\[[0-9;]*[mK])*"
#: Locations at the start of a diagnostic line: ``PATH:LINE...``, ``PATH:
#: In function ...`` / ``PATH: At top level:``, and the include chain.
GNU_DIAGNOSTICS = LinePaths(
    patterns=(
        re.compile(
            rb"^" + _SGR + rb"(?:In file included from |[ ]+from )?" + _SGR
            + rb"(?P<path>[^\s\x1b][^\x1b\n]*?)" + _SGR + rb":(?:\d|" + _SGR + rb" [A-Z])",
            re.M,
        ),
    )
)

# -E output line markers: # <line> "<file>" [flags] (the file escaped as a C
# string); cl.exe writes #line <line> "<file>". Matched after a newline (one
# is put in front of the text) with the escape loop unrolled, as
# `pycache_cfamily.preprocessed` does: big texts have tens of thousands.
_MARKER = re.compile(rb'(\n#(?:line)? \d+ ")([^"\\\n]*(?:\\.[^"\\\n]*)*)("(?: [1-4])*[ \t]*\r?)(?=\n|\Z)')
_C_ESCAPE = re.compile(rb"\\(.)")


def marker_paths(output: bytes) -> list[str]:
    """Every file the line markers name (the main source and each header,
    as the compiler will name them), in order of first appearance; not the
    pseudo-files ``<built-in>`` and ``<command-line>``."""
    spellings = dict.fromkeys(match.group(2) for match in _MARKER.finditer(b"\n" + output))
    paths = (_unescaped(raw) for raw in spellings)
    return list(dict.fromkeys(p for p in paths if not (p.startswith("<") and p.endswith(">"))))


def _unescaped(raw: bytes) -> str:
    return (_C_ESCAPE.sub(rb"\1", raw) if b"\\" in raw else raw).decode("utf-8", "surrogateescape")


def portable_markers(output: bytes, portable_path: Callable[[str], str]) -> bytes:
    """``output`` with each line marker's file made portable by
    ``portable_path``; everything else (string literals from ``__FILE__``,
    ``#line`` names inside code) as it is."""

    spelled: dict[bytes, bytes] = {}  # a file's markers repeat: work each spelling out once

    def marker(match: re.Match[bytes]) -> bytes:
        raw = match.group(2)
        if raw not in spelled:
            path = _unescaped(raw)
            portable = portable_path(path)
            spelled[raw] = raw if portable == path else (
                portable.encode("utf-8", "surrogateescape").replace(b"\\", b"\\\\").replace(b'"', b'\\"')
            )
        return match.group(1) + spelled[raw] + match.group(3)

    return _MARKER.sub(marker, b"\n" + output)[1:]
