"""Windows path rules (drive letters, backslashes, case, \\\\?\\ prefixes)
and POSIX ones, as cl.exe and clang-cl apply them, checked on any machine."""

from __future__ import annotations

import pytest

from pycache_msvc import paths

W, P = "windows", "posix"


@pytest.mark.parametrize(
    "path, style, absolute",
    [
        ("C:\\src\\a.c", W, True),
        ("c:/src/a.c", W, True),
        ("C:a.c", W, False),  # relative to drive C's current directory
        ("\\src\\a.c", W, False),  # relative to the current drive
        ("\\\\server\\share\\a.c", W, True),
        ("//server/share/a.c", W, True),
        ("\\\\?\\C:\\src\\a.c", W, True),
        ("\\\\?\\UNC\\server\\share\\a.c", W, True),
        ("src\\a.c", W, False),
        ("/src/a.c", P, True),
        ("C:\\src\\a.c", P, False),
        ("src/a.c", P, False),
    ],
)
def test_is_absolute(path: str, style: str, absolute: bool) -> None:
    assert paths.is_absolute(path, style) is absolute


@pytest.mark.parametrize(
    "path, plain",
    [
        ("\\\\?\\C:\\src\\a.c", "C:\\src\\a.c"),
        ("\\\\?\\UNC\\server\\share\\a.c", "\\\\server\\share\\a.c"),
        ("//?/C:/src/a.c", "C:/src/a.c"),
        ("C:\\src\\a.c", "C:\\src\\a.c"),
    ],
)
def test_strip_verbatim_prefix(path: str, plain: str) -> None:
    assert paths.strip_verbatim_prefix(path) == plain


@pytest.mark.parametrize(
    "a, b, style, cwd, same",
    [
        ("C:\\Src\\A.OBJ", "c:/src/a.obj", W, None, True),
        ("\\\\?\\C:\\src\\a.obj", "C:\\SRC\\a.obj", W, None, True),
        ("C:\\src\\out\\..\\a.obj", "C:\\src\\.\\a.obj", W, None, True),
        ("out\\a.obj", "C:\\build\\out\\a.obj", W, "C:\\build", True),
        ("\\out\\a.obj", "D:\\out\\a.obj", W, "D:\\build", True),
        ("C:\\a.obj", "D:\\a.obj", W, None, False),
        ("\\\\server\\share\\x\\..\\a", "\\\\SERVER\\share\\a", W, None, True),
        ("/src/A.obj", "/src/a.obj", P, None, False),
        ("out/../a.obj", "/b/a.obj", P, "/b", True),
    ],
)
def test_same_path(a: str, b: str, style: str, cwd: str | None, same: bool) -> None:
    assert paths.same_path(a, b, style, cwd) is same


@pytest.mark.parametrize(
    "value, source, style, expected",
    [
        ("", "src\\a.c", W, "a.obj"),
        ("out\\", "src\\a.c", W, "out\\a.obj"),
        ("out/", "src\\a.c", W, "out/a.obj"),
        ("C:\\out\\", "C:\\src\\a.cpp", W, "C:\\out\\a.obj"),
        ("C:\\out\\b", "a.c", W, "C:\\out\\b.obj"),
        ("out.d\\", "a.c", W, "out.d\\a.obj"),  # a dot in the directory is not an extension
        ("x.o", "a.c", W, "x.o"),
        ("out\\", "a.c", P, "out\\.obj"),  # on POSIX a backslash is a name character: clang-cl there does the same
        ("out/", "src/a.c", P, "out/a.obj"),
        ("", "/abs/src/a.c", P, "a.obj"),
    ],
)
def test_cl_output_path(value: str, source: str, style: str, expected: str) -> None:
    assert paths.cl_output_path(value, source, ".obj", style) == expected


def test_basename_dirname_stem() -> None:
    assert paths.basename("C:\\src\\sub/a.c", W) == "a.c"
    assert paths.basename("C:a.c", W) == "a.c"
    assert paths.dirname("C:\\src\\a.c", W) == "C:\\src"
    assert paths.dirname("C:\\a.c", W) == "C:\\"
    assert paths.dirname("a.c", W) == ""
    assert paths.dirname("src\\a.c", P) == ""
    assert paths.stem("C:\\out\\A.Obj", W) == "A"
    assert paths.join("C:\\out", "a.obj", W) == "C:\\out\\a.obj"
    assert paths.join("out/", "a.obj", W) == "out/a.obj"
    assert paths.join("C:\\out", "D:\\x.obj", W) == "D:\\x.obj"
    assert paths.ends_with_separator("out\\", W) and not paths.ends_with_separator("out\\", P)


def test_unknown_style_is_an_error() -> None:
    with pytest.raises(ValueError):
        paths.is_absolute("x", "vms")
