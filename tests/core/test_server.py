"""The background server, driven through real ``pycache`` processes (issue 3,
parts 1, 3, 4 and 5): auto-start under a burst of first calls, idle exit,
stop, a server killed mid-build, garbage on the socket, a stranger refused,
many concurrent hits. No mocks: every compile is a subprocess of the
installed ``pycache`` executable and the compiler is the toy compiler of
`pycache_core.testing`.
"""

from __future__ import annotations

import json
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from pycache_core import protocol
from pycache_core.connection import server_fingerprint
from pycache_core.testing import process_alive, wait_until

# The toy compiler, held at a gate on demand so a test can act while compiles
# run: it waits as long as the file named by TOYCC_GATE exists.
GATE_HOOK = """\
import time
while os.environ.get("TOYCC_GATE") and os.path.exists(os.environ["TOYCC_GATE"]):
    time.sleep(0.02)

def main(argv):"""


def install_toy(penv, fake_distribution, toy_compiler, tmp_path, gate_hook: str = GATE_HOOK) -> Path:
    """The toy plugin installed, ``toycc`` (with ``gate_hook`` run before its
    main) on PATH, server logs in a file; returns a new work directory."""
    fake_distribution("pycache-toy", modules={"pycache_toy": toy_compiler.plugin_source}, entry_points={"toy": "pycache_toy"})
    source = toy_compiler.executable.read_text()
    toy_compiler.executable.write_text(source.replace("def main(argv):", gate_hook, 1))
    penv.env["PATH"] = f"{toy_compiler.bin_dir}{os.pathsep}{penv.env['PATH']}"
    penv.env["PYCACHE_LOG_FILE"] = str(tmp_path / "server.log")
    penv.env["PYCACHE_LOG"] = "info"
    work = tmp_path / "w"
    work.mkdir()
    return work


@pytest.fixture
def toy(pycache_env, fake_distribution, toy_compiler, tmp_path):
    """`install_toy`'s work directory; kills any server of this test at the end."""
    yield install_toy(pycache_env, fake_distribution, toy_compiler, tmp_path)
    control(pycache_env, "stop")
    for pid in server_processes(pycache_env):
        os.kill(pid, signal.SIGKILL)


def runtime_dir(penv) -> Path:
    return Path(penv.env["PYCACHE_RUNTIME_DIR"])


def server_processes(penv) -> list[int]:
    """Live server processes of this test's configuration, from /proc."""
    marker = f"PYCACHE_RUNTIME_DIR={penv.env['PYCACHE_RUNTIME_DIR']}".encode()
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
            environ = Path(f"/proc/{entry}/environ").read_bytes()
        except OSError:
            continue
        if b"pycache_core.server" in cmdline and marker in environ.split(b"\0"):
            pids.append(int(entry))
    return sorted(pids)


alive = process_alive


wait_for = wait_until


def control(penv, kind: str) -> dict | None:
    """Ask this test's server directly (as `pycache server ...` does, without
    paying for the CLI's start-up); None when no server answers."""
    for sock_path in sockets(penv):
        try:
            answer = _send_raw(sock_path, protocol.encode_control(kind, server_fingerprint(penv.env)))
        except OSError:
            return None
        if not answer:  # on its way out
            return None
        status, _code, _outcome, out, err, _exe = protocol.decode_reply(answer.lstrip(protocol.KEEPALIVE)[8:])
        assert status == "ok", err
        return json.loads(out)
    return None


def server_status(penv) -> dict | None:
    return control(penv, "status")


def busy_server(penv, in_flight: int) -> dict | None:
    """The server's status once at least ``in_flight`` compiles are in it."""
    status = server_status(penv)
    return status if status and status["in_flight"] >= in_flight else None


def sockets(penv) -> list[Path]:
    return sorted(runtime_dir(penv).glob("s-*.sock"))


def write_sources(work: Path, count: int, stem: str = "s") -> list[str]:
    names = []
    for i in range(count):
        (work / f"{stem}{i}.toy").write_text(f"source {i}\nline two of {stem}{i}\n")
        names.append(f"{stem}{i}")
    return names


def spawn_compile(penv, work: Path, name: str, **env: str) -> subprocess.Popen:
    return subprocess.Popen(
        [penv.executable, "toycc", "-c", f"{name}.toy", "-o", f"{name}.out"],
        cwd=work,
        env={**penv.env, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def outcome(done: subprocess.CompletedProcess) -> tuple[int, bytes, bytes]:
    return done.returncode, done.stdout, done.stderr


def finish(procs: list[subprocess.Popen]) -> list[tuple[int, bytes, bytes]]:
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        results.append((proc.returncode, out, err))
    return results


def assert_built(work: Path, names: list[str], results) -> None:
    for name, (code, out, err) in zip(names, results, strict=True):
        assert code == 0, (name, err)
        assert out == f"toycc: wrote {name}.out\n".encode(), (name, out, err)
        assert (work / f"{name}.out").read_bytes() == (work / f"{name}.toy").read_bytes(), name


# --- start ------------------------------------------------------------------


def test_sixteen_parallel_first_calls_start_exactly_one_server(pycache_env, toy):
    names = write_sources(toy, 16)
    assert server_processes(pycache_env) == []

    results = finish([spawn_compile(pycache_env, toy, name) for name in names])

    assert_built(toy, names, results)
    status = server_status(pycache_env)
    assert status is not None
    assert server_processes(pycache_env) == [status["pid"]]
    assert len(sockets(pycache_env)) == 1
    stats = pycache_env.stats()
    # Every call was served by that one server: none fell back to running uncached.
    assert stats["errors"] == {}
    assert (stats["totals"]["misses"], stats["totals"]["requests"]) == (16, 16)
    # Neither the starter nor the fifteen callers that waited for it probed
    # the server with a connection closed unasked (no "garbage" at start).
    pycache_env.stop_server()
    log = Path(pycache_env.env["PYCACHE_LOG_FILE"]).read_text()
    assert "listening on" in log and "garbage" not in log, log


def test_server_start_status_and_stop_commands(pycache_env, toy):
    started = pycache_env.run(["server", "start"])
    assert started.returncode == 0, started.stderr
    shown = pycache_env.run(["server", "status", "--json"])
    status = json.loads(shown.stdout)
    assert status["running"] is True
    assert f"server started: pid {status['pid']}" in started.stdout.decode()
    again = pycache_env.run(["server", "start"])
    assert b"already running" in again.stdout
    assert server_processes(pycache_env) == [status["pid"]]
    assert status["idle_timeout"] == 120 and status["cache_dir"] == str(pycache_env.cache_dir)

    names = write_sources(toy, 1)
    assert_built(toy, names, [outcome(pycache_env.compile("toycc", "-c", "s0.toy", "-o", "s0.out", cwd=toy))])

    stopped = pycache_env.run(["server", "stop"])
    assert stopped.returncode == 0, stopped.stderr
    assert b"server stopped after 1 requests" in stopped.stdout
    # The socket is gone as soon as stop answers, so the next call cannot
    # queue at a server on its way out; and stop returns once it has exited.
    assert sockets(pycache_env) == []
    assert not alive(status["pid"])


def test_status_and_stop_without_a_server(pycache_env):
    status = pycache_env.run(["server", "status"])
    assert (status.returncode, status.stdout.splitlines()[0]) == (4, b"no server running for this configuration")
    status = pycache_env.run(["server", "status", "--json"])  # 4: exitcodes.NOT_RUNNING
    assert (status.returncode, json.loads(status.stdout)["running"]) == (4, False)
    stop = pycache_env.run(["server", "stop"])
    assert (stop.returncode, stop.stdout) == (0, b"no server running\n")


def test_compile_right_after_stop_is_served_by_a_new_server(pycache_env, toy):
    names = write_sources(toy, 1)
    first = pycache_env.compile("toycc", "-c", "s0.toy", "-o", "s0.out", cwd=toy)
    assert first.returncode == 0, first.stderr
    old = server_status(pycache_env)["pid"]
    (toy / "s0.out").unlink()

    assert pycache_env.run(["server", "stop"]).returncode == 0
    again = pycache_env.compile("toycc", "-c", "s0.toy", "-o", "s0.out", cwd=toy)

    assert_built(toy, names, [outcome(again)])
    stats = pycache_env.stats()
    assert stats["errors"] == {}
    assert (stats["totals"]["misses"], stats["totals"]["hits"]) == (1, 1)
    new = server_status(pycache_env)["pid"]
    assert new != old
    wait_for(lambda: server_processes(pycache_env) == [new], "only the new server to remain")


def test_stop_waits_for_the_compile_in_flight(pycache_env, toy):
    names = write_sources(toy, 1)
    gate = toy / "gate"
    gate.touch()
    compiling = spawn_compile(pycache_env, toy, names[0], TOYCC_GATE=str(gate))
    wait_for(lambda: busy_server(pycache_env, 1), "the compile to reach the server")

    stopping = subprocess.Popen([pycache_env.executable, "server", "stop"], env=pycache_env.env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    wait_for(lambda: not sockets(pycache_env), "the server to take the stop request")
    gate.unlink()
    out, err = stopping.communicate(timeout=120)

    assert stopping.returncode == 0, err
    assert out == b"waiting for 1 compile(s) in flight\nserver stopped after 1 requests\n", err
    assert_built(toy, names, finish([compiling]))
    stats = pycache_env.stats()
    assert stats["errors"] == {}
    assert stats["totals"]["misses"] == 1
    assert not server_processes(pycache_env)  # stop returned once the server had exited


def test_idle_server_exits_and_the_next_call_starts_another(pycache_env, toy):
    pycache_env.set(PYCACHE_IDLE_TIMEOUT="1")
    names = write_sources(toy, 1)
    first = pycache_env.compile("toycc", "-c", "s0.toy", "-o", "s0.out", cwd=toy)
    assert first.returncode == 0, first.stderr
    pid = wait_for(lambda: server_processes(pycache_env), "the server to start")[0]

    wait_for(lambda: not alive(pid), "the idle server to exit")

    assert sockets(pycache_env) == []
    assert server_status(pycache_env) is None
    (toy / "s0.out").unlink()
    again = pycache_env.compile("toycc", "-c", "s0.toy", "-o", "s0.out", cwd=toy)
    assert_built(toy, names, [outcome(again)])
    totals = pycache_env.totals()
    assert (totals["misses"], totals["hits"], totals["errors"]) == (1, 1, 0)
    assert "idle for 1 s, exiting" in Path(pycache_env.env["PYCACHE_LOG_FILE"]).read_text()


# --- faults ---------------------------------------------------------------------


def test_server_killed_mid_build_the_build_completes(pycache_env, toy):
    names = write_sources(toy, 8)
    gate = toy / "gate"
    gate.touch()

    def compile_one(name):
        return outcome(pycache_env.compile("toycc", "-c", f"{name}.toy", "-o", f"{name}.out", cwd=toy,
                                           env={"TOYCC_GATE": str(gate)}))

    with ThreadPoolExecutor(max_workers=4) as build:  # make -j4
        results = build.map(compile_one, names)
        victim = wait_for(lambda: busy_server(pycache_env, 2), "compiles in flight")["pid"]
        os.kill(victim, signal.SIGKILL)
        gate.unlink()
        results = list(results)

    assert_built(toy, names, results)
    stats = pycache_env.stats()
    lost = stats["errors"]["server-unavailable"]
    assert lost["count"] >= 2
    # The connection lost in whichever way the kill met it: a compile in
    # flight sees it closed, a client still in the listen backlog a reset.
    assert re.search(r"server closed the connection|ConnectionResetError|Connection reset by peer", lost["last"]), lost
    # Calls after the kill started a new server and were cached there.
    assert stats["totals"]["misses"] >= 1
    assert stats["totals"]["misses"] + lost["count"] == len(names)
    new = server_status(pycache_env)["pid"]
    assert server_processes(pycache_env) == [new] and new != victim

    # A rebuild gives the same objects: hits where the new server stored them.
    for name in names:
        (toy / f"{name}.out").unlink()
    with ThreadPoolExecutor(max_workers=4) as build:
        results = list(build.map(compile_one, names))
    assert_built(toy, names, results)
    assert pycache_env.totals()["hits"] == stats["totals"]["misses"]


def _send_raw(sock_path: Path, data: bytes) -> bytes:
    """Write ``data`` to the server's socket; return what it answers before
    closing the connection."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        conn.settimeout(30)
        conn.connect(str(sock_path))
        if data:
            conn.sendall(data)
        conn.shutdown(socket.SHUT_WR)
        answer = b""
        try:
            while chunk := conn.recv(65536):
                answer += chunk
        except ConnectionResetError:  # closed with our bytes unread
            pass
        return answer


GARBAGE = {
    "http": b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
    "binary": bytes(range(256)) * 64,
    "short": b"PY",
    "empty": b"",
    "huge-length": protocol.MAGIC + (0xFFFFFFFF).to_bytes(4, "little") + b"x" * 100,
    "truncated": protocol.MAGIC + (1000).to_bytes(4, "little") + b"compile\0",
    "bad-compile": protocol.frame(b"compile\0nonsense"),
    "bad-fields": protocol.frame(b"compile\0\xff\xfe\0a\0b\0c\0zz"),
    "bad-argc": protocol.frame(b"compile\0fp\0/\x000\0/x\x0099999\0gcc"),
}


def test_garbage_on_the_socket_the_server_survives_and_serves(pycache_env, toy):
    names = write_sources(toy, 1)
    first = pycache_env.compile("toycc", "-c", "s0.toy", "-o", "s0.out", cwd=toy)
    assert first.returncode == 0, first.stderr
    pid = server_status(pycache_env)["pid"]
    [sock_path] = sockets(pycache_env)

    for what, data in GARBAGE.items():
        # The server drops the connection without a reply...
        assert _send_raw(sock_path, data) == b"", what
    # ...answers an unknown request kind with an error...
    answer = _send_raw(sock_path, protocol.encode_control("launch-missiles", "fp"))
    status, code, _outcome, _out, err, _exe = protocol.decode_reply(answer[8:])
    assert (status, code) == ("error", 2) and b"launch-missiles" in err

    # ...and still serves compiles: the next one is a hit from the same server.
    (toy / "s0.out").unlink()
    again = pycache_env.compile("toycc", "-c", "s0.toy", "-o", "s0.out", cwd=toy)
    assert_built(toy, names, [outcome(again)])
    assert server_status(pycache_env)["pid"] == pid
    stats = pycache_env.stats()
    assert (stats["totals"]["hits"], stats["errors"]) == (1, {})
    log = Path(pycache_env.env["PYCACHE_LOG_FILE"]).read_text()
    assert "garbage on the socket" in log
    assert "malformed compile request" in log


def test_thirty_two_concurrent_hits(pycache_env, toy):
    names = write_sources(toy, 32)
    assert_built(toy, names, finish([spawn_compile(pycache_env, toy, name) for name in names]))
    pid = server_status(pycache_env)["pid"]
    for name in names:
        (toy / f"{name}.out").unlink()

    results = finish([spawn_compile(pycache_env, toy, name) for name in names])

    assert_built(toy, names, results)
    stats = pycache_env.stats()
    assert (stats["totals"]["misses"], stats["totals"]["hits"], stats["errors"]) == (32, 32, {})
    assert server_processes(pycache_env) == [pid]


# Like GATE_HOOK, and says it reached the gate (a file next to it).
SIGNED_GATE_HOOK = """\
import time
if os.environ.get("TOYCC_GATE"):
    open(os.environ["TOYCC_GATE"] + ".reached", "w").close()
while os.environ.get("TOYCC_GATE") and os.path.exists(os.environ["TOYCC_GATE"]):
    time.sleep(0.02)

def main(argv):"""


def test_hits_are_served_while_another_call_compiles(pycache_env, fake_distribution, toy_compiler, tmp_path):
    """Lookups take turns in the server (`pycache_core.lookup_lock`), but a call
    lets go once it has to compile: a compile held at its gate keeps no hit
    waiting. A call holding on through its compile would hang the hit here."""
    work = install_toy(pycache_env, fake_distribution, toy_compiler, tmp_path, SIGNED_GATE_HOOK)
    try:
        names = write_sources(work, 3)
        assert_built(work, names[:2], finish([spawn_compile(pycache_env, work, n) for n in names[:2]]))
        for name in names[:2]:
            (work / f"{name}.out").unlink()
        gate = work / "gate"
        gate.touch()
        held = spawn_compile(pycache_env, work, names[2], TOYCC_GATE=str(gate))
        wait_for(lambda: (work / "gate.reached").exists() or held.poll() is not None, "the compile to reach its gate")
        assert held.poll() is None, held.communicate()

        hits = finish([spawn_compile(pycache_env, work, n) for n in names[:2]])  # 120 s each, at most

        assert held.poll() is None  # still compiling: the hits did not wait for it
        assert_built(work, names[:2], hits)
        gate.unlink()
        assert_built(work, names[2:], finish([held]))
        stats = pycache_env.stats()
        assert (stats["totals"]["misses"], stats["totals"]["hits"], stats["errors"]) == (3, 2, {})
    finally:
        control(pycache_env, "stop")
        for pid in server_processes(pycache_env):
            os.kill(pid, signal.SIGKILL)


# --- trust ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def stranger():
    """A second local user, created for the test (needs root). CI runs the
    suite as root, so there the peer-uid check is always exercised: keep it
    so -- outside CI the test skips, in CI (``CI`` set, as .ci/run does) a
    missing root is a failure, never a silent skip."""
    if os.geteuid() != 0:
        if os.environ.get("CI"):
            pytest.fail("CI must run as root: the peer-uid (SO_PEERCRED) check needs a second user made by useradd")
        pytest.skip("refusing a second user needs root to create one with useradd; not running as root")
    if not shutil.which("useradd") or not shutil.which("setpriv"):
        pytest.skip("useradd and setpriv (util-linux) are needed to run a client as a second user")
    name = f"pct{secrets.token_hex(3)}"
    made = subprocess.run(["useradd", "--no-create-home", "--shell", "/usr/sbin/nologin", "--user-group", name],
                          capture_output=True, text=True)
    assert made.returncode == 0, made.stderr
    try:
        yield pwd.getpwnam(name)
    finally:
        subprocess.run(["userdel", name], capture_output=True)


def test_second_user_is_refused_and_still_compiles(pycache_env, toy, stranger):
    """Another user who reaches this server's socket (here: a hard link in
    their own runtime directory, the socket made world-writable) is refused
    by the SO_PEERCRED check; their compile runs uncached and succeeds."""
    python = "/usr/bin/python3"  # the venv's interpreter may live in a home only root can enter
    if not os.access(python, os.X_OK) or subprocess.run([python, "-c", "import sys; assert sys.version_info >= (3, 10)"]).returncode:
        pytest.skip(f"{python} (3.10+) is needed to run the client as a second user")
    if not shutil.which("gcc"):
        pytest.skip("gcc is needed for the second user's compile")
    write_sources(toy, 1)
    first = pycache_env.compile("toycc", "-c", "s0.toy", "-o", "s0.out", cwd=toy)  # start our server
    assert first.returncode == 0, first.stderr
    [our_socket] = sockets(pycache_env)
    pid = server_status(pycache_env)["pid"]

    home = Path(tempfile.mkdtemp(prefix="pycache-stranger-"))
    try:
        home.chmod(0o755)
        # The client is stdlib-only: a copy of the package is all the stranger needs.
        shutil.copytree(Path(protocol.__file__).parent, home / "lib" / "pycache_core",
                        ignore=shutil.ignore_patterns("__pycache__"))
        (home / "rt").mkdir(mode=0o700)
        (home / "work").mkdir()
        (home / "work" / "a.c").write_text("int answer(void) { return 42; }\n")
        for path in (home / "rt", home / "work"):
            os.chown(path, stranger.pw_uid, stranger.pw_gid)
        env = {
            "PATH": "/usr/bin:/bin",
            "HOME": str(home),
            "LC_ALL": "C",
            "PYTHONPATH": str(home / "lib"),
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYCACHE_RUNTIME_DIR": str(home / "rt"),
            "PYCACHE_DIR": str(home / "cache"),
        }
        their_socket = home / "rt" / f"s-{server_fingerprint(env)}.sock"
        try:
            os.link(our_socket, their_socket)
        except OSError as exc:
            pytest.skip(f"cannot hard-link the socket into the stranger's directory: {exc}")
        our_socket.chmod(0o777)

        command = ["setpriv", f"--reuid={stranger.pw_uid}", f"--regid={stranger.pw_gid}", "--clear-groups",
                   python, "-m", "pycache_core", "gcc", "-c", "a.c", "-o", "a.o"]
        theirs = subprocess.run(command, cwd=home / "work", env=env, capture_output=True, timeout=120)
        assert theirs.returncode == 0, theirs.stderr
        assert theirs.stderr == b""
        reference = subprocess.run(["gcc", "-c", "a.c", "-o", "ref.o"], cwd=home / "work", env=env)
        assert reference.returncode == 0
        assert (home / "work" / "a.o").read_bytes() == (home / "work" / "ref.o").read_bytes()
        assert (home / "work" / "a.o").stat().st_uid == stranger.pw_uid  # compiled by them, not by our server

        # Their client noted why it ran uncached; our server logged the refusal.
        faults = (home / "rt" / f"s-{server_fingerprint(env)}.faults").read_text()
        assert "server answered refused" in faults
        log = Path(pycache_env.env["PYCACHE_LOG_FILE"]).read_text()
        assert f"refused connection from uid {stranger.pw_uid}" in log
    finally:
        shutil.rmtree(home, ignore_errors=True)

    # Our own server is unharmed and still ours.
    assert server_status(pycache_env)["pid"] == pid
    stats = pycache_env.stats()
    assert stats["errors"] == {} and stats["totals"]["requests"] == 1
