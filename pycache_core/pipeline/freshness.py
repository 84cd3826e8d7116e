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
from ..digests import Signature

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
    paths: Iterable[str | os.PathLike[str]], started_ns: int, signed: Mapping[str, tuple[str, Signature]] | None = None
) -> tuple[Path, str] | None:
    """The first of ``paths`` that is gone or was written at or after
    ``started_ns`` (`file_clock_ns` when the call started), with why;
    None when every one is provably unchanged since then. A path in
    ``signed`` (hashed after the compile: `CallContext.hashed_after_compile`)
    is judged by the signature it was hashed under, not stat'ed again."""
    signed = signed or {}
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
        if _written_since(mtime_ns, ctime_ns, started_ns):
            return Path(path), "written since the call started"
    return None


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
    changed = first_changed(files, call.started_ns, context.hashed_after_compile)
    if changed is not None:
        path, why = changed
        reason = "input-vanished" if why.startswith("gone") else "input-changed-during-compile"
        return NotCacheable(reason, f"{path}: {why}; the result may hold another content than its key names")
    absent = [*(deps.absent if deps else ()), *(reported.absent if reported else ())]
    appeared = any_appeared([join(cwd, fspath(p)) for p in absent], context.existing)
    if appeared is not None:
        return NotCacheable("input-changed-during-compile", f"{appeared} appeared while compiling")
    return None
