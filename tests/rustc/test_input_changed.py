"""Deferred discovery (rustc keys a non-linking crate from the dep-info its
own compile writes, hashed after the compile) must not store an entry when
an input changed while the compile ran (issue 13 E): the hash would name the
new content, the rlib holds the old. Here "rustc" is a wrapper that runs the
real rustc and then edits the source, as an editor saving mid-build would.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from pycache_core.connection import control
from pycache_core.stats import StatsFile

pytestmark = pytest.mark.skipif(shutil.which("rustc") is None, reason="rustc is not installed")

WRAPPER = """#!/bin/sh
"{real}" "$@"
status=$?
case " $* " in
    *" --emit="*) if [ -n "$EDIT_AFTER" ]; then printf 'pub fn edited() -> u32 {{ 2 }}\\n' >> "$EDIT_AFTER"; fi ;;
esac
exit $status
"""


def test_source_edited_during_the_compile_is_not_stored(pycache_env, tmp_path):
    real = Path(subprocess.run(["rustc", "--print", "sysroot"], capture_output=True, text=True, check=True).stdout.strip())
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "rustc").write_text(WRAPPER.format(real=real / "bin" / "rustc"))
    (bin_dir / "rustc").chmod(0o755)
    work = tmp_path / "w"
    (work / "src").mkdir(parents=True)
    (work / "out").mkdir()
    (work / "src" / "lib.rs").write_text("pub fn original() -> u32 { 1 }\n")
    # As cargo asks: dep-info with the compile, so discovery is deferred.
    command = [str(bin_dir / "rustc"), "--crate-name", "edited", "--crate-type", "lib", "--edition=2021",
               "--emit=dep-info,metadata,link", "--out-dir", "out", "src/lib.rs"]
    rlib = work / "out" / "libedited.rlib"

    def counts():
        control(pycache_env.env, "flush-stats")  # the server keeps counts in memory a moment
        stats = StatsFile(pycache_env.cache_dir).read()
        return {k: stats["totals"][k] for k in ("misses", "hits", "errors")}, stats["not_cacheable_reasons"]

    edited = pycache_env.compile(*command, cwd=work, env={"EDIT_AFTER": "src/lib.rs"})
    assert edited.returncode == 0, edited.stderr
    assert b"edited" in (work / "src" / "lib.rs").read_bytes()
    assert counts() == ({"misses": 1, "hits": 0, "errors": 0}, {"input-changed-during-compile": 1})

    # The next build sees the edited source: compiled (no stale entry to
    # hit), and the rlib is what rustc itself makes of it.
    again = pycache_env.compile(*command, cwd=work)
    assert again.returncode == 0, again.stderr
    ours = rlib.read_bytes()
    reference = subprocess.run(command, cwd=work, capture_output=True)
    assert reference.returncode == 0, reference.stderr
    assert rlib.read_bytes() == ours
    assert counts()[0] == {"misses": 2, "hits": 0, "errors": 0}

    # That compile was stored: now a hit, with the same bytes.
    rlib.unlink()
    hit = pycache_env.compile(*command, cwd=work)
    assert hit.returncode == 0, hit.stderr
    assert rlib.read_bytes() == ours
    assert counts()[0] == {"misses": 2, "hits": 1, "errors": 0}
