"""Statistics accounting: each call's counts, and the storage tiers' own.

Every call ends in one `StatsDelta` handed to `StatsAccounting.record`. A
batching engine (the server) keeps them in memory until `flush`, so no hit
waits for the stats file; otherwise each is merged at once. Every write also
moves in what the storage tiers counted since the previous one.

Counts that cannot be written (the stats file sits on the full disk that
also failed the cache write being counted) are kept in memory, retried at
every flush, and reported by `unsaved` -- ``pycache stats`` adds them, so a
fault is visible exactly when the disk is what failed.
"""

from __future__ import annotations

import logging
import threading

from ..stats import GAUGES, StatsDelta, StatsFile
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
        self._write_lock = threading.Lock()
        self._unsaved = StatsDelta()  # counted, not yet in the stats file
        self._unsaved_error = ""

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

    def unsaved(self) -> tuple[StatsDelta, str] | None:
        """Counts the stats file does not hold yet, and why; None when none."""
        with self._write_lock:
            if not self._unsaved:
                return None
            copy = StatsDelta()
            copy.absorb(self._unsaved)
            return copy, self._unsaved_error

    def _write(self, delta: StatsDelta) -> None:
        try:
            self._add_tier_changes(delta)
        except Exception as exc:  # a tier's own statistics failing: never worth a build
            log.warning("cannot read the storage tiers' statistics: %s", exc)
        with self._write_lock:
            self._unsaved.absorb(delta)
            if not self._unsaved:
                return
            try:
                self.stats.merge(self._unsaved)
            except Exception as exc:  # stats are never worth a failed build
                error = f"cannot write {self.stats.path}: {_describe(exc)}"
                if error != self._unsaved_error:
                    log.warning("%s; the counts stay in memory (pycache stats shows them)", error)
                self._unsaved_error = error
                return
            if self._unsaved_error:
                log.warning("statistics written to %s again", self.stats.path)
            self._unsaved, self._unsaved_error = StatsDelta(), ""

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
                        if key in GAUGES:  # a state: the latest value, not a difference
                            changes[key] = value
                        elif value != before.get(key, 0):
                            changes[key] = value - before.get(key, 0)
                    elif value and value != before.get(key):
                        changes[key] = value
                if changes:
                    delta.tier(name, changes)
                new_errors = int(counters.get("errors", 0)) - int(before.get("errors", 0))
                for _ in range(max(0, new_errors)):
                    delta.error(f"storage:{name}", str(counters.get("last_error", "")))
            self._tier_seen = now


def _describe(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return f"{type(exc).__name__}: {exc}"
