"""Whether the files a call read are provably unchanged since it started.

A miss reads its inputs more than once: the key is made before the compile
(the source's digest, the preprocessed text), the compiler reads them
during it, and a manifest records digests after it. A file edited in
between would pair an object built from one content with a key or a
manifest record naming another -- a false hit waiting for the next call.

The proof is the one ccache uses: a file whose modification and change
times both lie before the call started was not written since, so every
read of it during the call saw the same content. ``ctime`` matters because
``mtime`` can be set back (``touch -d``, ``cp -p``, unpacking an archive);
the kernel sets ``ctime`` on every write and nobody can set it back.

The call's start is read from the clock files are stamped with: Linux
stamps them from the coarse wall clock (``CLOCK_REALTIME_COARSE``, up to a
scheduler tick behind the wall clock; multigrain stamps are finer, never
earlier), so a file written after the start carries a stamp at or after
it, and `STAMP_MARGIN_NS` only covers stamps truncated to microseconds.
Where that clock is not known, the wall clock is read and `MARGIN_NS`
covers the tick. Stamps truncated further get more: `COARSE_MARGIN_NS` for
whole seconds (``ctime`` with no sub-second part), `MARGIN_NS` for whole
milliseconds. A file edited within the margin before the call is treated
as changed: the call is compiled and not stored, and the next one stores
normally. (With the wall clock and its 20 ms margin, cargo's pipelined
builds lost a crate a build: the next crate starts some 17 ms after its
dependency's ``.rmeta`` is written.) A remote file system whose server
clock runs behind this machine's defeats the proof (as it does ccache's).

A call can arrive within the same tick as the write of a file it reads: the
native client reaches the server a millisecond or two after cargo starts
it, and cargo starts a crate the moment its dependency's rlib is written.
Such a file's stamp does not prove it was written before the call, so
`settle`, before discovery and before the compile, waits for the clock to
pass the call's start and reads each file hashed so far whose stamp is
that close again: the same digest then proves the content the key took is
the one the compile will read, and from then on a write would carry a
later stamp. Files first read by discovery, or first hashed after the
compile (the ones its own dependency output names), are judged from that
stage's start, not the call's: nothing the call read before it can have
put their content into the key.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from ..api import NotCacheable, Outputs
from ..digests import Signature, hash_file, signature

if TYPE_CHECKING:
    from .call import Call

#: The coarse kernel clock lags the wall clock by at most a tick (1-10 ms);
#: also the margin of millisecond stamps.
MARGIN_NS = 20_000_000
#: Whole-second timestamps: the file may have been written up to two seconds
#: (FAT's granularity) after the second it is stamped with.
COARSE_MARGIN_NS = 2_000_000_000
#: Start and stamps from the same clock: stamps cut to microseconds (or
#: anything finer than a millisecond).
STAMP_MARGIN_NS = 1_000_000
#: The longest `settle` waits, in all, for the clock to pass just-written
#: files' stamps; past it, those files stay judged from the call's start.
SETTLE_WAIT_NS = 25_000_000
#: Linux's clock id for CLOCK_REALTIME_COARSE (the time module has no name for it).
_CLOCK_REALTIME_COARSE = 5


def _file_clock() -> tuple[Callable[[], int], int]:
    """The clock to read a call's start from, and the margin it needs."""
    if sys.platform.startswith("linux"):
        try:
            time.clock_gettime_ns(_CLOCK_REALTIME_COARSE)
        except OSError:
            pass
        else:
            return partial(time.clock_gettime_ns, _CLOCK_REALTIME_COARSE), STAMP_MARGIN_NS
    return time.time_ns, MARGIN_NS


#: ``file_clock_ns()``: now, as the kernel would stamp a file written now.
file_clock_ns, _CLOCK_MARGIN_NS = _file_clock()


def first_changed(
    paths: Iterable[str | os.PathLike[str]],
    started_ns: int,
    signed: Mapping[str, tuple[str, Signature]] | None = None,
    later: Mapping[str, int] | None = None,
) -> tuple[Path, str] | None:
    """The first of ``paths`` that is gone or was written at or after
    ``started_ns`` (`file_clock_ns` when the call started) -- or for a path
    in ``later`` (`later_starts`), at or after the time it gives -- with
    why; None when every one is provably unchanged since then. A path in
    ``signed`` (hashed after the compile: `CallContext.hashed_after_compile`)
    is judged by the signature it was hashed under, not stat'ed again."""
    signed = signed or {}
    later = later or {}
    for path in dict.fromkeys(os.fspath(p) for p in paths):
        known = signed.get(path)
        if known is not None:
            mtime_ns, ctime_ns = known[1][3], known[1][4]
        else:
            try:
                st = os.stat(path)
            except OSError as exc:
                return Path(path), f"gone ({exc.strerror or exc})"
            mtime_ns, ctime_ns = st.st_mtime_ns, st.st_ctime_ns
        if _written_since(mtime_ns, ctime_ns, later.get(path, started_ns)):
            return Path(path), "written since the call started"
    return None


def settle(call: Call, stage: str = "compile") -> int:
    """Before a stage that reads the call's inputs -- ``"discovery"`` (a
    plugin's preprocessor run) or ``"compile"`` -- note when it started, as
    a reference for the files it is the first to read (`later_starts`).

    First, while the clock has not yet passed the call's start, wait until
    it has (bounded by `SETTLE_WAIT_NS`): a file written before the call
    arrived is then provably older than anything the stage reads. Then read
    again each file hashed so far that was written too close to the call's
    start to be vouched for, once the clock is past its stamp: one that
    reads the same is judged from that moment on (``call.settled_ns``); one
    that does not, or that the bound leaves unread, stays judged from the
    call's start, and the result is not stored. The module's docstring says
    why. Returns the stage's start."""
    context = call.context
    deadline = time.monotonic_ns() + SETTLE_WAIT_NS
    _past(call.started_ns, call.started_ns, deadline)
    if context is not None:
        for name, digest in context.hashed_before_compile.items():
            if name in call.settled_ns:
                continue
            try:
                st = os.stat(name)
            except OSError:
                continue  # gone: `stale_inputs` says so
            if not _written_since(st.st_mtime_ns, st.st_ctime_ns, call.started_ns):
                continue
            now = _past(st.st_mtime_ns, st.st_ctime_ns, deadline)
            if now is None:
                continue
            try:
                again = hash_file(name)
                unchanged = signature(os.stat(name)) == signature(st)
            except OSError:
                continue
            if again == digest and unchanged:
                call.settled_ns[name] = now
    started = file_clock_ns()
    if stage == "discovery":
        # After the compile (a deferred compile keyed by discovery after
        # all), what discovery reads was read by the compile too: from the
        # compile's start, a write shows in both.
        call.discovery_started_ns = call.compile_started_ns or started
        call.hashed_before_discovery = tuple(context.hashed_before_compile) if context is not None else ()
    else:
        call.compile_started_ns = started
    return started


def _past(mtime_ns: int, ctime_ns: int, deadline: int) -> int | None:
    """`file_clock_ns` once a file stamped so is provably written before it;
    None if that is not so before ``deadline`` (monotonic)."""
    while True:
        now = file_clock_ns()
        if not _written_since(mtime_ns, ctime_ns, now):
            return now
        if time.monotonic_ns() >= deadline:
            return None
        time.sleep(0.0005)


def later_starts(call: Call) -> dict[str, int]:
    """The paths `first_changed` judges from a later start than the call's:
    the files `settle` read again; the files discovery named (what the
    plugin's preprocessor run read) that nothing hashed before it, from
    discovery's start; and the files hashed only after the compile (what
    its own dependency output names) that nothing hashed before it, from
    the compile's start. A source, and any file hashed before the stage
    that read it, keeps the call's start: the key may hold what was read
    then."""
    later = dict(call.settled_ns)
    context = call.context
    if context is None:
        return later
    invocation = call.invocation
    cwd = os.fspath(invocation.cwd) if invocation is not None else ""
    join, fspath = os.path.join, os.fspath
    sources = {join(cwd, fspath(p)) for p in call.parsed.sources} if call.parsed is not None else set()

    def judge_from(started: int, names: Iterable, hashed_before: Iterable[str]) -> None:
        before = sources.union(join(cwd, name) for name in hashed_before)
        for name in map(fspath, names):
            full = join(cwd, name)
            if full not in before:
                later.setdefault(name, started)
                later.setdefault(full, started)

    if call.discovery_started_ns is not None and call.deps is not None:
        judge_from(call.discovery_started_ns, call.deps.files, call.hashed_before_discovery)
    if call.compile_started_ns is not None:
        discovered = tuple(map(fspath, call.deps.files)) if call.deps is not None else ()
        judge_from(call.compile_started_ns, context.hashed_after_compile, (*context.hashed_before_compile, *discovered))
    return later


def _written_since(mtime_ns: int, ctime_ns: int, started_ns: int) -> bool:
    """Whether a file stamped so may have been written at or after ``started_ns``."""
    if ctime_ns % 1_000_000_000 == 0:
        margin = COARSE_MARGIN_NS
    elif ctime_ns % 1_000_000 == 0:
        margin = max(MARGIN_NS, _CLOCK_MARGIN_NS)
    else:
        margin = _CLOCK_MARGIN_NS
    return max(mtime_ns, ctime_ns) >= started_ns - margin


def any_appeared(paths: list[str], existing: Callable[[Iterable[str]], set[str]]) -> Path | None:
    """The first of ``paths`` (that had to stay absent) that exists now, as
    ``existing`` (`PluginContext.existing`) finds them: a stat per
    directory, not per path -- a kernel unit has thousands."""
    present = existing(paths) if paths else set()
    return next((Path(p) for p in paths if p in present), None)


def stale_inputs(call: Call, outputs: Outputs | None) -> NotCacheable | None:
    """Why the compile just run cannot be stored, if any file it depended
    on changed since the call started: every file hashed for its key, its
    sources, the files its dependencies name (discovered, or reported by
    the compile) and the paths that had to stay absent."""
    invocation, parsed, context = call.ready
    deps = call.deps
    reported = outputs.dependencies if outputs is not None else None
    listed = [*(deps.files if deps else ()), *(reported.files if reported else ())]
    cwd, join, fspath = os.fspath(invocation.cwd), os.path.join, os.fspath  # strings: a kernel unit lists ~800 files
    files = [*context.hashed_files, *parsed.sources, *(join(cwd, fspath(p)) for p in listed)]
    changed = first_changed(files, call.started_ns, context.hashed_after_compile, later_starts(call))
    if changed is not None:
        path, why = changed
        reason = "input-vanished" if why.startswith("gone") else "input-changed-during-compile"
        return NotCacheable(reason, f"{path}: {why}; the result may hold another content than its key names")
    absent = [*(deps.absent if deps else ()), *(reported.absent if reported else ())]
    appeared = any_appeared([join(cwd, fspath(p)) for p in absent], context.existing)
    if appeared is not None:
        return NotCacheable("input-changed-during-compile", f"{appeared} appeared while compiling")
    return None
