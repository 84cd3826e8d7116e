"""The server's limits, each shown with real processes (issue 13 E):
``PYCACHE_SERVER_JOBS`` bounds the compiles that run at once, and a compile
longer than ``PYCACHE_SERVER_TIMEOUT`` is served -- the keepalives tell the
client the server is busy, not hung.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from .test_interrupted import toy  # noqa: F401 (fixture: the toy compiler held at a gate)
from .test_server import server_status, wait_for


def start(penv, work: Path, name: str, gate: Path, **env: str) -> subprocess.Popen:
    (work / f"{name}.toy").write_text(f"source {name}\n")
    return subprocess.Popen([penv.executable, "toycc", "-c", f"{name}.toy", "-o", f"{name}.out"], cwd=work,
                            env={**penv.env, "TOYCC_GATE": str(gate), **env},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def built(proc: subprocess.Popen, work: Path, name: str) -> None:
    out, err = proc.communicate(timeout=120)
    assert (proc.returncode, out) == (0, f"toycc: wrote {name}.out\n".encode()), err
    assert (work / f"{name}.out").read_text() == f"source {name}\n"


def test_server_jobs_bounds_the_compiles_that_run_at_once(pycache_env, toy):  # noqa: F811
    pycache_env.set(PYCACHE_SERVER_JOBS="1")
    gates = {name: toy / f"gate-{name}" for name in ("one", "two")}
    for gate in gates.values():
        gate.touch()
    first = start(pycache_env, toy, "one", gates["one"])
    wait_for(lambda: Path(f"{gates['one']}.pids").exists(), "the first compiler to run")
    second = start(pycache_env, toy, "two", gates["two"])

    # The second call reached the server and waits for the one slot; its
    # compiler has not started.
    status = wait_for(lambda: (s := server_status(pycache_env)) and s["compiles_queued"] == 1 and s, "a queued call")
    assert (status["compile_slots"], status["compiles_running"], status["in_flight"]) == (1, 1, 2)
    assert not Path(f"{gates['two']}.pids").exists()

    gates["one"].unlink()
    built(first, toy, "one")
    wait_for(lambda: Path(f"{gates['two']}.pids").exists(), "the second compiler to run once the slot is free")
    gates["two"].unlink()
    built(second, toy, "two")
    assert pycache_env.totals()["misses"] == 2


def test_a_compile_longer_than_the_server_timeout_is_served(pycache_env, toy):  # noqa: F811
    """One second of silence means a hung server; this compile takes three.
    Without the server's keepalives the client would give up on it, run the
    compiler itself and count a fault."""
    pycache_env.set(PYCACHE_SERVER_TIMEOUT="1")
    gate = toy / "gate"
    gate.touch()
    slow = start(pycache_env, toy, "slow", gate)
    wait_for(lambda: Path(f"{gate}.pids").exists(), "the compiler to run")
    time.sleep(3)  # the compile's duration, which is what is under test
    gate.unlink()
    built(slow, toy, "slow")
    stats = pycache_env.stats()
    assert (stats["totals"]["misses"], stats["errors"]) == (1, {})
