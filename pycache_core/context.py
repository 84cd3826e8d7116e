"""`CallContext`: the core services one compile lends to plugin hooks."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Protocol

from . import spawning
from .api import CompilerIdentity, KeyComponent, StepResult
from .digests import FileDigests, Signature
from .keys import digest_bytes
from .lookup_lock import LOOKUP_LOCK
from .paths import BaseDirectories
from .relocation import names_base


class CallLogAdapter(logging.LoggerAdapter):
    """Prefixes every record with the call's label (its output path), so a
    debug log reads as a timeline of one compile."""

    def process(self, msg, kwargs):
        return f"[{self.extra['call']}] {msg}", kwargs


class StepStore(Protocol):
    """Where a call's step results go, and how its compile's processes run
    (`pycache_core.pipeline.steps`)."""

    def lookup(self, step: str, components: Sequence[KeyComponent]) -> StepResult | None: ...

    def run(self, argv: Sequence[str], cwd: Path, env: Mapping[str, str]) -> subprocess.CompletedProcess[bytes]: ...

    def store(self, step: str, components: Sequence[KeyComponent], result: StepResult) -> None: ...


class CallContext:
    """Implements `pycache_core.api.PluginContext` for one call. Without a
    ``steps`` store (a plugin's unit tests), step lookups find nothing,
    stores are dropped and compile steps run as `run` runs helpers."""

    def __init__(
        self,
        *,
        digests: FileDigests,
        bases: BaseDirectories,
        scratch_dir: Path | None = None,
        log: logging.Logger | logging.LoggerAdapter | None = None,
        identity: CompilerIdentity | None = None,
        default_cwd: Path | None = None,
        default_env: Mapping[str, str] | None = None,
        steps: StepStore | None = None,
    ) -> None:
        self.identity = identity
        #: the call may be keyed from its compile's own dependency list (see `PluginContext.depend_mode`)
        self.depend_mode = False
        #: the compile goes through PYCACHE_PREFIX_COMMAND (see `PluginContext.compiled_elsewhere`)
        self.compiled_elsewhere = False
        self._steps = steps
        self.log = log or logging.getLogger("pycache.call")
        self._scratch_dir = scratch_dir
        self._owns_scratch_dir = False
        self._digests = digests
        self.bases = bases
        self._default_cwd = default_cwd
        self._default_env = default_env
        self.helper_seconds = 0.0
        #: every file hashed for this call, in order: what its key and
        #: manifest vouch for (checked unchanged before anything is stored)
        self.hashed_files: dict[str, None] = {}  # as strings: a kernel unit hashes ~800 headers
        #: set by the core once the compile has ended: from then on a file
        #: hashed is kept in `hashed_after_compile`
        self.compile_ended = False
        #: files hashed after the compile, each with its digest and the stat
        #: signature of the content digested: whether the compile read that
        #: content, and what a manifest records, follow from it without
        #: another stat or digest lookup (`pycache_core.pipeline.freshness`)
        self.hashed_after_compile: dict[str, tuple[str, Signature]] = {}
        #: files hashed before the compile, with the digest the key took:
        #: `pycache_core.pipeline.freshness.settle` reads a just-written one again
        self.hashed_before_compile: dict[str, str] = {}

    @property
    def scratch_dir(self) -> Path:
        """A private temporary directory for this call, made on first use
        (most hits never need one) and removed by `close`."""
        if self._scratch_dir is None:
            self._scratch_dir = Path(tempfile.mkdtemp(prefix="pycache-"))
            self._owns_scratch_dir = True
        return self._scratch_dir

    def close(self) -> None:
        if self._owns_scratch_dir and self._scratch_dir is not None:
            shutil.rmtree(self._scratch_dir, ignore_errors=True)
            self._scratch_dir = None
            self._owns_scratch_dir = False

    def hash_file(self, path: Path | str) -> str:
        digest, signed = self._digests.signed_digest(path)
        name = os.fspath(path)
        self.hashed_files[name] = None
        if not self.compile_ended:
            self.hashed_before_compile[name] = digest
            return digest
        if signed is not None:
            self.hashed_after_compile[name] = (digest, signed)
        else:
            self.hashed_after_compile.pop(name, None)  # written while read: stat it again
        return digest

    def hash_directory(self, path: Path) -> str | None:
        return self._digests.listing_digest(path)

    def existing(self, paths: Iterable[str]) -> set[str]:
        return self._digests.existing(paths)

    def hash_bytes(self, data: bytes) -> str:
        return digest_bytes(data)

    def run(
        self,
        argv: Sequence[str],
        *,
        cwd: Path | None = None,
        env: Mapping[str, str] | None = None,
        stdin: bytes | None = None,
    ) -> subprocess.CompletedProcess[bytes]:
        started = time.monotonic()
        try:
            with LOOKUP_LOCK.waiting():  # other calls look up while a helper runs
                return spawning.run(
                    argv,
                    cwd=os.fspath(cwd or self._default_cwd or os.getcwd()),
                    env=dict(env if env is not None else (self._default_env or os.environ)),
                    input=stdin,
                )
        finally:
            elapsed = time.monotonic() - started
            self.helper_seconds += elapsed
            self.log.debug("ran %s in %.1f ms", argv[0], elapsed * 1000)

    def run_compile_step(
        self, argv: Sequence[str], *, cwd: Path | None = None, env: Mapping[str, str] | None = None
    ) -> subprocess.CompletedProcess[bytes]:
        if self._steps is None:
            return self.run(argv, cwd=cwd, env=env)
        return self._steps.run(
            list(argv),
            Path(cwd or self._default_cwd or os.getcwd()),
            dict(env if env is not None else (self._default_env or os.environ)),
        )

    def portable_path(self, path: str | Path) -> str:
        return self.bases.portable_path(path)

    def names_base_directory(self, data: bytes) -> str | None:
        return names_base(data, (directory for _, directory in self.bases.entries))

    def lookup_step(self, step: str, components: Sequence[KeyComponent]) -> StepResult | None:
        return self._steps.lookup(step, components) if self._steps is not None else None

    def store_step(self, step: str, components: Sequence[KeyComponent], result: StepResult) -> None:
        if self._steps is not None:
            self._steps.store(step, components, result)
