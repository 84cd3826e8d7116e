"""Running the real compiler for a miss.

The one place a cached call's compile is started: with the family's run
arguments and environment (when they differ from the caller's), no stdin,
its output captured for the reply and the entry.
"""

from __future__ import annotations

import subprocess
import time

from ..api import CompileResult
from .call import Call


def run_compiler(call: Call) -> CompileResult:
    invocation, parsed = call.invocation, call.parsed
    assert invocation is not None and parsed is not None
    arguments = parsed.run_arguments if parsed.run_arguments is not None else invocation.arguments
    env = parsed.run_environment if parsed.run_environment is not None else invocation.env
    started = time.monotonic()
    proc = subprocess.run(
        [str(invocation.compiler), *arguments],
        cwd=invocation.cwd,
        env=dict(env),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        check=False,
    )
    return CompileResult(exit_code=proc.returncode, stdout=proc.stdout, stderr=proc.stderr, duration=time.monotonic() - started)
