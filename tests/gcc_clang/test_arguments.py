"""Table-driven parsing of gcc/clang command lines: every cacheable form and
every reason a call is not cacheable (or not a compilation)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pycache_cfamily.texts import GNU_DIAGNOSTICS, GNU_MKDEPS, LLVM_DEPFILE
from pycache_core.api import MakeDepfile, NotCacheable, NotCompilation, ParsedInvocation
from pycache_gcc_clang.arguments import GccCall, is_cxx_driver
from pycache_gcc_clang.embedding import PrefixMap

from .support import make_invocation, parse

FORCED = "-fdiagnostics-color=always"


def _parse(tmp_path: Path, args, **kw) -> ParsedInvocation | NotCacheable | NotCompilation:
    return parse(make_invocation(args, tmp_path, **kw))


# Each row: id, arguments, expected fields. "outputs" maps role -> (path, required).
CACHEABLE = [
    (
        "plain",
        ["-c", "a.c", "-o", "a.o"],
        dict(language="c", outputs={"object": ("a.o", True)}, key=(FORCED,), ignored=("-c", "-o", "a.o"),
             run=(FORCED, "-c", "a.c", "-o", "a.o"), colour=True),
    ),
    ("default object name in cwd", ["-c", "src/a.c"], dict(outputs={"object": ("a.o", True)})),
    ("joined -o", ["-c", "a.c", "-oout/b.o"], dict(outputs={"object": ("out/b.o", True)})),
    ("c++ by extension", ["-c", "a.cpp", "-O2", "-Wall", "-std=c++17"],
     dict(language="c++", key=("-O2", "-Wall", "-std=c++17", FORCED))),
    ("C++ capital C", ["-c", "a.C"], dict(language="c++")),
    ("objective-c", ["-c", "a.m"], dict(language="objective-c")),
    ("objective-c++", ["-c", "a.mm"], dict(language="objective-c++")),
    ("assembler with cpp", ["-c", "a.S"], dict(language="assembler-with-cpp")),
    ("-x assembler-with-cpp", ["-c", "-x", "assembler-with-cpp", "a.asm"], dict(language="assembler-with-cpp")),
    ("-x c++ before the source", ["-c", "-x", "c++", "a.c"], dict(language="c++", key=(FORCED,))),
    ("-x none resets", ["-c", "-x", "c++", "-x", "none", "a.c"], dict(language="c")),
    # a -x after the last input only draws a warning: it must be in the key
    ("-x after the source", ["-c", "a.c", "-x", "c++"], dict(language="c", key=("-x", "c++", FORCED))),
    ("g++ compiles .c as C++", ["-c", "a.c"], dict(language="c++"), dict(invoked_as="g++")),
    ("clang++-14 compiles .c as C++", ["-c", "a.c"], dict(language="c++"), dict(invoked_as="clang++-14")),
    ("--driver-mode=g++", ["--driver-mode=g++", "-c", "a.c"], dict(language="c++", key=("--driver-mode=g++", FORCED))),
    (
        "preprocessor options stay out of the key",
        ["-c", "a.c", "-Iinc", "-I", "inc2", "-DX=1", "-D", "Y", "-UZ", "-include", "cfg.h", "-isystem", "sys",
         "-iquote", "q", "-idirafter", "after", "--sysroot=/sr", "-nostdinc"],
        dict(key=(FORCED,),
             private=dict(preprocessor_arguments=("-Iinc", "-I", "inc2", "-DX=1", "-D", "Y", "-UZ", "-include", "cfg.h",
                                                  "-isystem", "sys", "-iquote", "q", "-idirafter", "after",
                                                  "--sysroot=/sr", "-nostdinc"),
                          include_files=("cfg.h",), no_direct="",
                          # keyed in both modes: -g3 and warnings see them (issue 13 B2)
                          macro_arguments=("-DX=1", "-DY", "-UZ"))),
    ),
    (
        "preprocessor flags gcc records in its debug information are keyed",
        ["-c", "a.c", "-C", "-P", "-trigraphs", "-undef", "-Wp,-CC", "-nostdinc"],
        dict(key=("-C", "-P", "-trigraphs", "-undef", FORCED),
             private=dict(path_arguments=("-Wp,-CC",), preprocess_arguments=(
                 "-E", "a.c", "-C", "-trigraphs", "-undef", "-Wp,-CC", "-nostdinc"))),
    ),
    (
        "a recorded command line is the user's: no colour forced",
        ["-c", "a.c", "-g", "-grecord-command-line"],
        dict(key=("-g", "-grecord-command-line", "-fdiagnostics-color=auto"), run=None,
             private=dict(record_command_line=True)),
    ),
    (
        "the preprocessor run keeps macros-defining options, drops outputs",
        ["-c", "a.c", "-O2", "-DX", "-o", "a.o", "-MD", "-MF", "a.d", "-MT", "t", "-P", "-pipe", "-fdiagnostics-color=never"],
        dict(private=dict(preprocess_arguments=("-E", "a.c", "-O2", "-DX", "-pipe"))),
    ),
    (
        "-MD next to -o",
        ["-c", "a.c", "-o", "out/a.o", "-MD"],
        dict(outputs={"object": ("out/a.o", True), "depfile": ("out/a.d", True)}, key=("-MD", FORCED)),
    ),
    ("-MMD without -o", ["-c", "src/a.c", "-MMD"], dict(outputs={"object": ("a.o", True), "depfile": ("a.d", True)})),
    ("-MD, -o without suffix", ["-c", "a.c", "-o", "out.dir/noext", "-MD"],
     dict(outputs={"object": ("out.dir/noext", True), "depfile": ("out.dir/noext.d", True)})),
    ("-MD, -o with two dots", ["-c", "a.c", "-o", "y.obj.o", "-MD"], dict(outputs={"object": ("y.obj.o", True), "depfile": ("y.obj.d", True)})),
    (
        "-MF -MT -MQ -MP -MG",
        ["-c", "a.c", "-MD", "-MF", "deps/a.dep", "-MT", "tgt", "-MQ", "$(x)", "-MP", "-MG"],
        dict(outputs={"object": ("a.o", True), "depfile": ("deps/a.dep", True)}, key=("-MD", "-MP", "-MG", FORCED),
             ignored=("-c", "-MF", "deps/a.dep"),
             private=dict(path_arguments=("-MT", "tgt", "-MQ", "$(x)"))),
    ),
    ("-MFjoined", ["-c", "a.c", "-MMD", "-MFa.dep"], dict(outputs={"object": ("a.o", True), "depfile": ("a.dep", True)})),
    (
        "-Wp,-MD,file (the kernel's form)",
        ["-c", "a.c", "-o", "k/a.o", "-Wp,-MMD,k/.a.o.d"],
        dict(outputs={"object": ("k/a.o", True), "depfile": ("k/.a.o.d", True)}, key=("-Wp,-MMD", FORCED),
             private=dict(no_direct="", preprocessor_arguments=())),
    ),
    (
        "-gsplit-dwarf with -g",
        ["-c", "a.c", "-o", "o/a.o", "-g", "-gsplit-dwarf"],
        dict(outputs={"object": ("o/a.o", True), "dwo": ("o/a.dwo", True)}, key=("-g", "-gsplit-dwarf", FORCED),
             private=dict(debug=True, split_dwarf=True)),
    ),
    ("-gsplit-dwarf alone: gcc writes a .dwo, clang none", ["-c", "a.c", "-gsplit-dwarf"],
     dict(outputs={"object": ("a.o", True), "dwo": ("a.dwo", False)}, private=dict(debug=False))),
    ("-gsplit-dwarf=single writes no .dwo", ["-c", "a.c", "-g", "-gsplit-dwarf=single"], dict(outputs={"object": ("a.o", True)})),
    ("-g0 after -g", ["-c", "a.c", "-g", "-g0"], dict(private=dict(debug=False))),
    ("-gz does not turn debug info on", ["-c", "a.c", "-gz"], dict(private=dict(debug=False))),
    ("-ggdb3 turns it on", ["-c", "a.c", "-ggdb3"], dict(private=dict(debug=True))),
    ("--coverage", ["-c", "a.c", "-o", "o/a.o", "--coverage"],
     dict(outputs={"object": ("o/a.o", True), "gcno": ("o/a.gcno", True)},
          private=dict(test_coverage=True, profile_arcs=True))),
    ("-ftest-coverage", ["-c", "src/a.c", "-ftest-coverage"], dict(outputs={"object": ("a.o", True), "gcno": ("a.gcno", True)},
                                                                   private=dict(profile_arcs=False))),
    ("-fno-test-coverage cancels", ["-c", "a.c", "--coverage", "-fno-test-coverage"], dict(outputs={"object": ("a.o", True)})),
    ("no .gcno for assembler", ["-c", "a.S", "--coverage"], dict(outputs={"object": ("a.o", True)})),
    (
        "explicit colour is kept",
        ["-c", "a.c", "-fdiagnostics-color=never"],
        dict(key=("-fdiagnostics-color=never",), run=None, colour=False),
    ),
    ("-fno-color-diagnostics", ["-c", "a.c", "-fno-color-diagnostics"], dict(key=("-fdiagnostics-color=never",), run=None)),
    ("-fcolor-diagnostics", ["-c", "a.c", "-fcolor-diagnostics"], dict(key=(FORCED,), run=None, colour=False)),
    ("auto colour is forced", ["-c", "a.c", "-fdiagnostics-color=auto"],
     dict(key=(FORCED,), run=(FORCED, "-c", "a.c", "-fdiagnostics-color=auto"), colour=True)),
    (
        "options with paths are made portable later",
        ["-c", "a.c", "-fdebug-prefix-map=/src=.", "-L/lib", "-Wl,-rpath,/x", "-lm", "-fPIC"],
        dict(key=("-lm", "-fPIC", FORCED),
             private=dict(path_arguments=("-fdebug-prefix-map=/src=.", "-L/lib", "-Wl,-rpath,/x"),
                          prefix_maps=(PrefixMap("-fdebug-prefix-map=", "/src", "."),))),
    ),
    ("-Xclang allowed", ["-c", "a.c", "-Xclang", "-disable-O0-optnone"], dict(key=("-Xclang", "-disable-O0-optnone", FORCED))),
    ("-mllvm pair", ["-c", "a.c", "-mllvm", "-inline-threshold=100"], dict(key=("-mllvm", "-inline-threshold=100", FORCED))),
    ("--param both forms", ["-c", "a.c", "--param", "max-inline-insns-single=10", "--param=l1-cache-size=64"],
     dict(key=("--param", "max-inline-insns-single=10", "--param=l1-cache-size=64", FORCED))),
    ("profile use", ["-c", "a.c", "-fprofile-use"], dict(private=dict(profile_uses=("-fprofile-use",)))),
    ("sanitizer list is an input", ["-c", "a.c", "-fsanitize=address", "-fsanitize-ignorelist=ign.txt"],
     dict(key=("-fsanitize=address", FORCED), private=dict(input_files=("ign.txt",)))),
    ("-Wp,-D: direct mode off", ["-c", "a.c", "-Wp,-DX"], dict(private=dict(preprocessor_arguments=("-Wp,-DX",), no_direct="-Wp,-DX is passed to the preprocessor unseen"))),
    ("-Xpreprocessor: direct mode off", ["-c", "a.c", "-Xpreprocessor", "-DX"],
     dict(private=dict(no_direct="-Xpreprocessor -DX is passed to the preprocessor unseen"))),
    ("-imacros: direct mode off", ["-c", "a.c", "-imacros", "m.h"],
     dict(private=dict(no_direct="-imacros files are not visible in the preprocessed output"))),
    ("-include-pch", ["-c", "a.c", "-include-pch", "p.pch"], dict(private=dict(pch_files=("p.pch",), no_direct="precompiled header in use"))),
    ("-fpch-preprocess stays out of the -E run", ["-c", "a.c", "-fpch-preprocess"],
     dict(key=("-fpch-preprocess", FORCED), private=dict(preprocess_arguments=("-E", "a.c")))),
    ("-frecord-gcc-switches", ["-c", "a.c", "-frecord-gcc-switches"], dict(private=dict(record_command_line=True))),
    # -S: the assembly is the output (NAME.s without -o), keyed apart from an object
    ("-S", ["-S", "a.c"], dict(outputs={"object": ("a.s", True)}, key=("-S", FORCED), ignored=("-S",),
                               private=dict(assembly=True, object_path="a.s"))),
    ("-c -S: -S wins", ["-c", "-S", "a.c", "-o", "out/a.s"],
     dict(outputs={"object": ("out/a.s", True)}, key=("-S", FORCED), private=dict(assembly=True))),
    ("-S -fverbose-asm lists the switches", ["-S", "a.c", "-fverbose-asm"],
     dict(key=("-fverbose-asm", "-S", "-fdiagnostics-color=auto"), run=None, private=dict(record_command_line=True))),
    # issue 13 B4: assembler options that are only flags, with a separate value
    ("assembler flags and search path", ["-c", "a.c", "-Wa,--noexecstack,-I,inc", "-Xassembler", "--defsym",
                                         "-Xassembler", "X=1"],
     dict(key=(FORCED,),
          private=dict(path_arguments=("-Wa,--noexecstack,-I,inc", "-Xassembler", "--defsym", "-Xassembler", "X=1")))),
    # issue 13 B4: files read by options under a generic prefix are keyed
    ("-fprofile-instr-use reads default.profdata", ["-c", "a.c", "-fprofile-instr-use"],
     dict(private=dict(profile_uses=("-fprofile-instr-use",)))),
    ("-frewrite-map-file is an input", ["-c", "a.c", "-frewrite-map-file=m.map"], dict(private=dict(input_files=("m.map",)))),
    ("-fembed-offload-object is an input", ["-c", "a.c", "-fembed-offload-object=o.bin"],
     dict(private=dict(input_files=("o.bin",)))),
    ("-meabi takes a separate value", ["-c", "a.c", "-meabi", "gnu"], dict(key=("-meabi", "gnu", FORCED))),
]


@pytest.mark.parametrize("row", CACHEABLE, ids=[r[0] for r in CACHEABLE])
def test_cacheable(tmp_path: Path, row) -> None:
    _, args, expected, *kw = row
    result = _parse(tmp_path, args, **(kw[0] if kw else {}))
    assert isinstance(result, ParsedInvocation), result
    assert isinstance(result.private, GccCall)
    assert result.sources == (tmp_path / next(a for a in args if a.endswith((".c", ".cpp", ".C", ".m", ".mm", ".S", ".asm"))),)
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


def test_response_files_are_expanded_but_run_as_given(tmp_path: Path) -> None:
    (tmp_path / "args.rsp").write_text("-O2 '-DMSG=\"hi there\"' @more.rsp\n-o out/a.o")
    (tmp_path / "more.rsp").write_text("-Wall -MD")
    result = _parse(tmp_path, ["-c", "@args.rsp", "a.c"])
    assert isinstance(result, ParsedInvocation)
    assert result.key_arguments == ("-O2", "-Wall", "-MD", FORCED)
    assert result.private.preprocessor_arguments == ('-DMSG="hi there"',)
    assert {r: str(s.path) for r, s in result.outputs.items()} == {"object": "out/a.o", "depfile": "out/a.d"}
    # The compiler reads the response file itself.
    assert result.run_arguments == (FORCED, "-c", "@args.rsp", "a.c")


NOT_CACHEABLE = [
    ("linking", ["a.c", "-o", "a"], "linking"),
    ("linking several", ["a.c", "b.c"], "linking"),
    ("-S on an assembler source", ["-S", "a.S"], "assembly-output"),
    ("-S -gsplit-dwarf", ["-S", "-g", "-gsplit-dwarf", "a.c"], "unsupported-option"),
    ("several sources", ["-c", "a.c", "b.c"], "multiple-sources"),
    ("stdin", ["-c", "-x", "c", "-"], "stdin-input"),
    ("output to stdout", ["-c", "a.c", "-o", "-"], "output-to-stdout"),
    ("-save-temps", ["-c", "a.c", "-save-temps"], "save-temps"),
    ("-save-temps=obj", ["-c", "a.c", "-save-temps=obj"], "save-temps"),
    ("--save-temps", ["-c", "a.c", "--save-temps"], "save-temps"),
    ("header: PCH creation", ["-c", "a.h"], "pch-creation"),
    ("-x c++-header", ["-c", "-x", "c++-header", "a.hpp"], "pch-creation"),
    ("-fmodules", ["-c", "a.cpp", "-fmodules"], "modules"),
    ("-fmodules-ts", ["-c", "a.cpp", "-fmodules-ts"], "modules"),
    ("-fmodule-file", ["-c", "a.cpp", "-fmodule-file=m=m.pcm"], "modules"),
    (".cppm", ["-c", "a.cppm"], "modules"),
    ("-x c++-module", ["-c", "-x", "c++-module", "a.cpp"], "modules"),
    ("-fsyntax-only", ["-c", "a.c", "-fsyntax-only"], "syntax-only"),
    ("unknown option", ["-c", "a.c", "--frobnicate"], "unknown-option"),
    ("unknown single-letter", ["-c", "a.c", "-Zq"], "unknown-option"),
    ("-Xclang unknown", ["-c", "a.c", "-Xclang", "-load", "-Xclang", "plugin.so"], "unsupported-xclang"),
    ("-mllvm reading a file", ["-c", "a.c", "-mllvm", "-sample-profile-file=p.prof"], "unsupported-mllvm"),
    ("-mllvm printing timings", ["-c", "a.c", "-mllvm", "-time-passes"], "unsupported-mllvm"),
    ("-mllvm value as a second -mllvm", ["-c", "a.c", "-mllvm", "-inline-threshold", "-mllvm", "100"], "unsupported-mllvm"),
    ("-fstack-usage", ["-c", "a.c", "-fstack-usage"], "extra-output"),
    ("-fdump-tree-all", ["-c", "a.c", "-fdump-tree-all"], "extra-output"),
    ("-fcallgraph-info", ["-c", "a.c", "-fcallgraph-info=su"], "extra-output"),
    ("-ftime-trace", ["-c", "a.c", "-ftime-trace"], "extra-output"),
    ("-MJ", ["-c", "a.c", "-MJ", "a.json"], "extra-output"),
    ("-fsave-optimization-record", ["-c", "a.c", "-fsave-optimization-record"], "extra-output"),
    ("-fopt-info to a file", ["-c", "a.c", "-fopt-info-vec=vec.txt"], "extra-output"),
    ("assembler listing", ["-c", "a.c", "-Wa,-adhln=a.lst"], "extra-output"),
    # issue 13 B4: what -Wa, / -Xassembler pass on that reads or writes files
    ("assembler dependency file", ["-c", "a.c", "-Wa,--MD,a.d"], "extra-output"),
    ("assembler output", ["-c", "a.c", "-Wa,-o,x.o"], "extra-output"),
    ("assembler response file", ["-c", "a.c", "-Wa,@opts"], "unsupported-option"),
    ("another assembler input", ["-c", "a.c", "-Wa,extra.s"], "unsupported-option"),
    ("another assembler input after -Xassembler", ["-c", "a.c", "-Xassembler", "extra.s"], "unsupported-option"),
    ("assembler statistics", ["-c", "a.c", "-Wa,--statistics"], "unsupported-option"),
    # issue 13 B4: options under the generic prefixes that read or write files
    ("-fthin-link-bitcode", ["-c", "a.c", "-fthin-link-bitcode=a.bc"], "extra-output"),
    ("-fbasic-block-sections", ["-c", "a.c", "-fbasic-block-sections=list=f.txt"], "unsupported-option"),
    ("-gen-cdb-fragment-path", ["-c", "a.c", "-gen-cdb-fragment-path", "db"], "extra-output"),
    ("-gen-decls", ["-c", "a.c", "-gen-decls"], "extra-output"),
    ("-module-dependency-dir", ["-c", "a.c", "-module-dependency-dir", "d"], "modules"),
    ("-fvtv-counts", ["-c", "a.c", "-fvtv-counts"], "extra-output"),
    ("-ftime-report", ["-c", "a.c", "-ftime-report"], "compiler-report"),
    ("-fmem-report", ["-c", "a.c", "-fmem-report-wpa"], "compiler-report"),
    ("-fuse-line-directives", ["-c", "a.c", "-fuse-line-directives"], "unsupported-option"),
    ("-fbuild-session-file", ["-c", "a.c", "-fbuild-session-file=stamp"], "modules"),
    ("-B", ["-c", "a.c", "-B/opt/bin"], "toolchain-override"),
    ("-specs", ["-c", "a.c", "-specs=my.specs"], "toolchain-override"),
    ("-fplugin", ["-c", "a.c", "-fplugin=x.so"], "compiler-plugin"),
    ("two -arch", ["-c", "a.c", "-arch", "x86_64", "-arch", "arm64"], "multiple-architectures"),
    ("-Wp,-MT", ["-c", "a.c", "-Wp,-MT,x"], "unsupported-preprocessor-option"),
    ("-Xpreprocessor -MD", ["-c", "a.c", "-Xpreprocessor", "-MD"], "unsupported-preprocessor-option"),
    ("two -o", ["-c", "a.c", "-o", "a.o", "-o", "b.o"], "multiple-outputs"),
    ("-MD and -Wp,-MD", ["-c", "a.c", "-MD", "-Wp,-MD,x.d"], "multiple-depfiles"),
    ("-MF without -MD", ["-c", "a.c", "-MF", "a.d"], "unsupported-option"),
    ("-dumpbase", ["-c", "a.c", "-dumpbase", "x"], "unsupported-option"),
    ("-fcompare-debug", ["-c", "a.c", "-fcompare-debug"], "unsupported-option"),
    ("-dM", ["-c", "a.c", "-dM"], "unsupported-option"),
    ("-fprofile-note", ["-c", "a.c", "-fprofile-note=x.gcno"], "unsupported-option"),
    ("plain assembler", ["-c", "a.s"], "unsupported-language"),
    ("-x cuda", ["-c", "-x", "cuda", "a.cu"], "unsupported-language"),
    ("object as input", ["-c", "a.o"], "unsupported-input"),
    ("preprocessed input", ["-c", "a.i"], "preprocessed-input"),
    ("-fpreprocessed", ["-c", "a.c", "-fpreprocessed"], "preprocessed-input"),
    ("-v with a compile", ["-v", "-c", "a.c"], "verbose"),
    ("missing -o value", ["-c", "a.c", "-o"], "missing-argument"),
    ("--driver-mode=cl", ["--driver-mode=cl", "-c", "a.c"], "unsupported-option"),
]


@pytest.mark.parametrize(("name", "args", "reason"), NOT_CACHEABLE, ids=[r[0] for r in NOT_CACHEABLE])
def test_not_cacheable(tmp_path: Path, name: str, args: list[str], reason: str) -> None:
    result = _parse(tmp_path, args)
    assert isinstance(result, NotCacheable), result
    assert result.reason == reason
    assert result.detail  # every refusal says why, for the log


@pytest.mark.parametrize("variable", ["DEPENDENCIES_OUTPUT", "SUNPRO_DEPENDENCIES"])
def test_dependency_variables_are_not_cacheable(tmp_path: Path, variable: str) -> None:
    result = _parse(tmp_path, ["-c", "a.c"], env={"PATH": "/usr/bin", variable: "deps.d target"})
    assert isinstance(result, NotCacheable) and result.reason == "dependencies-env"


NOT_COMPILATION = [
    ("--version", ["--version"], "version-probe"),
    ("-v alone", ["-v"], "version-probe"),
    ("-dumpversion", ["-dumpversion"], "version-probe"),
    ("-dumpfullversion", ["-dumpfullversion"], "version-probe"),
    ("-dumpmachine", ["-dumpmachine"], "version-probe"),
    ("-print-prog-name", ["-print-prog-name=cc1"], "info-query"),
    ("-print-search-dirs", ["-print-search-dirs"], "info-query"),
    ("--help", ["--help"], "info-query"),
    ("-###", ["-###", "-c", "a.c"], "dry-run"),
    ("-E", ["-E", "a.c"], "preprocess-only"),
    ("-E with -c", ["-c", "a.c", "-E"], "preprocess-only"),
    ("-M", ["-M", "a.c"], "preprocess-only"),
    ("-MM", ["-MM", "a.c", "-MF", "a.d"], "preprocess-only"),
    ("no input", ["-c"], "no-input"),
    ("nothing at all", [], "no-input"),
]


@pytest.mark.parametrize(("name", "args", "reason"), NOT_COMPILATION, ids=[r[0] for r in NOT_COMPILATION])
def test_not_compilation(tmp_path: Path, name: str, args: list[str], reason: str) -> None:
    result = _parse(tmp_path, args)
    assert isinstance(result, NotCompilation), result
    assert result.reason == reason


@pytest.mark.parametrize(
    ("name", "cxx"),
    [("g++", True), ("c++", True), ("clang++", True), ("clang++-14", True), ("x86_64-linux-gnu-g++-12", True),
     ("/usr/bin/g++", True), ("gcc", False), ("cc", False), ("clang-14", False), ("x86_64-linux-gnu-gcc-12", False)],
)
def test_cxx_driver_names(name: str, cxx: bool) -> None:
    assert is_cxx_driver(name) is cxx


@pytest.mark.parametrize(
    ("args", "outputs"),
    [
        # -MD's default target is the object as given: the core rewrites it per call.
        (["-c", "a.c", "-o", "./out//a.o", "-MD"], {"object": "./out//a.o"}),
        (["-c", "src/a.c", "-MMD"], {"object": "a.o"}),
        # An explicit target is key text; -Wp,-MD names another target per compiler.
        (["-c", "a.c", "-MD", "-MT", "obj"], {}),
        (["-c", "a.c", "-o", "k/a.o", "-Wp,-MMD,k/.a.o.d"], {}),
    ],
)
def test_texts_that_name_paths(tmp_path: Path, args, outputs) -> None:
    """The dependency file is a make file written the way gcc or clang
    writes it; the diagnostics name paths where GNU-style locations go."""
    result = parse(make_invocation(args, tmp_path))
    assert isinstance(result, ParsedInvocation)
    assert result.outputs["depfile"].text == MakeDepfile(layouts=(GNU_MKDEPS, LLVM_DEPFILE), outputs=outputs)
    assert result.outputs["object"].text is None
    assert result.diagnostics is GNU_DIAGNOSTICS
