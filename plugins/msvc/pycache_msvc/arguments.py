"""cl.exe and clang-cl command lines: the parser, and the policy behind it.

The option table is `pycache_msvc.options.CL_OPTIONS` (cl's options composed
with clang's); this module decides what each kind means for a cached
compile, one handler per kind of both enums, checked complete at import
(`exhaustive_handlers`). `parse` is pure: the only files it reads are
response files.

The command line is what the compiler itself sees: ``@file`` arguments
expanded (Windows quoting, UTF-8 or UTF-16 with a byte-order mark, nested
files relative to the working directory), then the ``CL`` variable's
options in front and ``_CL_``'s at the end (each option's first ``#`` read
as ``=``, as cl and clang-cl do), then -- clang-cl -- the ``/clang:``
values, parsed with the GNU table and appended.

How each argument enters the key (see `dependencies` for the rest):

- code generation and diagnostics options (``/O2``, ``/EHsc``, ``/W4``,
  ``/std:c++17``, ``/MD``, ``-Wno-x``, ``/clang:-O3``) are key arguments,
  as written; those whose value names a path go to ``path_arguments``,
  made portable by the key hooks;
- preprocessor options (``/D``, ``/U``, ``/I``, ``/FI``, ``/external:I``)
  are not key arguments in preprocessor mode -- their whole effect is in
  the preprocessed text -- but direct mode keys them, and so does every
  call whose object records its own command line (debug information);
- where files go (``/Fo``, ``/Fd``, ``/Fp``, ``-clang:-MF``) is not in the
  key; what they contain is.

Anything the tables do not know is refused ("unknown-option"), named.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from pycache_cfamily import reasons as R
from pycache_cfamily.gnu_options import GNU_OPTIONS, GnuKind, debug_option_enables, unchecked_forward
from pycache_cfamily.options import ParsedArg, exhaustive_handlers
from pycache_cfamily.responsefiles import ResponseFileError, expand_response_files, split_windows
from pycache_cfamily.texts import LLVM_DEPFILE
from pycache_core.api import Invocation, LinePaths, MakeDepfile, NotCacheable, NotCompilation, OutputSlot, ParsedInvocation, ParseOutcome

from . import paths
from . import reasons as MR
from .options import CL_OPTIONS, ClKind, table_for

K = ClKind
G = GnuKind

#: Variables the compiler adds to its own command line: ``CL`` in front,
#: ``_CL_`` at the end.
PREPENDED_ENV = "CL"
APPENDED_ENV = "_CL_"

#: clang-cl's colour, forced unless the call chooses (see `parse`).
FORCED_COLOUR = "-fcolor-diagnostics"

_SGR = rb"(?:\x1b\[[0-9;]*[mK])*"
#: Where this family's messages name paths, relocated between checkouts on
#: a hit: English /showIncludes notes (a localized cl.exe prefix is not
#: matched, so such notes keep a result with its checkout), MSVC-style
#: locations (``a.c(3,5): warning``, ``a.c(3): error``) and clang's include
#: chain (``In file included from a.c:1:``).
DIAGNOSTICS = LinePaths(
    patterns=(
        re.compile(rb"^Note: including file: *(?P<path>[^ \r\n][^\r\n]*?)\r?$", re.M),
        re.compile(rb"^" + _SGR + rb"(?P<path>[^\s\x1b(][^\x1b(\n]*?)\(\d+(?:,\d+)?\)" + _SGR + rb" ?:", re.M),
        re.compile(rb"^" + _SGR + rb"(?:In file included from |[ ]+from )" + _SGR + rb"(?P<path>[^\s\x1b][^\x1b\n]*?):\d", re.M),
    )
)

#: clang's driver rewrites its command line from this variable.
OVERRIDE_ENV = "CCC_OVERRIDE_OPTIONS"

_C_EXTENSIONS = frozenset({".c"})
_CXX_EXTENSIONS = frozenset({".cc", ".cp", ".cxx", ".cpp", ".c++"})
#: clang-cl on a POSIX host reads extensions with clang's case rules.
_CLANG_CXX_EXTENSIONS = _CXX_EXTENSIONS | {".C", ".CPP"}
_PREPROCESSED_EXTENSIONS = frozenset({".i", ".ii"})


@dataclass(frozen=True, slots=True, kw_only=True)
class DepFile:
    """The make-style dependency file ``/clang:-MD /clang:-MF file`` writes."""

    path: str
    explicit_target: bool  # -MT/-MQ given: the object path is not in the file


@dataclass(frozen=True, slots=True, kw_only=True)
class Pch:
    """A precompiled header the call creates (``/Yc``) or uses (``/Yu``)."""

    mode: str  # "create" or "use"
    header: str  # the /Yc or /Yu value: where the precompiled part ends
    path: str  # the .pch file


@dataclass(frozen=True, slots=True, kw_only=True)
class ClCall:
    """The plugin's parsed state, handed back to its later hooks
    (`ParsedInvocation.private`). Paths are as given (relative to the cwd)."""

    style: str
    source: str
    language: str
    object_path: str
    #: arguments for the compiler's ``/E`` run: everything that can define
    #: a macro or find a header, no outputs, no ``/showIncludes``
    preprocess_arguments: tuple[str, ...]
    #: preprocessor options in order, as given (direct mode keys them)
    preprocessor_arguments: tuple[str, ...]
    #: key arguments whose value is a path, to be made portable
    path_arguments: tuple[str, ...]
    include_dirs: tuple[str, ...]
    #: /external:I directories, then /imsvc ones (clang-cl searches them apart)
    external_dirs: tuple[str, ...]
    imsvc_dirs: tuple[str, ...]
    #: clang options that change the search list in ways not worked out here
    #: (-isystem, /clang:-I...): the list must come from the compiler itself
    other_search_options: bool
    #: variables named by /external:env:
    include_env: tuple[str, ...]
    #: %INCLUDE% and the compiler's own system directories are searched (no /X)
    default_includes: bool
    #: /vctoolsdir or /winsysroot: clang-cl ignores %INCLUDE%
    sdk_dirs: bool
    #: any of /winsysroot, /vctoolsdir, /winsdkdir...: clang-cl finds system headers itself
    sdk_options: bool
    #: files whose content changes the result (-fsanitize-ignorelist=...)
    input_files: tuple[str, ...]
    debug: bool
    #: the PDB cl.exe writes for /Zi or /ZI, when it is this object's own
    pdb: str | None
    #: why that PDB would be shared by several objects ("" = it is not)
    pdb_shared: str
    pch: Pch | None
    #: -Xclang -fno-pch-timestamp: a created .pch records no header times
    pch_timestamp_off: bool
    show_includes: bool
    #: the last /showIncludes is the plain one: stdout lists every header read
    lists_every_header: bool
    source_dependencies: str | None
    depfile: DepFile | None
    absolute_diagnostics: bool
    cwd_sensitive: bool
    record_command_line: bool
    #: the whole command line as the compiler reads it
    all_arguments: tuple[str, ...]
    #: why direct mode cannot be used ("" = it can)
    no_direct: str = ""


@dataclass(slots=True)
class _Walk:
    """What the walk over one command line has gathered (private to one
    `parse`; the handlers below fill it in)."""

    style: str
    sources: list[tuple[str, str | None]] = field(default_factory=list)
    all_language: str | None = None
    object_value: str | None = None
    key: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    cpp: list[str] = field(default_factory=list)
    pp: list[str] = field(default_factory=list)
    path_args: list[str] = field(default_factory=list)
    include_dirs: list[str] = field(default_factory=list)
    external_dirs: list[str] = field(default_factory=list)
    imsvc_dirs: list[str] = field(default_factory=list)
    other_search_options: bool = False
    include_env: list[str] = field(default_factory=list)
    default_includes: bool = True
    sdk_dirs: bool = False
    sdk_options: bool = False
    input_files: list[str] = field(default_factory=list)
    debug_format: str | None = None
    gnu_debug: bool = False
    pdb_value: str | None = None
    pch_create: str | None = None
    pch_use: str | None = None
    pch_file: str | None = None
    pch_off: bool = False
    pch_timestamp_off: bool = False
    show_includes: bool = False
    lists_every_header: bool = False
    source_dependencies: str | None = None
    clang_values: list[str] = field(default_factory=list)
    clang_tokens: list[str] = field(default_factory=list)
    dep_kind: str | None = None
    dep_file: str | None = None
    dep_targets: list[str] = field(default_factory=list)
    absolute_diagnostics: bool = False
    cwd_sensitive: bool = False
    record_command_line: bool = False
    colour: str | None = None
    arches: int = 0
    no_direct: str = ""


Refusal = NotCacheable | NotCompilation | None
#: A handler gets the walk, the parsed option and the tokens that spell it
#: on the command line (for a /clang: value, the /clang: arguments).
Handler = Callable[[_Walk, ParsedArg, tuple[str, ...]], Refusal]


def _refused(walk: _Walk, arg: ParsedArg, tokens: tuple[str, ...]) -> Refusal:
    given = " ".join(tokens)
    if arg.kind in (K.PREPROCESS_ONLY, G.PREPROCESS_ONLY):
        return NotCompilation(arg.spec.reason, f"{given} only preprocesses")
    if arg.kind in (K.QUERY, G.QUERY):
        return NotCompilation(arg.spec.reason, f"{given} asks the compiler about itself")
    return NotCacheable(arg.spec.reason, f"{given} is not cacheable ({arg.spec.reason})")


def _ignored(walk: _Walk, arg: ParsedArg, tokens: tuple[str, ...]) -> Refusal:
    walk.ignored.extend(tokens)
    return None


def _keyed(walk: _Walk, arg: ParsedArg, tokens: tuple[str, ...]) -> Refusal:
    """In the key (through ``path_arguments`` when the value names a path)
    and in the ``/E`` run (it may define macros: /MD, /EHsc, /std:, -m32)."""
    (walk.path_args if arg.spec.path else walk.key).extend(tokens)
    walk.cpp.extend(tokens)
    return None


def _preprocessor(walk: _Walk, arg: ParsedArg, tokens: tuple[str, ...]) -> Refusal:
    walk.pp.extend(tokens)
    walk.cpp.extend(tokens)
    return None


def _then(update: Callable[[_Walk, ParsedArg], Refusal | None], then: Handler = _keyed) -> Handler:
    """A handler that records what ``update`` notes, then treats the option like ``then``."""

    def handler(walk: _Walk, arg: ParsedArg, tokens: tuple[str, ...]) -> Refusal:
        refused = update(walk, arg)
        return refused if refused is not None else then(walk, arg, tokens)

    return handler


def _refuse_with(reason: str, detail: str) -> Handler:
    def handler(walk: _Walk, arg: ParsedArg, tokens: tuple[str, ...]) -> Refusal:
        return NotCacheable(reason, f"{' '.join(tokens)}: {detail}")

    return handler


def _key_only(walk: _Walk, arg: ParsedArg, tokens: tuple[str, ...]) -> Refusal:
    """In the key, not in the ``/E`` run (it changes no macro or header)."""
    walk.key.extend(tokens)
    return None


def _sets(**fields: bool) -> Callable[[_Walk, ParsedArg], Refusal]:
    """An update that records ``fields`` on the walk (/X: default_includes=False)."""

    def update(walk: _Walk, arg: ParsedArg) -> Refusal:
        for name, value in fields.items():
            setattr(walk, name, value)
        return None

    return update


def _colon_value(arg: ParsedArg) -> Refusal:
    # cl 2017+ reads /Fo:x as /Fo x; clang-cl 14 names a file ":x".
    if (arg.value or "").startswith(":"):
        return NotCacheable(
            R.UNSUPPORTED_OPTION, f"{arg.tokens[0]}: cl.exe reads '{arg.option}:' as '{arg.option}', clang-cl as a name starting with ':'"
        )
    return None


def _value_to(name: str, *, then: Handler = _ignored, colon: bool = False) -> Handler:
    """A handler that records the option's value in ``walk.<name>`` (added
    to it when it is a list, else the last one wins), then treats the
    option like ``then``. ``colon``: refuse cl's ``/Fo:`` spelling."""

    def handler(walk: _Walk, arg: ParsedArg, tokens: tuple[str, ...]) -> Refusal:
        refused = _colon_value(arg) if colon else None
        if refused is not None:
            return refused
        current = getattr(walk, name)
        if isinstance(current, list):
            current.append(arg.value or "")
        else:
            setattr(walk, name, arg.value or "")
        return then(walk, arg, tokens)

    return handler


# --- cl's own options -------------------------------------------------------------


def _source(walk: _Walk, arg: ParsedArg, tokens: tuple[str, ...]) -> Refusal:
    walk.sources.append((arg.value or "", "c" if arg.option.endswith("Tc") else "c++"))
    walk.cpp.extend(tokens)
    return None


def _language(walk: _Walk, arg: ParsedArg) -> Refusal:
    walk.all_language = "c" if arg.option.endswith("TC") else "c++"
    return None


def _system_include_dir(walk: _Walk, arg: ParsedArg) -> Refusal:
    (walk.imsvc_dirs if arg.option.endswith("imsvc") else walk.external_dirs).append(arg.value or "")
    return None


def _show_includes(walk: _Walk, arg: ParsedArg) -> Refusal:
    walk.show_includes = True
    walk.lists_every_header = not arg.option.endswith(":user")  # :user leaves system headers out
    return None


def _sdk_dir(walk: _Walk, arg: ParsedArg) -> Refusal:
    walk.sdk_options = True
    if arg.option[1:] in ("winsysroot", "vctoolsdir"):
        walk.sdk_dirs = True
    return None


def _debug_format(walk: _Walk, arg: ParsedArg) -> Refusal:
    walk.debug_format = arg.option[1:]
    return None


def _clang(walk: _Walk, arg: ParsedArg, tokens: tuple[str, ...]) -> Refusal:
    walk.clang_values.append(arg.value or "")
    walk.clang_tokens.append(tokens[0])
    return None


# --- clang's options (the - form, and /clang: values) ------------------------------


def _depfile(walk: _Walk, arg: ParsedArg, tokens: tuple[str, ...]) -> Refusal:
    walk.dep_kind = arg.option
    walk.key.extend(tokens)
    return None


def _depfile_target(walk: _Walk, arg: ParsedArg, tokens: tuple[str, ...]) -> Refusal:
    walk.dep_targets.append(arg.option)
    walk.path_args.extend(tokens)  # text written into the file: it may name a base directory
    return None


def _gnu_preprocessor(walk: _Walk, arg: ParsedArg) -> Refusal:
    if arg.option not in ("-D", "-U"):
        walk.other_search_options = True
    return None


def _preprocessor_forward(walk: _Walk, arg: ParsedArg, tokens: tuple[str, ...]) -> Refusal:
    if any(part.startswith("-M") for part in arg.values()):
        return NotCacheable(
            R.UNSUPPORTED_PREPROCESSOR_OPTION, f"{' '.join(tokens)}: dependency options passed to the preprocessor are not understood"
        )
    walk.no_direct = walk.no_direct or f"{' '.join(tokens)} is passed to the preprocessor unseen"
    return _preprocessor(walk, arg, tokens)


def _macro_include(walk: _Walk, arg: ParsedArg, tokens: tuple[str, ...]) -> Refusal:
    walk.no_direct = walk.no_direct or "-imacros files are not listed by /showIncludes"
    return _preprocessor(walk, arg, tokens)


def _gnu_debug(walk: _Walk, arg: ParsedArg) -> Refusal:
    enables = debug_option_enables(arg.tokens[0])
    if enables is not None:
        walk.gnu_debug = enables
    return None


def _arch(walk: _Walk, arg: ParsedArg) -> Refusal:
    walk.arches += 1
    if walk.arches > 1:
        return NotCacheable(R.MULTIPLE_ARCHITECTURES, "several -arch options build a universal object")
    return None


def _driver_mode(walk: _Walk, arg: ParsedArg) -> Refusal:
    if arg.value != "cl":
        return NotCacheable(R.UNSUPPORTED_OPTION, f"{arg.tokens[0]}: not cl's command-line syntax")
    return None


def _forwarded(walk: _Walk, arg: ParsedArg) -> Refusal:
    """``-Xclang``/``-mllvm``: keyed only when known to touch nothing but code generation."""
    refusal = unchecked_forward(arg.kind, arg.value)
    if refusal:
        return NotCacheable(*refusal)
    if arg.value == "-fno-pch-timestamp":
        walk.pch_timestamp_off = True
    return None


def _assembler_forward(walk: _Walk, arg: ParsedArg) -> Refusal:
    for part in arg.values():
        if part.startswith(("-a", "--MD", "-MD", "--listing")):
            return NotCacheable(R.EXTRA_OUTPUT, f"assembler option {part} writes another file")
    return None


def _colour(walk: _Walk, arg: ParsedArg, tokens: tuple[str, ...]) -> Refusal:
    option = arg.tokens[0]
    if option in ("-fno-diagnostics-color", "-fno-color-diagnostics"):
        walk.colour = "never"
    elif option in ("-fdiagnostics-color", "-fcolor-diagnostics"):
        walk.colour = "always"
    else:
        walk.colour = arg.value or "always"
    walk.key.extend(tokens)
    return None


def _opt_info(walk: _Walk, arg: ParsedArg) -> Refusal:
    if "=" in (arg.value or ""):
        return NotCacheable(R.EXTRA_OUTPUT, f"{arg.tokens[0]} writes a file")
    return None


#: One handler per kind of the composed table; checked complete at import.
_HANDLERS: dict = exhaustive_handlers(
    CL_OPTIONS,
    {
        K.COMPILE: _ignored,
        K.OBJECT: _value_to("object_value", colon=True),
        K.SOURCE: _source,
        K.LANGUAGE: _then(_language),
        K.MACRO: _preprocessor,
        K.INCLUDE_DIR: _value_to("include_dirs", then=_preprocessor),
        K.SYSTEM_INCLUDE_DIR: _then(_system_include_dir, _preprocessor),
        K.INCLUDE_ENV: _value_to("include_env", then=_preprocessor),
        K.NO_DEFAULT_INCLUDES: _then(_sets(default_includes=False), _preprocessor),
        K.SDK_DIR: _then(_sdk_dir, _preprocessor),
        K.FORCED_INCLUDE: _preprocessor,
        K.CODEGEN: _keyed,
        K.ABSOLUTE_DIAGNOSTICS: _then(_sets(absolute_diagnostics=True)),
        K.DEBUG_INFO: _then(_debug_format),
        K.PDB: _value_to("pdb_value", colon=True),
        K.PCH_CREATE: _value_to("pch_create", then=_key_only),
        K.PCH_USE: _value_to("pch_use", then=_key_only),
        K.PCH_FILE: _value_to("pch_file", colon=True),
        K.PCH_OFF: _then(_sets(pch_off=True), _key_only),
        # What /showIncludes prints is replayed from the entry, so the key
        # tells it apart; the /E run gets a /showIncludes of its own.
        K.SHOW_INCLUDES: _then(_show_includes, _key_only),
        K.SOURCE_DEPENDENCIES: _value_to("source_dependencies"),
        K.CLANG: _clang,
        K.RESPONSE_QUOTING: _ignored,  # applied when the response files were read
        K.IGNORED: _ignored,
        K.PREPROCESS_ONLY: _refused,
        K.QUERY: _refused,
        K.REFUSED: _refused,
        G.QUERY: _refused,
        G.PREPROCESS_ONLY: _refused,
        G.ASSEMBLY_ONLY: _refuse_with(R.ASSEMBLY_OUTPUT, "it writes assembly, not an object"),
        G.VERBOSE: lambda walk, arg, tokens: NotCacheable(arg.spec.reason, f"{' '.join(tokens)} prints the compiler's commands"),
        G.REFUSED: _refused,
        G.COMPILE: _ignored,
        G.OUTPUT: _refuse_with(R.UNSUPPORTED_OPTION, "name the object with /Fo"),
        G.LANGUAGE: _refuse_with(R.UNSUPPORTED_OPTION, "name the language with /TC, /TP, /Tc or /Tp"),
        G.DEPFILE: _depfile,
        G.DEPFILE_NAME: _value_to("dep_file"),
        G.DEPFILE_TARGET: _depfile_target,
        G.DEPFILE_FORMAT: _keyed,
        G.PREPROCESSOR: _then(_gnu_preprocessor, _preprocessor),
        G.FORCED_INCLUDE: _preprocessor,
        G.MACRO_INCLUDE: _macro_include,
        G.PCH_INCLUDE: _refuse_with(R.PCH_USE, "use /Yu with /Fp"),
        G.PREPROCESSOR_FORWARD: _preprocessor_forward,
        G.LINE_MARKERS_OFF: _ignored,
        G.IGNORED: _ignored,
        G.CODEGEN: _keyed,
        G.LINK: _keyed,
        G.DEBUG_INFO: _then(_gnu_debug),
        G.ARCH: _then(_arch),
        G.DRIVER_MODE: _then(_driver_mode),
        G.FRONTEND_FORWARD: _then(_forwarded),
        G.BACKEND_FORWARD: _then(_forwarded),
        G.ASSEMBLER_FORWARD: _then(_assembler_forward),
        G.DIAGNOSTICS_COLOUR: _colour,
        G.DEBUG_PREFIX_MAP: _keyed,
        G.COMPILATION_DIR: _keyed,
        G.COVERAGE: _refuse_with(R.UNSUPPORTED_OPTION, "gcov coverage notes are not supported with cl's syntax"),
        G.TEST_COVERAGE: _refuse_with(R.UNSUPPORTED_OPTION, "gcov coverage notes are not supported with cl's syntax"),
        G.TEST_COVERAGE_OFF: _keyed,
        G.PROFILE_ARCS: _refuse_with(R.UNSUPPORTED_OPTION, "gcov arc profiling is not supported with cl's syntax"),
        G.PROFILE_ARCS_OFF: _keyed,
        G.CWD_SENSITIVE: _then(_sets(cwd_sensitive=True)),
        G.PROFILE_USE: _refuse_with(R.PROFILE_USE, "profile files are not read into the key"),
        G.INPUT_FILE: _value_to("input_files", then=_keyed),
        G.RECORD_COMMAND_LINE: _then(_sets(record_command_line=True)),
        G.PCH_PREPROCESS: _keyed,
        G.OPT_INFO: _then(_opt_info),
    },
)


# --- the command line as the compiler reads it -------------------------------------


def environment_options(value: str) -> list[str]:
    """The options in ``CL`` or ``_CL_``: split with Windows quoting, the
    first ``#`` of each read as ``=`` (``/DNAME#1`` defines NAME=1)."""
    return [token.replace("#", "=", 1) for token in split_windows(value)]


def command_line(invocation: Invocation) -> tuple[str, ...] | NotCacheable:
    """``CL`` + the arguments with response files expanded + ``_CL_``."""
    style = "gnu" if "--rsp-quoting=posix" in invocation.arguments else "windows"
    try:
        expanded = expand_response_files(invocation.arguments, style=style, cwd=invocation.cwd).arguments
    except ResponseFileError as exc:
        return NotCacheable(R.RESPONSE_FILE, str(exc))
    front = environment_options(invocation.env.get(PREPENDED_ENV, ""))
    back = environment_options(invocation.env.get(APPENDED_ENV, ""))
    for name, options in ((PREPENDED_ENV, front), (APPENDED_ENV, back)):
        response = next((o for o in options if o.startswith("@")), None)
        if response is not None:
            return NotCacheable(R.RESPONSE_FILE, f"{name} names {response}: the compiler does not expand response files there")
    return (*front, *expanded, *back)


def is_clang_cl(invocation: Invocation) -> bool:
    """The call runs clang in cl mode (by its names; a renamed cl.exe would
    not be called clang). Only used for what is harmless to get wrong:
    forcing clang's diagnostics colour."""
    if any("clang" in os.path.basename(name).lower() for name in (invocation.invoked_as, os.fspath(invocation.compiler))):
        return True
    return "clang" in os.path.basename(os.path.realpath(invocation.compiler)).lower()  # a "cl" symlink to clang


def parse(invocation: Invocation, *, style: str = paths.HOST_STYLE) -> ParseOutcome:
    """Classify one cl or clang-cl call (see the module docstring). ``style``:
    the path rules of the machine the compiler runs on."""
    if invocation.env.get(OVERRIDE_ENV):
        return NotCacheable(R.TOOLCHAIN_OVERRIDE, f"{OVERRIDE_ENV} rewrites the command line")
    arguments = command_line(invocation)
    if isinstance(arguments, NotCacheable):
        return arguments
    table = table_for(style)
    parsed = table.parse(arguments)

    # 1. Calls that are no compilation at all win over everything else.
    inputs = [a for a in parsed if a.is_input]
    for arg in parsed:
        if arg.kind in (K.QUERY, G.QUERY, K.PREPROCESS_ONLY):
            return _refused(_Walk(style=style), arg, arg.tokens)
        if arg.kind is G.VERBOSE and not inputs:
            return NotCompilation(R.VERSION_PROBE, f"{arg.tokens[0]} without inputs prints the compiler's version")
    if not any(a.kind is K.COMPILE for a in parsed):
        if not inputs and not any(a.kind is K.SOURCE for a in parsed):
            return NotCompilation(R.NO_INPUT, "no input file")
        return NotCacheable(R.LINKING, "no /c: the call links")

    # 2. Walk the options in order; /clang: values follow, as clang-cl appends them.
    walk = _Walk(style=style)
    for arg in parsed:
        if arg.is_input:
            refused = _input(walk, arg.tokens[0])
        elif arg.is_unknown:
            refused = NotCacheable(R.UNKNOWN_OPTION, f"unknown option {arg.tokens[0]}: it might change the result")
        elif arg.missing_value:
            refused = NotCacheable(R.MISSING_ARGUMENT, f"{arg.tokens[0]} needs an argument")
        else:
            refused = _HANDLERS[arg.kind](walk, arg, arg.tokens)
        if refused is not None:
            return refused
    refused = _walk_clang_values(walk)
    if refused is not None:
        return refused
    return _finish(invocation, walk, arguments)


def _input(walk: _Walk, token: str) -> Refusal:
    # On a POSIX host an unmatched /token is a path to clang-cl; one that
    # names no C-family source and no directory is almost surely a cl
    # option this table does not know.
    if token.startswith("/") and "/" not in token[1:] and _extension_language(token, walk.style) is None:
        return NotCacheable(R.UNKNOWN_OPTION, f"unknown option {token}: it might change the result")
    walk.sources.append((token, None))
    walk.cpp.append(token)
    return None


def _walk_clang_values(walk: _Walk) -> Refusal:
    """The /clang: values, parsed together with clang's own table."""
    for arg in GNU_OPTIONS.parse(walk.clang_values):
        tokens = tuple(walk.clang_tokens[arg.index : arg.index + len(arg.tokens)])
        if arg.is_input:
            return NotCacheable(R.UNSUPPORTED_OPTION, f"{tokens[0]}: an input passed through /clang:")
        if arg.is_unknown:
            return NotCacheable(R.UNKNOWN_OPTION, f"unknown option {tokens[0]}: it might change the result")
        if arg.missing_value:
            return NotCacheable(R.MISSING_ARGUMENT, f"{tokens[0]} needs an argument")
        refused = _HANDLERS[arg.kind](walk, arg, tokens)
        if refused is not None:
            return refused
    return None


def _extension_language(source: str, style: str) -> str | None:
    name = paths.basename(source, style)
    dot = name.rfind(".")
    extension = name[dot:] if dot > 0 else ""
    if style == "windows":
        extension = extension.lower()
        return "c" if extension in _C_EXTENSIONS else "c++" if extension in _CXX_EXTENSIONS else None
    return "c" if extension in _C_EXTENSIONS else "c++" if extension in _CLANG_CXX_EXTENSIONS else None


def _finish(invocation: Invocation, walk: _Walk, arguments: tuple[str, ...]) -> ParseOutcome:
    """The outcome, once every option is known."""
    style = walk.style
    # 3. The one source, and what it is.
    if not walk.sources:
        return NotCompilation(R.NO_INPUT, "no input file")
    if len(walk.sources) > 1:
        return NotCacheable(R.MULTIPLE_SOURCES, f"several inputs: {walk.sources[0][0]} and {walk.sources[1][0]}")
    source, explicit = walk.sources[0]
    if source == "-":
        return NotCacheable(R.STDIN_INPUT, "the source is read from standard input")
    language = explicit or walk.all_language or _extension_language(source, style)
    if language is None:
        name = paths.basename(source, style)
        suffix = name[name.rfind(".") :] if "." in name else ""
        reason = R.PREPROCESSED_INPUT if suffix.lower() in _PREPROCESSED_EXTENSIONS else R.UNSUPPORTED_INPUT
        return NotCacheable(reason, f"input {source} is not a C or C++ source ({reason})")

    object_path = paths.cl_output_path(walk.object_value or "", source, ".obj", style)
    # clang-cl writes the object through a temporary file renamed into place
    # (a symbolic link there is replaced) and the dependency file through
    # the path (a link there is followed): checked with clang-cl 14.
    outputs: dict[str, OutputSlot] = {"object": OutputSlot(path=Path(object_path), through_links=False)}

    # 4. Dependency file (clang-cl: /clang:-MD /clang:-MF file).
    depfile: DepFile | None = None
    if walk.dep_kind is not None:
        if walk.dep_file is None:
            return NotCacheable(
                R.UNSUPPORTED_OPTION, f"{walk.dep_kind} without -MF: clang versions put the file in different places"
            )
        depfile = DepFile(path=walk.dep_file, explicit_target=bool(walk.dep_targets))
        # clang-cl writes it as clang does; the core relocates its paths (its
        # default target, the object, stays keyed: see dependencies.py).
        outputs["depfile"] = OutputSlot(path=Path(depfile.path), text=MakeDepfile(layouts=(LLVM_DEPFILE,)))
    elif walk.dep_file is not None or walk.dep_targets:
        return NotCacheable(R.UNSUPPORTED_OPTION, "-MF/-MT/-MQ without -MD or -MMD")

    # 5. Debug information: /Zi and /ZI write a PDB when cl.exe compiles.
    debug = walk.debug_format is not None or walk.gnu_debug
    pdb, pdb_shared = _pdb_of(walk, object_path, source)
    if pdb is not None:
        outputs["pdb"] = OutputSlot(path=Path(pdb), required=False)  # clang-cl writes none

    # 6. Precompiled headers.
    pch: Pch | None = None
    if not walk.pch_off and (walk.pch_create is not None or walk.pch_use is not None):
        pch_or_refusal = _pch_of(walk)
        if isinstance(pch_or_refusal, NotCacheable):
            return pch_or_refusal
        pch = pch_or_refusal
        if pch.mode == "create":
            outputs["pch"] = OutputSlot(path=Path(pch.path))

    if walk.source_dependencies is not None:
        if not walk.source_dependencies or paths.ends_with_separator(walk.source_dependencies, style):
            return NotCacheable(R.UNSUPPORTED_OPTION, "/sourceDependencies naming a directory")
        outputs["source-dependencies"] = OutputSlot(path=Path(walk.source_dependencies), required=False)

    # 7. Diagnostics colour (clang-cl): unless the call chose, always colour,
    # so one stored stderr serves terminals (as is) and pipes (stripped) --
    # except where the result records the command line (debug information,
    # a .pch): an added option would be in the object.
    key = list(walk.key)
    run_arguments = None
    colour = False
    records = debug or walk.record_command_line or (pch is not None and pch.mode == "create")
    if walk.colour is None and not records and is_clang_cl(invocation):
        run_arguments = (FORCED_COLOUR, *invocation.arguments)
        colour = True
        key.append(FORCED_COLOUR)

    call = ClCall(
        style=style,
        source=source,
        language=language,
        object_path=object_path,
        preprocess_arguments=tuple(walk.cpp),
        preprocessor_arguments=tuple(walk.pp),
        path_arguments=tuple(walk.path_args),
        include_dirs=tuple(walk.include_dirs),
        external_dirs=tuple(walk.external_dirs),
        imsvc_dirs=tuple(walk.imsvc_dirs),
        other_search_options=walk.other_search_options,
        include_env=tuple(walk.include_env),
        default_includes=walk.default_includes,
        sdk_dirs=walk.sdk_dirs,
        sdk_options=walk.sdk_options,
        input_files=tuple(walk.input_files),
        debug=debug,
        pdb=pdb,
        pdb_shared=pdb_shared,
        pch=pch,
        pch_timestamp_off=walk.pch_timestamp_off,
        show_includes=walk.show_includes,
        lists_every_header=walk.lists_every_header,
        source_dependencies=walk.source_dependencies,
        depfile=depfile,
        absolute_diagnostics=walk.absolute_diagnostics,
        cwd_sensitive=walk.cwd_sensitive,
        record_command_line=walk.record_command_line,
        all_arguments=(*arguments,),
        no_direct=walk.no_direct,
    )
    return ParsedInvocation(
        language=language,
        sources=(invocation.resolve(source),),
        outputs=outputs,
        key_arguments=tuple(key),
        ignored_arguments=tuple(walk.ignored),
        run_arguments=run_arguments,
        colour_diagnostics=colour,
        diagnostics=DIAGNOSTICS,
        private=call,
    )


def _pdb_of(walk: _Walk, object_path: str, source: str) -> tuple[str | None, str]:
    """The PDB cl.exe writes for this object, and why it would be shared
    ("" when it is the object's own: ``/Fd`` naming a file after the object)."""
    if walk.debug_format not in ("Zi", "ZI"):
        return None, ""
    style = walk.style
    value = walk.pdb_value
    if value is None:
        return None, "no /Fd: cl.exe writes vcNNN.pdb in the working directory, shared by every object"
    if not value or paths.ends_with_separator(value, style):
        return None, f"/Fd{value} names a directory: cl.exe writes vcNNN.pdb there, shared by every object"
    pdb = value if paths.has_extension(value, style) else value + ".pdb"
    own = paths.stem(object_path, style)
    named = paths.stem(pdb, style)
    if (named.lower() != own.lower()) if style == "windows" else (named != own):
        return None, f"/Fd{value} is not named after the object {object_path}: a PDB shared by several objects"
    return pdb, ""


def _pch_of(walk: _Walk) -> Pch | NotCacheable:
    if walk.pch_create is not None and walk.pch_use is not None:
        return NotCacheable(R.UNSUPPORTED_OPTION, "both /Yc and /Yu")
    mode, header = ("create", walk.pch_create) if walk.pch_create is not None else ("use", walk.pch_use)
    assert header is not None
    if not header:
        return NotCacheable(R.UNSUPPORTED_OPTION, f"/Y{'c' if mode == 'create' else 'u'} without a header name (#pragma hdrstop)")
    if not walk.pch_file:
        return NotCacheable(MR.PCH_WITHOUT_FP, f"/Y{'c' if mode == 'create' else 'u'}{header} without /Fp: cl.exe and clang-cl name the .pch differently")
    if paths.ends_with_separator(walk.pch_file, walk.style):
        return NotCacheable(R.UNSUPPORTED_OPTION, f"/Fp{walk.pch_file} names a directory")
    path = walk.pch_file if paths.has_extension(walk.pch_file, walk.style) else walk.pch_file + ".pch"
    return Pch(mode=mode, header=header, path=path)
