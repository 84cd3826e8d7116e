"""``/showIncludes``: the headers a compile reads, one note per line.

cl.exe writes ``Note: including file: <path>`` -- in the language of the
installation (``Hinweis: Einlesen der Datei:``, ``Remarque : inclusion du
fichier :``...) -- with one more space before the path per level of
nesting; clang-cl writes the English text. The prefix is therefore learnt
from the compiler itself (`detect_prefix`, on a probe compile whose header
is known), never assumed. `parse_notes` turns a stream into the headers
with their includers, the way the include stack stood when each was read.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass

__all__ = ["PROBE_HEADER", "PROBE_SOURCE", "Note", "detect_prefix", "note_lines", "parse_notes"]

#: The probe compile: a source that includes one header, in a scratch directory.
PROBE_HEADER = "pycache-show-includes-probe.h"
PROBE_SOURCE = "pycache-show-includes-probe.c"
PROBE_SOURCE_TEXT = f'#include "{PROBE_HEADER}"\n'


@dataclass(frozen=True, slots=True)
class Note:
    """A header the compile read: its path as printed, its nesting depth
    (1 = included by the source), and the files that were open when it
    was read, innermost first (its includer, that one's includer, ...,
    the source)."""

    path: str
    depth: int
    includers: tuple[str, ...]


def detect_prefix(output: str, directory: str, exists: Callable[[str], bool] = os.path.exists) -> str | None:
    """The note prefix in ``output`` of a probe compile run in ``directory``:
    the text before the path on the line that names `PROBE_HEADER`, up to
    and including the space before the path. The path may hold spaces, so
    each space from the right is tried until the rest names the header
    (sccache finds the prefix the same way)."""
    for line in output.splitlines():
        line = line.rstrip("\r")
        if not line.endswith(PROBE_HEADER):
            continue
        for i in range(len(line) - 1, -1, -1):
            if line[i] != " ":
                continue
            rest = line[i + 1 :]
            candidate = rest if os.path.isabs(rest) or (len(rest) > 1 and rest[1] == ":") else os.path.join(directory, rest)
            if exists(candidate):
                prefix = line[: i + 1]
                return prefix.rstrip(" ") + " " if prefix.strip() else None
    return None


def note_lines(output: bytes, prefix: str) -> list[str]:
    """The lines of ``output`` that are notes, without their line ends."""
    if not prefix:
        return []
    marker = prefix.encode("utf-8")
    return [
        line.rstrip(b"\r\n").decode("utf-8", "surrogateescape")
        for line in output.splitlines(keepends=True)
        if line.startswith(marker)
    ]


def parse_notes(lines: Iterable[str], prefix: str, source: str) -> list[Note]:
    """The headers the note ``lines`` name, in order, each with the stack of
    files open when it was read (the source at the bottom). A header named
    twice (read again without a guard) is listed each time."""
    notes: list[Note] = []
    stack: list[str] = [source]  # stack[d] is the file at depth d
    for line in lines:
        if not line.startswith(prefix):
            continue
        rest = line[len(prefix) :]
        path = rest.lstrip(" ")
        if not path:
            continue
        depth = 1 + len(rest) - len(path)
        depth = min(depth, len(stack))  # a deeper note than the stack allows: its includer is the last one
        del stack[depth:]
        notes.append(Note(path=path, depth=depth, includers=tuple(reversed(stack))))
        stack.append(path)
    return notes
