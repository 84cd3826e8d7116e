"""Hook specifications: the contract between the core and compiler plugins.

Grouped by the phase of a compile in which the server calls them::

    registration   pycache_register_compilers, pycache_register_storage_backends
    identity       pycache_probe_compiler
    parsing        pycache_parse_arguments
    key            pycache_direct_components, pycache_discover_dependencies,
                   pycache_extra_key_components
    compile        pycache_run_compile
    outputs        pycache_collect_outputs

Family hooks (probe, parse, direct, discover, run, collect) are called only on the
plugin that registered the invocation's family: the core chooses the family
from the collected registrations and their precedence, never from pluggy's
call order. Only `pycache_extra_key_components` is offered to every plugin.

Rules for every hook:

- Run in the server, in a worker thread, possibly many at once: keep state
  in the returned values or the ``context``, not in module globals.
- Never print; log through ``context.log``. Never write outside
  ``context.scratch_dir`` except by running the compiler.
- Import heavy modules inside the function, not at module import.
- An exception is caught by the core: the call runs uncached and the plugin,
  exception and traceback are logged and counted. Return `NotCacheable`
  for anything you expect.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pluggy

from .api import (
    PROJECT,
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
    StorageBackendType,
)

hookspec = pluggy.HookspecMarker(PROJECT)


# --- registration -------------------------------------------------------------


@hookspec
def pycache_register_compilers() -> list[CompilerFamily]:
    """Declare the compiler families this plugin serves.

    Called once when the plugin manager loads plugins. All results are
    collected; return an empty list to serve none. A family name registered by
    two distributions is an error naming both, and neither is used. A family
    whose ``api_version`` differs from `pycache_core.api.API_VERSION` is
    skipped with a message.
    """


@hookspec
def pycache_register_storage_backends() -> list[StorageBackendType]:
    """Declare kinds of storage (local disk, S3, Redis, ...).

    Called once at server start; all results are collected. Each type's
    ``create(settings)`` decides from the configuration whether it is on.
    """


# --- identity -----------------------------------------------------------------


@hookspec(firstresult=True)
def pycache_probe_compiler(
    family: CompilerFamily, compiler: Path, env: Mapping[str, str], context: PluginContext
) -> CompilerIdentity | None:
    """Identify the toolchain at ``compiler``.

    Called by the core on the family's owner when an executable is first
    seen, or when its size or times changed; the result is memoised, so this
    may run the compiler (``context.run``). Raise `pycache_core.errors.ProbeError`
    when the toolchain cannot be identified: the call then runs uncached.
    """


# --- parsing --------------------------------------------------------------------


@hookspec(firstresult=True)
def pycache_parse_arguments(
    invocation: Invocation, family: CompilerFamily
) -> ParseOutcome | None:
    """Turn a command line into a cacheable call, or say why not.

    Called on the family's owner for every wrapped call. Return a
    `ParsedInvocation` (cacheable), `NotCacheable` (a compilation pycache
    will not cache: linking, several sources, ...) or `NotCompilation`
    (a probe such as ``--version``). Pure: no file reads beyond response
    files, no subprocesses. Declare here the texts that name paths
    (``OutputSlot.text``, ``ParsedInvocation.diagnostics``): a hit
    relocates them between checkouts without asking the plugin again.
    """


# --- key ----------------------------------------------------------------------


@hookspec(firstresult=True)
def pycache_direct_components(
    invocation: Invocation, parsed: ParsedInvocation, context: PluginContext
) -> tuple[KeyComponent, ...] | NotCacheable | None:
    """Components that name a call *without* discovering its dependencies.

    Called on the family's owner before `pycache_discover_dependencies`.
    Return everything known cheaply (arguments, the source's digest, the
    variables the compiler reads): the core looks up a manifest under these
    components and, when every file recorded there still has the same digest,
    hits without running the preprocessor. Return None when the family (or
    this call) does not support direct mode; `NotCacheable` to give up.
    """


@hookspec(firstresult=True)
def pycache_discover_dependencies(
    invocation: Invocation, parsed: ParsedInvocation, context: PluginContext
) -> Dependencies | NotCacheable | None:
    """Everything the result depends on beyond the arguments.

    Called on the family's owner when direct mode did not hit. May run the
    preprocessor or the compiler in a dependency-only mode through
    ``context.run``. The returned components, with the arguments, the
    language, the toolchain fingerprint and every plugin's extra components,
    form the key.
    """


@hookspec
def pycache_extra_key_components(
    invocation: Invocation, family: CompilerFamily
) -> list[KeyComponent] | None:
    """Add inputs to any family's key (a site-wide cache buster, an SDK version).

    Called on every plugin for every cacheable call; all results are
    collected and namespaced by the plugin's name, so they cannot collide with
    the family's own components. Must be cheap: it runs on every hit.
    """


# --- compile --------------------------------------------------------------------


@hookspec(firstresult=True)
def pycache_run_compile(
    invocation: Invocation, parsed: ParsedInvocation, dependencies: Dependencies, context: PluginContext
) -> CompileResult | None:
    """Compile a miss the family's own way, instead of the core running the compiler.

    Called on the family's owner when a cacheable call missed, with what
    `pycache_discover_dependencies` returned (``dependencies.private`` is the
    plugin's own record of it). For a family that compiles in steps and
    reuses some of them across calls through `PluginContext.lookup_step` /
    `PluginContext.store_step` (nvcc: per GPU architecture). The result must
    be exactly what running the compiler would have given: the same output
    files, stdout, stderr and exit status. Return None to let the core run
    the compiler as usual (the default for every family); an exception also
    falls back to the compiler, uncached, and is counted.
    """


# --- outputs --------------------------------------------------------------------


@hookspec(firstresult=True)
def pycache_collect_outputs(
    invocation: Invocation,
    parsed: ParsedInvocation,
    result: CompileResult,
    context: PluginContext,
) -> Outputs | NotCacheable | None:
    """The artifacts a successful compile produced, under their slots' roles.

    Called on the family's owner after the compiler exited with status 0.
    Every artifact must be one of ``parsed.outputs``' slots; return
    `NotCacheable` when an expected output is missing or something was written
    that cannot be captured.
    """
