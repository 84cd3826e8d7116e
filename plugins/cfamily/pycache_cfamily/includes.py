"""The include search path, and the headers that would be found if created.

A manifest of the headers a compile read (direct mode) must also notice
headers that *appear*. Given the search list the preprocessor printed with
``-v`` (`parse_search_path`) and the files it entered (line markers,
`pycache_cfamily.preprocessed.parse_markers`):

- `shadow_candidates`: for every header, each earlier place on the search
  path where a file of the same name would have been found first;
- `uses_has_include`: a file that calls ``__has_include``: a file it
  looks for and does not find leaves no line marker;
- `has_include_lookups`: for ``__has_include("x.h")`` / ``<x.h>`` with a
  literal argument, the file each lookup finds and the places that must
  stay empty for the answer to stay the same.

Both name paths that must stay absent; the core checks them on each hit.
Paths here are POSIX paths as gcc and clang print them.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from .preprocessed import Marker

__all__ = ["SearchPath", "has_include_lookups", "parse_search_path", "resolve", "shadow_candidates", "uses_has_include"]

# A __has_include(...) call (not `defined(__has_include)`), and the
# literal forms of __has_include whose lookups a manifest can record.
_HAS_INCLUDE_CALL = re.compile(rb"__has_include(?:_next)?\s*\(")
_HAS_INCLUDE_LITERAL = re.compile(rb'__has_include(?:_next)?\s*\(\s*(<[^<>"\n]+>|"[^"<>\n]+")\s*\)')

_QUOTE_START = '#include "..." search starts here:'
_BRACKET_START = "#include <...> search starts here:"
_SEARCH_END = "End of search list."
_NONEXISTENT = re.compile(r'^ignoring nonexistent directory "(.*)"$')


@dataclass(frozen=True, slots=True)
class SearchPath:
    """The preprocessor's include search list: ``quote`` (``-iquote``) for
    ``#include "..."`` only, then ``bracket`` for both forms; ``missing``:
    directories it was given that did not exist."""

    quote: tuple[str, ...]
    bracket: tuple[str, ...]
    missing: tuple[str, ...]


def uses_has_include(data: bytes) -> bool:
    """``data`` calls ``__has_include`` or ``__has_include_next``."""
    return _HAS_INCLUDE_CALL.search(data) is not None


def parse_search_path(stderr: str) -> SearchPath | None:
    """The include search list ``-v`` prints (in English: run the
    preprocessor with `pycache_cfamily.environment.english_messages_env`),
    or None when it is not there."""
    quote: list[str] = []
    bracket: list[str] = []
    missing: list[str] = []
    section = None
    seen = False
    for line in stderr.splitlines():
        found = _NONEXISTENT.match(line)
        if found:
            missing.append(found.group(1))
            continue
        if line == _QUOTE_START:
            section, seen = quote, True
            continue
        if line == _BRACKET_START:
            section, seen = bracket, True
            continue
        if line == _SEARCH_END:
            section = None
            continue
        if section is not None and line.startswith(" "):
            entry = line[1:]
            if entry.endswith(" (framework directory)"):
                entry = entry[: -len(" (framework directory)")]
            section.append(entry)
    if not seen:
        return None
    return SearchPath(quote=tuple(quote), bracket=tuple(bracket), missing=tuple(missing))


def _strip_dir(directory: str) -> str:
    return directory.rstrip("/") or "/"


def _names_under(path: str, directory: str) -> str | None:
    """The include name that ``directory`` + "/" + name spells as ``path``."""
    directory = _strip_dir(directory)
    prefix = directory if directory.endswith("/") else directory + "/"
    if path.startswith(prefix) and len(path) > len(prefix):
        return path[len(prefix) :]
    return None


def shadow_candidates(
    markers: Iterable[Marker], search: SearchPath, cwd: Path, *, includer_stack: bool = False
) -> list[Path]:
    """Paths that, if created, would be found instead of a header read now.

    For each header: every way its path splits into (search directory, name)
    -- the includer's own directory first (quoted includes), then the
    ``-iquote`` list, then the ``<...>`` list -- gives the directories searched
    before the one it was found in; the same name in each of them must stay
    absent. ``includer_stack``: MSVC's rule, where a quoted include searches
    the directory of every file on the include stack (the marker's
    ``ancestors``) after the includer's and before the lists. Candidates that
    exist now cannot have been searched (the preprocessor would have taken
    them: an ``#include_next`` or an angled include), so they are left out.
    Directories that did not exist are reported whole: any header in them
    would be a new candidate.
    """
    chain = [*search.quote, *search.bracket]
    absent: dict[Path, None] = {Path(resolve(cwd, d)): None for d in search.missing}
    exists_cache: dict[str, bool] = {}

    def exists(p: str) -> bool:
        if p not in exists_cache:
            exists_cache[p] = os.path.lexists(p)
        return exists_cache[p]

    for marker in markers:
        includers = [marker.includer, *marker.ancestors] if includer_stack else [marker.includer]
        own = [os.path.dirname(i) if not i.startswith("<") else "" for i in includers]
        splits: list[tuple[int, str]] = []  # (position in [*own, *chain], name)
        for index, includer_dir in enumerate(own):
            if includer_dir:
                name = _names_under(marker.path, includer_dir)
                if name is not None:
                    splits.append((index, name))
            elif not os.path.isabs(marker.path):
                splits.append((index, marker.path[2:] if marker.path.startswith("./") else marker.path))
        for index, directory in enumerate(chain, start=len(own)):
            name = _names_under(marker.path, directory)
            if name is None:
                name = _names_under(os.path.normpath(marker.path), os.path.normpath(directory))
            if name is not None:
                splits.append((index, name))
        searched = [d or "." for d in own] + chain
        for position, name in splits:
            for earlier in searched[:position]:
                candidate = _first_missing(resolve(cwd, _strip_dir(earlier)), name, exists)
                if candidate is not None:
                    absent[Path(candidate)] = None
    return list(absent)


def has_include_lookups(
    data: bytes, includer: Path, search: SearchPath | None, cwd: Path
) -> tuple[list[Path], list[Path]] | None:
    """What each ``__has_include`` in a file looks up: (files it finds, paths
    that must stay absent for the answers to stay the same).

    Every directory the lookup would search is recorded up to the first hit
    (all of them for ``__has_include_next``, which is conservative: more
    recorded paths can only turn a hit into a miss). None when an argument
    is computed by a macro, or the search list is unknown.
    """
    if search is None:
        return None
    literals = _HAS_INCLUDE_LITERAL.findall(data)
    if len(literals) != len(_HAS_INCLUDE_CALL.findall(data)):
        return None
    found: list[Path] = []
    missing: list[Path] = []
    for literal in dict.fromkeys(literals):
        name = literal[1:-1].decode("utf-8", "surrogateescape")
        if os.path.isabs(name):
            (found if os.path.lexists(name) else missing).append(Path(name))
            continue
        quoted = literal.startswith(b'"')
        directories = ([str(includer.parent), *search.quote] if quoted else []) + list(search.bracket)
        for directory in directories:
            base = resolve(cwd, _strip_dir(directory))
            candidate = _first_missing(base, name, os.path.lexists)
            if candidate is None:
                found.append(Path(base, name))
                break
            missing.append(Path(candidate))
    return found, missing


def _first_missing(directory: str, name: str, exists: Callable[[str], bool]) -> str | None:
    """``directory/name`` if it does not exist, shortened to its first
    missing ancestor below ``directory`` (one entry covers ``bits/*.h``);
    None when it exists."""
    path = directory
    for part in name.split("/"):
        path = f"{path}/{part}" if path != "/" else f"/{part}"
        if not exists(path):
            return path
    return None


def resolve(cwd: Path, path: str) -> str:
    """``path`` as the preprocessor found it: relative to ``cwd`` unless absolute."""
    return path if os.path.isabs(path) else os.path.join(cwd, path)
