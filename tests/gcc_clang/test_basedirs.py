"""PYCACHE_BASEDIRS with two real checkouts (issue 13 C) and prefix maps
that cover a parent of the working directory (issue 13 B3).

Each test builds the same sources in two checkouts of different lengths
through pycache, and checks every artifact, stdout and stderr against the
compiler's own output in *that* checkout, and the hit/miss counts: a hit in
the second checkout must be exactly what its compiler would have written;
where the object would differ, it must miss.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pycache_core.stats import StatsFile
from pycache_core.testing import PycacheEnv

from .support import CLANG, GCC, needs_gcc, write

pytestmark = needs_gcc

COUNTERS = ("hits", "direct_hits", "preprocessor_hits", "misses", "not_cacheable", "errors")


@pytest.fixture
def penv(pycache_env: PycacheEnv) -> PycacheEnv:
    pycache_env.set(PYCACHE_NO_SERVER="1")
    return pycache_env


def build(penv: PycacheEnv, cwd: Path, argv: list[str], outputs: list[Path], env: dict[str, str] | None = None):
    """One compile through pycache, checked against the compiler's own in
    the same checkout; what the statistics say happened."""
    diff = penv.compile_like_the_compiler(*argv, cwd=cwd, outputs=outputs, env=env)
    assert not diff.get("errors"), StatsFile(penv.cache_dir).read()["errors"]
    return {k: v for k, v in diff.items() if k in COUNTERS}


MISS = {"misses": 1}
DIRECT_HIT = {"hits": 1, "direct_hits": 1}
PREPROCESSOR_HIT = {"hits": 1, "preprocessor_hits": 1}


def compilers():
    return [
        pytest.param(GCC, id="gcc"),
        pytest.param(CLANG, id="clang", marks=pytest.mark.skipif(CLANG is None, reason="clang is not installed")),
    ]


# --- two base directories per checkout ------------------------------------------------


@pytest.mark.parametrize("compiler", compilers())
def test_sources_and_a_dependency_tree_beside_them(penv: PycacheEnv, compiler: str) -> None:
    """Each checkout has its sources and, beside them, a tree of
    dependencies, both base directories. A hit in the second checkout
    names its own headers in the .d file and in a warning from a dependency
    header; direct mode checks the second checkout's dependency tree."""
    results = []
    for name in ("ck1", "second-checkout"):
        src, deps = penv.root / name / "src", penv.root / f"{name}-deps"
        write(src / "a.c", '#include "local.h"\n#include <dep.h>\nint f(int x) { return local(x) + dep(x); }\n')
        write(src / "inc" / "local.h", "static inline int local(int x) { return x + 1; }\n")
        write(deps / "include" / "dep.h", "static inline int dep(int x) { int unused; return x * 2; }\n")
        (src / "out").mkdir()
        env = {"PYCACHE_BASEDIRS": f"{src}:{deps}"}
        argv = [compiler, "-c", "a.c", "-Iinc", f"-I{deps}/include", "-Wall", "-MD", "-o", "out/a.o"]
        results.append(build(penv, src, argv, [src / "out/a.o", src / "out/a.d"], env=env))
        assert f"{deps}/include/dep.h".encode() in (src / "out/a.d").read_bytes()
    assert results == [MISS, DIRECT_HIT]

    # The second checkout's dependency tree changes: its manifest must notice.
    src, deps = penv.root / "second-checkout" / "src", penv.root / "second-checkout-deps"
    write(deps / "include" / "dep.h", "static inline int dep(int x) { return x * 3; }\n")
    env = {"PYCACHE_BASEDIRS": f"{src}:{deps}"}
    argv = [compiler, "-c", "a.c", "-Iinc", f"-I{deps}/include", "-Wall", "-MD", "-o", "out/a.o"]
    assert build(penv, src, argv, [src / "out/a.o", src / "out/a.d"], env=env) == MISS
    # ...while the first checkout, unchanged, still hits its own.
    src, deps = penv.root / "ck1" / "src", penv.root / "ck1-deps"
    env = {"PYCACHE_BASEDIRS": f"{src}:{deps}"}
    argv = [compiler, "-c", "a.c", "-Iinc", f"-I{deps}/include", "-Wall", "-MD", "-o", "out/a.o"]
    assert build(penv, src, argv, [src / "out/a.o", src / "out/a.d"], env=env) == DIRECT_HIT


def test_preprocessor_mode_relocates_the_same(penv: PycacheEnv) -> None:
    results = []
    for name in ("ck1", "second-checkout"):
        src, deps = penv.root / name / "src", penv.root / f"{name}-deps"
        write(src / "a.c", "#include <dep.h>\nint f(int x) { return dep(x); }\n")
        write(deps / "include" / "dep.h", "static inline int dep(int x) { int unused; return x * 2; }\n")
        env = {"PYCACHE_BASEDIRS": f"{src}:{deps}", "PYCACHE_DIRECT_MODE": "0"}
        argv = [GCC, "-c", f"{src}/a.c", f"-I{deps}/include", "-Wall", "-MMD", "-MP", "-o", f"{src}/a.o"]
        results.append(build(penv, src, argv, [src / "a.o", src / "a.d"], env=env))
    assert results == [MISS, PREPROCESSOR_HIT]


# --- exact, not textual ------------------------------------------------------------------


@pytest.mark.parametrize("compiler", compilers())
def test_relocation_is_exact(penv: PycacheEnv, compiler: str) -> None:
    """A base with a space (escaped in make syntax), a sibling /base2 that is
    not a base (a textual replace would rewrite it), the base itself at the
    end of a path list, long paths that wrap differently in each checkout."""
    shared = penv.root / "shared" / "my base2"
    write(shared / "sibling.h", "static inline int sibling(void) { int unused; return 3; }\n")
    results = []
    for name in ("my base", "my base-that-is-a-good-deal-longer"):
        root = penv.root / name
        write(root / "a.c", '#include "a_header_with_a_long_name_to_make_lines_wrap.h"\n#include "sibling.h"\n'
                            "int f(void) { return g() + sibling(); }\n")
        write(root / "a_header_with_a_long_name_to_make_lines_wrap.h", "static inline int g(void) { return 1; }\n")
        # The sibling of the base, by a path that starts with the base's own spelling.
        link = Path(f"{root}2")
        if not link.exists():
            link.symlink_to(shared)
        env = {"PYCACHE_BASEDIRS": str(root)}
        argv = [compiler, "-c", f"{root}/a.c", f"-I{link}", "-Wall", "-MD", "-MP", "-o", f"{root}/a.o"]
        results.append(build(penv, root, argv, [root / "a.o", root / "a.d"], env=env))
    # The second checkout's sibling is another directory: its paths differ, so it misses.
    assert results == [MISS, MISS]

    # The same sibling for both (not under any base): exact text, and a hit.
    results = []
    for name in ("my base", "my base-that-is-a-good-deal-longer"):
        root = penv.root / name
        argv = [compiler, "-c", f"{root}/a.c", f"-I{shared}", "-Wall", "-MD", "-MP", "-o", f"{root}/b.o"]
        results.append(build(penv, root, argv, [root / "b.o", root / "b.d"], env={"PYCACHE_BASEDIRS": str(root)}))
        assert f"{shared}/sibling.h".replace(" ", "\\ ").encode() in (root / "b.d").read_bytes()
    assert results == [MISS, DIRECT_HIT]


@pytest.mark.parametrize(
    ("source", "extra"),
    [
        # A #warning that prints the checkout's path: the message is source text.
        ('#warning built from {root}/a.c\nint x;\n', []),
        # A missing -I directory named in the message body.
        ("int x;\n", ["-Wmissing-include-dirs", "-I{root}/nowhere"]),
    ],
    ids=["warning-text", "missing-include-dir"],
)
def test_paths_in_message_bodies_are_not_relocated(penv: PycacheEnv, source: str, extra: list[str]) -> None:
    """A path where diagnostics name no location cannot be relocated
    exactly: the result stays with its checkout, and the second checkout
    compiles (and gets its compiler's own message)."""
    results = []
    for name in ("ck1", "second-checkout"):
        root = penv.root / name
        write(root / "a.c", source.format(root=penv.root / "ck1"))
        env = {"PYCACHE_BASEDIRS": str(root)}
        argv = [GCC, "-c", "a.c", *(e.format(root=root) for e in extra), "-o", "a.o"]
        results.append(build(penv, root, argv, [root / "a.o"], env=env))
        results.append(build(penv, root, argv, [root / "a.o"], env=env))
    assert results == [MISS, DIRECT_HIT, MISS, DIRECT_HIT]


# --- absolute paths everywhere (CMake) ------------------------------------------------------


@pytest.mark.parametrize("compiler", compilers())
def test_absolute_paths_everywhere(penv: PycacheEnv, compiler: str) -> None:
    """As CMake writes the command line: absolute -I, source, -o and -MF,
    the build directory outside the base. The .d file names the object as
    its target: it is rewritten for the second checkout's object, not keyed.
    (The working directory, outside every base, names the direct-mode
    manifest: the hit comes from the preprocessor.)"""
    penv.set(PYCACHE_DEPEND_MODE="false")  # preprocessor mode: its counts (depend mode: test_depend_mode.py)
    results = []
    for name in ("ck1", "second-checkout"):
        src, build_dir = penv.root / name, penv.root / f"build-{name}" / "CMakeFiles" / "a.dir"
        write(src / "a.c", '#include "a.h"\nint f(void) { return A; }\n')
        write(src / "include" / "a.h", "#define A 42\n")
        build_dir.mkdir(parents=True)
        argv = [compiler, f"-I{src}/include", "-O2", "-MD", "-MF", f"{build_dir}/a.c.o.d",
                "-o", f"{build_dir}/a.c.o", "-c", f"{src}/a.c"]
        results.append(build(penv, build_dir, argv, [build_dir / "a.c.o", build_dir / "a.c.o.d"],
                             env={"PYCACHE_BASEDIRS": str(src)}))
        assert (build_dir / "a.c.o.d").read_bytes().startswith(f"{build_dir}/a.c.o:".encode())
    assert results == [MISS, PREPROCESSOR_HIT]


# --- __FILE__ and what the object embeds -------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        'const char *where(void) { return __FILE__; }\n',
        '#include <assert.h>\nint check(int x) { assert(x > 0); return x; }\n',
        'const char *where(void) { return __builtin_FILE(); }\n',
    ],
    ids=["__FILE__", "assert", "__builtin_FILE"],
)
def test_the_source_path_in_the_object_is_never_served_to_another_checkout(penv: PycacheEnv, body: str) -> None:
    results = []
    for name in ("ck1", "second-checkout"):
        root = penv.root / name
        write(root / "a.c", body)
        argv = [GCC, "-c", f"{root}/a.c", "-o", f"{root}/a.o"]
        results.append(build(penv, root, argv, [root / "a.o"], env={"PYCACHE_BASEDIRS": str(root)}))
        assert str(root).encode() in (root / "a.o").read_bytes()
    assert results == [MISS, MISS]
    # Within one checkout it hits.
    root = penv.root / "ck1"
    argv = [GCC, "-c", f"{root}/a.c", "-o", f"{root}/a.o"]
    assert build(penv, root, argv, [root / "a.o"], env={"PYCACHE_BASEDIRS": str(root)}) == DIRECT_HIT


@pytest.mark.parametrize("option", ["-fsanitize=undefined", "-g"])
def test_instrumentation_and_debug_info_keep_paths(penv: PycacheEnv, option: str) -> None:
    """Sanitizer data and debug info name the source: with a base directory,
    the second checkout still compiles its own."""
    results = []
    for name in ("ck1", "second-checkout"):
        root = penv.root / name
        write(root / "a.c", "int f(int x, int y) { return x / y + (x << y); }\n")
        argv = [GCC, option, "-c", f"{root}/a.c", "-o", f"{root}/a.o"]
        results.append(build(penv, root, argv, [root / "a.o"], env={"PYCACHE_BASEDIRS": str(root)}))
    assert results == [MISS, MISS]


# --- prefix maps (issue 13 B3) ------------------------------------------------------------------


def _debug_build(penv, compiler, maps, names=("ck1", "second-checkout"), basedirs=True):
    results = []
    for name in names:
        root = penv.root / "parent" / name
        write(root / "a.c", '#include "inc/a.h"\nint f(int x) { return x * A; }\n')
        write(root / "inc" / "a.h", "#define A 3\n")
        argv = [compiler, "-g", *(m.format(root=root, parent=root.parent) for m in maps), "-c", "a.c", "-o", "a.o"]
        env = {"PYCACHE_BASEDIRS": str(root)} if basedirs else {}
        results.append(build(penv, root, argv, [root / "a.o"], env=env))
    return results


@pytest.mark.parametrize("compiler", compilers())
@pytest.mark.parametrize("basedirs", [True, False], ids=["basedirs", "no-basedirs"])
def test_a_prefix_map_covering_the_checkout_shares_debug_builds(penv, compiler, basedirs) -> None:
    for option in ("-fdebug-prefix-map", "-ffile-prefix-map"):
        assert _debug_build(penv, compiler, [f"{option}={{root}}=."], basedirs=basedirs)[1] in (DIRECT_HIT, PREPROCESSOR_HIT)


@pytest.mark.parametrize("compiler", compilers())
def test_a_prefix_map_covering_a_parent_keeps_the_rest_in_the_key(penv, compiler) -> None:
    """-fdebug-prefix-map=/parent=/x: the object embeds /x/ck1 and
    /x/second-checkout. Before issue 13 B3 the working directory was dropped
    from the key and the second checkout got the first one's object."""
    assert _debug_build(penv, compiler, ["-fdebug-prefix-map={parent}=/x"]) == [MISS, MISS]


@pytest.mark.parametrize("compiler", compilers())
def test_prefix_maps_apply_as_the_compiler_applies_them(penv, compiler) -> None:
    """Two matching maps: gcc takes the last one given, clang the longest
    old prefix -- so the same command lines share results under one
    compiler and not the other."""
    covering_last = ["-fdebug-prefix-map={parent}=/x", "-fdebug-prefix-map={root}=."]
    covering_first = ["-fdebug-prefix-map={root}=.", "-fdebug-prefix-map={parent}=/x"]
    assert _debug_build(penv, compiler, covering_last, names=("a1", "a22"))[1] != MISS
    shared = _debug_build(penv, compiler, covering_first, names=("b1", "b22"))[1]
    assert (shared != MISS) == (compiler == CLANG)


# --- basedirs in the config file ------------------------------------------------------------


@pytest.mark.parametrize("variable", [None, ""], ids=["file-only", "call-sets-none"])
def test_basedirs_from_the_config_file(penv: PycacheEnv, variable: str | None) -> None:
    """``basedirs`` in the config file serves every call that sets no
    PYCACHE_BASEDIRS (a relative entry from each call's working directory):
    a CMake-style absolute build in a second checkout hits. A call's own
    variable wins over the file, even empty (no base directories: miss)."""
    Path(penv.env["PYCACHE_CONFIG"]).write_text('basedirs = "."\n')
    results = []
    for name in ("ck1", "second-checkout"):
        root = penv.root / name
        write(root / "a.c", '#include "a.h"\nint f(int x) { return x * A; }\n')
        write(root / "inc" / "a.h", "#define A 3\n")
        argv = [GCC, "-c", f"{root}/a.c", f"-I{root}/inc", "-MD", "-o", f"{root}/a.o"]
        env = {} if variable is None else {"PYCACHE_BASEDIRS": variable}
        results.append(build(penv, root, argv, [root / "a.o", root / "a.d"], env=env))
        assert f"{root}/inc/a.h".encode() in (root / "a.d").read_bytes()
    assert results == ([MISS, DIRECT_HIT] if variable is None else [MISS, MISS])
