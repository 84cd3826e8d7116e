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
