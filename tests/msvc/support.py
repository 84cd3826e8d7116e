"""Shared helpers for the msvc plugin tests: a real clang-cl (a symlink
named clang-cl to Debian's clang, made per test), a real `CallContext`,
invocations built the way the core builds them."""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

from pycache_core.api import Invocation
from pycache_core.context import CallContext
from pycache_core.digests import FileDigests
from pycache_core.paths import BaseDirectories
from pycache_msvc import arguments, hooks


def _find_clang() -> str | None:
    for name in ("clang-14", "/usr/lib/llvm-14/bin/clang", "clang"):
        found = shutil.which(name) if not os.path.isabs(name) else (name if os.path.exists(name) else None)
        if found:
            return os.path.realpath(found)
    return None


#: The clang binary a clang-cl symlink points at (the driver mode comes from the name).
CLANG = _find_clang()

needs_clang_cl = pytest.mark.skipif(
    CLANG is None, reason="clang is not installed (no clang-14, /usr/lib/llvm-14/bin/clang or clang): no clang-cl"
)

FAMILY = hooks.pycache_register_compilers()[0]

#: A fixed environment, so components do not depend on the machine.
BASE_ENV = {"PATH": os.environ.get("PATH", os.defpath), "LANG": "C", "LC_ALL": "C"}

#: Where a cl.exe would be (the parser never runs it).
CL_EXE = "/opt/msvc/bin/cl.exe"


def make_clang_cl(directory: Path, name: str = "clang-cl") -> Path:
    """A symlink named ``name`` to clang in ``directory``."""
    assert CLANG is not None
    directory.mkdir(parents=True, exist_ok=True)
    link = directory / name
    if not link.exists():
        link.symlink_to(CLANG)
    return link


def make_invocation(
    args: Sequence[str],
    cwd: Path,
    *,
    compiler: str | os.PathLike[str] = "/usr/bin/clang-cl",
    invoked_as: str | None = None,
    env: Mapping[str, str] | None = None,
) -> Invocation:
    return Invocation(
        compiler=Path(compiler),
        invoked_as=invoked_as or os.path.basename(compiler),
        arguments=tuple(args),
        cwd=cwd,
        env=dict(BASE_ENV if env is None else env),
        family=FAMILY.name,
    )


def make_context(tmp_path: Path, *, basedirs: Sequence[str] = (), cwd: Path | None = None) -> CallContext:
    scratch = tmp_path / "scratch"
    scratch.mkdir(parents=True, exist_ok=True)
    return CallContext(digests=FileDigests(), bases=BaseDirectories((str(i), d) for i, d in enumerate(basedirs, start=1)), scratch_dir=scratch, default_cwd=cwd or tmp_path)


def probe(invocation: Invocation, context: CallContext):
    context.identity = hooks.pycache_probe_compiler(family=FAMILY, compiler=invocation.compiler, env=invocation.env, context=context)
    return context.identity


def parse(invocation: Invocation, style: str | None = None):
    if style is None:
        return hooks.pycache_parse_arguments(invocation=invocation, family=FAMILY)
    return arguments.parse(invocation, style=style)


def write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    return path
