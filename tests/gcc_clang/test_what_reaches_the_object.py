"""Issue 13 B2: what reaches the object beyond the preprocessed text.

Each step changes one thing the preprocessed text does not show and
compares the object with the compiler's own, byte for byte:

- gcc ``-g3`` records every macro definition: an unused ``-D``, an
  ``-imacros`` file's macros;
- gcc's DW_AT_producer records some preprocessor flags (``-C``, ``-P``,
  ``-trigraphs``, ``-undef``, and what ``-Wp,`` passes on);
- clang's DWARF 5 line table holds each file's MD5: a comment edited in a
  header; ``-gembed-source`` the text itself; ``-fdebug-macro`` macros;
- clang's ``-grecord-command-line``, ``-frecord-command-line`` and
  ``-fembed-bitcode-marker`` record the command line: pycache runs such a
  call exactly as given (no colour flag of its own), a hit restores the
  same bytes.
"""

from __future__ import annotations

from pathlib import Path


from pycache_core.testing import PycacheEnv

from .support import CLANG, GCC, needs_clang, needs_gcc, write
from .test_end_to_end import cached, penv  # noqa: F401  (penv is a fixture)

pytestmark = needs_gcc


def _same_object(penv: PycacheEnv, root: Path, args: list[str]) -> dict:
    """The compiler's own object first (same output path: a recorded command
    line names it), then pycache's."""
    reference = penv.direct(*args, "-o", "a.o", cwd=root)
    assert reference.returncode == 0, reference.stderr
    expected = (root / "a.o").read_bytes()
    (root / "a.o").unlink()
    done, diff = cached(penv, root, *args, "-o", "a.o")
    assert done.returncode == 0, done.stderr
    assert (done.stdout, done.stderr) == (reference.stdout, reference.stderr)
    assert (root / "a.o").read_bytes() == expected
    return diff


#: code in the header, so that it is in the line table (with its MD5)
HEADER = "/* %s */\n#define H 1\nstatic inline int h(void) { return H; }\n"


def _project(penv: PycacheEnv) -> Path:
    root = penv.root / "p"
    write(root / "a.c", '#include "h.h"\nint f(void) { return h(); }\n')
    write(root / "inc" / "h.h", HEADER % "first")
    write(root / "inc" / "m.h", "#define FROM_IMACROS 1\n")
    return root


def test_gcc_debug_information(penv: PycacheEnv) -> None:
    root = _project(penv)
    steps = [
        ("gcc -g3", ["-g3"]),
        ("an unused -D under -g3", ["-g3", "-DUNUSED=1"]),
        ("an -imacros file", ["-g3", "-imacros", "inc/m.h"]),
        ("-trigraphs in DW_AT_producer", ["-g", "-trigraphs"]),
        ("-P in DW_AT_producer", ["-g", "-trigraphs", "-P"]),
        ("-C in DW_AT_producer", ["-g", "-C"]),
        ("-Wp,-C in DW_AT_producer", ["-g", "-Wp,-C"]),
        ("-undef in DW_AT_producer", ["-g", "-undef"]),
    ]
    for name, options in steps:
        assert _same_object(penv, root, [GCC, "-c", "a.c", "-Iinc", *options]) == {"misses": 1}, name
    # the -imacros file's macros change, nothing else does
    write(root / "inc" / "m.h", "#define FROM_IMACROS 2\n")
    assert _same_object(penv, root, [GCC, "-c", "a.c", "-Iinc", "-g3", "-imacros", "inc/m.h"]) == {"misses": 1}
    assert _same_object(penv, root, [GCC, "-c", "a.c", "-Iinc", "-g3", "-imacros", "inc/m.h"]) == {
        "hits": 1, "preprocessor_hits": 1}  # -imacros turns direct mode off


@needs_clang
def test_clang_debug_information_and_recorded_command_lines(penv: PycacheEnv) -> None:
    root = _project(penv)
    base = [CLANG, "-c", "a.c", "-Iinc", "-g"]
    assert _same_object(penv, root, base) == {"misses": 1}
    write(root / "inc" / "h.h", HEADER % "second")  # the same text after -E, another MD5
    assert _same_object(penv, root, base) == {"misses": 1}
    assert _same_object(penv, root, [*base, "-gembed-source"]) == {"misses": 1}
    write(root / "inc" / "h.h", HEADER % "third")
    assert _same_object(penv, root, [*base, "-gembed-source"]) == {"misses": 1}
    assert _same_object(penv, root, [*base, "-fdebug-macro"]) == {"misses": 1}
    assert _same_object(penv, root, [*base, "-fdebug-macro", "-DUNUSED=1"]) == {"misses": 1}
    for recording in (["-grecord-command-line"], ["-frecord-command-line"], ["-fembed-bitcode-marker"],
                      ["-grecord-command-line", "-fdiagnostics-color=always"]):
        args = [*base, *recording]
        assert _same_object(penv, root, args) == {"misses": 1}, recording
        assert _same_object(penv, root, args) == {"hits": 1, "direct_hits": 1}, recording
