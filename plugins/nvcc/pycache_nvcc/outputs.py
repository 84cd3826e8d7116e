"""Collecting what a successful nvcc compile wrote: the object (or PTX,
cubin, fatbinary, OptiX IR) and the dependency file, under their slots'
roles."""

from __future__ import annotations

from pycache_cfamily import reasons as R
from pycache_core.api import Artifact, Invocation, NotCacheable, Outputs, ParsedInvocation

# Nothing is relocated between checkouts: nvcc keys are never portable (the
# device code names the absolute source path), so the dependency file is
# stored as it is, and a result serves only the same base directories.


def collect(invocation: Invocation, parsed: ParsedInvocation) -> Outputs | NotCacheable:
    artifacts: list[Artifact] = []
    for role, slot in parsed.outputs.items():
        if not invocation.resolve(slot.path).is_file():
            if slot.required:
                return NotCacheable(R.MISSING_OUTPUT, f"nvcc did not write the {role} file {slot.path}")
            continue
        artifacts.append(Artifact(role=role, path=slot.path))
    return Outputs(artifacts=tuple(artifacts))
