"""The proof that a file was not written since a call started
(`pycache_core.pipeline.freshness`): never wrong for a file written after
the start, and on Linux not fooled into distrust by one written a few
milliseconds before it (cargo starts a crate ~17 ms after its dependency's
.rmeta is written)."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

from pycache_core.pipeline.freshness import file_clock_ns, first_changed


def test_a_file_written_after_the_start_is_never_vouched_for(tmp_path: Path) -> None:
    # Many tries: where the kernel stamps files with its coarse clock, a
    # start read from the wall clock (up to a tick ahead) fails some of these.
    for i in range(300):
        path = tmp_path / f"input{i}.h"  # new each time: a stamp nobody asked for is a coarse one
        started = file_clock_ns()
        path.write_text(f"#define N {i}\n")
        changed = first_changed([path], started)
        assert changed is not None and changed[1] == "written since the call started", (i, changed)


def test_a_file_gone_since_is_named(tmp_path: Path) -> None:
    path = tmp_path / "gone.h"
    changed = first_changed([path], file_clock_ns())
    assert changed is not None and changed[0] == path and changed[1].startswith("gone")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the file clock is known on Linux only")
def test_a_file_written_just_before_the_start_is_vouched_for(tmp_path: Path) -> None:
    path = tmp_path / "dep.rmeta"
    path.write_bytes(b"rmeta")
    time.sleep(0.010)  # half the 20 ms a wall-clock start would need
    assert first_changed([path], file_clock_ns()) is None


def test_a_file_hashed_after_the_compile_is_judged_by_the_signature_it_was_hashed_under(tmp_path: Path) -> None:
    from pycache_core.digests import FileDigests

    digests = FileDigests()
    before, after = tmp_path / "before.h", tmp_path / "after.h"
    before.write_text("#define OLD 1\n")
    time.sleep(0.01)
    started = file_clock_ns()
    after.write_text("#define NEW 1\n")  # written once the call started
    signed = {}
    for path in (before, after):
        digest, signature = digests.signed_digest(path)
        assert signature is not None
        signed[str(path)] = (digest, signature)
    before.unlink()  # the signature vouches for what was hashed, not for what is there now
    assert first_changed([before], started, signed) is None
    assert first_changed([before], started)[1].startswith("gone")
    assert first_changed([before, after], started, signed) == (after, "written since the call started")


# --- settle: a file written in the tick the call arrived in ------------------------


def _call(tmp_path: Path, started: int, before: dict[str, str], after: dict | None = None, discovered=()):
    """What `settle` and `later_starts` read of a call."""
    from types import SimpleNamespace

    context = SimpleNamespace(hashed_before_compile=before, hashed_after_compile=after or {})
    return SimpleNamespace(context=context, started_ns=started, settled_ns={}, compile_started_ns=None,
                           discovery_started_ns=None, hashed_before_discovery=(),
                           invocation=SimpleNamespace(cwd=tmp_path), deps=SimpleNamespace(files=list(discovered)),
                           parsed=SimpleNamespace(sources=[]))


def _stamp(path: Path) -> int:
    st = path.stat()
    return max(st.st_mtime_ns, st.st_ctime_ns)


def test_settle_reads_a_just_written_file_again_and_then_vouches_for_it(tmp_path: Path) -> None:
    """A dependency written in the very tick the call arrived (the native
    client reaches the server a millisecond after cargo starts it): read
    again once the clock is past its stamp, the same content is vouched
    for from then on, and the compile's start is noted."""
    from pycache_core.digests import hash_file
    from pycache_core.pipeline.freshness import later_starts, settle

    rlib = tmp_path / "libdep.rlib"
    rlib.write_bytes(b"rlib")
    started = _stamp(rlib)  # the call arrived in the same tick
    call = _call(tmp_path, started, {str(rlib): hash_file(rlib)})
    assert first_changed([rlib], started) is not None  # the call's start alone cannot vouch for it
    settle(call)
    assert call.settled_ns[str(rlib)] > _stamp(rlib)
    assert call.compile_started_ns >= call.settled_ns[str(rlib)]
    assert first_changed([rlib], started, later=later_starts(call)) is None
    rlib.write_bytes(b"RLIB")  # written after settle read it: never vouched for
    assert first_changed([rlib], started, later=later_starts(call)) == (rlib, "written since the call started")


def test_settle_never_vouches_for_a_file_that_reads_otherwise_than_the_key_took_it(tmp_path: Path) -> None:
    from pycache_core.digests import hash_file
    from pycache_core.pipeline.freshness import later_starts, settle

    header = tmp_path / "h.h"
    header.write_text("#define H 1\n")
    taken = hash_file(header)
    header.write_text("#define H 2\n")  # rewritten in the same tick, after the key took it
    started = _stamp(header)
    call = _call(tmp_path, started, {str(header): taken})
    settle(call)
    assert call.settled_ns == {}
    assert first_changed([header], started, later=later_starts(call)) == (header, "written since the call started")


def test_files_first_read_by_the_compile_are_judged_from_the_compile_s_start(tmp_path: Path) -> None:
    """A header only the compile's own dependency output names, written
    after the call arrived and before the compile started, holds what the
    compile read; one discovered before the compile (its content may be in
    the key) stays judged from the call's start."""
    from pycache_core.digests import FileDigests
    from pycache_core.pipeline.freshness import later_starts, settle

    started = file_clock_ns()
    time.sleep(0.002)
    generated, discovered = tmp_path / "generated.h", tmp_path / "discovered.h"
    generated.write_text("#define G 1\n")
    discovered.write_text("#define D 1\n")
    time.sleep(0.010)
    call = _call(tmp_path, started, {}, discovered=[discovered.name])
    settle(call)  # discovery ran before the call (or not at all): no settle of its own
    digests = FileDigests()
    for path in (generated, discovered):
        digest, signature = digests.signed_digest(path)
        call.context.hashed_after_compile[str(path)] = (digest, signature)
    later = later_starts(call)
    assert later == {str(generated): call.compile_started_ns}
    signed = call.context.hashed_after_compile
    assert first_changed([generated], started, signed, later) is None
    assert first_changed([discovered], started, signed, later) == (discovered, "written since the call started")


def test_files_a_discovery_run_reads_are_judged_from_its_start(tmp_path: Path) -> None:
    """Generated headers written in the tick the call arrived, then read by
    the plugin's preprocessor run: settle waits for the clock to pass the
    call's start first, so they are vouched for; a header written after
    discovery started never is."""
    from pycache_core.pipeline.freshness import later_starts, settle

    generated, late = tmp_path / "generated.h", tmp_path / "late.h"
    generated.write_text("#define G 1\n")
    started = _stamp(generated)  # the call arrived in the same tick
    call = _call(tmp_path, started, {}, discovered=[generated.name, late.name])
    discovery = settle(call, "discovery")
    assert discovery > started and call.discovery_started_ns == discovery
    late.write_text("#define L 1\n")  # as if written while discovery ran
    later = later_starts(call)
    assert later[str(generated)] == discovery
    assert first_changed([generated], started) is not None
    assert first_changed([generated], started, later=later) is None
    assert first_changed([late], started, later=later) == (late, "written since the call started")
