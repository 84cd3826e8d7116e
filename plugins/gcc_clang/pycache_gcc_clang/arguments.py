"""gcc/clang command lines: the option table and the parser.

`parse` turns one call into a `ParsedInvocation` (with a `GccCall` as its
private state for the later hooks), a `NotCacheable` or a `NotCompilation`.
It is pure: the only files it reads are response files.

How each argument enters the cache key (see dependencies.py for the rest):

- code generation and diagnostics options (``-O2``, ``-Wall``, ``-g``,
  ``-std=``, ``-m*``, ``-f*``) are ``key_arguments``; those whose value is a
  path (``-fdebug-prefix-map=``, ``-L``) go to ``GccCall.path_arguments``
  instead, made portable by the key hooks (parsing has no relocator);
- preprocessor options (``-I``, ``-D``, ``-include``...) are *not* key
  arguments in preprocessor mode: their whole effect is in the preprocessed
  output, so ``-I inc`` and ``-Iinc`` share results. Direct mode keys them;
- dependency-file options that shape the file's content (``-MD``/``-MMD``,
  ``-MT``, ``-MQ``, ``-MP``, ``-MG``) are key arguments; where files go
  (``-o``, ``-MF``) is not.

Anything the table does not know is refused ("unknown-option"): a guess
that an option cannot change the result is how caches serve wrong objects.
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from pycache_core.api import Invocation, NotCacheable, NotCompilation, OutputSlot, ParsedInvocation, ParseOutcome
from pycache_core.cmdline import (
    ArgForm,
    Category,
    OptionSpec,
    OptionTable,
    ParsedArg,
    ResponseFileError,
    expand_response_files,
)

F = ArgForm
C = Category


def _refuse(spelling: str, form: ArgForm, reason: str, **kw) -> OptionSpec:
    return OptionSpec(spelling, form, C.REFUSED, tag=reason, **kw)


def _cg(spelling: str, form: ArgForm = F.FLAG, **kw) -> OptionSpec:
    return OptionSpec(spelling, form, C.CODEGEN, **kw)


def _pp(spelling: str, form: ArgForm = F.JOINED_OR_SEPARATE, **kw) -> OptionSpec:
    return OptionSpec(spelling, form, C.PREPROCESSOR, **kw)


def _link(spelling: str, form: ArgForm = F.FLAG, **kw) -> OptionSpec:
    return OptionSpec(spelling, form, C.LINK, **kw)


# Not-cacheable / not-compilation reasons (stable identifiers, counted in stats).
R_VERSION = "version-probe"
R_INFO = "info-query"
R_DRY_RUN = "dry-run"
R_PREPROCESS = "preprocess-only"
R_NO_INPUT = "no-input"
R_LINKING = "linking"
R_ASSEMBLY = "assembly-output"
R_MULTIPLE = "multiple-sources"
R_STDIN = "stdin-input"
R_STDOUT = "output-to-stdout"
R_SAVE_TEMPS = "save-temps"
R_PCH = "pch-creation"
R_MODULES = "modules"
R_SYNTAX = "syntax-only"
R_UNKNOWN = "unknown-option"
R_XCLANG = "unsupported-xclang"
R_PROFILE = "profile-use"
R_EXTRA_OUTPUT = "extra-output"
R_TOOLCHAIN = "toolchain-override"
R_PLUGIN = "compiler-plugin"
R_UNSUPPORTED = "unsupported-option"
R_VERBOSE = "verbose"
R_LANGUAGE = "unsupported-language"
R_INPUT = "unsupported-input"
R_PREPROCESSED = "preprocessed-input"
R_WP = "unsupported-preprocessor-option"
R_DEPS_ENV = "dependencies-env"
R_MULTIPLE_OUTPUTS = "multiple-outputs"
R_MULTIPLE_DEPFILES = "multiple-depfiles"
R_ARCHES = "multiple-architectures"
R_RESPONSE_FILE = "response-file"
R_MISSING_VALUE = "missing-argument"
R_OUTPUT_DEVICE = "output-not-a-file"

OPTIONS = OptionTable(
    [
        # --- what kind of call ------------------------------------------------
        OptionSpec("-c", F.FLAG, C.OUTPUT, tag="compile"),
        OptionSpec("-o", F.JOINED_OR_SEPARATE, C.OUTPUT, path=True, tag="output"),
        OptionSpec("-x", F.JOINED_OR_SEPARATE, C.CODEGEN, tag="language"),
        _refuse("-S", F.FLAG, R_ASSEMBLY),
        _refuse("-E", F.FLAG, R_PREPROCESS),
        _refuse("-M", F.FLAG, R_PREPROCESS),
        _refuse("-MM", F.FLAG, R_PREPROCESS),
        _refuse("--version", F.FLAG, R_VERSION),
        _refuse("-dumpversion", F.FLAG, R_VERSION),
        _refuse("-dumpfullversion", F.FLAG, R_VERSION),
        _refuse("-dumpmachine", F.FLAG, R_VERSION),
        _refuse("-dumpspecs", F.FLAG, R_INFO),
        _refuse("--help", F.FLAG, R_INFO),
        _refuse("--help", F.EQUALS, R_INFO),
        _refuse("--target-help", F.FLAG, R_INFO),
        _refuse("-print-", F.JOINED, R_INFO),
        _refuse("--print-", F.JOINED, R_INFO),
        _refuse("-###", F.FLAG, R_DRY_RUN),
        OptionSpec("-v", F.FLAG, C.REFUSED, tag="verbose"),
        OptionSpec("--verbose", F.FLAG, C.REFUSED, tag="verbose"),
        # --- dependency files --------------------------------------------------
        OptionSpec("-MD", F.FLAG, C.DEPENDENCY, tag="MD"),
        OptionSpec("-MMD", F.FLAG, C.DEPENDENCY, tag="MMD"),
        OptionSpec("-MF", F.JOINED_OR_SEPARATE, C.DEPENDENCY, path=True, tag="MF"),
        OptionSpec("-MT", F.JOINED_OR_SEPARATE, C.DEPENDENCY, tag="MT"),
        OptionSpec("-MQ", F.JOINED_OR_SEPARATE, C.DEPENDENCY, tag="MQ"),
        OptionSpec("-MP", F.FLAG, C.DEPENDENCY, tag="MP"),
        OptionSpec("-MG", F.FLAG, C.DEPENDENCY, tag="MG"),
        _refuse("-MJ", F.JOINED_OR_SEPARATE, R_EXTRA_OUTPUT),
        OptionSpec("-Wp,", F.JOINED, C.PREPROCESSOR, tag="Wp"),
        OptionSpec("-Xpreprocessor", F.SEPARATE, C.PREPROCESSOR, tag="Xpreprocessor"),
        # --- preprocessor -------------------------------------------------------
        _pp("-D"),
        _pp("-U"),
        _pp("-I", path=True),
        _pp("-iquote", path=True),
        _pp("-isystem", path=True),
        _pp("-idirafter", path=True),
        _pp("-iprefix", path=True),
        _pp("-iwithprefix", path=True),
        _pp("-iwithprefixbefore", path=True),
        _pp("-iwithsysroot", path=True),
        _pp("-isysroot", path=True),
        _pp("-imultilib", path=True),
        _pp("-imultiarch", F.SEPARATE),
        _pp("-isystem-after", path=True),
        _pp("-cxx-isystem", path=True),
        _pp("-iframework", path=True),
        _pp("-F", path=True),
        _pp("--sysroot", F.EQUALS, path=True, separate_ok=True),
        _pp("-include", path=True, tag="include"),
        _pp("-imacros", path=True, tag="imacros"),
        _pp("-include-pch", F.SEPARATE, path=True, tag="include-pch"),
        _pp("-nostdinc", F.FLAG),
        _pp("-nostdinc++", F.FLAG),
        _pp("-nostdlibinc", F.FLAG),
        _pp("-nobuiltininc", F.FLAG),
        _pp("-undef", F.FLAG),
        _pp("-trigraphs", F.FLAG),
        _pp("-traditional", F.FLAG),
        _pp("-traditional-cpp", F.FLAG),
        _pp("-C", F.FLAG),
        _pp("-CC", F.FLAG),
        # -P only removes line markers from -E output: no effect on -c, and
        # the key's preprocessor run needs the markers.
        OptionSpec("-P", F.FLAG, C.IGNORED, tag="no-linemarkers"),
        _refuse("-ivfsoverlay", F.JOINED_OR_SEPARATE, R_UNSUPPORTED),
        # --- code generation and diagnostics: the generic families -----------
        _cg("-O", F.JOINED),
        _cg("-W", F.JOINED),
        _cg("-f", F.JOINED),
        _cg("-m", F.JOINED),
        _cg("-g", F.JOINED, tag="debug"),
        _cg("-std", F.EQUALS),
        _cg("--std", F.EQUALS),
        _cg("-stdlib", F.EQUALS),
        _cg("-Q", F.JOINED),
        _cg("-ansi"),
        _cg("-pedantic"),
        _cg("-pedantic-errors"),
        _cg("-w"),
        _cg("-H"),
        _cg("-p"),
        _cg("-pg"),
        _cg("-pthread"),
        _cg("-time"),
        _cg("-emit-llvm"),
        _cg("-integrated-as"),
        _cg("-no-integrated-as"),
        _cg("-no-canonical-prefixes"),
        _cg("--param", F.EQUALS, separate_ok=True),
        _cg("-target", F.SEPARATE),
        _cg("--target", F.EQUALS, separate_ok=True),
        _cg("-arch", F.SEPARATE, tag="arch"),
        _cg("--driver-mode", F.EQUALS, tag="driver-mode"),
        _cg("-mllvm", F.SEPARATE),
        _cg("-Xclang", F.SEPARATE, tag="Xclang"),
        _cg("-Wa,", F.JOINED, path=True, tag="assembler"),
        _cg("-Xassembler", F.SEPARATE, path=True, tag="assembler"),
        _cg("--gcc-toolchain", F.EQUALS, path=True, separate_ok=True),
        _cg("-gcc-toolchain", F.SEPARATE, path=True),
        _cg("--gcc-install-dir", F.EQUALS, path=True),
        # diagnostics colour: replaced by the forced colour when not explicit
        _cg("-fdiagnostics-color", tag="colour"),
        _cg("-fdiagnostics-color", F.EQUALS, tag="colour"),
        _cg("-fno-diagnostics-color", tag="colour"),
        _cg("-fcolor-diagnostics", tag="colour"),
        _cg("-fno-color-diagnostics", tag="colour"),
        # paths inside code generation options
        _cg("-fdebug-prefix-map", F.EQUALS, path=True, tag="prefix-map"),
        _cg("-ffile-prefix-map", F.EQUALS, path=True, tag="prefix-map"),
        _cg("-fmacro-prefix-map", F.EQUALS, path=True),
        _cg("-fcoverage-prefix-map", F.EQUALS, path=True),
        _cg("-fprofile-prefix-map", F.EQUALS, path=True),
        _cg("-fprofile-prefix-path", F.EQUALS, path=True),
        _cg("-fdebug-compilation-dir", F.EQUALS, path=True, separate_ok=True, tag="compilation-dir"),
        _cg("-ffile-compilation-dir", F.EQUALS, path=True, tag="compilation-dir"),
        _cg("-fcoverage-compilation-dir", F.EQUALS, path=True),
        _cg("-fcrash-diagnostics-dir", F.EQUALS, path=True),
        _cg("-fprofile-dir", F.EQUALS, path=True),
        _cg("-fprofile-instr-generate", F.EQUALS, path=True),
        _cg("-fcs-profile-generate", F.EQUALS, path=True),
        _cg("-fprofile-generate", tag="profile-arcs"),
        _cg("-fprofile-generate", F.EQUALS, path=True, tag="profile-arcs"),
        _cg("-fcoverage-mapping", tag="cwd-sensitive"),
        # coverage notes (.gcno) and arc profiling
        _cg("--coverage", tag="coverage"),
        _cg("-coverage", tag="coverage"),
        _cg("-ftest-coverage", tag="test-coverage"),
        _cg("-fno-test-coverage", tag="no-test-coverage"),
        _cg("-fprofile-arcs", tag="profile-arcs"),
        _cg("-fno-profile-arcs", tag="no-profile-arcs"),
        _refuse("-fprofile-note", F.EQUALS, R_UNSUPPORTED),
        # inputs beyond the source whose content changes the result
        _cg("-fprofile-use", tag="profile-use"),
        _cg("-fprofile-use", F.EQUALS, path=True, tag="profile-use"),
        _cg("-fauto-profile", tag="profile-use"),
        _cg("-fauto-profile", F.EQUALS, path=True, tag="profile-use"),
        _cg("-fbranch-probabilities", tag="profile-use"),
        _cg("-fprofile-instr-use", F.EQUALS, path=True, tag="profile-use"),
        _cg("-fprofile-sample-use", F.EQUALS, path=True, tag="profile-use"),
        _cg("-fprofile-remapping-file", F.EQUALS, path=True, tag="input-file"),
        _cg("-fprofile-list", F.EQUALS, path=True, tag="input-file"),
        _cg("-fsanitize-blacklist", F.EQUALS, path=True, tag="input-file"),
        _cg("-fsanitize-ignorelist", F.EQUALS, path=True, tag="input-file"),
        _cg("-fsanitize-system-ignorelist", F.EQUALS, path=True, tag="input-file"),
        _cg("-fsanitize-coverage-allowlist", F.EQUALS, path=True, tag="input-file"),
        _cg("-fsanitize-coverage-ignorelist", F.EQUALS, path=True, tag="input-file"),
        _cg("-fsanitize-coverage-whitelist", F.EQUALS, path=True, tag="input-file"),
        _cg("-fsanitize-coverage-blacklist", F.EQUALS, path=True, tag="input-file"),
        _cg("-fxray-always-instrument", F.EQUALS, path=True, tag="input-file"),
        _cg("-fxray-never-instrument", F.EQUALS, path=True, tag="input-file"),
        _cg("-fxray-attr-list", F.EQUALS, path=True, tag="input-file"),
        # objects that embed the whole command line (clang records -I, -D, -o)
        _cg("-frecord-command-line", tag="record-command-line"),
        _cg("-frecord-gcc-switches", tag="record-command-line"),
        # PCH use
        _cg("-fpch-preprocess", tag="pch-preprocess"),
        # --- refused -f options -----------------------------------------------
        _refuse("-fsyntax-only", F.FLAG, R_SYNTAX),
        _refuse("-fmodule", F.JOINED, R_MODULES),  # -fmodules, -fmodules-ts, -fmodule-file=...
        _refuse("-fcxx-modules", F.FLAG, R_MODULES),
        _refuse("-fimplicit-module", F.JOINED, R_MODULES),
        _refuse("-fprebuilt-module", F.JOINED, R_MODULES),
        _refuse("-fprebuilt-implicit-modules", F.FLAG, R_MODULES),
        _refuse("-fbuiltin-module-map", F.FLAG, R_MODULES),
        _refuse("--precompile", F.FLAG, R_MODULES),
        _refuse("-fdump-", F.JOINED, R_EXTRA_OUTPUT),
        _cg("-fdump-noaddr"),
        _cg("-fdump-unnumbered"),
        _cg("-fdump-unnumbered-links"),
        _cg("-fdump-passes"),
        _refuse("-fstack-usage", F.FLAG, R_EXTRA_OUTPUT),
        _refuse("-fcallgraph-info", F.JOINED, R_EXTRA_OUTPUT),
        _refuse("-aux-info", F.JOINED_OR_SEPARATE, R_EXTRA_OUTPUT),
        _cg("-fopt-info", F.JOINED, tag="opt-info"),
        _refuse("-fsave-optimization-record", F.JOINED, R_EXTRA_OUTPUT),
        _refuse("-foptimization-record-file", F.EQUALS, R_EXTRA_OUTPUT),
        _refuse("-ftime-trace", F.JOINED, R_EXTRA_OUTPUT),
        _refuse("-fproc-stat-report", F.JOINED, R_EXTRA_OUTPUT),
        _refuse("-index-store-path", F.SEPARATE, R_EXTRA_OUTPUT),
        _refuse("-fltrans-output-list", F.EQUALS, R_EXTRA_OUTPUT),
        _refuse("-fcompare-debug", F.JOINED, R_UNSUPPORTED),
        _refuse("-fpreprocessed", F.FLAG, R_PREPROCESSED),
        _refuse("-fplugin", F.EQUALS, R_PLUGIN),
        _refuse("-fpass-plugin", F.EQUALS, R_PLUGIN),
        _refuse("-save-temps", F.FLAG, R_SAVE_TEMPS),
        _refuse("-save-temps", F.EQUALS, R_SAVE_TEMPS),
        _refuse("--save-temps", F.FLAG, R_SAVE_TEMPS),
        _refuse("-save-stats", F.JOINED, R_EXTRA_OUTPUT),
        # -dumpbase & co. rename auxiliary outputs (.dwo, .gcno); -d<letters>
        # are dumps or -E modifiers.
        _refuse("-dumpbase", F.SEPARATE, R_UNSUPPORTED),
        _refuse("-dumpbase-ext", F.SEPARATE, R_UNSUPPORTED),
        _refuse("-dumpdir", F.SEPARATE, R_UNSUPPORTED),
        _refuse("-d", F.JOINED, R_UNSUPPORTED),
        # a different toolchain than the one probed
        _refuse("-B", F.JOINED_OR_SEPARATE, R_TOOLCHAIN),
        _refuse("-specs", F.EQUALS, R_TOOLCHAIN, separate_ok=True),
        _refuse("-wrapper", F.SEPARATE, R_TOOLCHAIN),
        _refuse("-resource-dir", F.EQUALS, R_TOOLCHAIN, separate_ok=True),
        _refuse("-ccc-", F.JOINED, R_TOOLCHAIN),
        _refuse("-Xarch_", F.JOINED, R_UNSUPPORTED),
        _refuse("-Xcuda-", F.JOINED, R_UNSUPPORTED),
        _refuse("-Xopenmp-target", F.JOINED, R_UNSUPPORTED),
        _refuse("-Xanalyzer", F.SEPARATE, R_UNSUPPORTED),
        # --- linking (unused with -c, but both compilers warn about some) -----
        _link("-l", F.JOINED_OR_SEPARATE),
        _link("-L", F.JOINED_OR_SEPARATE, path=True),
        _link("-Wl,", F.JOINED, path=True),
        _link("-Xlinker", F.SEPARATE, path=True),
        _link("-u", F.JOINED_OR_SEPARATE),
        _link("-T", F.JOINED_OR_SEPARATE, path=True),
        _link("-z", F.SEPARATE),
        _link("-shared"),
        _link("-static"),
        _link("-static-pie"),
        _link("-static-libgcc"),
        _link("-static-libstdc++"),
        _link("-shared-libgcc"),
        _link("-rdynamic"),
        _link("-pie"),
        _link("-no-pie"),
        _link("-s"),
        _link("-symbolic"),
        _link("-nostdlib"),
        _link("-nostdlib++"),
        _link("-nodefaultlibs"),
        _link("-nostartfiles"),
        _link("-nolibc"),
        _link("-rtlib", F.EQUALS),
        _link("-unwindlib", F.EQUALS),
        OptionSpec("-pipe", F.FLAG, C.IGNORED),
    ]
)

#: -Xclang arguments known to change nothing but code generation; anything
#: else passed straight to clang's cc1 could read or write files.
XCLANG_ALLOWED = frozenset(
    {
        "-disable-O0-optnone",
        "-disable-llvm-passes",
        "-disable-llvm-optzns",
        "-fno-pch-timestamp",
        "-mconstructor-aliases",
        "-mno-constructor-aliases",
        "-fexperimental-strict-floating-point",
    }
)

#: -g options that do not turn debug information on by themselves.
DEBUG_MODIFIERS = frozenset(
    {
        "-gcolumn-info",
        "-gstrict-dwarf",
        "-grecord-gcc-switches",
        "-grecord-command-line",
        "-gpubnames",
        "-ggnu-pubnames",
        "-gdescribe-dies",
        "-ginline-points",
        "-gstatement-frontiers",
        "-gvariable-location-views",
        "-ginternal-reset-location-views",
        "-gas-loc-support",
        "-gas-locview-support",
        "-gsimple-template-names",
        "-gembed-source",
        "-gsplit-dwarf",
        "-gsplit-dwarf=split",
        "-gsplit-dwarf=single",
        "-gdwarf32",
        "-gdwarf64",
    }
)

SOURCE_LANGUAGES = {
    ".c": "c",
    ".cc": "c++",
    ".cp": "c++",
    ".cxx": "c++",
    ".cpp": "c++",
    ".CPP": "c++",
    ".c++": "c++",
    ".C": "c++",
    ".m": "objective-c",
    ".mm": "objective-c++",
    ".M": "objective-c++",
    ".S": "assembler-with-cpp",
    ".sx": "assembler-with-cpp",
}
CACHEABLE_LANGUAGES = frozenset({"c", "c++", "objective-c", "objective-c++", "assembler-with-cpp"})
HEADER_EXTENSIONS = frozenset({".h", ".hh", ".H", ".hp", ".hxx", ".hpp", ".HPP", ".h++", ".tcc", ".inl"})
MODULE_EXTENSIONS = frozenset({".cppm", ".ccm", ".cxxm", ".c++m", ".ixx", ".mpp"})
PREPROCESSED_EXTENSIONS = frozenset({".i", ".ii", ".mi", ".mii"})
OTHER_LANGUAGE_EXTENSIONS = frozenset(
    {".s", ".cu", ".cl", ".hip", ".f", ".for", ".ftn", ".f90", ".f95", ".f03", ".f08", ".F", ".F90",
     ".ads", ".adb", ".d", ".go", ".rs", ".ll", ".bc"}
)
PCH_LANGUAGES = frozenset({"c-header", "c++-header", "objective-c-header", "objective-c++-header", "cuda-header"})
MODULE_LANGUAGES = frozenset({"c++-module", "c++-system-header", "c++-user-header", "c++-header-unit-header"})
PREPROCESSED_LANGUAGES = frozenset(
    {"cpp-output", "c++-cpp-output", "objective-c-cpp-output", "objc-cpp-output", "objective-c++-cpp-output",
     "objc++-cpp-output"}
)

#: Variables a gcc or clang compile reads. Each enters the key as its own
#: component ("env:NAME") when set; never the whole environment.
COMPILER_ENV = (
    "CPATH",
    "C_INCLUDE_PATH",
    "CPLUS_INCLUDE_PATH",
    "OBJC_INCLUDE_PATH",
    "OBJCPLUS_INCLUDE_PATH",
    "SOURCE_DATE_EPOCH",
    "GCC_EXEC_PREFIX",
    "COMPILER_PATH",
    "GCC_COMPARE_DEBUG",
    "GCC_COLORS",
    "GCC_URLS",
    "TERM_URLS",
    "GCC_EXTRA_DIAGNOSTIC_OUTPUT",
    "COLUMNS",
    "LANG",
    "LANGUAGE",
    "LC_ALL",
    "LC_CTYPE",
    "LC_MESSAGES",
    "CCC_OVERRIDE_OPTIONS",
    "SDKROOT",
    "MACOSX_DEPLOYMENT_TARGET",
)

#: Variables that make the compiler write an extra dependency file, appending
#: to it: an output a cache cannot reproduce.
DEPENDENCY_ENV = ("DEPENDENCIES_OUTPUT", "SUNPRO_DEPENDENCIES")

FORCED_COLOUR = "-fdiagnostics-color=always"

_CXX_DRIVER = re.compile(r"\+\+(?:-[\d.]+)*$")


@dataclass(frozen=True, slots=True, kw_only=True)
class DepFile:
    """How the call writes its dependency file."""

    path: str  # as the compiler will write it, relative to the cwd or absolute
    explicit_target: bool  # -MT/-MQ given: the object path is not in the file


@dataclass(frozen=True, slots=True, kw_only=True)
class GccCall:
    """The plugin's parsed state, handed back to its later hooks
    (`ParsedInvocation.private`). Paths are as given (relative to the cwd)."""

    source: str
    language: str
    object_path: str
    #: argument list for ``<compiler> -E`` (output and dependency-file
    #: options removed; everything that can define a macro kept)
    preprocess_arguments: tuple[str, ...]
    #: preprocessor options in order, as given (direct mode keys them)
    preprocessor_arguments: tuple[str, ...]
    #: key arguments whose value is a path, to be made portable
    path_arguments: tuple[str, ...]
    #: files whose content changes the result (sanitizer lists...)
    input_files: tuple[str, ...]
    #: options that read a profile, as one argument each (-fprofile-use=x)
    profile_uses: tuple[str, ...]
    include_files: tuple[str, ...]
    pch_files: tuple[str, ...]
    depfile: DepFile | None
    debug: bool
    split_dwarf: bool
    #: prefixes of -fdebug-prefix-map / -ffile-prefix-map
    debug_prefix_maps: tuple[str, ...]
    compilation_dir_set: bool
    test_coverage: bool
    profile_arcs: bool
    cwd_sensitive: bool
    record_command_line: bool
    all_arguments: tuple[str, ...]
    #: why direct mode cannot be used ("" = it can)
    no_direct: str = ""


def is_cxx_driver(*names: str) -> bool:
    """g++, c++, clang++ and their versioned forms compile .c as C++."""
    for name in names:
        base = os.path.basename(name)
        if base.lower().endswith(".exe"):
            base = base[:-4]
        if _CXX_DRIVER.search(base):
            return True
    return False


def replace_suffix(path: str, suffix: str) -> str:
    """``out/x.o`` -> ``out/x.d``: gcc's rule (only the last suffix of the
    file name, never a dot in a directory name)."""
    head, tail = os.path.split(path)
    stem, dot, _ = tail.rpartition(".")
    name = (stem if dot and stem else tail) + suffix
    return os.path.join(head, name) if head else name


def _source_language(source: str, explicit: str | None, cxx_driver: bool) -> tuple[str | None, str]:
    """(language, reason-if-not-cacheable) of an input."""
    if explicit is not None:
        lang = explicit
        if lang in CACHEABLE_LANGUAGES:
            return lang, ""
        if lang in PCH_LANGUAGES:
            return None, R_PCH
        if lang in MODULE_LANGUAGES:
            return None, R_MODULES
        if lang in PREPROCESSED_LANGUAGES:
            return None, R_PREPROCESSED
        return None, R_LANGUAGE
    suffix = PurePosixPath(source).suffix if "." in os.path.basename(source) else ""
    if suffix in SOURCE_LANGUAGES:
        lang = SOURCE_LANGUAGES[suffix]
        if cxx_driver and lang == "c":
            lang = "c++"
        elif cxx_driver and lang == "objective-c":
            lang = "objective-c++"
        return lang, ""
    if suffix in HEADER_EXTENSIONS:
        return None, R_PCH
    if suffix in MODULE_EXTENSIONS:
        return None, R_MODULES
    if suffix in PREPROCESSED_EXTENSIONS:
        return None, R_PREPROCESSED
    if suffix in OTHER_LANGUAGE_EXTENSIONS:
        return None, R_LANGUAGE
    return None, R_INPUT


def _debug_option_enables(option: str) -> bool | None:
    """True: turns debug info on; False: off (-g0); None: a modifier."""
    if option == "-g0":
        return False
    if option in DEBUG_MODIFIERS or option.startswith(("-gz", "-gno-", "-gsplit-dwarf")):
        return None
    return True


def _assembler_parts(arg: ParsedArg) -> list[str]:
    if arg.option == "-Wa,":
        return (arg.value or "").split(",")
    return [arg.value or ""]


def parse(invocation: Invocation) -> ParseOutcome:
    """Classify one gcc/clang call (see the module docstring)."""
    try:
        expanded = expand_response_files(invocation.arguments, style="gnu", cwd=invocation.cwd)
    except ResponseFileError as exc:
        return NotCacheable(R_RESPONSE_FILE, str(exc))
    arguments = expanded.arguments
    parsed = OPTIONS.parse(arguments)
    cxx_driver = is_cxx_driver(invocation.invoked_as, str(invocation.compiler))

    # 1. Calls that are no compilation at all win over everything else.
    inputs = [a for a in parsed if a.is_input]
    for arg in parsed:
        if arg.spec is not None and arg.spec.tag in (R_VERSION, R_INFO, R_DRY_RUN):
            return NotCompilation(arg.spec.tag, f"{arg.tokens[0]} asks the compiler about itself")
        if arg.spec is not None and arg.spec.tag == "verbose" and not inputs:
            return NotCompilation(R_VERSION, f"{arg.tokens[0]} without inputs prints the compiler's version")
    for arg in parsed:
        if arg.spec is not None and arg.spec.tag == R_PREPROCESS:
            return NotCompilation(R_PREPROCESS, f"{arg.tokens[0]} only preprocesses")
    if not any(a.option == "-c" for a in parsed):
        if any(a.option == "-S" for a in parsed):
            return NotCacheable(R_ASSEMBLY, "-S writes assembly, not an object")
        if not inputs:
            return NotCompilation(R_NO_INPUT, "no input file")
        return NotCacheable(R_LINKING, "no -c: the call links")

    # 2. Walk the options in order.
    explicit_lang: str | None = None
    source: str | None = None
    source_lang_option: str | None = None
    trailing_language: list[str] = []
    output: str | None = None
    outputs_given = 0
    dep_kind: str | None = None  # "MD" / "MMD"
    dep_file: str | None = None
    dep_targets: list[str] = []
    wp_depfile: tuple[str, str] | None = None
    key: list[str] = []
    ignored: list[str] = []
    path_args: list[str] = []
    pp_args: list[str] = []
    cpp_command: list[str] = []
    input_files: list[str] = []
    profile_uses: list[str] = []
    include_files: list[str] = []
    pch_files: list[str] = []
    no_direct = ""
    debug = False
    split_dwarf = False
    prefix_maps: list[str] = []
    compilation_dir = False
    test_coverage = False
    profile_arcs = False
    cwd_sensitive = False
    record_command_line = False
    colour: str | None = None
    arches = 0

    for arg in parsed:
        spec = arg.spec
        if arg.is_input:
            if source is not None:
                return NotCacheable(R_MULTIPLE, f"several inputs: {source} and {arg.tokens[0]}")
            source = arg.tokens[0]
            source_lang_option = explicit_lang
            cpp_command.append(source)
            continue
        if spec is None:
            return NotCacheable(R_UNKNOWN, f"unknown option {arg.tokens[0]}: it might change the result")
        if arg.missing_value:
            return NotCacheable(R_MISSING_VALUE, f"{arg.tokens[0]} needs an argument")
        tag = spec.tag
        if spec.category == C.REFUSED:
            if tag == "verbose":
                return NotCacheable(R_VERBOSE, f"{arg.tokens[0]} prints the compiler's commands")
            if tag == R_ASSEMBLY:
                return NotCacheable(R_ASSEMBLY, "-S writes assembly, not an object")
            return NotCacheable(tag, f"{arg.joined()} is not cacheable ({tag})")

        if tag == "compile":
            ignored.append("-c")
            continue
        if tag == "output":
            output = arg.value
            outputs_given += 1
            ignored.extend(arg.tokens)
            continue
        if tag == "language":
            explicit_lang = None if arg.value == "none" else arg.value
            cpp_command.extend(arg.tokens)
            if source is not None:
                trailing_language.extend(arg.tokens)
            continue

        if spec.category == C.DEPENDENCY:
            if tag in ("MD", "MMD"):
                dep_kind = tag
                key.append(arg.tokens[0])
            elif tag == "MF":
                dep_file = arg.value
                ignored.extend(arg.tokens)
            elif tag in ("MT", "MQ"):
                # The target is text written into the dependency file; it
                # may name a path under a base directory, so keep it portable.
                dep_targets.append(f"-{tag}")
                path_args.extend((f"-{tag}", arg.value or ""))
            else:  # MP, MG
                key.append(arg.tokens[0])
            continue

        if tag == "Wp":
            parts = (arg.value or "").split(",")
            if len(parts) == 2 and parts[0] in ("-MD", "-MMD") and parts[1]:
                # The Linux kernel's form: handled like -MD -MF <file>.
                if wp_depfile is not None:
                    return NotCacheable(R_MULTIPLE_DEPFILES, "several -Wp,-MD dependency files")
                wp_depfile = (parts[0][1:], parts[1])
                key.append(f"-Wp,{parts[0]}")
                ignored.append(arg.tokens[0])
                continue
            if any(p.startswith("-M") for p in parts):
                return NotCacheable(R_WP, f"{arg.tokens[0]}: dependency options inside -Wp are not understood")
            no_direct = no_direct or f"{arg.tokens[0]} is passed to the preprocessor unseen"
            pp_args.extend(arg.tokens)
            cpp_command.extend(arg.tokens)
            continue
        if tag == "Xpreprocessor":
            if (arg.value or "").startswith("-M"):
                return NotCacheable(R_WP, f"-Xpreprocessor {arg.value}: dependency options are not understood")
            no_direct = no_direct or f"-Xpreprocessor {arg.value} is passed to the preprocessor unseen"
            pp_args.extend(arg.tokens)
            cpp_command.extend(arg.tokens)
            continue

        if spec.category == C.PREPROCESSOR:
            if tag == "include":
                include_files.append(arg.value or "")
            elif tag == "imacros":
                # Its macros count but neither it nor what it includes shows
                # up in line markers: a manifest would miss it, and only the
                # argument can tell a dependency file's list apart.
                no_direct = no_direct or "-imacros files are not visible in the preprocessed output"
                path_args.extend(arg.tokens)
            elif tag == "include-pch":
                pch_files.append(arg.value or "")
                no_direct = no_direct or "precompiled header in use"
            pp_args.extend(arg.tokens)
            cpp_command.extend(arg.tokens)
            continue

        if spec.category == C.IGNORED:
            ignored.extend(arg.tokens)
            if tag != "no-linemarkers":
                cpp_command.extend(arg.tokens)
            continue

        # --- code generation, diagnostics, linking ---------------------------
        if tag == "colour":
            colour = _colour_mode(arg)
            continue  # represented once, by the effective mode, below
        if tag == "Xclang":
            if arg.value not in XCLANG_ALLOWED:
                return NotCacheable(R_XCLANG, f"-Xclang {arg.value} goes to clang's cc1 unchecked")
        elif tag == "assembler":
            for part in _assembler_parts(arg):
                if part.startswith(("-a", "--MD", "-MD", "--listing")):
                    return NotCacheable(R_EXTRA_OUTPUT, f"assembler option {part} writes another file")
                if part.startswith(("-g", "--gdwarf", "--gen-debug", "--debug")):
                    debug = True
        elif tag == "debug":
            option = arg.tokens[0]
            enables = _debug_option_enables(option)
            if enables is not None:
                debug = enables
            if option in ("-gsplit-dwarf", "-gsplit-dwarf=split"):
                split_dwarf = True
            elif option in ("-gno-split-dwarf", "-gsplit-dwarf=single"):
                split_dwarf = False
            if option == "-grecord-command-line" or option == "-grecord-gcc-switches":
                record_command_line = True
            elif option in ("-gno-record-command-line", "-gno-record-gcc-switches"):
                record_command_line = False
        elif tag == "prefix-map":
            old = (arg.value or "").partition("=")[0]
            prefix_maps.append(old)
        elif tag == "compilation-dir":
            compilation_dir = True
        elif tag == "coverage":
            test_coverage = profile_arcs = True
        elif tag == "test-coverage":
            test_coverage = True
        elif tag == "no-test-coverage":
            test_coverage = False
        elif tag == "profile-arcs":
            profile_arcs = True
        elif tag == "no-profile-arcs":
            profile_arcs = False
        elif tag == "cwd-sensitive":
            cwd_sensitive = True
        elif tag == "profile-use":
            profile_uses.append(arg.joined())
        elif tag == "input-file":
            input_files.append(arg.value or "")
        elif tag == "record-command-line":
            record_command_line = True
        elif tag == "pch-preprocess":
            no_direct = no_direct or "-fpch-preprocess"
            key.append(arg.tokens[0])
            continue  # changes only -E output, which the key's run must not get
        elif tag == "opt-info" and "=" in (arg.value or ""):
            return NotCacheable(R_EXTRA_OUTPUT, f"{arg.tokens[0]} writes a file")
        elif tag == "arch":
            arches += 1
            if arches > 1:
                return NotCacheable(R_ARCHES, "several -arch options build a universal object")
        elif tag == "driver-mode":
            if arg.value not in ("gcc", "g++"):
                return NotCacheable(R_UNSUPPORTED, f"{arg.tokens[0]}: not the gcc command-line syntax")
            cxx_driver = arg.value == "g++"

        if spec.path:
            path_args.extend(arg.tokens)
        else:
            key.extend(arg.tokens)
        cpp_command.extend(arg.tokens)

    # 3. The one input, and what it is.
    if source is None:
        return NotCompilation(R_NO_INPUT, "no input file")
    if source == "-":
        return NotCacheable(R_STDIN, "the source is read from standard input")
    language, why = _source_language(source, source_lang_option, cxx_driver)
    if language is None:
        return NotCacheable(why, f"input {source} is not a cacheable C-family source ({why})")
    if outputs_given > 1:
        return NotCacheable(R_MULTIPLE_OUTPUTS, "-o given more than once")
    if output == "-":
        return NotCacheable(R_STDOUT, "-o - writes the object to standard output")
    for name in DEPENDENCY_ENV:
        if invocation.env.get(name):
            return NotCacheable(R_DEPS_ENV, f"{name} is set: the compiler appends dependencies to a file of its own")
    if dep_kind is not None and wp_depfile is not None:
        return NotCacheable(R_MULTIPLE_DEPFILES, "both -MD/-MMD and -Wp,-MD write dependency files")
    if (dep_file is not None or dep_targets) and dep_kind is None and wp_depfile is None:
        # -MF/-MT without -MD/-MMD: gcc rejects or ignores them; not worth a guess.
        return NotCacheable(R_UNSUPPORTED, "-MF/-MT/-MQ without -MD or -MMD")

    object_path = output if output is not None else replace_suffix(os.path.basename(source), ".o")
    key.extend(trailing_language)

    depfile: DepFile | None = None
    if dep_kind is not None:
        path = dep_file if dep_file is not None else replace_suffix(object_path if output is not None else os.path.basename(source), ".d")
        depfile = DepFile(path=path, explicit_target=bool(dep_targets))
    elif wp_depfile is not None:
        # gcc names the target after the source here, clang after -o: the
        # object path is keyed either way.
        depfile = DepFile(path=wp_depfile[1], explicit_target=False)
    for written in (object_path, depfile.path if depfile else None):
        why = _not_a_file(invocation, written)
        if why:
            return NotCacheable(R_OUTPUT_DEVICE, why)

    outputs: dict[str, OutputSlot] = {"object": OutputSlot(path=Path(object_path))}
    if depfile is not None:
        outputs["depfile"] = OutputSlot(path=Path(depfile.path))
    if split_dwarf:
        # gcc writes a .dwo for -gsplit-dwarf alone, clang only with -g too:
        # the outputs hook decides by the toolchain when -g is absent.
        outputs["dwo"] = OutputSlot(path=Path(replace_suffix(object_path, ".dwo")), required=debug)
    if test_coverage and language != "assembler-with-cpp":
        outputs["gcno"] = OutputSlot(path=Path(replace_suffix(object_path, ".gcno")))

    # 4. Diagnostics colour: unless the user chose, always colour, so that
    # one stored stderr serves terminals (as is) and pipes (stripped).
    run_arguments = None
    colour_diagnostics = False
    if colour is None or colour == "auto":
        run_arguments = (FORCED_COLOUR, *invocation.arguments)
        colour_diagnostics = True
        key.append(FORCED_COLOUR)
    else:
        key.append(f"-fdiagnostics-color={colour}")

    call = GccCall(
        source=source,
        language=language,
        object_path=object_path,
        preprocess_arguments=("-E", *cpp_command),
        preprocessor_arguments=tuple(pp_args),
        path_arguments=tuple(path_args),
        input_files=tuple(input_files),
        profile_uses=tuple(profile_uses),
        include_files=tuple(include_files),
        pch_files=tuple(pch_files),
        depfile=depfile,
        debug=debug,
        split_dwarf=split_dwarf,
        debug_prefix_maps=tuple(prefix_maps),
        compilation_dir_set=compilation_dir,
        test_coverage=test_coverage and language != "assembler-with-cpp",
        profile_arcs=profile_arcs,
        cwd_sensitive=cwd_sensitive,
        record_command_line=record_command_line,
        all_arguments=arguments,
        no_direct=no_direct,
    )
    return ParsedInvocation(
        language=language,
        sources=(invocation.resolve(source),),
        outputs=outputs,
        key_arguments=tuple(key),
        ignored_arguments=tuple(ignored),
        run_arguments=run_arguments,
        colour_diagnostics=colour_diagnostics,
        private=call,
    )


def _not_a_file(invocation: Invocation, path: str | None) -> str:
    """Why ``path`` cannot be an output slot: /dev/null and other special
    files would be replaced by a regular file when a hit is restored."""
    if path is None:
        return ""
    if path == os.devnull:
        return f"output {path}: the result is thrown away"
    try:
        mode = os.stat(invocation.resolve(path)).st_mode
    except OSError:
        return ""  # not there yet: the compile creates it
    return "" if stat.S_ISREG(mode) else f"output {path} exists and is not a regular file"


def _colour_mode(arg: ParsedArg) -> str:
    option = arg.tokens[0]
    if option in ("-fno-diagnostics-color", "-fno-color-diagnostics"):
        return "never"
    if option in ("-fdiagnostics-color", "-fcolor-diagnostics"):
        return "always"
    return arg.value or "always"
