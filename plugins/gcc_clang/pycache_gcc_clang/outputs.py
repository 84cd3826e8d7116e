"""Collecting what a successful gcc/clang compile wrote; in depend mode
(`pycache_gcc_clang.depend`) also the files its dependency list names, or
why that list cannot key it (the core then asks for preprocessor mode)."""

from __future__ import annotations

from pycache_cfamily import reasons as R
from pycache_core.api import Artifact, Invocation, NotCacheable, Outputs, ParsedInvocation, PluginContext

from . import depend
from .dependencies import _private, path_mode


def collect(invocation: Invocation, parsed: ParsedInvocation, context: PluginContext) -> Outputs | NotCacheable:
    kind = context.identity.details.get("kind", "") if context.identity is not None else ""
    artifacts: list[Artifact] = []
    for role, slot in parsed.outputs.items():
        required = slot.required
        if role == "dwo" and not required:
            # -gsplit-dwarf without -g: gcc still writes the .dwo, clang
            # writes none (a file there is left from another compile).
            if kind == "clang":
                continue
            required = kind == "gcc"
        path = invocation.resolve(slot.path)
        if not path.is_file():
            if required:
                return NotCacheable(R.MISSING_OUTPUT, f"the compiler did not write the {role} file {path}")
            continue
        artifacts.append(Artifact(role=role, path=slot.path))
    call = _private(parsed)
    mode = path_mode(call)
    chosen = depend.plan(invocation, parsed, call, context, mode)
    if not isinstance(chosen, depend.DependPlan):
        return Outputs(artifacts=tuple(artifacts))
    reported = depend.reported(invocation, call, chosen, mode, context)
    if isinstance(reported, NotCacheable):
        # The preprocessor may settle what the list cannot: the core keys
        # this compile in preprocessor mode instead.
        return Outputs(artifacts=tuple(artifacts), rediscover=f"{reported.reason}: {reported.detail}")
    return Outputs(artifacts=tuple(artifacts), dependencies=reported)
