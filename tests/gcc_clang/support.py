"""Shared helpers for the gcc/clang plugin tests: real compilers, a real
`CallContext`, invocations built the way the core builds them."""

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
from pycache_gcc_clang import hooks


def _find(*names: str) -> str | None:
    for name in names:
        found = shutil.which(name) if not os.path.isabs(name) else (name if os.path.exists(name) else None)
        if found:
            return found
    return None


GCC = _find("gcc", "gcc-12")
GXX = _find("g++", "g++-12")
CLANG = _find("clang", "clang-14", "/usr/lib/llvm-14/bin/clang")
CLANGXX = _find("clang++", "clang++-14", "/usr/lib/llvm-14/bin/clang++")

needs_gcc = pytest.mark.skipif(GCC is None, reason="gcc is not installed on this machine")
needs_clang = pytest.mark.skipif(
    CLANG is None, reason="clang is not installed (no clang, clang-14 or /usr/lib/llvm-14/bin/clang)"
)

FAMILY = hooks.pycache_register_compilers()[0]

#: What a test's environment holds of the variables compilers read: fixed, so
#: components do not depend on the machine running the tests.
BASE_ENV = {"PATH": os.environ.get("PATH", os.defpath), "LANG": "C", "LC_ALL": "C"}


def make_invocation(
    args: Sequence[str],
    cwd: Path,
    *,
    compiler: str | None = None,
    invoked_as: str | None = None,
    env: Mapping[str, str] | None = None,
    tty: bool = False,
) -> Invocation:
    compiler = compiler or GCC or "/usr/bin/gcc"
    return Invocation(
        compiler=Path(compiler),
        invoked_as=invoked_as or os.path.basename(compiler),
        arguments=tuple(args),
        cwd=cwd,
        env=dict(BASE_ENV if env is None else env),
        family=FAMILY.name,
        stderr_is_tty=tty,
    )


def make_context(tmp_path: Path, *, basedirs: Sequence[str] = (), cwd: Path | None = None) -> CallContext:
    scratch = tmp_path / "scratch"
    scratch.mkdir(exist_ok=True)
    return CallContext(
        digests=FileDigests(),
        bases=BaseDirectories((str(i), d) for i, d in enumerate(basedirs, start=1)),
        scratch_dir=scratch,
        default_cwd=cwd or tmp_path,
    )


def probe(invocation: Invocation, context: CallContext):
    context.identity = hooks.pycache_probe_compiler(
        family=FAMILY, compiler=invocation.compiler, env=invocation.env, context=context
    )
    return context.identity


def parse(invocation: Invocation):
    return hooks.pycache_parse_arguments(invocation=invocation, family=FAMILY)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path
