"""Hook implementations of the msvc plugin: thin calls into the modules
that do the work (arguments, toolchain, dependencies, outputs)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from pycache_cfamily import reasons as R
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

from . import arguments, dependencies, outputs, toolchain

FAMILY = toolchain.FAMILY

# cl, clang-cl and versioned clang-cl-14 (".exe" in any case is removed by
# the core). Windows names files without regard to case, so CL.EXE is cl.
EXECUTABLES = (r"(?i:cl)", r"(?i:clang-cl)(?:-\d+(?:\.\d+)*)?")

#: Above gcc-clang's 0: none of these names is gcc's or clang's (checked by
#: the tests), and a name both claimed would be cl's syntax.
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
            description="cl.exe and clang-cl: C and C++ in MSVC command-line syntax to objects",
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
def pycache_collect_outputs(
    invocation: Invocation, parsed: ParsedInvocation, result: CompileResult, context: PluginContext
) -> Outputs | NotCacheable | None:
    if invocation.family != FAMILY:
        return None
    if result.exit_code != 0:
        return NotCacheable(R.COMPILE_FAILED, f"the compiler exited {result.exit_code}")
    return outputs.collect(invocation, parsed, result, context)
