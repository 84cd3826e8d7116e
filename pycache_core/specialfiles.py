"""Files that are not what they seem: FIFOs, devices, directories, sockets,
and paths that name a process's own descriptors (``/dev/stdin``,
``/dev/fd/N`` -- a shell's ``<(...)`` --, ``/proc/self/...``).

A server cannot read such a file for a call: a FIFO is read once (or blocks
the reader), and ``/dev/fd/3`` means the *caller's* descriptor 3, which the
server does not have -- in the server it is something else entirely. The
core refuses sources and outputs like these for every family
(`pycache_core.pipeline.files`); plugins use `why_not_regular` for the other
files they would read for a call (response files, for instance).

Imported by the server and by plugins; standard library only.
"""

from __future__ import annotations

import os
import stat

__all__ = ["is_null_device", "why_not_regular"]

# Paths whose meaning depends on the process that opens them: /dev/stdin and
# /dev/fd/N are the caller's descriptors, never the server's.
_PROCESS_RELATIVE = ("/proc", "/dev/fd", "/dev/stdin", "/dev/stdout", "/dev/stderr")
_PROCESS_PREFIXES = tuple(root + os.sep for root in _PROCESS_RELATIVE)
_MAX_LINKS = 40  # as the kernel's ELOOP limit


def why_not_regular(path: str) -> str:
    """Why ``path`` is no regular file (``"is a FIFO"``, ``"names a file
    descriptor or process file"``, ...); "" for a regular file, and for a
    path that cannot be examined (missing: the compile creates the output,
    or reports the source missing in its own words). Never opens it."""
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


def is_null_device(path: str) -> bool:
    """Whether ``path`` is the system's null device (``/dev/null``, or a
    link to it): the same character device as `os.devnull`. Any process
    reading it -- the server, the compiler -- reads nothing, every time, so
    a source there is an empty file, not a stream read once. A path
    through /proc or /dev/fd never is: there it would name the server's own
    descriptor (its stdin may well be the null device), not the caller's."""
    if _through_process_files(path):
        return False
    try:
        st, null = os.stat(path), os.stat(os.devnull)
    except OSError:
        return False
    return stat.S_ISCHR(st.st_mode) and stat.S_ISCHR(null.st_mode) and st.st_rdev == null.st_rdev


def _through_process_files(path: str) -> bool:
    """Whether ``path``, followed link by link as the kernel would, passes
    through /proc or /dev/fd: there it means the server's own descriptors,
    not the caller's, so even a "regular file" found there is not the file
    the compiler will read. (``os.path.realpath`` cannot tell: it resolves
    /proc/self/fd/N into whatever the resolving process holds.)"""
    pending = [p for p in os.path.abspath(path).split(os.sep) if p]
    pending.reverse()  # taken from the end: the next component is pending[-1]
    current = ""  # the path so far; "" is the root
    links = 0
    readlink = os.readlink
    while pending:
        part = pending.pop()
        if part == ".":
            continue
        if part == "..":
            current = current.rpartition(os.sep)[0]
            continue
        candidate = current + os.sep + part
        if _is_process_relative(candidate):
            return True
        try:
            target = readlink(candidate)
        except OSError:  # not a link (or not there): a plain component
            current = candidate
            continue
        links += 1
        if links > _MAX_LINKS:
            return False  # ELOOP: the compiler reports it
        if target.startswith(os.sep):
            current = ""
        pending.extend(reversed([p for p in target.split(os.sep) if p]))
    return _is_process_relative(current or os.sep)


def _is_process_relative(path: str) -> bool:
    return path in _PROCESS_RELATIVE or path.startswith(_PROCESS_PREFIXES)
