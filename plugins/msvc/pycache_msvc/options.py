"""cl.exe's options as a table, composed with clang's for clang-cl.

Facts, not policy: each row says how cl and clang-cl read an option and
what it does (a `ClKind`); `arguments` decides what each kind means for a
cached compile. Spellings are case-sensitive, as cl's are (``/C`` keeps
comments, ``/c`` compiles), and every cl row is spelt ``/x`` and ``-x``.

clang-cl also takes clang's own options in their ``-`` form (``-Xclang``,
``-fcolor-diagnostics``, ``-W...``, ``-m...``, ``-fsanitize=``): those rows
come from `pycache_cfamily.gnu_options.GNU_OPTIONS`, minus the spellings cl
claims with another meaning (``-MD`` is cl's runtime choice, not a
dependency file) and minus gcc's dependency-file options, which clang-cl
takes only through ``/clang:`` (its values are parsed with the whole GNU
table). An option neither table knows is refused by name; on a POSIX host
an unmatched ``/token`` is a path, as clang-cl reads it there.
"""

from __future__ import annotations

from functools import partial

from pycache_cfamily import reasons as R
from pycache_cfamily.gnu_options import GNU_OPTIONS
from pycache_cfamily.options import ArgForm, OptionKind, OptionSpec, OptionTable, with_prefixes

from .paths import HOST_STYLE

__all__ = ["CL_OPTIONS", "ClKind", "table_for"]

F = ArgForm


class ClKind(OptionKind):
    """What a cl option does, as far as a cache must tell apart."""

    #: ``/c``
    COMPILE = "compile"
    #: ``/Fo<file or dir/>``
    OBJECT = "object"
    #: ``/Tc file``, ``/Tp file``: the source, in that language
    SOURCE = "source"
    #: ``/TC``, ``/TP``: the language of every source
    LANGUAGE = "language"
    #: ``/D``, ``/U``, ``/u``
    MACRO = "macro"
    #: ``/I dir``
    INCLUDE_DIR = "include-dir"
    #: ``/external:I dir``, ``/imsvc dir``
    SYSTEM_INCLUDE_DIR = "system-include-dir"
    #: ``/external:env:VAR``: the directories listed in a variable
    INCLUDE_ENV = "include-env"
    #: ``/X``: no %INCLUDE% (nor clang-cl's own system directories)
    NO_DEFAULT_INCLUDES = "no-default-includes"
    #: ``/winsysroot``, ``/vctoolsdir``...: where clang-cl finds the system headers
    SDK_DIR = "sdk-dir"
    #: ``/FI file``
    FORCED_INCLUDE = "forced-include"
    #: ``/O2``, ``/EHsc``, ``/W4``, ``/std:c++17``, ``/MD``...: changes the object or the diagnostics
    CODEGEN = "codegen"
    #: ``/FC``, ``-fdiagnostics-absolute-paths``: messages name files by absolute path
    ABSOLUTE_DIAGNOSTICS = "absolute-diagnostics"
    #: ``/Z7``, ``/Zi``, ``/ZI``
    DEBUG_INFO = "debug-info"
    #: ``/Fd<file or dir/>``: the PDB ``/Zi`` writes
    PDB = "pdb"
    #: ``/Yc<header>``: create a precompiled header
    PCH_CREATE = "pch-create"
    #: ``/Yu<header>``: use one
    PCH_USE = "pch-use"
    #: ``/Fp<file>``: the .pch file
    PCH_FILE = "pch-file"
    #: ``/Y-``: ignore /Yc and /Yu
    PCH_OFF = "pch-off"
    #: ``/showIncludes``, ``/showIncludes:user``: the headers, printed as they are read
    SHOW_INCLUDES = "show-includes"
    #: ``/sourceDependencies FILE``: a JSON list of the inputs (cl 16.7+)
    SOURCE_DEPENDENCIES = "source-dependencies"
    #: ``/clang:<arg>``: one argument for clang's own parser (clang-cl)
    CLANG = "clang"
    #: ``--rsp-quoting=``: how clang reads response files (applied when expanding them)
    RESPONSE_QUOTING = "response-quoting"
    #: ``/MP``, ``/FS``, ``/errorReport:``: cannot change what one compile produces
    IGNORED = "ignored"
    #: ``/E``, ``/EP``, ``/P``: preprocess only (reason on the row)
    PREPROCESS_ONLY = "preprocess-only"
    #: ``/?``, ``/help`` (reason on the row)
    QUERY = "query"
    #: anything else a cache cannot reproduce (reason on the row)
    REFUSED = "refused"

    @property
    def refuses(self) -> bool:
        return self in (ClKind.PREPROCESS_ONLY, ClKind.QUERY, ClKind.REFUSED)


K = ClKind


def _row(spelling: str, form: ArgForm = F.FLAG, kind: ClKind = K.CODEGEN, **kw) -> OptionSpec:
    return OptionSpec(spelling, form, kind, **kw)


def _refuse(spelling: str, form: ArgForm, reason: str, *, kind: ClKind = K.REFUSED) -> OptionSpec:
    return OptionSpec(spelling, form, kind, reason=reason)


_joined = partial(_row, form=F.JOINED)

_CL_ROWS = [
    # --- the call ---------------------------------------------------------------
    _row("/c", kind=K.COMPILE),
    _row("/Fo", F.JOINED, K.OBJECT, path=True),
    _row("/Tc", F.JOINED_OR_SEPARATE, K.SOURCE, path=True),
    _row("/Tp", F.JOINED_OR_SEPARATE, K.SOURCE, path=True),
    _row("/TC", kind=K.LANGUAGE),
    _row("/TP", kind=K.LANGUAGE),
    _refuse("/o", F.JOINED_OR_SEPARATE, R.UNSUPPORTED_OPTION),  # deprecated; cl and clang-cl differ
    _refuse("/Fe", F.JOINED, R.LINKING),
    _refuse("/link", F.FLAG, R.LINKING),
    _refuse("/LN", F.FLAG, R.UNSUPPORTED_OPTION),
    _refuse("/E", F.FLAG, R.PREPROCESS_ONLY, kind=K.PREPROCESS_ONLY),
    _refuse("/EP", F.FLAG, R.PREPROCESS_ONLY, kind=K.PREPROCESS_ONLY),
    _refuse("/P", F.FLAG, R.PREPROCESS_ONLY, kind=K.PREPROCESS_ONLY),
    _refuse("/?", F.FLAG, R.INFO_QUERY, kind=K.QUERY),
    _refuse("/help", F.FLAG, R.INFO_QUERY, kind=K.QUERY),
    _refuse("/Zs", F.FLAG, R.SYNTAX_ONLY),
    # --- the preprocessor -----------------------------------------------------------
    _row("/D", F.JOINED_OR_SEPARATE, K.MACRO),
    _row("/U", F.JOINED_OR_SEPARATE, K.MACRO),
    _row("/u", kind=K.MACRO),
    _row("/I", F.JOINED_OR_SEPARATE, K.INCLUDE_DIR, path=True),
    _row("/external:I", F.JOINED_OR_SEPARATE, K.SYSTEM_INCLUDE_DIR, path=True),
    _row("/imsvc", F.JOINED_OR_SEPARATE, K.SYSTEM_INCLUDE_DIR, path=True),
    _row("/external:env:", F.JOINED, K.INCLUDE_ENV),
    _row("/X", kind=K.NO_DEFAULT_INCLUDES),
    _row("/winsysroot", F.JOINED_OR_SEPARATE, K.SDK_DIR, path=True),
    _row("/vctoolsdir", F.JOINED_OR_SEPARATE, K.SDK_DIR, path=True),
    _row("/winsdkdir", F.JOINED_OR_SEPARATE, K.SDK_DIR, path=True),
    _row("/diasdkdir", F.JOINED_OR_SEPARATE, K.SDK_DIR, path=True),
    _row("/vctoolsversion", F.JOINED_OR_SEPARATE, K.SDK_DIR),
    _row("/winsdkversion", F.JOINED_OR_SEPARATE, K.SDK_DIR),
    _row("/FI", F.JOINED_OR_SEPARATE, K.FORCED_INCLUDE, path=True),
    # --- code generation ----------------------------------------------------------
    _joined("/O"),  # /O1 /O2 /Od /Ox /Ob2 /Oi- /O2y- ...
    _joined("/G"),  # /GR- /Gy /GS- /GL /Gw /Gd /Gs4096 /Gregcall ...
    _refuse("/Gm", F.FLAG, R.EXTRA_OUTPUT),  # minimal rebuild writes an .idb
    _row("/Gm-"),
    _joined("/arch:"),
    _joined("/EH"),
    _joined("/std:"),
    _joined("/fp:"),
    _joined("/favor:"),
    _joined("/guard:"),
    _joined("/volatile:"),
    _joined("/vd"),
    *(_row(f"/vm{c}") for c in "bgmsv"),
    _joined("/Zc:"),
    _joined("/Zp"),
    _row("/Zl"),
    _row("/Za"),
    _row("/Ze"),
    _row("/Zo"),
    _row("/Zo-"),
    _row("/Zf"),
    _joined("/ZH:"),
    _joined("/Zm"),
    _refuse("/ZW", F.JOINED, R.UNSUPPORTED_OPTION),
    _refuse("/clr", F.JOINED, R.UNSUPPORTED_OPTION),
    _row("/J"),
    *(_row(f"/{rt}") for rt in ("MD", "MT", "MDd", "MTd", "LD", "LDd")),
    _joined("/RTC"),
    _row("/sdl"),
    _row("/sdl-"),
    _row("/bigobj"),
    _row("/await"),
    _joined("/await:"),
    _row("/openmp"),
    _row("/openmp-"),
    _joined("/openmp:"),
    _row("/permissive"),
    _row("/permissive-"),
    _row("/utf-8"),
    _joined("/source-charset:"),
    _joined("/execution-charset:"),
    _row("/validate-charset"),
    _row("/validate-charset-"),
    _row("/Brepro"),
    _row("/Brepro-"),
    _row("/Bt"),
    _row("/Bt+"),
    _row("/hotpatch"),
    _row("/kernel"),
    _row("/kernel-"),
    _joined("/constexpr:"),
    _joined("/Q"),  # /Qspectre /Qpar /Qvec- /QIntel-jcc-erratum ...
    _joined("/tune:"),
    _row("/homeparams"),
    _row("/fsanitize=address"),
    _row("/fsanitize-address-use-after-return"),
    _row("/fno-sanitize-address-vcasan-lib"),
    _joined("/experimental:"),
    _row("/F", F.SEPARATE),  # stack size
    _row("/nologo"),
    _row("/showFilenames"),
    _row("/showFilenames-"),
    _row("/C"),  # comments in /E output; with /c only a warning
    _joined("/Yl"),
    _row("/sourceDependencies-"),
    _row("/analyze-"),
    # --- diagnostics -------------------------------------------------------------------
    *(_row(f"/W{level}") for level in "01234"),
    _row("/Wall"),
    _row("/WX"),
    _row("/WX-"),
    _joined("/Wv:"),
    _row("/WL"),
    _row("/w"),
    _joined("/w"),  # /w14996: warning 4996 at level 1
    _joined("/wd"),
    _joined("/we"),
    _joined("/wo"),
    _joined("/diagnostics:"),
    _joined("/external:W"),
    _row("/external:anglebrackets"),
    _row("/external:templates-"),
    _row("/FC", kind=K.ABSOLUTE_DIAGNOSTICS),
    _row("/errorReport:", F.JOINED, K.IGNORED),
    _row("/MP", F.JOINED, K.IGNORED),
    _row("/FS", kind=K.IGNORED),
    # --- debug information, precompiled headers, listings -------------------------
    _row("/Z7", kind=K.DEBUG_INFO),
    _row("/Zi", kind=K.DEBUG_INFO),
    _row("/ZI", kind=K.DEBUG_INFO),
    _row("/Fd", F.JOINED, K.PDB, path=True),
    _row("/Yc", F.JOINED, K.PCH_CREATE, path=True),
    _row("/Yu", F.JOINED, K.PCH_USE, path=True),
    _row("/Fp", F.JOINED, K.PCH_FILE, path=True),
    _row("/Y-", kind=K.PCH_OFF),
    _row("/showIncludes", kind=K.SHOW_INCLUDES),
    _row("/showIncludes:user", kind=K.SHOW_INCLUDES),
    _row("/sourceDependencies", F.SEPARATE, K.SOURCE_DEPENDENCIES, path=True),
    _row("/clang:", F.JOINED, K.CLANG),
    _refuse("/FA", F.JOINED, R.ASSEMBLY_OUTPUT),
    _refuse("/Fa", F.JOINED, R.ASSEMBLY_OUTPUT),
    _refuse("/Fi", F.JOINED, R.EXTRA_OUTPUT),
    _refuse("/Fr", F.JOINED, R.EXTRA_OUTPUT),
    _refuse("/FR", F.JOINED, R.EXTRA_OUTPUT),
    _refuse("/Fx", F.FLAG, R.EXTRA_OUTPUT),
    _refuse("/Fm", F.JOINED, R.LINKING),
    _refuse("/doc", F.JOINED, R.EXTRA_OUTPUT),
    _refuse("/analyze", F.JOINED, R.EXTRA_OUTPUT),
    _refuse("/d1", F.JOINED, R.UNSUPPORTED_OPTION),  # compiler-internal switches
    _refuse("/d2", F.JOINED, R.UNSUPPORTED_OPTION),
    # --- C++ modules --------------------------------------------------------------------
    _refuse("/interface", F.FLAG, R.MODULES),
    _refuse("/internalPartition", F.FLAG, R.MODULES),
    _refuse("/exportHeader", F.FLAG, R.MODULES),
    _refuse("/translateInclude", F.FLAG, R.MODULES),
    _refuse("/experimental:module", F.FLAG, R.MODULES),
    _refuse("/headerUnit", F.JOINED_OR_SEPARATE, R.MODULES),
    _refuse("/headerName:", F.JOINED_OR_SEPARATE, R.MODULES),
    _refuse("/reference", F.JOINED_OR_SEPARATE, R.MODULES),
    _refuse("/ifcOutput", F.JOINED_OR_SEPARATE, R.MODULES),
    _refuse("/ifcSearchDir", F.JOINED_OR_SEPARATE, R.MODULES),
    _refuse("/sourceDependencies:directives", F.SEPARATE, R.MODULES),
]

#: clang options clang-cl takes in their ``-`` form that need more than the
#: GNU table says.
_CLANG_CL_ROWS = [
    _row("-fdiagnostics-absolute-paths", kind=K.ABSOLUTE_DIAGNOSTICS),
    _row("--rsp-quoting", F.EQUALS, K.RESPONSE_QUOTING),
]

#: gcc's dependency-file options: clang-cl takes them only through /clang:.
_GNU_DEPENDENCY_OPTIONS = ("-M", "-MM", "-MMD", "-MF", "-MQ", "-MG", "-MJ")


def _build(path_prefixes: str) -> OptionTable:
    own = OptionTable([*with_prefixes(_CL_ROWS, "/-"), *_CLANG_CL_ROWS], kinds=ClKind, prefixes="/-", path_prefixes=path_prefixes)
    # Every spelling cl claims in its -x form means cl's option to clang-cl.
    claimed = {spec.spelling for spec in own.specs}
    clashes = sorted({spec.spelling for spec in GNU_OPTIONS.specs if spec.spelling in claimed})
    clang = GNU_OPTIONS.without(*clashes, *_GNU_DEPENDENCY_OPTIONS)
    return OptionTable.compose(own, clang, path_prefixes=path_prefixes)


#: On a POSIX host clang-cl reads an unmatched ``/token`` as a path.
_POSIX_TABLE = _build(path_prefixes="/")
#: On Windows an unmatched ``/token`` is an unknown option.
_WINDOWS_TABLE = _build(path_prefixes="")

def table_for(style: str) -> OptionTable:
    """The option table by the path rules of a host ("posix" or "windows")."""
    return _WINDOWS_TABLE if style == "windows" else _POSIX_TABLE


#: The table for this machine.
CL_OPTIONS = table_for(HOST_STYLE)
