"""Step results: the service behind `PluginContext.lookup_step` and
`PluginContext.store_step`.

A family that compiles a miss in steps of its own (`pycache_run_compile`)
may reuse some of them across calls -- nvcc's device code of one GPU
architecture, unchanged while another is added. The plugin describes a
step's inputs as key components, as for any key; this module puts the
core's own first (key schema, family, its cache version, the step's name),
hashes them into ``steps/<2 hex>/<digest>``, and keeps the result in the
same storage tiers as whole results, in the same entry format (each file
an artifact under the plugin's name for it). Every lookup counts a hit or a
miss of the step in the family's step breakdown; the call itself is one
miss in the totals whatever its steps did. ``PYCACHE_RECACHE`` finds no
step either: everything is compiled again and stored anew.

The processes of such a compile run here too (`PluginContext.run_compile_step`),
as the core runs a compiler (`pycache_core.pipeline.run.run_step`): when
the client goes away the running step's process group is terminated, no
further step starts, and no step result is stored afterwards.
"""

from __future__ import annotations

import logging
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ..api import KeyComponent, StepResult
from ..entry import ResultEntry, StoredArtifact, decode_result, encode_result
from ..errors import EntryError
from ..keys import KEY_SCHEMA_VERSION, step_key
from .run import run_step

if TYPE_CHECKING:
    from ..storage.tiers import TieredStore
    from .call import Call

log = logging.getLogger("pycache")


class CallSteps:
    """The steps of one call's compile: their stored results and their
    processes (`pycache_core.context.StepStore`)."""

    def __init__(self, store: TieredStore, call: Call) -> None:
        assert call.family is not None
        self._store = store
        self._call = call
        self._family = call.family
        self._delta = call.delta

    def _key(self, step: str, components: Sequence[KeyComponent]) -> str:
        return step_key((
            KeyComponent("core:schema", str(KEY_SCHEMA_VERSION)),
            KeyComponent("family", self._family.name),
            KeyComponent("family:cache-version", self._family.cache_version),
            KeyComponent("step", step),
            *components,
        ))

    def lookup(self, step: str, components: Sequence[KeyComponent]) -> StepResult | None:
        key = self._key(step, components)
        found = None if self._call.recache else self._store.get(key)
        if found is not None:
            data, tier = found
            try:
                entry = decode_result(data)
            except EntryError as exc:
                self._delta.error("corrupt-entry", f"{key} in {tier}: {exc}")
                log.warning("corrupt step entry %s in %s removed: %s", key, tier, exc)
                self._store.remove(key, tier)
            else:
                self._count(step, "hits")
                self._count(step, "bytes_read", len(data))
                return StepResult(files={a.role: a.data for a in entry.artifacts}, stdout=entry.stdout, stderr=entry.stderr)
        self._count(step, "misses")
        return None

    def run(self, argv: Sequence[str], cwd: Path, env: Mapping[str, str]) -> subprocess.CompletedProcess[bytes]:
        return run_step(self._call, argv, cwd, env)

    def store(self, step: str, components: Sequence[KeyComponent], result: StepResult) -> None:
        if self._call.client_gone():  # an interrupted build's compile stores nothing, steps included
            log.info("[%s] %s step not stored: the client went away", self._call.label, step)
            return
        entry = ResultEntry(
            family=self._family.name,
            exit_code=0,
            stdout=result.stdout,
            stderr=result.stderr,
            artifacts=tuple(StoredArtifact(role=name, data=data) for name, data in result.files.items()),
            compile_seconds=0.0,
            created=time.time(),
            metadata={"step": step},
        )
        data = encode_result(entry)
        self._store.put(self._key(step, components), data)
        self._count(step, "stored")
        self._count(step, "bytes_written", len(data))

    def _count(self, step: str, counter: str, amount: float = 1) -> None:
        self._delta.step(self._family.name, step, counter, amount)
