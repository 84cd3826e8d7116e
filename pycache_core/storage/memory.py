"""An in-memory backend: for tests of plugins and tiers, never configured by users."""

from __future__ import annotations

import threading
from collections.abc import Mapping


class MemoryBackend:
    def __init__(self, name: str = "memory", *, writable: bool = True) -> None:
        self.name = name
        self.writable = writable
        self.data: dict[str, bytes] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        with self._lock:
            return self.data.get(key)

    def put(self, key: str, data: bytes) -> None:
        with self._lock:
            self.data[key] = bytes(data)

    def remove(self, key: str) -> None:
        with self._lock:
            self.data.pop(key, None)

    def describe(self) -> Mapping[str, str]:
        return {"entries": str(len(self.data))}
