"""clang-cl through the real ``pycache`` command (a symlink named clang-cl
to Debian's clang, made per test and found through PATH): objects restored
on a hit are byte-identical to the compiler's own (``/Brepro``), output and
exit codes are replayed, keys change exactly when they must, and every
not-cacheable reason is counted."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from pycache_core.testing import PycacheEnv

from .support import make_clang_cl, needs_clang_cl, write

pytestmark = needs_clang_cl

COUNTERS = ("hits", "direct_hits", "preprocessor_hits", "misses", "compile_failed", "not_cacheable", "not_compilation", "errors")


@pytest.fixture
def penv(pycache_env: PycacheEnv) -> PycacheEnv:
    """Compiles run in the calling process (PYCACHE_NO_SERVER): statistics
    land at once and the machine's cores are not shared with a server. The
    masquerade test goes through the server. clang-cl is found on PATH."""
    bin_dir = pycache_env.root / "bin"
    make_clang_cl(bin_dir)
    pycache_env.set(PYCACHE_NO_SERVER="1", PATH=f"{bin_dir}{os.pathsep}{pycache_env.env.get('PATH', os.defpath)}")
    return pycache_env


@pytest.fixture
def tree(penv: PycacheEnv) -> Path:
    root = penv.root / "src"
    write(root / "a.c", '#include "a.h"\nint f(int x) { return x * A + X; }\n')
    write(root / "inc" / "a.h", "#define A 42\n#ifndef X\n#define X 0\n#endif\n")
    (root / "out").mkdir()
    return root


def _totals(penv: PycacheEnv) -> dict[str, float]:
    totals = penv.totals()
    return {k: totals.get(k, 0) for k in COUNTERS}


def cached(penv: PycacheEnv, cwd: Path, *argv: str, env=None):
    """One compile through pycache: the process and what the statistics say happened."""
    before = _totals(penv)
    done = penv.compile(*argv, cwd=cwd, env=env)
    after = _totals(penv)
    diff = {k: after[k] - before[k] for k in COUNTERS if after[k] != before[k]}
    assert not diff.get("errors"), penv.stats()["errors"]
    return done, diff


def reference(penv: PycacheEnv, cwd: Path, *argv: str, env=None) -> dict[str, bytes]:
    """The compiler's own result: run uncached with the outputs renamed
    ``ref-*`` by the caller's choice of arguments."""
    done = penv.direct(*argv, cwd=cwd, env=env)
    assert done.returncode == 0, done.stderr.decode()
    return done


def check(penv: PycacheEnv, cwd: Path, args, outputs, expected_diff, *, env=None):
    """Compile through pycache with ``outputs`` removed first, then
    uncached into the same paths; every output must be the same bytes, and
    stdout, stderr and exit code the same."""
    for path in outputs:
        path.unlink(missing_ok=True)
    done, diff = cached(penv, cwd, *args, env=env)
    assert done.returncode == 0, done.stderr.decode()
    got = {p: p.read_bytes() for p in outputs}
    for path in outputs:
        path.unlink()
    plain = reference(penv, cwd, *args, env=env)
    assert {p: p.read_bytes() for p in outputs} == got
    assert (done.stdout, done.stderr) == (plain.stdout, plain.stderr)
    assert diff == expected_diff, diff
    return done


def test_hits_are_the_compilers_own_object_slash_and_dash(penv: PycacheEnv, tree: Path) -> None:
    obj = [tree / "out" / "a.obj"]
    slash = ["clang-cl", "/c", "a.c", "/Iinc", "/O2", "/W4", "/Brepro", "/Foout/a.obj"]
    check(penv, tree, slash, obj, {"misses": 1})
    check(penv, tree, slash, obj, {"hits": 1, "direct_hits": 1})
    check(penv, tree, slash, obj, {"hits": 1, "preprocessor_hits": 1}, env={"PYCACHE_DIRECT_MODE": "false"})
    dash = ["clang-cl", "-c", "a.c", "-Iinc", "-O2", "-W4", "-Brepro", "-Foout/a.obj"]
    check(penv, tree, dash, obj, {"misses": 1})
    check(penv, tree, dash, obj, {"hits": 1, "direct_hits": 1})


def test_key_changes(penv: PycacheEnv, tree: Path) -> None:
    obj = [tree / "out" / "a.obj"]
    base = ["clang-cl", "/c", "a.c", "/Iinc", "/Brepro", "/Foout/a.obj"]
    check(penv, tree, base, obj, {"misses": 1})
    check(penv, tree, base, obj, {"hits": 1, "direct_hits": 1})
    # a /D the code uses, then one it does not: same preprocessed text
    check(penv, tree, [*base, "/DX=1"], obj, {"misses": 1})
    check(penv, tree, [*base, "/DUNUSED=1"], obj, {"hits": 1, "preprocessor_hits": 1})
    # /U undoes it
    check(penv, tree, [*base, "/DX=1", "/UX"], obj, {"hits": 1, "preprocessor_hits": 1})
    # CL is prepended, _CL_ appended: the compiler reads both
    check(penv, tree, base, obj, {"misses": 1}, env={"CL": "/DX#2"})
    check(penv, tree, base, obj, {"hits": 1, "direct_hits": 1}, env={"CL": "/DX#2"})
    check(penv, tree, base, obj, {"misses": 1}, env={"CL": "/DX#2", "_CL_": "/UX /DX=3"})
    check(penv, tree, base, obj, {"misses": 1}, env={"_CL_": "/O2"})
    # the header changes
    write(tree / "inc" / "a.h", "#define A 43\n#define X 0\n")
    check(penv, tree, base, obj, {"misses": 1})
    check(penv, tree, base, obj, {"hits": 1, "direct_hits": 1})


@pytest.mark.parametrize("notes", [[], ["/showIncludes"]], ids=["preprocessor-mode", "depend-mode"])
def test_direct_mode_follows_the_include_search(penv: PycacheEnv, tree: Path, notes) -> None:
    """%INCLUDE% decides which <header> is found, and MSVC's quoted search
    walks the include stack: a header appearing in an includer's directory,
    or %INCLUDE% naming another directory, must never hit the old result --
    whether the miss ran the preprocessor or was keyed from the compile's
    own /showIncludes (depend mode)."""
    write(tree / "m.c", '#include "sub/b.h"\n#include <v.h>\nint m(void) { return Q + V; }\n')
    write(tree / "sub" / "b.h", '#include "q.h"\n')
    write(tree / "q.h", "#define Q 1\n")  # found next to m.c, m.c being on the include stack
    write(tree / "sysA" / "v.h", "#define V 10\n")
    write(tree / "sysB" / "v.h", "#define V 20\n")
    obj = [tree / "out" / "m.obj"]
    args = ["clang-cl", "/c", "m.c", "/Brepro", "/Foout/m.obj", *notes]
    env_a = {"INCLUDE": str(tree / "sysA")}
    check(penv, tree, args, obj, {"misses": 1}, env=env_a)
    check(penv, tree, args, obj, {"hits": 1, "direct_hits": 1}, env=env_a)
    check(penv, tree, args, obj, {"misses": 1}, env={"INCLUDE": str(tree / "sysB")})
    write(tree / "sub" / "q.h", "#define Q 2\n")  # now the includer's own directory has one
    check(penv, tree, args, obj, {"misses": 1}, env=env_a)
    (tree / "sub" / "q.h").unlink()
    check(penv, tree, args, obj, {"hits": 1, "direct_hits": 1}, env=env_a)


def test_depend_mode_keys_misses_by_the_compiles_own_notes(penv: PycacheEnv, tree: Path) -> None:
    """With /showIncludes (as CMake and Ninja pass it) a miss runs no /E: the
    entry is keyed by the headers the compile listed. So another spelling of
    the same include directory is a miss there, but a preprocessor-mode hit
    without direct mode (which depend mode needs); a header edit is a miss
    either way."""
    obj = [tree / "out" / "a.obj"]
    base = ["clang-cl", "/c", "a.c", "/Brepro", "/showIncludes", "/Foout/a.obj"]
    check(penv, tree, [*base, "/Iinc"], obj, {"misses": 1})
    check(penv, tree, [*base, "/Iinc"], obj, {"hits": 1, "direct_hits": 1})
    check(penv, tree, [*base, "/I", "inc"], obj, {"misses": 1})
    # depend mode off: a manifest recorded in depend mode still serves ...
    check(penv, tree, [*base, "/Iinc"], obj, {"hits": 1, "direct_hits": 1}, env={"PYCACHE_DEPEND_MODE": "false"})
    # ... and without direct mode the misses run /E: two spellings, one text
    no_direct = {"PYCACHE_DIRECT_MODE": "0"}
    check(penv, tree, [*base, "/I", "inc"], obj, {"misses": 1}, env=no_direct)
    check(penv, tree, [*base, "/Iinc"], obj, {"hits": 1, "preprocessor_hits": 1}, env=no_direct)
    write(tree / "inc" / "a.h", "#define A 7\n#define X 1\n")
    check(penv, tree, [*base, "/Iinc"], obj, {"misses": 1})
    check(penv, tree, [*base, "/Iinc"], obj, {"hits": 1, "direct_hits": 1})
    check(penv, tree, [*base, "/Iinc"], obj, {"misses": 1}, env=no_direct)


def test_response_file_content_not_name(penv: PycacheEnv, tree: Path) -> None:
    obj = [tree / "out" / "a.obj"]
    rsp = tree / "args.rsp"
    rsp.write_text('/Iinc "/DX=1"\r\n/Brepro /Foout/a.obj')
    args = ["clang-cl", "/c", "a.c", "@args.rsp"]
    check(penv, tree, args, obj, {"misses": 1})
    check(penv, tree, args, obj, {"hits": 1, "direct_hits": 1})
    rsp.write_text('/Iinc "/DX=2"\r\n/Brepro /Foout/a.obj')
    check(penv, tree, args, obj, {"misses": 1})
    # another name, the same content: the same key
    shutil.copy(rsp, tree / "other.rsp")
    check(penv, tree, ["clang-cl", "/c", "a.c", "@other.rsp"], obj, {"hits": 1, "direct_hits": 1})


def test_fo_directory_form(penv: PycacheEnv, tree: Path) -> None:
    write(tree / "sub" / "b.c", '#include "../inc/a.h"\nint b(void) { return A; }\n')
    obj = [tree / "out" / "b.obj"]
    args = ["clang-cl", "/c", "sub/b.c", "/Brepro", "/Foout/"]
    check(penv, tree, args, obj, {"misses": 1})
    check(penv, tree, args, obj, {"hits": 1, "direct_hits": 1})


def test_show_includes_replayed_in_order(penv: PycacheEnv, tree: Path) -> None:
    write(tree / "inc" / "b.h", '#include "c.h"\n')
    write(tree / "inc" / "c.h", "#define C 1\n")
    write(tree / "s.c", '#include "a.h"\n#include "b.h"\nint s(void) { return A + C; }\n')
    obj = [tree / "out" / "s.obj"]
    args = ["clang-cl", "/nologo", "/c", "s.c", "/Iinc", "/Brepro", "/showIncludes", "/Foout/s.obj"]
    for diff in ({"misses": 1}, {"hits": 1, "direct_hits": 1}):
        done = check(penv, tree, args, obj, diff)
        assert done.stdout.splitlines() == [
            b"Note: including file: inc/a.h",
            b"Note: including file: inc/b.h",
            b"Note: including file:  inc/c.h",
        ]


def test_clang_dependency_file_restored(penv: PycacheEnv, tree: Path) -> None:
    outputs = [tree / "out" / "a.obj", tree / "out" / "a.d"]
    args = ["clang-cl", "/c", "a.c", "/Iinc", "/Brepro", "/Foout/a.obj", "-clang:-MD", "-clang:-MF", "-clang:out/a.d"]
    check(penv, tree, args, outputs, {"misses": 1})
    done = check(penv, tree, args, outputs, {"hits": 1, "direct_hits": 1})
    assert b"inc/a.h" in (tree / "out" / "a.d").read_bytes()
    assert done.returncode == 0


def test_debug_objects_under_different_names(penv: PycacheEnv, tree: Path) -> None:
    """/Z7 objects record their own absolute path: another name is another
    result, and each hit is the object the compiler writes under that name."""
    one, two = tree / "out" / "one.obj", tree / "out" / "two.obj"
    args = ["clang-cl", "/c", "a.c", "/Iinc", "/Z7", "/Brepro"]
    check(penv, tree, [*args, "/Foout/one.obj"], [one], {"misses": 1})
    check(penv, tree, [*args, "/Foout/two.obj"], [two], {"misses": 1})
    check(penv, tree, [*args, "/Foout/one.obj"], [one], {"hits": 1, "direct_hits": 1})
    check(penv, tree, [*args, "/Foout/two.obj"], [two], {"hits": 1, "preprocessor_hits": 1}, env={"PYCACHE_DIRECT_MODE": "0"})
    assert one.read_bytes() != two.read_bytes()
    # /Zi is /Z7 to clang-cl: no PDB is written, with or without /Fd
    check(penv, tree, [*args[:-2], "/Zi", "/Brepro", "/Foout/one.obj", "/Fdout/one.pdb"], [one], {"misses": 1})
    check(penv, tree, [*args[:-2], "/Zi", "/Brepro", "/Foout/one.obj", "/Fdout/one.pdb"], [one], {"hits": 1, "direct_hits": 1})
    assert not (tree / "out" / "one.pdb").exists()


def test_warnings_replayed_errors_not_cached(penv: PycacheEnv, tree: Path) -> None:
    write(tree / "w.c", "int f(int x) { int unused; return x; }\n")
    obj = [tree / "out" / "w.obj"]
    args = ["clang-cl", "/nologo", "/c", "w.c", "/W4", "/Brepro", "/Foout/w.obj"]
    for diff in ({"misses": 1}, {"hits": 1, "direct_hits": 1}):
        done = check(penv, tree, args, obj, diff)
        assert b"warning" in done.stderr and b"unused" in done.stderr
    write(tree / "e.c", "int f(void) { return missing; }\n")
    args = ["clang-cl", "/nologo", "/c", "e.c", "/Foout/e.obj"]
    plain = penv.direct(*args, cwd=tree)
    assert plain.returncode != 0
    for _ in range(2):
        done, diff = cached(penv, tree, *args)
        assert diff == {"compile_failed": 1}
        assert (done.returncode, done.stdout, done.stderr) == (plain.returncode, plain.stdout, plain.stderr)
    assert not (tree / "out" / "e.obj").exists()


def test_precompiled_headers(penv: PycacheEnv, tree: Path) -> None:
    """/Yc is cached with its .pch; /Yu keys the .pch's content, so a PCH
    rebuilt with another /D never hits the entry made with the old one."""
    write(tree / "pch.h", "#pragma once\n#ifndef K\n#define K 1\n#endif\ntemplate <class T> T twice(T x) { return x + x; }\n")
    write(tree / "pch.cpp", '#include "pch.h"\n')
    write(tree / "use.cpp", '#include "pch.h"\nint g() { return twice(K); }\n')
    create = ["clang-cl", "/c", "pch.cpp", "/Ycpch.h", "/Fpout/pch.pch", "/Foout/pch.obj", "/Brepro", "-Xclang", "-fno-pch-timestamp"]
    made = [tree / "out" / "pch.obj", tree / "out" / "pch.pch"]
    use = ["clang-cl", "/c", "use.cpp", "/Yupch.h", "/Fpout/pch.pch", "/Foout/use.obj", "/Brepro"]
    used = [tree / "out" / "use.obj"]
    check(penv, tree, create, made, {"misses": 1})
    check(penv, tree, create, made, {"hits": 1, "direct_hits": 1})
    check(penv, tree, use, used, {"misses": 1})
    check(penv, tree, use, used, {"hits": 1, "direct_hits": 1})
    first = used[0].read_bytes()
    # the PCH rebuilt with K=5: /E still reads pch.h as text (K=1), the compile reads the .pch
    check(penv, tree, [*create, "/DK=5"], made, {"misses": 1})
    check(penv, tree, use, used, {"misses": 1})
    check(penv, tree, use, used, {"hits": 1, "direct_hits": 1}, env={"PYCACHE_DIRECT_MODE": "1"})
    assert used[0].read_bytes() != first
    # a PCH with header times cannot be restored safely
    done, diff = cached(penv, tree, *create[:-2])
    assert done.returncode == 0 and diff == {"not_cacheable": 1}
    assert penv.stats()["not_cacheable_reasons"].get("pch-timestamp") == 1


NOT_CACHEABLE = [
    (["clang-cl", "a.c", "/Iinc", "/Feout/prog.exe", "/link", "/entry:f", "/subsystem:console"], "not_cacheable", "linking"),
    (["clang-cl", "/c", "a.c", "/Iinc", "/Zs"], "not_cacheable", "syntax-only"),
    (["clang-cl", "/c", "a.c", "/Iinc", "/FA", "/Faout/"], "not_cacheable", "assembly-output"),
    (["clang-cl", "/c", "a.c", "/Iinc", "/sourceDependencies", "out/a.json", "/Foout/sd.obj"], "not_cacheable", "source-dependencies"),
    (["clang-cl", "/c", "a.c", "/Iinc", "-Zbogus"], "not_cacheable", "unknown-option"),
    (["clang-cl", "/c", "a.c", "/Iinc", "/Fo:out/x.obj"], "not_cacheable", "unsupported-option"),
    (["clang-cl", "/E", "a.c", "/Iinc"], "not_compilation", "preprocess-only"),
    (["clang-cl", "--version"], "not_compilation", "version-probe"),
]


def test_not_cacheable_calls_run_as_given_and_are_counted(penv: PycacheEnv, tree: Path) -> None:
    """The compiler runs as it would uncached -- its own messages (clang-cl
    14's warning that /sourceDependencies is unused) pass through."""
    for argv, _, _ in NOT_CACHEABLE:
        plain = penv.direct(*argv, cwd=tree)
        done = penv.run(argv, cwd=tree)
        assert (done.returncode, done.stdout, done.stderr) == (plain.returncode, plain.stdout, plain.stderr), argv
    assert b"sourceDependencies" in penv.direct(*NOT_CACHEABLE[3][0], cwd=tree).stderr
    stats = penv.stats()
    for _, kind, reason in NOT_CACHEABLE:
        assert stats[f"{kind}_reasons"].get(reason) == 1, (kind, reason, stats[f"{kind}_reasons"])
    assert stats["totals"]["hits"] == 0 and stats["totals"]["misses"] == 0


def test_masquerade_symlink_named_clang_cl(pycache_env: PycacheEnv, tree: Path) -> None:
    """A symlink named clang-cl to pycache, first on PATH, finds the real
    clang-cl later on PATH and runs it under that name; through the server."""
    masquerade = pycache_env.root / "masq"
    masquerade.mkdir()
    (masquerade / "clang-cl").symlink_to(pycache_env.executable)
    real = make_clang_cl(pycache_env.root / "real")
    path = f"{masquerade}{os.pathsep}{real.parent}{os.pathsep}{pycache_env.env.get('PATH', os.defpath)}"
    args = [str(masquerade / "clang-cl"), "/c", "a.c", "/Iinc", "/Brepro", "/Foout/a.obj"]
    env = {**pycache_env.env, "PATH": path}
    plain = subprocess.run([str(real), *args[1:]], cwd=tree, env=env, capture_output=True, check=False)
    assert plain.returncode == 0, plain.stderr
    expected = (tree / "out" / "a.obj").read_bytes()
    for _ in range(2):
        (tree / "out" / "a.obj").unlink()
        done = subprocess.run(["clang-cl", *args[1:]], cwd=tree, env=env, capture_output=True, check=False)
        assert done.returncode == 0, done.stderr
        assert (tree / "out" / "a.obj").read_bytes() == expected
    msvc = pycache_env.stats()["families"]["msvc"]
    assert (msvc["misses"], msvc["hits"]) == (1, 1)


def test_checkouts_share_results_and_notes_name_the_current_one(penv: PycacheEnv, tree: Path) -> None:
    """PYCACHE_BASEDIRS: a second checkout hits the first one's entry, and
    the replayed /showIncludes notes name the second checkout's headers."""
    for name in ("one", "two"):
        root = penv.root / name
        shutil.copytree(tree, root)
        args = ["clang-cl", "/nologo", "/c", f"{root}/a.c", f"/I{root}/inc", "/Brepro", "/showIncludes", "/Foout/a.obj"]
        done = check(penv, root, args, [root / "out" / "a.obj"], {"misses": 1} if name == "one" else {"hits": 1, "direct_hits": 1},
                     env={"PYCACHE_BASEDIRS": str(root)})
        assert done.stdout == f"Note: including file: {root}/inc/a.h\n".encode()


def test_pycache_plugins_shows_the_family(penv: PycacheEnv) -> None:
    done = penv.run(["plugins", "--json"])
    assert done.returncode == 0, done.stderr
    families = [f for p in json.loads(done.stdout)["plugins"] for f in p.get("families", [])]
    msvc = next(f for f in families if f["name"] == "msvc")
    assert msvc["precedence"] == 10


@pytest.mark.parametrize("embeds", ["__FILE__ in the source", "a /D value naming the checkout"])
def test_checkouts_keep_a_result_that_embeds_a_path(penv: PycacheEnv, tree: Path, embeds: str) -> None:
    """Depend mode sees no preprocessed text: a file macro in a file the
    compile read, or a /D value under a base directory, keeps the entry with
    its checkout -- the second checkout compiles its own object."""
    for name in ("one", "two"):
        root = penv.root / name
        shutil.copytree(tree, root)
        extra = []
        if embeds.startswith("__FILE__"):
            write(root / "a.c", '#include "a.h"\nconst char *where = __FILE__;\n')
        else:
            write(root / "a.c", '#include "a.h"\nconst char *where = WHERE;\n')
            extra = [f'/DWHERE="{root}"']
        args = ["clang-cl", "/nologo", "/c", f"{root}/a.c", f"/I{root}/inc", "/Brepro", "/showIncludes", *extra, "/Foout/a.obj"]
        check(penv, root, args, [root / "out" / "a.obj"], {"misses": 1}, env={"PYCACHE_BASEDIRS": str(root)})
        assert str(root).encode() in (root / "out" / "a.obj").read_bytes()


def test_a_symlinked_object_is_replaced_as_clang_cl_replaces_it(penv: PycacheEnv, tree: Path) -> None:
    """clang-cl replaces a symbolic link at /Fo by the object and leaves the
    link's target alone; a miss and a hit do the same (issue 13 A4)."""
    args = ["clang-cl", "/nologo", "/c", "a.c", "/Iinc", "/Brepro", "/Foout/a.obj"]
    link, target = tree / "out" / "a.obj", tree / "target.obj"
    results = []
    for expected in ({"misses": 1}, {"hits": 1, "direct_hits": 1}):
        target.write_bytes(b"the link's target\n")
        link.unlink(missing_ok=True)
        link.symlink_to(target)
        done, diff = cached(penv, tree, *args)
        assert (done.returncode, diff) == (0, expected), done.stderr
        assert not link.is_symlink() and target.read_bytes() == b"the link's target\n"
        results.append(link.read_bytes())
    link.unlink()
    link.symlink_to(target)
    assert reference(penv, tree, *args).returncode == 0
    assert not link.is_symlink() and target.read_bytes() == b"the link's target\n"
    assert results == [link.read_bytes()] * 2
