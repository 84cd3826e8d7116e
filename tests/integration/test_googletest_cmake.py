"""A real CMake project (Debian's googletest sources) built twice through
pycache as CMAKE_<LANG>_COMPILER_LAUNCHER: the second, clean build is all
hits, its objects are byte-identical, and its test binaries pass."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

GOOGLETEST = Path("/usr/src/googletest")
TARGETS = ["sample1_unittest", "sample2_unittest"]


def objects(build: Path) -> dict[str, bytes]:
    return {str(p.relative_to(build)): p.read_bytes() for p in sorted(build.rglob("*.o"))}


@pytest.mark.slow
def test_googletest_second_build_is_all_hits(pycache_env, tmp_path):
    if not (GOOGLETEST / "CMakeLists.txt").exists():
        pytest.skip("googletest sources absent: apt-get install googletest")
    for tool in ("cmake", "ninja"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed")
    build = tmp_path / "build"
    launcher = pycache_env.executable
    configure = subprocess.run(
        ["cmake", "-S", str(GOOGLETEST), "-B", str(build), "-G", "Ninja", "-DCMAKE_BUILD_TYPE=Release",
         "-DBUILD_GMOCK=OFF", "-Dgtest_build_samples=ON",
         f"-DCMAKE_C_COMPILER_LAUNCHER={launcher}", f"-DCMAKE_CXX_COMPILER_LAUNCHER={launcher}"],
        env=pycache_env.env, capture_output=True, text=True,
    )
    assert configure.returncode == 0, configure.stdout + configure.stderr

    def build_targets() -> None:
        done = subprocess.run(["ninja", "-C", str(build), "-j2", *TARGETS], env=pycache_env.env,
                              capture_output=True, text=True)
        assert done.returncode == 0, done.stdout + done.stderr

    build_targets()
    cold = pycache_env.totals()
    first = objects(build)
    assert cold["misses"] == len(first) >= 5 and cold["hits"] == 0

    subprocess.run(["ninja", "-C", str(build), "clean"], check=True, capture_output=True)
    assert objects(build) == {}
    pycache_env.zero_stats()
    build_targets()
    warm = pycache_env.totals()
    assert warm["misses"] == 0
    assert warm["hits"] == len(first)
    assert objects(build) == first

    for target in TARGETS:
        binary = next(build.rglob(target))
        run = subprocess.run([str(binary)], capture_output=True, text=True)
        assert run.returncode == 0, run.stdout
        assert "[  PASSED  ]" in run.stdout
