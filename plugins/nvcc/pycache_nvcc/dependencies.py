"""What an nvcc result depends on beyond its arguments.

**Preprocessor mode** (`discover`). nvcc preprocesses a ``.cu`` file once
for the host and once per GPU architecture, and ``nvcc -E`` shows only a
device pass: a key built from it misses edits to host-only code (sccache's
false hit, its issue #2299). Here the key holds the preprocessed output of
*every* pass, produced by running the preprocessing steps of nvcc's own
plan (``--dryrun``): the host pass with ``__CUDA_ARCH_LIST__`` (and
``__CUDACC_RDC__`` under ``-rdc``), each device pass with its
``__CUDA_ARCH__``. The plan itself -- every command nvcc would run, with our
intermediate directory and the output paths replaced by placeholders --
is a component too, so nothing nvcc derives from its options, its profile
or its environment can change without changing the key.

**Direct mode** (`direct_components`). The source's digest, the effective
command line (in the core's ``arguments``), the working directory, the
source's absolute path, the host compiler's identity and the variables nvcc
and the host compiler read. The core records every file the passes entered
(line markers of all of them: host-only and device-only headers alike) in a
manifest, with the headers that would shadow them if created, and hits
while all are unchanged -- running nothing.

Paths are never made portable: nvcc bakes a hash of the source's absolute
path into device symbol names (anonymous namespaces, the module id), so a
result from another directory is not the result of this call.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from pycache_cfamily import reasons as R
from pycache_cfamily.environment import GNU_COMPILER_ENV, GNU_DEPENDENCY_ENV, english_messages_env
from pycache_cfamily.includes import (
    SearchPath,
    has_include_lookups,
    parse_search_path,
    shadow_candidates,
    uses_has_include,
)
from pycache_cfamily.preprocessed import Marker, assembler_reads_files, parse_markers, uses_time_macros
from pycache_core.api import CompilerIdentity, Dependencies, Invocation, KeyComponent, NotCacheable, ParsedInvocation, PluginContext
from pycache_core.memo import Memo

from . import options as O
from .arguments import NvccCall, private
from .plan import Plan, Step, StepKind
from .steps import StepRun, plan_of, run_step, step_environment
from .toolchain import host_compiler_path, host_identity

#: Variables nvcc reads: its own, and those nvcc.profile appends to (an
#: ``INCLUDES=-I/x`` in the environment reaches every preprocessing step).
NVCC_ENV = (
    "NVCC_CCBIN",
    "INCLUDES",
    "SYSTEM_INCLUDES",
    "LIBRARIES",
    "CUDAFE_FLAGS",
    "PTXAS_FLAGS",
    "NVVM_FLAGS",
    "OCG_FLAGS",
    "LLVMDIS_FLAGS",
    "LLVMC_FLAGS",
    "CICC_PATH",
    "NVVMIR_LIBRARY_DIR",
)
#: What enters the key by name when set (never the whole environment).
KEY_ENV = NVCC_ENV + tuple(n for n in GNU_COMPILER_ENV if n not in NVCC_ENV)

KEEP_PLACEHOLDER = "<keep-dir>"


@dataclass(frozen=True, slots=True, kw_only=True)
class Discovery:
    """What discovery ran, handed to the compile (`Dependencies.private`):
    the plan, what each preprocessing step printed (by its output file),
    and the host compiler's component."""

    plan: Plan
    preprocessed: Mapping[str, StepRun]
    host: KeyComponent


def env_components(env: Mapping[str, str]) -> list[KeyComponent]:
    return [KeyComponent(f"env:{name}", env[name]) for name in KEY_ENV if name in env]


def _host_identity(call: NvccCall, invocation: Invocation, context: PluginContext) -> CompilerIdentity | NotCacheable:
    identity = context.identity
    assert identity is not None
    path = host_compiler_path(call.ccbin, identity, invocation.env, invocation.cwd)
    if path is None:
        wanted = call.ccbin or invocation.env.get("NVCC_CCBIN") or "gcc"
        return NotCacheable(O.HOST_COMPILER_MISSING, f"no host compiler {wanted!r} for nvcc")
    return host_identity(path, invocation.env, context)


def shared_components(
    invocation: Invocation, parsed: ParsedInvocation, context: PluginContext
) -> list[KeyComponent] | NotCacheable:
    """Components both modes need."""
    call = private(parsed)
    for name in GNU_DEPENDENCY_ENV:
        if invocation.env.get(name):
            return NotCacheable(R.DEPENDENCIES_ENV, f"{name} is set: the host compiler appends dependencies to a file")
    host = _host_identity(call, invocation, context)
    if isinstance(host, NotCacheable):
        return host
    components = [
        KeyComponent("host-compiler", host.fingerprint),
        # nvcc hashes it into device symbol names and the module id.
        KeyComponent("source-path", os.path.normpath(invocation.resolve(call.source))),
        KeyComponent("cwd", os.fspath(invocation.cwd)),
    ]
    if call.depfile is not None and not call.depfile.explicit_target:
        components.append(KeyComponent("object-path", call.output))
    components.extend(env_components(invocation.env))
    return components


# --- direct mode --------------------------------------------------------------------


def direct_components(
    invocation: Invocation, parsed: ParsedInvocation, context: PluginContext
) -> tuple[KeyComponent, ...] | NotCacheable:
    source = parsed.sources[0]
    try:
        digest = context.hash_file(source)
    except OSError as exc:
        return NotCacheable(R.MISSING_INPUT, f"cannot read {source}: {exc.strerror or exc}")
    shared = shared_components(invocation, parsed, context)
    if isinstance(shared, NotCacheable):
        return shared
    return (KeyComponent("source", digest), *shared)


# --- preprocessor mode ----------------------------------------------------------------


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.realpath(a) == os.path.realpath(b)


def _plan_program(plan: Plan, step: Step) -> str | None:
    """Where the shell finds ``step``'s program, on the plan's PATH."""
    program = step.program
    if os.sep in program:
        return program
    for directory in plan.env.get("PATH", "").split(os.pathsep):
        candidate = os.path.join(directory or ".", program)
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


def check_plan(plan: Plan, call: NvccCall, invocation: Invocation, context: PluginContext) -> NotCacheable | None:
    """The plan runs the toolkit and the host compiler the key names."""
    identity = context.identity
    assert identity is not None
    host_path = host_compiler_path(call.ccbin, identity, invocation.env, invocation.cwd)
    for step in plan.steps:
        if step.kind in (StepKind.HOST_PREPROCESS, StepKind.DEVICE_PREPROCESS, StepKind.HOST_COMPILE):
            found = _plan_program(plan, step)
            if found is None or host_path is None or not _same_file(found, os.fspath(host_path)):
                return NotCacheable(O.HOST_COMPILER_MISMATCH, f"nvcc runs {step.program!r}, not {host_path}")
        elif step.kind in (StepKind.CICC, StepKind.PTXAS, StepKind.CUDAFE, StepKind.FATBINARY, StepKind.NVLINK):
            found = _plan_program(plan, step)
            expected = identity.details.get("cicc") if step.kind is StepKind.CICC else os.path.join(identity.details.get("bin", ""), step.kind.value)
            if found is None or not _same_file(found, expected):
                return NotCacheable(O.TOOLKIT_MISMATCH, f"nvcc runs {step.program!r}, not the toolkit's {expected}")
    libdevice = plan.env.get("NVVMIR_LIBRARY_DIR", "")
    if libdevice and not _same_file(libdevice, identity.details.get("libdevice", "")):
        return NotCacheable(O.TOOLKIT_MISMATCH, f"libdevice from {libdevice}, not the toolkit's")
    return None


def plan_component(plan: Plan, call: NvccCall, invocation: Invocation) -> KeyComponent:
    """Every command of the plan, word by word, with our intermediate
    directory and the call's output paths replaced by placeholders."""
    keep = plan.keep_dir.rstrip(os.sep) + os.sep
    outputs = {call.output: "<output>"}
    if call.depfile is not None:
        outputs[call.depfile.path] = "<depfile>"
    lines: list[str] = []
    for step in plan.steps:
        words = step.argv if step.kind is not StepKind.FILTER_DEPENDENCIES else ("-- Filter Dependencies --", step.output)
        normal = [outputs.get(w, w).replace(keep, KEEP_PLACEHOLDER + os.sep) for w in words]
        lines.append("\x1f".join([step.kind.value, *normal]))
    return KeyComponent("plan", tuple(lines))


_SEARCH_PATHS: Memo[SearchPath | None] = Memo(256)


def _search_path(invocation: Invocation, step: Step, source: str, context: PluginContext) -> SearchPath | None:
    """The include search list of a preprocessing step: its options with
    ``-v`` and an empty input (memoised by those words and variables)."""
    words: list[str] = []
    argv = list(step.argv)
    i = 0
    found_source = False
    while i < len(argv):
        word = argv[i]
        if word in ("-o", "-include") and i + 1 < len(argv):
            i += 2
            continue
        if word == source:
            found_source = True
            i += 1
            continue
        words.append(word)
        i += 1
    if not found_source:
        return None
    probe = [*words, "-v", "-o", os.devnull, os.devnull]
    env = english_messages_env(step_environment(invocation, step))
    memo = (tuple(probe), os.fspath(invocation.cwd), tuple((n, env.get(n)) for n in GNU_COMPILER_ENV + ("PATH",)))

    def ask() -> SearchPath | None:
        try:
            done = context.run(probe, cwd=invocation.cwd, env=env)
        except OSError:
            return None
        return parse_search_path(done.stderr.decode("utf-8", "replace")) if done.returncode == 0 else None

    return _SEARCH_PATHS.get(memo, ask)


def _pass_name(step: Step) -> str:
    return "host" if step.kind is StepKind.HOST_PREPROCESS else f"device:{step.arch}"


def discover(invocation: Invocation, parsed: ParsedInvocation, context: PluginContext) -> Dependencies | NotCacheable:
    call = private(parsed)
    shared = shared_components(invocation, parsed, context)
    if isinstance(shared, NotCacheable):
        return shared
    plan = plan_of(invocation, context.scratch_dir / "nvcc", context)
    if isinstance(plan, str):
        return NotCacheable(O.DRYRUN_FAILED, plan)
    wrong = check_plan(plan, call, invocation, context)
    if wrong is not None:
        return wrong
    if not plan.preprocessing:
        return NotCacheable(O.HOST_ONLY, "nvcc's plan preprocesses nothing: no device code")

    components: list[KeyComponent] = [plan_component(plan, call, invocation)]
    preprocessed: dict[str, StepRun] = {}
    outputs: list[tuple[Step, bytes]] = []
    for step in plan.preprocessing:
        ran = run_step(invocation, step, context)
        if ran.exit_code != 0:
            tail = " / ".join(ran.stderr.decode("utf-8", "replace").strip().splitlines()[-3:])
            return NotCacheable(R.PREPROCESSOR_ERROR, f"{_pass_name(step)} preprocessing exited {ran.exit_code}: {tail}")
        try:
            data = Path(step.output).read_bytes()
        except OSError as exc:
            return NotCacheable(R.PREPROCESSOR_ERROR, f"{_pass_name(step)} preprocessing wrote no {step.output}: {exc.strerror}")
        if assembler_reads_files(data, assembler_source=False):
            return NotCacheable(R.ASSEMBLER_INCLUDE, "the source makes the assembler read files (.incbin)")
        preprocessed[step.output] = ran
        outputs.append((step, data))
        components.append(KeyComponent(f"preprocessed:{_pass_name(step)}", context.hash_bytes(data)))
    components.extend(shared)

    files, absent, manifest_ok = _manifest_inputs(invocation, call, outputs, context)
    host = next(c for c in shared if c.name == "host-compiler")
    return Dependencies(
        components=tuple(components),
        files=tuple(files),
        absent=tuple(absent),
        env_names=KEY_ENV,
        manifest_ok=manifest_ok,
        private=Discovery(plan=plan, preprocessed=preprocessed, host=host),
    )


def _manifest_inputs(
    invocation: Invocation, call: NvccCall, outputs: Iterable[tuple[Step, bytes]], context: PluginContext
) -> tuple[list[Path], list[Path], bool]:
    """Every file the passes entered, the paths that must stay absent, and
    whether a manifest can vouch for the result at all."""
    cwd = invocation.cwd
    source = Path(os.path.normpath(invocation.resolve(call.source)))
    files: dict[Path, None] = {source: None}
    absent: dict[Path, None] = {}
    system: set[Path] = set()
    reasons: list[str] = []
    searches: dict[tuple[str, ...], SearchPath | None] = {}
    for step, data in outputs:
        markers: list[Marker] = parse_markers(data)
        include_words = tuple(w for w in step.argv if w.startswith(("-I", "-isystem", "-iquote", "-idirafter")))
        if include_words not in searches:
            searches[include_words] = _search_path(invocation, step, call.source, context)
        search = searches[include_words]
        if search is None:
            reasons.append(f"no include search list for the {_pass_name(step)} pass")
        else:
            absent.update(dict.fromkeys(shadow_candidates(markers, search, cwd, existing=context.existing)))
        for marker in markers:
            path = Path(os.path.normpath(invocation.resolve(marker.path)))
            files.setdefault(path, None)
            if marker.system:
                system.add(path)
    first_search = next((s for s in searches.values() if s is not None), None)
    for path in list(files):
        try:
            data = path.read_bytes()
        except OSError as exc:
            reasons.append(f"cannot read {path}: {exc.strerror}")
            continue
        if uses_time_macros(data):
            reasons.append(f"{path} uses __DATE__, __TIME__ or __TIMESTAMP__")
        if path not in system and uses_has_include(data):
            lookups = has_include_lookups(data, path, first_search, cwd) if first_search is not None else None
            if lookups is None:
                reasons.append(f"{path} uses __has_include with a computed argument")
            else:
                found, missing = lookups
                files.update(dict.fromkeys(Path(os.path.normpath(p)) for p in found))
                absent.update(dict.fromkeys(missing))
    if reasons:
        context.log.debug("no manifest: %s", "; ".join(reasons[:3]))
    return list(files), list(absent), not reasons
