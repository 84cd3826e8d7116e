"""Collecting what a successful gcc/clang compile wrote."""

from __future__ import annotations

from pycache_cfamily import reasons as R
from pycache_core.api import Artifact, Invocation, NotCacheable, Outputs, ParsedInvocation, PluginContext

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
    return Outputs(artifacts=tuple(artifacts))
