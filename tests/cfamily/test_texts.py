"""pycache_cfamily.texts against the real compilers: gcc's and clang's make
layouts reproduce the dependency files they write byte for byte (so the
core can re-render one for another checkout), and only line markers are
made portable in preprocessed output."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from pycache_cfamily.texts import GNU_DIAGNOSTICS, GNU_MKDEPS, LLVM_DEPFILE, marker_paths, portable_markers
from pycache_core.paths import BaseDirectories
from pycache_core.relocation import parse_make, portable_lines, render_make

GCC = shutil.which("gcc")
CLANG = shutil.which("clang") or shutil.which("clang-14")

COMPILERS = [
    pytest.param(GCC, GNU_MKDEPS, id="gcc", marks=pytest.mark.skipif(GCC is None, reason="gcc is not installed")),
    pytest.param(CLANG, LLVM_DEPFILE, id="clang", marks=pytest.mark.skipif(CLANG is None, reason="clang is not installed")),
]


@pytest.mark.parametrize(("compiler", "layout"), COMPILERS)
@pytest.mark.parametrize(
    ("output", "phony"),
    [("a.o", False), ("./out//a.o", True), ("out/x$y#z.o", False), ("out/with space.o", True)],
)
def test_layouts_reproduce_the_compilers_own_files(tmp_path: Path, compiler: str, layout, output: str, phony: bool) -> None:
    headers = ["plain.h", "a_header_with_a_rather_long_name_number_one.h", "sp ace/x.h", "dol$lar.h", "ha#sh.h",
               "a_header_with_a_rather_long_name_number_two.h", "sub/dir/deeper/still/deeper/header_three.h"]
    for name in headers:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("")
    (tmp_path / "out").mkdir()
    (tmp_path / "m.c").write_text("".join(f'#include "{h}"\n' for h in headers) + f'#include "{tmp_path}/plain.h"\n')
    argv = [compiler, "-c", "m.c", "-MD", "-MF", "m.d", "-o", output] + (["-MP"] if phony else [])
    subprocess.run(argv, cwd=tmp_path, check=True, capture_output=True)
    text = (tmp_path / "m.d").read_text()
    parsed = parse_make(text)
    assert parsed is not None
    assert render_make(*parsed, layout) == text
    assert parsed[0][0].targets == [layout.target(output)]
    other = LLVM_DEPFILE if layout is GNU_MKDEPS else GNU_MKDEPS
    assert render_make(*parsed, other) != text  # the two layouts are told apart on this file


def test_only_line_markers_are_made_portable() -> None:
    bases = BaseDirectories([("1", "/ck")])
    output = (
        b'# 0 "/ck/a.c"\n# 1 "/ck/inc/q\\"uote.h" 1\n'
        b'const char *f = "/ck/a.c";\n# 7 "/ck2/other.h" 2\n#line 3 "/ck/win.c"\nint x;\n'
    )
    assert portable_markers(output, bases.portable_path) == (
        b'# 0 "<BASEDIR:1>/a.c"\n# 1 "<BASEDIR:1>/inc/q\\"uote.h" 1\n'
        b'const char *f = "/ck/a.c";\n# 7 "/ck2/other.h" 2\n#line 3 "<BASEDIR:1>/win.c"\nint x;\n'
    )
    assert marker_paths(b'# 0 "a.c"\n# 0 "<built-in>"\n# 1 "inc/a.h" 1\n# 2 "a.c" 2\n') == ["a.c", "inc/a.h"]


def test_gnu_diagnostics_positions() -> None:
    """gcc's and clang's locations, coloured or not; not a path in a message."""
    bases = BaseDirectories([("1", "/ck")])
    stderr = (
        b"In file included from \x1b[01m\x1b[K/ck/a.c:1\x1b[m\x1b[K:\n"
        b"                 from /ck/b.c:2:\n"
        b"\x1b[01m\x1b[K/ck/in c/h.h:\x1b[m\x1b[K In function \xe2\x80\x98h\xe2\x80\x99:\n"
        b"\x1b[0m\x1b[1m/ck/a.c:3:20: \x1b[0m\x1b[0;1;35mwarning: \x1b[0munused\n"
        b"    3 | int f(int x) { int y; }\n"
    )
    assert portable_lines(stderr, GNU_DIAGNOSTICS, bases) == stderr.replace(b"/ck/", b"<BASEDIR:1>/")
    assert portable_lines(b"/ck/a.c:1:2: warning: #warning see /ck/x\n", GNU_DIAGNOSTICS, bases) is None
