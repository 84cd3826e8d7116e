"""Per-architecture reuse on a miss: nvcc's plan run step by step, each GPU
architecture's device code (cicc + ptxas) cached under its own key.

The device code an object embeds (its ``.nv_fatbin`` section, which nvcc
writes deterministically) is compared byte for byte with nvcc's own object
of the same sources and options; the host code is linked with a small main
and run."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from pycache_core.api import Dependencies, ParsedInvocation, StepResult
from pycache_core.context import CallContext
from pycache_core.digests import FileDigests
from pycache_core.paths import NO_BASE_DIRECTORIES
from pycache_core.testing import PycacheEnv
from pycache_nvcc import decompose, hooks

from .support import NVCC, make_context, make_invocation, needs_nvcc, parse, probe, write, write_project
from .test_end_to_end import cached, run_host, uncached

pytestmark = needs_nvcc

ARCH_75 = ["-gencode", "arch=compute_75,code=sm_75"]
ARCH_80 = ["-gencode", "arch=compute_80,code=sm_80"]


def fatbin(path: Path) -> bytes:
    section = path.with_suffix(".fatbin-section")
    subprocess.run(["objcopy", "-O", "binary", "--only-section=.nv_fatbin", str(path), str(section)], check=True)
    return section.read_bytes()


def device_steps(penv: PycacheEnv) -> dict:
    return penv.stats().get("steps", {}).get("nvcc", {}).get("device", {})


def nvccs_fatbin(penv: PycacheEnv, tree: Path, args) -> bytes:
    uncached(penv, tree, NVCC, *args, "-o", "ref.o")
    return fatbin(tree / "ref.o")


@pytest.fixture
def tree(pycache_env: PycacheEnv) -> Path:
    return write_project(pycache_env.root / "src")


def test_adding_an_architecture_compiles_only_the_new_one(pycache_env: PycacheEnv, tree: Path) -> None:
    base = ["-c", "kern.cu", "-Iinc"]
    assert cached(pycache_env, tree, NVCC, *base, *ARCH_75, "-o", "kern.o")[1] == {"misses": 1}
    steps = device_steps(pycache_env)
    assert (steps.get("hits", 0), steps["misses"], steps["stored"]) == (0, 1, 1)
    done, diff = cached(pycache_env, tree, NVCC, *base, *ARCH_75, *ARCH_80, "-o", "kern.o")
    assert done.returncode == 0 and diff == {"misses": 1}, done.stderr
    steps = device_steps(pycache_env)
    assert (steps["hits"], steps["misses"], steps["stored"]) == (1, 2, 2)  # sm_75 reused, sm_80 compiled
    assert fatbin(tree / "kern.o") == nvccs_fatbin(pycache_env, tree, [*base, *ARCH_75, *ARCH_80])
    assert run_host(tree, "kern.o") == "15"
    assert cached(pycache_env, tree, NVCC, *base, *ARCH_75, *ARCH_80, "-o", "kern.o")[1] == {"hits": 1, "direct_hits": 1}
    assert device_steps(pycache_env)["hits"] == 1  # a hit of the whole call runs no step


def test_host_only_edit_reuses_device_code_and_device_edit_does_not(pycache_env: PycacheEnv, tree: Path) -> None:
    args = ["-c", "kern.cu", "-Iinc", *ARCH_80]
    assert cached(pycache_env, tree, NVCC, *args, "-o", "kern.o")[1] == {"misses": 1}
    write(tree / "inc" / "host_only.h", "#define HOST_FACTOR 6\n")
    assert cached(pycache_env, tree, NVCC, *args, "-o", "kern.o")[1] == {"misses": 1}
    assert device_steps(pycache_env)["hits"] == 1
    assert run_host(tree, "kern.o") == "18"
    assert fatbin(tree / "kern.o") == nvccs_fatbin(pycache_env, tree, args)
    write(tree / "inc" / "device_only.h", "#define DEVICE_FACTOR 11\n")
    assert cached(pycache_env, tree, NVCC, *args, "-o", "kern.o")[1] == {"misses": 1}
    steps = device_steps(pycache_env)
    assert (steps["hits"], steps["misses"]) == (1, 2)
    assert fatbin(tree / "kern.o") == nvccs_fatbin(pycache_env, tree, args)
    assert run_host(tree, "kern.o") == "18"


def test_device_warnings_are_replayed_from_reused_steps(pycache_env: PycacheEnv, tree: Path) -> None:
    write(tree / "warn.cu", "#ifndef __CUDA_ARCH__\n#include \"host_only.h\"\n#else\n#define HOST_FACTOR 0\n#endif\n"
                            "__global__ void k(int *p) { int unused_dev; p[0] = 1; }\n"
                            "int f() { int unused_host; return HOST_FACTOR; }\n")
    args = [NVCC, "-c", "warn.cu", "-Iinc", "-o", "warn.o"]
    assert cached(pycache_env, tree, *args)[1] == {"misses": 1}
    write(tree / "inc" / "host_only.h", "#define HOST_FACTOR 6\n")
    reference = uncached(pycache_env, tree, *args)
    assert b"unused_dev" in reference.stderr
    done, diff = cached(pycache_env, tree, *args)
    assert diff == {"misses": 1} and device_steps(pycache_env)["hits"] == 1
    assert (done.returncode, done.stdout, done.stderr) == (reference.returncode, reference.stdout, reference.stderr)


class _Tampered:
    """A step store that hands back a wrong stub for every device step."""

    def lookup(self, step, components):
        return StepResult(files={"ptx": b"", "c": b"", "gpu": b"", "stub": b"#error tampered\n", "cubin:sm_75": b""})

    def store(self, step, components, result):
        raise AssertionError("a failed compile stores nothing")

    def run(self, argv, cwd, env):
        return subprocess.run(list(argv), cwd=cwd, env=dict(env), capture_output=True, check=False)


def test_a_failure_after_reusing_a_step_leaves_the_compile_to_nvcc(tmp_path: Path) -> None:
    """Whatever a stored step holds, it never fails a build: the compile is
    handed back to nvcc (None), which then runs the call itself."""
    tree = write_project(tmp_path / "t")
    invocation = make_invocation(["-c", "kern.cu", "-Iinc", "-o", "kern.o"], tree)
    context = make_context(tmp_path, cwd=tree)
    probe(invocation, context)
    parsed = parse(invocation)
    assert isinstance(parsed, ParsedInvocation)
    deps = hooks.pycache_discover_dependencies(invocation=invocation, parsed=parsed, context=context)
    assert isinstance(deps, Dependencies)
    tampered = CallContext(digests=FileDigests(), bases=NO_BASE_DIRECTORIES, scratch_dir=context.scratch_dir,
                           default_cwd=tree, steps=_Tampered())
    tampered.identity = context.identity
    assert decompose.compile(invocation, parsed, deps.private, tampered) is None
