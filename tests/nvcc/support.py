"""Shared helpers for the nvcc plugin tests: the real nvcc in
/usr/local/cuda, a real `CallContext`, invocations built the way the core
builds them, and the small CUDA project the tests compile."""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

from pycache_core.api import Invocation
from pycache_core.context import CallContext
from pycache_core.digests import FileDigests
from pycache_core.paths import NO_BASE_DIRECTORIES
from pycache_nvcc import hooks

CUDA_BIN = Path("/usr/local/cuda/bin")
NVCC = os.fspath(CUDA_BIN / "nvcc") if (CUDA_BIN / "nvcc").is_file() else shutil.which("nvcc")
CLANG = shutil.which("clang-14") or shutil.which("clang")

needs_nvcc = pytest.mark.skipif(NVCC is None, reason="nvcc is not installed (no /usr/local/cuda/bin/nvcc, none on PATH)")
needs_clang = pytest.mark.skipif(CLANG is None, reason="clang is not installed (no clang-14 or clang on PATH)")

FAMILY = hooks.pycache_register_compilers()[0]

#: The variables the tests' calls see: fixed, so components do not depend
#: on the machine running the tests.
BASE_ENV = {"PATH": os.environ.get("PATH", os.defpath), "LANG": "C", "LC_ALL": "C"}

#: A kernel whose host and device passes read different headers: what the
#: host code returns and what the kernel multiplies by tell them apart.
KERNEL = """\
#include "common.h"
#ifdef __CUDA_ARCH__
#include "device_only.h"
#define KERNEL_FACTOR DEVICE_FACTOR
#else
#include "host_only.h"
#define KERNEL_FACTOR 1
#endif
__global__ void scale(int *p) { p[threadIdx.x] *= COMMON_FACTOR * KERNEL_FACTOR * EXTRA; }
int host_factor() {
#ifndef __CUDA_ARCH__
  return COMMON_FACTOR * HOST_FACTOR * EXTRA;
#else
  return 0;
#endif
}
int launch(int *p) { scale<<<1, 1>>>(p); return 0; }
"""
HEADERS = {
    "common.h": "#define COMMON_FACTOR 3\n#ifndef EXTRA\n#define EXTRA 1\n#endif\n",
    "host_only.h": "#define HOST_FACTOR 5\n",
    "device_only.h": "#define DEVICE_FACTOR 7\n",
}
HOST_MAIN = '#include <cstdio>\nint host_factor();\nint main() { std::printf("%d\\n", host_factor()); return 0; }\n'


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def write_project(root: Path) -> Path:
    write(root / "kern.cu", KERNEL)
    for name, text in HEADERS.items():
        write(root / "inc" / name, text)
    write(root / "main.cpp", HOST_MAIN)
    return root


def make_invocation(
    args: Sequence[str], cwd: Path, *, compiler: str | None = None, env: Mapping[str, str] | None = None
) -> Invocation:
    compiler = compiler or NVCC or "/usr/local/cuda/bin/nvcc"
    return Invocation(
        compiler=Path(compiler),
        invoked_as=os.path.basename(compiler),
        arguments=tuple(args),
        cwd=cwd,
        env=dict(BASE_ENV if env is None else env),
        family=FAMILY.name,
    )


def make_context(tmp_path: Path, *, cwd: Path | None = None) -> CallContext:
    scratch = tmp_path / "scratch"
    scratch.mkdir(exist_ok=True)
    return CallContext(digests=FileDigests(), bases=NO_BASE_DIRECTORIES, scratch_dir=scratch, default_cwd=cwd or tmp_path)


def parse(invocation: Invocation):
    return hooks.pycache_parse_arguments(invocation=invocation, family=FAMILY)


def probe(invocation: Invocation, context: CallContext):
    context.identity = hooks.pycache_probe_compiler(
        family=FAMILY, compiler=invocation.compiler, env=invocation.env, context=context
    )
    return context.identity
