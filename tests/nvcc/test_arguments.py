"""Table-driven parsing of nvcc command lines: every cacheable phase and
every spelling nvcc accepts for the options that matter, and every reason a
call is not cacheable (or not a compilation). Parsing runs nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from pycache_core.api import NotCacheable, NotCompilation, ParsedInvocation
from pycache_nvcc.commandline import CommandLineError, split_env_flags, split_options_file

from .support import BASE_ENV, make_invocation, parse, write


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    write(tmp_path / "kern.cu", "__global__ void k() {}\n")
    write(tmp_path / "kern.cpp", "__global__ void k() {}\n")
    write(tmp_path / "other.cu", "__global__ void o() {}\n")
    write(tmp_path / "src" / "deep.cu", "__global__ void d() {}\n")
    write(tmp_path / "opts.txt", '-DFROM_FILE=1 -O3 -optf nested.txt "-DSPACED=a b"\n')
    write(tmp_path / "nested.txt", "-DNESTED\n")
    return tmp_path


def _parse(tree: Path, args, env=None):
    return parse(make_invocation(args, tree, env={**BASE_ENV, **(env or {})}))


# id, arguments, expected fields (outputs: role -> path), extra environment
CACHEABLE = [
    ("plain -c", ["-c", "kern.cu", "-o", "kern.o"],
     dict(outputs={"object": "kern.o"}, key=("-c", "kern.cu"), ignored=("-o", "kern.o"), mode="compile")),
    ("--compile, default output in the cwd", ["--compile", "src/deep.cu"], dict(outputs={"object": "deep.o"})),
    ("-o=", ["-c", "kern.cu", "-o=out.o"], dict(outputs={"object": "out.o"}, ignored=("-o=out.o",))),
    ("--output-file X", ["-c", "kern.cu", "--output-file", "out.o"], dict(outputs={"object": "out.o"})),
    ("--output-file=X", ["-c", "kern.cu", "--output-file=out.o"], dict(outputs={"object": "out.o"})),
    ("-dc", ["-dc", "kern.cu"], dict(outputs={"object": "kern.o"}, key=("-dc", "kern.cu"))),
    ("--device-c", ["--device-c", "kern.cu"], dict(outputs={"object": "kern.o"})),
    ("-dw", ["-dw", "kern.cu"], dict(outputs={"object": "kern.o"})),
    ("-rdc=true -c", ["-rdc=true", "-c", "kern.cu"], dict(key=("-rdc=true", "-c", "kern.cu"))),
    ("-rdc true -c", ["-rdc", "true", "-c", "kern.cu"], dict(key=("-rdc", "true", "-c", "kern.cu"))),
    ("--relocatable-device-code=false", ["--relocatable-device-code=false", "-c", "kern.cu"], dict()),
    ("-ptx", ["-ptx", "kern.cu"], dict(outputs={"ptx": "kern.ptx"}, mode="ptx")),
    ("--ptx -o", ["--ptx", "kern.cu", "-o", "k.ptx"], dict(outputs={"ptx": "k.ptx"})),
    ("-cubin", ["-cubin", "-arch=sm_80", "kern.cu"], dict(outputs={"cubin": "kern.cubin"}, mode="cubin")),
    ("-fatbin", ["-fatbin", "kern.cu"], dict(outputs={"fatbin": "kern.fatbin"}, mode="fatbin")),
    ("-optix-ir", ["-optix-ir", "kern.cu"], dict(outputs={"optix-ir": "kern.optixir"}, mode="optix-ir")),
    ("-x cu on a .cpp file", ["-c", "-x", "cu", "kern.cpp"], dict(outputs={"object": "kern.o"}, key=("-c", "-x", "cu", "kern.cpp"))),
    ("--x=cu", ["-c", "--x=cu", "kern.cpp"], dict(outputs={"object": "kern.o"})),
    ("include paths in every spelling",
     ["-c", "kern.cu", "-Iinc", "-I", "inc", "-I=inc", "--include-path", "inc", "--include-path=inc", "-Ia,b"],
     dict(key=("-c", "kern.cu", "-Iinc", "-I", "inc", "-I=inc", "--include-path", "inc", "--include-path=inc", "-Ia,b"))),
    ("preprocessor options",
     ["-c", "kern.cu", "-DX=1,Y", "-D", "Z", "-UW", "-isystem", "sys", "--system-include=s2", "-include", "pre.h",
      "--pre-include=p2.h", "--define-macro=Q"],
     dict(key=("-c", "kern.cu", "-DX=1,Y", "-D", "Z", "-UW", "-isystem", "sys", "--system-include=s2", "-include",
               "pre.h", "--pre-include=p2.h", "--define-macro=Q"))),
    ("several -gencode, every spelling",
     ["-c", "kern.cu", "-gencode", "arch=compute_75,code=sm_75", "-gencode=arch=compute_80,code=[sm_80,compute_80]",
      "--generate-code", "arch=compute_86,code=sm_86", "--generate-code=arch=compute_89,code=sm_89"],
     dict(key=("-c", "kern.cu", "-gencode", "arch=compute_75,code=sm_75",
               "-gencode=arch=compute_80,code=[sm_80,compute_80]", "--generate-code", "arch=compute_86,code=sm_86",
               "--generate-code=arch=compute_89,code=sm_89"))),
    ("-arch/-code spellings",
     ["-c", "kern.cu", "-arch=compute_80", "-code", "sm_80,compute_80", "--gpu-architecture", "compute_80",
      "--gpu-code=sm_80"],
     dict(key=("-c", "kern.cu", "-arch=compute_80", "-code", "sm_80,compute_80", "--gpu-architecture", "compute_80",
               "--gpu-code=sm_80"))),
    ("-arch all", ["-c", "kern.cu", "-arch", "all"], dict(key=("-c", "kern.cu", "-arch", "all"))),
    ("-ccbin names the host compiler", ["-c", "kern.cu", "-ccbin", "clang-14"],
     dict(key=("-c", "kern.cu", "-ccbin", "clang-14"), ccbin="clang-14")),
    ("-ccbin=", ["-c", "kern.cu", "-ccbin=/usr/bin"], dict(ccbin="/usr/bin")),
    ("--compiler-bindir", ["-c", "kern.cu", "--compiler-bindir", "/usr/bin/g++"], dict(ccbin="/usr/bin/g++")),
    ("-Xcompiler in every spelling",
     ["-c", "kern.cu", "-Xcompiler", "-Wall,-O2", "-Xcompiler=-fPIC", "--compiler-options", "-Wextra",
      "--compiler-options=-g,-DHOST=1", "-Xcompiler", "-fno-strict-aliasing"],
     dict(key=("-c", "kern.cu", "-Xcompiler", "-Wall,-O2", "-Xcompiler=-fPIC", "--compiler-options", "-Wextra",
               "--compiler-options=-g,-DHOST=1", "-Xcompiler", "-fno-strict-aliasing"))),
    ("-Xptxas in every spelling",
     ["-c", "kern.cu", "-Xptxas", "-v", "-Xptxas=-O3,--warn-on-spills", "--ptxas-options=-dlcm=ca"], dict()),
    ("-Xcudafe", ["-c", "kern.cu", "-Xcudafe", "--diag_suppress=177", "-Xcudafe=--display_error_number"], dict()),
    ("-Xnvlink and -Xarchive only matter to links", ["-c", "kern.cu", "-Xnvlink", "-v", "-Xarchive=-v", "-lfoo", "-L", "lib"],
     dict(key=("-c", "kern.cu", "-Xnvlink", "-v", "-Xarchive=-v", "-lfoo", "-L", "lib"))),
    ("code generation and diagnostics",
     ["-c", "kern.cu", "-std=c++17", "-O3", "-G", "-lineinfo", "--use_fast_math", "-ftz=true", "-prec-div", "false",
      "-Werror=all-warnings", "-Werror", "cross-execution-space-call", "-diag-suppress=177,550",
      "--diag-suppress", "20012", "-expt-relaxed-constexpr", "--expt-extended-lambda", "-maxrregcount=32", "-g",
      "-Wno-deprecated-gpu-targets", "-res-usage", "-default-stream", "per-thread", "-m64"],
     dict(key=("-c", "kern.cu", "-std=c++17", "-O3", "-G", "-lineinfo", "--use_fast_math", "-ftz=true", "-prec-div",
               "false", "-Werror=all-warnings", "-Werror", "cross-execution-space-call", "-diag-suppress=177,550",
               "--diag-suppress", "20012", "-expt-relaxed-constexpr", "--expt-extended-lambda", "-maxrregcount=32",
               "-g", "-Wno-deprecated-gpu-targets", "-res-usage", "-default-stream", "per-thread", "-m64"))),
    ("--threads and -t never enter the key",
     ["-c", "kern.cu", "-t", "4", "-t2", "--threads=0", "--threads", "3"],
     dict(key=("-c", "kern.cu"), ignored=("-t", "4", "-t2", "--threads=0", "--threads", "3"))),
    ("-MD next to -o", ["-c", "kern.cu", "-o", "out/k.o", "-MD"],
     dict(outputs={"object": "out/k.o", "depfile": "out/k.d"},
          depfile=dict(path="out/k.d", target="out/k.o", explicit_target=False, system=True, phony_targets=False))),
    ("-MD without -o: named after the source, in the cwd", ["-c", "src/deep.cu", "-MD"],
     dict(outputs={"object": "deep.o", "depfile": "deep.d"}, depfile=dict(path="deep.d", target="deep.o"))),
    ("-MMD -MF -MT -MP", ["-c", "kern.cu", "-MMD", "-MF", "deps/k.d", "-MT", "tgt", "-MP"],
     dict(outputs={"object": "kern.o", "depfile": "deps/k.d"}, key=("-c", "kern.cu", "-MMD", "-MT", "tgt", "-MP"),
          ignored=("-MF", "deps/k.d"),
          depfile=dict(path="deps/k.d", target="tgt", explicit_target=True, system=False, phony_targets=True))),
    ("long dependency spellings",
     ["-c", "kern.cu", "--generate-dependencies-with-compile", "--dependency-output=k.d", "--dependency-target-name=t",
      "--generate-dependency-targets"],
     dict(outputs={"object": "kern.o", "depfile": "k.d"}, depfile=dict(target="t", phony_targets=True))),
    ("host options forwarded as unknown", ["-c", "kern.cu", "-forward-unknown-to-host-compiler", "-fPIC", "-Wall"],
     dict(key=("-c", "kern.cu", "-forward-unknown-to-host-compiler", "-fPIC", "-Wall"))),
]


@pytest.mark.parametrize("row", CACHEABLE, ids=[r[0] for r in CACHEABLE])
def test_cacheable(tree: Path, row) -> None:
    _, args, expected = row[:3]
    parsed = _parse(tree, args)
    assert isinstance(parsed, ParsedInvocation), parsed
    call = parsed.private
    assert parsed.language == "cuda"
    if "outputs" in expected:
        assert {role: str(slot.path) for role, slot in parsed.outputs.items()} == expected["outputs"]
    if "key" in expected:
        assert parsed.key_arguments == expected["key"]
    if "ignored" in expected:
        assert parsed.ignored_arguments == expected["ignored"]
    if "mode" in expected:
        assert call.mode == expected["mode"]
    if "ccbin" in expected:
        assert call.ccbin == expected["ccbin"]
    if "depfile" in expected:
        for field, value in expected["depfile"].items():
            assert getattr(call.depfile, field) == value, field


def test_options_files_and_environment_flags(tree: Path) -> None:
    """Options files are expanded in place (nested ones relative to the
    cwd); NVCC_PREPEND_FLAGS and NVCC_APPEND_FLAGS are part of the command
    line, around it."""
    env = {"NVCC_PREPEND_FLAGS": "-DPRE=1  -O1", "NVCC_APPEND_FLAGS": '-DAPP="x y"'}
    parsed = _parse(tree, ["-c", "kern.cu", "-optf", "opts.txt", "-o", "k.o"], env)
    assert isinstance(parsed, ParsedInvocation), parsed
    assert parsed.key_arguments == (
        "-DPRE=1", "-O1", "-c", "kern.cu", "-DFROM_FILE=1", "-O3", "-DNESTED", "-DSPACED=a b", '-DAPP="x y"',
    )
    assert parsed.private.options_files == (tree / "opts.txt", tree / "nested.txt")
    comma = _parse(tree, ["-c", "kern.cu", "--options-file=nested.txt,opts.txt"])
    assert comma.key_arguments[2:4] == ("-DNESTED", "-DFROM_FILE=1")


def test_splitting_rules() -> None:
    assert split_options_file('-DA="x y" -DB=x\\ y -DC=\'q\'\n-DD') == ["-DA=x y", "-DB=x y", "-DC='q'", "-DD"]
    assert split_env_flags(' -DA="x y"  -O2 ', "NVCC_APPEND_FLAGS") == ['-DA="x y"', "-O2"]
    with pytest.raises(CommandLineError):
        split_env_flags("-DA=x\\ y", "NVCC_APPEND_FLAGS")
    with pytest.raises(CommandLineError):
        split_options_file('-DA="unterminated')


NOT_CACHEABLE = [
    ("links", ["kern.cu", "-o", "prog"], "linking"),
    ("-link", ["-link", "kern.cu"], "linking"),
    ("-dlink", ["-dlink", "a.o", "b.o", "-o", "l.o"], "linking"),
    ("--device-link", ["--device-link", "a.o"], "linking"),
    ("-lib", ["-lib", "kern.cu", "-o", "l.a"], "linking"),
    ("-run", ["-run", "kern.cu"], "run"),
    ("several sources", ["-c", "kern.cu", "other.cu"], "multiple-sources"),
    ("-keep", ["-c", "kern.cu", "-keep"], "keep-intermediates"),
    ("-keep-dir", ["-c", "kern.cu", "-keep-dir", "tmp"], "keep-intermediates"),
    ("-save-temps", ["-c", "kern.cu", "-save-temps"], "save-temps"),
    ("unknown option", ["-c", "kern.cu", "-Wall"], "unknown-option"),
    ("unknown option -fPIC", ["-c", "kern.cu", "-fPIC"], "unknown-option"),
    ("standard input", ["-c", "-"], "stdin-input"),
    ("-o -", ["-c", "kern.cu", "-o", "-"], "output-to-stdout"),
    ("two -o", ["-c", "kern.cu", "-o", "a.o", "-o", "b.o"], "multiple-outputs"),
    ("-Xcompiler -MD", ["-c", "kern.cu", "-Xcompiler", "-MD"], "extra-output"),
    ("-Xcompiler -Wp,-MD", ["-c", "kern.cu", "-Xcompiler", "-Wp,-MD,x.d"], "extra-output"),
    ("-Xcompiler -save-temps", ["-c", "kern.cu", "-Xcompiler", "-save-temps"], "save-temps"),
    ("-Xcompiler -E", ["-c", "kern.cu", "-Xcompiler=-E"], "preprocess-only"),
    ("-Xcompiler -S", ["-c", "kern.cu", "-Xcompiler", "-S"], "assembly-output"),
    ("-Xcompiler -fprofile-use", ["-c", "kern.cu", "-Xcompiler", "-fprofile-use"], "profile-use"),
    ("-Xcompiler -P", ["-c", "kern.cu", "-Xcompiler", "-P"], "unsupported-preprocessor-option"),
    ("-Xcompiler -mllvm unchecked", ["-c", "kern.cu", "-Xcompiler", "-mllvm,-time-passes"], "unsupported-mllvm"),
    ("-Xcompiler unknown", ["-c", "kern.cu", "-Xcompiler", "--frobnicate,-Wall"], "unknown-option"),
    ("-Xcompiler with quotes", ["-c", "kern.cu", "-Xcompiler", '"-DA=1,2"'], "escaped-argument"),
    ("-Xptxas unknown", ["-c", "kern.cu", "-Xptxas", "--output-file=x"], "unknown-option"),
    ("-Xcudafe unknown", ["-c", "kern.cu", "-Xcudafe", "--gen_c_file_name=x"], "unknown-option"),
    ("-arch=native", ["-c", "kern.cu", "-arch=native"], "native-architecture"),
    ("-gencode native", ["-c", "kern.cu", "-gencode", "arch=native,code=native"], "native-architecture"),
    ("-rdc=yes", ["-c", "kern.cu", "-rdc=yes"], "unsupported-option"),
    ("-odir", ["-c", "kern.cu", "-odir", "out"], "unsupported-option"),
    ("-time", ["-c", "kern.cu", "-time", "t.csv"], "extra-output"),
    ("-fdevice-time-trace", ["-c", "kern.cu", "-fdevice-time-trace", "-"], "extra-output"),
    ("-v", ["-c", "kern.cu", "-v"], "verbose"),
    ("-jobserver", ["-c", "kern.cu", "-jobserver"], "jobserver"),
    ("-ldir", ["-c", "kern.cu", "-ldir", "lib"], "toolchain-override"),
    ("-target-dir", ["-c", "kern.cu", "-target-dir", "x"], "toolchain-override"),
    ("-ltoir", ["-ltoir", "-dlto", "kern.cu"], "unsupported-option"),
    ("-src-in-ptx", ["-ptx", "kern.cu", "-lineinfo", "--source-in-ptx"], "source-in-ptx"),
    ("a .cpp file is host code", ["-c", "kern.cpp"], "host-only-source"),
    ("-x c++", ["-c", "-x", "c++", "kern.cu"], "host-only-source"),
    ("a .ptx input", ["-cubin", "kern.ptx"], "unsupported-input"),
    ("a missing source", ["-c", "missing.cu"], "unsupported-input"),
    ("-MF without -MD", ["-c", "kern.cu", "-MF", "k.d"], "unsupported-option"),
    ("a missing options file", ["-c", "kern.cu", "-optf", "missing.txt"], "options-file"),
    ("-ccbin with quotes", ["-c", "kern.cu", "-ccbin", 'a"b'], "escaped-argument"),
    ("an option without its value", ["-c", "kern.cu", "-I"], "missing-argument"),
    ("two phases", ["-c", "-ptx", "kern.cu"], "unsupported-option"),
]


@pytest.mark.parametrize("row", NOT_CACHEABLE, ids=[r[0] for r in NOT_CACHEABLE])
def test_not_cacheable(tree: Path, row) -> None:
    _, args, reason = row
    outcome = _parse(tree, args)
    assert isinstance(outcome, NotCacheable), outcome
    assert outcome.reason == reason, outcome


def test_environment_flags_nvcc_rejects(tree: Path) -> None:
    outcome = _parse(tree, ["-c", "kern.cu"], {"NVCC_APPEND_FLAGS": "-DA=x\\ y"})
    assert isinstance(outcome, NotCacheable) and outcome.reason == "options-file"
    outcome = _parse(tree, ["-c", "kern.cu"], {"NVCC_APPEND_FLAGS": "-keep"})
    assert isinstance(outcome, NotCacheable) and outcome.reason == "keep-intermediates"


NOT_COMPILATION = [
    ("--version", ["--version"], "version-probe"),
    ("-V", ["-V"], "version-probe"),
    ("--help", ["--help"], "info-query"),
    ("-arch-ls", ["-arch-ls"], "info-query"),
    ("--list-gpu-code", ["--list-gpu-code"], "info-query"),
    ("-E", ["-E", "kern.cu"], "preprocess-only"),
    ("-M", ["-M", "kern.cu"], "preprocess-only"),
    ("-MM", ["-MM", "kern.cu", "-o", "k.d"], "preprocess-only"),
    ("-cuda", ["-cuda", "kern.cu"], "preprocess-only"),
    ("-E with -c", ["-c", "-E", "kern.cu"], "preprocess-only"),
    ("--dryrun", ["--dryrun", "-c", "kern.cu"], "dry-run"),
    ("-clean", ["-clean", "-c", "kern.cu"], "clean-targets"),
    ("nothing", [], "no-input"),
]


@pytest.mark.parametrize("row", NOT_COMPILATION, ids=[r[0] for r in NOT_COMPILATION])
def test_not_compilation(tree: Path, row) -> None:
    _, args, reason = row
    outcome = _parse(tree, args)
    assert isinstance(outcome, NotCompilation), outcome
    assert outcome.reason == reason, outcome
