"""Reading preprocessed output (``-E`` of gcc, clang, nvcc's host compiler)
and the sources behind it.

- `parse_markers`: every file the preprocessor entered, from the line
  markers (``# 12 "inc/a.h" 1 3``), with the file that included it;
- `strip_working_directory_marker`: gcc's ``# 1 "/cwd//"`` line, which
  ``-g`` adds, removed (a key names the working directory on its own, only
  when the result embeds it);
- `assembler_reads_files`: ``.incbin`` (and ``.include`` in assembler
  sources) make the assembler read files no key sees;
- `uses_time_macros`: sources whose result a manifest of headers cannot
  vouch for (see also `pycache_cfamily.includes.uses_has_include`).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

__all__ = [
    "Marker",
    "assembler_reads_files",
    "parse_markers",
    "strip_working_directory_marker",
    "uses_time_macros",
]

# -E output line markers: # <line> "<file>" [flags]  (gcc and clang alike).
# Matched after a newline (`parse_markers` puts one in front) with the
# escaped-character loop unrolled: an 11 MB Thrust .ii has 43,000 markers,
# and the plain `^...(?:[^"\\]|\\.)*` form took 15 times as long.
_MARKER = re.compile(rb'\n# \d+ "([^"\\\n]*(?:\\.[^"\\\n]*)*)"((?: [1-4])*)[ \t]*\r?(?=\n|\Z)')
_WORKING_DIR_MARKER = re.compile(rb'# 1 "(?:[^"\\]|\\.)*//"\r?')
_TIME_MACROS = re.compile(rb"__(?:DATE|TIME|TIMESTAMP)__")
_INCBIN = re.compile(rb"\.incbin\b")
_ASM_INCLUDE = re.compile(rb"^\s*\.include\b", re.M)


@dataclass(frozen=True, slots=True)
class Marker:
    """A file the preprocessor entered: its path as the markers spell it,
    the file it was entered from (whose directory a quoted include searches
    first), and whether it is a system header (flag 3). ``ancestors``: the
    includer's own includers, innermost first, where a family knows them
    (MSVC searches each one's directory too; see
    `pycache_cfamily.includes.shadow_candidates`)."""

    path: str
    includer: str
    system: bool
    ancestors: tuple[str, ...] = ()


def parse_markers(output: bytes) -> list[Marker]:
    """Every file entered (line-marker flag 1), with the file it was entered
    from. Pseudo-files (``<built-in>``, ``<command-line>``) are left out."""
    entered: list[Marker] = []
    previous = ""
    for match in _MARKER.finditer(b"\n" + output):
        path = _unescape(match.group(1))
        flags = match.group(2).split()
        if b"1" in flags and not path.startswith("<"):
            entered.append(Marker(path=path, includer=previous, system=b"3" in flags))
        previous = path
    return entered


def _unescape(raw: bytes) -> str:
    text = re.sub(rb"\\(.)", rb"\1", raw)
    return os.fsdecode(text)


def strip_working_directory_marker(output: bytes) -> bytes:
    """``output`` without gcc's working-directory marker (the second line,
    ``# 1 "/cwd//"``), when it has one."""
    head = output.split(b"\n", 2)
    if len(head) == 3 and _WORKING_DIR_MARKER.fullmatch(head[1]):
        return head[0] + b"\n" + head[2]
    return output


def assembler_reads_files(output: bytes, *, assembler_source: bool) -> bool:
    """The compile makes the assembler read files itself: ``.incbin`` in
    any preprocessed output (inline asm), ``.include`` in an assembler
    source (``assembler_source``: ``-x assembler-with-cpp``)."""
    return bool(_INCBIN.search(output) or (assembler_source and _ASM_INCLUDE.search(output)))


def uses_time_macros(data: bytes) -> bool:
    """A source or header that names ``__DATE__``, ``__TIME__`` or ``__TIMESTAMP__``."""
    return _TIME_MACROS.search(data) is not None

