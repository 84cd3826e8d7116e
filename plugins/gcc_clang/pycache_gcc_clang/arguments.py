"""gcc/clang command lines: the parser, and the policy behind it.

The option table is `pycache_cfamily.gnu_options.GNU_OPTIONS` (facts about
the GNU driver, shared with nvcc and msvc); this module decides what each
`GnuKind` means for a cached gcc/clang compile, one handler per kind,
checked at import to cover them all (`exhaustive_handlers`).

`parse` turns one call into a `ParsedInvocation` (with a `GccCall` as its
private state for the later hooks), a `NotCacheable` or a `NotCompilation`.
It is pure: the only files it reads are response files.

How each argument enters the cache key (see dependencies.py for the rest):

- code generation and diagnostics options (``-O2``, ``-Wall``, ``-g``,
  ``-std=``, ``-m*``, ``-f*``) are ``key_arguments``; those whose value is a
  path (``-fdebug-prefix-map=``, ``-L``) go to ``GccCall.path_arguments``
  instead, made portable by the key hooks (parsing has no relocator);
- preprocessor options (``-I``, ``-include``...) are *not* key arguments
  in preprocessor mode: their whole effect is in the preprocessed output,
  so ``-I inc`` and ``-Iinc`` share results. Direct mode keys them. Three
  kinds reach the result beyond that output and are keyed in both modes:
  macro definitions (``-D``/``-U``: ``-g3`` debug information records them,
  warnings name them), preprocessor flags gcc records in its debug
  information (``-C``, ``-P``, ``-trigraphs``, ``-undef``...), and whatever
  ``-Wp,``/``-Xpreprocessor`` pass on;
- dependency-file options that shape the file's content (``-MD``/``-MMD``,
  ``-MT``, ``-MQ``, ``-MP``, ``-MG``) are key arguments; where files go
  (``-o``, ``-MF``) is not: the dependency file is a `MakeDepfile` whose
  default target (the object) the core rewrites for the current call on a
  hit, and whose paths it relocates (`PYCACHE_BASEDIRS`), as it does for
  the diagnostics (`GNU_DIAGNOSTICS`).

Anything the table does not know is refused ("unknown-option"): a guess
that an option cannot change the result is how caches serve wrong objects.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from pycache_cfamily import reasons as R
from pycache_cfamily.environment import GNU_COMPILER_ENV, GNU_DEPENDENCY_ENV
from pycache_cfamily.gnu_options import GNU_OPTIONS, GnuKind, debug_option_enables, unchecked_forward
from pycache_cfamily.languages import is_cxx_driver, source_language
from pycache_cfamily.naming import default_dependency_path, default_object_path, replace_suffix
from pycache_cfamily.options import ParsedArg, exhaustive_handlers
from pycache_cfamily.responsefiles import ResponseFileError, expand_response_files
from pycache_cfamily.texts import GNU_DIAGNOSTICS, GNU_MKDEPS, LLVM_DEPFILE
from pycache_core.api import (
    Invocation,
    MakeDepfile,
    NotCacheable,
    NotCompilation,
    OutputSlot,
    ParsedInvocation,
    ParseOutcome,
)

from .embedding import PrefixMap, prefix_maps

K = GnuKind

#: The table this plugin parses with.
OPTIONS = GNU_OPTIONS

#: Variables a gcc or clang compile reads (each its own key component).
COMPILER_ENV = GNU_COMPILER_ENV

#: Variables that make the compiler append to a dependency file of its own.
DEPENDENCY_ENV = GNU_DEPENDENCY_ENV

FORCED_COLOUR = "-fdiagnostics-color=always"


@dataclass(frozen=True, slots=True, kw_only=True)
class DepFile:
    """How the call writes its dependency file."""

    path: str  # as the compiler will write it, relative to the cwd or absolute
    explicit_target: bool  # -MT/-MQ given: the object path is not in the file
    rewritten_target: bool  # the default target (-MD): rewritten for each call on a hit
    system_headers: bool = True  # -MD lists every header; -MMD leaves system headers out


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
    #: what decides the include search list: the preprocessor run's
    #: arguments without the source, -D/-U and forced includes (depend
    #: mode's ``-E -v`` probe, `pycache_gcc_clang.depend`)
    search_arguments: tuple[str, ...] = ()
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
    #: -fdebug-prefix-map, -ffile-prefix-map and -fmacro-prefix-map, in order
    prefix_maps: tuple[PrefixMap, ...]
    compilation_dir_set: bool
    test_coverage: bool
    profile_arcs: bool
    cwd_sensitive: bool
    record_command_line: bool
    all_arguments: tuple[str, ...]
    #: -D/-U as one argument each, in order (``-DX=1``, ``-UY``)
    macro_arguments: tuple[str, ...] = ()
    #: -imacros files: their macros reach the result, their text no marker
    macro_files: tuple[str, ...] = ()
    #: why direct mode cannot be used ("" = it can)
    no_direct: str = ""
    #: ``-S``: the output is the compiler's assembly, no assembler runs
    assembly: bool = False


@dataclass(slots=True)
class _Walk:
    """What the walk over one command line's options has gathered so far
    (private to one `parse`; the handlers below fill it in)."""

    cxx_driver: bool
    explicit_lang: str | None = None
    source: str | None = None
    source_lang_option: str | None = None
    trailing_language: list[str] = field(default_factory=list)
    output: str | None = None
    outputs_given: int = 0
    dep_kind: str | None = None  # "-MD" / "-MMD"
    dep_file: str | None = None
    dep_targets: list[str] = field(default_factory=list)
    wp_depfile: tuple[str, str] | None = None
    key: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    path_args: list[str] = field(default_factory=list)
    pp_args: list[str] = field(default_factory=list)
    cpp_command: list[str] = field(default_factory=list)
    search_command: list[str] = field(default_factory=list)
    input_files: list[str] = field(default_factory=list)
    profile_uses: list[str] = field(default_factory=list)
    include_files: list[str] = field(default_factory=list)
    pch_files: list[str] = field(default_factory=list)
    no_direct: str = ""
    debug: bool = False
    split_dwarf: bool = False
    compilation_dir: bool = False
    test_coverage: bool = False
    profile_arcs: bool = False
    cwd_sensitive: bool = False
    record_command_line: bool = False
    colour: str | None = None
    macro_args: list[str] = field(default_factory=list)
    macro_files: list[str] = field(default_factory=list)
    assembler_value_of: str | None = None  # an assembler option waiting for its value
    arches: int = 0
    assembly: bool = False  # -S (which wins over -c, as in gcc and clang)


Refusal = NotCacheable | NotCompilation | None


# --- what calls are no compilation, or not cacheable --------------------------------


def _query(arg: ParsedArg) -> NotCompilation:
    return NotCompilation(arg.spec.reason, f"{arg.tokens[0]} asks the compiler about itself")


def _preprocess_only(arg: ParsedArg) -> NotCompilation:
    return NotCompilation(arg.spec.reason, f"{arg.tokens[0]} only preprocesses")


def _on_verbose(walk: _Walk, arg: ParsedArg) -> Refusal:
    return NotCacheable(arg.spec.reason, f"{arg.tokens[0]} prints the compiler's commands")


def _on_refused(walk: _Walk, arg: ParsedArg) -> Refusal:
    return NotCacheable(arg.spec.reason, f"{arg.joined()} is not cacheable ({arg.spec.reason})")


# --- the call itself ------------------------------------------------------------------


def _on_compile(walk: _Walk, arg: ParsedArg) -> Refusal:
    walk.ignored.append("-c")
    return None


def _on_assembly(walk: _Walk, arg: ParsedArg) -> Refusal:
    # Keyed once, by `_finish`: -S and -c -S write the same file.
    walk.assembly = True
    walk.ignored.append(arg.tokens[0])
    return None


def _on_output(walk: _Walk, arg: ParsedArg) -> Refusal:
    walk.output = arg.value
    walk.outputs_given += 1
    walk.ignored.extend(arg.tokens)
    return None


def _on_language(walk: _Walk, arg: ParsedArg) -> Refusal:
    walk.explicit_lang = None if arg.value == "none" else arg.value
    walk.cpp_command.extend(arg.tokens)
    walk.search_command.extend(arg.tokens)
    if walk.source is not None:
        walk.trailing_language.extend(arg.tokens)
    return None


# --- dependency files -------------------------------------------------------------------


def _on_depfile(walk: _Walk, arg: ParsedArg) -> Refusal:
    walk.dep_kind = arg.option
    walk.key.append(arg.tokens[0])
    return None


def _on_depfile_name(walk: _Walk, arg: ParsedArg) -> Refusal:
    walk.dep_file = arg.value
    walk.ignored.extend(arg.tokens)
    return None


def _on_depfile_target(walk: _Walk, arg: ParsedArg) -> Refusal:
    # The target is text written into the dependency file; it may name a
    # path under a base directory, so keep it portable.
    walk.dep_targets.append(arg.option)
    walk.path_args.extend((arg.option, arg.value or ""))
    return None


def _on_depfile_format(walk: _Walk, arg: ParsedArg) -> Refusal:
    walk.key.append(arg.tokens[0])
    return None


# --- the preprocessor ---------------------------------------------------------------------


#: Preprocessor options that define or remove macros.
_MACRO_OPTIONS = frozenset({"-D", "-U"})
#: Preprocessor flags gcc records in DW_AT_producer (-nostdinc & co. only
#: change where headers are found, which the preprocessed text shows).
_RECORDED_FLAGS = frozenset({"-C", "-CC", "-trigraphs", "-undef", "-traditional", "-traditional-cpp"})


def _on_preprocessor(walk: _Walk, arg: ParsedArg, *, reads_file: bool = False) -> Refusal:
    walk.pp_args.extend(arg.tokens)
    walk.cpp_command.extend(arg.tokens)
    macro = arg.spec is not None and arg.spec.spelling in _MACRO_OPTIONS
    if not (macro or reads_file):
        walk.search_command.extend(arg.tokens)
    if macro:
        walk.macro_args.append(arg.joined())
    elif arg.spec is not None and arg.spec.spelling in _RECORDED_FLAGS:
        walk.key.extend(arg.tokens)
    return None


def _on_forced_include(walk: _Walk, arg: ParsedArg) -> Refusal:
    walk.include_files.append(arg.value or "")
    return _on_preprocessor(walk, arg, reads_file=True)


def _on_macro_include(walk: _Walk, arg: ParsedArg) -> Refusal:
    # Its macros count but neither it nor what it includes shows up in line
    # markers: a manifest would miss it, and only the argument can tell a
    # dependency file's list apart.
    walk.no_direct = walk.no_direct or "-imacros files are not visible in the preprocessed output"
    walk.path_args.extend(arg.tokens)
    walk.macro_files.append(arg.value or "")
    return _on_preprocessor(walk, arg, reads_file=True)


def _on_pch_include(walk: _Walk, arg: ParsedArg) -> Refusal:
    walk.pch_files.append(arg.value or "")
    walk.no_direct = walk.no_direct or "precompiled header in use"
    return _on_preprocessor(walk, arg, reads_file=True)


def _on_preprocessor_forward(walk: _Walk, arg: ParsedArg) -> Refusal:
    parts = arg.values()
    if len(parts) == 2 and parts[0] in ("-MD", "-MMD") and parts[1]:
        # The Linux kernel's -Wp,-MD,<file>: handled like -MD -MF <file>.
        if walk.wp_depfile is not None:
            return NotCacheable(R.MULTIPLE_DEPFILES, "several -Wp,-MD dependency files")
        walk.wp_depfile = (parts[0][1:], parts[1])
        walk.key.append(f"{arg.option}{parts[0]}")
        walk.ignored.append(arg.tokens[0])
        return None
    given = " ".join(arg.tokens)
    if any(p.startswith("-M") for p in parts):
        return NotCacheable(
            R.UNSUPPORTED_PREPROCESSOR_OPTION, f"{given}: dependency options passed to the preprocessor are not understood"
        )
    walk.no_direct = walk.no_direct or f"{given} is passed to the preprocessor unseen"
    # Keyed as given: what it defines or records (-Wp,-C) shows in no text.
    walk.path_args.extend(arg.tokens)
    return _on_preprocessor(walk, arg)


def _on_line_markers_off(walk: _Walk, arg: ParsedArg) -> Refusal:
    # The key's preprocessor run needs the markers, so it never gets -P;
    # the compile does, and gcc records it in DW_AT_producer.
    walk.key.extend(arg.tokens)
    return None


def _on_ignored(walk: _Walk, arg: ParsedArg) -> Refusal:
    walk.ignored.extend(arg.tokens)
    walk.cpp_command.extend(arg.tokens)
    walk.search_command.extend(arg.tokens)
    return None


# --- code generation, diagnostics, linking ------------------------------------------------


def _keyed(walk: _Walk, arg: ParsedArg) -> Refusal:
    """In the key (through ``path_arguments`` when the value names a path)
    and in the preprocessor run (it may define macros: -O2, -fPIC, -m*)."""
    if arg.spec.path:
        walk.path_args.extend(arg.tokens)
    else:
        walk.key.extend(arg.tokens)
    walk.cpp_command.extend(arg.tokens)
    walk.search_command.extend(arg.tokens)
    return None


def _keyed_after(update: Callable[[_Walk, ParsedArg], Refusal]) -> Callable[[_Walk, ParsedArg], Refusal]:
    """A handler that notes what ``update`` records, then keys the option."""

    def handler(walk: _Walk, arg: ParsedArg) -> Refusal:
        refused = update(walk, arg)
        return refused if refused is not None else _keyed(walk, arg)

    return handler


def _sets(**fields: bool) -> Callable[[_Walk, ParsedArg], Refusal]:
    """A handler that records ``fields`` on the walk (-ftest-coverage: test_coverage=True)."""

    def handler(walk: _Walk, arg: ParsedArg) -> Refusal:
        for name, value in fields.items():
            setattr(walk, name, value)
        return None

    return handler


def _debug_info(walk: _Walk, arg: ParsedArg) -> Refusal:
    option = arg.tokens[0]
    enables = debug_option_enables(option)
    if enables is not None:
        walk.debug = enables
    if option in ("-gsplit-dwarf", "-gsplit-dwarf=split"):
        walk.split_dwarf = True
    elif option in ("-gno-split-dwarf", "-gsplit-dwarf=single"):
        walk.split_dwarf = False
    if option in ("-grecord-command-line", "-grecord-gcc-switches", "-gcodeview"):
        # clang's DW_AT_producer / CodeView build info record the command line.
        walk.record_command_line = True
    elif option in ("-gno-record-command-line", "-gno-record-gcc-switches"):
        walk.record_command_line = False
    return None


def _arch(walk: _Walk, arg: ParsedArg) -> Refusal:
    walk.arches += 1
    if walk.arches > 1:
        return NotCacheable(R.MULTIPLE_ARCHITECTURES, "several -arch options build a universal object")
    return None


def _driver_mode(walk: _Walk, arg: ParsedArg) -> Refusal:
    if arg.value not in ("gcc", "g++"):
        return NotCacheable(R.UNSUPPORTED_OPTION, f"{arg.tokens[0]}: not the gcc command-line syntax")
    walk.cxx_driver = arg.value == "g++"
    return None


def _forwarded(walk: _Walk, arg: ParsedArg) -> Refusal:
    """``-Xclang``/``-mllvm``: keyed only when known to touch nothing but code generation."""
    refusal = unchecked_forward(arg.kind, arg.value)
    return NotCacheable(*refusal) if refusal else None


#: GNU as options whose value is the next argument.
_GAS_SEPARATE = frozenset({"-I", "--debug-prefix-map", "--defsym"})
#: GNU as options that print and may exit instead of assembling quietly.
_GAS_PRINTS = frozenset({"--version", "-V", "-v", "--help", "--target-help", "--dump-config", "--statistics"})


def _assembler_forward(walk: _Walk, arg: ParsedArg) -> Refusal:
    """What ``-Wa,a,b`` / ``-Xassembler a`` pass to the assembler (GNU as;
    clang's integrated assembler takes a subset): options are keyed, the
    ones that write files, read options or inputs from files, or print are
    refused; an option with a separate value takes the next part (for
    ``-Xassembler``, the next ``-Xassembler``)."""
    for part in arg.values():
        expecting, walk.assembler_value_of = walk.assembler_value_of, None
        if expecting is not None:
            continue  # -I's directory, a --defsym or prefix map: keyed with the option
        if part.startswith("@"):
            return NotCacheable(R.UNSUPPORTED_OPTION, f"assembler option {part} reads options from a file")
        if not part.startswith("-"):
            return NotCacheable(R.UNSUPPORTED_OPTION, f"assembler argument {part} names another input for the assembler")
        if part.startswith(("-a", "--MD", "-MD", "--listing")) or part == "-o":
            return NotCacheable(R.EXTRA_OUTPUT, f"assembler option {part} writes another file")
        if part in _GAS_PRINTS:
            return NotCacheable(R.UNSUPPORTED_OPTION, f"assembler option {part} prints instead of assembling quietly")
        if part in _GAS_SEPARATE:
            walk.assembler_value_of = part
        elif part.startswith(("-g", "--gdwarf", "--gen-debug", "--gstabs")):
            walk.debug = True
    return None


def _on_diagnostics_colour(walk: _Walk, arg: ParsedArg) -> Refusal:
    walk.colour = _colour_mode(arg)
    return None  # represented once, by the effective mode, after the walk


def _profile_use(walk: _Walk, arg: ParsedArg) -> Refusal:
    walk.profile_uses.append(arg.joined())
    return None


def _input_file(walk: _Walk, arg: ParsedArg) -> Refusal:
    walk.input_files.append(arg.value or "")
    return None


def _on_pch_preprocess(walk: _Walk, arg: ParsedArg) -> Refusal:
    walk.no_direct = walk.no_direct or "-fpch-preprocess"
    walk.key.append(arg.tokens[0])
    return None  # changes only -E output, which the key's run must not get


def _opt_info(walk: _Walk, arg: ParsedArg) -> Refusal:
    if "=" in (arg.value or ""):
        return NotCacheable(R.EXTRA_OUTPUT, f"{arg.tokens[0]} writes a file")
    return None


#: One handler per kind of GNU_OPTIONS; checked complete at import.
_HANDLERS = exhaustive_handlers(
    OPTIONS,
    {
        # QUERY and PREPROCESS_ONLY decide before the walk; kept for completeness.
        K.QUERY: lambda walk, arg: _query(arg),
        K.PREPROCESS_ONLY: lambda walk, arg: _preprocess_only(arg),
        K.ASSEMBLY_ONLY: _on_assembly,
        K.VERBOSE: _on_verbose,
        K.REFUSED: _on_refused,
        K.COMPILE: _on_compile,
        K.OUTPUT: _on_output,
        K.LANGUAGE: _on_language,
        K.DEPFILE: _on_depfile,
        K.DEPFILE_NAME: _on_depfile_name,
        K.DEPFILE_TARGET: _on_depfile_target,
        K.DEPFILE_FORMAT: _on_depfile_format,
        K.PREPROCESSOR: _on_preprocessor,
        K.FORCED_INCLUDE: _on_forced_include,
        K.MACRO_INCLUDE: _on_macro_include,
        K.PCH_INCLUDE: _on_pch_include,
        K.PREPROCESSOR_FORWARD: _on_preprocessor_forward,
        K.LINE_MARKERS_OFF: _on_line_markers_off,
        K.IGNORED: _on_ignored,
        K.CODEGEN: _keyed,
        K.LINK: _keyed,
        K.DEBUG_INFO: _keyed_after(_debug_info),
        K.ARCH: _keyed_after(_arch),
        K.DRIVER_MODE: _keyed_after(_driver_mode),
        K.FRONTEND_FORWARD: _keyed_after(_forwarded),
        K.BACKEND_FORWARD: _keyed_after(_forwarded),
        K.ASSEMBLER_FORWARD: _keyed_after(_assembler_forward),
        K.DIAGNOSTICS_COLOUR: _on_diagnostics_colour,
        K.DEBUG_PREFIX_MAP: _keyed,  # applied from path_arguments (embedding.prefix_maps)
        K.COMPILATION_DIR: _keyed_after(_sets(compilation_dir=True)),
        K.COVERAGE: _keyed_after(_sets(test_coverage=True, profile_arcs=True)),
        K.TEST_COVERAGE: _keyed_after(_sets(test_coverage=True)),
        K.TEST_COVERAGE_OFF: _keyed_after(_sets(test_coverage=False)),
        K.PROFILE_ARCS: _keyed_after(_sets(profile_arcs=True)),
        K.PROFILE_ARCS_OFF: _keyed_after(_sets(profile_arcs=False)),
        K.CWD_SENSITIVE: _keyed_after(_sets(cwd_sensitive=True)),
        K.PROFILE_USE: _keyed_after(_profile_use),
        K.INPUT_FILE: _keyed_after(_input_file),
        K.RECORD_COMMAND_LINE: _keyed_after(_sets(record_command_line=True)),
        K.PCH_PREPROCESS: _on_pch_preprocess,
        K.OPT_INFO: _keyed_after(_opt_info),
    },
)


def parse(invocation: Invocation) -> ParseOutcome:
    """Classify one gcc/clang call (see the module docstring)."""
    try:
        expanded = expand_response_files(invocation.arguments, style="gnu", cwd=invocation.cwd)
    except ResponseFileError as exc:
        return NotCacheable(R.RESPONSE_FILE, str(exc))
    arguments = expanded.arguments
    parsed = OPTIONS.parse(arguments)

    # 1. Calls that are no compilation at all win over everything else.
    inputs = [a for a in parsed if a.is_input]
    for arg in parsed:
        if arg.kind is K.QUERY:
            return _query(arg)
        if arg.kind is K.VERBOSE and not inputs:
            return NotCompilation(R.VERSION_PROBE, f"{arg.tokens[0]} without inputs prints the compiler's version")
    for arg in parsed:
        if arg.kind is K.PREPROCESS_ONLY:
            return _preprocess_only(arg)
    if not any(a.kind in (K.COMPILE, K.ASSEMBLY_ONLY) for a in parsed):
        if not inputs:
            return NotCompilation(R.NO_INPUT, "no input file")
        return NotCacheable(R.LINKING, "no -c: the call links")

    # 2. Walk the options in order.
    walk = _Walk(cxx_driver=is_cxx_driver(invocation.invoked_as, str(invocation.compiler)))
    for arg in parsed:
        if arg.is_input:
            if walk.source is not None:
                return NotCacheable(R.MULTIPLE_SOURCES, f"several inputs: {walk.source} and {arg.tokens[0]}")
            walk.source = arg.tokens[0]
            walk.source_lang_option = walk.explicit_lang
            walk.cpp_command.append(walk.source)
            continue
        if arg.spec is None:
            return NotCacheable(R.UNKNOWN_OPTION, f"unknown option {arg.tokens[0]}: it might change the result")
        if arg.missing_value:
            return NotCacheable(R.MISSING_ARGUMENT, f"{arg.tokens[0]} needs an argument")
        refused = _HANDLERS[arg.spec.kind](walk, arg)
        if refused is not None:
            return refused
    return _finish(invocation, walk, arguments)


def _finish(invocation: Invocation, walk: _Walk, arguments: tuple[str, ...]) -> ParseOutcome:
    """The outcome, once every option is known."""
    source, output = walk.source, walk.output
    key = walk.key

    # 3. The one input, and what it is.
    if source is None:
        return NotCompilation(R.NO_INPUT, "no input file")
    if source == "-":
        return NotCacheable(R.STDIN_INPUT, "the source is read from standard input")
    language, why = source_language(source, walk.source_lang_option, walk.cxx_driver)
    if language is None:
        return NotCacheable(why, f"input {source} is not a cacheable C-family source ({why})")
    if walk.outputs_given > 1:
        return NotCacheable(R.MULTIPLE_OUTPUTS, "-o given more than once")
    if output == "-":
        return NotCacheable(R.OUTPUT_TO_STDOUT, "-o - writes the object to standard output")
    for name in DEPENDENCY_ENV:
        if invocation.env.get(name):
            return NotCacheable(R.DEPENDENCIES_ENV, f"{name} is set: the compiler appends dependencies to a file of its own")
    if walk.dep_kind is not None and walk.wp_depfile is not None:
        return NotCacheable(R.MULTIPLE_DEPFILES, "both -MD/-MMD and -Wp,-MD write dependency files")
    if (walk.dep_file is not None or walk.dep_targets) and walk.dep_kind is None and walk.wp_depfile is None:
        # -MF/-MT without -MD/-MMD: gcc rejects or ignores them; not worth a guess.
        return NotCacheable(R.UNSUPPORTED_OPTION, "-MF/-MT/-MQ without -MD or -MMD")

    if walk.assembly and language == "assembler-with-cpp":
        return NotCacheable(R.ASSEMBLY_OUTPUT, "-S on an assembler source writes its preprocessed text to standard output")
    if walk.assembly and walk.split_dwarf:
        return NotCacheable(R.UNSUPPORTED_OPTION, "-gsplit-dwarf with -S: the split happens in the assembler, which -S does not run")
    # Without -o, -S writes NAME.s, yet a dependency file still names NAME.o
    # (gcc and clang alike).
    target = output if output is not None else default_object_path(source)
    object_path = output if output is not None else default_object_path(source, ".s" if walk.assembly else ".o")
    if walk.assembly:
        key.append("-S")
    key.extend(walk.trailing_language)

    depfile: DepFile | None = None
    if walk.dep_kind is not None:
        path = walk.dep_file if walk.dep_file is not None else default_dependency_path(output, source)
        explicit = bool(walk.dep_targets)
        depfile = DepFile(path=path, explicit_target=explicit, rewritten_target=not explicit,
                          system_headers=walk.dep_kind == "-MD")
    elif walk.wp_depfile is not None:
        # gcc names the target after the source here, clang after -o: the
        # object path is keyed either way.
        depfile = DepFile(path=walk.wp_depfile[1], explicit_target=False, rewritten_target=False,
                          system_headers=walk.wp_depfile[0] == "MD")
    # An output that is no regular file (/dev/null, a directory) or names the
    # source: the core refuses it for every family (pycache_core.pipeline.files).

    test_coverage = walk.test_coverage and language != "assembler-with-cpp"
    # The assembler (GNU as, clang's integrated one) replaces a link at the
    # object's path; dependency files and coverage notes are written through.
    outputs: dict[str, OutputSlot] = {"object": OutputSlot(path=Path(object_path), through_links=False)}
    if depfile is not None:
        named = {"object": target} if depfile.rewritten_target else {}
        text = MakeDepfile(layouts=(GNU_MKDEPS, LLVM_DEPFILE), outputs=named)
        outputs["depfile"] = OutputSlot(path=Path(depfile.path), text=text)
    if walk.split_dwarf:
        # gcc writes a .dwo for -gsplit-dwarf alone, clang only with -g too:
        # the outputs hook decides by the toolchain when -g is absent.
        outputs["dwo"] = OutputSlot(path=Path(replace_suffix(object_path, ".dwo")), required=walk.debug,
                                    through_links=False)
    if test_coverage:
        outputs["gcno"] = OutputSlot(path=Path(replace_suffix(object_path, ".gcno")))

    # 4. Diagnostics colour: unless the user chose, always colour, so that
    # one stored stderr serves terminals (as is) and pipes (stripped) --
    # except when the object records the command line: pycache never
    # changes what the compiler writes, so such a call runs as given and
    # its messages are plain (asking for colour, -fdiagnostics-color=always,
    # gives it, and the object records that as it would uncached).
    run_arguments = None
    colour_diagnostics = False
    if walk.record_command_line:
        key.append(f"-fdiagnostics-color={walk.colour or 'auto'}")
    elif walk.colour is None or walk.colour == "auto":
        run_arguments = (FORCED_COLOUR, *invocation.arguments)
        colour_diagnostics = True
        key.append(FORCED_COLOUR)
    else:
        key.append(f"-fdiagnostics-color={walk.colour}")

    call = GccCall(
        source=source,
        language=language,
        object_path=object_path,
        preprocess_arguments=("-E", *walk.cpp_command),
        preprocessor_arguments=tuple(walk.pp_args),
        search_arguments=tuple(walk.search_command),
        path_arguments=tuple(walk.path_args),
        input_files=tuple(walk.input_files),
        profile_uses=tuple(walk.profile_uses),
        include_files=tuple(walk.include_files),
        pch_files=tuple(walk.pch_files),
        depfile=depfile,
        debug=walk.debug,
        split_dwarf=walk.split_dwarf,
        prefix_maps=prefix_maps(walk.path_args),
        compilation_dir_set=walk.compilation_dir,
        test_coverage=test_coverage,
        profile_arcs=walk.profile_arcs,
        cwd_sensitive=walk.cwd_sensitive,
        record_command_line=walk.record_command_line,
        all_arguments=arguments,
        macro_arguments=tuple(walk.macro_args),
        macro_files=tuple(walk.macro_files),
        no_direct=walk.no_direct,
        assembly=walk.assembly,
    )
    return ParsedInvocation(
        language=language,
        sources=(invocation.resolve(source),),
        outputs=outputs,
        key_arguments=tuple(key),
        ignored_arguments=tuple(walk.ignored),
        run_arguments=run_arguments,
        colour_diagnostics=colour_diagnostics,
        diagnostics=GNU_DIAGNOSTICS,
        private=call,
    )


def _colour_mode(arg: ParsedArg) -> str:
    option = arg.tokens[0]
    if option in ("-fno-diagnostics-color", "-fno-color-diagnostics"):
        return "never"
    if option in ("-fdiagnostics-color", "-fcolor-diagnostics"):
        return "always"
    return arg.value or "always"
