"""nvcc through the real ``pycache`` command and server, against the real
nvcc in /usr/local/cuda (no GPU needed):

- hits restore exactly the stored bytes; host code is checked by linking
  the object with a small host ``main`` and running it; PTX and cubin
  (deterministic) are compared byte for byte with nvcc's own, after device
  code edits, on the miss and on the hit;
- a host-only header under ``#ifndef __CUDA_ARCH__`` is seen (sccache's
  false hit #2299), in direct and in preprocessor mode;
- every option and variable that changes the result misses and gives
  nvcc's result; ``-t`` does not;
- warnings and errors are replayed; the dependency file equals nvcc's;
  ``-x cu`` on a .cpp file; ``-rdc`` objects device-link and run after a
  hit; ``-ccbin`` gcc and clang;
- nvcc through a wrapper script on PATH; a missing host compiler; an nvcc
  that fails its probe: each call still runs and is counted.

The kernels are tiny: nvcc costs seconds per call even so.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from pycache_core.testing import PycacheEnv

from .support import CLANG, CUDA_BIN, NVCC, needs_clang, needs_nvcc, write, write_project

pytestmark = needs_nvcc

COUNTERS = ("hits", "direct_hits", "preprocessor_hits", "misses", "compile_failed", "not_cacheable", "not_compilation", "errors")
CUDA_LIBS = [f"-L{CUDA_BIN.parent / 'lib64'}", "-lcudart_static", "-ldl", "-lpthread", "-lrt"]


def _totals(penv: PycacheEnv) -> dict[str, float]:
    totals = penv.totals()
    return {k: totals.get(k, 0) for k in COUNTERS}


def cached(penv: PycacheEnv, cwd: Path, *argv: str, env=None):
    """One compile through pycache: the process, and what the statistics
    say happened."""
    before = _totals(penv)
    done = penv.compile(*argv, cwd=cwd, env=env)
    after = _totals(penv)
    return done, {k: after[k] - before[k] for k in COUNTERS if after[k] != before[k]}


def uncached(penv: PycacheEnv, cwd: Path, *argv: str, env=None) -> subprocess.CompletedProcess:
    done = penv.direct(*argv, cwd=cwd, env=env)
    assert done.returncode == 0, done.stderr.decode()
    return done


def run_host(cwd: Path, *objects: str, extra=()) -> str:
    """Link objects with the project's host main and run it: what the host
    code computes (no GPU needed)."""
    subprocess.run(["g++", "-c", "main.cpp", "-o", "main.o"], cwd=cwd, check=True)
    subprocess.run(["g++", "main.o", *objects, *extra, *CUDA_LIBS, "-o", "prog"], cwd=cwd, check=True)
    return subprocess.run(["./prog"], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture
def tree(pycache_env: PycacheEnv) -> Path:
    return write_project(pycache_env.root / "src")


def test_hit_restores_the_object_and_its_host_code_runs(pycache_env: PycacheEnv, tree: Path) -> None:
    args = [NVCC, "-c", "kern.cu", "-Iinc", "-o", "kern.o"]
    done, diff = cached(pycache_env, tree, *args)
    assert done.returncode == 0 and diff == {"misses": 1}, done.stderr
    assert (done.stdout, done.stderr) == (b"", b"")
    stored = (tree / "kern.o").read_bytes()
    assert run_host(tree, "kern.o") == "15"
    (tree / "kern.o").unlink()
    done, diff = cached(pycache_env, tree, *args)
    assert diff == {"hits": 1, "direct_hits": 1}
    assert (tree / "kern.o").read_bytes() == stored
    assert run_host(tree, "kern.o") == "15"
    done, diff = cached(pycache_env, tree, *args, env={"PYCACHE_DIRECT_MODE": "false"})
    assert diff == {"hits": 1, "preprocessor_hits": 1}
    assert (tree / "kern.o").read_bytes() == stored


@pytest.mark.parametrize("mode,suffix", [("-c", ".o"), ("-ptx", ".ptx")])
def test_a_symlinked_output_is_treated_as_nvcc_treats_it(pycache_env: PycacheEnv, tree: Path, mode: str, suffix: str) -> None:
    """Issue 13 A4 for nvcc: an object replaces a link at its path, device
    code (-ptx) is written through it -- on a miss and on a hit alike,
    as nvcc alone does."""
    out, target = tree / f"k{suffix}", tree / "target"

    def linked() -> None:
        out.unlink(missing_ok=True)
        target.write_bytes(b"old\n")
        out.symlink_to("target")

    def state() -> tuple[bool, bytes]:
        return out.is_symlink(), target.read_bytes()

    args = [NVCC, mode, "kern.cu", "-Iinc", "-arch=sm_80", "-o", out.name]
    linked()
    uncached(pycache_env, tree, *args)
    reference = state()
    assert reference[0] == (mode != "-c")  # what nvcc 12 does
    written = []
    for expected in ({"misses": 1}, {"hits": 1, "direct_hits": 1}):
        linked()
        done, diff = cached(pycache_env, tree, *args)
        assert done.returncode == 0 and diff == expected, done.stderr
        assert state() == reference  # PTX (deterministic) through the link: nvcc's bytes
        written.append(out.read_bytes())
    assert written[0] == written[1]  # an object embeds names nvcc makes up per run: the hit gives the miss's


@pytest.mark.parametrize("mode,suffix", [("-ptx", ".ptx"), ("-cubin", ".cubin")])
def test_device_code_equals_nvccs_after_device_edits(pycache_env: PycacheEnv, tree: Path, mode: str, suffix: str) -> None:
    args = [NVCC, mode, "kern.cu", "-Iinc", "-arch=sm_80", "-o", f"k{suffix}"]
    out = tree / f"k{suffix}"
    reference = {}
    for factor in ("7", "11"):
        write(tree / "inc" / "device_only.h", f"#define DEVICE_FACTOR {factor}\n")
        uncached(pycache_env, tree, *args)
        reference[factor] = out.read_bytes()
        out.unlink()
    assert reference["7"] != reference["11"]
    for factor, expected in (("7", {"misses": 1}), ("7", {"hits": 1, "direct_hits": 1}),
                             ("11", {"misses": 1}), ("11", {"hits": 1, "direct_hits": 1}),
                             ("7", {"hits": 1, "direct_hits": 1})):
        write(tree / "inc" / "device_only.h", f"#define DEVICE_FACTOR {factor}\n")
        out.unlink(missing_ok=True)
        done, diff = cached(pycache_env, tree, *args)
        assert done.returncode == 0, done.stderr
        assert diff == expected, factor
        assert out.read_bytes() == reference[factor]
    if mode == "-ptx":
        assert b", 21;" in reference["7"] and b", 33;" in reference["11"]  # COMMON_FACTOR * DEVICE_FACTOR


@pytest.mark.parametrize("direct", ["true", "false"])
def test_host_only_header_edit_is_seen(pycache_env: PycacheEnv, tree: Path, direct: str) -> None:
    """``nvcc -E`` would not show host_only.h (it is under #ifndef
    __CUDA_ARCH__): keyed by it, this edit would be served stale."""
    env = {"PYCACHE_DIRECT_MODE": direct}
    args = [NVCC, "-c", "kern.cu", "-Iinc", "-o", "kern.o"]
    assert cached(pycache_env, tree, *args, env=env)[1] == {"misses": 1}
    assert run_host(tree, "kern.o") == "15"
    write(tree / "inc" / "host_only.h", "#define HOST_FACTOR 6\n")
    done, diff = cached(pycache_env, tree, *args, env=env)
    assert diff == {"misses": 1}, done.stderr
    assert run_host(tree, "kern.o") == "18"


def test_what_changes_the_result_misses_and_gives_nvccs_result(pycache_env: PycacheEnv, tree: Path) -> None:
    penv = pycache_env
    base = [NVCC, "-ptx", "kern.cu", "-Iinc", "-o", "k.ptx"]
    write(tree / "extra.opt", "-DEXTRA=5\n")
    write(tree / "alt" / "common.h", "#define COMMON_FACTOR 4\n#define EXTRA 1\n")
    variants = [
        ([], {}),
        (["-DEXTRA=2"], {}),
        (["-D", "EXTRA=3"], {}),
        (["-arch=sm_80"], {}),
        (["-gencode", "arch=compute_86,code=compute_86"], {}),
        (["-lineinfo"], {}),
        (["-G"], {}),
        (["-optf", "extra.opt"], {}),
        ([], {"NVCC_APPEND_FLAGS": "-DEXTRA=4"}),
        ([], {"NVCC_PREPEND_FLAGS": "-Ialt"}),
        # nvcc.profile appends to INCLUDES: whatever it holds reaches the preprocessor
        ([], {"INCLUDES": "-DEXTRA=7"}),
    ]
    outputs = set()
    for extra, env in variants:
        args = [*base, *extra]
        uncached(penv, tree, *args, env=env)
        expected = (tree / "k.ptx").read_bytes()
        (tree / "k.ptx").unlink()
        done, diff = cached(penv, tree, *args, env=env)
        assert done.returncode == 0, done.stderr
        assert diff == {"misses": 1}, (extra, env)
        assert (tree / "k.ptx").read_bytes() == expected, (extra, env)
        outputs.add(expected)
    assert len(outputs) == len(variants)
    # The options file's content is the key, not its name.
    write(tree / "extra.opt", "-DEXTRA=6\n")
    done, diff = cached(penv, tree, *base, "-optf", "extra.opt")
    assert diff == {"misses": 1} and b", 126;" in (tree / "k.ptx").read_bytes()
    # How many architectures compile at once changes nothing.
    for threads in (["-t", "2"], ["--threads=4"]):
        assert cached(penv, tree, *base, *threads)[1] == {"hits": 1, "direct_hits": 1}


def test_host_options_miss_and_run(pycache_env: PycacheEnv, tree: Path) -> None:
    args = [NVCC, "-c", "kern.cu", "-Iinc", "-o", "kern.o"]
    assert cached(pycache_env, tree, *args)[1] == {"misses": 1}
    assert cached(pycache_env, tree, *args, "-DEXTRA=2")[1] == {"misses": 1}
    assert run_host(tree, "kern.o") == "30"
    assert cached(pycache_env, tree, *args, "-Xcompiler", "-O2,-DEXTRA=3")[1] == {"misses": 1}
    assert run_host(tree, "kern.o") == "45"
    assert cached(pycache_env, tree, *args, "-Xcompiler", "-O2,-DEXTRA=3")[1] == {"hits": 1, "direct_hits": 1}


@needs_clang
def test_ccbin_gcc_and_clang(pycache_env: PycacheEnv, tree: Path) -> None:
    args = [NVCC, "-c", "kern.cu", "-Iinc", "-o", "kern.o"]
    assert cached(pycache_env, tree, *args, "-ccbin", "gcc")[1] == {"misses": 1}
    with_gcc = (tree / "kern.o").read_bytes()
    done, diff = cached(pycache_env, tree, *args, "-ccbin", CLANG)
    assert diff == {"misses": 1}, done.stderr
    with_clang = (tree / "kern.o").read_bytes()
    assert with_gcc != with_clang and b"clang version" in with_clang
    assert run_host(tree, "kern.o") == "15"
    assert cached(pycache_env, tree, *args, "-ccbin", "gcc")[1] == {"hits": 1, "direct_hits": 1}
    assert (tree / "kern.o").read_bytes() == with_gcc


def test_x_cu_on_a_cpp_file(pycache_env: PycacheEnv, tree: Path) -> None:
    shutil.copy(tree / "kern.cu", tree / "kern.cpp")
    args = [NVCC, "-c", "-x", "cu", "kern.cpp", "-Iinc", "-o", "kern.o"]
    assert cached(pycache_env, tree, *args)[1] == {"misses": 1}
    assert cached(pycache_env, tree, *args)[1] == {"hits": 1, "direct_hits": 1}
    assert run_host(tree, "kern.o") == "15"
    # Without -x cu nvcc compiles host code only: not cached, still compiled.
    done, diff = cached(pycache_env, tree, NVCC, "-c", "main.cpp", "-o", "m.o")
    assert done.returncode == 0 and diff == {"not_cacheable": 1} and (tree / "m.o").is_file()


def test_warnings_replayed_errors_not_cached(pycache_env: PycacheEnv, tree: Path) -> None:
    write(tree / "warn.cu", '__global__ void k(int *p) { int unused_dev; p[0] = 1; }\n'
                            'int f(int x) { int unused_host; return x; }\n#warning "a preprocessor warning"\n')
    args = [NVCC, "-c", "warn.cu", "-o", "warn.o"]
    reference = uncached(pycache_env, tree, *args)
    assert b"unused_dev" in reference.stderr and b"unused_host" in reference.stderr and b"#warning" in reference.stderr
    for expected in ({"misses": 1}, {"hits": 1, "direct_hits": 1}):
        done, diff = cached(pycache_env, tree, *args)
        assert diff == expected
        assert (done.returncode, done.stdout, done.stderr) == (reference.returncode, reference.stdout, reference.stderr)
    write(tree / "bad.cu", "__global__ void k(int *p) {\n#ifdef __CUDA_ARCH__\n p[0] = undefined_on_device;\n#endif\n}\n")
    args = [NVCC, "-c", "bad.cu", "-o", "bad.o"]
    reference = pycache_env.direct(*args, cwd=tree)
    assert reference.returncode != 0 and b"undefined_on_device" in reference.stderr
    for _ in range(2):
        done, diff = cached(pycache_env, tree, *args)
        assert diff == {"compile_failed": 1}
        assert (done.returncode, done.stdout, done.stderr) == (reference.returncode, reference.stdout, reference.stderr)
    assert not (tree / "bad.o").exists()


@pytest.mark.parametrize("depfile_args", [["-MD"], ["-MMD", "-MT", "my target", "-MP", "-MF", "deps/k.d"]])
def test_dependency_file_equals_nvccs(pycache_env: PycacheEnv, tree: Path, depfile_args) -> None:
    (tree / "deps").mkdir()
    (tree / "out").mkdir()
    args = [NVCC, "-c", "kern.cu", "-Iinc", "-o", "out/kern.o", *depfile_args,
            "-gencode", "arch=compute_75,code=sm_75", "-gencode", "arch=compute_80,code=sm_80"]
    depfile = tree / ("deps/k.d" if "-MF" in depfile_args else "out/kern.d")
    uncached(pycache_env, tree, *args)
    expected = depfile.read_bytes()
    assert b"host_only.h" in expected and b"device_only.h" in expected
    for outcome in ({"misses": 1}, {"hits": 1, "direct_hits": 1}):
        depfile.unlink()
        done, diff = cached(pycache_env, tree, *args)
        assert diff == outcome, done.stderr
        assert depfile.read_bytes() == expected


RDC_A = """\
#include "common.h"
extern __device__ int dev_add(int x);
__global__ void use(int *p) { p[0] = dev_add(p[0]); }
int host_factor() {
#ifdef __CUDACC_RDC__
  return COMMON_FACTOR * 100;
#else
  return -1;
#endif
}
"""
RDC_B = "__device__ int dev_add(int x) { return x + 41; }\n"


def test_relocatable_device_code_links_and_runs_after_hits(pycache_env: PycacheEnv, tree: Path) -> None:
    write(tree / "rdc_a.cu", RDC_A)
    write(tree / "rdc_b.cu", RDC_B)
    compiles = [[NVCC, "-dc", "rdc_a.cu", "-Iinc", "-o", "a.o"], [NVCC, "-rdc=true", "-c", "rdc_b.cu", "-o", "b.o"]]
    for args in compiles:
        assert cached(pycache_env, tree, *args)[1] == {"misses": 1}
    for name in ("a.o", "b.o"):
        (tree / name).unlink()
    for args in compiles:
        assert cached(pycache_env, tree, *args)[1] == {"hits": 1, "direct_hits": 1}
    subprocess.run([NVCC, "-dlink", "a.o", "b.o", "-o", "link.o"], cwd=tree, check=True)
    assert run_host(tree, "a.o", "b.o", "link.o", extra=[f"-L{CUDA_BIN.parent / 'lib64'}", "-lcudadevrt"]) == "300"
    # Without -rdc the host code sees no __CUDACC_RDC__: another entry.
    done, diff = cached(pycache_env, tree, NVCC, "-c", "rdc_b.cu", "-o", "b.o")
    assert diff == {"misses": 1}


def test_wrapper_script_on_path(pycache_env: PycacheEnv, tree: Path) -> None:
    bin_dir = pycache_env.root / "bin"
    script = write(bin_dir / "nvcc", f'#!/bin/sh\nexec {NVCC} "$@"\n')
    script.chmod(0o755)
    env = {"PATH": f"{bin_dir}{os.pathsep}{pycache_env.env['PATH']}"}
    args = ["nvcc", "-c", "kern.cu", "-Iinc", "-o", "kern.o"]
    assert cached(pycache_env, tree, *args, env=env)[1] == {"misses": 1}
    assert cached(pycache_env, tree, *args, env=env)[1] == {"hits": 1, "direct_hits": 1}
    assert pycache_env.stats()["families"]["nvcc"]["hits"] == 1
    # Another script is another toolchain, even running the same nvcc.
    write(bin_dir / "nvcc", f'#!/bin/sh\n# wrapped\nexec {NVCC} "$@"\n')
    assert cached(pycache_env, tree, *args, env=env)[1] == {"misses": 1}
    assert run_host(tree, "kern.o") == "15"


def test_missing_host_compiler_runs_and_counts(pycache_env: PycacheEnv, tree: Path) -> None:
    args = [NVCC, "-c", "kern.cu", "-Iinc", "-ccbin", str(tree / "no-such-gcc"), "-o", "kern.o"]
    reference = pycache_env.direct(*args, cwd=tree)
    assert reference.returncode != 0
    done, diff = cached(pycache_env, tree, *args)
    assert diff == {"not_cacheable": 1}
    assert (done.returncode, done.stderr) == (reference.returncode, reference.stderr)
    assert pycache_env.stats()["not_cacheable_reasons"] == {"host-compiler-missing": 1}


def test_nvcc_that_fails_its_probe_still_compiles(pycache_env: PycacheEnv, tree: Path) -> None:
    bin_dir = pycache_env.root / "bin"
    script = write(bin_dir / "nvcc", f'#!/bin/sh\n[ "$1" = --version ] && exit 3\nexec {NVCC} "$@"\n')
    script.chmod(0o755)
    done, diff = cached(pycache_env, tree, str(script), "-c", "kern.cu", "-Iinc", "-o", "kern.o")
    assert done.returncode == 0 and (tree / "kern.o").is_file()
    assert diff == {"errors": 1}
    errors = pycache_env.stats()["errors"]
    assert "probe" in errors and "--version" in errors["probe"]["last"]


def test_calls_that_are_not_cached_still_run(pycache_env: PycacheEnv, tree: Path) -> None:
    done, diff = cached(pycache_env, tree, NVCC, "-E", "kern.cu", "-Iinc")
    assert done.returncode == 0 and b"scale" in done.stdout and diff == {"not_compilation": 1}
    done, diff = cached(pycache_env, tree, NVCC, "--version")
    assert b"Cuda compilation tools" in done.stdout and diff == {"not_compilation": 1}
    done, diff = cached(pycache_env, tree, NVCC, "-c", "kern.cu", "-Iinc", "-keep")
    assert done.returncode == 0 and diff == {"not_cacheable": 1}
    reasons = pycache_env.stats()["not_cacheable_reasons"]
    assert reasons == {"keep-intermediates": 1}


def test_plugins_lists_the_family_and_the_library(pycache_env: PycacheEnv) -> None:
    done = pycache_env.run(["plugins"])
    assert done.returncode == 0, done.stderr
    text = done.stdout.decode()
    assert "nvcc" in text and "pycache-nvcc" in text and "pycache-cfamily" in text
