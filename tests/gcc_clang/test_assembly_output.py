"""``-S``: the compiler's assembly is cached like an object. Hits restore the
bytes the compiler itself writes (the file named ``NAME.s`` without ``-o``,
and the dependency file naming ``NAME.o``, as gcc and clang do), a header
edit misses, and what -S cannot do is refused with its reason.

The Linux kernel writes ``bounds.s`` and ``asm-offsets.s`` this way
(``-Wp,-MMD,... -fverbose-asm -S``) on every build."""

from __future__ import annotations

from pathlib import Path

import pytest

from pycache_core.testing import PycacheEnv

from .support import needs_gcc, write
from .test_end_to_end import _read, _stats, cached, compilers, penv, tree  # noqa: F401  (penv, tree: fixtures)

pytestmark = needs_gcc

MISS = {"misses": 1}
DIRECT_HIT = {"hits": 1, "direct_hits": 1}


def _hits_with_the_compilers_bytes(penv: PycacheEnv, tree: Path, args: list[str], outputs: list[Path]) -> None:
    """Miss, then hit, each leaving exactly what an uncached run writes."""
    reference = penv.direct(*args, cwd=tree)
    assert reference.returncode == 0, reference.stderr
    expected = _read(outputs)
    for want in (MISS, DIRECT_HIT):
        for path in outputs:
            path.unlink()
        done, diff = cached(penv, tree, *args)
        assert (done.returncode, diff) == (0, want), done.stderr
        assert _read(outputs) == expected


@pytest.mark.parametrize("compiler", compilers())
def test_default_name_and_its_dependency_file(penv: PycacheEnv, tree: Path, compiler: str) -> None:
    # a.s in the working directory; a.d's target is a.o, as the compiler writes it
    args = [compiler, "-S", "a.c", "-Iinc", "-O1", "-MD"]
    _hits_with_the_compilers_bytes(penv, tree, args, [tree / "a.s", tree / "a.d"])
    assert (tree / "a.d").read_bytes().startswith(b"a.o:")
    assert b"f:" in (tree / "a.s").read_bytes()


@pytest.mark.parametrize("compiler", compilers())
def test_named_output_and_header_edit(penv: PycacheEnv, tree: Path, compiler: str) -> None:
    args = [compiler, "-c", "-S", "a.c", "-Iinc", "-O1", "-MD", "-o", "out/a.s"]
    outputs = [tree / "out" / "a.s", tree / "out" / "a.d"]
    _hits_with_the_compilers_bytes(penv, tree, args, outputs)
    # -S with or without -c writes the same file, but not an object's key
    before = (tree / "out" / "a.s").read_bytes()
    done, diff = cached(penv, tree, compiler, "-c", "a.c", "-Iinc", "-O1", "-MD", "-o", "out/a.o")
    assert diff == MISS and (tree / "out" / "a.o").read_bytes()[:4] == b"\x7fELF"
    write(tree / "inc" / "a.h", "#define A 43\n#define X 0\n")
    done, diff = cached(penv, tree, *args)
    assert diff == MISS
    stored = _read(outputs)
    assert penv.direct(*args, cwd=tree).returncode == 0
    assert _read(outputs) == stored and stored[outputs[0]] != before


def test_kernel_style_verbose_assembly(penv: PycacheEnv, tree: Path) -> None:
    """kbuild's asm-offsets rule: -Wp,-MMD and -fverbose-asm, whose comments
    list gcc's switches (so nothing is added to the command line)."""
    args = ["gcc", "-Wp,-MMD,out/.a.s.d", "-Iinc", "-O2", "-fverbose-asm", "-S", "-o", "out/a.s", "a.c"]
    _hits_with_the_compilers_bytes(penv, tree, args, [tree / "out" / "a.s", tree / "out" / ".a.s.d"])
    assert b"# options passed:" in (tree / "out" / "a.s").read_bytes()


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        # gcc writes the preprocessed text to stdout, no file
        (["gcc", "-S", "s.S"], "assembly-output"),
        (["gcc", "-S", "-g", "-gsplit-dwarf", "a.c", "-Iinc"], "unsupported-option"),
    ],
    ids=["assembler source", "split dwarf"],
)
def test_what_minus_s_cannot_cache_runs_as_is(penv: PycacheEnv, tree: Path, args: list[str], reason: str) -> None:
    write(tree / "s.S", "#define X nop\n.text\nX\n")
    reference = penv.direct(*args, cwd=tree)
    done, diff = cached(penv, tree, *args)
    assert diff == {"not_cacheable": 1}
    assert (done.returncode, done.stdout) == (reference.returncode, reference.stdout)
    assert _stats(penv)["not_cacheable_reasons"] == {reason: 1}
