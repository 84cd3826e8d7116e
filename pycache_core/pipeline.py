"""One compile through the cache: parse -> direct lookup -> dependencies ->
key -> lookup -> run -> collect -> store.

`Engine.compile` is the whole pipeline, in the order a reader expects; each
stage is a short method. Every fault degrades to running the compiler: a
plugin that raises, a probe that fails, a corrupt entry, a storage error --
each is counted with its cause and logged, and the build goes on.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import subprocess
import tempfile
import threading
import time
import traceback
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from . import env as names
from .api import (
    CompileResult,
    CompilerFamily,
    CompilerIdentity,
    Dependencies,
    Invocation,
    KeyComponent,
    NotCacheable,
    NotCompilation,
    Outputs,
    ParsedInvocation,
)
from .config import Config
from .context import CallContext, CallLogAdapter
from .digests import FileDigests, stat_signature
from .entry import (
    ManifestRecord,
    ResultEntry,
    StoredArtifact,
    decode_manifest,
    decode_result,
    encode_manifest,
    encode_result,
)
from .errors import EntryError, PluginError, ProbeError
from .keys import KEY_SCHEMA_VERSION, describe_value, digest_components, fingerprint_value
from .paths import Relocator, basedirs_from_env
from .plugins import PluginHost, build_host
from .stats import StatsDelta, StatsFile
from .storage.tiers import Tier, TieredStore
from .which import find_executable

log = logging.getLogger("pycache")

_SGR = re.compile(rb"\x1b\[[0-9;]*[mK]")


@dataclass(frozen=True, slots=True, kw_only=True)
class CompileRequest:
    """A wrapped call as the client saw it. ``argv[0]`` is the compiler as
    typed (a name to look up on PATH, or a path)."""

    argv: tuple[str, ...]
    cwd: str
    env: Mapping[str, str]
    stderr_is_tty: bool = False
    client_executable: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class CompileReply:
    """What the client must do: print and exit, or exec the compiler itself.

    ``execute``: the resolved compiler, when the call is not served by the
    cache and must run in the caller's own process (it keeps the caller's
    stdin, terminal and signals); ``outcome`` names what happened, for logs
    and tests ("hit", "miss", "not-cacheable", ...).
    """

    exit_code: int = 0
    stdout: bytes = b""
    stderr: bytes = b""
    execute: str | None = None
    outcome: str = ""


@dataclass
class _Call:
    """Mutable progress of one compile, so a fault knows what already happened."""

    request: CompileRequest
    delta: StatsDelta = field(default_factory=StatsDelta)
    family: str | None = None
    compiled: CompileResult | None = None
    label: str = ""


class _NoCache(Exception):
    """Internal: stop caching this call, count ``kind`` and run the compiler."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


def strip_colour(data: bytes) -> bytes:
    return _SGR.sub(b"", data)


class Engine:
    """Everything one process needs to serve compiles: plugins, storage,
    digests, identities and statistics. Thread-safe: the server calls
    `compile` from many threads at once."""

    def __init__(self, config: Config, host: PluginHost | None = None, store: TieredStore | None = None) -> None:
        self.config = config
        self.host = host or build_host(strict=config.flag(names.STRICT_PLUGINS))
        self.digests = FileDigests()
        self.stats = StatsFile(config.cache_dir)
        self.store = store or self._build_store()
        self._identities: dict[tuple, CompilerIdentity] = {}
        self._identity_lock = threading.Lock()
        self.direct_mode = config.flag(names.DIRECT_MODE)
        self._tier_lock = threading.Lock()
        self.batch_stats = False
        self._pending = StatsDelta()
        self._pending_lock = threading.Lock()
        self._tier_seen: dict[str, dict] = {}
        self._report_load_errors()

    def _build_store(self) -> TieredStore:
        tiers = []
        for kind in self.host.storage_types:
            try:
                backend = kind.create(self.config)
            except Exception as exc:
                log.error("storage backend %s could not be created: %s", kind.name, exc)
                delta = StatsDelta()
                delta.error(f"storage:{kind.name}", f"cannot create backend {kind.name}: {exc}")
                self.stats.merge(delta)
                continue
            if backend is not None:
                tiers.append(Tier(backend=backend, shared=kind.shared))
        return TieredStore.from_config(tiers, self.config)

    def _report_load_errors(self) -> None:
        for error in self.host.load_errors:
            log.error("plugin %s: %s", error.plugin, error.message)

    # --- the pipeline --------------------------------------------------------

    def compile(self, request: CompileRequest) -> CompileReply:
        call = _Call(request=request)
        call.delta.add("requests")
        try:
            reply = self._compile(call)
        except _NoCache as why:
            call.delta.error(why.kind, str(why))
            log.warning("[%s] running uncached: %s", call.label, why)
            reply = self._uncached(call)
        except Exception as exc:  # never break the build because of the cache
            kind = "plugin" if isinstance(exc, PluginError) else "internal"
            call.delta.error(kind, f"{type(exc).__name__}: {exc}")
            log.error("[%s] internal error, running uncached: %s\n%s", call.label, exc, traceback.format_exc())
            reply = self._uncached(call)
        finally:
            if call.family:  # a delta is one call: its totals are its family's
                call.delta.families[call.family] = dict(call.delta.totals)
            self.record_stats(call.delta)
        return reply

    def _resolve(self, request: CompileRequest) -> tuple[str | None, CompilerFamily | None]:
        """The real compiler the call names (never pycache itself) and the
        family serving it, chosen by the name as typed, then the target's."""
        compiler = find_executable(request.argv[0], request.env, request.cwd, [request.client_executable])
        if compiler is None:
            return None, None
        return compiler, self.host.family_for(
            os.path.basename(request.argv[0]), os.path.basename(os.path.realpath(compiler))
        )

    @staticmethod
    def _invocation(request: CompileRequest, compiler: str, family: CompilerFamily) -> Invocation:
        return Invocation(
            compiler=Path(compiler),
            invoked_as=request.argv[0],
            arguments=tuple(request.argv[1:]),
            cwd=Path(request.cwd),
            env=dict(request.env),
            family=family.name,
            stderr_is_tty=request.stderr_is_tty,
        )

    @staticmethod
    def _relocator(invocation: Invocation, parsed: ParsedInvocation) -> Relocator:
        """PYCACHE_BASEDIRS plus the family's default base directories."""
        return Relocator([*basedirs_from_env(invocation.env), *map(os.fspath, parsed.base_dirs)])

    def _compile(self, call: _Call) -> CompileReply:
        request = call.request
        compiler, family = self._resolve(request)
        call.label = " ".join(request.argv[:1])
        if compiler is None:
            # Let the caller's own exec produce the usual "not found" error.
            return CompileReply(execute=request.argv[0], outcome="not-found")
        if family is None:
            call.delta.add("unsupported")
            return CompileReply(execute=compiler, outcome="unsupported")
        call.family = family.name
        invocation = self._invocation(request, compiler, family)

        parsed = self._guard("parse", lambda: self.host.hooks.parse_arguments(invocation, family))
        if isinstance(parsed, (NotCacheable, NotCompilation)) or parsed is None:
            return self._pass_through(call, family, compiler, parsed)
        call.label = str(next(iter(parsed.outputs.values())).path) if parsed.outputs else call.label

        relocator = self._relocator(invocation, parsed)
        context = CallContext(
            digests=self.digests,
            relocator=relocator,
            log=CallLogAdapter(logging.getLogger("pycache.call"), {"call": call.label}),
            default_cwd=invocation.cwd,
            default_env=invocation.env,
        )
        try:
            context.identity = self._identity(family, invocation, context)
            return self._cached_compile(call, family, invocation, parsed, context, relocator)
        finally:
            context.close()

    def _cached_compile(
        self,
        call: _Call,
        family: CompilerFamily,
        invocation: Invocation,
        parsed: ParsedInvocation,
        context: CallContext,
        relocator: Relocator,
    ) -> CompileReply:
        started = time.monotonic()
        base = self._call_base(invocation, relocator)
        recache = names.is_true(invocation.env.get(names.RECACHE)) or self.config.flag(names.RECACHE)
        core = self._core_components(family, invocation, parsed, context)

        # 1. Direct mode: a manifest of earlier compiles of this exact call.
        direct: tuple[KeyComponent, ...] | None = None
        manifest_key = None
        if self._direct_enabled(invocation):
            answer = self._guard("direct", lambda: self.host.hooks.direct_components(invocation, parsed, context))
            if isinstance(answer, NotCacheable):
                return self._pass_through(call, family, str(invocation.compiler), answer)
            if answer is not None:
                direct = tuple(answer)
                manifest_key = _manifest_key(core + direct)
                if not recache:
                    result_key = self._match_manifest(manifest_key, invocation, relocator, context)
                    if result_key is not None:
                        reply = self._try_hit(call, result_key, parsed, invocation, base, "direct_hits", started)
                        if reply is not None:
                            return reply

        # 2. Discover dependencies (preprocessor, dep-info) and look up the result.
        deps = self._guard("dependencies", lambda: self.host.hooks.discover_dependencies(invocation, parsed, context))
        if isinstance(deps, NotCacheable) or deps is None:
            return self._pass_through(call, family, str(invocation.compiler), deps)
        extra = tuple(self._guard("extra", lambda: self.host.hooks.extra_key_components(invocation, family)))
        if deps.deferred:
            context.log.debug("dependencies deferred to the compile: no lookup")
            return self._miss(call, family, invocation, parsed, context, relocator, base, None, manifest_key, deps,
                              core + tuple(deps.components), extra)
        components = core + tuple(deps.components) + extra
        result_key = _result_key(components)
        _log_key(context, result_key, components)
        if not recache:
            reply = self._try_hit(call, result_key, parsed, invocation, base, "preprocessor_hits", started)
            if reply is not None:
                if manifest_key is not None:
                    self._record_manifest(manifest_key, deps, None, result_key, invocation, relocator, context)
                return reply

        # 3. Miss: compile, collect, store.
        self._journal(family, invocation, parsed, components, result_key)
        return self._miss(call, family, invocation, parsed, context, relocator, base, result_key, manifest_key, deps)

    def _deferred_key(
        self,
        context: CallContext,
        family: CompilerFamily,
        invocation: Invocation,
        parsed: ParsedInvocation,
        outputs: Outputs,
        known: tuple[KeyComponent, ...],
        extra: tuple[KeyComponent, ...],
        started: float,
    ) -> str | NotCacheable:
        """The key of a compile whose dependencies it reported itself."""
        reported = outputs.dependencies
        if reported is None or not reported.manifest_ok:
            return NotCacheable("dependencies-unreported", "the compile did not report its dependencies")
        for path in reported.files:
            try:
                changed = os.stat(invocation.resolve(path)).st_mtime > started
            except OSError:
                return NotCacheable("input-vanished", f"{path} is gone after the compile")
            if changed:
                # Hashed after the compile: the object may hold the older content.
                return NotCacheable("input-changed-during-compile", f"{path} changed while compiling")
        components = known + tuple(reported.components) + extra
        result_key = _result_key(components)
        _log_key(context, result_key, components)
        self._journal(family, invocation, parsed, components, result_key)
        return result_key

    # --- stages ----------------------------------------------------------------

    def _guard(self, stage: str, fn):
        """Run a plugin hook; an exception in it makes the call uncached."""
        try:
            return fn()
        except ProbeError as exc:
            raise _NoCache("probe", f"{stage}: {exc}") from exc
        except Exception as exc:
            tb = traceback.format_exc()
            log.error("plugin hook failed in %s: %s\n%s", stage, exc, tb)
            raise _NoCache(f"plugin:{stage}", f"{type(exc).__name__}: {exc}") from exc

    def _identity(self, family: CompilerFamily, invocation: Invocation, context: CallContext) -> CompilerIdentity:
        signature = (family.name, str(invocation.compiler), stat_signature(invocation.compiler),
                     stat_signature(Path(os.path.realpath(invocation.compiler))))
        with self._identity_lock:
            known = self._identities.get(signature)
        if known is not None:
            return known
        identity = self._guard("probe", lambda: self.host.hooks.probe_compiler(family, invocation.compiler, invocation.env, context))
        if identity is None:
            raise _NoCache("probe", f"no plugin could identify {invocation.compiler}")
        with self._identity_lock:
            self._identities[signature] = identity
        return identity

    def _core_components(
        self, family: CompilerFamily, invocation: Invocation, parsed: ParsedInvocation, context: CallContext
    ) -> tuple[KeyComponent, ...]:
        assert context.identity is not None
        return (
            KeyComponent("core:schema", str(KEY_SCHEMA_VERSION)),
            KeyComponent("family", family.name),
            KeyComponent("family:cache-version", family.cache_version),
            KeyComponent("compiler", context.identity.fingerprint),
            KeyComponent("language", parsed.language),
            KeyComponent("arguments", tuple(parsed.key_arguments)),
            KeyComponent("outputs", tuple(sorted(parsed.outputs))),
        )

    @staticmethod
    def _call_base(invocation: Invocation, relocator: Relocator) -> str | None:
        """The base directory holding the call's cwd: the one that stored
        texts (dependency files, diagnostics) are made portable against."""
        return relocator.base_of(invocation.cwd)

    def _direct_enabled(self, invocation: Invocation) -> bool:
        value = invocation.env.get(names.DIRECT_MODE)
        return self.direct_mode if value is None else names.is_true(value)

    def _match_manifest(
        self, manifest_key: str, invocation: Invocation, relocator: Relocator, context: CallContext
    ) -> str | None:
        found = self.store.get(manifest_key)
        if found is None:
            return None
        try:
            records = decode_manifest(found[0])
        except EntryError as exc:
            context.log.warning("manifest %s unreadable (%s); removed", manifest_key, exc)
            self.store.remove(manifest_key, found[1])
            return None
        base = self._call_base(invocation, relocator)
        for record in records:
            if self._record_holds(record, invocation, relocator, base):
                context.log.debug("manifest %s: record holds -> %s", manifest_key, record.result_key)
                return record.result_key
        context.log.debug("manifest %s: none of %d records holds", manifest_key, len(records))
        return None

    def _record_holds(self, record: ManifestRecord, invocation: Invocation, relocator: Relocator, base: str | None) -> bool:
        for name, value in record.env:
            if invocation.env.get(name, "\0unset") != value:
                return False
        if self.digests.any_exists(relocator.restore_text(portable, base) for portable in record.absent):
            return False
        for portable, digest in record.files:
            path = relocator.restore_text(portable, base)
            if self.digests.digest_or_none(path) != digest:
                return False
        return True

    def _record_manifest(
        self,
        manifest_key: str,
        deps: Dependencies,
        outputs: Outputs | None,
        result_key: str,
        invocation: Invocation,
        relocator: Relocator,
        context: CallContext,
    ) -> None:
        extra = outputs.dependencies if outputs is not None else None
        if not deps.manifest_ok or (extra is not None and not extra.manifest_ok):
            context.log.debug("no manifest recorded: inputs not capturable by files")
            return
        files = dict.fromkeys([*deps.files, *(extra.files if extra else ())])
        absent = dict.fromkeys([*deps.absent, *(extra.absent if extra else ())])
        env_names = dict.fromkeys([*deps.env_names, *(extra.env_names if extra else ())])
        try:
            file_digests = tuple((relocator.portable_path(os.fspath(p)), context.hash_file(Path(p))) for p in files)
        except OSError as exc:
            context.log.debug("no manifest recorded: %s", exc)
            return
        record = ManifestRecord(
            files=file_digests,
            absent=tuple(relocator.portable_path(os.fspath(p)) for p in absent),
            env=tuple((n, invocation.env.get(n, "\0unset")) for n in env_names),
            result_key=result_key,
        )
        previous: list[ManifestRecord] = []
        found = self.store.get(manifest_key)
        if found is not None:
            with contextlib.suppress(EntryError):
                previous = decode_manifest(found[0])
        records = [record] + [r for r in previous if r != record]
        self.store.put(manifest_key, encode_manifest(records))

    def _try_hit(
        self,
        call: _Call,
        result_key: str,
        parsed: ParsedInvocation,
        invocation: Invocation,
        base: str | None,
        counter: str,
        started: float,
    ) -> CompileReply | None:
        found = self.store.get(result_key)
        if found is None:
            return None
        data, tier = found
        try:
            entry = decode_result(data)
        except EntryError as exc:
            call.delta.error("corrupt-entry", f"{result_key} in {tier}: {exc}")
            log.warning("[%s] corrupt entry %s in %s removed: %s", call.label, result_key, tier, exc)
            self.store.remove(result_key, tier)
            return None
        if entry.relocated and base is None:
            # Stored relative to a base directory; this call has none to put back.
            log.debug("[%s] entry %s is relocated but the call has no base directory", call.label, result_key)
            return None
        if not self._restore(entry, parsed, invocation, base, call):
            return None
        call.delta.add("hits")
        call.delta.add(counter)
        call.delta.add("seconds_saved", entry.compile_seconds)
        call.delta.add("bytes_read", len(data))
        call.delta.tier(tier, {"hits_served": 1})
        log.info("[%s] hit (%s, %s) in %.1f ms", call.label, counter, tier, (time.monotonic() - started) * 1000)
        relocator_base = base if entry.relocated else None
        stdout = _restore_bytes(entry.stdout, relocator_base)
        stderr = _restore_bytes(entry.stderr, relocator_base)
        if entry.colour_diagnostics and not invocation.stderr_is_tty:
            stderr = strip_colour(stderr)
        return CompileReply(exit_code=entry.exit_code, stdout=stdout, stderr=stderr, outcome="hit")

    def _restore(
        self, entry: ResultEntry, parsed: ParsedInvocation, invocation: Invocation, base: str | None, call: _Call
    ) -> bool:
        """Write the entry's artifacts to the current call's output slots.

        Only slots of the current call are written, each through a temporary
        file renamed into place, so a failed restore leaves no half file.
        """
        stored_roles = {a.role for a in entry.artifacts}
        unknown = stored_roles - set(parsed.outputs)
        missing = {role for role, slot in parsed.outputs.items() if slot.required} - stored_roles
        if unknown or missing:
            call.delta.error(
                "entry-mismatch",
                f"entry roles {sorted(stored_roles)} do not fit the call's outputs {sorted(parsed.outputs)}",
            )
            return False
        for artifact in entry.artifacts:
            target = invocation.resolve(parsed.outputs[artifact.role].path)
            if os.path.lexists(target) and not os.path.isfile(target):
                # Never replace a device, directory or dangling link by a file.
                call.delta.error("restore", f"{target} exists and is not a regular file")
                return False
        written: list[str] = []
        try:
            for artifact in entry.artifacts:
                target = invocation.resolve(parsed.outputs[artifact.role].path)
                data = artifact.data
                if artifact.relocatable and entry.relocated:
                    data = _restore_bytes(data, base)
                _atomic_write(target, data, artifact.mode)
                written.append(os.fspath(target))
        except OSError as exc:
            call.delta.error("restore", f"cannot write {exc.filename}: {exc.strerror}")
            for path in written:
                with contextlib.suppress(OSError):
                    os.unlink(path)
            return False
        return True

    def _run_compiler(self, invocation: Invocation, parsed: ParsedInvocation | None) -> CompileResult:
        arguments = parsed.run_arguments if parsed is not None and parsed.run_arguments is not None else invocation.arguments
        env = parsed.run_environment if parsed is not None and parsed.run_environment is not None else invocation.env
        started = time.monotonic()
        proc = subprocess.run(
            [str(invocation.compiler), *arguments],
            cwd=invocation.cwd,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            check=False,
        )
        return CompileResult(
            exit_code=proc.returncode, stdout=proc.stdout, stderr=proc.stderr, duration=time.monotonic() - started
        )

    def _miss(
        self,
        call: _Call,
        family: CompilerFamily,
        invocation: Invocation,
        parsed: ParsedInvocation,
        context: CallContext,
        relocator: Relocator,
        base: str | None,
        result_key: str | None,
        manifest_key: str | None,
        deps: Dependencies,
        known: tuple[KeyComponent, ...] = (),
        extra: tuple[KeyComponent, ...] = (),
    ) -> CompileReply:
        """Compile, then store the result. ``result_key`` None: dependencies
        were deferred, the key is made from ``known`` + what the compile
        reported + ``extra``."""
        started = time.time()
        result = self._run_compiler(invocation, parsed)
        call.compiled = result
        stderr = result.stderr
        if parsed.colour_diagnostics and not invocation.stderr_is_tty:
            stderr = strip_colour(stderr)
        reply = CompileReply(exit_code=result.exit_code, stdout=result.stdout, stderr=stderr, outcome="miss")
        if result.exit_code != 0:
            call.delta.add("compile_failed")
            return CompileReply(exit_code=result.exit_code, stdout=result.stdout, stderr=stderr, outcome="compile-failed")
        call.delta.add("misses")
        call.delta.add("seconds_compiling", result.duration)

        outputs = self._guard("outputs", lambda: self.host.hooks.collect_outputs(invocation, parsed, result, context))
        if isinstance(outputs, NotCacheable) or outputs is None:
            reason = outputs.reason if outputs is not None else "no-outputs"
            call.delta.reason("not_cacheable", reason)
            context.log.info("compiled but not stored: %s", outputs.detail if outputs is not None else reason)
            return reply
        if result_key is None:
            deferred = self._deferred_key(context, family, invocation, parsed, outputs, known, extra, started)
            if isinstance(deferred, NotCacheable):
                call.delta.reason("not_cacheable", deferred.reason)
                context.log.info("compiled but not stored: %s", deferred.detail)
                return reply
            result_key = deferred
        try:
            artifacts = tuple(self._read_artifact(a, invocation, base) for a in outputs.artifacts)
        except OSError as exc:
            call.delta.reason("not_cacheable", "output-unreadable")
            context.log.warning("cannot read output %s: %s", exc.filename, exc.strerror)
            return reply
        entry = ResultEntry(
            family=family.name,
            exit_code=result.exit_code,
            stdout=_portable_bytes(result.stdout, base),
            stderr=_portable_bytes(result.stderr, base),
            artifacts=artifacts,
            compile_seconds=result.duration,
            colour_diagnostics=parsed.colour_diagnostics,
            relocated=base is not None,
            created=time.time(),
        )
        data = encode_result(entry)
        self.store.put(result_key, data)
        call.delta.add("bytes_written", len(data))
        if manifest_key is not None:
            self._record_manifest(manifest_key, deps, outputs, result_key, invocation, relocator, context)
        context.log.info("miss: compiled in %.1f ms, stored %d bytes as %s", result.duration * 1000, len(data), result_key)
        return reply

    @staticmethod
    def _read_artifact(artifact, invocation: Invocation, base: str | None) -> StoredArtifact:
        path = invocation.resolve(artifact.path)
        data = path.read_bytes()
        if artifact.relocatable:
            data = _portable_bytes(data, base)
        return StoredArtifact(
            role=artifact.role, data=data, mode=path.stat().st_mode & 0o777, relocatable=artifact.relocatable
        )

    def _pass_through(self, call: _Call, family: CompilerFamily, compiler: str, outcome) -> CompileReply:
        if isinstance(outcome, NotCompilation):
            call.delta.add("not_compilation")
            call.delta.reason("not_compilation", outcome.reason)
            kind = "not-compilation"
        else:
            reason = outcome.reason if isinstance(outcome, NotCacheable) else "unparsed"
            call.delta.add("not_cacheable")
            call.delta.reason("not_cacheable", reason)
            kind = "not-cacheable"
        log.info("[%s] %s: %s", call.label, kind, getattr(outcome, "detail", "") or getattr(outcome, "reason", ""))
        return CompileReply(execute=compiler, outcome=kind)

    def _uncached(self, call: _Call) -> CompileReply:
        """After a fault: hand back the compile's result if it already ran,
        otherwise let the caller run the compiler itself."""
        if call.compiled is not None:
            return CompileReply(
                exit_code=call.compiled.exit_code, stdout=call.compiled.stdout, stderr=call.compiled.stderr, outcome="error"
            )
        request = call.request
        compiler = find_executable(request.argv[0], request.env, request.cwd, [request.client_executable])
        return CompileReply(execute=compiler or request.argv[0], outcome="error")

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

    def record_stats(self, delta: StatsDelta) -> None:
        """Count one call. A batching engine (the server) keeps the counts in
        memory until `flush_stats`, so no hit waits for the stats file."""
        if self.batch_stats:
            with self._pending_lock:
                self._pending.absorb(delta)
            return
        self._write_stats(delta)

    def flush_stats(self) -> None:
        with self._pending_lock:
            pending, self._pending = self._pending, StatsDelta()
        self._write_stats(pending)

    def _write_stats(self, delta: StatsDelta) -> None:
        try:
            self._add_tier_changes(delta)
            self.stats.merge(delta)
        except Exception as exc:  # stats are never worth a failed build
            log.warning("cannot write statistics to %s: %s", self.stats.path, exc)

    # --- explain -----------------------------------------------------------

    def _journal_path(self, family: CompilerFamily, invocation: Invocation, parsed: ParsedInvocation) -> Path:
        from .keys import digest_bytes

        site = "\0".join([family.name, str(invocation.cwd), *sorted(str(s.path) for s in parsed.outputs.values())])
        return self.config.cache_dir / "explain" / f"{digest_bytes(site.encode('utf-8', 'surrogateescape'))[:32]}.json"

    def _journal(
        self,
        family: CompilerFamily,
        invocation: Invocation,
        parsed: ParsedInvocation,
        components: Sequence[KeyComponent],
        result_key: str,
    ) -> None:
        """Remember the components of the last miss at this call site, so
        `pycache explain` can say what changed."""
        import json

        path = self._journal_path(family, invocation, parsed)
        record = {
            "result_key": result_key,
            "components": [[c.name, fingerprint_value(c.value), describe_value(c.value)] for c in components],
        }
        with contextlib.suppress(OSError):
            path.parent.mkdir(parents=True, exist_ok=True)
            _atomic_write(path, json.dumps(record).encode(), 0o644)

    def explain(self, request: CompileRequest) -> dict:
        """What the key of a call is made of, whether it would hit, and for a
        miss which components differ from the last miss at the same call site."""
        import json

        compiler, family = self._resolve(request)
        if compiler is None:
            return {"status": "not-found", "detail": f"{request.argv[0]}: not found on PATH"}
        if family is None:
            return {"status": "unsupported", "detail": f"no plugin claims {compiler}"}
        invocation = self._invocation(request, compiler, family)
        parsed = self.host.hooks.parse_arguments(invocation, family)
        if not isinstance(parsed, ParsedInvocation):
            return {"status": type(parsed).__name__ if parsed else "unparsed", "family": family.name,
                    "reason": getattr(parsed, "reason", ""), "detail": getattr(parsed, "detail", "")}
        relocator = self._relocator(invocation, parsed)
        context = CallContext(digests=self.digests, relocator=relocator,
                              default_cwd=invocation.cwd, default_env=invocation.env)
        try:
            context.identity = self.host.hooks.probe_compiler(family, invocation.compiler, invocation.env, context)
            core = self._core_components(family, invocation, parsed, context)
            direct = self.host.hooks.direct_components(invocation, parsed, context) if self._direct_enabled(invocation) else None
            direct_hit = None
            if isinstance(direct, tuple):
                manifest_key = _manifest_key(core + direct)
                direct_hit = self._match_manifest(manifest_key, invocation, relocator, context)
            deps = self.host.hooks.discover_dependencies(invocation, parsed, context)
            if not isinstance(deps, Dependencies):
                return {"status": "not-cacheable", "family": family.name, "reason": getattr(deps, "reason", ""),
                        "detail": getattr(deps, "detail", "")}
            report = {
                "family": family.name,
                "direct_hit": direct_hit is not None,
                "direct_components": [[c.name, describe_value(c.value)] for c in direct] if isinstance(direct, tuple) else None,
                "ignored_arguments": list(parsed.ignored_arguments),
                "differences": [],
            }
            if deps.deferred:
                components = core + tuple(deps.components)
                report.update(
                    status="hit" if direct_hit else "miss",
                    key=direct_hit or "",
                    components=[[c.name, describe_value(c.value)] for c in components],
                    detail="the rest of the key comes from the compile's own dependency list",
                )
                return report
            extra = self.host.hooks.extra_key_components(invocation, family)
            components = core + tuple(deps.components) + tuple(extra)
            result_key = _result_key(components)
            found = self.store.get(result_key)
            report.update(
                status="hit" if found else "miss",
                key=result_key,
                components=[[c.name, describe_value(c.value)] for c in components],
            )
            if not found:
                try:
                    earlier = json.loads(self._journal_path(family, invocation, parsed).read_text())
                except (OSError, ValueError):
                    earlier = None
                if earlier is not None:
                    before = {name: (fp, text) for name, fp, text in earlier["components"]}
                    now = {c.name: (fingerprint_value(c.value), describe_value(c.value)) for c in components}
                    for name in sorted(set(before) | set(now)):
                        if before.get(name, (None,))[0] != now.get(name, (None,))[0]:
                            report["differences"].append(
                                [name, before.get(name, (None, "<absent>"))[1], now.get(name, (None, "<absent>"))[1]]
                            )
                    report["compared_with"] = earlier["result_key"]
            return report
        finally:
            context.close()


def _shard(digest: str) -> str:
    return f"{digest[:2]}/{digest}"


def _result_key(components: Sequence[KeyComponent]) -> str:
    return "entries/" + _shard(digest_components(components, purpose="result"))


def _manifest_key(components: Sequence[KeyComponent]) -> str:
    return "manifests/" + _shard(digest_components(components, purpose="manifest"))


def _log_key(context: CallContext, key: str, components: Sequence[KeyComponent]) -> None:
    """At debug level, what was hashed: so a user can find why a call missed."""
    context.log.debug("key %s from %d components", key, len(components))
    for component in components:
        context.log.debug("  %s = %s", component.name, describe_value(component.value))


def _portable_bytes(data: bytes, base: str | None) -> bytes:
    """Replace the call's base directory in stored text by the placeholder.

    Only the call's own base: another base directory has no counterpart to
    put back on restore, so its paths stay as they are."""
    if base is None or not data:
        return data
    from .paths import PLACEHOLDER

    return data.replace(os.fsencode(base) + os.sep.encode(), PLACEHOLDER.encode() + os.sep.encode())


def _restore_bytes(data: bytes, base: str | None) -> bytes:
    if base is None or not data:
        return data
    from .paths import PLACEHOLDER

    return data.replace(PLACEHOLDER.encode(), os.fsencode(base))


def _atomic_write(target: Path, data: bytes, mode: int) -> None:
    target = Path(target)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".pycache-tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, mode & ~_umask())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


_UMASK: int | None = None


def _umask() -> int:
    global _UMASK
    if _UMASK is None:
        current = os.umask(0)
        os.umask(current)
        _UMASK = current
    return _UMASK
