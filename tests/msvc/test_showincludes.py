"""/showIncludes notes: the prefix learnt from a probe compile (English,
localised, paths with spaces), and the include stack read from the
nesting of the notes."""

from __future__ import annotations

from pathlib import Path

import pytest

from pycache_msvc import showincludes, toolchain
from pycache_msvc.showincludes import PROBE_HEADER, Note, detect_prefix, note_lines, parse_notes

from .support import BASE_ENV, make_clang_cl, make_context, needs_clang_cl


def _exists_only(*paths: str):
    return lambda p: p in paths


@pytest.mark.parametrize(
    "line, exists, prefix",
    [
        # clang-cl: a path relative to the probe's directory
        (f"Note: including file: ./{PROBE_HEADER}", f"/probe/./{PROBE_HEADER}", "Note: including file: "),
        # cl.exe: the absolute path, with spaces in it
        (f"Note: including file: C:\\Users\\John Smith\\Temp\\{PROBE_HEADER}",
         f"C:\\Users\\John Smith\\Temp\\{PROBE_HEADER}", "Note: including file: "),
        # localised installations
        (f"Hinweis: Einlesen der Datei: C:\\T\\{PROBE_HEADER}", f"C:\\T\\{PROBE_HEADER}", "Hinweis: Einlesen der Datei: "),
        (f"Remarque : inclusion du fichier :  C:\\T\\{PROBE_HEADER}", f"C:\\T\\{PROBE_HEADER}", "Remarque : inclusion du fichier : "),
        (f"\u6ce8\u610f: \u5305\u542b\u6587\u4ef6: C:\\T\\{PROBE_HEADER}", f"C:\\T\\{PROBE_HEADER}", "\u6ce8\u610f: \u5305\u542b\u6587\u4ef6: "),
    ],
)
def test_prefix_detection(line: str, exists: str, prefix: str) -> None:
    output = f"pycache-show-includes-probe.c\r\n{line}\r\n"
    assert detect_prefix(output, "/probe", _exists_only(exists)) == prefix


def test_no_prefix_without_a_note() -> None:
    assert detect_prefix("cl : warning D9002 : ignoring unknown option\n", "/probe", lambda p: True) is None
    # a line that ends with the header but whose rest names no file
    assert detect_prefix(f"see {PROBE_HEADER}\n", "/probe", lambda p: False) is None


def test_notes_give_the_include_stack() -> None:
    lines = [
        "Note: including file: ./p.h",
        "Note: including file: ./sub/b.h",
        "Note: including file:  ./q.h",
        "Note: including file:   ./deep.h",
        "Note: including file: ./last.h",
        "a.c(3): warning: not a note",
    ]
    assert parse_notes(lines, "Note: including file: ", "a.c") == [
        Note("./p.h", 1, ("a.c",)),
        Note("./sub/b.h", 1, ("a.c",)),
        Note("./q.h", 2, ("./sub/b.h", "a.c")),
        Note("./deep.h", 3, ("./q.h", "./sub/b.h", "a.c")),
        Note("./last.h", 1, ("a.c",)),
    ]


def test_note_lines_keep_only_notes() -> None:
    out = b"a.c\r\nNote: including file: C:\\x\\p.h\r\nwarning\nNote: including file:  q.h\n"
    assert note_lines(out, "Note: including file: ") == ["Note: including file: C:\\x\\p.h", "Note: including file:  q.h"]
    assert note_lines(out, "") == []


@needs_clang_cl
def test_probe_learns_clang_cl_prefix(tmp_path: Path) -> None:
    compiler = make_clang_cl(tmp_path / "bin")
    context = make_context(tmp_path)
    identity = toolchain.probe(compiler, BASE_ENV, context)
    assert identity.details["kind"] == "clang-cl"
    assert identity.details["show_includes_prefix"] == "Note: including file: "
    assert identity.version.startswith("14.") or identity.version[0].isdigit()
    assert "InstalledDir" not in identity.details["version_text"]
    # the same toolchain under another directory is the same toolchain
    other = toolchain.probe(make_clang_cl(tmp_path / "elsewhere"), BASE_ENV, make_context(tmp_path / "x"))
    assert other.fingerprint == identity.fingerprint
    # the probe's files go to the scratch directory only
    assert (tmp_path / "scratch" / "show-includes-probe" / showincludes.PROBE_SOURCE).exists()
    assert not (tmp_path / "bin" / showincludes.PROBE_SOURCE).exists()
