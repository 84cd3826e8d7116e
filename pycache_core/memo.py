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

T = TypeVar("T")


class Memo(Generic[T]):
    def __init__(self, limit: int = 256) -> None:
        self._values: dict[Hashable, T] = {}
        self._lock = threading.Lock()
        self._limit = limit

    def get(self, key: Hashable, compute: Callable[[], T]) -> T:
        with self._lock:
            if key in self._values:
                return self._values[key]
        value = compute()  # outside the lock: probes run subprocesses
        with self._lock:
            if len(self._values) >= self._limit:
                self._values.clear()
            self._values[key] = value
        return value

    def clear(self) -> None:
        with self._lock:
            self._values.clear()
