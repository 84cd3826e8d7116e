"""Statistics, persisted across processes in ``<PYCACHE_DIR>/stats.json``.

Each call builds a `StatsDelta` and merges it into the file under a file
lock (read, add, write to a temporary file, rename), so concurrent servers and
no-server calls never lose counts. Counter names are stored data: never
rename them.

Every request ends in exactly one outcome (`OUTCOMES`; `StatsDelta.outcome`
records it, a later one replacing an earlier, so a call that faults after it
compiled counts once, as an error): ``requests`` is their sum.

Counters (totals, and per compiler family):
    requests            wrapped calls seen
    hits                outcome: served from the cache (direct_hits + preprocessor_hits)
    direct_hits         hits found through a manifest, without discovering dependencies
    preprocessor_hits   hits found after discovering dependencies (preprocessor, dep-info)
    misses              outcome: cacheable calls compiled and stored
    not_cacheable       outcome: run as is, or compiled but not stored (by reason in
                        ``not_cacheable_reasons``, the last detail in ``not_cacheable_details``)
    not_compilation     outcome: calls that were not compilations (probes; by reason)
    compile_failed      outcome: compiles that failed (never cached)
    unsupported         outcome: calls of a compiler no plugin claims (by name in
                        ``unsupported_compilers``)
    not_found           outcome: calls of a compiler that is not on PATH (by name in
                        ``not_found_compilers``)
    call_errors         outcome: calls run uncached because of a fault (its kind in ``errors``)
    cancelled           outcome: calls whose client went away (an interrupted build): the
                        compile was terminated, nothing was written or stored
    errors              faults, by kind in ``errors`` with the last message: those that
                        made a call run uncached, and those that cost a lookup, an upload
                        or a restore but not the call (``storage:<tier>``, ``corrupt-entry``)
    seconds_saved       original compile time of every hit
    seconds_compiling   time spent compiling misses
    bytes_read          entry bytes read from storage on hits
    bytes_written       entry bytes written to storage
    prefix_compiles     misses compiled through PYCACHE_PREFIX_COMMAND (distcc, icecc)
    prefix_failures     prefixed compiles that failed where the local retry succeeded
                        (the cause under ``errors["prefix_command"]``)
    prefix_skipped      misses of a family the prefix cannot serve, compiled locally

Besides: ``since`` (when counting began) and ``zeroed_at`` (the last
``pycache stats --zero``), epoch seconds; ``tiers``, each storage tier's own
counters (`storage.tiers.TierCounters`, summed; `GAUGES` are the latest value).
``pycache stats --json`` adds ``schema_version`` (`SCHEMA`), the local cache's use and
the hit rate.

Step breakdown (``steps``: family -> step -> counter), for families that
compile a miss in steps and reuse some (`PluginContext.lookup_step`):
    hits, misses        steps found in the cache, and not
    stored              steps stored
    bytes_read, bytes_written
A call counts once in the totals whatever its steps did.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

COUNTERS = (
    "requests",
    "hits",
    "direct_hits",
    "preprocessor_hits",
    "misses",
    "not_cacheable",
    "not_compilation",
    "compile_failed",
    "unsupported",
    "cancelled",
    "errors",
    "seconds_saved",
    "seconds_compiling",
    "bytes_read",
    "bytes_written",
    "prefix_compiles",
    "prefix_failures",
    "prefix_skipped",
    "not_found",
    "call_errors",
)
#: Where a request can end: each one in exactly one of these.
OUTCOMES = ("hits", "misses", "not_cacheable", "not_compilation", "compile_failed", "unsupported", "not_found",
            "cancelled", "call_errors")
#: Version of ``pycache stats --json``'s layout (README, "pycache stats --json").
SCHEMA = 1
#: Tier counters that are a state, not a count: merged by taking the latest.
GAUGES = frozenset({"last_error_time", "suspended_seconds", "uploads_pending"})


@dataclass
class StatsDelta:
    """Counts from one call (or a batch), to be merged into the file."""

    totals: dict[str, float] = field(default_factory=dict)
    families: dict[str, dict[str, float]] = field(default_factory=dict)
    not_cacheable_reasons: dict[str, int] = field(default_factory=dict)
    not_compilation_reasons: dict[str, int] = field(default_factory=dict)
    errors: dict[str, dict[str, Any]] = field(default_factory=dict)
    tiers: dict[str, dict[str, Any]] = field(default_factory=dict)
    not_cacheable_details: dict[str, str] = field(default_factory=dict)
    unsupported_compilers: dict[str, int] = field(default_factory=dict)
    not_found_compilers: dict[str, int] = field(default_factory=dict)
    #: The outcome (and hit kind) this one call's delta holds, for `outcome`.
    _outcome: tuple[str, ...] = field(default=(), repr=False, compare=False)
    steps: dict[str, dict[str, dict[str, float]]] = field(default_factory=dict)

    def add(self, counter: str, amount: float = 1, *, family: str | None = None) -> None:
        if counter not in COUNTERS:
            raise ValueError(f"unknown counter {counter!r}")
        self.totals[counter] = self.totals.get(counter, 0) + amount
        if family:
            fam = self.families.setdefault(family, {})
            fam[counter] = fam.get(counter, 0) + amount

    def outcome(self, counter: str, *, kind: str | None = None) -> None:
        """Where this call ended (one of `OUTCOMES`; ``kind`` a sub-counter such
        as ``direct_hits``). A later outcome replaces an earlier one: a call
        that faults after it compiled is an error, counted once."""
        if counter not in OUTCOMES:
            raise ValueError(f"{counter!r} is not an outcome")
        for previous in self._outcome:
            self.totals[previous] -= 1
            if not self.totals[previous]:
                del self.totals[previous]
        self._outcome = (counter, kind) if kind else (counter,)
        for name in self._outcome:
            self.add(name)

    def reason(self, kind: str, reason: str, detail: str = "") -> None:
        table = self.not_cacheable_reasons if kind == "not_cacheable" else self.not_compilation_reasons
        table[reason] = table.get(reason, 0) + 1
        if detail and kind == "not_cacheable":
            self.not_cacheable_details[reason] = detail[:500]

    def compiler(self, kind: str, name: str) -> None:
        """Name the compiler of an ``unsupported`` or ``not_found`` call."""
        table = self.unsupported_compilers if kind == "unsupported" else self.not_found_compilers
        table[name] = table.get(name, 0) + 1

    def error(self, kind: str, message: str, *, family: str | None = None) -> None:
        self.add("errors", family=family)
        entry = self.errors.setdefault(kind, {"count": 0, "last": ""})
        entry["count"] += 1
        entry["last"] = message

    def step(self, family: str, step: str, counter: str, amount: float = 1) -> None:
        """Count one of a family's steps (see the module docstring)."""
        counters = self.steps.setdefault(family, {}).setdefault(step, {})
        counters[counter] = counters.get(counter, 0) + amount

    def tier(self, name: str, counters: dict[str, Any]) -> None:
        target = self.tiers.setdefault(name, {})
        for key, value in counters.items():
            if isinstance(value, (int, float)) and not isinstance(value, bool) and key not in GAUGES:
                target[key] = target.get(key, 0) + value
            elif value:
                target[key] = value

    def __bool__(self) -> bool:
        return bool(self.totals or self.errors or self.tiers or self.steps)

    def as_dict(self) -> dict[str, Any]:
        return {
            "totals": self.totals,
            "families": self.families,
            "not_cacheable_reasons": self.not_cacheable_reasons,
            "not_compilation_reasons": self.not_compilation_reasons,
            "errors": self.errors,
            "tiers": self.tiers,
            "not_cacheable_details": self.not_cacheable_details,
            "unsupported_compilers": self.unsupported_compilers,
            "not_found_compilers": self.not_found_compilers,
            "steps": self.steps,
        }

    def absorb(self, other: StatsDelta) -> None:
        """Add another delta's counts to this one (the server batches calls)."""
        _merge_numbers(self.__dict__, other.as_dict())


def empty_stats() -> dict[str, Any]:
    return {
        "totals": {name: 0 for name in COUNTERS},
        "families": {},
        "not_cacheable_reasons": {},
        "not_compilation_reasons": {},
        "errors": {},
        "tiers": {},
        "not_cacheable_details": {},
        "unsupported_compilers": {},
        "not_found_compilers": {},
        "steps": {},
    }


def merge_counts(target: dict[str, Any], source: dict[str, Any]) -> None:
    """Add ``source``'s counts (a `StatsDelta.as_dict` or stats file shape)
    into ``target``; texts (last errors) are replaced."""
    _merge_numbers(target, source)


def _merge_numbers(target: dict[str, Any], source: dict[str, Any]) -> None:
    for key, value in source.items():
        if isinstance(value, dict):
            _merge_numbers(target.setdefault(key, {}), value)
        elif isinstance(value, (int, float)) and not isinstance(value, bool) and key not in GAUGES:
            target[key] = target.get(key, 0) + value
        else:
            target[key] = value


class StatsFile:
    """The persisted counters of one cache directory."""

    def __init__(self, cache_dir: Path) -> None:
        self.path = Path(cache_dir) / "stats.json"
        self._thread_lock = threading.Lock()

    def _lock(self):
        from filelock import FileLock

        return FileLock(str(self.path) + ".lock", timeout=10)

    def read(self) -> dict[str, Any]:
        stats = empty_stats()
        with contextlib.suppress(OSError, ValueError):
            _merge_numbers(stats, json.loads(self.path.read_text()))
        return stats

    def merge(self, delta: StatsDelta) -> None:
        if not delta:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._thread_lock, self._lock():
            stats = self.read()
            _merge_numbers(stats, delta.as_dict())
            stats.setdefault("since", time.time())
            self._write(stats)

    def zero(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._thread_lock, self._lock():
            now = time.time()
            self._write({**empty_stats(), "since": now, "zeroed_at": now})

    def _write(self, stats: dict[str, Any]) -> None:
        tmp = self.path.with_name(f".stats.{os.getpid()}.{threading.get_ident()}.tmp")
        try:
            tmp.write_text(json.dumps(stats, indent=1, sort_keys=True))
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                tmp.unlink()  # a half file on a full disk takes the space a retry needs
            raise


def absorb_client_faults(faults_path: str, stats: StatsFile) -> None:
    """Count the calls clients ran uncached because no server answered.

    The client cannot afford to update statistics itself; it appends a line
    per fault to a file next to the server's socket, and whoever reads the
    statistics next (the server, `pycache stats`) moves them in here.
    """
    stats.merge(take_client_faults(faults_path))


def take_client_faults(faults_path: str) -> StatsDelta:
    """The clients' fault notes as counts (the file is consumed)."""
    taken = f"{faults_path}.{os.getpid()}.{threading.get_ident()}"
    delta = StatsDelta()
    try:
        os.rename(faults_path, taken)
    except OSError:
        return delta
    try:
        for line in Path(taken).read_text(errors="replace").splitlines():
            kind, _, message = line.partition("\t")
            delta.add("requests")
            delta.add("call_errors")  # the client ran it uncached
            delta.error(kind or "client", message)
    finally:
        with contextlib.suppress(OSError):
            os.unlink(taken)
    return delta
