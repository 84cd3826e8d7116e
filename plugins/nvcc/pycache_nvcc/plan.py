"""nvcc's own plan for a call: the steps ``nvcc --dryrun`` prints.

``nvcc --dryrun --keep --keep-dir DIR ARGS`` lists, on stderr, every step
nvcc would run for ARGS, each line starting with ``#$ ``:

- ``NAME=value`` sets a variable for the steps that follow (``PATH`` with
  the toolkit's directories first, ``CICC_PATH``, ``NVVMIR_LIBRARY_DIR``...),
  with shell quoting;
- every other line is a shell command (``"$CICC_PATH/cicc" ...``), except
  ``-- Filter Dependencies -- > FILE``, nvcc's internal step that writes the
  dependency file from the preprocessed outputs' line markers.

With ``--keep-dir`` every intermediate file has a predictable name in DIR
(``k.cpp4.ii``, ``k.compute_80.cpp1.ii``, ``k.module_id``). Running the
commands one by one through ``/bin/sh`` with those variables, in the call's
working directory, is exactly what nvcc does: the same files, stdout, stderr
and exit status.

`parse_plan` turns that text into a `Plan` of classified `Step` s, or says
why it cannot (`PlanError`): anything it does not recognise stops the
decomposition rather than being guessed at.
"""

from __future__ import annotations

import enum
import os
import re
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

__all__ = ["DeviceGroup", "Plan", "PlanError", "Step", "StepKind", "parse_plan", "plan_arguments"]

PLAN_PREFIX = "#$ "
FILTER_DEPENDENCIES = "-- Filter Dependencies --"

_ASSIGNMENT = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)=(.*)$", re.S)
_VARIABLE = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))")
_ARCH_DEFINE = re.compile(r"^-D__CUDA_ARCH__=(\d+)$")


class PlanError(Exception):
    """The dryrun's output is not a plan this module understands."""


class StepKind(enum.Enum):
    HOST_PREPROCESS = "host-preprocess"
    DEVICE_PREPROCESS = "device-preprocess"
    CUDAFE = "cudafe++"
    CICC = "cicc"
    PTXAS = "ptxas"
    FATBINARY = "fatbinary"
    NVLINK = "nvlink"
    HOST_COMPILE = "host-compile"
    FILTER_DEPENDENCIES = "filter-dependencies"
    REMOVE = "rm"


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class Step:
    """One step of the plan.

    ``line``: the command exactly as nvcc prints it (run through ``/bin/sh``);
    ``argv``: the same split into words with the plan's variables expanded
    (for reading, never for running); ``env``: the variables the plan has set
    when the step runs; ``arch``: the ``__CUDA_ARCH__`` value of a device
    preprocessing step, the virtual architecture (``compute_80``) of cicc,
    the real one (``sm_80``) of ptxas; ``output``: the file it writes
    (``-o``, or the dependency file of the filter step); ``inputs``: the
    files of earlier steps it reads. Steps compare (and hash) by identity:
    two runs of the same command are two steps.
    """

    kind: StepKind
    line: str
    argv: tuple[str, ...]
    env: Mapping[str, str]
    arch: str = ""
    output: str = ""
    inputs: tuple[str, ...] = ()
    side_outputs: tuple[str, ...] = ()

    @property
    def program(self) -> str:
        return self.argv[0] if self.argv else ""

    def writes(self) -> tuple[str, ...]:
        return tuple(p for p in (self.output, *self.side_outputs) if p)


@dataclass(frozen=True, slots=True, kw_only=True)
class DeviceGroup:
    """The device compilation of one virtual architecture: its preprocessing,
    cicc, and ptxas for each real architecture assembled from that PTX."""

    preprocess: Step
    cicc: Step | None
    ptxas: tuple[Step, ...] = ()

    @property
    def arch(self) -> str:
        return self.cicc.arch if self.cicc is not None else self.preprocess.arch

    @property
    def compile_steps(self) -> tuple[Step, ...]:
        return ((self.cicc,) if self.cicc is not None else ()) + self.ptxas


@dataclass(frozen=True, slots=True, kw_only=True)
class Plan:
    """The steps of one nvcc call, in nvcc's order, and where its
    intermediate files live (``keep_dir``)."""

    steps: tuple[Step, ...]
    keep_dir: str
    env: Mapping[str, str] = field(default_factory=dict)
    messages: tuple[str, ...] = ()

    def of_kind(self, *kinds: StepKind) -> tuple[Step, ...]:
        return tuple(s for s in self.steps if s.kind in kinds)

    @property
    def preprocessing(self) -> tuple[Step, ...]:
        return self.of_kind(StepKind.HOST_PREPROCESS, StepKind.DEVICE_PREPROCESS)

    @property
    def host_compiler(self) -> str:
        """The host compiler as the plan names it (``gcc``, ``"/usr/bin"/g++-12``,
        unquoted), from its first host step; "" when it runs none."""
        for step in self.steps:
            if step.kind in (StepKind.HOST_PREPROCESS, StepKind.DEVICE_PREPROCESS, StepKind.HOST_COMPILE):
                return step.program
        return ""

    def device_groups(self) -> tuple[DeviceGroup, ...]:
        """Each device preprocessing step with the cicc that reads its output
        and the ptxas runs that read cicc's."""
        groups: list[DeviceGroup] = []
        for pre in self.of_kind(StepKind.DEVICE_PREPROCESS):
            cicc = next((s for s in self.of_kind(StepKind.CICC) if pre.output in s.inputs), None)
            ptxas = tuple(s for s in self.of_kind(StepKind.PTXAS) if cicc is not None and cicc.output in s.inputs)
            groups.append(DeviceGroup(preprocess=pre, cicc=cicc, ptxas=ptxas))
        return tuple(groups)

    def in_keep_dir(self, path: str) -> bool:
        return os.path.dirname(os.path.normpath(path)) == os.path.normpath(self.keep_dir)


def plan_arguments(arguments: Sequence[str], keep_dir: str) -> list[str]:
    """The nvcc arguments that make it print the plan of ``arguments``."""
    return [*arguments, "--dryrun", "--keep", "--keep-dir", keep_dir]


def _shell_words(text: str) -> list[str]:
    try:
        return shlex.split(text, posix=True)
    except ValueError as exc:
        raise PlanError(f"cannot split {text!r}: {exc}") from exc


def _expand(text: str, env: Mapping[str, str]) -> str:
    return _VARIABLE.sub(lambda m: env.get(m.group(1) or m.group(2), ""), text)


def _value_after(argv: Sequence[str], option: str) -> str:
    for i, word in enumerate(argv[:-1]):
        if word == option:
            return argv[i + 1]
    return ""


def _joined_value(argv: Sequence[str], prefix: str) -> str:
    for word in argv:
        if word.startswith(prefix):
            return word[len(prefix) :]
    return ""


def _program_name(program: str) -> str:
    return os.path.basename(program)


def _classify(argv: tuple[str, ...], line: str, env: Mapping[str, str], known_outputs: list[str]) -> Step:
    program = _program_name(argv[0])
    inputs = tuple(w for w in argv[1:] if w in known_outputs)
    if program == "cudafe++":
        side = [_value_after(argv, "--gen_c_file_name")]
        if "--gen_module_id_file" in argv:
            side.append(_value_after(argv, "--module_id_file_name"))
        return Step(kind=StepKind.CUDAFE, line=line, argv=argv, env=env, inputs=inputs,
                    output=side[0], side_outputs=tuple(side[1:]))
    if program == "cicc":
        side = [_value_after(argv, name) for name in ("--gen_c_file_name", "--stub_file_name", "--gen_device_file_name")]
        if "--gen_module_id_file" in argv:
            side.append(_value_after(argv, "--module_id_file_name"))
        module_id = _value_after(argv, "--module_id_file_name")
        if module_id and module_id in known_outputs and module_id not in inputs:
            inputs = (*inputs, module_id)
        return Step(kind=StepKind.CICC, line=line, argv=argv, env=env, arch=_value_after(argv, "-arch"),
                    output=_value_after(argv, "-o"), inputs=inputs, side_outputs=tuple(s for s in side if s))
    if program == "ptxas":
        return Step(kind=StepKind.PTXAS, line=line, argv=argv, env=env, arch=_joined_value(argv, "-arch="),
                    output=_value_after(argv, "-o"), inputs=inputs)
    if program == "fatbinary":
        output = _joined_value(argv, "--embedded-fatbin=") or _joined_value(argv, "--create=")
        created = _joined_value(argv, "--create=")
        side = (created,) if created and created != output else ()
        images = tuple(
            part.split("file=", 1)[1]
            for word in argv if word.startswith("--image3=")
            for part in [word] if "file=" in part
        )
        return Step(kind=StepKind.FATBINARY, line=line, argv=argv, env=env, output=output, side_outputs=side,
                    inputs=tuple(dict.fromkeys((*inputs, *(i for i in images if i in known_outputs)))))
    if program == "nvlink":
        return Step(kind=StepKind.NVLINK, line=line, argv=argv, env=env, output=_value_after(argv, "-o"), inputs=inputs)
    if program == "rm":
        return Step(kind=StepKind.REMOVE, line=line, argv=argv, env=env, inputs=inputs)
    # Everything else must be the host compiler, recognised by the macros
    # nvcc defines for it.
    if not any(w.startswith(("-D__CUDA_ARCH_LIST__", "-D__CUDACC__", "-D__NVCC__", "-D__CUDA_ARCH__")) for w in argv):
        raise PlanError(f"unknown step {argv[0]!r} in nvcc's plan")
    output = _value_after(argv, "-o")
    arch = next((m.group(1) for w in argv for m in [_ARCH_DEFINE.match(w)] if m), "")
    if "-E" in argv:
        kind = StepKind.DEVICE_PREPROCESS if output.endswith(".cpp1.ii") else StepKind.HOST_PREPROCESS
        if kind is StepKind.DEVICE_PREPROCESS and not arch:
            raise PlanError(f"device preprocessing without __CUDA_ARCH__: {line}")
        return Step(kind=kind, line=line, argv=argv, env=env, arch=arch if kind is StepKind.DEVICE_PREPROCESS else "",
                    output=output, inputs=inputs)
    if "-c" in argv:
        return Step(kind=StepKind.HOST_COMPILE, line=line, argv=argv, env=env, output=output, inputs=inputs)
    raise PlanError(f"host compiler step that neither preprocesses nor compiles: {line}")


def parse_plan(stderr: str, keep_dir: str) -> Plan:
    """The `Plan` in a dryrun's stderr. Lines without the ``#$ `` prefix are
    nvcc's own messages (warnings about options); they are kept in
    ``Plan.messages``, since nvcc prints them when it compiles too."""
    env: dict[str, str] = {}
    steps: list[Step] = []
    messages: list[str] = []
    outputs: list[str] = []
    frozen_env: Mapping[str, str] = MappingProxyType({})
    for raw in stderr.splitlines():
        if not raw.startswith(PLAN_PREFIX):
            if raw.strip():
                messages.append(raw)
            continue
        line = raw[len(PLAN_PREFIX) :].rstrip()
        if not line:
            continue
        if line.startswith(FILTER_DEPENDENCIES):
            target = line[len(FILTER_DEPENDENCIES) :].strip()
            if not target.startswith(">"):
                raise PlanError(f"dependency filter without an output file: {line}")
            output = target[1:].strip()
            pre = tuple(s.output for s in steps if s.kind in (StepKind.HOST_PREPROCESS, StepKind.DEVICE_PREPROCESS))
            steps.append(Step(kind=StepKind.FILTER_DEPENDENCIES, line=line, argv=(), env=frozen_env,
                              output=output, inputs=pre))
            continue
        assignment = _ASSIGNMENT.match(line)
        if assignment and not steps:
            name, value = assignment.groups()
            env[name] = " ".join(_shell_words(value))
            frozen_env = MappingProxyType(dict(env))
            continue
        if assignment:
            raise PlanError(f"variable set between steps: {line}")
        argv = tuple(_shell_words(_expand(line, env)))
        if not argv:
            continue
        step = _classify(argv, line, frozen_env, outputs)
        outputs.extend(step.writes())
        steps.append(step)
    if not steps:
        raise PlanError("the dryrun printed no steps")
    return Plan(steps=tuple(steps), keep_dir=keep_dir, env=frozen_env, messages=tuple(messages))
