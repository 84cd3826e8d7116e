"""pycache_cfamily.responsefiles: response files in both quoting styles."""

from __future__ import annotations

from pathlib import Path

import pytest

from pycache_cfamily.responsefiles import ResponseFileError, expand_response_files, split_gnu, split_windows


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", []),
        ("   \n\t ", []),
        ("-c a.c", ["-c", "a.c"]),
        ("-c\na.c\r\n-o\ta.o", ["-c", "a.c", "-o", "a.o"]),
        ("'a b' \"c d\"", ["a b", "c d"]),
        ('-DX="1 2"', ["-DX=1 2"]),
        ("-DX='\"q\"'", ['-DX="q"']),
        (r"a\ b", ["a b"]),
        (r"'a\'b'", ["a'b"]),  # libiberty: the backslash escapes inside quotes too
        (r'"a\"b"', ['a"b']),
        (r"C:\\dir", [r"C:\dir"]),
        ('""', [""]),
        ("x''y", ["xy"]),
        ("trailing\\", ["trailing"]),
    ],
)
def test_split_gnu(text: str, expected: list[str]) -> None:
    assert split_gnu(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", []),
        ("/c a.c", ["/c", "a.c"]),
        ('"a b" c', ["a b", "c"]),
        (r"C:\dir\file.c", [r"C:\dir\file.c"]),
        (r'"C:\dir with space\\" x', ["C:\\dir with space\\", "x"]),
        (r'a\"b', ['a"b']),
        (r'a\\\"b', ['a\\"b']),
        (r'a\\"b c"', ["a\\b c"]),
        ('"a""b"', ['a"b']),
        ("/DX=1\r\n/DY=2", ["/DX=1", "/DY=2"]),
        ('""', [""]),
    ],
)
def test_split_windows(text: str, expected: list[str]) -> None:
    assert split_windows(text) == expected


def test_expand_gnu_nested_and_relative_to_cwd(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "outer.rsp").write_text("-O2 @sub/inner.rsp '-DA=a b'\n")
    # Nested names are relative to the call's cwd, not to the outer file (gcc).
    (tmp_path / "sub" / "inner.rsp").write_text("-Iinc -DB")
    result = expand_response_files(["-c", "@outer.rsp", "a.c"], cwd=tmp_path)
    assert result.arguments == ("-c", "-O2", "-Iinc", "-DB", "-DA=a b", "a.c")
    assert result.files == (tmp_path / "outer.rsp", tmp_path / "sub" / "inner.rsp")


def test_expand_gnu_keeps_unreadable_file_literally(tmp_path: Path) -> None:
    result = expand_response_files(["-c", "@missing.rsp", "@"], cwd=tmp_path)
    assert result.arguments == ("-c", "@missing.rsp", "@")
    assert result.files == ()


def test_expand_windows_refuses_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(ResponseFileError, match="missing.rsp"):
        expand_response_files(["@missing.rsp"], style="windows", cwd=tmp_path)


def test_expand_windows_utf16_with_bom(tmp_path: Path) -> None:
    (tmp_path / "a.rsp").write_bytes("\ufeff/c \"d\u00e9j\u00e0 vu.c\"\r\n/DX=1".encode("utf-16-le"))
    result = expand_response_files(["@a.rsp"], style="windows", cwd=tmp_path)
    assert result.arguments == ("/c", "d\u00e9j\u00e0 vu.c", "/DX=1")


def test_expand_stops_on_a_file_that_includes_itself(tmp_path: Path) -> None:
    (tmp_path / "loop.rsp").write_text("-DX @loop.rsp")
    with pytest.raises(ResponseFileError, match="includes itself"):
        expand_response_files(["@loop.rsp"], cwd=tmp_path)


def test_expand_rejects_unknown_style() -> None:
    with pytest.raises(ValueError):
        expand_response_files(["@x"], style="powershell")


def test_gnu_splitting_agrees_with_gcc(tmp_path: Path) -> None:
    """The same response file, read by gcc itself and by split_gnu."""
    import shutil
    import subprocess

    gcc = shutil.which("gcc")
    if gcc is None:
        pytest.skip("gcc is not installed on this machine")
    (tmp_path / "args.rsp").write_text("-DA='1 2' \"-DB=\\\"s\\\"\"\n-DC=a\\ b -DD=\"x'y\"")
    tokens = expand_response_files(["@args.rsp"], cwd=tmp_path).arguments
    assert tokens == ("-DA=1 2", '-DB="s"', "-DC=a b", "-DD=x'y")
    done = subprocess.run([gcc, "-E", "-dM", "-x", "c", "/dev/null", "@args.rsp"], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    defined = {line for line in done.stdout.splitlines() if line.split()[1] in ("A", "B", "C", "D")}
    assert defined == {"#define A 1 2", '#define B "s"', "#define C a b", "#define D x'y"}
