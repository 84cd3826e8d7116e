"""Collecting what a successful nvcc compile wrote: the object (or PTX,
cubin, fatbinary, OptiX IR) and the dependency file, under their slots'
roles."""

from __future__ import annotations

from pycache_cfamily import reasons as R
from pycache_core.api import Artifact, Invocation, NotCacheable, Outputs, ParsedInvocation

#: The dependency file names headers; stored with base directories made portable.
RELOCATABLE_ROLES = frozenset({"depfile"})


def collect(invocation: Invocation, parsed: ParsedInvocation) -> Outputs | NotCacheable:
    artifacts: list[Artifact] = []
    for role, slot in parsed.outputs.items():
        if not invocation.resolve(slot.path).is_file():
            if slot.required:
                return NotCacheable(R.MISSING_OUTPUT, f"nvcc did not write the {role} file {slot.path}")
            continue
        artifacts.append(Artifact(role=role, path=slot.path, relocatable=role in RELOCATABLE_ROLES))
    return Outputs(artifacts=tuple(artifacts))
