"""An interrupted build with the real g++ (issue 13 A7; the mechanism is
shown with the toy compiler in tests/core/test_interrupted.py): Ctrl-C
on make kills the build's process group, pycache's client with it. The
server must kill g++ and its cc1plus, and write nothing for that call
afterwards -- no object over what the next build wrote, no entry.
"""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import pytest

from pycache_core.testing import PycacheEnv, process_alive, wait_until

from .support import GXX, write

pytestmark = pytest.mark.skipif(GXX is None, reason="g++ is not installed")

# Constant evaluation that keeps cc1plus busy for minutes: the test
# interrupts it within a second or two of its start.
SLOW = """\
constexpr unsigned long spin(unsigned long n) {
    unsigned long s = 0;
    for (unsigned long i = 0; i < n; ++i) s += i % 7;
    return s;
}
constexpr unsigned long value = spin(1000000000UL);
unsigned long answer() { return value; }
"""
LIMITS = ["-fconstexpr-loop-limit=2147483647", "-fconstexpr-ops-limit=2147483647000"]


def _processes_compiling(name: str) -> list[int]:
    """Pids of the processes whose command line names ``name`` (g++ and its cc1plus)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                words = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if any(word.endswith(name.encode()) for word in words) and process_alive(int(entry.name)):
                found.append(int(entry.name))
    return found


def _cc1plus(pids: list[int]) -> list[int]:
    def name(pid: int) -> str:
        try:
            return Path(f"/proc/{pid}/comm").read_text().strip()
        except OSError:
            return ""

    return [pid for pid in pids if name(pid) == "cc1plus"]


def test_ctrl_c_kills_gxx_and_nothing_is_written_after(pycache_env: PycacheEnv) -> None:
    root = pycache_env.root / "slow"
    write(root / "interrupted_unit.cpp", SLOW)
    write(root / "interrupted_unit.o", "written by the build before\n")
    build = subprocess.Popen(
        [pycache_env.executable, GXX, "-std=c++17", *LIMITS, "-c", "interrupted_unit.cpp", "-o", "interrupted_unit.o"],
        cwd=root, env=pycache_env.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
    )
    compiling = wait_until(lambda: _cc1plus(_processes_compiling("interrupted_unit.cpp")), "cc1plus to start", timeout=120)

    os.killpg(build.pid, signal.SIGINT)  # what Ctrl-C on make does to its group
    out, err = build.communicate(timeout=60)
    assert (build.returncode, out, err) == (-signal.SIGINT, b"", b"")

    # The server kills the compile: cc1plus (and g++ around it) end long
    # before the constant evaluation could.
    wait_until(lambda: not any(process_alive(pid) for pid in compiling), "the cancelled cc1plus to end", timeout=60)
    wait_until(lambda: not _processes_compiling("interrupted_unit.cpp"), "g++ to end", timeout=60)
    (root / "interrupted_unit.o").write_text("written by the next build\n")
    # The call ends counted as cancelled; nothing of it written after.
    stats = wait_until(lambda: (lambda s: s if s["totals"].get("cancelled") else None)(pycache_env.stats()),
                       "the call to be counted")
    assert (stats["totals"]["cancelled"], stats["totals"]["misses"], stats["errors"]) == (1, 0, {})
    assert (root / "interrupted_unit.o").read_text() == "written by the next build\n"
    store = pycache_env.cache_dir / "store"
    assert not store.exists() or not [p for p in store.rglob("*") if p.is_file() and "entries" in p.parts]
