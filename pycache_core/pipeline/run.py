"""Running the compile of a miss.

The one place a cached call's compile is started: by the family's plugin
when it compiles in steps of its own (`pycache_run_compile`: nvcc, per GPU
architecture; each of its processes through `run_step`, so that the rules
below hold for them too), else the real compiler with the family's run arguments and
environment (when they differ from the caller's), the caller's umask (the
compiler creates its outputs with the modes the caller would get), no
stdin, its output captured for the reply and the entry, in a process group
of its own. While it runs, the client is watched: when it goes away (Ctrl-C
on make or cargo kills the client with the rest of the build's process
group) the compiler's whole group is terminated, as the build's Ctrl-C
would have terminated it, and `Cancelled` is raised -- no local retry of a
prefixed compile follows.

``PYCACHE_PREFIX_COMMAND`` (the call's environment first, then the
configuration) runs it as ``PREFIX compiler args...`` -- ``distcc``,
``icecc``, ``nice -n 5 distcc`` (split like a shell would) -- when the family
accepts a prefix (`CompilerFamily.accepts_prefix_command`); other families
compile locally, counted as ``prefix_skipped``. Only this compile goes
through the prefix: dependency discovery, probes and direct-mode checks
never do, and the prefix is in no key, so the entry is the same whichever
host compiled it.

A prefixed compile that fails (the prefix cannot be started, or it exits
non-zero) is compiled again locally: when the local compile succeeds the
prefix was at fault -- counted as ``prefix_failures``, with its exit status
and last words under ``errors["prefix_command"]`` -- and when it fails too,
its exit status and diagnostics are the compiler's own verdict, as if no
prefix were set. Lines the launcher writes in its own name
(``distcc[1234] ...``, ``icecc[1234] ...``) are logged and kept out of the
stderr that is replayed and stored.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import selectors
import shlex
import signal
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from .. import env as names
from .. import spawning
from ..api import CompileResult
from .call import Call, Cancelled, ClientWatch, guard
from .restore import strip_colour

log = logging.getLogger("pycache.run")

#: Characters of a failed prefix's stderr kept in the error message.
STDERR_TAIL = 300
#: After SIGTERM, how long a cancelled compile may take to clean up before SIGKILL.
TERMINATE_GRACE = 2.0


def run_compiler(call: Call, config: Any = None, hooks: Any = None) -> CompileResult:
    invocation, parsed = call.invocation, call.parsed
    assert invocation is not None and parsed is not None
    # Decided first, so that a family that takes no prefix counts
    # prefix_skipped however its miss is compiled, and a prefix that
    # applies compiles the whole call (distcc spreads calls, not steps).
    prefix = prefix_command(call, config)
    if prefix is None and hooks is not None and call.deps is not None and call.context is not None:
        # The family's own compile, when it has one. Its processes run
        # through `run_step` (`PluginContext.run_compile_step`), watched
        # like the compiler's; `Cancelled` passes the guard. Any other
        # exception there is the guard's: the call runs uncached (the
        # client runs the compiler) and is counted as plugin:run.
        deps, context = call.deps, call.context
        ran = guard("run", lambda: hooks.run_compile(invocation, parsed, deps, context))
        if isinstance(ran, CompileResult):
            return ran
    arguments = parsed.run_arguments if parsed.run_arguments is not None else invocation.arguments
    if call.deps is not None and call.deps.run_arguments is not None:
        arguments = call.deps.run_arguments  # discovery's (a scratch dependency file)
    env = parsed.run_environment if parsed.run_environment is not None else invocation.env
    argv = [str(invocation.compiler), *arguments]
    if prefix is None:
        return _run(call, argv, invocation.cwd, env, forward=True)
    return _run_prefixed(call, prefix, argv, invocation.cwd, env)


def run_step(call: Call, argv: Sequence[str], cwd: Path, env: Mapping[str, str]) -> subprocess.CompletedProcess[bytes]:
    """One process of a compile that a family runs in steps of its own
    (`PluginContext.run_compile_step`), run as the compiler is: the
    caller's umask, no stdin, a process group of its own, the client
    watched. Raises `Cancelled` when the client is gone -- already before
    the step starts (a plugin that swallowed the first one starts nothing
    more), or while it runs, after terminating its whole group."""
    if call.client_gone():
        raise Cancelled("the client went away between the compile's steps")
    result = _run(call, argv, cwd, env)
    return subprocess.CompletedProcess(list(argv), result.exit_code, result.stdout, result.stderr)


def prefix_text(call: Call, config: Any = None) -> str | None:
    """``PYCACHE_PREFIX_COMMAND`` for this call (its environment first, then
    the configuration), or None when it is unset or blank."""
    assert call.invocation is not None
    text = call.invocation.env.get(names.PREFIX_COMMAND)
    if text is None and config is not None:
        text = config.value(names.PREFIX_COMMAND)
    return text if text and text.strip() else None


def prefix_command(call: Call, config: Any = None) -> list[str] | None:
    """The words of the prefix for this call's compile, or None to compile locally."""
    text = prefix_text(call, config)
    if text is None:
        return None
    family = call.family
    if family is None or not family.accepts_prefix_command:
        call.delta.add("prefix_skipped")
        log.info("[%s] %s is not used for family %s: compiled locally", call.label, names.PREFIX_COMMAND,
                 family.name if family else "?")  # fmt: skip
        return None
    try:
        words = shlex.split(text)
    except ValueError as exc:
        call.delta.add("prefix_failures")
        call.delta.error("prefix_command", f"{names.PREFIX_COMMAND}={text!r} cannot be split into words: {exc}; compiled locally")
        return None
    return words or None


def _run(call: Call, argv: Sequence[str], cwd: Path, env: Mapping[str, str], forward: bool = False) -> CompileResult:
    """Run the compile. ``forward``: whole lines of its stderr go to the
    client as they come (`CompileRequest.early_stderr`; counted in
    ``call.stderr_sent``): cargo starts a crate's dependents when rustc
    prints that its metadata is written, not when the whole compile ends."""
    request = call.request
    sink = request.early_stderr if forward else None
    if sink is not None:
        assert call.parsed is not None and call.invocation is not None
        if call.parsed.colour_diagnostics and not call.invocation.stderr_is_tty:
            sink = _stripped(sink)
    started = time.monotonic()
    proc = spawning.start(
        argv,
        cwd=cwd,
        env=dict(env),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
        umask=request.umask if request.umask is not None else -1,
    )
    try:
        stdout, stderr, call.stderr_sent = _communicate(proc, request.client, sink)
    except BaseException:
        _terminate_group(proc)
        raise
    finally:
        proc.stdout.close()  # type: ignore[union-attr]
        proc.stderr.close()  # type: ignore[union-attr]
    return CompileResult(exit_code=proc.wait(), stdout=stdout, stderr=stderr, duration=time.monotonic() - started)


def _stripped(sink: Callable[[bytes], None]) -> Callable[[bytes], None]:
    """``sink`` for a compile coloured for the cache's sake: the client gets
    its lines without colour, as it gets the reply's stderr."""
    return lambda lines: sink(strip_colour(lines))


def _communicate(
    proc: subprocess.Popen, client: ClientWatch | None, sink: Callable[[bytes], None] | None = None
) -> tuple[bytes, bytes, int]:
    """Everything the compiler prints, until it closes both pipes, and how
    many bytes of its stderr went to ``sink`` already (whole lines, as they
    came); raises `Cancelled` as soon as ``client`` is gone."""
    if client is None:
        return (*proc.communicate(), 0)
    chunks: dict[int, list[bytes]] = {proc.stdout.fileno(): [], proc.stderr.fileno(): []}  # type: ignore[union-attr]
    err_fd = proc.stderr.fileno()  # type: ignore[union-attr]
    unsent = b""
    sent = 0
    with selectors.DefaultSelector() as selector:
        for fd in chunks:
            selector.register(fd, selectors.EVENT_READ)
        selector.register(client.fileno(), selectors.EVENT_READ)
        open_pipes = len(chunks)
        while open_pipes:
            for key, _events in selector.select():
                if key.fd not in chunks:  # the client's connection stirred
                    if client.gone():
                        raise Cancelled("the client went away during the compile")
                    selector.unregister(key.fd)  # bytes it should not send: stop watching
                    continue
                data = os.read(key.fd, 1 << 16)
                if data:
                    chunks[key.fd].append(data)
                    if sink is not None and key.fd == err_fd:
                        unsent += data
                        end = unsent.rfind(b"\n") + 1
                        if end:
                            sink(unsent[:end])
                            sent += end
                            unsent = unsent[end:]
                else:
                    selector.unregister(key.fd)
                    open_pipes -= 1
    out, err = chunks.values()
    return b"".join(out), b"".join(err), sent


def _terminate_group(proc: subprocess.Popen) -> None:
    """Terminate the compiler and everything it started (cc1, as, the
    linker, a prefix command's client), SIGKILL what still runs after the
    grace period; reaped only then, so its process group id stays ours."""
    _signal_group(proc.pid, signal.SIGTERM)
    deadline = time.monotonic() + TERMINATE_GRACE
    while not _exited(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.01)
    _signal_group(proc.pid, signal.SIGKILL)  # stragglers of the group, or the leader itself
    proc.wait()


def _exited(pid: int) -> bool:
    """Whether ``pid`` exited, without reaping it."""
    try:
        return os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
    except ChildProcessError:
        return True


def _signal_group(pgid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signum)


def _run_prefixed(call: Call, prefix: list[str], argv: list[str], cwd: Path, env: Mapping[str, str]) -> CompileResult:
    shown = shlex.join(prefix)
    try:
        result = _run(call, [*prefix, *argv], cwd, env)  # the prefix is found on the call's PATH
    except OSError as exc:
        why = f"{shown} could not be started: {exc.strerror or exc}"
    else:
        stderr, own = _launcher_lines(prefix[0], result.stderr)
        if own:
            log.info("[%s] %s said: %s", call.label, shown, " | ".join(own))
        if result.exit_code == 0:
            call.delta.add("prefix_compiles")
            return CompileResult(exit_code=0, stdout=result.stdout, stderr=stderr, duration=result.duration)
        tail = (" ".join(own) or result.stderr.decode("utf-8", "replace")).strip()[-STDERR_TAIL:]
        why = f"{shown} exited with {result.exit_code}" + (f": {tail}" if tail else "")
    local = _run(call, argv, cwd, env)
    if local.exit_code == 0:
        call.delta.add("prefix_failures")
        call.delta.error("prefix_command", f"{why}; compiled locally instead")
        log.warning("[%s] %s; compiled locally instead", call.label, why)
    else:  # the compile itself fails: its own diagnostics, as without a prefix
        log.info("[%s] %s; the local compile fails too (exit %d)", call.label, why, local.exit_code)
    return local


def _launcher_lines(program: str, stderr: bytes) -> tuple[bytes, list[str]]:
    """``stderr`` without the lines the launcher wrote in its own name, and those lines."""
    name = re.escape(os.path.basename(program)).encode()
    own_line = re.compile(rb"^" + name + rb"\[\d+\]", re.IGNORECASE)
    kept, own = [], []
    for line in stderr.splitlines(keepends=True):
        (own if own_line.match(line) else kept).append(line)
    return b"".join(kept), [line.decode("utf-8", "replace").strip() for line in own]
