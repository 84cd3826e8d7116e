"""Issue 13 B4: files read outside #include -- by the assembler.

``.incbin`` and ``.include`` make the assembler read files no key sees.
Ordinary sources reach them in ways a plain search of the preprocessed
text misses: string concatenation and escapes in an asm statement, an
``.include`` in C inline asm, a directive name built by a gas macro, a
cpp macro that spells the directive. Each must run uncached (counted as
``assembler-include``) and follow the file it reads: the file is edited
between two calls and each object equals the compiler's own.
"""

from __future__ import annotations

import pytest

from pycache_core.testing import PycacheEnv

from .support import needs_gcc, write
from .test_end_to_end import _stats, cached, compilers, penv  # noqa: F401  (penv is a fixture)

pytestmark = needs_gcc

CASES = [
    ("concatenated literals in asm()", "a.c", 'asm(".section .rodata\\n.inc" "bin \\"data.bin\\"\\n.text");\nint a;\n'),
    ("an escaped dot in asm()", "a.c", 'asm(".section .rodata\\n\\x2eincbin \\"data.bin\\"\\n.text");\nint a;\n'),
    ("an .include in C inline asm", "a.c", 'asm(".include \\"data.s\\"");\nint a;\n'),
    ("a gas macro builds the directive", "a.S", '.macro put d\n.\\d "data.bin"\n.endm\n.section .rodata\nput incbin\n'),
    ("a cpp macro spells it", "a.S", '#define INCLUDE(f) .include f\n.section .rodata\nINCLUDE("data.s")\n'),
]

@pytest.mark.parametrize("compiler", compilers())
def test_files_the_assembler_reads_are_never_stale(penv: PycacheEnv, compiler: str) -> None:
    for number, (what, name, text) in enumerate(CASES):
        root = penv.root / f"case{number}"
        write(root / name, text)
        args = [compiler, "-c", name, "-o", "a.o"]
        for version in (1, 2):
            write(root / "data.bin", f"DATA {version}\n")
            write(root / "data.s", f".byte {version}\n")
            reference = penv.direct(*args[:-1], "ref.o", cwd=root)
            done, diff = cached(penv, root, *args)
            assert (done.returncode, done.stderr) == (reference.returncode, reference.stderr), what
            assert reference.returncode == 0, (what, reference.stderr)
            assert (root / "a.o").read_bytes() == (root / "ref.o").read_bytes(), what
            assert diff == {"not_cacheable": 1}, what
    assert _stats(penv)["not_cacheable_reasons"] == {"assembler-include": 2 * len(CASES)}
