"""The C-family helpers behind issue 13 B1, B4 and B5, table-driven (the
real compilers exercise them in tests/gcc_clang)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pycache_cfamily.includes import SearchPath, UnrecordableLookup, has_include_lookups, parse_search_path, preprocessor_messages
from pycache_cfamily.preprocessed import assembler_file_reads, compares_file_times, may_compute_file_time_pragma

GCC_VERBOSE = """Using built-in specs.
COLLECT_GCC=gcc
Target: x86_64-linux-gnu
Configured with: ../src/configure -v
Thread model: posix
Supported LTO compression algorithms: zlib zstd
gcc version 12.2.0 (Debian 12.2.0-14+deb12u1)
COLLECT_GCC_OPTIONS='-v' '-E' '-I' 'nonexist'
 /usr/lib/gcc/x86_64-linux-gnu/12/cc1 -E -quiet -v -I nonexist w.c -o /dev/null
ignoring nonexistent directory "/usr/local/include/x86_64-linux-gnu"
cc1: warning: nonexist: No such file or directory [-Wmissing-include-dirs]
ignoring duplicate directory "/usr/include"
  as it is a non-system directory that duplicates a system directory
#include "..." search starts here:
#include <...> search starts here:
 /usr/lib/gcc/x86_64-linux-gnu/12/include
 /usr/include
End of search list.
w.c:1:2: warning: #warning hello [-Wcpp]
    1 | #warning hello
      |  ^~~~~~~
COMPILER_PATH=/usr/lib/gcc/x86_64-linux-gnu/12/
LIBRARY_PATH=/usr/lib/gcc/x86_64-linux-gnu/12/
COLLECT_GCC_OPTIONS='-v' '-E' '-I' 'nonexist'
"""

CLANG_VERBOSE = """Debian clang version 14.0.6
Target: x86_64-pc-linux-gnu
Thread model: posix
InstalledDir: /usr/lib/llvm-14/bin
Found candidate GCC installation: /usr/lib/gcc/x86_64-linux-gnu/12
Selected GCC installation: /usr/lib/gcc/x86_64-linux-gnu/12
Candidate multilib: .;@m64
Selected multilib: .;@m64
 (in-process)
 "/usr/lib/llvm-14/bin/clang" -cc1 -triple x86_64-pc-linux-gnu -E -v w.c
clang -cc1 version 14.0.6 based upon LLVM 14.0.6 default target x86_64-pc-linux-gnu
ignoring nonexistent directory "/include"
#include "..." search starts here:
#include <...> search starts here:
 /usr/include
 /Library/Frameworks (framework directory)
End of search list.
w.c:1:2: warning: hello [-W#warnings]
#warning hello
 ^
1 warning generated.
"""


def test_preprocessor_messages_are_what_is_left_of_verbose_output() -> None:
    assert preprocessor_messages(GCC_VERBOSE).splitlines() == [
        "cc1: warning: nonexist: No such file or directory [-Wmissing-include-dirs]",
        "w.c:1:2: warning: #warning hello [-Wcpp]",
        "    1 | #warning hello",
        "      |  ^~~~~~~",
    ]
    assert preprocessor_messages(CLANG_VERBOSE).splitlines() == [
        "w.c:1:2: warning: hello [-W#warnings]", "#warning hello", " ^", "1 warning generated."]
    assert preprocessor_messages("clang: warning: argument unused\n") == "clang: warning: argument unused"


def test_framework_directories_are_flagged() -> None:
    search = parse_search_path(CLANG_VERBOSE)
    assert search is not None and search.bracket == ("/usr/include", "/Library/Frameworks")
    assert search.unusual == ("/Library/Frameworks",)


@pytest.mark.parametrize(("texts", "compares", "might"), [
    ([b'#pragma GCC dependency "grammar.y"\n'], True, False),
    ([b"#pragma clang dependency \\\n \"x\"\n"], True, False),
    ([b'_Pragma("GCC dependency \\"x\\"")\n'], True, False),
    ([b"#pragma GCC /* c */ dependency \"x\"\n"], True, False),
    ([b"#define P(x) _Pragma(#x)\n", b'P(GCC dependency "x")\n'], True, True),
    ([b"#define P(x) _Pragma(#x)\n#define D dependency\n", b'#define Q(x) P(x)\nQ(GCC D "x")\n'], False, True),
    ([b"int dependency;\n"], False, False),
    ([b'_Pragma("once")\n', b"int dependency;\n"], False, False),
    ([b"#define P(x) _Pragma(#x)\nP(once)\n", b"// a dependency in a comment\n"], False, False),
])
def test_pragma_dependency(texts, compares, might) -> None:
    assert compares_file_times(texts) is compares
    assert may_compute_file_time_pragma(texts) is might


@pytest.mark.parametrize(("text", "assembler", "why"), [
    (b'asm(".incbin \\"x\\"");', False, "reads"),
    (b'asm(".inc" "bin \\"x\\"");', False, "reads"),
    (b'asm(".inc"\n# 3 "a.c"\n "bin \\"x\\"");', False, "reads"),
    (b'__asm__ volatile ("\\x2eincbin \\"x\\"");', False, "reads"),
    (b'__asm__ ("\\56include \\"x\\"");', False, "reads"),
    (b'asm(".INCLUDE \\"m.s\\"");', False, "reads"),
    (b'asm(R"(.incbin "x")");', False, "reads"),
    (b'asm(".macro m a\\n .\\\\a \\"f\\"\\n.endm\\n m incbin");', False, "builds"),
    (b'asm(".inc\\\\()bin \\"x\\"");', False, "builds"),
    (b'asm("nop");', False, ""),
    (b'register int r asm("eax");', False, ""),
    (b'const char *s = "see .include";', False, ""),
    (b'const char *s = "..\\\\include\\\\x.h";', False, ""),
    (b'.include "x.s"\n', True, "reads"),
    (b'  .incbin "x"\n', True, "reads"),
    (b".altmacro\n", True, "builds"),
    (b"mov %eax, %ebx\n.globl f\n", True, ""),
])
def test_assembler_file_reads(text, assembler, why) -> None:
    assert (why in assembler_file_reads(text, assembler_source=assembler)) and (bool(why) == bool(
        assembler_file_reads(text, assembler_source=assembler)))


def test_has_include_lookups(tmp_path: Path) -> None:
    for d in ("a", "b", "c", "here", "other"):
        (tmp_path / d).mkdir()
    (tmp_path / "b" / "x.h").write_text("")
    search = SearchPath(quote=(), bracket=(str(tmp_path / "a"), str(tmp_path / "b"), str(tmp_path / "c")), missing=())
    includer = tmp_path / "here" / "h.h"
    found, missing = has_include_lookups(b"#if __has_include(<x.h>)\n#endif\n", includer, search, tmp_path)
    assert (found, missing) == ([tmp_path / "b" / "x.h"], [tmp_path / "a" / "x.h"])
    # __has_include_next: every place counts
    found, missing = has_include_lookups(b"#if __has_include_next(<x.h>)\n#endif\n", includer, search, tmp_path)
    assert found == [tmp_path / "b" / "x.h"] and tmp_path / "c" / "x.h" in missing
    # a quoted lookup inside a macro: from every directory of the unit
    data = b'#define HAS __has_include("y.h")\n'
    found, missing = has_include_lookups(data, includer, search, tmp_path, current_dirs=[str(tmp_path / "other")])
    assert tmp_path / "other" / "y.h" in missing and tmp_path / "here" / "y.h" in missing
    found, missing = has_include_lookups(b'#if __has_include("y.h")\n#endif\n', includer, search, tmp_path,
                                         current_dirs=[str(tmp_path / "other")])
    assert tmp_path / "other" / "y.h" not in missing
    # computed: None
    assert has_include_lookups(b"#if __has_include(NAME)\n#endif\n", includer, search, tmp_path) is None
    # a directory where the header is looked for
    (tmp_path / "a" / "x.h").mkdir()
    with pytest.raises(UnrecordableLookup):
        has_include_lookups(b"#if __has_include(<x.h>)\n#endif\n", includer, search, tmp_path, strict=True)
    os.rmdir(tmp_path / "a" / "x.h")
    os.symlink("nowhere", tmp_path / "a" / "x.h")
    with pytest.raises(UnrecordableLookup):
        has_include_lookups(b"#if __has_include(<x.h>)\n#endif\n", includer, search, tmp_path, strict=True)
