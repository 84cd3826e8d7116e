"""Hook implementations of the nvcc plugin: thin calls into the modules
that do the work (arguments, toolchain, dependencies, outputs)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from pycache_core.api import (
    API_VERSION,
    CompileResult,
    CompilerFamily,
    CompilerIdentity,
    Dependencies,
    Invocation,
    KeyComponent,
    NotCacheable,
    Outputs,
    ParsedInvocation,
    ParseOutcome,
    PluginContext,
    hookimpl,
)

from . import arguments, decompose, dependencies, outputs, toolchain
from .dependencies import Discovery

FAMILY = toolchain.FAMILY

#: nvcc, wherever installed (``/usr/local/cuda-13.0/bin/nvcc``, a wrapper
#: script named nvcc on PATH); a versioned name too (``nvcc-13.0``).
EXECUTABLES = (r"nvcc(?:-\d+(?:\.\d+)*)?",)

#: Above gcc_clang's 0: nvcc is its own family even where a name could be
#: read as a gcc driver.
PRECEDENCE = 10


@hookimpl
def pycache_register_compilers() -> list[CompilerFamily]:
    return [
        CompilerFamily(
            name=FAMILY,
            executables=EXECUTABLES,
            cache_version="1",
            api_version=API_VERSION,
            precedence=PRECEDENCE,
            description="nvcc: CUDA sources to objects, PTX, cubin, fatbinary and OptiX IR (host compiler via -ccbin)",
        )
    ]


@hookimpl
def pycache_probe_compiler(
    family: CompilerFamily, compiler: Path, env: Mapping[str, str], context: PluginContext
) -> CompilerIdentity | None:
    if family.name != FAMILY:
        return None
    return toolchain.probe(compiler, env, context)


@hookimpl
def pycache_parse_arguments(invocation: Invocation, family: CompilerFamily) -> ParseOutcome | None:
    if family.name != FAMILY:
        return None
    return arguments.parse(invocation)


@hookimpl
def pycache_direct_components(
    invocation: Invocation, parsed: ParsedInvocation, context: PluginContext
) -> tuple[KeyComponent, ...] | NotCacheable | None:
    if invocation.family != FAMILY:
        return None
    return dependencies.direct_components(invocation, parsed, context)


@hookimpl
def pycache_discover_dependencies(
    invocation: Invocation, parsed: ParsedInvocation, context: PluginContext
) -> Dependencies | NotCacheable | None:
    if invocation.family != FAMILY:
        return None
    return dependencies.discover(invocation, parsed, context)


@hookimpl
def pycache_run_compile(
    invocation: Invocation, parsed: ParsedInvocation, dependencies: Dependencies, context: PluginContext
) -> CompileResult | None:
    if invocation.family != FAMILY or not isinstance(dependencies.private, Discovery):
        return None
    return decompose.compile(invocation, parsed, dependencies.private, context)


@hookimpl
def pycache_collect_outputs(
    invocation: Invocation, parsed: ParsedInvocation, result: CompileResult, context: PluginContext
) -> Outputs | NotCacheable | None:
    if invocation.family != FAMILY:
        return None
    return outputs.collect(invocation, parsed)
