"""Depend mode (the default): a gcc/clang miss runs only the compile and is
keyed from the compiler's own dependency list; hits come through direct mode.

The compiler is the real gcc or clang behind a script that logs its
arguments, so each test sees which runs pycache made: on a depend-mode miss
the compile (with ``-MD -MF <scratch>`` added when the caller asked for no
dependency file) and at most the include-search probe of an empty input,
never a preprocessor run of the source. Every result is compared with the
compiler's own (exit status, stdout, stderr, every output file).
"""

from __future__ import annotations

import os
import stat
import time
from pathlib import Path

import pytest

from pycache_core.testing import PycacheEnv

from .support import CLANG, GCC, needs_gcc, write
from .test_end_to_end import _stats, penv  # noqa: F401  (penv is a fixture)

pytestmark = needs_gcc

MISS = {"misses": 1}
DIRECT_HIT = {"hits": 1, "direct_hits": 1}
PREPROCESSOR_HIT = {"hits": 1, "preprocessor_hits": 1}
NOT_STORED = {"not_cacheable": 1}  # compiled, not stored, the reason counted

LOGGER = """#!/bin/sh
echo "$*" >> "{log}"
exec {compiler} "$@"
"""


def compilers() -> list:
    return [
        pytest.param(GCC, id="gcc"),
        pytest.param(CLANG, id="clang", marks=pytest.mark.skipif(CLANG is None, reason="clang is not installed")),
    ]


class Project:
    """A source tree, a logging wrapper named like the compiler, and the
    runs pycache made through it since the last `runs` call."""

    def __init__(self, penv: PycacheEnv, compiler: str) -> None:
        self.penv = penv
        self.root = penv.root / "p"
        self.root.mkdir(parents=True, exist_ok=True)
        self.log = penv.root / "runs.log"
        name = "clang" if compiler == CLANG else "gcc"
        self.wrapper = write(penv.root / "bin" / name, LOGGER.format(log=self.log, compiler=os.path.realpath(compiler)))
        self.wrapper.chmod(self.wrapper.stat().st_mode | stat.S_IXUSR)
        self.compiler = compiler

    def build(self, *args: str, outputs=("a.o",), env=None) -> dict:
        """Through pycache and then uncached, compared; the counters' change."""
        diff = self.penv.compile_like_the_compiler(
            str(self.wrapper), *args, cwd=self.root, outputs=[self.root / o for o in outputs], env=env
        )
        return {k: v for k, v in diff.items() if k in ("hits", "direct_hits", "preprocessor_hits", "misses", "not_cacheable")}

    def runs(self) -> list[str]:
        """The wrapper's runs made by pycache (the last one is the uncached reference)."""
        lines = self.log.read_text().splitlines() if self.log.exists() else []
        self.log.unlink(missing_ok=True)
        return lines[:-1]


def _preprocessed_the_source(runs: list[str]) -> bool:
    return any(r.startswith(("-v -E", "-E")) and not r.endswith(os.devnull) for r in runs)


def _compiles(runs: list[str]) -> list[str]:
    """The compiles of a source (not the probes of an empty input)."""
    return [r for r in runs if " -c " in f" {r} " and os.devnull not in r.split()]


@pytest.mark.parametrize("compiler", compilers())
def test_a_miss_runs_only_the_compile_and_a_hit_gives_the_compilers_bytes(penv: PycacheEnv, compiler: str) -> None:
    p = Project(penv, compiler)
    write(p.root / "a.c", '#include "h.h"\n#include <stddef.h>\nsize_t f(void) { return H; }\n')
    write(p.root / "inc" / "h.h", "#define H 1\n")
    args = ("-c", "a.c", "-Iinc", "-O1", "-o", "a.o")
    assert p.build(*args) == MISS
    runs = p.runs()
    assert not _preprocessed_the_source(runs), runs
    (compile_run,) = _compiles(runs)
    assert compile_run.endswith(".d") and " -MD -MF " in compile_run  # the scratch list, for this run only
    assert not list(p.root.glob("*.d")), "the scratch dependency file is not left in the tree"
    assert p.build(*args) == DIRECT_HIT
    assert _compiles(p.runs()) == []
    # A header edit misses; the edit undone hits the first entry again.
    write(p.root / "inc" / "h.h", "#define H 2\n")
    assert p.build(*args) == MISS
    write(p.root / "inc" / "h.h", "#define H 1\n")
    assert p.build(*args) == DIRECT_HIT


@pytest.mark.parametrize("compiler", compilers())
def test_headers_that_appear_earlier_on_the_search_path_miss(penv: PycacheEnv, compiler: str) -> None:
    p = Project(penv, compiler)
    write(p.root / "src" / "a.c", '#include "h.h"\n#include <g.h>\nint v = H + G;\n')
    write(p.root / "second" / "h.h", "#define H 1\n")
    write(p.root / "second" / "g.h", "#define G 10\n")
    (p.root / "first").mkdir()
    args = ("-c", "src/a.c", "-Ifirst", "-Isecond", "-o", "a.o")
    assert p.build(*args) == MISS
    assert p.build(*args) == DIRECT_HIT
    write(p.root / "first" / "h.h", "#define H 3\n")  # a quoted include, earlier -I
    assert p.build(*args) == MISS
    write(p.root / "src" / "h.h", "#define H 4\n")  # beside the source: searched first
    assert p.build(*args) == MISS
    write(p.root / "first" / "g.h", "#define G 20\n")  # an angled include, earlier -I
    assert p.build(*args) == MISS
    for name in ("src/h.h", "first/h.h", "first/g.h"):
        (p.root / name).unlink()
    assert p.build(*args) == DIRECT_HIT  # the first result, right again
    # A directory on the list that did not exist: any header in it could be found first.
    args = ("-c", "src/a.c", "-Inew", "-Isecond", "-o", "a.o")
    assert p.build(*args) == MISS
    write(p.root / "new" / "g.h", "#define G 30\n")
    assert p.build(*args) == MISS


@pytest.mark.parametrize("compiler", compilers())
def test_a_header_included_through_a_macro_is_shadowed_beside_its_includer(penv: PycacheEnv, compiler: str) -> None:
    p = Project(penv, compiler)
    write(p.root / "src" / "a.c", '#define NAME "h.h"\n#include NAME\nint v = H;\n')
    write(p.root / "inc" / "h.h", "#define H 1\n")
    args = ("-c", "src/a.c", "-Iinc", "-o", "a.o")
    assert p.build(*args) == MISS
    assert p.build(*args) == DIRECT_HIT
    write(p.root / "src" / "h.h", "#define H 2\n")
    assert p.build(*args) == MISS


@pytest.mark.parametrize("compiler", compilers())
@pytest.mark.parametrize(
    "depfile",
    [
        ("-MD",),
        ("-MD", "-MF", "deps/a.d"),
        ("-MD", "-MF", "deps/a.d", "-MT", "custom-target", "-MP"),
        ("-MD", "-MQ", "$weird target", "-MF", "deps/a.d"),
        ("-Wp,-MD,deps/a.d",),
    ],
    ids=["MD", "MF", "MT-MP", "MQ", "Wp-MD"],
)
def test_the_callers_dependency_file_is_the_compilers_own(penv: PycacheEnv, compiler: str, depfile) -> None:
    p = Project(penv, compiler)
    write(p.root / "a.c", '#include "h.h"\n#include <stdio.h>\nint f(void) { return H; }\n')
    write(p.root / "inc" / "h.h", "#define H 1\n")
    (p.root / "deps").mkdir()
    written = "a.d" if depfile == ("-MD",) else "deps/a.d"
    args = ("-c", "a.c", "-Iinc", *depfile, "-o", "a.o")
    assert p.build(*args, outputs=("a.o", written)) == MISS
    runs = p.runs()
    assert not _preprocessed_the_source(runs), runs
    assert "-MF " + str(Path(os.sep)) not in " ".join(_compiles(runs)), "no scratch file when the caller asked for one"
    assert p.build(*args, outputs=("a.o", written)) == DIRECT_HIT
    write(p.root / "inc" / "h.h", "#define H 2\n")
    assert p.build(*args, outputs=("a.o", written)) == MISS


@pytest.mark.parametrize("compiler", compilers())
def test_mmd_omits_system_headers_so_it_runs_in_preprocessor_mode(penv: PycacheEnv, compiler: str) -> None:
    """One compile writes one list, and -MMD's lacks the system headers:
    such a call is keyed by the preprocessor, its file still the compiler's."""
    p = Project(penv, compiler)
    write(p.root / "a.c", '#include "h.h"\n#include <stdio.h>\nint f(void) { return H; }\n')
    write(p.root / "inc" / "h.h", "#define H 1\n")
    args = ("-c", "a.c", "-Iinc", "-MMD", "-MF", "a.d", "-o", "a.o")
    assert p.build(*args, outputs=("a.o", "a.d")) == MISS
    assert _preprocessed_the_source(p.runs())
    assert p.build(*args, outputs=("a.o", "a.d")) == DIRECT_HIT


@pytest.mark.parametrize("compiler", compilers())
@pytest.mark.parametrize("depfile", [("-MMD", "-MF", "a.d"), ("-Wp,-MMD,a.d",)], ids=["MMD", "Wp-MMD"])
def test_mmd_without_system_directories_is_keyed_from_the_compile(penv: PycacheEnv, compiler: str, depfile) -> None:
    """With -nostdinc and only -I directories (the Linux kernel's calls)
    there is no system header for -MMD to leave out: the miss runs only
    the compile, the caller's list is the compiler's, and an edit of any
    header -- quoted or angled -- misses."""
    p = Project(penv, compiler)
    write(p.root / "a.c", '#include "h.h"\n#include <g.h>\nint f(void) { return H + G; }\n')
    write(p.root / "inc" / "h.h", "#define H 1\n")
    write(p.root / "inc" / "g.h", "#define G 1\n")
    args = ("-nostdinc", "-c", "a.c", "-Iinc", *depfile, "-o", "a.o")
    assert p.build(*args, outputs=("a.o", "a.d")) == MISS
    assert not _preprocessed_the_source(p.runs())
    assert p.build(*args, outputs=("a.o", "a.d")) == DIRECT_HIT
    write(p.root / "inc" / "g.h", "#define G 2\n")
    assert p.build(*args, outputs=("a.o", "a.d")) == MISS
    assert p.build(*args, outputs=("a.o", "a.d")) == DIRECT_HIT
    # A directory the call gives as a system one: preprocessor mode.
    args = ("-nostdinc", "-c", "a.c", "-isystem", "inc", *depfile, "-o", "a.o")
    assert p.build(*args, outputs=("a.o", "a.d")) == MISS
    assert _preprocessed_the_source(p.runs())


@pytest.mark.parametrize("compiler", compilers())
@pytest.mark.parametrize("marker", ["#pragma GCC system_header", '# 1 "inc/s.h" 3'], ids=["pragma", "line-marker"])
def test_mmd_and_a_header_that_makes_itself_a_system_header(penv: PycacheEnv, compiler: str, marker: str) -> None:
    """-MMD lists nothing included after such a mark, so the compile's list
    cannot key the result: the same miss is keyed by the preprocessor after
    the compile (one -E pass), whose markers name the header the list left
    out -- the next call hits, and an edit of that header misses."""
    p = Project(penv, compiler)
    write(p.root / "a.c", '#include "s.h"\nint f(void) { return T; }\n')
    write(p.root / "inc" / "s.h", f'{marker}\n#include "t.h"\n')
    write(p.root / "inc" / "t.h", "#define T 1\n")
    args = ("-nostdinc", "-c", "a.c", "-Iinc", "-MMD", "-MF", "a.d", "-o", "a.o")

    assert p.build(*args, outputs=("a.o", "a.d")) == MISS
    runs = p.runs()
    assert "t.h" not in (p.root / "a.d").read_text()  # what -MMD leaves out
    assert len(_compiles(runs)) == 1 and _preprocessed_the_source(runs), runs
    assert runs.index(_compiles(runs)[0]) < next(i for i, r in enumerate(runs) if r.startswith(("-v -E", "-E"))
                                                 and not r.endswith(os.devnull)), "the -E pass comes after the compile"
    assert not penv.stats().get("not_cacheable_reasons")
    assert p.build(*args, outputs=("a.o", "a.d")) == DIRECT_HIT
    runs = p.runs()
    assert _compiles(runs) == [] and not _preprocessed_the_source(runs), runs
    write(p.root / "inc" / "t.h", "#define T 2\n")
    assert p.build(*args, outputs=("a.o", "a.d")) == MISS
    assert p.build(*args, outputs=("a.o", "a.d")) == DIRECT_HIT


def test_with_gcc_the_assemblers_own_list_tells_what_it_read(penv: PycacheEnv) -> None:
    """gcc's compile also gets -Wa,--MD: a header that merely spells a
    piece of an assembler read (the x86 "inc" of the kernel's percpu.h) is
    cached with no -E pass, and an edit of it misses; inline asm that does
    read a file is never stored (tests/gcc_clang/test_files_the_assembler_reads.py)."""
    p = Project(penv, GCC)
    write(p.root / "a.c", '#include "ops.h"\nconst char *f(void) { return OP; }\n')
    write(p.root / "ops.h", '#define OP "inc"\n')
    args = ("-c", "a.c", "-MD", "-o", "a.o")
    assert p.build(*args, outputs=("a.o", "a.d")) == MISS
    runs = p.runs()
    assert not _preprocessed_the_source(runs), runs
    assert all("-Wa,--MD," in r for r in _compiles(runs)), runs
    assert p.build(*args, outputs=("a.o", "a.d")) == DIRECT_HIT
    write(p.root / "ops.h", '#define OP "dec"\n')
    assert p.build(*args, outputs=("a.o", "a.d")) == MISS


@pytest.mark.parametrize("compiler", compilers())
def test_preprocessor_messages_are_replayed(penv: PycacheEnv, compiler: str) -> None:
    p = Project(penv, compiler)
    write(p.root / "a.c", '#include "h.h"\nint f(void) { return 1; }\n')
    write(p.root / "h.h", "#warning the header warns\n")
    args = ("-c", "a.c", "-o", "a.o")
    assert p.build(*args) == MISS
    assert p.build(*args) == DIRECT_HIT  # stderr compared with the compiler's own
    write(p.root / "h.h", "#warning it warns otherwise\n")
    assert p.build(*args) == MISS


def test_time_macros_and_computed_lookups_are_keyed_by_the_preprocessor(penv: PycacheEnv) -> None:
    """What no dependency list can key -- __TIME__, a computed
    __has_include -- is keyed by the preprocessor after the compile, and
    the manifest sends later calls with the same inputs to the
    preprocessor first (no manifest can vouch for such a unit): __TIME__
    expands anew, so a call a second later misses; the computed lookup
    hits after one -E pass and no compile."""
    p = Project(penv, GCC)
    write(p.root / "t.c", '#include "stamp.h"\nconst char *when = STAMP;\n')
    write(p.root / "stamp.h", "#define STAMP __TIME__\n")
    done = penv.compile(str(p.wrapper), "-c", "t.c", "-o", "t.o", cwd=p.root)
    assert done.returncode == 0, done.stderr
    first = (p.root / "t.o").read_bytes()
    time.sleep(1.1)
    done = penv.compile(str(p.wrapper), "-c", "t.c", "-o", "t.o", cwd=p.root)
    assert done.returncode == 0 and (p.root / "t.o").read_bytes() != first
    runs = [r for r in p.log.read_text().splitlines() if "t.c" in r.split()]  # no probes; no reference run
    p.log.unlink()
    # compile, -E after it; then (the manifest said so) -E first, compile.
    assert [("E" if r.startswith(("-v -E", "-E")) else "c") for r in runs[:4]] == ["c", "E", "E", "c"], runs
    stats = _stats(penv)
    assert (stats["totals"].get("hits", 0), stats["totals"]["misses"]) == (0, 2)
    write(p.root / "c.c", '#define NAME "feature.h"\n#if __has_include(NAME)\n#define C 2\n#else\n#define C 1\n#endif\n'
          'int c = C;\n')
    assert p.build("-c", "c.c", "-o", "c.o", outputs=("c.o",)) == MISS
    p.runs()
    assert p.build("-c", "c.c", "-o", "c.o", outputs=("c.o",)) == PREPROCESSOR_HIT
    runs = p.runs()
    assert _compiles(runs) == [] and _preprocessed_the_source(runs), runs
    write(p.root / "feature.h", "")  # now found: the preprocessor's text says so
    assert p.build("-c", "c.c", "-o", "c.o", outputs=("c.o",)) == MISS
    assert not _stats(penv).get("not_cacheable_reasons")


@pytest.mark.parametrize("compiler", compilers())
def test_a_computed_pragma_beside_the_word_dependency_is_keyed_by_the_preprocessor(penv: PycacheEnv, compiler: str) -> None:
    """The Linux kernel's kernel/time/*.c: a computed _Pragma (its __diag
    macros) in a unit that also uses the identifier `dependency` (a trace
    event's parameter) might build a #pragma GCC dependency, which no list
    can key. The miss is keyed by the preprocessor after the compile; the
    next call -- another process: the manifest says so -- runs the
    preprocessor first and hits without compiling. A pragma a macro really
    builds is caught by that -E pass once its file is newer: never served."""
    p = Project(penv, compiler)
    write(p.root / "diag.h", "#define __diag_str1(s) #s\n#define __diag_str(s) __diag_str1(s)\n"
          "#define __diag(s) _Pragma(__diag_str(GCC diagnostic s))\n")
    write(p.root / "timer.h", "void tick_stop(int success, int dependency);\n")
    write(p.root / "a.c", '#include "diag.h"\n#include "timer.h"\n__diag(push)\nint a;\n__diag(pop)\n')
    args = ("-c", "a.c", "-Werror", "-o", "a.o")
    assert p.build(*args) == MISS
    assert len(_compiles(p.runs())) == 1
    assert p.build(*args) == PREPROCESSOR_HIT
    runs = p.runs()
    assert _compiles(runs) == [] and _preprocessed_the_source(runs), runs
    write(p.root / "timer.h", "void tick_stop(int ok, int dependency);\n")
    assert p.build(*args) == MISS
    assert p.build(*args) == PREPROCESSOR_HIT

    # D is `dependency`: the _Pragma is a #pragma GCC dependency on g.y.
    write(p.root / "b.c", '#include "diag.h"\n#define D dependency\n#define P(x) _Pragma(__diag_str(GCC x "g.y"))\n'
          'P(D)\nint b;\n')
    write(p.root / "g.y", "%%\n")
    old = time.time() - 3600
    os.utime(p.root / "g.y", (old, old))
    os.utime(p.root / "b.c", (old + 1800, old + 1800))  # gcc compares whole seconds
    args = ("-c", "b.c", "-Werror", "-o", "b.o")
    assert p.build(*args, outputs=("b.o",)) == MISS  # g.y is older: no warning, no way to tell
    assert p.build(*args, outputs=("b.o",)) == PREPROCESSOR_HIT
    os.utime(p.root / "g.y")  # now newer than b.c
    assert p.build(*args, outputs=()) == NOT_STORED  # the compiler failed, and so did the cached call
    assert _stats(penv)["not_cacheable_reasons"] == {"pragma-dependency": 1}


def test_a_header_edited_during_the_compile_is_not_stored(penv: PycacheEnv) -> None:
    # The edit follows the compile of a.c, not pycache's probes (which
    # compile /dev/null before the compile starts: an edit then is read by
    # the compile and rightly stored).
    p = Project(penv, GCC)
    write(p.root / "a.c", '#include "h.h"\nint h = H;\n')
    write(p.root / "h.h", "#define H 1\n")
    script = write(penv.root / "bin" / "gcc", f"""#!/bin/sh
{os.path.realpath(GCC)} "$@"; rc=$?
case " $* " in *" -c "*) case " $* " in *" a.c "*) [ -f edit ] && mv edit h.h && touch -d @946684800 h.h ;; esac ;; esac
exit $rc
""")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    write(p.root / "edit", "#define H 2\n")
    done = penv.compile(str(script), "-c", "a.c", "-o", "a.o", cwd=p.root)
    assert done.returncode == 0
    assert _stats(penv)["not_cacheable_reasons"] == {"input-changed-during-compile": 1}
    assert p.build("-c", "a.c", "-o", "a.o") == MISS  # H 2, compared with gcc's own
    assert p.build("-c", "a.c", "-o", "a.o") == DIRECT_HIT


@pytest.mark.parametrize("compiler", compilers())
def test_two_checkouts_share_results_through_base_directories(penv: PycacheEnv, compiler: str) -> None:
    results = []
    for name in ("ck1", "second-checkout"):
        root = penv.root / name
        write(root / "src" / "a.c", '#include "a.h"\nint f(int x) { return x * A; }\n')
        write(root / "include" / "a.h", "#define A 3\n")
        args = [compiler, f"-I{root}/include", "-MD", "-MF", f"{root}/a.d", "-c", f"{root}/src/a.c", "-o", f"{root}/a.o"]
        diff = penv.compile_like_the_compiler(*args, cwd=root, outputs=[root / "a.o", root / "a.d"],
                                              env={"PYCACHE_BASEDIRS": str(root)})
        results.append({k: v for k, v in diff.items() if k in MISS or k in DIRECT_HIT})
    assert results == [MISS, DIRECT_HIT]
    # A file macro puts the checkout's path into the object: no sharing.
    results = []
    for name in ("ck3", "ck4"):
        root = penv.root / name
        write(root / "a.c", "const char *where(void) { return __FILE__; }\n")
        args = [compiler, "-c", f"{root}/a.c", "-o", f"{root}/a.o"]
        diff = penv.compile_like_the_compiler(*args, cwd=root, outputs=[root / "a.o"], env={"PYCACHE_BASEDIRS": str(root)})
        results.append({k: v for k, v in diff.items() if k in MISS or k in DIRECT_HIT})
    assert results == [MISS, MISS]


def test_depend_mode_off_keys_misses_by_the_preprocessed_text(penv: PycacheEnv) -> None:
    """PYCACHE_DEPEND_MODE=false: a miss runs the preprocessor, and a call
    whose preprocessed text is the same (here: an extra -I directory that
    contributes nothing) hits through it; depend mode cannot tell."""
    p = Project(penv, GCC)
    write(p.root / "a.c", '#include "h.h"\nint f(void) { return H; }\n')
    write(p.root / "h.h", "#define H 1\n")
    (p.root / "empty").mkdir()
    args = ("-c", "a.c", "-o", "a.o")
    assert p.build(*args) == MISS
    assert p.build("-Iempty", *args) == MISS
    off = {"PYCACHE_DEPEND_MODE": "false"}
    assert p.build("-O1", *args, env=off) == MISS
    assert _preprocessed_the_source(p.runs())
    assert p.build("-O1", "-Iempty", *args, env=off) == PREPROCESSOR_HIT
