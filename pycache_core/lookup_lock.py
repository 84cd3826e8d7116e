"""`LookupLock`: one call at a time through the lookup, the part of a call
that is all Python.

The server serves each call on its own thread, and Python runs one thread
at a time. A lookup -- reading the command line, hashing the source,
matching a manifest, restoring a hit -- is short stretches of Python
between many small system calls (stat, read, write), each of which hands
the interpreter lock to another thread and waits to get it back. Two
lookups at once therefore take turns at every system call: measured on 48
clang-cl hits under ``ninja -j2``, a hit took 4.9 ms in the server (median)
against 1.6 ms one at a time, and the build was no faster on two jobs than
on one. Under this lock the second lookup sleeps until the first is done,
and each runs at its own speed.

The lock is held from the start of a call until it is served from the
cache or has to be compiled, and let go where a call waits on something
outside this process or on another thread, so that others run meanwhile
(`waiting`): a compiler probe, a helper process, a remote tier, another
thread computing a memoised probe (a thread waiting for one that needs the
lock would wait forever) -- and for good from discovery on: the
preprocessor, the compile, storing the result (`leave`). One lock for the
process (`LOOKUP_LOCK`): the server's calls are its only contenders.

Standard library only: imported by the core's lowest layers (`memo`,
`context`, `storage.tiers`).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager


class LookupLock:
    """A lock that knows whether the current thread holds it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._local = threading.local()

    @contextmanager
    def held(self) -> Iterator[None]:
        """Hold the lock for the block, unless `leave` let it go sooner."""
        self._lock.acquire()
        self._local.held = True
        try:
            yield
        finally:
            self.leave()

    def leave(self) -> None:
        """Let the lock go for the rest of the block (a no-op when this
        thread does not hold it)."""
        if getattr(self._local, "held", False):
            self._local.held = False
            self._lock.release()

    @contextmanager
    def waiting(self) -> Iterator[None]:
        """Around a wait on something outside this process: the lock is let
        go for the block and taken back after it, if this thread held it."""
        if not getattr(self._local, "held", False):
            yield
            return
        self.leave()
        try:
            yield
        finally:
            self._lock.acquire()
            self._local.held = True


#: The process's one lookup lock.
LOOKUP_LOCK = LookupLock()
