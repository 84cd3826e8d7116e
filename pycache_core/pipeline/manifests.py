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
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..api import Outputs
from ..entry import ManifestRecord, decode_manifest, encode_manifest
from ..errors import EntryError
from ..paths import Relocator
from .call import Call

if TYPE_CHECKING:
    from .engine import Engine


UNSET = "\0unset"  # a variable's recorded value when it was not set


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


def load(engine: Engine, call: Call) -> list[ManifestRecord]:
    """The records of the call's manifest, newest first (a corrupt manifest
    is removed and counts as none)."""
    _invocation, _parsed, context = call.ready
    assert call.manifest_key is not None
    found = engine.store.get(call.manifest_key)
    if found is None:
        return []
    try:
        return decode_manifest(found[0])
    except EntryError as exc:
        context.log.warning("manifest %s unreadable (%s); removed", call.manifest_key, exc)
        engine.store.remove(call.manifest_key, found[1])
        return []


def match(engine: Engine, call: Call) -> str | None:
    """The result key of the first record of the call's manifest that holds."""
    invocation, _parsed, context = call.ready
    assert call.relocator is not None
    records = load(engine, call)
    for record in records:
        if record_holds(engine, record, invocation.env, call.relocator, call.base):
            context.log.debug("manifest %s: record holds -> %s", call.manifest_key, record.result_key)
            return record.result_key
    if records:
        context.log.debug("manifest %s: none of %d records holds", call.manifest_key, len(records))
    return None


def record_holds(engine: Engine, record: ManifestRecord, env: Mapping[str, str], relocator: Relocator, base: str | None) -> bool:
    """Every variable has its recorded value, no must-be-absent path
    exists, every file has its recorded digest (in the call's base)."""
    for _ in mismatches(engine, record, env, relocator, base):
        return False
    return True


def mismatches(
    engine: Engine, record: ManifestRecord, env: Mapping[str, str], relocator: Relocator, base: str | None
) -> Iterator[Mismatch]:
    """Every way ``record`` fails to hold now, cheapest checks first; lazy,
    so `record_holds` stops at the first."""
    for name, value in record.env:
        now = env.get(name, UNSET)
        if now != value:
            yield Mismatch("env", name, None if value == UNSET else value, None if now == UNSET else now)
    if engine.digests.any_exists(relocator.restore_text(portable, base) for portable in record.absent):
        for portable in record.absent:
            path = relocator.restore_text(portable, base)
            if os.path.lexists(path):
                yield Mismatch("appeared", path)
    for portable, digest in record.files:
        path = relocator.restore_text(portable, base)
        now = engine.digests.digest_or_none(path)
        if now != digest:
            yield Mismatch("gone" if now is None else "changed", path, digest, now)


def record(engine: Engine, call: Call, outputs: Outputs | None, result_key: str) -> ManifestRecord | None:
    """Add a record of this compile (its dependencies, and those the
    compile reported itself in ``outputs``) to the call's manifest; the
    record, or None when the inputs cannot be captured by files."""
    invocation, _parsed, context = call.ready
    assert call.manifest_key is not None and call.relocator is not None and call.deps is not None
    deps, relocator = call.deps, call.relocator
    extra = outputs.dependencies if outputs is not None else None
    if not deps.manifest_ok or (extra is not None and not extra.manifest_ok):
        context.log.debug("no manifest recorded: inputs not capturable by files")
        return None
    files = dict.fromkeys([*deps.files, *(extra.files if extra else ())])
    absent = dict.fromkeys([*deps.absent, *(extra.absent if extra else ())])
    env_names = dict.fromkeys([*deps.env_names, *(extra.env_names if extra else ())])
    try:
        file_digests = tuple((relocator.portable_path(os.fspath(p)), context.hash_file(Path(p))) for p in files)
    except OSError as exc:
        context.log.debug("no manifest recorded: %s", exc)
        return None
    new = ManifestRecord(
        files=file_digests,
        absent=tuple(relocator.portable_path(os.fspath(p)) for p in absent),
        env=tuple((n, invocation.env.get(n, UNSET)) for n in env_names),
        result_key=result_key,
    )
    previous: list[ManifestRecord] = []
    found = engine.store.get(call.manifest_key)
    if found is not None:
        with contextlib.suppress(EntryError):
            previous = decode_manifest(found[0])
    records = [new] + [r for r in previous if r != new]
    engine.store.put(call.manifest_key, encode_manifest(records))
    return new
