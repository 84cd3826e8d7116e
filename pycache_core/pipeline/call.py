"""One call's state as it goes through the pipeline, and the one guard
around every plugin hook.

`CompileRequest` is what the client saw, `CompileReply` what it must do.
`Call` holds what each stage found so far -- the compiler and family, the
parsed invocation, the key components, the compile's result -- so that the
next stage, `pycache explain` and a fault handler all read the same record.
`NoCache` is the one internal signal for "stop caching this call": `guard`
turns a plugin's exception into it, and nothing else is raised past
`pycache_core.pipeline.compile.compile_request`.
"""

from __future__ import annotations

import logging
import os
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

from ..api import (
    CompileResult,
    CompilerFamily,
    Dependencies,
    Invocation,
    KeyComponent,
    ParsedInvocation,
)
from ..context import CallContext
from ..errors import ProbeError
from ..paths import BaseDirectories
from ..stats import StatsDelta
from .freshness import file_clock_ns

log = logging.getLogger("pycache")

T = TypeVar("T")


class ClientWatch(Protocol):
    """The calling client, as the server sees it while serving the call."""

    def fileno(self) -> int:
        """A descriptor that polls readable or hung up once the client is gone."""

    def gone(self) -> bool:
        """Whether the client went away (its build was interrupted): the
        call must then write no output, entry or manifest."""


@dataclass(frozen=True, slots=True, kw_only=True)
class CompileRequest:
    """A wrapped call as the client saw it. ``argv[0]`` is the compiler as
    typed (a name to look up on PATH, or a path). ``umask``: the caller's,
    for every file written for the call (None: this process's own).
    ``client``: the waiting client when it is another process (the server's
    callers); None when the caller is this process."""

    argv: tuple[str, ...]
    cwd: str
    env: Mapping[str, str]
    stderr_is_tty: bool = False
    client_executable: str = ""
    umask: int | None = None
    client: ClientWatch | None = None
    #: Sends whole lines of the compiler's stderr to the client while the
    #: compile runs (the server's callers); None: all of it in the reply.
    early_stderr: Callable[[bytes], None] | None = None

    def caller_umask(self) -> int:
        if self.umask is not None:
            return self.umask
        current = os.umask(0o022)  # no way to read it without setting it
        os.umask(current)
        return current


@dataclass(frozen=True, slots=True, kw_only=True)
class CompileReply:
    """What the client must do: print and exit, or exec the compiler itself.

    ``execute``: the resolved compiler, when the call is not served by the
    cache and must run in the caller's own process (it keeps the caller's
    stdin, terminal and signals); ``outcome`` names what happened, for logs
    and tests ("hit", "miss", "not-cacheable", ...).
    """

    exit_code: int = 0
    stdout: bytes = b""
    stderr: bytes = b""
    execute: str | None = None
    outcome: str = ""


@dataclass(slots=True)
class Call:
    """What the stages of one call found so far, filled in pipeline order.

    A field stays at its default until its stage ran: ``compiler`` and
    ``family`` (resolve), ``invocation`` and ``parsed`` (parse), ``bases``,
    ``context`` and ``core`` (open), ``direct`` and
    ``manifest_key`` (direct mode), ``deps``, ``extra`` and ``result_key``
    (dependencies; ``result_key`` stays None while deferred to the compile),
    ``compiled`` (the compiler ran), ``reported`` (the components a deferred
    compile reported; then ``result_key`` too -- or, where it asked to be
    keyed by discovery instead, ``deps`` and ``result_key`` are discovery's).
    """

    request: CompileRequest
    started: float = field(default_factory=time.monotonic)
    #: when the call started, before it read any input, by the clock files
    #: are stamped with: files written since cannot be vouched for (`freshness`)
    started_ns: int = field(default_factory=file_clock_ns)
    #: set by `freshness.settle` before discovery and before the compile:
    #: when each started, what was hashed before discovery, and for each
    #: just-written file read again then, when it was
    discovery_started_ns: int | None = None
    hashed_before_discovery: tuple[str, ...] = ()
    compile_started_ns: int | None = None
    settled_ns: dict[str, int] = field(default_factory=dict)
    delta: StatsDelta = field(default_factory=StatsDelta)
    label: str = ""
    compiler: str | None = None
    family: CompilerFamily | None = None
    invocation: Invocation | None = None
    parsed: ParsedInvocation | None = None
    bases: BaseDirectories | None = None
    context: CallContext | None = None
    recache: bool = False
    core: tuple[KeyComponent, ...] = ()
    direct: tuple[KeyComponent, ...] | None = None
    manifest_key: str | None = None
    deps: Dependencies | None = None
    extra: tuple[KeyComponent, ...] = ()
    reported: tuple[KeyComponent, ...] = ()
    result_key: str | None = None
    compiled: CompileResult | None = None
    #: Bytes at the start of ``compiled.stderr`` the client already printed
    #: (`CompileRequest.early_stderr`): a reply carries only the rest.
    stderr_sent: int = 0

    def client_gone(self) -> bool:
        """Whether the client went away: nothing more may be written for it."""
        client = self.request.client
        return client is not None and client.gone()

    def key_components(self) -> tuple[KeyComponent, ...]:
        """The result key's components, in key order: the core's, the
        dependencies', what a deferred compile reported, every plugin's
        extra ones."""
        assert self.deps is not None
        return self.core + tuple(self.deps.components) + self.reported + self.extra

    # Typed access for stages that run after the one that fills the field.

    @property
    def ready(self) -> tuple[Invocation, ParsedInvocation, CallContext]:
        assert self.invocation is not None and self.parsed is not None and self.context is not None
        return self.invocation, self.parsed, self.context


class Cancelled(Exception):
    """Internal: the client went away; stop the call, write nothing more."""


class NoCache(Exception):
    """Internal: stop caching this call, count ``kind`` and run the compiler."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


def guard(stage: str, fn: Callable[[], T]) -> T:
    """Run a plugin hook; an exception in it makes the call uncached
    (counted as ``plugin:<stage>``, or ``probe`` for a `ProbeError`);
    `Cancelled` (raised by a compile step the hook ran) goes through."""
    try:
        return fn()
    except Cancelled:  # the client went away while the hook ran a compile step: not the plugin's fault
        raise
    except ProbeError as exc:
        raise NoCache("probe", f"{stage}: {exc}") from exc
    except Exception as exc:
        log.error("plugin hook failed in %s: %s\n%s", stage, exc, traceback.format_exc())
        raise NoCache(f"plugin:{stage}", f"{type(exc).__name__}: {exc}") from exc
