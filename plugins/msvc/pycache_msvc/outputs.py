"""Collecting what a successful cl or clang-cl compile wrote.

The object always; the dependency file ``/clang:-MD`` wrote; the .pch of a
``/Yc``; and what only cl.exe writes -- the object's own PDB for ``/Zi``
and ``/ZI`` (clang-cl puts that debug information in the object, as for
``/Z7``, and writes no PDB: a file at that path is someone else's) and the
``/sourceDependencies`` JSON. What the compiler printed (``/showIncludes``
notes on stdout included) is stored by the core and replayed as it was.

In depend mode (see `pycache_msvc.dependencies.depend_mode_off`) the notes
on stdout are also the call's dependencies: the headers, keyed by content.
"""

from __future__ import annotations

from pycache_cfamily import reasons as R
from pycache_core.api import Artifact, CompileResult, Invocation, NotCacheable, Outputs, ParsedInvocation, PluginContext

from . import dependencies, toolchain

#: Roles only cl.exe writes.
CL_ONLY_ROLES = frozenset({"pdb", "source-dependencies"})


def collect(
    invocation: Invocation, parsed: ParsedInvocation, result: CompileResult, context: PluginContext
) -> Outputs | NotCacheable:
    cl_exe = toolchain.kind_of(context) == toolchain.MSVC
    artifacts: list[Artifact] = []
    for role, slot in parsed.outputs.items():
        required = slot.required
        if role in CL_ONLY_ROLES:
            if not cl_exe:
                continue
            required = True
        path = invocation.resolve(slot.path)
        if not path.is_file():
            if required:
                return NotCacheable(R.MISSING_OUTPUT, f"the compiler did not write the {role} file {path}")
            continue
        artifacts.append(Artifact(role=role, path=slot.path))
    reported = None
    if not dependencies.depend_mode_off(parsed.private, invocation, context):
        reported = dependencies.compile_dependencies(invocation, parsed, result.stdout, context)
    return Outputs(artifacts=tuple(artifacts), dependencies=reported)
