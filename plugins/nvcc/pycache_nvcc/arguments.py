"""nvcc command lines: what a call compiles, and whether it can be cached.

`parse` turns one call into a `ParsedInvocation` (with an `NvccCall` as its
private state), a `NotCacheable` or a `NotCompilation`. It reads only
options files, never runs anything.

What enters the key from here: the whole effective command line (see
`pycache_nvcc.commandline`) less where outputs go (``-o``, ``-MF``) and
``-t`` (how many architectures compile at once; the result is the same).
nvcc's own plan of the call and the preprocessed text of every pass join it
in `pycache_nvcc.dependencies`.

Anything the table does not know is refused ("unknown-option"), and so is
anything passed to ptxas, cudafe++ or the host compiler that their tables
do not know: a guess that an option cannot change the result is how caches
serve wrong objects.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from pycache_cfamily import reasons as R
from pycache_cfamily.gnu_options import GNU_OPTIONS, GnuKind, unchecked_forward
from pycache_cfamily.naming import replace_suffix
from pycache_cfamily.options import OptionTable, ParsedArg, exhaustive_handlers
from pycache_core.api import Invocation, NotCacheable, NotCompilation, OutputSlot, ParsedInvocation, ParseOutcome

from . import options as O
from .commandline import CommandLineError, effective_arguments
from .options import CUDAFE_OPTIONS, FORWARDING_OPTIONS, NVCC_OPTIONS, PTXAS_OPTIONS, NvccKind

K = NvccKind

#: mode -> (output role, default output suffix)
MODES = {
    "compile": ("object", ".o"),
    "ptx": ("ptx", ".ptx"),
    "cubin": ("cubin", ".cubin"),
    "fatbin": ("fatbin", ".fatbin"),
    "optix-ir": ("optix-ir", ".optixir"),
}
_MODE_OF_KIND = {
    K.COMPILE: "compile",
    K.DEVICE_C: "compile",
    K.DEVICE_W: "compile",
    K.PTX: "ptx",
    K.CUBIN: "cubin",
    K.FATBIN: "fatbin",
    K.OPTIX_IR: "optix-ir",
}
#: Inputs nvcc compiles with device code; other C-family sources it hands
#: to the host compiler alone.
CUDA_SUFFIXES = frozenset({".cu"})
HOST_SUFFIXES = frozenset({".c", ".cc", ".cxx", ".cpp", ".c++", ".C", ".cp", ".CPP"})

#: gcc options nvcc's host compiler must not get through -Xcompiler: they
#: would write files of their own, stop early or change what the
#: preprocessed output looks like.
_HOST_REFUSED_KINDS = {
    GnuKind.OUTPUT: R.UNSUPPORTED_OPTION,
    GnuKind.COMPILE: R.UNSUPPORTED_OPTION,
    GnuKind.ASSEMBLY_ONLY: R.ASSEMBLY_OUTPUT,
    GnuKind.LANGUAGE: R.UNSUPPORTED_OPTION,
    GnuKind.DEPFILE: R.EXTRA_OUTPUT,
    GnuKind.DEPFILE_NAME: R.EXTRA_OUTPUT,
    GnuKind.DEPFILE_TARGET: R.EXTRA_OUTPUT,
    GnuKind.DEPFILE_FORMAT: R.EXTRA_OUTPUT,
    GnuKind.MACRO_INCLUDE: R.UNSUPPORTED_PREPROCESSOR_OPTION,
    GnuKind.PCH_INCLUDE: R.PCH_USE,
    GnuKind.LINE_MARKERS_OFF: R.UNSUPPORTED_PREPROCESSOR_OPTION,
    GnuKind.PCH_PREPROCESS: R.UNSUPPORTED_PREPROCESSOR_OPTION,
    GnuKind.ARCH: R.MULTIPLE_ARCHITECTURES,
    GnuKind.DRIVER_MODE: R.UNSUPPORTED_OPTION,
    GnuKind.COVERAGE: R.EXTRA_OUTPUT,
    GnuKind.TEST_COVERAGE: R.EXTRA_OUTPUT,
    GnuKind.PROFILE_USE: R.PROFILE_USE,
    GnuKind.INPUT_FILE: R.UNSUPPORTED_OPTION,
}


@dataclass(frozen=True, slots=True, kw_only=True)
class DepfileSpec:
    """The dependency file of ``-MD``/``-MMD``: where nvcc writes it, the
    target it names, whether system headers are listed (``-MD``) and empty
    rules follow (``-MP``)."""

    path: str
    target: str
    explicit_target: bool
    system: bool
    phony_targets: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class NvccCall:
    """The parser's reading of a call, for the later hooks.

    ``arguments``: the effective command line (environment flags and options
    files included); ``source``: the input as given; ``mode``: a key of
    `MODES`; ``ccbin``: the host compiler asked for (None: nvcc's default).
    """

    arguments: tuple[str, ...]
    source: str
    mode: str
    output: str
    depfile: DepfileSpec | None
    ccbin: str | None
    options_files: tuple[Path, ...]


def _escaped(value: str) -> bool:
    return "\\" in value or '"' in value


def _strip_equals(arg: ParsedArg) -> str:
    """``-I=inc`` is ``-I inc`` to nvcc."""
    value = arg.value or ""
    if arg.spec is not None and len(arg.tokens) == 1 and arg.spec.spelling in ("-I", "-D", "-U", "-L", "-l", "-O", "-t"):
        return value[1:] if value.startswith("=") else value
    return value


def _check_forwarded(values: str, table: OptionTable, what: str) -> NotCacheable | None:
    """Refuse a -Xptxas/-Xcudafe list with an option ``table`` does not know."""
    if _escaped(values):
        return NotCacheable(O.ESCAPED_ARGUMENT, f"{what} {values}: quotes and backslashes are not interpreted")
    for arg in table.parse(values.split(",")):
        if arg.spec is None:
            return NotCacheable(R.UNKNOWN_OPTION, f"{what} {arg.tokens[0]}: not known to change only the code")
        if arg.missing_value:
            return NotCacheable(R.MISSING_ARGUMENT, f"{what} {arg.tokens[0]} needs a value")
    return None


def _check_host_options(words: list[str], what: str) -> NotCacheable | None:
    """Refuse host compiler options (``-Xcompiler`` values, or options
    forwarded as unknown) that make the host compiler do what the cache
    cannot see."""
    for arg in GNU_OPTIONS.parse(words):
        if arg.is_input:
            return NotCacheable(R.UNSUPPORTED_INPUT, f"{what} {arg.tokens[0]}: an input for the host compiler")
        kind = arg.kind
        if kind is None:
            return NotCacheable(R.UNKNOWN_OPTION, f"{what} {arg.tokens[0]}: unknown host compiler option")
        if arg.missing_value:
            return NotCacheable(R.MISSING_ARGUMENT, f"{what} {arg.tokens[0]} needs a value")
        if kind.refuses:
            return NotCacheable(arg.spec.reason, f"{what} {arg.joined()}: {arg.spec.reason}")
        if kind in _HOST_REFUSED_KINDS:
            return NotCacheable(_HOST_REFUSED_KINDS[kind], f"{what} {arg.joined()} is not cacheable through nvcc")
        if kind is GnuKind.PREPROCESSOR_FORWARD and any(v.startswith("-M") for v in arg.values()):
            return NotCacheable(R.EXTRA_OUTPUT, f"{what} {arg.joined()} writes a dependency file")
        refusal = unchecked_forward(kind, arg.value)
        if refusal:
            return NotCacheable(refusal[0], f"{what} {refusal[1]}")
        if kind is GnuKind.ASSEMBLER_FORWARD and any(v.startswith(("-a", "--MD", "-MD", "--listing")) for v in arg.values()):
            return NotCacheable(R.EXTRA_OUTPUT, f"{what} {arg.joined()} makes the assembler write a file")
        if kind is GnuKind.OPT_INFO and "=" in (arg.value or ""):
            return NotCacheable(R.EXTRA_OUTPUT, f"{what} {arg.joined()} writes a file")
    return None


@dataclass
class _Walk:
    """What the walk over one command line has gathered (private to one
    `parse`; the handlers below fill it in)."""

    modes: set[str] = field(default_factory=set)
    language: str | None = None
    outputs: list[str] = field(default_factory=list)
    ccbin: str | None = None
    dep_kind: str | None = None  # "-MD" / "-MMD"
    dep_file: str | None = None
    dep_target: str | None = None
    phony: bool = False
    key: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)


Refusal = NotCacheable | None


def _keyed(walk: _Walk, arg: ParsedArg) -> Refusal:
    """The option shapes the result and nvcc reads it itself: into the key as given."""
    walk.key.extend(arg.tokens)
    return None


def _refused(walk: _Walk, arg: ParsedArg) -> Refusal:
    return NotCacheable(arg.spec.reason, f"{arg.joined()} is not cacheable ({arg.spec.reason})")


def _on_mode(walk: _Walk, arg: ParsedArg) -> Refusal:
    walk.modes.add(_MODE_OF_KIND[arg.kind])
    return _keyed(walk, arg)


def _on_output(walk: _Walk, arg: ParsedArg) -> Refusal:
    walk.outputs.append(_strip_equals(arg))
    walk.ignored.extend(arg.tokens)
    return None


def _on_ignored(walk: _Walk, arg: ParsedArg) -> Refusal:
    walk.ignored.extend(arg.tokens)
    return None


def _on_options_file(walk: _Walk, arg: ParsedArg) -> Refusal:
    return NotCacheable(O.OPTIONS_FILE, f"{arg.joined()} was not expanded")  # effective_arguments expands them all


def _on_language(walk: _Walk, arg: ParsedArg) -> Refusal:
    walk.language = _strip_equals(arg)
    return _keyed(walk, arg)


def _on_host_compiler(walk: _Walk, arg: ParsedArg) -> Refusal:
    value = _strip_equals(arg)
    if _escaped(value):
        return NotCacheable(O.ESCAPED_ARGUMENT, f"{arg.joined()}: quotes and backslashes are not interpreted")
    walk.ccbin = value
    return _keyed(walk, arg)


def _on_depfile(walk: _Walk, arg: ParsedArg) -> Refusal:
    walk.dep_kind = arg.spec.spelling
    return _keyed(walk, arg)


def _on_depfile_name(walk: _Walk, arg: ParsedArg) -> Refusal:
    walk.dep_file = _strip_equals(arg)
    walk.ignored.extend(arg.tokens)
    return None


def _on_depfile_target(walk: _Walk, arg: ParsedArg) -> Refusal:
    walk.dep_target = _strip_equals(arg)
    return _keyed(walk, arg)


def _on_depfile_format(walk: _Walk, arg: ParsedArg) -> Refusal:
    walk.phony = True
    return _keyed(walk, arg)


def _on_relocatable(walk: _Walk, arg: ParsedArg) -> Refusal:
    if _strip_equals(arg) not in ("true", "false"):
        return NotCacheable(R.UNSUPPORTED_OPTION, f"{arg.joined()}: nvcc takes true or false")
    return _keyed(walk, arg)


def _on_architecture(walk: _Walk, arg: ParsedArg) -> Refusal:
    if "native" in _strip_equals(arg).replace("=", ",").split(","):
        return NotCacheable(O.NATIVE_ARCH, f"{arg.joined()}: the result depends on this machine's GPUs")
    return _keyed(walk, arg)


def _on_host_forward(walk: _Walk, arg: ParsedArg) -> Refusal:
    value = _strip_equals(arg)
    if _escaped(value):
        return NotCacheable(O.ESCAPED_ARGUMENT, f"{arg.joined()}: quotes and backslashes are not interpreted")
    return _check_host_options(value.split(","), arg.tokens[0]) or _keyed(walk, arg)


def _on_ptxas_forward(walk: _Walk, arg: ParsedArg) -> Refusal:
    return _check_forwarded(_strip_equals(arg), PTXAS_OPTIONS, arg.tokens[0]) or _keyed(walk, arg)


def _on_cudafe_forward(walk: _Walk, arg: ParsedArg) -> Refusal:
    return _check_forwarded(_strip_equals(arg), CUDAFE_OPTIONS, arg.tokens[0]) or _keyed(walk, arg)


def _on_forwarded_unknown(walk: _Walk, arg: ParsedArg) -> Refusal:
    """-forward-unknown-to-host-compiler: gcc's option, for the host compiler."""
    return _check_host_options(list(arg.tokens), "forwarded") or _keyed(walk, arg)


_NVCC_HANDLERS = {
    **{kind: _on_mode for kind in _MODE_OF_KIND},
    K.QUERY: _refused,  # answered before the walk (no compilation)
    K.PREPROCESS_ONLY: _refused,  # likewise
    K.REFUSED: _refused,
    K.OUTPUT: _on_output,
    K.OPTIONS_FILE: _on_options_file,
    K.LANGUAGE: _on_language,
    K.HOST_COMPILER: _on_host_compiler,
    K.DEPFILE: _on_depfile,
    K.DEPFILE_NAME: _on_depfile_name,
    K.DEPFILE_TARGET: _on_depfile_target,
    K.DEPFILE_FORMAT: _on_depfile_format,
    K.PREPROCESSOR: _keyed,
    K.RELOCATABLE: _on_relocatable,
    K.ARCHITECTURE: _on_architecture,
    K.CODEGEN: _keyed,
    K.HOST_FORWARD: _on_host_forward,
    K.PTXAS_FORWARD: _on_ptxas_forward,
    K.CUDAFE_FORWARD: _on_cudafe_forward,
    K.FORWARD_UNKNOWN: _keyed,
    K.LINK: _keyed,  # nvcc ignores them with -c; keyed all the same
    K.THREADS: _on_ignored,  # the result does not depend on how many archs compile at once
}
HANDLERS = exhaustive_handlers(NVCC_OPTIONS, _NVCC_HANDLERS)
FORWARDING_HANDLERS = exhaustive_handlers(
    FORWARDING_OPTIONS, {**_NVCC_HANDLERS, **{kind: _on_forwarded_unknown for kind in GnuKind}}
)


def parse(invocation: Invocation) -> ParseOutcome:
    try:
        effective = effective_arguments(invocation.arguments, invocation.env, invocation.cwd, NVCC_OPTIONS)
    except CommandLineError as exc:
        return NotCacheable(O.OPTIONS_FILE, str(exc))
    arguments = list(effective.arguments)
    parsed = NVCC_OPTIONS.parse(arguments)
    handlers = HANDLERS
    if any(a.kind is K.FORWARD_UNKNOWN for a in parsed):
        parsed, handlers = FORWARDING_OPTIONS.parse(arguments), FORWARDING_HANDLERS

    # 1. Calls that compile nothing win over everything else.
    inputs = [a for a in parsed if a.is_input]
    for arg in parsed:
        if arg.kind is K.QUERY:
            return NotCompilation(arg.spec.reason, f"{arg.tokens[0]} compiles nothing")
    for arg in parsed:
        if arg.kind is K.PREPROCESS_ONLY:
            return NotCompilation(arg.spec.reason, f"{arg.tokens[0]} only preprocesses")
    if not inputs and not any(a.is_unknown for a in parsed):
        return NotCompilation(R.NO_INPUT, "no input file")

    # 2. Walk the options in order.
    walk = _Walk()
    for arg in parsed:
        if arg.is_input:
            walk.key.extend(arg.tokens)  # where given: -x applies to the inputs after it
            continue
        if arg.spec is None:
            return NotCacheable(R.UNKNOWN_OPTION, f"unknown option {arg.tokens[0]}: it might change the result")
        if arg.missing_value:
            return NotCacheable(R.MISSING_ARGUMENT, f"{arg.tokens[0]} needs an argument")
        refusal = handlers[arg.kind](walk, arg)
        if refusal is not None:
            return refusal

    # 3. One input, one phase that caching covers.
    if len(inputs) > 1:
        return NotCacheable(R.MULTIPLE_SOURCES, f"several inputs: {inputs[0].tokens[0]} and {inputs[1].tokens[0]}")
    if not inputs:
        return NotCompilation(R.NO_INPUT, "no input file")
    source = inputs[0].tokens[0]
    if not walk.modes:
        return NotCacheable(R.LINKING, "no -c, -dc, -ptx, -cubin, -fatbin or -optix-ir: the call links")
    if len(walk.modes) > 1:
        return NotCacheable(R.UNSUPPORTED_OPTION, f"several phases asked for: {', '.join(sorted(walk.modes))}")
    mode = walk.modes.pop()
    if source == "-":
        return NotCacheable(R.STDIN_INPUT, "the source is read from standard input")
    if _escaped(source):
        return NotCacheable(O.ESCAPED_ARGUMENT, f"input {source}: quotes and backslashes are not interpreted")
    suffix = PurePosixPath(source).suffix
    if walk.language not in (None, "cu", "c", "c++"):
        return NotCacheable(R.UNSUPPORTED_LANGUAGE, f"-x {walk.language}")
    if walk.language is None and suffix not in CUDA_SUFFIXES:
        reason = O.HOST_ONLY if suffix in HOST_SUFFIXES else R.UNSUPPORTED_INPUT
        return NotCacheable(reason, f"input {source}: nvcc compiles no device code for it")
    if walk.language in ("c", "c++"):
        return NotCacheable(O.HOST_ONLY, f"-x {walk.language}: nvcc compiles no device code")
    try:
        if not os.path.isfile(invocation.resolve(source)):
            return NotCacheable(R.UNSUPPORTED_INPUT, f"input {source} is not a regular file")
    except OSError:
        return NotCacheable(R.UNSUPPORTED_INPUT, f"input {source} cannot be read")
    if len(walk.outputs) > 1:
        return NotCacheable(R.MULTIPLE_OUTPUTS, "-o given more than once")
    role, default_suffix = MODES[mode]
    output = walk.outputs[0] if walk.outputs else replace_suffix(os.path.basename(source), default_suffix)
    if output == "-":
        return NotCacheable(R.OUTPUT_TO_STDOUT, "-o - names no file")
    if _escaped(output):
        return NotCacheable(O.ESCAPED_ARGUMENT, f"output {output}: quotes and backslashes are not interpreted")
    if (walk.dep_file is not None or walk.dep_target is not None or walk.phony) and walk.dep_kind is None:
        return NotCacheable(R.UNSUPPORTED_OPTION, "-MF/-MT/-MP without -MD or -MMD")

    depfile: DepfileSpec | None = None
    if walk.dep_kind is not None:
        path = walk.dep_file if walk.dep_file is not None else replace_suffix(output if walk.outputs else os.path.basename(source), ".d")
        for value in (path, walk.dep_target or ""):
            if _escaped(value):
                return NotCacheable(O.ESCAPED_ARGUMENT, f"{value}: quotes and backslashes are not interpreted")
        depfile = DepfileSpec(
            path=path,
            target=walk.dep_target if walk.dep_target is not None else output,
            explicit_target=walk.dep_target is not None,
            system=walk.dep_kind == "-MD",
            phony_targets=walk.phony,
        )
    # Measured with nvcc 12: an object (-c, -dc) replaces a link at its path,
    # as the host assembler does; -ptx, -cubin, -fatbin and the dependency
    # file are written through it.
    slots: dict[str, OutputSlot] = {role: OutputSlot(path=Path(output), through_links=role != "object")}
    if depfile is not None:
        slots["depfile"] = OutputSlot(path=Path(depfile.path))
    # An output that is no regular file (/dev/null, a directory) or names the
    # source: the core refuses it for every family (pycache_core.pipeline.files).
    if depfile is not None and os.path.normpath(invocation.resolve(depfile.path)) == os.path.normpath(invocation.resolve(output)):
        return NotCacheable(R.MULTIPLE_OUTPUTS, "the dependency file is the output")

    call = NvccCall(
        arguments=effective.arguments,
        source=source,
        mode=mode,
        output=output,
        depfile=depfile,
        ccbin=walk.ccbin,
        options_files=effective.options_files,
    )
    return ParsedInvocation(
        language="cuda",
        sources=(invocation.resolve(source),),
        outputs=slots,
        key_arguments=tuple(walk.key),
        ignored_arguments=tuple(walk.ignored),
        private=call,
    )


def private(parsed: ParsedInvocation) -> NvccCall:
    call = parsed.private
    if not isinstance(call, NvccCall):
        raise TypeError(f"parsed invocation does not come from the nvcc plugin: {call!r}")
    return call
