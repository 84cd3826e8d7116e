"""The tiers: one view over every configured backend, fastest first.

Lookups try each tier in order (local disk 0, Redis 10, S3 20 -- only those
configured); the first hit wins, and a hit in a slower tier is copied to the
faster ones in the background ("write-back"), so the next lookup stops
earlier. Writes go to every writable tier: the local disk at once, shared
tiers through a bounded background queue per tier, so a miss answers the
client as soon as its compile is done and a slow S3 never holds up Redis.

The queue's bound is ``PYCACHE_UPLOAD_QUEUE`` entries per shared tier (0:
upload synchronously), plus `UPLOAD_QUEUE_BYTES` of data; when it is full,
``PYCACHE_UPLOAD_QUEUE_POLICY`` decides: ``wait`` (the compile's reply waits
for room: backpressure, nothing lost) or ``drop`` (the upload is skipped and
counted). Write-backs never wait: when a queue is full they are dropped and
counted. ``PYCACHE_READ_ONLY`` keeps every shared tier from being written.

`flush` waits until every accepted upload has been attempted (``pycache
server stop`` shows its progress); `close` stops taking new uploads, flushes
and ends the workers, so a graceful shutdown never loses an accepted upload.

No method raises on a storage failure: the failure is counted per tier with
its full text (`StorageError`'s one line: code, status, request id, ...) and
logged, and the compile goes on. A shared tier that is unavailable -- it
cannot be reached (no HTTP status: refused, timed out, DNS, no credentials)
or it answers with a server error (HTTP 5xx, after the backend's own
retries) -- is suspended for a while after the failure: lookups skip it and
uploads fail at once (both counted), and one request probes it again when
the pause is over (the pause doubles on each failure, up to `SUSPEND_MAX`
seconds). So a dead, hung or failing store costs a build one timeout per
pause, not one per compile. A refusal (403, 404, ...) means the service
works: it is counted, never suspended.

`open_backends` turns the registered storage kinds into the backends the
configuration asks for, in lookup order; the engine and `pycache doctor`
both build on it.
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field, fields
from typing import Any

from .. import env as names
from ..api import StorageBackend, StorageBackendType
from ..errors import ConfigError, StorageError
from ..lookup_lock import LOOKUP_LOCK

log = logging.getLogger("pycache.storage")

#: Entries waiting per shared tier, unless ``PYCACHE_UPLOAD_QUEUE`` says otherwise.
UPLOAD_QUEUE = 256
#: Bytes waiting per tier; an entry larger than this is still taken into an empty queue.
UPLOAD_QUEUE_BYTES = 512 * 1024 * 1024
#: Upload threads per shared tier (the S3 and Redis connection pools leave room for them).
UPLOAD_WORKERS = 4
#: Write-back threads for the local tier.
LOCAL_WORKERS = 1
POLICIES = ("wait", "drop")
#: Seconds a tier is skipped after its first unreachable failure; doubles up to SUSPEND_MAX.
SUSPEND_BASE = 10.0
SUSPEND_MAX = 300.0


@dataclass
class TierCounters:
    """What happened in one tier since the store was opened.

    Names are stored data (``pycache stats --json`` shows them): never rename.
    """

    hits: int = 0
    misses: int = 0
    errors: int = 0
    bytes_read: int = 0
    bytes_written: int = 0
    writes: int = 0
    read_seconds: float = 0.0
    write_seconds: float = 0.0
    uploads_queued: int = 0
    uploads_done: int = 0
    uploads_failed: int = 0
    uploads_dropped: int = 0
    write_backs_queued: int = 0
    write_backs_done: int = 0
    write_backs_dropped: int = 0
    lookups_skipped: int = 0
    suspensions: int = 0
    last_error: str = ""
    last_error_time: float = 0.0


_NUMBERS = tuple(f.name for f in fields(TierCounters) if f.type in ("int", "float", int, float))


@dataclass(frozen=True, slots=True)
class Tier:
    backend: StorageBackend
    shared: bool


def unavailable(exc: BaseException) -> bool:
    """Does this failure say the tier is not working (rather than refusing)?"""
    if not isinstance(exc, StorageError) or exc.status is None:
        return True  # not reached, timed out, or a backend that broke the protocol
    return exc.status >= 500


@dataclass(frozen=True, slots=True)
class OpenedBackend:
    """One backend the configuration turned on, or one that could not be made."""

    kind: StorageBackendType
    name: str
    tier: int
    backend: StorageBackend | None = None
    error: BaseException | None = None


def open_backends(kinds: Sequence[StorageBackendType], config: Any) -> list[OpenedBackend]:
    """Every backend the configuration turns on, in lookup order.

    Each kind's ``create(config)`` gives None (not configured), a backend, or
    a list (one kind configured several times, e.g. two OpenDAL services) of
    backends and of exceptions for those that could not be opened (a
    `StorageError` names its tier by ``backend``). A backend with an integer
    ``tier`` attribute of its own takes that place, any other its kind's;
    equal tiers keep registration order. A kind whose ``create`` raised, a
    tier that could not be opened, or a backend whose name an earlier one
    already has, comes back with its error and no backend: the caller reports
    it and goes on without it.
    """
    opened: list[OpenedBackend] = []
    for kind in kinds:
        try:
            made = kind.create(config)
        except Exception as exc:
            opened.append(OpenedBackend(kind=kind, name=kind.name, tier=kind.tier, error=exc))
            continue
        if made is None:
            continue
        for item in made if isinstance(made, (list, tuple)) else [made]:
            if isinstance(item, BaseException):
                name = item.backend if isinstance(item, StorageError) else kind.name
                opened.append(OpenedBackend(kind=kind, name=name, tier=kind.tier, error=item))
                continue
            tier = getattr(item, "tier", None)
            tier = tier if isinstance(tier, int) and not isinstance(tier, bool) else kind.tier
            opened.append(OpenedBackend(kind=kind, name=item.name, tier=tier, backend=item))
    seen: set[str] = set()
    for index, entry in enumerate(opened):
        if entry.backend is None:
            continue
        if entry.name in seen:
            error = ConfigError(f"two storage tiers are named {entry.name!r} (the second, of kind {entry.kind.name}, is not used)")
            opened[index] = OpenedBackend(kind=entry.kind, name=entry.name, tier=entry.tier, error=error)
        seen.add(entry.name)
    return sorted(opened, key=lambda entry: entry.tier)  # stable: registration order within a tier


@dataclass(slots=True)
class _Job:
    key: str
    data: bytes
    write_back: bool
    accepted: float = field(default_factory=time.monotonic)


class _Suspension:
    """Skips a shared tier for a while after it could not be reached."""

    def __init__(self, base: float, cap: float) -> None:
        self.base = base
        self.cap = cap
        self.failures = 0
        self.until = 0.0
        self.probing = False
        self.reason = ""
        self._lock = threading.Lock()

    def allow(self) -> bool:
        """May a request go to the tier now? After a pause, one probe at a time."""
        with self._lock:
            if not self.failures:
                return True
            if time.monotonic() < self.until or self.probing:
                return False
            self.probing = True
            return True

    def succeeded(self) -> None:
        with self._lock:
            self.failures = 0
            self.probing = False
            self.reason = ""

    def failed(self, unreachable: bool, reason: str) -> float:
        """Record a failure; the pause started (seconds), or 0 when none."""
        with self._lock:
            self.probing = False
            if not unreachable:  # the service answered and works: it is there
                self.failures = 0
                return 0.0
            self.failures += 1
            pause = min(self.cap, self.base * 2 ** (self.failures - 1))
            self.until = time.monotonic() + pause
            self.reason = reason
            return pause

    def remaining(self) -> float:
        with self._lock:
            return max(0.0, self.until - time.monotonic()) if self.failures else 0.0


class _Uploader:
    """A bounded queue and its worker threads, for one tier."""

    def __init__(self, store: TieredStore, tier: Tier, workers: int, capacity: int, max_bytes: int) -> None:
        self.store = store
        self.tier = tier
        self.workers = workers
        self.capacity = capacity
        self.max_bytes = max_bytes
        self.items: collections.deque[_Job] = collections.deque()
        self.bytes = 0
        self.in_flight = 0
        self.stopping = False
        self.threads: list[threading.Thread] = []
        self.cond = threading.Condition()

    def _full(self, size: int) -> bool:
        if len(self.items) >= self.capacity:
            return True
        return bool(self.items) and self.bytes + size > self.max_bytes

    def offer(self, job: _Job, wait: bool) -> bool:
        """Queue ``job``; False when the queue is full and ``wait`` is False, or
        the uploader is stopping (the caller then writes synchronously)."""
        with self.cond:
            while self._full(len(job.data)) and not self.stopping:
                if not wait:
                    return False
                self.cond.wait(1.0)
            if self.stopping:
                return False
            self.items.append(job)
            self.bytes += len(job.data)
            if len(self.threads) < self.workers:
                thread = threading.Thread(
                    target=self._run, name=f"pycache-upload-{self.tier.backend.name}-{len(self.threads)}", daemon=True
                )
                self.threads.append(thread)
                thread.start()
            self.cond.notify_all()
            return True

    def _run(self) -> None:
        while True:
            with self.cond:
                while not self.items and not self.stopping:
                    self.cond.wait()
                if not self.items:
                    return
                job = self.items.popleft()
                self.bytes -= len(job.data)
                self.in_flight += 1
                self.cond.notify_all()
            try:
                self.store._run_job(self.tier, job)
            except BaseException:  # never let a worker die silently
                log.exception("upload of %s to %s crashed", job.key, self.tier.backend.name)
            finally:
                with self.cond:
                    self.in_flight -= 1
                    self.cond.notify_all()

    def pending(self) -> int:
        with self.cond:
            return len(self.items) + self.in_flight

    def stop(self, timeout: float | None) -> None:
        with self.cond:
            self.stopping = True
            self.cond.notify_all()
        for thread in self.threads:
            thread.join(timeout)


class TieredStore:
    """Every configured backend behind one get / put, fastest first."""

    def __init__(
        self,
        tiers: Sequence[Tier],
        *,
        read_only: bool = False,
        queue_size: int = UPLOAD_QUEUE,
        queue_policy: str = "wait",
        queue_bytes: int = UPLOAD_QUEUE_BYTES,
        upload_workers: int = UPLOAD_WORKERS,
        suspend_base: float = SUSPEND_BASE,
        suspend_max: float = SUSPEND_MAX,
    ) -> None:
        if queue_policy not in POLICIES:
            raise ConfigError(f"{names.UPLOAD_QUEUE_POLICY}={queue_policy!r}: use one of {', '.join(POLICIES)}")
        if queue_size < 0:
            raise ConfigError(f"{names.UPLOAD_QUEUE}={queue_size}: use 0 (upload synchronously) or more")
        self.tiers = list(tiers)
        self.read_only = read_only
        self.queue_size = queue_size
        self.queue_policy = queue_policy
        self._lock = threading.Lock()
        self._counters = {t.backend.name: TierCounters() for t in self.tiers}
        self._drained = {t.backend.name: TierCounters() for t in self.tiers}
        self._suspensions = {t.backend.name: _Suspension(suspend_base, suspend_max) for t in self.tiers}
        self._uploaders: dict[str, _Uploader] = {}
        self._closed = False
        for tier in self.tiers:
            if tier.shared and queue_size > 0:
                self._uploaders[tier.backend.name] = _Uploader(self, tier, upload_workers, queue_size, queue_bytes)
            elif not tier.shared:
                # write-backs into the local tier: small queue of its own, never waited on
                self._uploaders[tier.backend.name] = _Uploader(self, tier, LOCAL_WORKERS, max(queue_size, 64), queue_bytes)

    @classmethod
    def from_config(cls, tiers: Sequence[Tier], config: Any) -> TieredStore:
        """A store with the queue size, policy and read-only flag the configuration sets."""
        policy = (config.value(names.UPLOAD_QUEUE_POLICY) or "wait").strip().lower()
        return cls(
            tiers,
            read_only=config.flag(names.READ_ONLY),
            queue_size=config.integer(names.UPLOAD_QUEUE),
            queue_policy=policy,
        )

    # --- counting -----------------------------------------------------------

    def _count(self, tier: str, **deltas: float) -> None:
        with self._lock:
            counters = self._counters[tier]
            for name, delta in deltas.items():
                setattr(counters, name, getattr(counters, name) + delta)

    def _failed(self, tier: Tier, operation: str, key: str, exc: BaseException, **deltas: float) -> None:
        name = tier.backend.name
        if isinstance(exc, StorageError):
            text = str(exc)
        else:  # a backend that broke the protocol: still name the cause in full
            text = f"{name} {operation} {key}: {type(exc).__name__}: {exc}"
        unreachable = tier.shared and unavailable(exc)
        pause = self._suspensions[name].failed(unreachable, text) if tier.shared else 0.0
        with self._lock:
            counters = self._counters[name]
            counters.errors += 1
            counters.last_error = text
            counters.last_error_time = time.time()
            for counter, delta in deltas.items():
                setattr(counters, counter, getattr(counters, counter) + delta)
            if pause:
                counters.suspensions += 1
        log.warning("storage tier %s failed: %s", name, text)
        if pause:
            log.warning("storage tier %s unreachable: skipping it for %.0f s", name, pause)

    def _writable(self, tier: Tier) -> bool:
        return tier.backend.writable and not (tier.shared and self.read_only)

    def _allowed(self, tier: Tier) -> bool:
        return not tier.shared or self._suspensions[tier.backend.name].allow()

    def _succeeded(self, tier: Tier) -> None:
        if tier.shared:
            self._suspensions[tier.backend.name].succeeded()

    # --- lookups ------------------------------------------------------------

    def get(self, key: str) -> tuple[bytes, str] | None:
        """The first tier's copy, and that tier's name; None on a miss everywhere."""
        for index, tier in enumerate(self.tiers):
            name = tier.backend.name
            if not self._allowed(tier):
                self._count(name, lookups_skipped=1)
                continue
            started = time.monotonic()
            try:
                # A shared tier is a wait on the network: other calls look up meanwhile.
                with LOOKUP_LOCK.waiting() if tier.shared else nullcontext():
                    data = tier.backend.get(key)
            except Exception as exc:  # a broken tier is a miss in that tier
                self._failed(tier, "GET", key, exc, read_seconds=time.monotonic() - started)
                continue
            self._succeeded(tier)
            elapsed = time.monotonic() - started
            if data is None:
                self._count(name, misses=1, read_seconds=elapsed)
                continue
            self._count(name, hits=1, bytes_read=len(data), read_seconds=elapsed)
            self._write_back(key, data, self.tiers[:index])
            return data, name
        return None

    def _write_back(self, key: str, data: bytes, faster: Sequence[Tier]) -> None:
        for tier in faster:
            if not self._writable(tier):
                continue
            uploader = self._uploaders.get(tier.backend.name)
            job = _Job(key, data, write_back=True)
            if uploader is not None and not self._closed and uploader.offer(job, wait=False):
                self._count(tier.backend.name, write_backs_queued=1)
            elif uploader is None and not self._closed:  # synchronous mode (queue size 0)
                self._count(tier.backend.name, write_backs_queued=1)
                self._run_job(tier, job)
            else:
                self._count(tier.backend.name, write_backs_dropped=1)

    # --- writes -------------------------------------------------------------

    def put(self, key: str, data: bytes) -> None:
        """Store in every writable tier: local now, shared ones in the background."""
        for tier in self.tiers:
            if not self._writable(tier):
                continue
            name = tier.backend.name
            if not tier.shared:
                self._write(tier, key, data)
                continue
            uploader = self._uploaders.get(name)
            job = _Job(key, data, write_back=False)
            if uploader is None or self._closed:
                self._count(name, uploads_queued=1)
                self._run_job(tier, job)
            elif uploader.offer(job, wait=self.queue_policy == "wait"):
                self._count(name, uploads_queued=1)
            elif uploader.stopping:
                self._count(name, uploads_queued=1)
                self._run_job(tier, job)
            else:
                self._count(name, uploads_dropped=1)
                log.info("upload queue of %s full (%d entries): dropped %s", name, self.queue_size, key)

    def _write(self, tier: Tier, key: str, data: bytes, **on_success: int) -> bool:
        started = time.monotonic()
        try:
            tier.backend.put(key, data)
        except Exception as exc:
            self._failed(tier, "PUT", key, exc, write_seconds=time.monotonic() - started)
            return False
        self._succeeded(tier)
        self._count(tier.backend.name, writes=1, bytes_written=len(data), write_seconds=time.monotonic() - started, **on_success)
        return True

    def _run_job(self, tier: Tier, job: _Job) -> None:
        name = tier.backend.name
        if not self._allowed(tier):
            reason = self._suspensions[name].reason
            if job.write_back:
                self._count(name, write_backs_dropped=1)
            else:
                self._count(name, uploads_failed=1)
            log.debug("skipped %s to %s (suspended after: %s)", job.key, name, reason)
            return
        if job.write_back:
            self._write(tier, job.key, job.data, write_backs_done=1)
        elif not self._write(tier, job.key, job.data, uploads_done=1):
            self._count(name, uploads_failed=1)

    def remove(self, key: str, tier_name: str | None = None) -> None:
        """Drop a (corrupt) entry: from one tier, or from every writable one."""
        for tier in self.tiers:
            if (tier_name is None or tier.backend.name == tier_name) and self._writable(tier):
                try:
                    tier.backend.remove(key)
                except Exception as exc:
                    self._failed(tier, "DELETE", key, exc)

    # --- draining -------------------------------------------------------------

    def pending(self) -> int:
        """Uploads and write-backs accepted and not yet attempted."""
        return sum(u.pending() for u in self._uploaders.values())

    def flush(self, progress: Callable[[int, int], None] | None = None, timeout: float | None = None) -> bool:
        """Wait until every accepted upload has been attempted.

        ``progress(done, total)`` is called as the queue drains (``total``
        grows if uploads arrive meanwhile). True when drained; False when
        ``timeout`` seconds passed first.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        total = remaining = self.pending()
        if progress:
            progress(0, total)
        while remaining:
            if deadline is not None and time.monotonic() >= deadline:
                return False
            time.sleep(0.05)
            now = self.pending()
            if now > remaining:  # new uploads arrived
                total += now - remaining
            remaining = now
            if progress:
                progress(total - remaining, total)
        return True

    def close(self, progress: Callable[[int, int], None] | None = None) -> None:
        """Stop taking background work, upload everything accepted, end the workers."""
        with self._lock:
            if self._closed:
                return
            self._closed = True  # from now on puts write synchronously
        self.flush(progress)
        for uploader in self._uploaders.values():
            uploader.stop(timeout=None)
        for tier in self.tiers:
            closer = getattr(tier.backend, "close", None)
            if callable(closer):
                try:
                    closer()
                except Exception as exc:
                    log.debug("closing %s: %s", tier.backend.name, exc)

    # --- statistics -----------------------------------------------------------

    def tier_stats(self) -> dict[str, dict[str, Any]]:
        """Counters per tier since the store was opened, with the queue's state."""
        result: dict[str, dict[str, Any]] = {}
        with self._lock:
            snapshot = {name: _as_dict(c) for name, c in self._counters.items()}
        for tier in self.tiers:
            name = tier.backend.name
            stats = snapshot[name]
            uploader = self._uploaders.get(name)
            stats["uploads_pending"] = uploader.pending() if uploader is not None else 0
            stats["shared"] = tier.shared
            stats["writable"] = self._writable(tier)
            stats["suspended_seconds"] = round(self._suspensions[name].remaining(), 1)
            result[name] = stats
        return result

    def drain_counters(self) -> dict[str, dict[str, Any]]:
        """What changed per tier since the previous call: numbers as deltas, and
        the latest error text. Made for `pycache_core.stats.StatsDelta.tier`,
        so the persisted statistics add up across calls and processes."""
        result: dict[str, dict[str, Any]] = {}
        with self._lock:
            for name, counters in self._counters.items():
                previous = self._drained[name]
                delta: dict[str, Any] = {}
                for counter in _NUMBERS:
                    change = getattr(counters, counter) - getattr(previous, counter)
                    if change:
                        delta[counter] = round(change, 6) if isinstance(change, float) else change
                if counters.last_error_time != previous.last_error_time and counters.last_error:
                    delta["last_error"] = counters.last_error
                if delta:
                    result[name] = delta
                self._drained[name] = TierCounters(**_as_dict(counters))
        return result

    def last_errors(self) -> dict[str, str]:
        with self._lock:
            return {name: c.last_error for name, c in self._counters.items() if c.last_error}

    def describe(self) -> list[tuple[str, Mapping[str, str]]]:
        """Each tier's name and its backend's own description, fastest first."""
        described = []
        for tier in self.tiers:
            try:
                info = dict(tier.backend.describe())
            except Exception as exc:
                info = {"error": f"{type(exc).__name__}: {exc}"}
            described.append((tier.backend.name, info))
        return described


def _as_dict(counters: TierCounters) -> dict[str, Any]:
    return {f.name: getattr(counters, f.name) for f in fields(counters)}
