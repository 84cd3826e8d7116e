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

Two margins make the comparison safe against the clocks involved: the
kernel stamps files with a coarse clock that may lag the wall clock by a
scheduler tick (`MARGIN_NS`), and a file system that stores whole seconds
(``ctime`` with no sub-second part) is given `COARSE_MARGIN_NS`. A file
edited within the margin before the call is treated as changed: the call
is compiled and not stored, and the next one stores normally. A remote
file system whose server clock runs behind this machine's by more than
the margin defeats the proof (as it does ccache's).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from ..api import NotCacheable, Outputs

if TYPE_CHECKING:
    from .call import Call

#: The coarse kernel clock lags the wall clock by at most a tick (1-10 ms).
MARGIN_NS = 20_000_000
#: Whole-second timestamps: the file may have been written up to two seconds
#: (FAT's granularity) after the second it is stamped with.
COARSE_MARGIN_NS = 2_000_000_000


def first_changed(paths: Iterable[str | os.PathLike[str]], started_ns: int) -> tuple[Path, str] | None:
    """The first of ``paths`` that is gone or was written at or after
    ``started_ns`` (``time.time_ns()`` when the call started), with why;
    None when every one is provably unchanged since then."""
    for path in dict.fromkeys(os.fspath(p) for p in paths):
        try:
            st = os.stat(path)
        except OSError as exc:
            return Path(path), f"gone ({exc.strerror or exc})"
        newest = max(st.st_mtime_ns, st.st_ctime_ns)
        margin = COARSE_MARGIN_NS if st.st_ctime_ns % 1_000_000_000 == 0 else MARGIN_NS
        if newest >= started_ns - margin:
            return Path(path), "written since the call started"
    return None


def any_appeared(paths: Iterable[str | os.PathLike[str]]) -> Path | None:
    """The first of ``paths`` (that had to stay absent) that exists now."""
    for path in paths:
        if os.path.lexists(path):
            return Path(path)
    return None


def stale_inputs(call: Call, outputs: Outputs | None) -> NotCacheable | None:
    """Why the compile just run cannot be stored, if any file it depended
    on changed since the call started: every file hashed for its key, its
    sources, the files its dependencies name (discovered, or reported by
    the compile) and the paths that had to stay absent."""
    invocation, parsed, context = call.ready
    deps = call.deps
    reported = outputs.dependencies if outputs is not None else None
    listed = [*(deps.files if deps else ()), *(reported.files if reported else ())]
    files = [*context.hashed_files, *parsed.sources, *(invocation.resolve(p) for p in listed)]
    changed = first_changed(files, call.started_ns)
    if changed is not None:
        path, why = changed
        reason = "input-vanished" if why.startswith("gone") else "input-changed-during-compile"
        return NotCacheable(reason, f"{path}: {why}; the result may hold another content than its key names")
    absent = [*(deps.absent if deps else ()), *(reported.absent if reported else ())]
    appeared = any_appeared(invocation.resolve(p) for p in absent)
    if appeared is not None:
        return NotCacheable("input-changed-during-compile", f"{appeared} appeared while compiling")
    return None
