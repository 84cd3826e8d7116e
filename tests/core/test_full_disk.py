"""A full disk (issue 13 D): the cache directory -- entries and the stats
file alike -- on a real filesystem with no space left. The build goes on,
and the failed cache writes are counted: the server keeps the counts in
memory and ``pycache stats`` shows them until they can be written.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(shutil.which("gcc") is None, reason="gcc is not installed")


@pytest.fixture
def full_disk(tmp_path: Path):
    """A small tmpfs, filled to the last byte. Mounting needs root: CI runs
    the suite as root (Debian 12), so there it always runs."""
    if os.geteuid() != 0:
        if os.environ.get("CI"):
            pytest.fail("CI must run as root: a real full filesystem needs a tmpfs mount")
        pytest.skip("a real full filesystem needs a tmpfs mount, which needs root (CI runs as root)")
    mount_point = tmp_path / "full"
    mount_point.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=512k,mode=0755", "tmpfs", str(mount_point)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        if os.environ.get("CI"):
            pytest.fail(f"cannot mount a tmpfs as root in CI: {mounted.stderr.strip()}")
        pytest.skip(f"cannot mount a tmpfs here (a container without CAP_SYS_ADMIN?): {mounted.stderr.strip()}")
    try:
        (mount_point / "cache").mkdir()
        fd = os.open(mount_point / "filler", os.O_WRONLY | os.O_CREAT)
        try:
            while True:
                os.write(fd, b"\0" * 4096)
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
        finally:
            os.close(fd)
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], capture_output=True)


def test_full_disk_the_build_goes_on_and_the_failures_are_counted(pycache_env, tmp_path, full_disk):
    pycache_env.set(PYCACHE_DIR=str(full_disk / "cache"))
    work = tmp_path / "w"
    work.mkdir()
    (work / "a.c").write_text("int answer(void) { return 42; }\n")
    reference = subprocess.run(["gcc", "-c", "a.c", "-o", "ref.o"], cwd=work, capture_output=True)
    assert reference.returncode == 0

    done = pycache_env.compile("gcc", "-c", "a.c", "-o", "a.o", cwd=work)
    assert (done.returncode, done.stdout, done.stderr) == (0, b"", b"")
    assert (work / "a.o").read_bytes() == (work / "ref.o").read_bytes()

    shown = pycache_env.run(["stats", "--json"])
    assert shown.returncode == 0, shown.stderr
    stats = json.loads(shown.stdout)
    assert (stats["totals"]["requests"], stats["totals"]["misses"]) == (1, 1)
    assert "No space left on device" in stats["tiers"]["local"]["last_error"]
    assert stats["errors"]["storage:local"]["count"] >= 1
    assert "No space left on device" in stats["unsaved"]
    assert b"some counts exist only in the server's memory" in shown.stderr
    assert not (full_disk / "cache" / "stats.json").exists()

    # Space again: the counts kept in memory reach the file.
    (full_disk / "filler").unlink()
    shown = pycache_env.run(["stats", "--json"])
    stats = json.loads(shown.stdout)
    assert "unsaved" not in stats and shown.stderr == b""
    written = json.loads((full_disk / "cache" / "stats.json").read_text())
    assert (written["totals"]["requests"], written["totals"]["misses"]) == (1, 1)
    assert written["errors"]["storage:local"]["count"] >= 1
