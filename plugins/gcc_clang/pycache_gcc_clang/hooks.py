"""Hook implementations of the gcc/clang plugin: thin calls into the
modules that do the work (arguments, toolchain, dependencies, outputs)."""

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

# gcc, g++, cc, c++, clang, clang++; versioned (gcc-12, clang++-14) and
# target-prefixed (x86_64-linux-gnu-gcc-12). Not gcc-ar, clang-cl, clang-cpp.
_PREFIX = r"(?:[A-Za-z0-9_.]+(?:-[A-Za-z0-9_.]+)*-)?"
_VERSION = r"(?:-\d+(?:\.\d+)*)?"
EXECUTABLES = (
    _PREFIX + r"(?:gcc|g\+\+|cc|c\+\+)" + _VERSION,
    _PREFIX + r"clang(?:\+\+)?" + _VERSION,
)


@hookimpl
def pycache_register_compilers() -> list[CompilerFamily]:
    return [
        CompilerFamily(
            name=FAMILY,
            executables=EXECUTABLES,
            cache_version="1",
            api_version=API_VERSION,
            precedence=0,
            description="gcc and clang: C, C++, Objective-C and assembler-with-cpp to objects",
            accepts_prefix_command=True,  # distcc and icecc serve gcc and clang
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
    return outputs.collect(invocation, parsed, context)
