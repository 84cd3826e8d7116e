"""Statistics accounting: each call's counts, and the storage tiers' own.

Every call ends in one `StatsDelta` handed to `StatsAccounting.record`. A
batching engine (the server) keeps them in memory until `flush`, so no hit
waits for the stats file; otherwise each is merged at once. Every write also
moves in what the storage tiers counted since the previous one.
"""

from __future__ import annotations

import logging
import threading

from ..stats import StatsDelta, StatsFile
from ..storage.tiers import TieredStore

log = logging.getLogger("pycache")


class StatsAccounting:
    def __init__(self, stats: StatsFile, store: TieredStore) -> None:
        self.stats = stats
        self.store = store
        #: Keep counts in memory until `flush` (the server's ticker calls it).
        self.batch = False
        self._pending = StatsDelta()
        self._pending_lock = threading.Lock()
        self._tier_lock = threading.Lock()
        self._tier_seen: dict[str, dict] = {}

    def record(self, delta: StatsDelta) -> None:
        """Count one call."""
        if self.batch:
            with self._pending_lock:
                self._pending.absorb(delta)
            return
        self._write(delta)

    def flush(self) -> None:
        """Write what a batching engine holds."""
        with self._pending_lock:
            pending, self._pending = self._pending, StatsDelta()
        self._write(pending)

    def _write(self, delta: StatsDelta) -> None:
        try:
            self._add_tier_changes(delta)
            self.stats.merge(delta)
        except Exception as exc:  # stats are never worth a failed build
            log.warning("cannot write statistics to %s: %s", self.stats.path, exc)

    def _add_tier_changes(self, delta: StatsDelta) -> None:
        """Move what the storage tiers counted since the last call into ``delta``
        (numbers as differences, the last error text as is); a tier's new
        failures also count as errors of kind ``storage:<tier>``."""
        with self._tier_lock:
            now = self.store.tier_stats()
            for name, counters in now.items():
                before = self._tier_seen.get(name, {})
                changes: dict[str, object] = {}
                for key, value in counters.items():
                    if isinstance(value, (int, float)) and not isinstance(value, bool):
                        if value != before.get(key, 0):
                            changes[key] = value - before.get(key, 0)
                    elif value and value != before.get(key):
                        changes[key] = value
                if changes:
                    delta.tier(name, changes)
                new_errors = int(counters.get("errors", 0)) - int(before.get("errors", 0))
                for _ in range(max(0, new_errors)):
                    delta.error(f"storage:{name}", str(counters.get("last_error", "")))
            self._tier_seen = now
