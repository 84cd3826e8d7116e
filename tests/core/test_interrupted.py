"""An interrupted build (issue 13 A7): Ctrl-C on make or cargo kills the
build's process group, pycache's client with it. The server must cancel
that call's compile -- terminate the compiler's whole process group -- and
write nothing for it afterwards: no output over what the next build wrote,
no entry, no manifest. A hit whose client is gone writes nothing either.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pycache_core.config import Config
from pycache_core.pipeline import CompileRequest, Engine
from pycache_core.server import ClientConnection
from pycache_core.stats import StatsFile

from .test_server import alive, install_toy, server_status, wait_for

# The toy compiler, held at a gate while the file TOYCC_GATE exists; like
# gcc, it runs a helper process (a stand-in for cc1 and as) while it works.
# It writes its own and the helper's pid next to the gate.
GATE_HOOK = """\
import subprocess, time
if os.environ.get("TOYCC_GATE") and "-c" in sys.argv:
    helper = subprocess.Popen(["sleep", "300"])
    with open(os.environ["TOYCC_GATE"] + ".pids", "w") as pids:
        pids.write(f"{os.getpid()} {helper.pid}")
    while os.path.exists(os.environ["TOYCC_GATE"]):
        time.sleep(0.02)
    helper.kill()

def main(argv):"""


@pytest.fixture
def toy(pycache_env, fake_distribution, toy_compiler, tmp_path):
    work = install_toy(pycache_env, fake_distribution, toy_compiler, tmp_path, GATE_HOOK)
    (work / "s0.toy").write_text("source zero\n")
    return work


def entries(penv) -> list[Path]:
    store = penv.cache_dir / "store"
    return [p for p in store.rglob("*") if p.is_file() and "entries" in p.parts] if store.exists() else []


def test_interrupted_compile_is_cancelled_and_writes_nothing(pycache_env, toy):
    gate = toy / "gate"
    gate.touch()
    # make runs the client in the build's process group; Ctrl-C signals the group.
    build = subprocess.Popen(
        [pycache_env.executable, "toycc", "-c", "s0.toy", "-o", "s0.out"],
        cwd=toy, env={**pycache_env.env, "TOYCC_GATE": str(gate)},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
    )
    pids = Path(f"{gate}.pids")
    try:
        wait_for(lambda: pids.exists() and pids.read_text(), "the compile to start", timeout=60)
        compiler, helper = map(int, pids.read_text().split())

        os.killpg(build.pid, signal.SIGINT)
        out, err = build.communicate(timeout=60)
        assert (build.returncode, out, err) == (-signal.SIGINT, b"", b"")  # died of it, as a compiler does

        # The server terminates the compiler and its helper...
        wait_for(lambda: not alive(compiler) and not alive(helper), "the cancelled compile's processes to end")
        # ...and however long the build's remains would have run, nothing
        # of that call is written: the next build's output stays as it wrote it.
        (toy / "s0.out").write_text("written by the next build\n")
    finally:
        gate.unlink()
    wait_for(lambda: server_status(pycache_env)["in_flight"] == 0, "the server to finish the call")
    assert (toy / "s0.out").read_text() == "written by the next build\n"
    assert entries(pycache_env) == []
    stats = pycache_env.stats()
    assert (stats["totals"]["cancelled"], stats["totals"]["misses"], stats["errors"]) == (1, 0, {})
    assert "cancelled: the client went away during the compile" in Path(pycache_env.env["PYCACHE_LOG_FILE"]).read_text()

    # The next build compiles and caches as usual.
    for _ in range(2):
        (toy / "s0.out").unlink()
        done = pycache_env.compile("toycc", "-c", "s0.toy", "-o", "s0.out", cwd=toy)
        assert (done.returncode, done.stdout) == (0, b"toycc: wrote s0.out\n"), done.stderr
        assert (toy / "s0.out").read_text() == "source zero\n"
    totals = pycache_env.totals()
    assert (totals["misses"], totals["hits"]) == (1, 1)


# --- a hit whose client is gone ------------------------------------------------------


class VanishingClient(ClientConnection):
    """A real connection whose client hangs up after ``checks`` looks."""

    def __init__(self, checks: int) -> None:
        ours, self.theirs = socket.socketpair()
        super().__init__(ours)
        self.checks = checks

    def gone(self) -> bool:
        if self.checks == 0:
            self.theirs.close()
        self.checks -= 1
        return super().gone()


@pytest.mark.skipif(shutil.which("gcc") is None, reason="gcc is not installed")
@pytest.mark.parametrize("checks", [0, 1], ids=["before-the-restore", "mid-restore"])
def test_hit_whose_client_vanished_writes_nothing_more(pycache_env, monkeypatch, tmp_path, checks):
    """A hit restores the depfile, then the object (the file make compares
    times with) last: a client gone before the object leaves the old
    object, so the next make compiles again."""
    for name, value in pycache_env.env.items():
        monkeypatch.setenv(name, value)
    work = tmp_path / "w"
    work.mkdir()
    (work / "a.c").write_text("int answer(void) { return 42; }\n")
    # A source changed within the file clock's tick before a call is not
    # stored (pipeline/freshness.py): let it age past that first.
    time.sleep(0.1)
    engine = Engine(Config(pycache_env.env))
    argv = ("gcc", "-c", "a.c", "-MD", "-o", "a.o")

    def compile(client=None):
        request = CompileRequest(argv=argv, cwd=str(work), env=pycache_env.env, client_executable=sys.argv[0],
                                 client=client)
        return engine.compile(request)

    try:
        assert compile().outcome == "miss"
        for name in ("a.o", "a.d"):
            (work / name).write_text("from the build before\n")
        reply = compile(VanishingClient(checks))
    finally:
        engine.store.close()
    assert reply.outcome == "cancelled"
    assert (work / "a.o").read_text() == "from the build before\n"
    assert ((work / "a.d").read_text() == "from the build before\n") is (checks == 0)
    totals = StatsFile(pycache_env.cache_dir).read()["totals"]
    assert (totals["misses"], totals["hits"], totals["cancelled"], totals["errors"]) == (1, 0, 1, 0)
