"""A small thread-safe memo for plugins' probes the core does not memoise.

The core memoises the identity of the executable a call names; what a
plugin probes beyond it -- a rustup proxy's real toolchain, a linker's
support files, nvcc's host compiler -- goes in a `Memo` keyed by the stat
signature (`pycache_core.digests.stat_signature`) of what was probed, so
that an upgrade is noticed without restarting the server.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from .lookup_lock import LOOKUP_LOCK

T = TypeVar("T")


class Memo(Generic[T]):
    """One value per key, computed once even when threads ask at the same
    time: a build starts several compiles at once, and each would otherwise
    run the same probe (rustc's toolchain identity hashes its driver and
    standard libraries, ~350 MB: twice that at the start of a cold build)."""

    def __init__(self, limit: int = 256) -> None:
        self._values: dict[Hashable, T] = {}
        self._running: dict[Hashable, threading.Event] = {}
        self._lock = threading.Lock()
        self._limit = limit
        #: How many gets waited for another thread's computation (tests read it).
        self.waited = 0

    def get(self, key: Hashable, compute: Callable[[], T]) -> T:
        while True:
            with self._lock:
                if key in self._values:
                    return self._values[key]
                running = self._running.get(key)
                if running is None:
                    running = self._running[key] = threading.Event()
                    break
                self.waited += 1
            # Another thread computes it: look again once it is done (when it
            # failed, this thread computes it itself). That thread may need
            # the lookup lock to finish: let it go meanwhile.
            with LOOKUP_LOCK.waiting():
                running.wait()
        try:
            with LOOKUP_LOCK.waiting():  # a probe: other calls look up meanwhile
                value = compute()  # outside the lock: probes run subprocesses
        except BaseException:
            with self._lock:
                del self._running[key]
            running.set()
            raise
        with self._lock:
            if len(self._values) >= self._limit:
                self._values.clear()
            self._values[key] = value
            del self._running[key]
        running.set()
        return value

    def clear(self) -> None:
        with self._lock:
            self._values.clear()
