"""A miss of an ``-c`` call, compiled the way nvcc compiles it -- step by
step -- with the device code of each GPU architecture cached on its own.

Discovery already ran nvcc's preprocessing steps (their output is the key);
`compile` runs the rest of the plan in nvcc's order, in the call's working
directory, with the plan's variables:

- ``cudafe++``, ``fatbinary`` and the final host compile always run (the
  host side of a miss is what changed, or the key would have hit);
- each architecture's device compilation -- ``cicc`` and the ``ptxas``
  runs that assemble its PTX -- is looked up under its own key first: the
  preprocessed text of that device pass, the module id cudafe++ wrote, the
  commands (intermediate files by role, so one architecture keys the same
  alone or next to others), the toolkit, the host compiler, the working
  directory and the variables nvcc reads. A hit writes back the files cicc
  and ptxas wrote and replays what they printed; a miss runs them and stores
  that;
- nvcc's dependency filter is written by `pycache_nvcc.depfile`.

So adding a ``-gencode`` compiles only the new architecture, and a host-only
edit reuses the device code -- whenever the device passes' preprocessed
text is unchanged (CUB and Thrust put ``__CUDA_ARCH_LIST__`` into their ABI
namespace: with them, every architecture's text changes and is recompiled,
as it must be).

Stored texts name the files they were written as (cicc's stub names its
own path in a line marker): each such path is replaced by a placeholder for
its role and written back as the current call's path. A binary output that
names our intermediate directory is not stored. A call whose compile fails
after reusing a stored step is compiled again by nvcc itself, so a stored
step can never be the cause of a failed build; steps of a failing compile
are never stored.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from pycache_core.api import CompileResult, Invocation, KeyComponent, ParsedInvocation, PluginContext, StepResult

from . import depfile
from .arguments import NvccCall, private
from .dependencies import Discovery, env_components
from .plan import DeviceGroup, Plan, Step, StepKind
from .steps import StepRun, run_step

__all__ = ["DEVICE_STEP", "compile"]

#: The step name in keys and in the statistics' breakdown.
DEVICE_STEP = "device"
#: Bump when what a device step stores, or how it is keyed, changes.
DEVICE_STEP_FORMAT = "1"

_PLACEHOLDER = "@@pycache-nvcc:{}@@"


@dataclass(frozen=True, slots=True)
class _Role:
    """One file of a device step: its role and its path in this call."""

    role: str
    path: str


def _device_files(group: DeviceGroup) -> tuple[list[_Role], list[_Role]] | None:
    """(inputs, outputs) of a group's compile steps by role, or None when
    a file has no role we know."""
    cicc = group.cicc
    assert cicc is not None
    inputs = [_Role("ii", group.preprocess.output)]
    for path in cicc.inputs:
        if path == group.preprocess.output:
            continue
        if path.endswith(".module_id"):
            inputs.append(_Role("module-id", path))
        else:
            return None
    outputs = [_Role("ptx", cicc.output)]
    for path in cicc.side_outputs:
        for suffix, role in ((".cudafe1.c", "c"), (".cudafe1.stub.c", "stub"), (".cudafe1.gpu", "gpu")):
            if path.endswith(suffix):
                outputs.append(_Role(role, path))
                break
        else:
            return None
    for ptxas in group.ptxas:
        if ptxas.inputs != (cicc.output,) or not ptxas.arch:
            return None
        outputs.append(_Role(f"cubin:{ptxas.arch}", ptxas.output))
    roles = [r.role for r in outputs]
    return (inputs, outputs) if len(set(roles)) == len(roles) else None


def _normal(words: Sequence[str], names: Mapping[str, str], keep_dir: str) -> str:
    keep = keep_dir.rstrip(os.sep) + os.sep
    out = []
    for word in words:
        for path, role in names.items():
            word = word.replace(path, f"<{role}>")
        out.append(word.replace(keep, "<keep-dir>/"))
    return "\x1f".join(out)


def _group_components(
    group: DeviceGroup,
    inputs: list[_Role],
    outputs: list[_Role],
    plan: Plan,
    invocation: Invocation,
    context: PluginContext,
    host: KeyComponent,
) -> tuple[KeyComponent, ...] | None:
    identity = context.identity
    assert identity is not None
    names = {r.path: r.role for r in (*inputs, *outputs)}
    # Longer paths first, so "k.ptx" is never replaced inside "k.sm_80.ptx".
    names = dict(sorted(names.items(), key=lambda item: -len(item[0])))
    components = [
        KeyComponent("device-step-format", DEVICE_STEP_FORMAT),
        KeyComponent("toolkit", identity.fingerprint),
        host,
        KeyComponent("cwd", os.fspath(invocation.cwd)),
        KeyComponent("commands", tuple(_normal(s.argv, names, plan.keep_dir) for s in group.compile_steps)),
        KeyComponent("plan-environment", tuple(f"{k}={v}" for k, v in sorted(plan.env.items()) if k not in ("PATH", "LD_LIBRARY_PATH"))),
    ]
    for role in inputs:
        try:
            components.append(KeyComponent(f"input:{role.role}", context.hash_bytes(Path(role.path).read_bytes())))
        except OSError:
            return None
    components.extend(env_components(invocation.env))
    return tuple(components)


def _portable(data: bytes, outputs: list[_Role], keep_dir: str) -> bytes | None:
    """``data`` with each file's own path replaced by its role's
    placeholder; None when it names our directory otherwise, or already
    holds a placeholder."""
    if b"@@pycache-nvcc:" in data:
        return None
    for role in sorted(outputs, key=lambda r: -len(r.path)):
        data = data.replace(os.fsencode(role.path), _PLACEHOLDER.format(role.role).encode())
    if os.fsencode(keep_dir) in data:
        return None
    return data


def _stored_form(data: bytes, outputs: list[_Role], keep_dir: str) -> bytes | None:
    """What is stored of one output: a text with its files' own paths as
    placeholders, a binary (a cubin) as it is; None when it names our
    intermediate directory otherwise (no call but this one could use it)."""
    if b"\0" in data:
        return None if os.fsencode(keep_dir) in data else data
    return _portable(data, outputs, keep_dir)


def _restored(data: bytes, outputs: list[_Role]) -> bytes:
    for role in outputs:
        data = data.replace(_PLACEHOLDER.format(role.role).encode(), os.fsencode(role.path))
    return data


@dataclass
class _Progress:
    runs: list[StepRun]
    reused: int = 0
    failed: int = 0


def _device_step(
    group: DeviceGroup, plan: Plan, invocation: Invocation, context: PluginContext, host: KeyComponent, progress: _Progress
) -> None:
    """Compile one architecture's device code, or restore it."""
    files = _device_files(group)
    components = None
    if files is not None and all(plan.in_keep_dir(r.path) for r in files[1]):
        components = _group_components(group, *files, plan, invocation, context, host)
    if components is None:
        context.log.debug("device code of %s not cached: its files have no known roles", group.arch)
        _run_plainly(group.compile_steps, invocation, context, progress)
        return
    outputs = files[1]
    found = context.lookup_step(DEVICE_STEP, components)
    if found is not None and set(found.files) == {r.role for r in outputs}:
        for role in outputs:
            Path(role.path).write_bytes(_restored(found.files[role.role], outputs))
        progress.runs.append(StepRun(exit_code=0, stdout=_restored(found.stdout, outputs), stderr=_restored(found.stderr, outputs)))
        progress.reused += 1
        context.log.debug("device code of %s reused", group.arch)
        return
    before = len(progress.runs)
    _run_plainly(group.compile_steps, invocation, context, progress)
    if progress.failed:
        return
    stored: dict[str, bytes] = {}
    for role in outputs:
        try:
            data = Path(role.path).read_bytes()
        except OSError:
            return
        portable = _stored_form(data, outputs, plan.keep_dir)
        if portable is None:
            context.log.debug("device code of %s not stored: %s names the intermediate directory", group.arch, role.role)
            return
        stored[role.role] = portable
    stdout = b"".join(r.stdout for r in progress.runs[before:])
    stderr = b"".join(r.stderr for r in progress.runs[before:])
    texts = [_portable(t, outputs, plan.keep_dir) for t in (stdout, stderr)]
    if texts[0] is None or texts[1] is None:
        return
    context.store_step(DEVICE_STEP, components, StepResult(files=stored, stdout=texts[0], stderr=texts[1]))


def _run_plainly(steps: Sequence[Step], invocation: Invocation, context: PluginContext, progress: _Progress) -> None:
    for step in steps:
        ran = run_step(invocation, step, context)
        progress.runs.append(ran)
        if ran.exit_code != 0:
            progress.failed = ran.exit_code
            return


def _write_depfile(step: Step, call: NvccCall, invocation: Invocation) -> StepRun:
    spec = call.depfile
    if spec is None:
        raise ValueError("nvcc's plan filters dependencies the call did not ask for")
    outputs = [Path(p).read_bytes() for p in step.inputs]
    text = depfile.render(spec.target, call.source, depfile.dependencies_of(outputs, system=spec.system),
                          phony_targets=spec.phony_targets)
    target = invocation.resolve(step.output)
    target.write_bytes(os.fsencode(text))
    return StepRun(exit_code=0, stdout=b"", stderr=b"")


def decomposable(plan: Plan, call: NvccCall) -> str:
    """Why this plan is compiled by nvcc itself ("" when it can be run in steps)."""
    if call.mode != "compile":
        return f"-{call.mode}: the device code is the whole result"
    if plan.messages:
        return f"nvcc prints messages of its own: {plan.messages[0]}"
    kinds = [s.kind for s in plan.steps]
    if StepKind.NVLINK in kinds:
        return "the plan links device code"
    if kinds.count(StepKind.CUDAFE) != 1 or kinds.count(StepKind.HOST_COMPILE) != 1:
        return "the plan has no single host side"
    if (StepKind.FILTER_DEPENDENCIES in kinds) != (call.depfile is not None):
        return "the plan's dependency file is not the call's"
    cudafe = kinds.index(StepKind.CUDAFE)
    for group in plan.device_groups():
        if group.cicc is None:
            return f"device pass {group.preprocess.arch} has no cicc"
        steps = list(group.compile_steps)
        first = plan.steps.index(steps[0])
        if plan.steps[first : first + len(steps)] != tuple(steps) or first < cudafe:
            return f"the device steps of {group.arch} are not where expected"
    return ""


def compile(
    invocation: Invocation, parsed: ParsedInvocation, discovery: Discovery, context: PluginContext
) -> CompileResult | None:
    """Run the rest of the plan; None when nvcc must compile the call itself."""
    call = private(parsed)
    plan = discovery.plan
    why = decomposable(plan, call)
    if why:
        context.log.debug("compiled by nvcc itself: %s", why)
        return None
    started = time.monotonic()
    groups = {g.cicc: g for g in plan.device_groups() if g.cicc is not None}
    in_groups = {s for g in groups.values() for s in g.ptxas}
    progress = _Progress(runs=[])
    for step in plan.steps:
        if progress.failed:
            break
        if step.kind in (StepKind.HOST_PREPROCESS, StepKind.DEVICE_PREPROCESS):
            progress.runs.append(discovery.preprocessed[step.output])
        elif step.kind is StepKind.FILTER_DEPENDENCIES:
            progress.runs.append(_write_depfile(step, call, invocation))
        elif step in groups:
            _device_step(groups[step], plan, invocation, context, discovery.host, progress)
        elif step not in in_groups:
            _run_plainly([step], invocation, context, progress)
    if progress.failed and progress.reused:
        context.log.warning("compile failed after reusing device code: compiled again by nvcc itself")
        return None
    preprocessing = sum(r.seconds for r in discovery.preprocessed.values())
    return CompileResult(
        exit_code=progress.failed,
        stdout=b"".join(r.stdout for r in progress.runs),
        stderr=b"".join(r.stderr for r in progress.runs),
        duration=preprocessing + time.monotonic() - started,
    )
