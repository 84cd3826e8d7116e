"""PYCACHE_PREFIX_COMMAND with a real compile farm: distccd on loopback.

A miss compiles through ``distcc`` (distccd's own statistics count it), the
object is gcc's own, a hit never contacts distccd, the prefix is in no key;
a dead host, a prefix that cannot start and a family the prefix cannot serve
all still build, counted."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from pycache_core.testing import PycacheEnv


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def free_port() -> int:
    return free_ports(1)[0]


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


def _tail(path: Path) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-20:]) if path.exists() else "(no log)"

pytestmark = pytest.mark.slow

SOURCES = {
    "util.h": "#define SCALE 3\nint twice(int x);\n",
    "twice.c": '#include "util.h"\nint twice(int x) { return 2 * x; }\n',
    "thrice.c": '#include "util.h"\nint thrice(int x) { return SCALE * x; }\n',
    "main.c": '#include <stdio.h>\n#include "util.h"\nint main(void) { printf("%d\\n", twice(4)); return 0; }\n',
}
UNITS = ("main.c", "thrice.c", "twice.c")


def tool(name: str) -> str:
    found = shutil.which(name) or (f"/usr/bin/{name}" if os.path.exists(f"/usr/bin/{name}") else None)
    if not found:
        pytest.skip(f"{name} is not installed (apt-get install distcc; ./scripts/setup does it)")
    return found


class Distccd:
    def __init__(self, directory: Path) -> None:
        self.port, self.stats_port = free_ports(2)
        self.log = directory / "distccd.log"
        argv = [tool("distccd"), "--daemon", "--no-detach", "--log-stderr", "--log-level", "info",
                "--listen", "127.0.0.1", "--port", str(self.port), "--allow", "127.0.0.1",
                "--stats", "--stats-port", str(self.stats_port), "--jobs", "2"]  # fmt: skip
        with open(self.log, "wb") as out:
            self.process = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"distccd exited with {self.process.returncode}:\n{_tail(self.log)}")
            try:
                self.stats()
                return
            except OSError:
                time.sleep(0.1)
        _stop(self.process)
        raise RuntimeError(f"distccd did not answer within 20 s:\n{_tail(self.log)}")

    def stats(self) -> dict[str, str]:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.stats_port}/", timeout=5) as response:
            text = response.read().decode()
        return dict(line.split(" ", 1) for line in text.splitlines() if line.startswith("dcc_") and " " in line)

    def compiles(self) -> int:
        return int(self.stats()["dcc_compile_ok"])

    def connections(self) -> int:
        return int(self.stats()["dcc_tcp_accept"])


@pytest.fixture
def distccd(tmp_path):
    tool("distcc")
    server = Distccd(tmp_path)
    yield server
    _stop(server.process)


@pytest.fixture
def project(tmp_path) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    for name, text in SOURCES.items():
        (root / name).write_text(text)
    reference = tmp_path / "reference"
    reference.mkdir()
    for unit in UNITS:
        subprocess.run(["gcc", "-O2", "-c", unit, "-o", str(reference / unit.replace(".c", ".o"))], cwd=root, check=True)
    return root


def farm(penv: PycacheEnv, hosts: str, **more: str) -> None:
    state = penv.root / "distcc-state"
    state.mkdir(exist_ok=True)
    penv.set(PYCACHE_PREFIX_COMMAND="distcc", DISTCC_HOSTS=hosts, DISTCC_DIR=str(state), **more)


def build(penv: PycacheEnv, project: Path) -> list[bytes]:
    stderr = []
    for unit in UNITS:
        obj = project / unit.replace(".c", ".o")
        obj.unlink(missing_ok=True)
        done = penv.compile("gcc", "-O2", "-c", unit, "-o", obj.name, cwd=project)
        assert done.returncode == 0, done.stderr.decode()
        assert obj.read_bytes() == (project.parent / "reference" / obj.name).read_bytes(), f"{obj.name} differs from gcc's own"
        stderr.append(done.stderr)
    return stderr


def test_misses_compile_on_distccd_and_hits_never_contact_it(pycache_env, project, distccd):
    farm(pycache_env, f"127.0.0.1:{distccd.port}", DISTCC_FALLBACK="0")  # no silent local compile
    stderr = build(pycache_env, project)
    assert stderr == [b""] * len(UNITS)  # distcc's own chatter never reaches the build
    assert distccd.compiles() == len(UNITS), _tail(distccd.log)  # compiles only: no probe, no preprocessing run
    connections = distccd.connections()
    totals = pycache_env.totals()
    assert totals["misses"] == len(UNITS) and totals["prefix_compiles"] == len(UNITS)

    pycache_env.stop_server()
    build(pycache_env, project)
    assert pycache_env.totals()["hits"] == len(UNITS)
    assert distccd.connections() == connections  # hits never reach the farm

    # the prefix is in no key: without it, the same entries hit
    pycache_env.env.pop("PYCACHE_PREFIX_COMMAND")
    build(pycache_env, project)
    assert pycache_env.totals()["hits"] == 2 * len(UNITS) and distccd.connections() == connections


def test_a_dead_distcc_host_still_builds(pycache_env, project):
    tool("distcc")
    farm(pycache_env, f"127.0.0.1:{free_port()}", DISTCC_FALLBACK="0")
    build(pycache_env, project)
    stats = pycache_env.stats()
    assert stats["totals"]["prefix_failures"] == len(UNITS) and stats["totals"]["misses"] == len(UNITS)
    error = stats["errors"]["prefix_command"]["last"]
    assert error.startswith("distcc exited with ") and error.endswith("compiled locally instead"), error


def test_distccs_own_fallback_keeps_its_messages_out_of_the_entry(pycache_env, project):
    tool("distcc")
    farm(pycache_env, f"127.0.0.1:{free_port()}")  # distcc falls back to a local compile by itself
    stderr = build(pycache_env, project)
    assert stderr == [b""] * len(UNITS)  # "distcc[...] Warning: failed to distribute" is not the compiler's
    assert pycache_env.totals()["prefix_compiles"] == len(UNITS)
    pycache_env.stop_server()
    assert build(pycache_env, project) == [b""] * len(UNITS)  # hits replay the compiler's stderr only


def test_a_prefix_that_cannot_start(pycache_env, project):
    pycache_env.set(PYCACHE_PREFIX_COMMAND="no-such-launcher --jobs 4")
    build(pycache_env, project)
    stats = pycache_env.stats()
    assert stats["totals"]["prefix_failures"] == len(UNITS)
    error = stats["errors"]["prefix_command"]["last"]
    assert "no-such-launcher --jobs 4 could not be started: No such file or directory" in error


def test_a_failing_compile_is_the_compilers_own_verdict(pycache_env, project):
    tool("distcc")
    farm(pycache_env, f"127.0.0.1:{free_port()}", DISTCC_FALLBACK="0")
    (project / "bad.c").write_text("int broken(void) { return missing; }\n")
    done = pycache_env.compile("gcc", "-c", "bad.c", "-o", "bad.o", cwd=project)
    plain = pycache_env.direct("gcc", "-c", "bad.c", "-o", "bad.o", cwd=project)
    assert done.returncode == plain.returncode != 0 and done.stderr == plain.stderr
    totals = pycache_env.totals()
    assert totals["compile_failed"] == 1 and totals.get("prefix_failures", 0) == 0


def test_a_family_the_prefix_cannot_serve_compiles_locally(pycache_env, fake_distribution, toy_compiler, tmp_path):
    fake_distribution("pycache-toy", modules={"pycache_toy": toy_compiler.plugin_source}, entry_points={"toy": "pycache_toy"})
    marker = tmp_path / "launcher-ran"
    launcher = tmp_path / "launcher"
    launcher.write_text(f'#!/bin/sh\ntouch "{marker}"\nexec "$@"\n')
    launcher.chmod(0o755)
    pycache_env.set(PATH=f"{toy_compiler.bin_dir}{os.pathsep}{pycache_env.env['PATH']}", PYCACHE_PREFIX_COMMAND=str(launcher))
    work = tmp_path / "w"
    work.mkdir()
    (work / "a.toy").write_text("alpha\n")
    done = pycache_env.compile("toycc", "-c", "a.toy", "-o", "a.out", cwd=work)
    assert done.returncode == 0 and (work / "a.out").read_bytes() == b"alpha\n"
    assert not marker.exists()
    totals = pycache_env.totals()
    assert totals["prefix_skipped"] == 1 and totals["misses"] == 1 and totals.get("prefix_compiles", 0) == 0
