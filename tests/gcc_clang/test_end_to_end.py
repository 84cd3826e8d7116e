"""gcc and clang through the real ``pycache`` command: artifacts restored on
a hit are byte-identical to an uncached compile, output and exit codes are
replayed, keys change exactly when they must, every not-cacheable reason is
counted, and direct mode stays correct when headers change under it."""

from __future__ import annotations

import os
import pty
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from pycache_core.stats import StatsFile
from pycache_core.testing import PycacheEnv

from .support import CLANG, GCC, needs_gcc, write

pytestmark = needs_gcc

COUNTERS = ("hits", "direct_hits", "preprocessor_hits", "misses", "compile_failed", "not_cacheable", "not_compilation", "errors")


@pytest.fixture
def penv(pycache_env: PycacheEnv) -> PycacheEnv:
    """Compiles run in the calling process (PYCACHE_NO_SERVER): statistics
    land in the cache directory at once, and the machine's two cores are not
    shared with a server. One test below goes through the server."""
    pycache_env.set(PYCACHE_NO_SERVER="1")
    return pycache_env


def _stats(penv: PycacheEnv) -> dict:
    return StatsFile(penv.cache_dir).read()


def _totals(penv: PycacheEnv) -> dict[str, float]:
    totals = _stats(penv)["totals"]
    return {k: totals.get(k, 0) for k in COUNTERS}


def cached(penv: PycacheEnv, cwd: Path, *argv: str, env=None):
    """Run one compile through pycache; return the process and what the
    statistics say happened."""
    before = _totals(penv)
    done = penv.compile(*argv, cwd=cwd, env=env)
    after = _totals(penv)
    diff = {k: after[k] - before[k] for k in COUNTERS if after[k] != before[k]}
    assert not diff.get("errors"), _stats(penv)["errors"]
    return done, diff


def compilers() -> list:
    params = [pytest.param(GCC, id="gcc")]
    params.append(
        pytest.param(
            CLANG, id="clang",
            marks=pytest.mark.skipif(CLANG is None, reason="clang is not installed (no clang, clang-14 or /usr/lib/llvm-14/bin/clang)"),
        )
    )
    return params


@pytest.fixture
def tree(pycache_env: PycacheEnv) -> Path:
    root = pycache_env.root / "src"
    write(root / "a.c", '#include "a.h"\nint f(int x) { return x * A + X; }\n')
    write(root / "inc" / "a.h", "#define A 42\n#ifndef X\n#define X 0\n#endif\n")
    (root / "out").mkdir()
    return root


def _read(paths):
    return {p: Path(p).read_bytes() for p in paths}


@pytest.mark.parametrize("compiler", compilers())
def test_artifacts_identical_between_uncached_and_hit(penv: PycacheEnv, tree: Path, compiler: str) -> None:
    penv.set(PYCACHE_DEPEND_MODE="false")  # preprocessor mode: its counts (depend mode: test_depend_mode.py)
    args = [compiler, "-c", "a.c", "-Iinc", "-O1", "-g", "-gsplit-dwarf", "-MD", "-o", "out/a.o"]
    outputs = [tree / "out" / n for n in ("a.o", "a.d", "a.dwo")]
    reference = penv.direct(*args, cwd=tree)
    assert reference.returncode == 0, reference.stderr
    expected = _read(outputs)
    results = []
    for env in (None, None, {"PYCACHE_DIRECT_MODE": "false"}):
        for path in outputs:
            path.unlink()
        done, diff = cached(penv, tree, *args, env=env)
        assert done.returncode == 0, done.stderr
        assert _read(outputs) == expected
        results.append(diff)
    assert results[0] == {"misses": 1}
    assert results[1] == {"hits": 1, "direct_hits": 1}
    assert results[2] == {"hits": 1, "preprocessor_hits": 1}


@pytest.mark.parametrize("compiler", compilers())
def test_coverage_notes_restored(penv: PycacheEnv, tree: Path, compiler: str) -> None:
    args = [compiler, "-c", "a.c", "-Iinc", "--coverage", "-o", "out/a.o"]
    outputs = [tree / "out" / "a.o", tree / "out" / "a.gcno"]
    done, diff = cached(penv, tree, *args)
    assert done.returncode == 0 and diff == {"misses": 1}
    compiled = _read(outputs)
    for path in outputs:
        path.unlink()
    done, diff = cached(penv, tree, *args)
    assert diff == {"hits": 1, "direct_hits": 1}
    # gcc stamps each .gcno (and its object) anew per compile, so the
    # reference is the compile that filled the cache; both must agree.
    assert _read(outputs) == compiled


@pytest.mark.parametrize("compiler", compilers())
def test_diagnostics_and_exit_code_replayed(penv: PycacheEnv, tree: Path, compiler: str) -> None:
    write(tree / "w.c", "int f(int x) { int unused; return x; }\nint g(void) { return 1 / 0; }\n")
    args = [compiler, "-c", "w.c", "-Wall", "-o", "out/w.o"]
    reference = penv.direct(*args, cwd=tree)
    assert reference.returncode == 0 and b"warning" in reference.stderr
    for expected in ({"misses": 1}, {"hits": 1, "direct_hits": 1}):
        done, diff = cached(penv, tree, *args)
        assert diff == expected
        assert (done.returncode, done.stdout, done.stderr) == (reference.returncode, reference.stdout, reference.stderr)


@pytest.mark.parametrize("compiler", compilers())
def test_failed_compile_is_not_cached(penv: PycacheEnv, tree: Path, compiler: str) -> None:
    write(tree / "e.c", "int f(void) { return missing; }\n")
    args = [compiler, "-c", "e.c", "-o", "out/e.o"]
    reference = penv.direct(*args, cwd=tree)
    assert reference.returncode != 0
    for _ in range(2):
        done, diff = cached(penv, tree, *args)
        assert diff == {"compile_failed": 1}
        assert (done.returncode, done.stderr) == (reference.returncode, reference.stderr)
    assert not (tree / "out" / "e.o").exists()


def test_colour_kept_on_a_terminal(pycache_env: PycacheEnv, tree: Path) -> None:
    """Through the server: the miss is stored with colour, a pipe gets it
    stripped, a terminal gets it back on a hit."""
    write(tree / "w.c", "int f(int x) { int unused; return x; }\n")
    args = ["gcc", "-c", "w.c", "-Wall", "-o", "out/w.o"]
    plain = pycache_env.direct(*args, cwd=tree)
    done = pycache_env.compile(*args, cwd=tree)
    assert done.returncode == 0 and done.stderr == plain.stderr
    master, slave = pty.openpty()
    try:
        proc = subprocess.run(
            [pycache_env.executable, *args], cwd=tree, env=pycache_env.env, stdout=subprocess.PIPE, stderr=slave,
            timeout=120,
        )
        os.close(slave)
        slave = -1
        chunks = []
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        if slave >= 0:
            os.close(slave)
        os.close(master)
    assert proc.returncode == 0
    terminal = b"".join(chunks)
    assert b"\x1b[" in terminal and b"warning" in terminal
    totals = pycache_env.totals()
    assert (totals["misses"], totals["hits"]) == (1, 1)


def test_key_changes(penv: PycacheEnv, tree: Path) -> None:
    penv.set(PYCACHE_DEPEND_MODE="false")  # preprocessor mode: its counts (depend mode: test_depend_mode.py)
    base = ["gcc", "-c", "a.c", "-Iinc", "-o", "out/a.o"]
    assert cached(penv, tree, *base)[1] == {"misses": 1}
    assert cached(penv, tree, *base)[1] == {"hits": 1, "direct_hits": 1}
    # same preprocessed output, another spelling: a preprocessor-mode hit
    assert cached(penv, tree, "gcc", "-c", "a.c", "-I", "inc", "-o", "out/a.o")[1] == {"hits": 1, "preprocessor_hits": 1}
    # an include directory that contributes nothing, in any spelling: the
    # preprocessed output is the same, so is the result
    write(tree / "unused" / "x.h", "")
    assert cached(penv, tree, *base, "-I./unused")[1] == {"hits": 1, "preprocessor_hits": 1}
    assert cached(penv, tree, *base, "-Iunused")[1] == {"hits": 1, "preprocessor_hits": 1}
    # -I./inc changes the line markers (./inc/a.h): gcc would print that path
    # in diagnostics and debug info, so it is a different result.
    assert cached(penv, tree, "gcc", "-c", "a.c", "-I./inc", "-o", "out/a.o")[1] == {"misses": 1}
    # a -D that changes the code
    assert cached(penv, tree, *base, "-DX=1")[1] == {"misses": 1}
    assert cached(penv, tree, *base, "-DX=2")[1] == {"misses": 1}
    # CPATH is read by the compiler
    assert cached(penv, tree, *base, env={"CPATH": str(tree / "unused")})[1] == {"misses": 1}
    # another compiler
    if CLANG:
        assert cached(penv, tree, CLANG, *base[1:])[1] == {"misses": 1}
    # the header changes
    write(tree / "inc" / "a.h", "#define A 43\n#define X 0\n")
    assert cached(penv, tree, *base)[1] == {"misses": 1}
    reference = penv.direct(*base[:-1], "out/ref.o", cwd=tree)
    assert reference.returncode == 0
    assert (tree / "out" / "a.o").read_bytes() == (tree / "out" / "ref.o").read_bytes()


def test_base_directories_share_results_between_checkouts(penv: PycacheEnv, tree: Path) -> None:
    one = penv.root / "one"
    shutil.copytree(tree, one)
    two = penv.root / "two"
    shutil.copytree(tree, two)
    results = []
    for root in (one, two):
        args = ["gcc", "-c", f"{root}/a.c", f"-I{root}/inc", "-MD", "-o", "out/a.o"]
        done, diff = cached(penv, root, *args, env={"PYCACHE_BASEDIRS": str(root)})
        assert done.returncode == 0, done.stderr
        results.append(diff)
        got = _read([root / "out" / "a.o", root / "out" / "a.d"])
        reference = penv.direct(*args, cwd=root)
        assert reference.returncode == 0
        assert got == _read([root / "out" / "a.o", root / "out" / "a.d"])
        assert str(root).encode() in got[root / "out" / "a.d"]
    assert results == [{"misses": 1}, {"hits": 1, "direct_hits": 1}]


NOT_CACHEABLE = [
    (["gcc", "a.c", "-Iinc", "-o", "prog", "-nostartfiles", "-e", "f"], "not_cacheable", "linking"),
    (["gcc", "-c", "a.c", "b.c", "-Iinc"], "not_cacheable", "multiple-sources"),
    (["gcc", "-c", "-x", "c", "-", "-o", "out/stdin.o"], "not_cacheable", "stdin-input"),
    (["gcc", "-c", "a.c", "-Iinc", "-save-temps"], "not_cacheable", "save-temps"),
    (["gcc", "-c", "inc/a.h"], "not_cacheable", "pch-creation"),
    (["g++", "-fmodules-ts", "-c", "m.cpp", "-o", "out/m.o"], "not_cacheable", "modules"),
    (["gcc", "-fsyntax-only", "-c", "a.c", "-Iinc"], "not_cacheable", "syntax-only"),
    (["gcc", "-c", "a.c", "-Iinc", "-o", "-"], "not_cacheable", "output-to-stdout"),
    (["gcc", "-c", "a.c", "-Iinc", "-Zbogus"], "not_cacheable", "unknown-option"),
    (["gcc", "-c", "a.c", "-Iinc", "-fstack-usage"], "not_cacheable", "extra-output"),
    (["gcc", "-S", "inc/s.S"], "not_cacheable", "assembly-output"),
    (["gcc", "-E", "a.c", "-Iinc"], "not_compilation", "preprocess-only"),
    (["gcc", "-M", "a.c", "-Iinc"], "not_compilation", "preprocess-only"),
    (["gcc", "--version"], "not_compilation", "version-probe"),
    (["gcc", "-dumpmachine"], "not_compilation", "version-probe"),
]


def test_not_cacheable_calls_run_and_are_counted(penv: PycacheEnv, tree: Path) -> None:
    write(tree / "b.c", "int b;\n")
    write(tree / "m.cpp", "export module m;\nexport int m() { return 1; }\n")
    write(tree / "inc" / "s.S", ".text\nnop\n")
    for argv, _, _ in NOT_CACHEABLE:
        stdin = b"int s;\n" if "-" in argv else None
        reference = subprocess.run(argv, cwd=tree, input=stdin, capture_output=True, env=penv.env)
        done = penv.run(argv, cwd=tree, input=stdin)
        assert (done.returncode, done.stdout) == (reference.returncode, reference.stdout), argv
    stats = _stats(penv)
    expected: dict[tuple[str, str], int] = {}
    for _, kind, reason in NOT_CACHEABLE:
        expected[kind, reason] = expected.get((kind, reason), 0) + 1
    for (kind, reason), count in expected.items():
        assert stats[f"{kind}_reasons"].get(reason) == count, (kind, reason, stats[f"{kind}_reasons"])
    assert stats["totals"]["hits"] == 0 and stats["totals"]["misses"] == 0


def _check_against_uncached(penv: PycacheEnv, root: Path, args):
    """Compile through pycache, then uncached; the objects must be equal."""
    done, diff = cached(penv, root, *args)
    if done.returncode != 0:
        reference = penv.direct(*args, cwd=root)
        assert (done.returncode, done.stderr) == (reference.returncode, reference.stderr)
        return done, diff
    got = (root / "out" / "a.o").read_bytes()
    reference = penv.direct(*args[:-1], "out/ref.o", cwd=root)
    assert reference.returncode == 0
    assert got == (root / "out" / "ref.o").read_bytes()
    return done, diff


def test_direct_mode_follows_header_changes(penv: PycacheEnv) -> None:
    penv.set(PYCACHE_DEPEND_MODE="false")  # preprocessor mode: its counts (depend mode: test_depend_mode.py)
    root = penv.root / "direct"
    write(root / "src" / "a.c", '#include "h.h"\n#include <g.h>\nint v = H + G;\n')
    write(root / "second" / "h.h", "#define H 1\n")
    write(root / "second" / "g.h", "#define G 10\n")
    (root / "out").mkdir()
    args = ["gcc", "-c", "src/a.c", "-Ifirst", "-Isecond", "-o", "out/a.o"]
    assert _check_against_uncached(penv, root, args)[1] == {"misses": 1}
    assert _check_against_uncached(penv, root, args)[1] == {"hits": 1, "direct_hits": 1}
    # edited header
    write(root / "second" / "h.h", "#define H 2\n")
    assert _check_against_uncached(penv, root, args)[1] == {"misses": 1}
    assert _check_against_uncached(penv, root, args)[1] == {"hits": 1, "direct_hits": 1}
    # a header appears earlier on the include path (and in a directory that did not exist)
    write(root / "first" / "h.h", "#define H 3\n")
    assert _check_against_uncached(penv, root, args)[1] == {"misses": 1}
    # a header appears next to the source: quoted includes look there first
    write(root / "src" / "h.h", "#define H 4\n")
    assert _check_against_uncached(penv, root, args)[1] == {"misses": 1}
    # an angled include shadowed in an earlier -I directory
    write(root / "first" / "g.h", "#define G 20\n")
    assert _check_against_uncached(penv, root, args)[1] == {"misses": 1}
    # removing the shadows brings back an earlier result, correctly
    (root / "src" / "h.h").unlink()
    (root / "first" / "h.h").unlink()
    (root / "first" / "g.h").unlink()
    done, diff = _check_against_uncached(penv, root, args)
    assert diff.get("hits") == 1
    # a deleted header: the compile fails as it would uncached
    (root / "second" / "h.h").unlink()
    done, diff = _check_against_uncached(penv, root, args)
    assert done.returncode != 0 and "hits" not in diff


def test_time_macros_never_hit_in_direct_mode(penv: PycacheEnv) -> None:
    penv.set(PYCACHE_DEPEND_MODE="false")  # preprocessor mode: its counts (depend mode: test_depend_mode.py)
    root = penv.root / "time"
    write(root / "t.c", '#include "stamp.h"\nconst char *when = STAMP;\n')
    write(root / "stamp.h", "#define STAMP __TIME__\n")
    (root / "out").mkdir()
    args = ["gcc", "-c", "t.c", "-o", "out/a.o"]
    done, diff = cached(penv, root, *args)
    assert diff == {"misses": 1}
    first = (root / "out" / "a.o").read_bytes()
    time.sleep(1.1)
    done, diff = cached(penv, root, *args)
    assert diff == {"misses": 1}  # no manifest was recorded; the new time is a new key
    assert (root / "out" / "a.o").read_bytes() != first


def test_kernel_style_dependency_file_hits_directly(penv: PycacheEnv, tree: Path) -> None:
    args = ["gcc", "-c", "a.c", "-Iinc", "-Wp,-MMD,out/.a.o.d", "-o", "out/a.o"]
    reference = penv.direct(*args, cwd=tree)
    expected = _read([tree / "out" / "a.o", tree / "out" / ".a.o.d"])
    for outcome in ({"misses": 1}, {"hits": 1, "direct_hits": 1}):
        for path in expected:
            path.unlink()
        done, diff = cached(penv, tree, *args)
        assert done.returncode == reference.returncode == 0
        assert diff == outcome
        assert _read(expected) == expected
