"""Table-driven parsing of cl and clang-cl command lines: every cacheable
form, every reason a call is not cacheable (or not a compilation), the
command line as the compiler reads it (response files, CL and _CL_), and
Windows command lines parsed by Windows path rules."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from pycache_core.api import NotCacheable, NotCompilation, ParsedInvocation
from pycache_gcc_clang import hooks as gcc_clang_hooks
from pycache_msvc import hooks
from pycache_msvc.arguments import ClCall, environment_options

from .support import BASE_ENV, CL_EXE, make_invocation, parse

FORCED = "-fcolor-diagnostics"


def _parse(tmp_path: Path, args, *, env=None, style=None, **kw):
    return parse(make_invocation(args, tmp_path, env={**BASE_ENV, **(env or {})}, **kw), style=style)


def _check(result, expected: dict) -> None:
    assert isinstance(result, ParsedInvocation), result
    assert isinstance(result.private, ClCall)
    if "language" in expected:
        assert result.language == expected["language"]
    if "outputs" in expected:
        got = {role: (str(slot.path), slot.required) for role, slot in result.outputs.items()}
        assert got == expected["outputs"]
    if "key" in expected:
        assert result.key_arguments == expected["key"]
    if "ignored" in expected:
        assert result.ignored_arguments == expected["ignored"]
    if "run" in expected:
        assert result.run_arguments == expected["run"]
    if "colour" in expected:
        assert result.colour_diagnostics is expected["colour"]
    for name, value in expected.get("private", {}).items():
        assert getattr(result.private, name) == value, name


OBJ = {"object": ("a.obj", True)}

# Each row: id, arguments, expected fields ("outputs": role -> (path, required)), call keywords.
CACHEABLE = [
    ("plain", ["/c", "a.c"],
     dict(language="c", outputs=OBJ, key=(FORCED,), ignored=("/c",), run=(FORCED, "/c", "a.c"), colour=True)),
    ("dash forms", ["-c", "a.c", "-Foout/b.obj", "-O2"], dict(outputs={"object": ("out/b.obj", True)}, key=("-O2", FORCED))),
    ("/Fo a directory: the object is named after the source", ["/c", "src/a.c", "/Foout/"],
     dict(outputs={"object": ("out/a.obj", True)})),
    ("/Fo without an extension gets .obj", ["/c", "a.c", "/Foout/b"], dict(outputs={"object": ("out/b.obj", True)})),
    ("/Fo with another extension keeps it", ["/c", "a.c", "/Fob.o"], dict(outputs={"object": ("b.o", True)})),
    ("the last /Fo wins", ["/c", "a.c", "/Fox.obj", "/Foy.obj"], dict(outputs={"object": ("y.obj", True)})),
    ("no /Fo: in the working directory", ["/c", "src/a.cpp"], dict(language="c++", outputs=OBJ)),
    ("/TP compiles .c as C++", ["/c", "/TP", "a.c"], dict(language="c++", key=("/TP", FORCED))),
    ("/TC", ["/c", "/TC", "a.cpp"], dict(language="c", outputs=OBJ)),
    ("/Tc names a C source", ["/c", "/Tcfile.x"], dict(language="c", outputs={"object": ("file.obj", True)},
                                                       private=dict(source="file.x"))),
    ("/Tp separate", ["/c", "/Tp", "x.inc"], dict(language="c++", private=dict(source="x.inc"))),
    (".cxx", ["/c", "a.cxx"], dict(language="c++")),
    (".C is C++ for clang-cl on POSIX", ["/c", "a.C"], dict(language="c++")),
    ("an absolute POSIX source is a path, not an option", ["/c", "/code/a.c"], dict(private=dict(source="/code/a.c"))),
    (
        "preprocessor options stay out of the key",
        ["/c", "a.c", "/Iinc", "/I", "inc2", "/DX=1", "/D", "Y", "/UZ", "/FIcfg.h", "/external:I", "ext", "/imsvc", "sys",
         "/external:env:EXT", "/X", "/u"],
        dict(key=(FORCED,),
             private=dict(preprocessor_arguments=("/Iinc", "/I", "inc2", "/DX=1", "/D", "Y", "/UZ", "/FIcfg.h", "/external:I",
                                                  "ext", "/imsvc", "sys", "/external:env:EXT", "/X", "/u"),
                          include_dirs=("inc", "inc2"), external_dirs=("ext",), imsvc_dirs=("sys",), include_env=("EXT",),
                          default_includes=False, no_direct="")),
    ),
    (
        "code generation and diagnostics, in order",
        ["/c", "a.cpp", "/O2", "/EHsc", "/W4", "/WX", "/wd4996", "/w14244", "/std:c++17", "/MD", "/GR-", "/Zc:__cplusplus",
         "/permissive-", "/utf-8", "/nologo", "/Brepro", "-Wno-unused-variable", "-m64", "/arch:AVX2", "/external:W0",
         "/diagnostics:caret", "/Gm-"],
        dict(key=("/O2", "/EHsc", "/W4", "/WX", "/wd4996", "/w14244", "/std:c++17", "/MD", "/GR-", "/Zc:__cplusplus",
                  "/permissive-", "/utf-8", "/nologo", "/Brepro", "-Wno-unused-variable", "-m64", "/arch:AVX2",
                  "/external:W0", "/diagnostics:caret", "/Gm-", FORCED)),
    ),
    ("the /E run keeps what defines macros, drops outputs and notes",
     ["/c", "a.c", "/O2", "/DX", "/Foout/a.obj", "/showIncludes", "-clang:-MD", "-clang:-MFa.d", "/MP", "/Z7", "/Fdp.pdb"],
     dict(private=dict(preprocess_arguments=("a.c", "/O2", "/DX", "/Z7")))),
    ("/MP, /FS and /errorReport: are not in the key", ["/c", "a.c", "/MP", "/MP4", "/FS", "/errorReport:none"],
     dict(key=(FORCED,), ignored=("/c", "/MP", "/MP4", "/FS", "/errorReport:none"))),
    # no forced colour where the object records the command line
    ("/Z7: debug information in the object", ["/c", "a.c", "/Z7"],
     dict(outputs=OBJ, key=("/Z7",), run=None, colour=False, private=dict(debug=True, pdb=None))),
    ("/Zi with the object's own /Fd: a PDB slot (cl.exe writes it)", ["/c", "a.c", "/Zi", "/Foout/a.obj", "/Fdout/a.pdb"],
     dict(outputs={"object": ("out/a.obj", True), "pdb": ("out/a.pdb", False)}, private=dict(debug=True, pdb_shared=""))),
    ("/Fd without an extension gets .pdb", ["/c", "a.c", "/ZI", "/Fda"], dict(outputs={"object": ("a.obj", True), "pdb": ("a.pdb", False)})),
    ("/Zi without /Fd: shared, decided once the compiler is known", ["/c", "a.c", "/Zi"],
     dict(outputs=OBJ, private=dict(pdb=None, pdb_shared="no /Fd: cl.exe writes vcNNN.pdb in the working directory, shared by every object"))),
    ("/Zi with /Fd naming a directory", ["/c", "a.c", "/Zi", "/Fdout/"],
     dict(outputs=OBJ, private=dict(pdb_shared="/Fdout/ names a directory: cl.exe writes vcNNN.pdb there, shared by every object"))),
    ("/Zi with a PDB not named after the object", ["/c", "a.c", "/Zi", "/Fdall.pdb"],
     dict(outputs=OBJ, private=dict(pdb_shared="/Fdall.pdb is not named after the object a.obj: a PDB shared by several objects"))),
    ("/showIncludes is in the key, not in the /E run", ["/c", "a.c", "/showIncludes"],
     dict(key=("/showIncludes", FORCED), private=dict(show_includes=True, preprocess_arguments=("a.c",)))),
    ("/showIncludes:user", ["/c", "a.c", "/showIncludes:user"], dict(key=("/showIncludes:user", FORCED))),
    ("-clang:-MD -clang:-MF writes a dependency file", ["/c", "a.c", "-clang:-MD", "-clang:-MFdeps/a.d"],
     dict(outputs={"object": ("a.obj", True), "depfile": ("deps/a.d", True)}, key=("-clang:-MD", FORCED),
          ignored=("/c", "-clang:-MFdeps/a.d"))),
    ("/clang:-MF with its value in the next /clang:", ["/c", "a.c", "/clang:-MMD", "/clang:-MF", "/clang:a.d"],
     dict(outputs={"object": ("a.obj", True), "depfile": ("a.d", True)}, ignored=("/c", "/clang:-MF", "/clang:a.d"))),
    ("/clang:-MT: the target is text in the file", ["/c", "a.c", "/clang:-MD", "/clang:-MFa.d", "/clang:-MT", "/clang:tgt"],
     dict(outputs={"object": ("a.obj", True), "depfile": ("a.d", True)}, private=dict(path_arguments=("/clang:-MT", "/clang:tgt")))),
    ("/clang: code generation and macros", ["/c", "a.c", "/clang:-O3", "/clang:-DX"],
     dict(key=("/clang:-O3", FORCED), private=dict(preprocessor_arguments=("/clang:-DX",)))),
    ("/Yc with /Fp: the .pch is an output", ["/c", "pch.cpp", "/Ycpch.h", "/Fppch.pch", "-Xclang", "-fno-pch-timestamp"],
     dict(outputs={"object": ("pch.obj", True), "pch": ("pch.pch", True)}, key=("/Ycpch.h", "-Xclang", "-fno-pch-timestamp"), run=None,
          private=dict(pch_timestamp_off=True))),
    ("/Yu with /Fp (no extension: .pch)", ["/c", "use.cpp", "/Yupch.h", "/Fppch"],
     dict(outputs={"object": ("use.obj", True)}, key=("/Yupch.h", FORCED))),
    ("/Y- turns /Yu off", ["/c", "a.cpp", "/Yupch.h", "/Y-"], dict(key=("/Yupch.h", "/Y-", FORCED), private=dict(pch=None))),
    ("explicit colour is kept", ["/c", "a.c", "-fno-color-diagnostics"],
     dict(key=("-fno-color-diagnostics",), run=None, colour=False)),
    ("/FC: messages name absolute paths", ["/c", "a.c", "/FC"], dict(private=dict(absolute_diagnostics=True))),
    ("-fdiagnostics-absolute-paths", ["/c", "a.c", "-fdiagnostics-absolute-paths"], dict(private=dict(absolute_diagnostics=True))),
    ("a sanitizer list is an input", ["/c", "a.c", "-fsanitize=address", "-fsanitize-ignorelist=ign.txt"],
     dict(key=("-fsanitize=address", FORCED), private=dict(input_files=("ign.txt",), path_arguments=("-fsanitize-ignorelist=ign.txt",)))),
    ("-Xclang allowed", ["/c", "a.c", "-Xclang", "-disable-O0-optnone"], dict(key=("-Xclang", "-disable-O0-optnone", FORCED))),
    ("/sourceDependencies: an output cl.exe writes", ["/c", "a.c", "/sourceDependencies", "a.json"],
     dict(outputs={"object": ("a.obj", True), "source-dependencies": ("a.json", False)})),
    ("--rsp-quoting is used, not keyed", ["/c", "a.c", "--rsp-quoting=windows"], dict(key=(FORCED,))),
]


@pytest.mark.parametrize("row", CACHEABLE, ids=[r[0] for r in CACHEABLE])
def test_cacheable(tmp_path: Path, row) -> None:
    _, args, expected, *kw = row
    _check(_parse(tmp_path, args, **(kw[0] if kw else {})), expected)


def test_cl_exe_gets_no_forced_colour(tmp_path: Path) -> None:
    result = _parse(tmp_path, ["/c", "a.c", "/O2"], compiler=CL_EXE, invoked_as="cl")
    _check(result, dict(key=("/O2",), run=None, colour=False))


def test_cl_and__cl__are_part_of_the_command_line(tmp_path: Path) -> None:
    """CL's options come first, _CL_'s last, '#' read as '='; the compiler
    reads the variables itself, so it runs with the arguments as given."""
    result = _parse(tmp_path, ["/c", "a.c"], env={"CL": '/DNUM#7 /O2 "/DMSG=a b"', "_CL_": "/W4 /UNUM"})
    _check(result, dict(key=("/O2", "/W4", FORCED), run=(FORCED, "/c", "a.c"),
                        private=dict(preprocessor_arguments=("/DNUM=7", "/DMSG=a b", "/UNUM"),
                                     all_arguments=("/DNUM=7", "/O2", "/DMSG=a b", "/c", "a.c", "/W4", "/UNUM"))))
    assert environment_options("/DA#1#2 /DB") == ["/DA=1#2", "/DB"]


def test_cl_can_make_a_call_cacheable_or_not(tmp_path: Path) -> None:
    assert isinstance(_parse(tmp_path, ["a.c"], env={"CL": "/c"}), ParsedInvocation)
    refused = _parse(tmp_path, ["/c", "a.c"], env={"_CL_": "/Fa"})
    assert isinstance(refused, NotCacheable) and refused.reason == "assembly-output"


def test_response_files_windows_quoting_nested_and_utf16(tmp_path: Path) -> None:
    (tmp_path / "args.rsp").write_text('/O2 "/DMSG=\\"hi there\\"" @more.rsp\r\n/Foout\\a.obj')
    (tmp_path / "more.rsp").write_bytes(codecs.BOM_UTF16_LE + "/W4 /Iinc\r\n".encode("utf-16-le"))
    (tmp_path / "u8.rsp").write_bytes(codecs.BOM_UTF8 + "/DUTF=\u00e9".encode())
    result = _parse(tmp_path, ["/c", "@args.rsp", "a.c", "@u8.rsp"])
    _check(result, dict(key=("/O2", "/W4", FORCED), outputs={"object": ("out\\a.obj", True)},
                        private=dict(preprocessor_arguments=('/DMSG="hi there"', "/Iinc", "/DUTF=\u00e9"))))
    # The compiler reads the response files itself.
    assert result.run_arguments == (FORCED, "/c", "@args.rsp", "a.c", "@u8.rsp")


def test_response_file_posix_quoting_when_asked(tmp_path: Path) -> None:
    (tmp_path / "args.rsp").write_text("'/DMSG=a b' /O1")
    result = _parse(tmp_path, ["/c", "@args.rsp", "a.c", "--rsp-quoting=posix"])
    _check(result, dict(key=("/O1", FORCED), private=dict(preprocessor_arguments=("/DMSG=a b",))))


NOT_CACHEABLE = [
    ("linking", ["a.c"], "linking"),
    ("linking with /Fe", ["a.c", "/Fea.exe"], "linking"),
    ("/link after /c", ["/c", "a.c", "/link", "x.lib"], "linking"),
    ("/Fe with /c", ["/c", "a.c", "/Fea.exe"], "linking"),
    ("several sources", ["/c", "a.c", "b.c"], "multiple-sources"),
    ("/Tp and a source", ["/c", "/Tpx.cc", "a.c"], "multiple-sources"),
    ("an object among the inputs", ["/c", "a.c", "x.obj"], "multiple-sources"),
    ("stdin", ["/c", "/TC", "-"], "stdin-input"),
    ("an unknown /option on POSIX is not taken for a path", ["/c", "a.c", "/Zq"], "unknown-option"),
    ("an unknown -option", ["/c", "a.c", "-Zq"], "unknown-option"),
    ("an unknown --option", ["/c", "a.c", "--frobnicate"], "unknown-option"),
    ("gcc's -MMD is not clang-cl's", ["/c", "a.c", "-MMD"], "unknown-option"),
    ("/Zs", ["/c", "a.c", "/Zs"], "syntax-only"),
    ("/FA", ["/c", "a.c", "/FA"], "assembly-output"),
    ("/Fa", ["/c", "a.c", "/FAcs", "/Faout/"], "assembly-output"),
    ("/Fr", ["/c", "a.c", "/Fr"], "extra-output"),
    ("/Gm writes an .idb", ["/c", "a.c", "/Gm"], "extra-output"),
    ("/analyze", ["/c", "a.c", "/analyze"], "extra-output"),
    ("/doc", ["/c", "a.c", "/doc"], "extra-output"),
    ("/Fi", ["/c", "a.c", "/Fia.i"], "extra-output"),
    ("/clr", ["/c", "a.cpp", "/clr"], "unsupported-option"),
    ("/d1 switches", ["/c", "a.c", "/d1PP"], "unsupported-option"),
    ("/interface", ["/c", "a.ixx", "/interface"], "modules"),
    ("/experimental:module", ["/c", "a.cpp", "/experimental:module"], "modules"),
    ("/sourceDependencies:directives", ["/c", "a.cpp", "/sourceDependencies:directives", "d.json"], "modules"),
    ("/o", ["/c", "a.c", "/o", "a.obj"], "unsupported-option"),
    ("-o", ["/c", "a.c", "-o", "a.obj"], "unsupported-option"),
    ("/Fo: (colon syntax)", ["/c", "a.c", "/Fo:a.obj"], "unsupported-option"),
    ("/Fd: (colon syntax)", ["/c", "a.c", "/Zi", "/Fd:a.pdb"], "unsupported-option"),
    ("/clang:-o", ["/c", "a.c", "/clang:-o", "/clang:x.obj"], "unsupported-option"),
    ("/clang:-x", ["/c", "a.c", "/clang:-x", "/clang:c"], "unsupported-option"),
    ("an input through /clang:", ["/c", "a.c", "/clang:b.c"], "unsupported-option"),
    ("an unknown /clang: option", ["/c", "a.c", "/clang:--frobnicate"], "unknown-option"),
    ("/clang:-S", ["/c", "a.c", "/clang:-S"], "assembly-output"),
    ("/clang:-save-temps", ["/c", "a.c", "/clang:-save-temps"], "save-temps"),
    ("/clang:-ftime-trace", ["/c", "a.c", "/clang:-ftime-trace"], "extra-output"),
    ("/clang:-fmodules", ["/c", "a.cpp", "/clang:-fmodules"], "modules"),
    ("-clang:-MD without -MF", ["/c", "a.c", "-clang:-MD"], "unsupported-option"),
    ("-clang:-MF without -MD", ["/c", "a.c", "-clang:-MFa.d"], "unsupported-option"),
    ("-Xclang unknown", ["/c", "a.c", "-Xclang", "-load", "-Xclang", "plugin.so"], "unsupported-xclang"),
    ("-mllvm reading a file", ["/c", "a.c", "-mllvm", "-pass-remarks-output=r.yaml"], "unsupported-mllvm"),
    ("/Yc without /Fp", ["/c", "pch.cpp", "/Ycpch.h"], "pch-without-fp"),
    ("/Yu without /Fp", ["/c", "a.cpp", "/Yupch.h"], "pch-without-fp"),
    ("/Yc without a header", ["/c", "pch.cpp", "/Yc", "/Fppch.pch"], "unsupported-option"),
    ("/Yc and /Yu", ["/c", "pch.cpp", "/Ycpch.h", "/Yupch.h", "/Fppch.pch"], "unsupported-option"),
    ("/Fp naming a directory", ["/c", "a.cpp", "/Yupch.h", "/Fpout/"], "unsupported-option"),
    ("-include-pch", ["/c", "a.c", "-include-pch", "p.pch"], "pch-use"),
    ("a profile to read", ["/c", "a.c", "-fprofile-instr-use=a.profdata"], "profile-use"),
    ("gcov coverage", ["/c", "a.c", "--coverage"], "unsupported-option"),
    ("another driver mode", ["/c", "a.c", "--driver-mode=gcc"], "unsupported-option"),
    ("/sourceDependencies naming a directory", ["/c", "a.c", "/sourceDependencies", "out/"], "unsupported-option"),
    ("/I without a value", ["/c", "a.c", "/I"], "missing-argument"),
    ("a preprocessed source", ["/c", "a.i"], "preprocessed-input"),
    ("not a C-family source", ["/c", "a.txt"], "unsupported-input"),
    ("an assembler source", ["/c", "a.asm"], "unsupported-input"),
    ("a missing response file", ["/c", "@missing.rsp", "a.c"], "response-file"),
]


@pytest.mark.parametrize("row", NOT_CACHEABLE, ids=[r[0] for r in NOT_CACHEABLE])
def test_not_cacheable(tmp_path: Path, row) -> None:
    _, args, reason = row
    result = _parse(tmp_path, args)
    assert isinstance(result, NotCacheable), result
    assert result.reason == reason, result


def test_unknown_options_are_named(tmp_path: Path) -> None:
    for args, named in ((["/c", "a.c", "/Zq"], "/Zq"), (["/c", "a.c", "-clang:--frob"], "-clang:--frob")):
        result = _parse(tmp_path, args)
        assert isinstance(result, NotCacheable) and named in result.detail, result


def test_variables_that_refuse(tmp_path: Path) -> None:
    result = _parse(tmp_path, ["/c", "a.c"], env={"CCC_OVERRIDE_OPTIONS": "+-O0"})
    assert isinstance(result, NotCacheable) and result.reason == "toolchain-override"
    result = _parse(tmp_path, ["/c", "a.c"], env={"CL": "@more.rsp"})
    assert isinstance(result, NotCacheable) and result.reason == "response-file"


NOT_COMPILATION = [
    ("/E", ["/c", "a.c", "/E"], "preprocess-only"),
    ("/EP", ["/EP", "a.c"], "preprocess-only"),
    ("/P", ["/c", "/P", "a.c"], "preprocess-only"),
    ("/?", ["/?"], "info-query"),
    ("/help", ["/help"], "info-query"),
    ("--version", ["--version"], "version-probe"),
    ("-v alone", ["-v"], "version-probe"),
    ("-###", ["/c", "a.c", "-###"], "dry-run"),
    ("no input", ["/c"], "no-input"),
    ("nothing at all", [], "no-input"),
    ("/clang:-E", ["/c", "a.c", "/clang:-E"], "preprocess-only"),
    # clang-cl reads /Users/... as /U "sers/..." (and so does the table)
    ("a path starting /U is /U to clang-cl", ["/c", "/Users/me/a.c"], "no-input"),
]


@pytest.mark.parametrize("row", NOT_COMPILATION, ids=[r[0] for r in NOT_COMPILATION])
def test_not_compilation(tmp_path: Path, row) -> None:
    _, args, reason = row
    result = _parse(tmp_path, args)
    assert isinstance(result, NotCompilation), result
    assert result.reason == reason


# --- Windows command lines, by Windows path rules -------------------------------------

WINDOWS = [
    ("drive letters and a backslash directory /Fo", ["/c", "C:\\src\\a.c", "/FoC:\\out\\"],
     dict(outputs={"object": ("C:\\out\\a.obj", True)}, private=dict(source="C:\\src\\a.c"))),
    ("a forward-slash directory /Fo", ["/c", "src\\a.c", "/Foout/"], dict(outputs={"object": ("out/a.obj", True)})),
    ("extensions compare without case", ["/c", "src\\A.CPP"], dict(language="c++", outputs={"object": ("A.obj", True)})),
    (".C is C on Windows", ["/c", "B.C"], dict(language="c")),
    ("a verbatim \\\\?\\ source", ["/c", "\\\\?\\C:\\src\\a.c"], dict(outputs=OBJ)),
    ("a UNC source", ["/c", "\\\\server\\share\\a.c", "/Fo\\\\server\\share\\obj\\"],
     dict(outputs={"object": ("\\\\server\\share\\obj\\a.obj", True)})),
    ("the PDB named after the object, in another case", ["/c", "a.c", "/Zi", "/FoC:\\Out\\A.obj", "/Fdc:\\out\\a.pdb"],
     dict(outputs={"object": ("C:\\Out\\A.obj", True), "pdb": ("c:\\out\\a.pdb", False)}, private=dict(pdb_shared=""))),
    ("a PDB in a backslash directory is shared", ["/c", "a.c", "/Zi", "/Fdout\\"],
     dict(private=dict(pdb=None, pdb_shared="/Fdout\\ names a directory: cl.exe writes vcNNN.pdb there, shared by every object"))),
]


@pytest.mark.parametrize("row", WINDOWS, ids=[r[0] for r in WINDOWS])
def test_windows_command_lines(tmp_path: Path, row) -> None:
    _, args, expected = row
    result = _parse(tmp_path, args, style="windows", compiler=CL_EXE, invoked_as="cl")
    _check(result, expected)


def test_windows_pch_path(tmp_path: Path) -> None:
    result = _parse(tmp_path, ["/c", "a.cpp", "/Yupch.h", "/FpC:\\b\\pch"], style="windows", compiler=CL_EXE, invoked_as="cl")
    assert result.private.pch.path == "C:\\b\\pch.pch"


def test_windows_unknown_slash_option(tmp_path: Path) -> None:
    """On Windows an unmatched /token is an option, never a path."""
    result = _parse(tmp_path, ["/c", "a.c", "/Qx-unknown/thing"], style="windows", compiler=CL_EXE)
    assert isinstance(result, ParsedInvocation)  # /Q... is cl's /Q family
    result = _parse(tmp_path, ["/c", "a.c", "/Zq/x"], style="windows", compiler=CL_EXE)
    assert isinstance(result, NotCacheable) and result.reason == "unknown-option" and "/Zq/x" in result.detail


# --- the family ---------------------------------------------------------------------------

MSVC_NAMES = ["cl", "cl.exe", "CL.EXE", "cl.Exe", "clang-cl", "clang-cl.exe", "clang-cl.EXE", "clang-cl-14", "clang-cl-17.0", "CLANG-CL.exe"]


@pytest.mark.parametrize("name", MSVC_NAMES)
def test_family_claims_cl_names_and_gcc_clang_does_not(name: str) -> None:
    family = hooks.pycache_register_compilers()[0]
    gcc_clang = gcc_clang_hooks.pycache_register_compilers()[0]
    assert family.matches(name)
    assert not gcc_clang.matches(name), f"gcc-clang claims {name}"
    assert family.precedence > gcc_clang.precedence


@pytest.mark.parametrize("name", ["clang", "clang-14", "gcc", "cc", "clang-cpp", "cl2", "clang-cl-x", "xcl", "nvcc"])
def test_family_leaves_other_names(name: str) -> None:
    assert not hooks.pycache_register_compilers()[0].matches(name)


def test_host_chooses_msvc_for_a_clang_cl_symlink(plugin_host) -> None:
    """The name as typed decides: clang-cl -> clang-14 is msvc's."""
    assert plugin_host.family_for("clang-cl", "clang-14").name == "msvc"
    assert plugin_host.family_for("cl.exe", "clang-14").name == "msvc"
    assert plugin_host.family_for("clang", "clang-14").name == "gcc-clang"
