"""The files a parsed call names, checked by the core for every family
before anything reads or writes them.

- A **source that is not a regular file** -- ``/dev/stdin``, ``/dev/fd/N``
  (a shell's process substitution), a FIFO, a device -- cannot be hashed
  without consuming or blocking on it, and a path naming a descriptor means
  the *caller's* descriptor, which the server does not hold: the call runs
  uncached in the caller's own process, with its stdin.
- An **output that is not a regular file** (``/dev/null``, a directory):
  a hit would replace it by a file.
- An **output that names an input** (``-o a.c`` for ``a.c``): the compiler
  refuses such a call; a hit would overwrite the source.

Only ``stat``/``lstat``/``readlink`` are used: nothing here opens a file.
"""

from __future__ import annotations

import os
import stat

from ..api import Invocation, NotCacheable, ParsedInvocation

SOURCE_NOT_A_FILE = "source-not-a-file"
OUTPUT_NOT_A_FILE = "output-not-a-file"
OUTPUT_IS_INPUT = "output-is-input"

# Paths whose meaning depends on the process that opens them: /dev/stdin and
# /dev/fd/N are the caller's descriptors, never the server's.
_PROCESS_RELATIVE = ("/proc", "/dev/fd", "/dev/stdin", "/dev/stdout", "/dev/stderr")
_MAX_LINKS = 40  # as the kernel's ELOOP limit


def check(invocation: Invocation, parsed: ParsedInvocation) -> NotCacheable | None:
    """Why the call's sources and outputs rule out caching, or None."""
    sources = []
    for source in parsed.sources:
        path = os.fspath(invocation.resolve(source))
        why = _not_a_regular_file(path)
        if why:
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


def _not_a_regular_file(path: str) -> str:
    """Why ``path`` is no regular file; "" for a regular file, and for a
    path that cannot be examined (missing: the compile creates the output,
    or reports the source missing in its own words)."""
    if _through_process_files(path):
        return "names a file descriptor or process file"
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return ""  # an output the compile creates; a source the compiler reports missing
    if stat.S_ISREG(mode):
        return ""
    if stat.S_ISFIFO(mode):
        return "is a FIFO"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "is a device"
    if stat.S_ISDIR(mode):
        return "is a directory"
    if stat.S_ISSOCK(mode):
        return "is a socket"
    return "is not a regular file"


def _through_process_files(path: str) -> bool:
    """Whether ``path``, followed link by link as the kernel would, passes
    through /proc or /dev/fd: there it means the server's own descriptors,
    not the caller's, so even a "regular file" found there is not the file
    the compiler will read. (``os.path.realpath`` cannot tell: it resolves
    /proc/self/fd/N into whatever the resolving process holds.)"""
    pending = [p for p in os.path.abspath(path).split(os.sep) if p]
    current = os.sep
    links = 0
    while pending:
        part = pending.pop(0)
        if part == ".":
            continue
        if part == "..":
            current = os.path.dirname(current)
            continue
        candidate = os.path.join(current, part)
        if _is_process_relative(candidate):
            return True
        try:
            target = os.readlink(candidate)
        except OSError:  # not a link (or not there): a plain component
            current = candidate
            continue
        links += 1
        if links > _MAX_LINKS:
            return False  # ELOOP: the compiler reports it
        if os.path.isabs(target):
            current = os.sep
        pending[:0] = [p for p in target.split(os.sep) if p]
    return _is_process_relative(current)


def _is_process_relative(path: str) -> bool:
    return any(path == root or path.startswith(root + os.sep) for root in _PROCESS_RELATIVE)


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False
