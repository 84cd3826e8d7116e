"""nvcc's command line as an option table (on `pycache_cfamily.options`).

Every nvcc option has a short and a long spelling (``-o``/``--output-file``)
and takes a value as ``-o x``, ``-o=x``, ``--output-file x`` or
``--output-file=x``; the one-letter ones (``-I -D -U -L -l -O -t``) also
joined (``-Iinc``; ``-I=inc`` means ``inc``). `NVCC_OPTIONS` has a row for
each spelling of each option nvcc 13 documents (plus ``-Xcudafe``), with an
`NvccKind` saying what it does; the parser in `pycache_nvcc.arguments`
dispatches on the kind.

What nvcc forwards to the host compiler is gcc's (or clang's) command line:
``-Xcompiler`` values are parsed with `pycache_cfamily.gnu_options.GNU_OPTIONS`,
and with ``-forward-unknown-to-host-compiler`` the call itself is parsed
with `FORWARDING_OPTIONS`, nvcc's table composed with gcc's rows that nvcc
does not spell itself.
"""

from __future__ import annotations

from pycache_cfamily import reasons as R
from pycache_cfamily.gnu_options import GNU_OPTIONS
from pycache_cfamily.options import ArgForm, OptionKind, OptionSpec, OptionTable

__all__ = ["FORWARDING_OPTIONS", "NVCC_OPTIONS", "NvccKind", "PTXAS_OPTIONS", "CUDAFE_OPTIONS", "spellings"]

F = ArgForm

# nvcc's own not-cacheable reasons (stable identifiers, counted in stats).
RUN = "run"
KEEP = "keep-intermediates"
CLEAN = "clean-targets"
JOBSERVER = "jobserver"
NATIVE_ARCH = "native-architecture"
OPTIONS_FILE = "options-file"
ESCAPED_ARGUMENT = "escaped-argument"
HOST_ONLY = "host-only-source"
HOST_COMPILER_MISSING = "host-compiler-missing"
HOST_COMPILER_MISMATCH = "host-compiler-mismatch"
TOOLKIT_MISMATCH = "toolkit-mismatch"
DRYRUN_FAILED = "dryrun-failed"
UNKNOWN_STEP = "unknown-step"
#: cicc copies the source files' own text into the PTX: comments, which no
#: preprocessed output (the key) shows.
SOURCE_IN_PTX = "source-in-ptx"


class NvccKind(OptionKind):
    """What an nvcc option does, as far as a cache must tell apart."""

    # --- which phase the call stops after ---------------------------------------
    COMPILE = "compile"  # -c
    DEVICE_C = "device-c"  # -dc: -c with relocatable device code
    DEVICE_W = "device-w"  # -dw: -c without
    PTX = "ptx"
    CUBIN = "cubin"
    FATBIN = "fatbin"
    OPTIX_IR = "optix-ir"
    #: -V, -h, -dryrun, -arch-ls: asks nvcc, compiles nothing (reason on the row)
    QUERY = "query"
    #: -E, -M, -MM: stops after preprocessing
    PREPROCESS_ONLY = "preprocess-only"
    #: -link, -dlink, -run, -keep, -v...: a result a cache cannot reproduce (reason on the row)
    REFUSED = "refused"
    # --- files -------------------------------------------------------------------
    OUTPUT = "output"  # -o
    OPTIONS_FILE = "options-file"  # -optf: more options, from files
    LANGUAGE = "language"  # -x
    HOST_COMPILER = "host-compiler"  # -ccbin
    DEPFILE = "depfile"  # -MD, -MMD
    DEPFILE_NAME = "depfile-name"  # -MF
    DEPFILE_TARGET = "depfile-target"  # -MT
    DEPFILE_FORMAT = "depfile-format"  # -MP
    # --- what the result depends on ----------------------------------------------
    PREPROCESSOR = "preprocessor"  # -D -U -I -isystem -include
    RELOCATABLE = "relocatable"  # -rdc true|false
    ARCHITECTURE = "architecture"  # -arch -code -gencode
    CODEGEN = "codegen"  # -O, -G, -lineinfo, -std, -use_fast_math, -Werror, -diag-suppress...
    HOST_FORWARD = "host-forward"  # -Xcompiler a,b
    PTXAS_FORWARD = "ptxas-forward"  # -Xptxas a,b
    CUDAFE_FORWARD = "cudafe-forward"  # -Xcudafe a,b
    FORWARD_UNKNOWN = "forward-unknown"  # -forward-unknown-to-host-compiler
    LINK = "link"  # -l -L -Xlinker -Xnvlink -cudart...: linking only (ignored by -c)
    THREADS = "threads"  # -t N: how many archs at once; the result is the same

    @property
    def refuses(self) -> bool:
        return self in (NvccKind.QUERY, NvccKind.PREPROCESS_ONLY, NvccKind.REFUSED)


K = NvccKind
_JOINED_LETTERS = ("-I", "-D", "-U", "-L", "-l", "-O", "-t")


def _both(short: str, long: str | None, kind: NvccKind, *, value: bool, reason: str = "", path: bool = False) -> list[OptionSpec]:
    """Rows for both spellings of one option."""
    rows: list[OptionSpec] = []
    for spelling in (short, long):
        if spelling is None:
            continue
        if not value:
            rows.append(OptionSpec(spelling, F.FLAG, kind, reason=reason))
        elif spelling in _JOINED_LETTERS:
            rows.append(OptionSpec(spelling, F.JOINED_OR_SEPARATE, kind, reason=reason, path=path))
        else:
            rows.append(OptionSpec(spelling, F.EQUALS, kind, reason=reason, path=path, separate_ok=True))
    return rows


def _flag(short: str, long: str | None, kind: NvccKind = K.CODEGEN, reason: str = "") -> list[OptionSpec]:
    return _both(short, long, kind, value=False, reason=reason)


def _value(short: str, long: str | None, kind: NvccKind = K.CODEGEN, reason: str = "", path: bool = False) -> list[OptionSpec]:
    return _both(short, long, kind, value=True, reason=reason, path=path)


_ROWS: list[OptionSpec] = [
    # --- phases --------------------------------------------------------------------
    *_flag("-c", "--compile", K.COMPILE),
    *_flag("-dc", "--device-c", K.DEVICE_C),
    *_flag("-dw", "--device-w", K.DEVICE_W),
    *_flag("-ptx", "--ptx", K.PTX),
    *_flag("-cubin", "--cubin", K.CUBIN),
    *_flag("-fatbin", "--fatbin", K.FATBIN),
    *_flag("-optix-ir", "--optix-ir", K.OPTIX_IR),
    *_flag("-E", "--preprocess", K.PREPROCESS_ONLY, R.PREPROCESS_ONLY),
    *_flag("-M", "--generate-dependencies", K.PREPROCESS_ONLY, R.PREPROCESS_ONLY),
    *_flag("-MM", "--generate-nonsystem-dependencies", K.PREPROCESS_ONLY, R.PREPROCESS_ONLY),
    *_flag("-cuda", "--cuda", K.PREPROCESS_ONLY, R.PREPROCESS_ONLY),
    *_flag("-ltoir", "--ltoir", K.REFUSED, R.UNSUPPORTED_OPTION),
    *_flag("-dlink", "--device-link", K.REFUSED, R.LINKING),
    *_flag("-link", "--link", K.REFUSED, R.LINKING),
    *_flag("-lib", "--lib", K.REFUSED, R.LINKING),
    *_flag("-run", "--run", K.REFUSED, RUN),
    *_value("-run-args", "--run-args", K.REFUSED, RUN),
    *_flag("-V", "--version", K.QUERY, R.VERSION_PROBE),
    *_flag("-h", "--help", K.QUERY, R.INFO_QUERY),
    *_flag("-code-ls", "--list-gpu-code", K.QUERY, R.INFO_QUERY),
    *_flag("-arch-ls", "--list-gpu-arch", K.QUERY, R.INFO_QUERY),
    *_flag("-dryrun", "--dryrun", K.QUERY, R.DRY_RUN),
    *_flag("-clean", "--clean-targets", K.QUERY, CLEAN),
    *_flag("-v", "--verbose", K.REFUSED, R.VERBOSE),
    *_flag("-keep", "--keep", K.REFUSED, KEEP),
    *_value("-keep-dir", "--keep-dir", K.REFUSED, KEEP),
    *_flag("-save-temps", "--save-temps", K.REFUSED, R.SAVE_TEMPS),
    *_value("-time", "--time", K.REFUSED, R.EXTRA_OUTPUT),
    *_value("-fdevice-time-trace", "--fdevice-time-trace", K.REFUSED, R.EXTRA_OUTPUT),
    *_flag("-objtemp", "--objdir-as-tempdir", K.REFUSED, R.UNSUPPORTED_OPTION),
    *_value("-odir", "--output-directory", K.REFUSED, R.UNSUPPORTED_OPTION),
    *_value("-idp", "--input-drive-prefix", K.REFUSED, R.UNSUPPORTED_OPTION),
    *_value("-ddp", "--dependency-drive-prefix", K.REFUSED, R.UNSUPPORTED_OPTION),
    *_value("-dp", "--drive-prefix", K.REFUSED, R.UNSUPPORTED_OPTION),
    *_flag("-use-local-env", "--use-local-env", K.REFUSED, R.UNSUPPORTED_OPTION),
    *_flag("-force-cl-env-setup", "--force-cl-env-setup", K.REFUSED, R.UNSUPPORTED_OPTION),
    *_value("-qpp-config", "--qpp-config", K.REFUSED, R.UNSUPPORTED_OPTION),
    *_flag("-jobserver", "--jobserver", K.REFUSED, JOBSERVER),
    *_value("-ldir", "--libdevice-directory", K.REFUSED, R.TOOLCHAIN_OVERRIDE),
    *_value("-target-dir", "--target-directory", K.REFUSED, R.TOOLCHAIN_OVERRIDE),
    *_flag("-forward-unknown-to-host-linker", "--forward-unknown-to-host-linker", K.REFUSED, R.UNSUPPORTED_OPTION),
    *_flag("-forward-unknown-opts", "--forward-unknown-opts", K.REFUSED, R.UNSUPPORTED_OPTION),
    # --- files -----------------------------------------------------------------------
    *_value("-o", "--output-file", K.OUTPUT, path=True),
    *_value("-optf", "--options-file", K.OPTIONS_FILE, path=True),
    *_value("-x", "--x", K.LANGUAGE),
    *_value("-ccbin", "--compiler-bindir", K.HOST_COMPILER, path=True),
    *_flag("-MD", "--generate-dependencies-with-compile", K.DEPFILE),
    *_flag("-MMD", "--generate-nonsystem-dependencies-with-compile", K.DEPFILE),
    *_value("-MF", "--dependency-output", K.DEPFILE_NAME, path=True),
    *_value("-MT", "--dependency-target-name", K.DEPFILE_TARGET),
    *_flag("-MP", "--generate-dependency-targets", K.DEPFILE_FORMAT),
    # --- preprocessor ------------------------------------------------------------------
    *_value("-D", "--define-macro", K.PREPROCESSOR),
    *_value("-U", "--undefine-macro", K.PREPROCESSOR),
    *_value("-I", "--include-path", K.PREPROCESSOR, path=True),
    *_value("-isystem", "--system-include", K.PREPROCESSOR, path=True),
    *_value("-include", "--pre-include", K.PREPROCESSOR, path=True),
    # --- device code -----------------------------------------------------------------------
    *_value("-rdc", "--relocatable-device-code", K.RELOCATABLE),
    *_value("-arch", "--gpu-architecture", K.ARCHITECTURE),
    *_value("-code", "--gpu-code", K.ARCHITECTURE),
    *_value("-gencode", "--generate-code", K.ARCHITECTURE),
    *_value("-Xcompiler", "--compiler-options", K.HOST_FORWARD),
    *_value("-Xptxas", "--ptxas-options", K.PTXAS_FORWARD),
    *_value("-Xcudafe", None, K.CUDAFE_FORWARD),
    *_flag("-forward-unknown-to-host-compiler", "--forward-unknown-to-host-compiler", K.FORWARD_UNKNOWN),
    *_value("-t", "--threads", K.THREADS),
    # --- code generation and diagnostics -----------------------------------------------------
    *_flag("-pg", "--profile"),
    *_flag("-g", "--debug"),
    *_flag("-G", "--device-debug"),
    *_flag("-lineinfo", "--generate-line-info"),
    *_value("-opt-info", "--optimization-info"),
    *_value("-O", "--optimize"),
    *_value("-Ofc", "--Ofast-compile"),
    *_value("-dopt", "--dopt"),
    *_flag("-dlto", "--dlink-time-opt"),
    *_flag("-lto", "--lto"),
    *_flag("-gen-opt-lto", "--gen-opt-lto"),
    *_value("-ftemplate-backtrace-limit", "--ftemplate-backtrace-limit"),
    *_value("-ftemplate-depth", "--ftemplate-depth"),
    *_flag("-noeh", "--no-exceptions"),
    *_value("-std", "--std"),
    *_flag("-nohdinitlist", "--no-host-device-initializer-list"),
    *_flag("-nohdmoveforward", "--no-host-device-move-forward"),
    *_flag("-expt-relaxed-constexpr", "--expt-relaxed-constexpr"),
    *_flag("-extended-lambda", "--extended-lambda"),
    *_flag("-expt-extended-lambda", "--expt-extended-lambda"),
    *_value("-m", "--machine"),
    *_flag("-m64", "--m64"),
    *_value("-static-global-template-stub", "--static-global-template-stub"),
    *_value("-device-entity-has-hidden-visibility", "--device-entity-has-hidden-visibility"),
    *_flag("-allow-unsupported-compiler", "--allow-unsupported-compiler"),
    *_flag("-noprof", "--dont-use-profile"),
    *_value("-split-compile", "--split-compile"),
    *_value("-split-compile-extended", "--split-compile-extended"),
    *_flag("-fdevice-syntax-only", "--fdevice-syntax-only"),
    *_value("-e", "--entries"),
    *_value("-maxrregcount", "--maxrregcount"),
    *_flag("-use_fast_math", "--use_fast_math"),
    *_value("-ftz", "--ftz"),
    *_value("-prec-div", "--prec-div"),
    *_value("-prec-sqrt", "--prec-sqrt"),
    *_value("-fmad", "--fmad"),
    *_flag("-extra-device-vectorization", "--extra-device-vectorization"),
    *_value("-default-stream", "--default-stream"),
    *_flag("-w", "--disable-warnings"),
    *_flag("-keep-device-functions", "--keep-device-functions"),
    *_flag("-src-in-ptx", "--source-in-ptx", K.REFUSED, SOURCE_IN_PTX),
    *_flag("-restrict", "--restrict"),
    *_flag("-Wreorder", "--Wreorder"),
    *_flag("-Wdefault-stream-launch", "--Wdefault-stream-launch"),
    *_flag("-Wmissing-launch-bounds", "--Wmissing-launch-bounds"),
    *_flag("-Wext-lambda-captures-this", "--Wext-lambda-captures-this"),
    *_flag("-Wno-deprecated-declarations", "--Wno-deprecated-declarations"),
    *_flag("-Wno-deprecated-gpu-targets", "--Wno-deprecated-gpu-targets"),
    *_value("-Werror", "--Werror"),
    *_flag("-res-usage", "--resource-usage"),
    *_flag("-ewp", "--extensible-whole-program"),
    *_flag("-no-compress", "--no-compress"),
    *_value("-compress-mode", "--compress-mode"),
    *_flag("-astoolspatch", "--compile-as-tools-patch"),
    *_flag("-err-no", "--display-error-number"),
    *_flag("-no-err-no", "--no-display-error-number"),
    *_value("-diag-error", "--diag-error"),
    *_value("-diag-suppress", "--diag-suppress"),
    *_value("-diag-warn", "--diag-warn"),
    *_value("-brief-diag", "--brief-diagnostics"),
    *_value("-jtd", "--jump-table-density"),
    *_flag("-reloc-ptx", "--relocatable-ptx"),
    *_value("-device-stack-protector", "--device-stack-protector"),
    *_value("-frandom-seed", "--frandom-seed"),
    *_value("-sanitize", "--sanitize"),
    # --- linking only (nvcc ignores them with -c) ------------------------------------------------
    *_value("-l", "--library", K.LINK),
    *_value("-L", "--library-path", K.LINK, path=True),
    *_value("-Xlinker", "--linker-options", K.LINK),
    *_value("-Xarchive", "--archive-options", K.LINK),
    *_value("-Xnvlink", "--nvlink-options", K.LINK),
    *_value("-arbin", "--archiver-binary", K.LINK, path=True),
    *_value("-cudart", "--cudart", K.LINK),
    *_value("-cudadevrt", "--cudadevrt", K.LINK),
    *_flag("-shared", "--shared", K.LINK),
    *_flag("-nodlink", "--no-device-link", K.LINK),
    *_flag("-r", "--relocatable-link", K.LINK),
    *_value("-hls", "--host-linker-script", K.LINK),
    *_flag("-aug-hls", "--augment-host-linker-script", K.LINK),
    *_flag("--no-align-double", None, K.LINK),
]

NVCC_OPTIONS = OptionTable(_ROWS, kinds=NvccKind)


def spellings(table: OptionTable) -> set[str]:
    return {spec.spelling for spec in table.specs}


# With -forward-unknown-to-host-compiler an option nvcc does not know goes
# to the host compiler: the call is gcc's command line under nvcc's.
_GNU_FORWARDED = GNU_OPTIONS.without(*sorted(spellings(NVCC_OPTIONS) & spellings(GNU_OPTIONS)))
FORWARDING_OPTIONS = OptionTable.compose(NVCC_OPTIONS, _GNU_FORWARDED)


# --- what -Xptxas and -Xcudafe may pass ---------------------------------------------------


class ToolKind(OptionKind):
    """An option of ptxas or cudafe++ passed through nvcc."""

    CODEGEN = "codegen"
    REFUSED = "refused"

    @property
    def refuses(self) -> bool:
        return self is ToolKind.REFUSED


def _tool(spelling: str, form: ArgForm = F.FLAG) -> OptionSpec:
    return OptionSpec(spelling, form, ToolKind.CODEGEN, separate_ok=form is F.EQUALS)


#: ptxas options that only change the cubin or the diagnostics. Anything
#: else (options that read or write files) is refused as unknown.
PTXAS_OPTIONS = OptionTable(
    [
        _tool("-v"), _tool("--verbose"),
        _tool("-O", F.JOINED), _tool("--opt-level", F.EQUALS),
        _tool("-g"), _tool("--device-debug"), _tool("-lineinfo"), _tool("--generate-line-info"),
        _tool("--warn-on-spills"), _tool("-warn-spills"),
        _tool("--warn-on-local-memory-usage"), _tool("-warn-lmem-usage"),
        _tool("--warn-on-double-precision-use"), _tool("-warn-double-usage"),
        _tool("--maxrregcount", F.EQUALS), _tool("-maxrregcount", F.EQUALS),
        _tool("--def-load-cache", F.EQUALS), _tool("-dlcm", F.EQUALS),
        _tool("--def-store-cache", F.EQUALS), _tool("-dscm", F.EQUALS),
        _tool("--allow-expensive-optimizations", F.EQUALS), _tool("-allow-expensive-optimizations", F.EQUALS),
        _tool("--disable-optimizer-constants"), _tool("-disable-optimizer-consts"),
        _tool("--fmad", F.EQUALS), _tool("-fmad", F.EQUALS),
        _tool("--disable-warnings"), _tool("-w"),
        _tool("--Werror"), _tool("-Werror"),
        _tool("--suppress-stack-size-warning"), _tool("-suppress-stack-size-warning"),
        _tool("--suppress-double-demote-warning"), _tool("-suppress-double-demote-warning"),
        _tool("--return-at-end"), _tool("-ret-end"),
        _tool("--preserve-relocs"), _tool("-preserve-relocs"),
        _tool("--position-independent-code", F.EQUALS), _tool("-pic", F.EQUALS),
        _tool("--sp-bounds-check"), _tool("-sp-bounds-check"),
        _tool("--extensible-whole-program"), _tool("-ewp"),
        _tool("--device-stack-protector", F.EQUALS), _tool("-device-stack-protector", F.EQUALS),
        _tool("--Ofast-compile", F.EQUALS), _tool("-Ofc", F.EQUALS),
    ],
    kinds=ToolKind,
)

#: cudafe++ options that only change diagnostics.
CUDAFE_OPTIONS = OptionTable(
    [
        _tool("--diag_suppress", F.EQUALS), _tool("--diag-suppress", F.EQUALS),
        _tool("--diag_warning", F.EQUALS), _tool("--diag-warning", F.EQUALS),
        _tool("--diag_error", F.EQUALS), _tool("--diag-error", F.EQUALS),
        _tool("--display_error_number"), _tool("--no_display_error_number"),
        _tool("--brief_diagnostics"), _tool("--no_brief_diagnostics"),
        _tool("--Wreorder"), _tool("--Wno-deprecated-declarations"),
    ],
    kinds=ToolKind,
)
