"""Issue 13 B1: a hit gives what the compiler would print now.

Each case compiles one version of a small project through pycache, then
an edited one whose preprocessed text (``-E`` output) is the same as the
first's, and compares the second with the compiler's own run: exit
status, stdout, stderr and the object, byte for byte. What differs is
what the preprocessed text does not carry: the preprocessor's messages
(``#warning``, ``#pragma GCC warning``, ``_Pragma``, ``-Wunused-macros``,
``#include_next`` in the main file, a missing include directory), the
source lines and macro names the compiler quotes, the comments a warning
depends on. The third call hits and prints the same again.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from pycache_core.testing import PycacheEnv

from .support import CLANG, GCC, needs_clang, needs_gcc, write
from .test_end_to_end import _stats, cached, compilers, penv  # noqa: F401  (penv is a fixture)

pytestmark = needs_gcc

FALLTHROUGH = "int s(int x) {\n  switch (x) {\n  case 1: x++;\n  %s\n  case 2: return x;\n  }\n  return 0;\n}\n"
HEADER = '#warning {w}\n#pragma GCC warning "{p}"\n#define WARN(x) _Pragma(#x)\nWARN(GCC warning "{m}")\n'
SOURCE = (
    '#include "h.h"\n#{inc} <stddef.h>\n#define {unused} 1\n'
    "int f(int x) {{ int unused; return x; }} /* {comment} */\n"
    "#define {name} (1 / 0)\nint g(void) {{ return {name}; }}\nint h(void) {{ return VALUE; }}\n"
)
START = dict(w="old text", p="old", m="old", inc="include", unused="UNUSED_ONE", comment="old comment",
             name="OLD_NAME", fall="/* fall through */")
OPTIONS = ["-Wall", "-Wunused-macros", "-Wimplicit-fallthrough", "-Imissing", "-Wmissing-include-dirs"]

#: One edit at a time, each leaving the preprocessed text as it was.
EDITS = [
    ("#warning text", dict(w="new text")),
    ("#pragma GCC warning", dict(p="new")),
    ("_Pragma in a macro", dict(m="new")),
    ("-Wunused-macros", dict(unused="UNUSED_TWO")),
    ("#include_next in the main file", dict(inc="include_next")),
    ("a quoted source line", dict(comment="new comment")),
    ("a macro's name", dict(name="NEW_NAME")),
    ("a command-line macro's name", dict(macros=("-DNEW=(1/0)", "-DVALUE=NEW"))),
    ("a fall-through comment (gcc reads it)", dict(fall="/* go on */")),
    ("a missing include directory created", dict(mkdir="missing")),
]

def _same_as_the_compiler(penv: PycacheEnv, root: Path, args: list[str]) -> dict:
    done, diff = cached(penv, root, *args)
    reference = penv.direct(*args[:-1], "ref.o", cwd=root)
    assert (done.returncode, done.stdout, done.stderr) == (reference.returncode, reference.stdout, reference.stderr)
    if reference.returncode == 0:
        assert (root / "a.o").read_bytes() == (root / "ref.o").read_bytes()
    return diff


@pytest.mark.parametrize("compiler", compilers())
def test_what_the_preprocessed_text_does_not_carry(penv: PycacheEnv, compiler: str) -> None:
    penv.set(PYCACHE_DEPEND_MODE="false")  # preprocessor mode: its counts (depend mode: test_depend_mode.py)
    root = penv.root / "p"
    state = dict(START, macros=("-DOLD=(1/0)", "-DVALUE=OLD"), mkdir="")

    def step() -> dict:
        write(root / "inc" / "h.h", HEADER.format(**state))
        write(root / "a.c", SOURCE.format(**state) + FALLTHROUGH % state["fall"])
        if state["mkdir"]:
            (root / state["mkdir"]).mkdir(exist_ok=True)
        args = [compiler, "-c", "a.c", "-Iinc", *OPTIONS, *state["macros"], "-o", "a.o"]
        return _same_as_the_compiler(penv, root, args)

    assert step() == {"misses": 1}
    preprocessed = penv.direct(compiler, "-E", "a.c", "-Iinc", "-Imissing", cwd=root).stdout
    for name, edit in EDITS:
        state.update(edit)
        if "mkdir" in edit and compiler != GCC:
            # clang says nothing about missing directories: the same result
            assert step() == {"hits": 1, "preprocessor_hits": 1}, name
        else:
            assert step() == {"misses": 1}, name
    assert step() == {"hits": 1, "direct_hits": 1}
    # The edits left the preprocessed text as it was (but for line markers'
    # spelling of the new include directory).
    now = penv.direct(compiler, "-E", "a.c", "-Iinc", "-Imissing", cwd=root).stdout
    assert now.replace(b"include_next", b"include") == preprocessed or compiler != GCC


@pytest.mark.parametrize("compiler", compilers())
def test_pragma_dependency_is_never_cached(penv: PycacheEnv, compiler: str) -> None:
    """``#pragma GCC dependency`` compares two files' times: a warning (an
    error under -Werror) when the dependency is newer, nothing otherwise.
    No content tells the two apart, so it runs uncached, counted."""
    penv.set(PYCACHE_DEPEND_MODE="false")  # preprocessor mode: its counts (depend mode: test_depend_mode.py)
    root = penv.root / "p"
    write(root / "a.c", '#include "h.h"\nint a;\n')
    write(root / "inc" / "h.h", '#define DEP(x) _Pragma(#x)\nDEP(GCC dependency "grammar.y")\n')
    write(root / "inc" / "grammar.y", "%%\n")
    old = time.time() - 3600
    os.utime(root / "inc" / "grammar.y", (old, old))
    # gcc compares whole seconds: the header is made clearly older than "now".
    os.utime(root / "inc" / "h.h", (old + 1800, old + 1800))
    args = [compiler, "-c", "a.c", "-Iinc", "-Werror", "-o", "a.o"]
    for _ in range(2):
        assert _same_as_the_compiler(penv, root, args) == {"not_cacheable": 1}
    os.utime(root / "inc" / "grammar.y")  # now newer than the header
    done, diff = cached(penv, root, *args)
    reference = penv.direct(*args, cwd=root)
    assert reference.returncode != 0 and b"older than" in reference.stderr
    assert (done.returncode, done.stderr) == (reference.returncode, reference.stderr)
    assert diff == {"not_cacheable": 1}
    assert _stats(penv)["not_cacheable_reasons"] == {"pragma-dependency": 3}


@needs_clang
def test_mllvm_runs_uncached_unless_known_to_change_only_code(penv: PycacheEnv) -> None:
    """``-mllvm`` hands its argument to LLVM's own option parser, whose
    options include ones that print (timings a hit would replay stale, IR
    dumps) or read a file no key covers (issue 13 B4): only a reviewed list
    is keyed; anything else runs uncached, with the reason counted."""
    root = penv.root / "m"
    write(root / "a.c", "int f(int x) { return x * 3; }\n")
    dumping = [CLANG, "-O2", "-c", "a.c", "-mllvm", "-print-after=instcombine", "-o", "a.o"]
    for _ in range(2):
        done, diff = cached(penv, root, *dumping)
        assert done.returncode == 0 and b"IR Dump After InstCombinePass" in done.stderr
        assert diff == {"not_cacheable": 1}
    assert _stats(penv)["not_cacheable_reasons"] == {"unsupported-mllvm": 2}

    tuned = [CLANG, "-O2", "-c", "a.c", "-mllvm", "-inline-threshold=100", "-o", "a.o"]
    assert _same_as_the_compiler(penv, root, tuned)["misses"] == 1
    assert _same_as_the_compiler(penv, root, tuned)["hits"] == 1
