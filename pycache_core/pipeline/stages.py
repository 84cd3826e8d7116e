"""The stages that name a call, shared by the compile and by ``explain``.

In order: `resolve` (which compiler, which family), `parse` (the family's
reading of the command line), `opened` (base directories, the plugins'
`CallContext`, the compiler's identity, the core's own key components),
`direct` (direct-mode components and the manifest key), `dependencies`
(what the result depends on, every plugin's extra components, the result
key). Each fills its fields of the `Call` and returns the plugin's outcome
where one can stop the call (`NotCacheable`, `NotCompilation`); the caller
decides what a stop means: `compile` runs the compiler, `explain` reports.
Every plugin hook runs under `guard`.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from .. import env as names
from ..api import (
    CompilerIdentity,
    Dependencies,
    FrozenMap,
    Invocation,
    KeyComponent,
    NotCacheable,
    ParsedInvocation,
    ParseOutcome,
)
from ..context import CallContext, CallLogAdapter
from ..digests import stat_signature
from ..keys import KEY_SCHEMA_VERSION, describe_value, manifest_key, result_key
from ..lookup_lock import LOOKUP_LOCK
from ..paths import BaseDirectories, family_dirs
from ..which import find_executable, real_path
from . import files, freshness
from .call import Call, NoCache, guard
from .run import prefix_text
from .steps import CallSteps

if TYPE_CHECKING:
    from .engine import Engine


def resolve(engine: Engine, call: Call) -> None:
    """The real compiler the call names (never pycache itself) and the
    family serving it, chosen by the name as typed, then the target's.
    Leaves ``call.compiler`` None when nothing runs under that name, and
    ``call.family`` None when no plugin claims it."""
    request = call.request
    call.label = request.argv[0]
    compiler = find_executable(request.argv[0], request.env, request.cwd, [request.client_executable])
    if compiler is None:
        return
    call.compiler = compiler
    call.family = engine.host.family_for(os.path.basename(request.argv[0]), os.path.basename(real_path(compiler)))


def parse(engine: Engine, call: Call) -> ParseOutcome | None:
    """The family's reading of the command line. A `ParsedInvocation` is
    kept in ``call.parsed`` and the call is labelled by its first output,
    unless the files it names rule caching out (`files.check`: for every
    family, before anything reads them)."""
    assert call.compiler is not None and call.family is not None
    request, family = call.request, call.family
    invocation = Invocation(
        compiler=Path(call.compiler),
        invoked_as=request.argv[0],
        arguments=tuple(request.argv[1:]),
        cwd=Path(request.cwd),
        env=FrozenMap(request.env),
        family=family.name,
        stderr_is_tty=request.stderr_is_tty,
    )
    call.invocation = invocation
    parsed = guard("parse", lambda: engine.host.hooks.parse_arguments(invocation, family))
    if isinstance(parsed, ParsedInvocation):
        if parsed.outputs:
            call.label = str(next(iter(parsed.outputs.values())).path)
        refused = files.check(invocation, parsed)
        if refused is not None:
            return refused
        call.parsed = parsed
    return parsed


@contextmanager
def opened(engine: Engine, call: Call) -> Iterator[CallContext]:
    """The services a parsed call lends its plugins, closed afterwards:
    base directories (``PYCACHE_BASEDIRS`` plus the family's defaults,
    `pycache_core.paths.BaseDirectories`), a `CallContext`, the compiler's
    identity (memoised) and the core's own key components."""
    assert call.invocation is not None and call.parsed is not None
    invocation, parsed = call.invocation, call.parsed
    bases = BaseDirectories.for_call(basedirs_env(engine, invocation), invocation.cwd, family_dirs(parsed.base_dirs))
    context = CallContext(
        digests=engine.digests,
        bases=bases,
        log=CallLogAdapter(logging.getLogger("pycache.call"), {"call": call.label}),
        default_cwd=invocation.cwd,
        default_env=invocation.env,
        steps=CallSteps(engine.store, call) if call.family is not None else None,
    )
    call.bases, call.context = bases, context
    try:
        context.identity = identity(engine, call)
        context.depend_mode = depend_enabled(engine, invocation)
        context.compiled_elsewhere = _through_prefix_command(engine, call)
        call.core = core_components(call, context.identity)
        yield context
    finally:
        context.close()


def identity(engine: Engine, call: Call) -> CompilerIdentity:
    """The toolchain's identity, probed once per executable path and stat
    signature of the file it leads to (``stat`` follows links: a link
    pointed elsewhere changes it), and again whenever a part it names
    beyond the driver no longer holds (re-checked on every call:
    `IdentityMemo`)."""
    invocation, context, family = call.invocation, call.context, call.family
    assert invocation is not None and context is not None and family is not None
    signature = (family.name, str(invocation.compiler), stat_signature(invocation.compiler))
    known = engine.identities.get(signature, invocation.env)
    if known is not None:
        return known
    with LOOKUP_LOCK.waiting():  # a probe runs the compiler: other calls look up meanwhile
        probed = guard("probe", lambda: engine.host.hooks.probe_compiler(family, invocation.compiler, invocation.env, context))
    if probed is None:
        raise NoCache("probe", f"no plugin could identify {invocation.compiler}")
    engine.identities.remember(signature, probed, invocation.env)
    return probed


def core_components(call: Call, identity: CompilerIdentity) -> tuple[KeyComponent, ...]:
    """What the core itself puts first in every key."""
    assert call.family is not None and call.parsed is not None
    family, parsed = call.family, call.parsed
    return (
        KeyComponent("core:schema", str(KEY_SCHEMA_VERSION)),
        KeyComponent("family", family.name),
        KeyComponent("family:cache-version", family.cache_version),
        KeyComponent("compiler", identity.fingerprint),
        KeyComponent("language", parsed.language),
        KeyComponent("arguments", tuple(parsed.key_arguments)),
        KeyComponent("outputs", tuple(sorted(parsed.outputs))),
    )


def direct_enabled(engine: Engine, invocation: Invocation) -> bool:
    """``PYCACHE_DIRECT_MODE`` of the call, else of the server."""
    value = invocation.env.get(names.DIRECT_MODE)
    return engine.direct_mode if value is None else names.is_true(value)


def basedirs_env(engine: Engine, invocation: Invocation) -> Mapping[str, str]:
    """The call's environment, with the config file's ``basedirs`` when the
    call sets no ``PYCACHE_BASEDIRS`` -- never the server's own environment,
    which holds the variables of whichever call started it."""
    if names.BASEDIRS in invocation.env:
        return invocation.env
    configured = engine.config.file_value(names.BASEDIRS)
    return invocation.env if configured is None else {**invocation.env, names.BASEDIRS: configured}


def _through_prefix_command(engine: Engine, call: Call) -> bool:
    """Whether the call's compile goes through PYCACHE_PREFIX_COMMAND (as
    `pipeline.run.prefix_command` decides, without counting anything)."""
    return (prefix_text(call, engine.config) is not None and call.family is not None
            and call.family.accepts_prefix_command)


def depend_enabled(engine: Engine, invocation: Invocation) -> bool:
    """``PYCACHE_DEPEND_MODE`` of the call, else of the server -- and only
    with direct mode on: a call keyed by its compile's own dependency list
    (deferred) can hit through a manifest only."""
    value = invocation.env.get(names.DEPEND_MODE)
    wanted = engine.depend_mode if value is None else names.is_true(value)
    return wanted and direct_enabled(engine, invocation)


def direct(engine: Engine, call: Call) -> NotCacheable | None:
    """The direct-mode components and the manifest key they name, when
    direct mode is on and the family supports it for this call."""
    invocation, parsed, context = call.ready
    if not direct_enabled(engine, invocation):
        return None
    answer = guard("direct", lambda: engine.host.hooks.direct_components(invocation, parsed, context))
    if isinstance(answer, NotCacheable):
        return answer
    if answer is not None:
        call.direct = tuple(answer)
        call.manifest_key = manifest_key(call.core + call.direct)
    return None


def dependencies(engine: Engine, call: Call) -> Dependencies | NotCacheable | None:
    """What the result depends on beyond the arguments, every plugin's
    extra components and -- unless the family deferred discovery to the
    compile -- the result key."""
    invocation, parsed, context = call.ready
    assert call.family is not None
    family = call.family
    freshness.settle(call, "discovery")
    deps = guard("dependencies", lambda: engine.host.hooks.discover_dependencies(invocation, parsed, context))
    if not isinstance(deps, Dependencies):
        return deps
    call.deps = deps
    call.extra = tuple(guard("extra", lambda: engine.host.hooks.extra_key_components(invocation, family)))
    if deps.deferred:
        context.log.debug("dependencies deferred to the compile: no lookup")
    else:
        components = call.key_components()
        call.result_key = result_key(components)
        log_key(context, call.result_key, components)
    return deps


def log_key(context: CallContext, key: str, components: Sequence[KeyComponent]) -> None:
    """At debug level, what was hashed: so a user can find why a call missed."""
    context.log.debug("key %s from %d components", key, len(components))
    for component in components:
        context.log.debug("  %s = %s", component.name, describe_value(component.value))
