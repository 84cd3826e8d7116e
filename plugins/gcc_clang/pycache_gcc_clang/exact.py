"""What a preprocessor-mode key needs beyond the preprocessed text.

The text gcc and clang print with ``-E`` is not all the compile sees:

- the preprocessor's own messages (``#warning``, ``#pragma GCC warning``,
  ``-Wunused-macros``, a missing include directory) go to stderr, not
  into the text; the compile prints them again;
- the compiler's messages quote the source lines as written (comments,
  tabs) and name the macros an expression came from, and whether some
  warnings fire at all depends on that text (a ``/* fall through */``
  comment, the indentation ``-Wmisleading-indentation`` looks at);
- the object can carry the files' text itself: clang's DWARF 5 line
  table has an MD5 of every file, ``-gembed-source`` the files whole,
  ``-g3`` every macro definition with its place;
- macro definitions from the command line reach ``-g3`` debug
  information and warnings ("in expansion of macro 'X'") but leave no
  trace in the text when unused.

So the preprocessor-mode key holds the preprocessor's messages, the exact
text (digest) of every file the preprocessor read -- the source, each file
it entered, ``-imacros`` files -- and the ``-D``/``-U`` arguments as given.
It still shares results between calls that spell the include path
differently, or pass directories that contribute nothing.

`#pragma GCC dependency` compares two files' modification times: no
content captures that, so such a unit is not cached (`refusal`); one a
macro might build keeps the unit out of direct mode (`manifest_unsafe`).
"""

from __future__ import annotations

import os
from pathlib import Path

from pycache_cfamily import reasons as R
from pycache_cfamily.includes import preprocessor_messages
from pycache_cfamily.preprocessed import compares_file_times, may_compute_file_time_pragma
from pycache_core.api import KeyComponent, NotCacheable, PluginContext

#: How gcc and clang word a #pragma GCC dependency on a newer file.
_NEWER_DEPENDENCY = "current file is older than"


def refusal(stderr: str, texts: list[bytes]) -> NotCacheable | None:
    """Why a unit whose preprocessor printed ``stderr`` and read ``texts``
    cannot be cached, if it compares file times."""
    if _NEWER_DEPENDENCY in stderr or compares_file_times(texts):
        return NotCacheable(R.FILE_TIMES, "#pragma GCC dependency compares file times, which no key can capture")
    return None


def manifest_unsafe(texts: list[bytes]) -> str:
    """Why no manifest may vouch for this unit although it is cached: a
    macro may build a ``#pragma GCC dependency`` (preprocessor mode stays
    exact: every lookup runs the preprocessor, whose messages are keyed)."""
    if may_compute_file_time_pragma(texts):
        return "a computed _Pragma in a unit that names `dependency` might compare file times"
    return ""


def components(
    stderr: str, files: list[Path], macro_arguments: tuple[str, ...], context: PluginContext, cwd: Path
) -> list[KeyComponent]:
    """The preprocessor's messages, the ``-D``/``-U`` arguments, and one
    ``text:<path>`` component per file read (raises OSError for an
    unreadable one).

    A text's path only names it (the preprocessed text says where each file
    was found, and what the object embeds of paths is keyed apart): under
    the working directory it is named relative to it, so checkouts whose
    debug info is mapped (``-fdebug-prefix-map=$PWD=.``) share results."""
    found: list[KeyComponent] = []
    messages = preprocessor_messages(stderr)
    if messages:
        # As printed: a message naming a base directory keeps the result with
        # its checkout (a hit relocates only the replayed diagnostics).
        found.append(KeyComponent("preprocessor-messages", messages))
    if macro_arguments:
        found.append(KeyComponent("macro-arguments", macro_arguments))
    for path in dict.fromkeys(files):
        found.append(KeyComponent(f"text:{_text_name(path, cwd, context)}", context.hash_file(path)))
    return found


def _text_name(path: Path, cwd: Path, context: PluginContext) -> str:
    absolute = os.path.normpath(os.path.join(cwd, path))
    base = os.path.normpath(cwd)
    if absolute.startswith(base + os.sep):
        return absolute[len(base) + 1:]
    return context.portable_path(absolute)
