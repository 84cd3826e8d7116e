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
A place that holds something other than a regular file (a directory, a
dangling link) is skipped by the preprocessor but would be taken once a
file replaced it; "must stay absent" cannot say that, so with
``strict=True`` both raise `UnrecordableLookup` (the caller records no
manifest). Paths here are
POSIX paths as gcc and clang print them.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from .preprocessed import Marker

__all__ = [
    "SearchPath",
    "UnrecordableLookup",
    "first_missing_each",
    "has_include_lookups",
    "parse_search_path",
    "preprocessor_messages",
    "resolve",
    "shadow_candidates",
    "uses_has_include",
]

# A __has_include(...) call (not `defined(__has_include)`), and the
# literal forms of __has_include whose lookups a manifest can record.
_HAS_INCLUDE_CALL = re.compile(rb"__has_include(?:_next)?\s*\(")
_HAS_INCLUDE_LITERAL = re.compile(rb'__has_include(_next)?\s*\(\s*(<[^<>"\n]+>|"[^"<>\n]+")\s*\)')
_DEFINE_LINE = re.compile(rb"^\s*#\s*define\b")

_QUOTE_START = '#include "..." search starts here:'
_BRACKET_START = "#include <...> search starts here:"
_SEARCH_END = "End of search list."
_NONEXISTENT = re.compile(r'^ignoring nonexistent directory "(.*)"$')


class UnrecordableLookup(ValueError):
    """A lookup whose answer a list of paths that must stay absent cannot
    keep (see the module docstring)."""


@dataclass(frozen=True, slots=True)
class SearchPath:
    """The preprocessor's include search list: ``quote`` (``-iquote``) for
    ``#include "..."`` only, then ``bracket`` for both forms; ``missing``:
    directories it was given that did not exist; ``unusual``: entries
    searched by other rules than directory + name (frameworks, header maps),
    whose lookups this module does not model."""

    quote: tuple[str, ...]
    bracket: tuple[str, ...]
    missing: tuple[str, ...]
    unusual: tuple[str, ...] = ()


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
    unusual: list[str] = []
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
            for suffix in (" (framework directory)", " (headermap)"):
                if entry.endswith(suffix):
                    entry = entry[: -len(suffix)]
                    unusual.append(entry)
            section.append(entry)
    if not seen:
        return None
    return SearchPath(quote=tuple(quote), bracket=tuple(bracket), missing=tuple(missing), unusual=tuple(unusual))


# What ``-v`` adds to a preprocessor run's stderr (gcc's driver and cc1,
# clang's driver and -cc1), line by line; the rest is what the
# preprocessor itself printed.
_VERBOSE_LINE = re.compile(
    r"^(?:Using built-in specs\.|Reading specs from .*|COLLECT_[A-Z_]+=.*|OFFLOAD_TARGET_[A-Z_]+=.*"
    r"|Target: .*|Configured with: .*|Thread model: .*|Supported LTO compression algorithms: .*"
    r"|(?:gcc|clang) version .*|.*\bclang version \S+.*|InstalledDir: .*|Configuration file: .*"
    r"|Found (?:candidate GCC|CUDA|HIP) installation: .*|Selected GCC installation: .*"
    r"|(?:Candidate|Selected) multilib: .*|System configuration file directory: .*"
    r"|User configuration file directory: .*| \(in-process\)|clang -cc1 version .*"
    r"|COMPILER_PATH=.*|LIBRARY_PATH=.*|ignoring (?:nonexistent|duplicate) directory \".*\""
    r"|\s*as it is a non-system directory that duplicates a system directory)$"
)
# The compiler proper's own command line: gcc's " /path/cc1 -E ...",
# clang's ' "/path/clang" -cc1 ...'.
_SUBCOMMAND = re.compile(r'^ (?:\S*/)?cc1(?:plus|obj|objplus)? |^ "[^"]*" -cc1 ')


def preprocessor_messages(stderr: str) -> str:
    """What a ``-v -E`` run printed besides ``-v``'s own lines: the
    preprocessor's diagnostics (``#warning``, ``#pragma GCC warning``,
    ``-Wunused-macros``, a missing include directory...), which a compile
    prints too and a key of the preprocessed text alone would not see.
    Lines this function does not know are kept: at worst a key changes
    more often, never less."""
    kept: list[str] = []
    in_search_list = False
    for line in stderr.splitlines():
        if line in (_QUOTE_START, _BRACKET_START):
            in_search_list = True
            continue
        if in_search_list:
            if line == _SEARCH_END:
                in_search_list = False
            continue
        if _VERBOSE_LINE.match(line) or _SUBCOMMAND.match(line):
            continue
        kept.append(line)
    return "\n".join(kept)


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
    markers: Iterable[Marker], search: SearchPath, cwd: Path, *, includer_stack: bool = False, strict: bool = False,
    existing: Callable[[Iterable[str]], set[str]] | None = None,
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
    would be a new candidate. ``strict``: raise `UnrecordableLookup` for a
    candidate that exists but is no regular file (a directory, a dangling
    link): the preprocessor skipped it, a file there later would be taken.
    ``existing``: as for `first_missing_each`.
    """
    chain = [*search.quote, *search.bracket]
    # Per directory once, not per header (a kernel unit: ~800 headers, ~10 directories).
    chain_normalised = [os.path.normpath(d) for d in chain]
    absent: dict[Path, None] = {Path(resolve(cwd, d)): None for d in search.missing}
    pairs: dict[tuple[str, str], None] = {}  # (directory, name): the name must not be found there
    resolved: dict[str, str] = {}

    def resolved_dir(directory: str) -> str:
        if directory not in resolved:
            resolved[directory] = resolve(cwd, _strip_dir(directory))
        return resolved[directory]

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
        normalised_path = None
        for index, directory in enumerate(chain, start=len(own)):
            name = _names_under(marker.path, directory)
            if name is None:
                if normalised_path is None:
                    normalised_path = os.path.normpath(marker.path)
                name = _names_under(normalised_path, chain_normalised[index - len(own)])
            if name is not None:
                splits.append((index, name))
        searched = [d or "." for d in own] + chain
        for position, name in splits:
            for earlier in searched[:position]:
                pairs[resolved_dir(earlier), name] = None
    found = first_missing_each(pairs, existing, strict=strict).values()
    # Made Paths at the end: one per distinct string.
    absent.update(dict.fromkeys(Path(candidate) for candidate in dict.fromkeys(found) if candidate is not None))
    return list(absent)


def _taken_or_unrecordable(path: str) -> None:
    """``path`` exists: fine when it is a regular file (taken, or not
    searched); otherwise the preprocessor skipped it and a file there later
    would be taken -- not expressible as "must stay absent"."""
    if not os.path.isfile(path):
        kind = "a dangling link" if os.path.islink(path) else "no regular file"
        raise UnrecordableLookup(f"{path} is {kind}: a file created there would be found")


def has_include_lookups(
    data: bytes,
    includer: Path,
    search: SearchPath | None,
    cwd: Path,
    *,
    current_dirs: Iterable[str] = (),
    strict: bool = False,
) -> tuple[list[Path], list[Path]] | None:
    """What each ``__has_include`` in a file looks up: (files it finds, paths
    that must stay absent for the answers to stay the same).

    Every directory the lookup would search is recorded up to the first hit
    (all of them for ``__has_include_next``, which is conservative: more
    recorded paths can only turn a hit into a miss). A quoted lookup inside
    a ``#define`` is evaluated where the macro is expanded: pass the
    directories of every file of the unit as ``current_dirs``. None when an
    argument is computed by a macro, or the search list is unknown.
    ``strict``: raise `UnrecordableLookup` for a place holding something
    else than a regular file (else it counts as found, as before).
    """
    if search is None:
        return None
    current_dirs = tuple(current_dirs)
    spliced = data.replace(b"\\\n", b"")
    literals: dict[tuple[bytes, bytes, bool], None] = {}
    for line in spliced.splitlines():
        in_macro = _DEFINE_LINE.match(line) is not None
        for match in _HAS_INCLUDE_LITERAL.finditer(line):
            literals[(match.group(1) or b"", match.group(2), in_macro)] = None
    if len(_HAS_INCLUDE_LITERAL.findall(spliced)) != len(_HAS_INCLUDE_CALL.findall(spliced)):
        return None  # a computed argument
    found: list[Path] = []
    missing: list[Path] = []
    for next_, literal, in_macro in literals:
        name = literal[1:-1].decode("utf-8", "surrogateescape")
        if os.path.isabs(name):
            if os.path.lexists(name):
                if strict:
                    _taken_or_unrecordable(name)
                found.append(Path(name))
            else:
                missing.append(Path(name))
            continue
        quoted = literal.startswith(b'"')
        # A quoted lookup starts in the directory of the file being read:
        # this one, or -- for one inside a macro definition -- whichever
        # file expands the macro.
        here = [str(includer.parent), *(current_dirs if in_macro else ())]
        directories = [*dict.fromkeys(here), *search.quote] if quoted else []
        directories += list(search.bracket)
        for directory in directories:
            base = resolve(cwd, _strip_dir(directory))
            candidate = _first_missing(base, name, os.path.lexists)
            if candidate is None:
                if strict:
                    _taken_or_unrecordable(os.path.join(base, name))
                found.append(Path(base, name))
                if not next_:
                    break
                # __has_include_next: where its search starts is not
                # modelled, so every place of the list is recorded
            else:
                missing.append(Path(candidate))
    return found, missing


#: (directory, name) -> the paths `_walk` gives (pure; a build's units ask
#: about the same places again and again).
_WALKS: dict[tuple[str, str], tuple[str, ...]] = {}
_WALKS_LIMIT = 200_000


def _walk(directory: str, name: str) -> tuple[str, ...]:
    """The paths from ``directory``'s child down to ``directory/name``,
    one per component of ``name`` (memoised)."""
    steps = _WALKS.get((directory, name))
    if steps is None:
        path, taken = directory, []
        for part in name.split("/"):
            path = f"{path}/{part}" if path != "/" else f"/{part}"
            taken.append(path)
        steps = tuple(taken)
        if len(_WALKS) >= _WALKS_LIMIT:
            _WALKS.clear()
        _WALKS[directory, name] = steps
    return steps


def first_missing_each(
    pairs: Iterable[tuple[str, str]], existing: Callable[[Iterable[str]], set[str]] | None = None, *,
    strict: bool = False,
) -> dict[tuple[str, str], str | None]:
    """`_first_missing` of many (directory, name) pairs, with every path it
    walks asked about at once: ``existing`` answers which of them exist
    (`PluginContext.existing`: a stat per directory rather than per name;
    default: ``os.path.lexists`` of each). ``strict``: raise
    `UnrecordableLookup` for a pair that exists but is no regular file."""
    def ask(paths: set[str]) -> set[str]:
        return existing(paths) if existing is not None else {p for p in paths if os.path.lexists(p)}

    walks = {pair: _walk(*pair) for pair in pairs}
    # First steps first: most are missing (``linux/`` under an arch directory
    # covers a kernel unit's hundreds of ``linux/*.h`` places), and the deeper
    # steps of a place matter only where its first one exists.
    present = ask({steps[0] for steps in walks.values()})
    deeper = set().union(*(steps[1:] for steps in walks.values() if len(steps) > 1 and steps[0] in present))
    if deeper:
        present |= ask(deeper)
    found: dict[tuple[str, str], str | None] = {}
    for pair, steps in walks.items():
        # Most places are missing at their first step (a kernel unit asks ~11,000): no generator for those.
        first = steps[0]
        if first not in present:
            found[pair] = first
        else:
            found[pair] = next((step for step in steps[1:] if step not in present), None)
    if strict:
        for (directory, name), candidate in found.items():
            if candidate is None:
                _taken_or_unrecordable(os.path.join(directory, name))
    return found


def _first_missing(directory: str, name: str, exists: Callable[[str], bool]) -> str | None:
    """``directory/name`` if it does not exist, shortened to its first
    missing ancestor below ``directory`` (one entry covers ``bits/*.h``);
    None when it exists."""
    return next((step for step in _walk(directory, name) if not exists(step)), None)


def resolve(cwd: Path, path: str) -> str:
    """``path`` as the preprocessor found it: relative to ``cwd`` unless absolute."""
    return path if os.path.isabs(path) else os.path.join(cwd, path)
