"""Hook implementations of the rustc plugin: thin calls into the modules
that do the work (arguments, toolchain, dependencies, linking, outputs)."""

from __future__ import annotations

import os
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
    NotCompilation,
    OutputSlot,
    Outputs,
    ParsedInvocation,
    ParseOutcome,
    PluginContext,
    hookimpl,
)

from . import arguments, dependencies, environment, linkargs, linking, outputs, paths, toolchain

FAMILY = toolchain.FAMILY

#: Bump when what enters a key or how an entry is laid out changes.
CACHE_VERSION = "1"

#: Roles whose files carry crate metadata: it records the working directory
#: and each source file's absolute path, which nothing built from the crate
#: depends on (a downstream binary links the same bytes either way).
METADATA_ROLES = frozenset({"rlib", "rmeta", "dylib", "proc-macro"})


def _ours(family: CompilerFamily | str) -> bool:
    return (family.name if isinstance(family, CompilerFamily) else family) == FAMILY


@hookimpl
def pycache_register_compilers() -> list[CompilerFamily]:
    return [
        CompilerFamily(
            name=FAMILY,
            executables=(r"rustc", r"rustc-[0-9][0-9.]*"),
            cache_version=CACHE_VERSION,
            api_version=API_VERSION,
            description="rustc, as cargo runs it through RUSTC_WRAPPER",
        )
    ]


@hookimpl
def pycache_probe_compiler(
    family: CompilerFamily, compiler: Path, env: Mapping[str, str], context: PluginContext
) -> CompilerIdentity | None:
    if not _ours(family):
        return None
    return toolchain.identity(compiler, env, context)


@hookimpl
def pycache_parse_arguments(invocation: Invocation, family: CompilerFamily) -> ParseOutcome | None:
    if not _ours(family):
        return None
    override = toolchain.toolchain_override(invocation.compiler, invocation.arguments)
    # ``+toolchain`` (rustup) picks the toolchain; the rest is rustc's.
    args = arguments.parse(invocation.arguments[1:] if override else invocation.arguments, invocation.cwd)
    if isinstance(args, (NotCacheable, NotCompilation)):
        return args
    roles = arguments.output_paths(args)
    if isinstance(roles, NotCacheable):
        return roles
    if args.links:
        # What the link arguments make the linker write is refused here or
        # becomes an output: the link map.
        link_args = linkargs.read(args)
        if isinstance(link_args, NotCacheable):
            return link_args
        if len(link_args.map_files) > 1:
            return NotCacheable("link-arg-writes-file", f"several link maps: {', '.join(link_args.map_files)}")
        if link_args.map_files:
            roles = {**roles, "link-map": link_args.map_files[0]}
    key_arguments = args.key_arguments
    run_arguments = None
    colour = False
    if invocation.stderr_is_tty and args.color is None and args.error_format in (None, "human", "short"):
        # rustc would colour for a terminal; the server's stderr is a pipe.
        run_arguments = (*invocation.arguments, "--color=always")
        key_arguments = (*key_arguments, "--color=always")
        colour = True
    report = linking.link_report(args, roles)
    if report is not None:
        # The link line names every crate file the link reads: the key of a
        # linked crate comes from the compile itself, with no dep-info run.
        run_arguments = (*(run_arguments or invocation.arguments), "--print", f"link-args={report}")
    return ParsedInvocation(
        language="rust",
        sources=(Path(args.input),),
        outputs={role: _slot(role, path) for role, path in roles.items()},
        key_arguments=key_arguments,
        run_arguments=run_arguments,
        run_environment=environment.run_environment(invocation.env),
        colour_diagnostics=colour,
        diagnostics=paths.DIAGNOSTICS,
        base_dirs=default_base_dirs(invocation),
        private=args,
    )


def _slot(role: str, path: str) -> OutputSlot:
    # rustc writes its dep-info by opening the path (through a link there)
    # and replaces every other output (a link there is replaced).
    return OutputSlot(
        path=Path(path),
        required=role != "dwp",
        through_links=role == "dep-info",
        text=paths.DEPINFO if role == "dep-info" else None,
        names_paths_harmlessly=role in METADATA_ROLES,
    )


def default_base_dirs(invocation: Invocation) -> dict[str, Path]:
    """Base directories without PYCACHE_BASEDIRS: the working directory cargo
    runs rustc in (the workspace root for workspace members, the package's
    own directory for registry crates), named ``cwd``, and CARGO_HOME, named
    ``cargo-home``. Paths below them enter keys relative to them, so a second
    checkout or a runner with another home hits; `paths` keys what the
    outputs embed as they embed it (debug info, absolute source paths)."""
    cargo_home = invocation.env.get("CARGO_HOME") or os.path.join(invocation.env.get("HOME", "~"), ".cargo")
    return {"cwd": invocation.cwd, "cargo-home": Path(os.path.expanduser(cargo_home))}


@hookimpl
def pycache_direct_components(
    invocation: Invocation, parsed: ParsedInvocation, context: PluginContext
) -> tuple[KeyComponent, ...] | NotCacheable | None:
    if not _ours(invocation.family):
        return None
    return dependencies.direct_components(invocation, parsed.private, context)


@hookimpl
def pycache_discover_dependencies(
    invocation: Invocation, parsed: ParsedInvocation, context: PluginContext
) -> Dependencies | NotCacheable | None:
    if not _ours(invocation.family):
        return None
    return dependencies.discover(invocation, parsed.private, context, compile_reports="dep-info" in parsed.outputs)


@hookimpl
def pycache_collect_outputs(
    invocation: Invocation, parsed: ParsedInvocation, result: CompileResult, context: PluginContext
) -> Outputs | NotCacheable | None:
    if not _ours(invocation.family):
        return None
    return outputs.collect(invocation, parsed, result, context)
