"""Direct mode's manifests: earlier compiles of the same call, and whether
one of them still holds.

A manifest is stored under the key of the call's direct-mode components
(arguments as written, the source's digest, ...) and lists records: the
files an earlier compile read with their digests, paths that must stay
absent, variables and their values, and the result key it produced
(`pycache_core.entry.ManifestRecord`). `match` finds a record whose every
file still hashes the same -- a hit without discovering dependencies;
`record` adds one after a miss or a preprocessor-mode hit. `mismatches`
says why a record does not hold (``explain`` names them); `record_holds`
is its first answer.

A record whose result key is `DISCOVER_FIRST` names no entry: a deferred
compile of these inputs could not be keyed from its own list, and the
dependencies discovery found admit no manifest (`Outputs.rediscover`). It
tells a later call to discover before it compiles -- a preprocessor-mode
lookup instead of a depend-mode miss -- and is consulted only when no
record of an entry holds.

A server answers the same manifest again and again when a call repeats:
`DecodedManifests` keeps the records of recently read manifests (by their
stored bytes), and a record that held is kept as proven with the stat
signatures it was checked against (`pycache_core.digests.FileDigests.prove`):
while they are the same, it holds again after one ``stat`` per file and per
directory.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..api import Outputs
from ..entry import ManifestRecord, decode_manifest, encode_manifest
from ..errors import EntryError
from ..paths import BaseDirectories
from . import freshness
from .call import Call

if TYPE_CHECKING:
    from .engine import Engine


UNSET = "\0unset"  # a variable's recorded value when it was not set
#: The result key of a record that says "discover first" (no entry's key is
#: spelled so; an older pycache reads it as an absent entry: a miss).
DISCOVER_FIRST = "discover-first"


@dataclass(frozen=True, slots=True)
class Mismatch:
    """Why a record does not hold now: a variable has another value
    (``env``), a must-be-absent path exists (``appeared``), a file has
    another digest (``changed``) or cannot be read (``gone``). ``subject``
    is the variable's name or the path as this call sees it."""

    kind: str
    subject: str
    before: str | None = None
    after: str | None = None


class DecodedManifests:
    """Records of manifests read recently, by their stored bytes (equal
    bytes decode to equal records), up to `MAX_BYTES` of them."""

    MAX_BYTES = 32 << 20

    def __init__(self) -> None:
        self._records: dict[bytes, list[ManifestRecord]] = {}
        self._size = 0
        self._lock = threading.Lock()

    def decode(self, data: bytes) -> list[ManifestRecord]:
        """`pycache_core.entry.decode_manifest`, memoised; raises EntryError."""
        found = self._records.get(data)
        if found is not None:
            return found
        records = decode_manifest(data)
        with self._lock:
            while self._records and self._size + len(data) > self.MAX_BYTES:
                oldest = next(iter(self._records))
                self._size -= len(oldest)
                del self._records[oldest]
            if data not in self._records:
                self._records[data] = records
                self._size += len(data)
        return records


def load(engine: Engine, call: Call) -> list[ManifestRecord]:
    """The records of the call's manifest, newest first (a corrupt manifest
    is removed and counts as none)."""
    _invocation, _parsed, context = call.ready
    assert call.manifest_key is not None
    found = engine.store.get(call.manifest_key)
    if found is None:
        return []
    try:
        return engine.manifests.decode(found[0])
    except EntryError as exc:
        context.log.warning("manifest %s unreadable (%s); removed", call.manifest_key, exc)
        engine.store.remove(call.manifest_key, found[1])
        return []


def match(engine: Engine, call: Call) -> str | None:
    """The result key of the first record of the call's manifest that
    holds (`DISCOVER_FIRST` only when no record of an entry does)."""
    _invocation, _parsed, context = call.ready
    records = load(engine, call)
    found = first_holding(engine, call, records)
    if found is not None:
        context.log.debug("manifest %s: record holds -> %s", call.manifest_key, found.result_key)
        return found.result_key
    if records:
        context.log.debug("manifest %s: none of %d records holds", call.manifest_key, len(records))
    return None


def first_holding(engine: Engine, call: Call, records: list[ManifestRecord]) -> ManifestRecord | None:
    """The first of ``records`` naming an entry that holds, else the first
    `DISCOVER_FIRST` record that does."""
    invocation = call.invocation
    assert invocation is not None and call.bases is not None
    ordered = [r for r in records if r.result_key != DISCOVER_FIRST] + [r for r in records if r.result_key == DISCOVER_FIRST]
    for record in ordered:
        if record_holds(engine, record, invocation.env, call.bases, proof_key=call.manifest_key):
            return record
    return None


def record_holds(
    engine: Engine, record: ManifestRecord, env: Mapping[str, str], bases: BaseDirectories, proof_key: str | None = None
) -> bool:
    """The record was made with these base directories if it is bound to
    some, every variable has its recorded value, no must-be-absent path
    exists, every file has its recorded digest -- each path in the base
    directory its placeholder names.

    With ``proof_key`` (the manifest's key), an answer found to hold is
    kept as proven, and a proven record holds again while nothing it was
    checked against changed (see the module docstring)."""
    for name, value in record.env:
        if env.get(name, UNSET) != value:
            return False
    key = None if proof_key is None else (proof_key, bases.entries, record.result_key)
    if key is not None and engine.digests.proven(key, record):
        return True
    with engine.digests.witness() as witness:
        for _ in mismatches(engine, record, env, bases):
            return False
    if key is not None:
        engine.digests.prove(key, record, witness)
    return True


def mismatches(engine: Engine, record: ManifestRecord, env: Mapping[str, str], bases: BaseDirectories) -> Iterator[Mismatch]:
    """Every way ``record`` fails to hold now, cheapest checks first; lazy,
    so `record_holds` stops at the first. A record bound to other base
    directories, or naming one this call lacks, fails as ``bases``."""
    if record.bound is not None and record.bound != bases.entries:
        yield Mismatch("bases", "base directories", _describe(record.bound), _describe(bases.entries))
        return
    absent = [bases.restore_path(portable) for portable in record.absent]
    files = [(bases.restore_path(portable), digest) for portable, digest in record.files]
    if None in absent or any(path is None for path, _ in files):
        yield Mismatch("bases", "base directories", None, _describe(bases.entries))
        return
    for name, value in record.env:
        now = env.get(name, UNSET)
        if now != value:
            yield Mismatch("env", name, None if value == UNSET else value, None if now == UNSET else now)
    if engine.digests.any_exists(absent):  # type: ignore[arg-type]
        for path in absent:
            if os.path.lexists(path):  # type: ignore[arg-type]
                yield Mismatch("appeared", path)  # type: ignore[arg-type]
    for path, digest in files:
        now = engine.digests.digest_or_none(path)  # type: ignore[arg-type]
        if now != digest:
            yield Mismatch("gone" if now is None else "changed", path, digest, now)  # type: ignore[arg-type]


def _describe(entries: tuple[tuple[str, str], ...]) -> str:
    return ", ".join(f"{name}={directory}" for name, directory in entries) or "none"


def record(
    engine: Engine, call: Call, outputs: Outputs | None, result_key: str, bound: tuple[tuple[str, str], ...] | None = None,
    discover_first: bool = False,
) -> ManifestRecord | None:
    """Add a record of this compile (its dependencies, and those the
    compile reported itself in ``outputs``) to the call's manifest; the
    record, or None when the inputs cannot be captured by files. The record
    is bound to the call's base directories when its entry is (``bound``)
    or the family did not vouch for the key being relocatable.

    With ``discover_first`` (a deferred compile keyed by discovery after
    it), inputs that files cannot capture are recorded all the same, as a
    `DISCOVER_FIRST` record: it only sends a later call to discovery."""
    invocation, _parsed, context = call.ready
    assert call.manifest_key is not None and call.bases is not None and call.deps is not None
    deps, bases = call.deps, call.bases
    if bound is None and bases and not deps.relocatable:
        bound = bases.entries
    extra = outputs.dependencies if outputs is not None else None
    if not deps.manifest_ok or (extra is not None and not extra.manifest_ok):
        if not discover_first:
            context.log.debug("no manifest recorded: inputs not capturable by files")
            return None
        context.log.debug("manifest: inputs not capturable by files; later calls discover first")
        result_key = DISCOVER_FIRST
    fspath = os.fspath  # as strings: a Path hashes slowly, and a kernel unit has ~800 files, thousands absent
    files = dict.fromkeys(map(fspath, [*deps.files, *(extra.files if extra else ())]))
    absent = dict.fromkeys(map(fspath, [*deps.absent, *(extra.absent if extra else ())]))
    env_names = dict.fromkeys([*deps.env_names, *(extra.env_names if extra else ())])
    signed = context.hashed_after_compile  # what a miss hashed after its compile is not hashed again
    try:
        file_digests = tuple(
            (bases.portable_path(name), signed[name][0] if name in signed else context.hash_file(name)) for name in files
        )
    except OSError as exc:
        context.log.debug("no manifest recorded: %s", exc)
        return None
    # Hashed after the compile: only a file untouched since the call
    # started (or since `freshness.later_starts` says) is known to hold
    # what the compile read.
    changed = freshness.first_changed(files, call.started_ns, signed, freshness.later_starts(call))
    if changed is not None:
        call.delta.reason("not_cacheable", "input-changed-during-compile")
        context.log.info("no manifest recorded: %s %s", *changed)
        return None
    new = ManifestRecord(
        files=file_digests,
        absent=tuple(bases.portable_path(p) for p in absent),
        env=tuple((n, invocation.env.get(n, UNSET)) for n in env_names),
        result_key=result_key,
        bound=bound,
    )
    previous: list[ManifestRecord] = []
    found = engine.store.get(call.manifest_key)
    if found is not None:
        with contextlib.suppress(EntryError):
            previous = decode_manifest(found[0])
    records = [new] + [r for r in previous if r != new]
    engine.store.put(call.manifest_key, encode_manifest(records))
    return new
