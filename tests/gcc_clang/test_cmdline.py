"""pycache_core.cmdline: response files in both quoting styles, option tables."""

from __future__ import annotations

from pathlib import Path

import pytest

from pycache_core.cmdline import (
    ArgForm,
    Category,
    OptionSpec,
    OptionTable,
    ResponseFileError,
    expand_response_files,
    split_gnu,
    split_windows,
)


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


TABLE = OptionTable(
    [
        OptionSpec("-c", ArgForm.FLAG, Category.OUTPUT, tag="compile"),
        OptionSpec("-o", ArgForm.JOINED_OR_SEPARATE, Category.OUTPUT, path=True),
        OptionSpec("-I", ArgForm.JOINED_OR_SEPARATE, Category.PREPROCESSOR, path=True),
        OptionSpec("-include", ArgForm.JOINED_OR_SEPARATE, Category.PREPROCESSOR, path=True),
        OptionSpec("-include-pch", ArgForm.SEPARATE, Category.PREPROCESSOR, path=True),
        OptionSpec("-f", ArgForm.JOINED, Category.CODEGEN),
        OptionSpec("-fprofile-use", ArgForm.FLAG, Category.CODEGEN, tag="profile"),
        OptionSpec("-fprofile-use", ArgForm.EQUALS, Category.CODEGEN, tag="profile"),
        OptionSpec("-O", ArgForm.JOINED, Category.CODEGEN),
        OptionSpec("-std", ArgForm.EQUALS, Category.CODEGEN),
        OptionSpec("--sysroot", ArgForm.EQUALS, Category.PREPROCESSOR, separate_ok=True),
        OptionSpec("-Xclang", ArgForm.SEPARATE, Category.CODEGEN),
    ]
)


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["-c"], [("-c", None, ("-c",))]),
        (["-o", "a.o"], [("-o", "a.o", ("-o", "a.o"))]),
        (["-oa.o"], [("-o", "a.o", ("-oa.o",))]),
        (["-Iinc", "-I", "inc"], [("-I", "inc", ("-Iinc",)), ("-I", "inc", ("-I", "inc"))]),
        # exact spelling first, then the longest prefix
        (["-include-pch", "x.pch"], [("-include-pch", "x.pch", ("-include-pch", "x.pch"))]),
        (["-includecfg.h"], [("-include", "cfg.h", ("-includecfg.h",))]),
        (["-fprofile-use"], [("-fprofile-use", None, ("-fprofile-use",))]),
        (["-fprofile-use=p"], [("-fprofile-use", "p", ("-fprofile-use=p",))]),
        (["-fprofile-used"], [("-f", "profile-used", ("-fprofile-used",))]),
        (["-O"], [("-O", "", ("-O",))]),
        (["-std=c11"], [("-std", "c11", ("-std=c11",))]),
        (["--sysroot", "/s", "--sysroot=/t"], [("--sysroot", "/s", ("--sysroot", "/s")), ("--sysroot", "/t", ("--sysroot=/t",))]),
        (["-Xclang", "-o"], [("-Xclang", "-o", ("-Xclang", "-o"))]),
        (["a.c", "-"], [("", None, ("a.c",)), ("", None, ("-",))]),
        (["-Zbogus"], [("", None, ("-Zbogus",))]),
    ],
)
def test_option_table_parse(argv: list[str], expected: list[tuple]) -> None:
    got = [(a.option, a.value, a.tokens) for a in TABLE.parse(argv)]
    assert got == expected


def test_parsed_arg_kinds_and_joined_form() -> None:
    inp, unknown, stdin, sep, eq = TABLE.parse(["a.c", "-Zx", "-", "-I", "inc", "--sysroot", "/s"])
    assert inp.is_input and not inp.is_unknown
    assert unknown.is_unknown and not unknown.is_input
    assert stdin.is_input
    assert sep.joined() == "-Iinc"
    assert eq.joined() == "--sysroot=/s"


def test_missing_separate_value_is_reported() -> None:
    (arg,) = TABLE.parse(["-o"])
    assert arg.missing_value and arg.value is None
    (arg,) = TABLE.parse(["-std"])  # "=" form only: no value taken from the next argument
    assert arg.is_unknown


def test_duplicate_spelling_is_an_error() -> None:
    with pytest.raises(ValueError, match="twice"):
        OptionTable([OptionSpec("-c", ArgForm.FLAG, "a"), OptionSpec("-c", ArgForm.FLAG, "b")])


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
