"""Which paths a gcc/clang result embeds, and so how each path enters the key.

The core relocates the texts a hit restores -- the dependency file and the
diagnostics -- between checkouts (`PYCACHE_BASEDIRS`). A path may enter the
key in portable form only if it reaches nothing else; a path the object
embeds enters as the object embeds it. Three cases (`PathMode`):

- **PORTABLE**: the object names no path of the call (no debug info, no
  instrumentation). Every path is keyed portable; line markers in the
  preprocessed text too (they reach only diagnostics and the dependency
  file). ``__FILE__`` and ``assert`` expand to string literals, which stay
  in the text as they are. Exception: a text that calls ``__builtin_FILE``
  or ``__builtin_source_location`` (``std::source_location``) makes the
  compiler embed the markers' paths: they are keyed as embedded (after
  ``-fmacro-prefix-map``) and the result is not reused by other checkouts.
- **DEBUG**: debug info names the working directory (``DW_AT_comp_dir``),
  the source and every header as the line markers spell them, after the
  prefix maps (``-fdebug-prefix-map``, ``-ffile-prefix-map``). Those
  *mapped* paths are keyed as they are (`embedded_paths`); the markers stay
  portable for the texts; the maps themselves are keyed by what they do.
  A map that covers a checkout (``$PWD=.``) makes the mapped paths equal in
  every checkout, so they share results; a map that covers only a parent
  (``/home/ci=/src``) leaves the rest of the path in, and they do not. gcc
  records code generation options with a path in ``DW_AT_producer``
  (``-fprofile-use=/abs/x``), so path options other than the prefix maps
  are keyed as they are; so are the direct-mode arguments.
- **AS_IS**: coverage, profiling, sanitizers, LTO (their data name source
  files and the working directory), a recorded command line (clang's
  ``-grecord-command-line``): every path is keyed as it is, and the result
  is kept to the call's own base directories.

Prefix maps are applied as each compiler applies them (checked against gcc
12 and clang 14): the old prefix is a plain string prefix (``/a/b`` maps
``/a/bc``); gcc takes the *last* matching map on the command line, clang
the *longest* old prefix (the first given among equal ones);
``-ffile-prefix-map`` is both a debug and a macro map.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from pycache_core.api import KeyComponent, PluginContext
from pycache_core.paths import as_is

#: Options whose data name source files or the working directory in the
#: object (or its notes) beyond debug info.
_INSTRUMENTING = (
    "-fsanitize=",
    "-flto",
    "-fprofile-generate",
    "-fprofile-instr-generate",
    "-fprofile-arcs",
    "-fcoverage-mapping",
    "-ftest-coverage",
    "--coverage",
    "-fprofile-update",
    "-fcs-profile-generate",
    "-fxray-instrument",
)
_NOT_INSTRUMENTING = ("-flto=", "-fno-lto", "-fsanitize=none")

_SOURCE_LOCATION_BUILTINS = (b"__builtin_FILE", b"__builtin_source_location")

DEBUG_MAPS = ("-fdebug-prefix-map=", "-ffile-prefix-map=")
MACRO_MAPS = ("-fmacro-prefix-map=", "-ffile-prefix-map=")


class PathMode(enum.Enum):
    PORTABLE = "portable"
    DEBUG = "debug"
    AS_IS = "as-is"


@dataclass(frozen=True, slots=True)
class PrefixMap:
    option: str  # "-fdebug-prefix-map=", "-ffile-prefix-map=", "-fmacro-prefix-map="
    old: str
    new: str


def prefix_maps(arguments: Iterable[str]) -> tuple[PrefixMap, ...]:
    """The prefix maps among ``arguments``, in command-line order (gcc and
    clang split ``OLD=NEW`` at the first ``=``)."""
    maps = []
    for argument in arguments:
        for option in ("-fdebug-prefix-map=", "-ffile-prefix-map=", "-fmacro-prefix-map="):
            if argument.startswith(option):
                old, _, new = argument[len(option):].partition("=")
                maps.append(PrefixMap(option, old, new))
    return tuple(maps)


def apply_maps(path: str, maps: Sequence[PrefixMap], options: tuple[str, ...], kind: str) -> str:
    """``path`` as the compiler of ``kind`` writes it after the maps of
    ``options`` (DEBUG_MAPS or MACRO_MAPS)."""
    relevant = [m for m in maps if m.option in options and path.startswith(m.old)]
    if not relevant:
        return path
    if kind == "clang":
        chosen = max(relevant, key=lambda m: len(m.old))  # max() keeps the first of equal ones
    else:
        chosen = relevant[-1]
    return chosen.new + path[len(chosen.old):]


def instrumented(arguments: Iterable[str]) -> str | None:
    """The first argument whose instrumentation names paths in the object."""
    for argument in arguments:
        if argument.startswith(_INSTRUMENTING) and not argument.startswith(_NOT_INSTRUMENTING):
            return argument
    return None


def calls_source_location(text: bytes) -> bool:
    """The preprocessed text asks the compiler for the current file name
    (a plain search: a longer identifier that starts the same only makes
    the key more specific)."""
    return any(name in text for name in _SOURCE_LOCATION_BUILTINS)


def keyer(mode: PathMode, context: PluginContext) -> Callable[[str], str]:
    """How a path that is not a line marker enters the key in ``mode``."""
    return context.portable_path if mode is PathMode.PORTABLE else as_is


def embedded_paths(
    label: str, marker_paths: Iterable[str], maps: Sequence[PrefixMap], options: tuple[str, ...], kind: str
) -> KeyComponent:
    """The line markers' files as the object embeds them: mapped as the
    compiler maps them, as they are."""
    return KeyComponent(f"embedded-paths:{label}", tuple(apply_maps(p, maps, options, kind) for p in dict.fromkeys(marker_paths)))
