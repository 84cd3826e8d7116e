"""Starting processes from a process whose other threads write files that
may be executed.

A child process starts as a copy of its parent and holds every file
descriptor the parent holds at that instant -- also one another thread has
open to write a restored output -- until it executes its program (only then
does ``O_CLOEXEC`` close them). Linux refuses to execute a file that any
process holds open for writing ("Text file busy", ``ETXTBSY``): a build
script cargo runs the moment its hit is restored fails, and so the build,
when the server happened to start a compile for another call while it wrote
the script. (Go's ``syscall.ForkLock`` and golang/go#22315 are the same
lesson.)

One gate with two sides closes that window: any number of threads may hold
files open for writing at once (`writing`, from the open to the close),
and a thread starting a process (`spawning`, every `start` here) waits
until none does and keeps others from opening one until its child has
executed its program -- `subprocess.Popen` returns only then. A waiting
spawn goes before writers that come after it, so a stream of restores
cannot starve the compiles.

Every process the server starts goes through `start` or `run`; every file
it writes that a build may execute goes through `writing`
(`pycache_core.pipeline.restore.atomic_write` does). Cache entries, logs and
the journal are never executed and need no gate.
"""

from __future__ import annotations

import contextlib
import subprocess
import threading
from collections.abc import Iterator, Sequence
from typing import Any


class _Gate:
    """A shared side for writers, an exclusive one for spawns, spawns first."""

    def __init__(self) -> None:
        self._changed = threading.Condition(threading.Lock())
        self._writers = 0
        self._spawning = False
        self._spawns_waiting = 0

    @contextlib.contextmanager
    def writing(self) -> Iterator[None]:
        with self._changed:
            while self._spawning or self._spawns_waiting:
                self._changed.wait()
            self._writers += 1
        try:
            yield
        finally:
            with self._changed:
                self._writers -= 1
                if not self._writers:
                    self._changed.notify_all()

    @contextlib.contextmanager
    def spawning(self) -> Iterator[None]:
        with self._changed:
            self._spawns_waiting += 1
            try:
                while self._spawning or self._writers:
                    self._changed.wait()
            finally:
                self._spawns_waiting -= 1
            self._spawning = True
        try:
            yield
        finally:
            with self._changed:
                self._spawning = False
                self._changed.notify_all()


_GATE = _Gate()

#: Hold while a file a build may execute is open for writing here.
writing = _GATE.writing


def start(argv: Sequence[str], **options: Any) -> subprocess.Popen:
    """`subprocess.Popen` (same options) once no file is open for writing;
    when it returns, the child runs its own program and holds none of ours."""
    with _GATE.spawning():
        return subprocess.Popen(list(argv), **options)


def run(argv: Sequence[str], *, input: bytes | None = None, **options: Any) -> subprocess.CompletedProcess[bytes]:
    """`subprocess.run` with output captured, started through `start`; its
    stdin is ``input``, or nothing (never the server's own)."""
    stdin = subprocess.PIPE if input is not None else subprocess.DEVNULL
    proc = start(argv, stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **options)
    with proc:
        try:
            stdout, stderr = proc.communicate(input)
        except BaseException:
            proc.kill()
            raise
    return subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)
