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
`settle`, just before the compile, reads each file hashed so far whose
stamp is that close again once the clock is past it: the same digest
then proves the content the key took is the one the compile will read,
and from then on a write would carry a later stamp. Files first hashed
after the compile (the ones its own dependency output names) are judged
from the compile's start, not the call's: whatever the call read before
cannot have put their content into the key.
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


def settle(call: Call) -> None:
    """Just before the compile: read again each file hashed so far that was
    written too close to the call's start to be vouched for, once the clock
    is past its stamp, and note the compile's own start (the module's
    docstring says why). A file that reads the same then is judged from
    that moment on (``call.settled_ns``); one that does not, or that the
    wait's bound leaves unread, stays judged from the call's start, and
    the result is not stored."""
    context = call.context
    deadline = time.monotonic_ns() + SETTLE_WAIT_NS
    if context is not None:
        for name, digest in context.hashed_before_compile.items():
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
    call.compile_started_ns = file_clock_ns()


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
    the files `settle` read again, and the files hashed only after the
    compile (what its own dependency output names) that the key took
    nothing from before it -- neither hashed nor discovered then."""
    later = dict(call.settled_ns)
    context, started = call.context, call.compile_started_ns
    if context is None or started is None or not context.hashed_after_compile:
        return later
    invocation = call.invocation
    cwd = os.fspath(invocation.cwd) if invocation is not None else ""
    join, fspath = os.path.join, os.fspath
    before = {join(cwd, name) for name in context.hashed_before_compile}
    if call.deps is not None:
        before.update(join(cwd, fspath(p)) for p in call.deps.files)
    if call.parsed is not None:
        before.update(join(cwd, fspath(p)) for p in call.parsed.sources)
    for name in context.hashed_after_compile:
        if join(cwd, name) not in before:
            later.setdefault(name, started)
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
