"""The files a parsed call names, checked by the core for every family
before anything reads or writes them.

- A **source that is not a regular file** -- ``/dev/stdin``, ``/dev/fd/N``
  (a shell's process substitution), a FIFO, a device -- cannot be hashed
  without consuming or blocking on it, and a path naming a descriptor means
  the *caller's* descriptor, which the server does not hold: the call runs
  uncached in the caller's own process, with its stdin. The null device is
  the exception: it reads empty in every process, every time, so it is an
  empty source (Kbuild's option probes compile ``-x c /dev/null``).
- An **output that is not a regular file** (``/dev/null``, a directory):
  a hit would replace it by a file.
- An **output that names an input** (``-o a.c`` for ``a.c``): the compiler
  refuses such a call; a hit would overwrite the source.

Only ``stat``/``readlink`` are used (`pycache_core.specialfiles`): nothing
here opens a file.
"""

from __future__ import annotations

import os

from ..api import Invocation, NotCacheable, ParsedInvocation
from ..specialfiles import is_null_device
from ..specialfiles import why_not_regular as _not_a_regular_file

SOURCE_NOT_A_FILE = "source-not-a-file"
OUTPUT_NOT_A_FILE = "output-not-a-file"
OUTPUT_IS_INPUT = "output-is-input"


def check(invocation: Invocation, parsed: ParsedInvocation) -> NotCacheable | None:
    """Why the call's sources and outputs rule out caching, or None."""
    sources = []
    for source in parsed.sources:
        path = os.fspath(invocation.resolve(source))
        why = _not_a_regular_file(path)
        if why and not is_null_device(path):
            # The null device reads empty for the compiler and for every
            # digest alike (build systems probe options on it: Kbuild's
            # cc-option compiles /dev/null dozens of times per make).
            return NotCacheable(SOURCE_NOT_A_FILE, f"source {source} {why}: it is read once, by the compiler")
        sources.append(path)
    for role, slot in parsed.outputs.items():
        path = os.fspath(invocation.resolve(slot.path))
        why = _not_a_regular_file(path)
        if why:
            return NotCacheable(OUTPUT_NOT_A_FILE, f"{role} output {slot.path} {why}")
        for source in sources:
            if _same_file(path, source):
                return NotCacheable(OUTPUT_IS_INPUT, f"{role} output {slot.path} is the input {source}")
    return None


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False
