"""One compile through the cache, in the order a reader expects:

    resolve -> parse -> open -> direct lookup -> dependencies -> key ->
    lookup -> run -> collect -> store

`compile_request` is the whole of it: the stages that name the call come
from `stages` (shared with ``explain``), lookups and stores from
`manifests`, `restore` and the engine's store, the compile from `run`.
Every fault degrades to running the compiler: a plugin that raises, a probe
that fails, a corrupt entry, a storage error -- each is counted with its
cause and logged, and the build goes on.
"""

from __future__ import annotations

import logging
import os
import time
import traceback
from typing import TYPE_CHECKING

from .. import env as names
from ..api import NotCacheable, NotCompilation, Outputs, ParsedInvocation
from ..entry import ResultEntry, decode_result, encode_result
from ..errors import EntryError, PluginError
from ..keys import result_key as key_of
from ..lookup_lock import LOOKUP_LOCK
from ..which import find_executable
from . import freshness, journal, manifests, stages
from .call import Call, Cancelled, CompileReply, CompileRequest, NoCache, guard
from .restore import fits, replayed_streams, restore, stored_entry, strip_colour
from .run import run_compiler

if TYPE_CHECKING:
    from .engine import Engine

log = logging.getLogger("pycache")


def compile_request(engine: Engine, request: CompileRequest) -> CompileReply:
    """Serve one wrapped call; never raises, every call is counted once."""
    call = Call(request=request)
    call.delta.add("requests")
    try:
        reply = _compile(engine, call)
    except Cancelled as why:
        # The build was interrupted: its client waits for nothing, and
        # nothing more is written for it (no output, entry or manifest).
        call.delta.outcome("cancelled")  # not a miss, even when its compile had finished
        log.warning("[%s] cancelled: %s", call.label, why)
        reply = CompileReply(exit_code=1, outcome="cancelled")
    except NoCache as why:
        call.delta.outcome("call_errors")
        call.delta.error(why.kind, str(why))
        log.warning("[%s] running uncached: %s", call.label, why)
        reply = _uncached(call)
    except Exception as exc:  # never break the build because of the cache
        kind = "plugin" if isinstance(exc, PluginError) else "internal"
        call.delta.outcome("call_errors")
        call.delta.error(kind, f"{type(exc).__name__}: {exc}")
        log.error("[%s] internal error, running uncached: %s\n%s", call.label, exc, traceback.format_exc())
        reply = _uncached(call)
    finally:
        if call.family is not None:  # a delta is one call: its totals are its family's
            call.delta.families[call.family.name] = dict(call.delta.totals)
        engine.accounting.record(call.delta)
    return reply


def _compile(engine: Engine, call: Call) -> CompileReply:
    # One call at a time up to its hit, or to what it must wait for (`LookupLock`).
    with LOOKUP_LOCK.held():
        return _look_up(engine, call)


def _look_up(engine: Engine, call: Call) -> CompileReply:
    request = call.request
    stages.resolve(engine, call)
    if call.compiler is None:
        # Let the caller's own exec produce the usual "not found" error.
        call.delta.outcome("not_found")
        call.delta.compiler("not_found", os.path.basename(request.argv[0]))
        return CompileReply(execute=request.argv[0], outcome="not-found")
    if call.family is None:
        call.delta.outcome("unsupported")
        call.delta.compiler("unsupported", os.path.basename(request.argv[0]))
        return CompileReply(execute=call.compiler, outcome="unsupported")
    parsed = stages.parse(engine, call)
    if not isinstance(parsed, ParsedInvocation):
        return _pass_through(call, parsed)
    with stages.opened(engine, call):
        return _cached_compile(engine, call)


def _cached_compile(engine: Engine, call: Call) -> CompileReply:
    invocation = call.invocation
    assert invocation is not None
    call.recache = names.is_true(invocation.env.get(names.RECACHE)) or engine.config.flag(names.RECACHE)

    # 1. Direct mode: a manifest of earlier compiles of this exact call.
    stop = stages.direct(engine, call)
    if stop is not None:
        return _pass_through(call, stop)
    tried = None  # the result key direct mode looked up and could not serve
    if call.manifest_key is not None and not call.recache:
        tried = manifests.match(engine, call)
        if tried == manifests.DISCOVER_FIRST:
            call.ready[2].depend_mode = False
            call.ready[2].log.debug("an earlier compile asked to be discovered first: depend mode off")
            tried = None
        elif tried is not None:
            reply = _try_hit(engine, call, tried, "direct_hits")
            if reply is not None:
                return reply

    # 2. Discover dependencies (preprocessor, dep-info) and look up the result.
    LOOKUP_LOCK.leave()  # from here on a call waits on the compiler: others look up meanwhile
    deps = stages.dependencies(engine, call)
    if deps is None or isinstance(deps, NotCacheable):
        return _pass_through(call, deps)
    if call.result_key is None:  # deferred: the compile reports the rest of the key
        return _miss(engine, call)
    if not call.recache and call.result_key != tried:  # the same entry would fail the same way
        reply = _try_hit(engine, call, call.result_key, "preprocessor_hits")
        if reply is not None:
            if call.manifest_key is not None and not call.client_gone():
                manifests.record(engine, call, None, call.result_key)
            return reply

    # 3. Miss: compile, collect, store.
    return _miss(engine, call)


def _try_hit(engine: Engine, call: Call, result_key: str, counter: str) -> CompileReply | None:
    """Serve the entry under ``result_key``, or None to go on as a miss."""
    invocation = call.invocation
    assert invocation is not None
    found = find_entry(engine, call, result_key)
    if isinstance(found, str):
        return None
    entry, size, tier = found
    streams = replayed_streams(entry, call)
    if streams is None or not restore(entry, call):
        return None
    call.delta.outcome("hits", kind=counter)
    call.delta.add("seconds_saved", entry.compile_seconds)
    call.delta.add("bytes_read", size)
    call.delta.tier(tier, {"hits_served": 1})
    log.info("[%s] hit (%s, %s) in %.1f ms", call.label, counter, tier, (time.monotonic() - call.started) * 1000)
    stdout, stderr = streams
    if entry.colour_diagnostics and not invocation.stderr_is_tty:
        stderr = strip_colour(stderr)
    return CompileReply(exit_code=entry.exit_code, stdout=stdout, stderr=stderr, outcome="hit")


def find_entry(engine: Engine, call: Call, result_key: str) -> tuple[ResultEntry, int, str] | str:
    """The entry stored under ``result_key`` as (entry, stored size, tier),
    or why this call cannot use it: "absent", "corrupt" (then removed and
    counted) or "relocated" (made for other base directories than this call's:
    bound to others, or naming one this call lacks)."""
    found = engine.store.get(result_key)
    if found is None:
        return "absent"
    data, tier = found
    try:
        entry = decode_result(data)
    except EntryError as exc:
        call.delta.error("corrupt-entry", f"{result_key} in {tier}: {exc}")
        log.warning("[%s] corrupt entry %s in %s removed: %s", call.label, result_key, tier, exc)
        engine.store.remove(result_key, tier)
        return "corrupt"
    if not fits(entry, call):
        log.debug("[%s] entry %s was made for other base directories", call.label, result_key)
        return "relocated"
    return entry, len(data), tier


def _miss(engine: Engine, call: Call) -> CompileReply:
    """Compile, then store the result. Without ``call.result_key``,
    dependencies were deferred: the key is completed with what the compile
    reported."""
    invocation, parsed, context = call.ready
    assert call.family is not None
    _still_wanted(call, "before the compile")
    freshness.settle(call)
    result = run_compiler(call, engine.config, engine.host.hooks)
    call.compiled = result
    context.compile_ended = True  # files hashed from now on keep the signature their content had
    _still_wanted(call, "as the compile ended")
    stderr = result.stderr[call.stderr_sent :]  # the client printed the start during the compile
    if parsed.colour_diagnostics and not invocation.stderr_is_tty:
        stderr = strip_colour(stderr)
    reply = CompileReply(exit_code=result.exit_code, stdout=result.stdout, stderr=stderr, outcome="miss")
    if result.exit_code != 0:
        call.delta.outcome("compile_failed")
        return CompileReply(exit_code=result.exit_code, stdout=result.stdout, stderr=stderr, outcome="compile-failed")
    call.delta.outcome("misses")  # until something below keeps it from being stored
    call.delta.add("seconds_compiling", result.duration)
    exited = time.monotonic()  # the reply's delay from here on is the cache's

    outputs = guard("outputs", lambda: engine.host.hooks.collect_outputs(invocation, parsed, result, context))
    if isinstance(outputs, NotCacheable) or outputs is None:
        reason = outputs.reason if outputs is not None else "no-outputs"
        call.delta.outcome("not_cacheable")
        call.delta.reason("not_cacheable", reason, outputs.detail if outputs is not None else "")
        context.log.info("compiled but not stored: %s", outputs.detail if outputs is not None else reason)
        return reply
    rediscovering = bool(outputs.rediscover) and call.result_key is None
    if rediscovering:
        rediscovered = _rediscover(engine, call, outputs.rediscover)
        if rediscovered is not None:
            call.delta.outcome("not_cacheable")
            call.delta.reason("not_cacheable", rediscovered.reason, rediscovered.detail)
            context.log.info("compiled but not stored: %s", rediscovered.detail)
            return reply
    stale = freshness.stale_inputs(call, outputs)
    if stale is not None:
        # Hashed before or after the compile: the object may hold another content.
        call.delta.reason("not_cacheable", stale.reason)
        context.log.info("compiled but not stored: %s", stale.detail)
        return reply
    result_key = call.result_key
    if result_key is None:
        deferred = _deferred_key(engine, call, outputs)
        if isinstance(deferred, NotCacheable):
            call.delta.outcome("not_cacheable")
            call.delta.reason("not_cacheable", deferred.reason, deferred.detail)
            context.log.info("compiled but not stored: %s", deferred.detail)
            return reply
        result_key = call.result_key = deferred
    collected = time.monotonic()
    try:
        entry = stored_entry(call, outputs)
    except OSError as exc:
        call.delta.outcome("not_cacheable")
        call.delta.reason("not_cacheable", "output-unreadable", f"cannot read {exc.filename}: {exc.strerror}")
        context.log.warning("cannot read output %s: %s", exc.filename, exc.strerror)
        return reply
    if isinstance(entry, NotCacheable):
        call.delta.reason("not_cacheable", entry.reason)
        context.log.info("compiled but not stored: %s", entry.detail)
        return reply
    data = encode_result(entry)
    encoded = time.monotonic()
    _still_wanted(call, "before the entry was stored")
    engine.store.put(result_key, data)
    call.delta.add("bytes_written", len(data))
    stored = time.monotonic()
    wanted = call.manifest_key is not None and not call.client_gone()
    made = manifests.record(engine, call, outputs, result_key, entry.bound, discover_first=rediscovering) if wanted else None
    journal.write(engine, call, made)
    done = time.monotonic()
    context.log.info(
        "miss: compiled in %.1f ms, stored %d bytes as %s; %.1f ms after the compile "
        "(outputs and key %.1f, entry %.1f, store %.1f, manifest %.1f)",
        result.duration * 1000, len(data), result_key, (done - exited) * 1000, (collected - exited) * 1000,
        (encoded - collected) * 1000, (stored - encoded) * 1000, (done - stored) * 1000,
    )  # fmt: skip
    return reply


def _still_wanted(call: Call, when: str) -> None:
    """Raise `Cancelled` when the client went away: an interrupted build's
    compile stores nothing (the next build may already be writing)."""
    if call.client_gone():
        raise Cancelled(f"the client went away {when}")


def _rediscover(engine: Engine, call: Call, why: str) -> NotCacheable | None:
    """Key a deferred compile by discovery after all (`Outputs.rediscover`):
    its dependencies, found with depend mode off, replace the deferred
    ones; None once ``call.result_key`` is set, else why it cannot be."""
    context = call.ready[2]
    context.log.info("depend mode cannot key this compile (%s): discovering its dependencies", why)
    context.depend_mode = False
    deps = stages.dependencies(engine, call)
    if deps is None:
        return NotCacheable("dependencies-unreported", f"{why}; and discovery found nothing")
    if isinstance(deps, NotCacheable):
        return deps
    if call.result_key is None:
        return NotCacheable("dependencies-unreported", f"{why}; and discovery deferred again")
    return None


def _deferred_key(engine: Engine, call: Call, outputs: Outputs) -> str | NotCacheable:
    """The key of a compile whose dependencies it reported itself (their
    files were checked unchanged since the call started: `freshness`)."""
    _invocation, _parsed, context = call.ready
    reported = outputs.dependencies
    if reported is None or not reported.manifest_ok:
        return NotCacheable("dependencies-unreported", "the compile did not report its dependencies")
    call.reported = tuple(reported.components)
    components = call.key_components()
    result_key = key_of(components)
    stages.log_key(context, result_key, components)
    return result_key


def _pass_through(call: Call, outcome) -> CompileReply:
    """The call is not cached: count why and let the client exec the compiler."""
    assert call.compiler is not None
    if isinstance(outcome, NotCompilation):
        call.delta.outcome("not_compilation")
        call.delta.reason("not_compilation", outcome.reason)
        kind = "not-compilation"
    else:
        reason = outcome.reason if isinstance(outcome, NotCacheable) else "unparsed"
        call.delta.outcome("not_cacheable")
        call.delta.reason("not_cacheable", reason, getattr(outcome, "detail", ""))
        kind = "not-cacheable"
    log.info("[%s] %s: %s", call.label, kind, getattr(outcome, "detail", "") or getattr(outcome, "reason", ""))
    return CompileReply(execute=call.compiler, outcome=kind)


def _uncached(call: Call) -> CompileReply:
    """After a fault: hand back the compile's result if it already ran,
    otherwise let the caller run the compiler itself."""
    if call.compiled is not None:
        return CompileReply(
            exit_code=call.compiled.exit_code, stdout=call.compiled.stdout, stderr=call.compiled.stderr[call.stderr_sent :],
            outcome="error"
        )
    request = call.request
    compiler = find_executable(request.argv[0], request.env, request.cwd, [request.client_executable])
    return CompileReply(execute=compiler or request.argv[0], outcome="error")
