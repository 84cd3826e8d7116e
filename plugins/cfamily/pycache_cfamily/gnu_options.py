"""The gcc/clang option table, as a public table others compose.

`GNU_OPTIONS` knows every option gcc and clang accept that the gcc_clang
plugin handles, each with a `GnuKind` saying what it does. It is facts about
the GNU driver's command line, not policy: the gcc_clang plugin decides what
each kind means for its key, nvcc's plugin composes it with its own options
(what it passes to the host compiler), the msvc plugin parses clang-cl's
``/clang:`` values with it::

    from pycache_cfamily.gnu_options import GNU_OPTIONS, GnuKind
    for arg in GNU_OPTIONS.parse(["-c", "a.c", "-O2", "-Iinc"]):
        arg.kind  # GnuKind.COMPILE, None (an input), GnuKind.CODEGEN, GnuKind.PREPROCESSOR

Rows of the refusing kinds (`GnuKind.refuses`) carry the stable reason
identifier a parser reports. Anything the table does not know is an unknown
option: a parser refuses it ("unknown-option") rather than guess.
"""

from __future__ import annotations

from functools import partial

from . import reasons as R
from .options import ArgForm, OptionKind, OptionSpec, OptionTable

__all__ = [
    "CODEGEN_ONLY_MLLVM",
    "CODEGEN_ONLY_XCLANG",
    "DEBUG_MODIFIERS",
    "GNU_OPTIONS",
    "GnuKind",
    "debug_option_enables",
    "unchecked_forward",
]

F = ArgForm


class GnuKind(OptionKind):
    """What a gcc/clang option does, as far as a cache must tell apart."""

    # --- what kind of call -----------------------------------------------------
    #: ``-c``: compile to an object
    COMPILE = "compile"
    #: ``-o FILE``
    OUTPUT = "output"
    #: ``-x LANG``: the language of the inputs that follow
    LANGUAGE = "language"
    #: ``--version``, ``-print-*``, ``-###``: asks the driver, compiles nothing (reason on the row)
    QUERY = "query"
    #: ``-E``, ``-M``, ``-MM``: stops after preprocessing
    PREPROCESS_ONLY = "preprocess-only"
    #: ``-S``: stops at assembly, which is then the output (gcc_clang caches
    #: it; a parser that does not, refuses it as ``assembly-output``)
    ASSEMBLY_ONLY = "assembly-only"
    #: ``-v``: prints the commands (a version probe without inputs)
    VERBOSE = "verbose"
    #: anything else that makes a result a cache cannot reproduce (reason on the row)
    REFUSED = "refused"
    # --- dependency files ------------------------------------------------------------
    #: ``-MD``, ``-MMD``: write a dependency file while compiling
    DEPFILE = "depfile"
    #: ``-MF FILE``
    DEPFILE_NAME = "depfile-name"
    #: ``-MT``, ``-MQ``: the target named in it
    DEPFILE_TARGET = "depfile-target"
    #: ``-MP``, ``-MG``: what else it lists
    DEPFILE_FORMAT = "depfile-format"
    # --- the preprocessor --------------------------------------------------------------
    #: ``-D``, ``-I``, ``-isystem``, ``--sysroot``, ``-nostdinc``...: what it defines and finds
    PREPROCESSOR = "preprocessor"
    #: ``-include FILE``
    FORCED_INCLUDE = "forced-include"
    #: ``-imacros FILE``: its macros, not its text, and no line markers for it
    MACRO_INCLUDE = "macro-include"
    #: ``-include-pch FILE``
    PCH_INCLUDE = "pch-include"
    #: ``-Wp,a,b`` (a list) and ``-Xpreprocessor a``: passed to the preprocessor unseen
    PREPROCESSOR_FORWARD = "preprocessor-forward"
    #: ``-P``: no line markers in ``-E`` output; nothing else
    LINE_MARKERS_OFF = "line-markers-off"
    # --- code generation and diagnostics ------------------------------------------------
    #: ``-O2``, ``-Wall``, ``-fPIC``, ``-std=``, ``-m*``...: changes the object or the diagnostics
    CODEGEN = "codegen"
    #: ``-g*``: debug information (some only modify it; see `debug_option_enables`)
    DEBUG_INFO = "debug-info"
    #: ``-arch NAME`` (several build a universal object)
    ARCH = "arch"
    #: ``--driver-mode=``: which command-line syntax the driver speaks
    DRIVER_MODE = "driver-mode"
    #: ``-Xclang ARG``: straight to clang's cc1
    FRONTEND_FORWARD = "frontend-forward"
    #: ``-mllvm ARG``: straight to LLVM's own option parser
    BACKEND_FORWARD = "backend-forward"
    #: ``-Wa,a,b`` (a list) and ``-Xassembler a``: straight to the assembler
    ASSEMBLER_FORWARD = "assembler-forward"
    #: ``-fdiagnostics-color[=WHEN]``, ``-f[no-]color-diagnostics``
    DIAGNOSTICS_COLOUR = "diagnostics-colour"
    #: ``-fdebug-prefix-map=OLD=NEW``, ``-ffile-prefix-map=``
    DEBUG_PREFIX_MAP = "debug-prefix-map"
    #: ``-fdebug-compilation-dir=``: the directory debug info records
    COMPILATION_DIR = "compilation-dir"
    #: ``--coverage``: ``-ftest-coverage`` and ``-fprofile-arcs`` together
    COVERAGE = "coverage"
    #: ``-ftest-coverage``: writes a .gcno next to the object
    TEST_COVERAGE = "test-coverage"
    #: ``-fno-test-coverage``
    TEST_COVERAGE_OFF = "test-coverage-off"
    #: ``-fprofile-arcs``, ``-fprofile-generate``: the object embeds its .gcda path
    PROFILE_ARCS = "profile-arcs"
    #: ``-fno-profile-arcs``
    PROFILE_ARCS_OFF = "profile-arcs-off"
    #: ``-fcoverage-mapping``: the object embeds the working directory
    CWD_SENSITIVE = "cwd-sensitive"
    #: ``-fprofile-use[=PATH]`` and friends: reads a profile
    PROFILE_USE = "profile-use"
    #: ``-fsanitize-ignorelist=FILE`` and friends: reads a file whose content matters
    INPUT_FILE = "input-file"
    #: ``-frecord-command-line``: the object embeds the command line
    RECORD_COMMAND_LINE = "record-command-line"
    #: ``-fpch-preprocess``: changes only ``-E`` output
    PCH_PREPROCESS = "pch-preprocess"
    #: ``-fopt-info[-...][=FILE]``: optimisation notes, to a file when ``=`` is given
    OPT_INFO = "opt-info"
    # --- the rest -------------------------------------------------------------------------
    #: linker options (unused with ``-c``; still warned about)
    LINK = "link"
    #: ``-pipe``: changes nothing a cache could observe
    IGNORED = "ignored"

    @property
    def refuses(self) -> bool:
        return self in _REFUSING


_REFUSING = frozenset({GnuKind.QUERY, GnuKind.PREPROCESS_ONLY, GnuKind.VERBOSE, GnuKind.REFUSED})
K = GnuKind


def _refuse(spelling: str, form: ArgForm, reason: str, *, kind: GnuKind = K.REFUSED, **kw) -> OptionSpec:
    return OptionSpec(spelling, form, kind, reason=reason, **kw)


_query = partial(_refuse, kind=K.QUERY)
_preprocess_only = partial(_refuse, kind=K.PREPROCESS_ONLY)


def _cg(spelling: str, form: ArgForm = F.FLAG, kind: GnuKind = K.CODEGEN, **kw) -> OptionSpec:
    return OptionSpec(spelling, form, kind, **kw)


def _pp(spelling: str, form: ArgForm = F.JOINED_OR_SEPARATE, kind: GnuKind = K.PREPROCESSOR, **kw) -> OptionSpec:
    return OptionSpec(spelling, form, kind, **kw)


def _link(spelling: str, form: ArgForm = F.FLAG, **kw) -> OptionSpec:
    return OptionSpec(spelling, form, K.LINK, **kw)


GNU_OPTIONS = OptionTable(
    [
        # --- what kind of call ------------------------------------------------
        OptionSpec("-c", F.FLAG, K.COMPILE),
        OptionSpec("-o", F.JOINED_OR_SEPARATE, K.OUTPUT, path=True),
        OptionSpec("-x", F.JOINED_OR_SEPARATE, K.LANGUAGE),
        OptionSpec("-S", F.FLAG, K.ASSEMBLY_ONLY),
        _preprocess_only("-E", F.FLAG, R.PREPROCESS_ONLY),
        _preprocess_only("-M", F.FLAG, R.PREPROCESS_ONLY),
        _preprocess_only("-MM", F.FLAG, R.PREPROCESS_ONLY),
        _query("--version", F.FLAG, R.VERSION_PROBE),
        _query("-dumpversion", F.FLAG, R.VERSION_PROBE),
        _query("-dumpfullversion", F.FLAG, R.VERSION_PROBE),
        _query("-dumpmachine", F.FLAG, R.VERSION_PROBE),
        _query("-dumpspecs", F.FLAG, R.INFO_QUERY),
        _query("--help", F.FLAG, R.INFO_QUERY),
        _query("--help", F.EQUALS, R.INFO_QUERY),
        _query("--target-help", F.FLAG, R.INFO_QUERY),
        _query("-print-", F.JOINED, R.INFO_QUERY),
        _query("--print-", F.JOINED, R.INFO_QUERY),
        _query("-###", F.FLAG, R.DRY_RUN),
        OptionSpec("-v", F.FLAG, K.VERBOSE, reason=R.VERBOSE),
        OptionSpec("--verbose", F.FLAG, K.VERBOSE, reason=R.VERBOSE),
        # --- dependency files --------------------------------------------------
        OptionSpec("-MD", F.FLAG, K.DEPFILE),
        OptionSpec("-MMD", F.FLAG, K.DEPFILE),
        OptionSpec("-MF", F.JOINED_OR_SEPARATE, K.DEPFILE_NAME, path=True),
        OptionSpec("-MT", F.JOINED_OR_SEPARATE, K.DEPFILE_TARGET),
        OptionSpec("-MQ", F.JOINED_OR_SEPARATE, K.DEPFILE_TARGET),
        OptionSpec("-MP", F.FLAG, K.DEPFILE_FORMAT),
        OptionSpec("-MG", F.FLAG, K.DEPFILE_FORMAT),
        _refuse("-MJ", F.JOINED_OR_SEPARATE, R.EXTRA_OUTPUT),
        OptionSpec("-Wp,", F.JOINED, K.PREPROCESSOR_FORWARD, separator=","),
        OptionSpec("-Xpreprocessor", F.SEPARATE, K.PREPROCESSOR_FORWARD),
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
        _pp("-include", path=True, kind=K.FORCED_INCLUDE),
        _pp("-imacros", path=True, kind=K.MACRO_INCLUDE),
        _pp("-include-pch", F.SEPARATE, path=True, kind=K.PCH_INCLUDE),
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
        OptionSpec("-P", F.FLAG, K.LINE_MARKERS_OFF),
        _refuse("-ivfsoverlay", F.JOINED_OR_SEPARATE, R.UNSUPPORTED_OPTION),
        # --- code generation and diagnostics: the generic families -----------
        _cg("-O", F.JOINED),
        _cg("-W", F.JOINED),
        _cg("-f", F.JOINED),
        _cg("-m", F.JOINED),
        _cg("-g", F.JOINED, kind=K.DEBUG_INFO),
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
        _cg("-arch", F.SEPARATE, kind=K.ARCH),
        _cg("--driver-mode", F.EQUALS, kind=K.DRIVER_MODE),
        _cg("-mllvm", F.SEPARATE, kind=K.BACKEND_FORWARD),
        _cg("-Xclang", F.SEPARATE, kind=K.FRONTEND_FORWARD),
        _cg("-Wa,", F.JOINED, path=True, kind=K.ASSEMBLER_FORWARD, separator=","),
        _cg("-Xassembler", F.SEPARATE, path=True, kind=K.ASSEMBLER_FORWARD),
        _cg("--gcc-toolchain", F.EQUALS, path=True, separate_ok=True),
        _cg("-gcc-toolchain", F.SEPARATE, path=True),
        _cg("--gcc-install-dir", F.EQUALS, path=True),
        # diagnostics colour: replaced by the forced colour when not explicit
        _cg("-fdiagnostics-color", kind=K.DIAGNOSTICS_COLOUR),
        _cg("-fdiagnostics-color", F.EQUALS, kind=K.DIAGNOSTICS_COLOUR),
        _cg("-fno-diagnostics-color", kind=K.DIAGNOSTICS_COLOUR),
        _cg("-fcolor-diagnostics", kind=K.DIAGNOSTICS_COLOUR),
        _cg("-fno-color-diagnostics", kind=K.DIAGNOSTICS_COLOUR),
        # paths inside code generation options
        _cg("-fdebug-prefix-map", F.EQUALS, path=True, kind=K.DEBUG_PREFIX_MAP),
        _cg("-ffile-prefix-map", F.EQUALS, path=True, kind=K.DEBUG_PREFIX_MAP),
        _cg("-fmacro-prefix-map", F.EQUALS, path=True),
        _cg("-fcoverage-prefix-map", F.EQUALS, path=True),
        _cg("-fprofile-prefix-map", F.EQUALS, path=True),
        _cg("-fprofile-prefix-path", F.EQUALS, path=True),
        _cg("-fdebug-compilation-dir", F.EQUALS, path=True, separate_ok=True, kind=K.COMPILATION_DIR),
        _cg("-ffile-compilation-dir", F.EQUALS, path=True, kind=K.COMPILATION_DIR),
        _cg("-fcoverage-compilation-dir", F.EQUALS, path=True),
        _cg("-fcrash-diagnostics-dir", F.EQUALS, path=True),
        _cg("-fprofile-dir", F.EQUALS, path=True),
        _cg("-fprofile-instr-generate", F.EQUALS, path=True),
        _cg("-fcs-profile-generate", F.EQUALS, path=True),
        _cg("-fprofile-generate", kind=K.PROFILE_ARCS),
        _cg("-fprofile-generate", F.EQUALS, path=True, kind=K.PROFILE_ARCS),
        _cg("-fcoverage-mapping", kind=K.CWD_SENSITIVE),
        # coverage notes (.gcno) and arc profiling
        _cg("--coverage", kind=K.COVERAGE),
        _cg("-coverage", kind=K.COVERAGE),
        _cg("-ftest-coverage", kind=K.TEST_COVERAGE),
        _cg("-fno-test-coverage", kind=K.TEST_COVERAGE_OFF),
        _cg("-fprofile-arcs", kind=K.PROFILE_ARCS),
        _cg("-fno-profile-arcs", kind=K.PROFILE_ARCS_OFF),
        _refuse("-fprofile-note", F.EQUALS, R.UNSUPPORTED_OPTION),
        # inputs beyond the source whose content changes the result
        _cg("-fprofile-use", kind=K.PROFILE_USE),
        _cg("-fprofile-use", F.EQUALS, path=True, kind=K.PROFILE_USE),
        _cg("-fauto-profile", kind=K.PROFILE_USE),
        _cg("-fauto-profile", F.EQUALS, path=True, kind=K.PROFILE_USE),
        _cg("-fbranch-probabilities", kind=K.PROFILE_USE),
        _cg("-fprofile-instr-use", F.EQUALS, path=True, kind=K.PROFILE_USE),
        _cg("-fprofile-sample-use", F.EQUALS, path=True, kind=K.PROFILE_USE),
        _cg("-fprofile-remapping-file", F.EQUALS, path=True, kind=K.INPUT_FILE),
        _cg("-fprofile-list", F.EQUALS, path=True, kind=K.INPUT_FILE),
        _cg("-fsanitize-blacklist", F.EQUALS, path=True, kind=K.INPUT_FILE),
        _cg("-fsanitize-ignorelist", F.EQUALS, path=True, kind=K.INPUT_FILE),
        _cg("-fsanitize-system-ignorelist", F.EQUALS, path=True, kind=K.INPUT_FILE),
        _cg("-fsanitize-coverage-allowlist", F.EQUALS, path=True, kind=K.INPUT_FILE),
        _cg("-fsanitize-coverage-ignorelist", F.EQUALS, path=True, kind=K.INPUT_FILE),
        _cg("-fsanitize-coverage-whitelist", F.EQUALS, path=True, kind=K.INPUT_FILE),
        _cg("-fsanitize-coverage-blacklist", F.EQUALS, path=True, kind=K.INPUT_FILE),
        _cg("-fxray-always-instrument", F.EQUALS, path=True, kind=K.INPUT_FILE),
        _cg("-fxray-never-instrument", F.EQUALS, path=True, kind=K.INPUT_FILE),
        _cg("-fxray-attr-list", F.EQUALS, path=True, kind=K.INPUT_FILE),
        # objects that embed the whole command line (clang records -I, -D, -o)
        _cg("-frecord-command-line", kind=K.RECORD_COMMAND_LINE),
        _cg("-frecord-gcc-switches", kind=K.RECORD_COMMAND_LINE),
        # clang's embedded bitcode carries (some of) cc1's command line
        _cg("-fembed-bitcode", kind=K.RECORD_COMMAND_LINE),
        _cg("-fembed-bitcode", F.EQUALS, kind=K.RECORD_COMMAND_LINE),
        _cg("-fembed-bitcode-marker", kind=K.RECORD_COMMAND_LINE),
        # the assembly -S writes then lists gcc's code generation switches
        # (no effect on an object: kept conservative for -c too)
        _cg("-fverbose-asm", kind=K.RECORD_COMMAND_LINE),
        _cg("-fno-verbose-asm"),
        # PCH use
        _cg("-fpch-preprocess", kind=K.PCH_PREPROCESS),
        # --- refused -f options -----------------------------------------------
        _refuse("-fsyntax-only", F.FLAG, R.SYNTAX_ONLY),
        _refuse("-fmodule", F.JOINED, R.MODULES),  # -fmodules, -fmodules-ts, -fmodule-file=...
        _refuse("-fcxx-modules", F.FLAG, R.MODULES),
        _refuse("-fimplicit-module", F.JOINED, R.MODULES),
        _refuse("-fprebuilt-module", F.JOINED, R.MODULES),
        _refuse("-fprebuilt-implicit-modules", F.FLAG, R.MODULES),
        _refuse("-fbuiltin-module-map", F.FLAG, R.MODULES),
        _refuse("--precompile", F.FLAG, R.MODULES),
        _refuse("-fdump-", F.JOINED, R.EXTRA_OUTPUT),
        _cg("-fdump-noaddr"),
        _cg("-fdump-unnumbered"),
        _cg("-fdump-unnumbered-links"),
        _cg("-fdump-passes"),
        _refuse("-fstack-usage", F.FLAG, R.EXTRA_OUTPUT),
        _refuse("-fcallgraph-info", F.JOINED, R.EXTRA_OUTPUT),
        _refuse("-aux-info", F.JOINED_OR_SEPARATE, R.EXTRA_OUTPUT),
        _cg("-fopt-info", F.JOINED, kind=K.OPT_INFO),
        _refuse("-fsave-optimization-record", F.JOINED, R.EXTRA_OUTPUT),
        _refuse("-foptimization-record-file", F.EQUALS, R.EXTRA_OUTPUT),
        _refuse("-ftime-trace", F.JOINED, R.EXTRA_OUTPUT),
        _refuse("-fproc-stat-report", F.JOINED, R.EXTRA_OUTPUT),
        _refuse("-index-store-path", F.SEPARATE, R.EXTRA_OUTPUT),
        _refuse("-fltrans-output-list", F.EQUALS, R.EXTRA_OUTPUT),
        _refuse("-fcompare-debug", F.JOINED, R.UNSUPPORTED_OPTION),
        _refuse("-fpreprocessed", F.FLAG, R.PREPROCESSED_INPUT),
        _refuse("-fplugin", F.EQUALS, R.COMPILER_PLUGIN),
        _refuse("-fpass-plugin", F.EQUALS, R.COMPILER_PLUGIN),
        _refuse("-save-temps", F.FLAG, R.SAVE_TEMPS),
        _refuse("-save-temps", F.EQUALS, R.SAVE_TEMPS),
        _refuse("--save-temps", F.FLAG, R.SAVE_TEMPS),
        _refuse("-save-stats", F.JOINED, R.EXTRA_OUTPUT),
        # -dumpbase & co. rename auxiliary outputs (.dwo, .gcno); -d<letters>
        # are dumps or -E modifiers.
        _refuse("-dumpbase", F.SEPARATE, R.UNSUPPORTED_OPTION),
        _refuse("-dumpbase-ext", F.SEPARATE, R.UNSUPPORTED_OPTION),
        _refuse("-dumpdir", F.SEPARATE, R.UNSUPPORTED_OPTION),
        _refuse("-d", F.JOINED, R.UNSUPPORTED_OPTION),
        # a different toolchain than the one probed
        _refuse("-B", F.JOINED_OR_SEPARATE, R.TOOLCHAIN_OVERRIDE),
        _refuse("-specs", F.EQUALS, R.TOOLCHAIN_OVERRIDE, separate_ok=True),
        _refuse("-wrapper", F.SEPARATE, R.TOOLCHAIN_OVERRIDE),
        _refuse("-resource-dir", F.EQUALS, R.TOOLCHAIN_OVERRIDE, separate_ok=True),
        _refuse("-ccc-", F.JOINED, R.TOOLCHAIN_OVERRIDE),
        _refuse("-Xarch_", F.JOINED, R.UNSUPPORTED_OPTION),
        _refuse("-Xcuda-", F.JOINED, R.UNSUPPORTED_OPTION),
        _refuse("-Xopenmp-target", F.JOINED, R.UNSUPPORTED_OPTION),
        _refuse("-Xanalyzer", F.SEPARATE, R.UNSUPPORTED_OPTION),
        # --- under the generic prefixes, found by tools/audit_gnu_options.py ---
        # (each reads or writes a file, or takes a separate value, so the
        # generic -f/-m/-g rows must not take it)
        # inputs whose content changes the result
        _cg("-fprofile-instr-use", kind=K.PROFILE_USE),  # clang: default.profdata here
        _refuse("-fprofile-sample-use", F.FLAG, R.PROFILE_USE),  # no file named
        _cg("-fembed-offload-object", F.EQUALS, path=True, kind=K.INPUT_FILE),
        _cg("-frewrite-map-file", F.EQUALS, path=True, kind=K.INPUT_FILE),
        _cg("-fsanitize-system-blacklist", F.EQUALS, path=True, kind=K.INPUT_FILE),
        _refuse("-fbasic-block-sections", F.EQUALS, R.UNSUPPORTED_OPTION),  # list=<file> reads a file
        _refuse("-fbuild-session-file", F.EQUALS, R.MODULES),  # a file's modification time
        _refuse("-fthinlto-index", F.EQUALS, R.UNSUPPORTED_OPTION),
        _refuse("-fself-test", F.EQUALS, R.UNSUPPORTED_OPTION),
        _refuse("-fplugin-arg-", F.JOINED, R.COMPILER_PLUGIN),
        # files written beside the object, or a path the object embeds
        _refuse("-fthin-link-bitcode", F.EQUALS, R.EXTRA_OUTPUT),
        _refuse("-fvtv-counts", F.FLAG, R.EXTRA_OUTPUT),  # vtv_count_data.log
        _refuse("-fvtv-debug", F.FLAG, R.EXTRA_OUTPUT),  # vtv_set_ptr_data.log
        _refuse("-fhip-dump-offload-linker-script", F.FLAG, R.EXTRA_OUTPUT),
        _refuse("-gen-", F.JOINED, R.EXTRA_OUTPUT),  # -gen-decls, -gen-cdb-fragment-path DIR, -gen-reproducer
        _refuse("-module-", F.JOINED, R.MODULES),  # -module-dependency-dir DIR, -module-file-info
        _cg("-fmemory-profile", F.EQUALS, path=True),  # the runtime's output directory
        # measurements printed anew by every run
        _refuse("-ftime-report", F.JOINED, R.COMPILER_REPORT),
        _refuse("-fmem-report", F.JOINED, R.COMPILER_REPORT),
        _refuse("-fpre-ipa-mem-report", F.FLAG, R.COMPILER_REPORT),
        _refuse("-fpost-ipa-mem-report", F.FLAG, R.COMPILER_REPORT),
        _refuse("-flto-report", F.JOINED, R.COMPILER_REPORT),
        _refuse("-fstats", F.FLAG, R.COMPILER_REPORT),
        # change the form of the key's -E run (line markers, macro expansion)
        _refuse("-fuse-line-directives", F.FLAG, R.UNSUPPORTED_OPTION),
        _refuse("-fdebug-cpp", F.FLAG, R.UNSUPPORTED_OPTION),
        _refuse("-fdirectives-only", F.FLAG, R.UNSUPPORTED_OPTION),
        _refuse("-frewrite-includes", F.FLAG, R.UNSUPPORTED_OPTION),
        _refuse("-frewrite-imports", F.FLAG, R.UNSUPPORTED_OPTION),
        # other languages, offloading, modules, PCH builds
        _refuse("-fpre-include", F.EQUALS, R.UNSUPPORTED_OPTION),
        _refuse("-frecord-marker", F.EQUALS, R.UNSUPPORTED_OPTION),
        _refuse("-fbootclasspath", F.EQUALS, R.UNSUPPORTED_OPTION),
        _refuse("-fclasspath", F.EQUALS, R.UNSUPPORTED_OPTION),
        _refuse("-fcompile-resource", F.EQUALS, R.UNSUPPORTED_OPTION),
        _refuse("-foutput-class-dir", F.EQUALS, R.UNSUPPORTED_OPTION),
        _refuse("-fintrinsic-modules-path", F.JOINED_OR_SEPARATE, R.MODULES),
        _refuse("-gnat", F.JOINED, R.UNSUPPORTED_OPTION),
        _refuse("-fopenmp-targets", F.EQUALS, R.UNSUPPORTED_OPTION),
        _refuse("-fsystem-module", F.FLAG, R.MODULES),
        _refuse("-gmodules", F.FLAG, R.MODULES),
        _refuse("-fpch-codegen", F.FLAG, R.PCH_CREATION),
        _refuse("-fpch-debuginfo", F.FLAG, R.PCH_CREATION),
        # a separate value (the generic rows would take it for an input)
        _cg("-meabi", F.SEPARATE),
        _cg("-mthread-model", F.SEPARATE),
        _cg("-ftrapv-handler", F.SEPARATE),
        _cg("-ftrapv-handler", F.EQUALS),
        _cg("-fxray-instruction-threshold", F.SEPARATE),
        _cg("-fxray-instruction-threshold", F.EQUALS),
        _link("-filelist", F.SEPARATE, path=True),
        _link("-framework", F.SEPARATE),
        # not -O with a value: a language switch for the sources
        _cg("-ObjC"),
        _cg("-ObjC++"),
        # --- linking (unused with -c, but both compilers warn about some) -----
        _link("-l", F.JOINED_OR_SEPARATE),
        _link("-L", F.JOINED_OR_SEPARATE, path=True),
        _link("-Wl,", F.JOINED, path=True, separator=","),
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
        OptionSpec("-pipe", F.FLAG, K.IGNORED),
    ],
    kinds=GnuKind,
    prefixes="-",
)

#: -Xclang arguments known to change nothing but code generation; anything
#: else passed straight to clang's cc1 could read or write files.
CODEGEN_ONLY_XCLANG = frozenset(
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

#: -mllvm options (the name before any ``=``) known to change nothing but
#: code generation. LLVM's options include ones that read a file (a sample
#: profile, a remarks or stats file, an ML model) or print timings, so
#: anything else is refused, never keyed as text.
CODEGEN_ONLY_MLLVM = frozenset(
    {
        # inlining, unrolling, vectorising
        "-inline-threshold",
        "-inlinehint-threshold",
        "-unroll-threshold",
        "-unroll-count",
        "-vectorize-loops",
        "-vectorize-slp",
        "-enable-loop-distribute",
        "-enable-unroll-and-jam",
        "-polly",
        "-polly-vectorizer",
        "-import-instr-limit",
        # code layout and instruction selection
        "-x86-asm-syntax",
        "-x86-branches-within-32B-boundaries",
        "-align-all-functions",
        "-align-all-blocks",
        "-align-all-nofallthru-blocks",
        "-enable-machine-outliner",
        "-enable-misched",
        "-enable-split-machine-functions",
        "-arm-global-merge",
        "-arm-use-movt",
        "-enable-global-merge",
        "-treat-scalable-fixed-error-as-warning",
        "-wasm-enable-sjlj",
        "-wasm-enable-eh",
        # sanitizer instrumentation as the Linux kernel tunes it
        "-asan-stack",
        "-asan-globals",
        "-asan-mapping-offset",
        "-asan-use-after-return",
        "-asan-instrumentation-with-call-threshold",
        "-asan-instrument-allocas",
        "-asan-kernel",
        "-hwasan-kernel",
        "-hwasan-recover",
        "-hwasan-mapping-offset",
        "-hwasan-instrument-stack",
        "-hwasan-use-short-granules",
        "-hwasan-instrument-with-calls",
        "-hwasan-globals",
        "-msan-check-access-address",
        "-tsan-distinguish-volatile",
        "-tsan-instrument-func-entry-exit",
    }
)


def unchecked_forward(kind: GnuKind, value: str | None) -> tuple[str, str] | None:
    """Why an argument passed straight to clang's cc1 (``-Xclang``) or to
    LLVM (``-mllvm``) makes a call uncacheable: (reason, message), or None
    when it is known to change nothing but code generation (then keyed as
    text). The one owner of this policy for every family that takes clang's
    options (gcc_clang, msvc's clang-cl, nvcc's host compiler)."""
    value = value or ""
    if kind is GnuKind.FRONTEND_FORWARD and value not in CODEGEN_ONLY_XCLANG:
        return R.UNSUPPORTED_XCLANG, f"-Xclang {value} goes to clang's cc1 unchecked"
    if kind is GnuKind.BACKEND_FORWARD and value.partition("=")[0] not in CODEGEN_ONLY_MLLVM:
        return R.UNSUPPORTED_MLLVM, f"-mllvm {value} goes to LLVM unchecked (it may read a file or print timings)"
    return None


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


def debug_option_enables(option: str) -> bool | None:
    """What a ``-g`` option does to debug information: True turns it on,
    False off (``-g0``), None only modifies it (``-gz``, ``-gsplit-dwarf``...)."""
    if option == "-g0":
        return False
    if option in DEBUG_MODIFIERS or option.startswith(("-gz", "-gno-", "-gsplit-dwarf")):
        return None
    return True
