"""Statistics, persisted across processes in ``<PYCACHE_DIR>/stats.json``.

Each call builds a `StatsDelta` and merges it into the file under a file
lock (read, add, write to a temporary file, rename), so concurrent servers and
no-server calls never lose counts. Counter names are stored data: never
rename them.

Counters (totals, and per compiler family):
    requests            wrapped calls seen
    hits                served from the cache (direct_hits + preprocessor_hits)
    direct_hits         hits found through a manifest, without discovering dependencies
    preprocessor_hits   hits found after discovering dependencies (preprocessor, dep-info)
    misses              cacheable calls compiled and stored
    not_cacheable       compilations run as is (by reason in ``not_cacheable_reasons``)
    not_compilation     calls that were not compilations (probes; by reason)
    compile_failed      compiles that failed (never cached)
    unsupported         calls of a compiler no plugin claims
    cancelled           calls whose client went away (an interrupted build): the
                        compile was terminated, nothing was written or stored
    errors              faults, by kind in ``errors`` with the last message: those that
                        made a call run uncached, and storage failures (``storage:<tier>``)
                        that cost a lookup or an upload but not the call
    seconds_saved       original compile time of every hit
    seconds_compiling   time spent compiling misses
    bytes_read          entry bytes read from storage on hits
    bytes_written       entry bytes written to storage
    prefix_compiles     misses compiled through PYCACHE_PREFIX_COMMAND (distcc, icecc)
    prefix_failures     prefixed compiles that failed where the local retry succeeded
                        (the cause under ``errors["prefix_command"]``)
    prefix_skipped      misses of a family the prefix cannot serve, compiled locally
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
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
)


@dataclass
class StatsDelta:
    """Counts from one call (or a batch), to be merged into the file."""

    totals: dict[str, float] = field(default_factory=dict)
    families: dict[str, dict[str, float]] = field(default_factory=dict)
    not_cacheable_reasons: dict[str, int] = field(default_factory=dict)
    not_compilation_reasons: dict[str, int] = field(default_factory=dict)
    errors: dict[str, dict[str, Any]] = field(default_factory=dict)
    tiers: dict[str, dict[str, Any]] = field(default_factory=dict)

    def add(self, counter: str, amount: float = 1, *, family: str | None = None) -> None:
        if counter not in COUNTERS:
            raise ValueError(f"unknown counter {counter!r}")
        self.totals[counter] = self.totals.get(counter, 0) + amount
        if family:
            fam = self.families.setdefault(family, {})
            fam[counter] = fam.get(counter, 0) + amount

    def reason(self, kind: str, reason: str) -> None:
        table = self.not_cacheable_reasons if kind == "not_cacheable" else self.not_compilation_reasons
        table[reason] = table.get(reason, 0) + 1

    def error(self, kind: str, message: str, *, family: str | None = None) -> None:
        self.add("errors", family=family)
        entry = self.errors.setdefault(kind, {"count": 0, "last": ""})
        entry["count"] += 1
        entry["last"] = message

    def tier(self, name: str, counters: dict[str, Any]) -> None:
        target = self.tiers.setdefault(name, {})
        for key, value in counters.items():
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                target[key] = target.get(key, 0) + value
            elif value:
                target[key] = value

    def __bool__(self) -> bool:
        return bool(self.totals or self.errors or self.tiers)

    def as_dict(self) -> dict[str, Any]:
        return {
            "totals": self.totals,
            "families": self.families,
            "not_cacheable_reasons": self.not_cacheable_reasons,
            "not_compilation_reasons": self.not_compilation_reasons,
            "errors": self.errors,
            "tiers": self.tiers,
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
    }


def merge_counts(target: dict[str, Any], source: dict[str, Any]) -> None:
    """Add ``source``'s counts (a `StatsDelta.as_dict` or stats file shape)
    into ``target``; texts (last errors) are replaced."""
    _merge_numbers(target, source)


def _merge_numbers(target: dict[str, Any], source: dict[str, Any]) -> None:
    for key, value in source.items():
        if isinstance(value, dict):
            _merge_numbers(target.setdefault(key, {}), value)
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
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
            self._write(stats)

    def zero(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._thread_lock, self._lock():
            self._write(empty_stats())

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
            delta.error(kind or "client", message)
    finally:
        with contextlib.suppress(OSError):
            os.unlink(taken)
    return delta
