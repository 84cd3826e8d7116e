"""Running the steps of nvcc's plan the way nvcc runs them.

nvcc runs each step through the shell, in the call's working directory,
with the caller's environment plus the variables its plan sets; so does
`run_step`, through the core's `PluginContext.run_compile_step`: each step
is a process of the call's compile, run as the core runs a compiler (the
caller's umask; its process group terminated, and the call cancelled, when
the build is interrupted). `plan_of` asks nvcc for the plan (``--dryrun``) with the
intermediate files in a directory of ours.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

from pycache_core.api import Invocation, PluginContext

from .plan import Plan, PlanError, Step, parse_plan, plan_arguments

__all__ = ["StepRun", "plan_of", "run_step", "step_environment"]

SHELL = "/bin/sh"


@dataclass(frozen=True, slots=True, kw_only=True)
class StepRun:
    """What one step printed and how it exited."""

    exit_code: int
    stdout: bytes
    stderr: bytes
    seconds: float = 0.0


def step_environment(invocation: Invocation, step: Step) -> dict[str, str]:
    env = dict(invocation.env)
    env.update(step.env)
    return env


def run_step(invocation: Invocation, step: Step, context: PluginContext) -> StepRun:
    started = time.monotonic()
    done = context.run_compile_step([SHELL, "-c", step.line], cwd=invocation.cwd, env=step_environment(invocation, step))
    return StepRun(exit_code=done.returncode, stdout=done.stdout, stderr=done.stderr, seconds=time.monotonic() - started)


def plan_of(invocation: Invocation, keep_dir: Path, context: PluginContext) -> Plan | str:
    """nvcc's plan for the call, with intermediate files in ``keep_dir``;
    or why there is none (nvcc's own message when the dryrun fails: a
    missing host compiler, an option nvcc rejects)."""
    keep_dir.mkdir(parents=True, exist_ok=True)
    argv = [str(invocation.compiler), *plan_arguments(invocation.arguments, os.fspath(keep_dir))]
    try:
        done = context.run(argv, cwd=invocation.cwd, env=dict(invocation.env))
    except OSError as exc:
        return f"cannot run {argv[0]}: {exc.strerror or exc}"
    text = done.stderr.decode("utf-8", "surrogateescape")
    if done.returncode != 0:
        lines = [line for line in text.splitlines() if not line.startswith("#$ ")]
        return f"nvcc --dryrun exited {done.returncode}: {' / '.join(lines[-3:])}"
    try:
        return parse_plan(text, os.fspath(keep_dir))
    except PlanError as exc:
        return str(exc)


