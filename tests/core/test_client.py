"""The per-compile client (issue 3, parts 2 and 4; issue 2, parts 7 and 9),
through real ``pycache`` processes: a dead, hung or babbling server never
fails or stalls a build; PYCACHE_NO_SERVER and PYCACHE_DISABLE; a missing
compiler; masquerading as the compiler; and what the client imports.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from pycache_core.connection import server_fingerprint


@pytest.fixture
def toy(pycache_env, fake_distribution, toy_compiler, tmp_path):
    """The toy plugin installed and ``toycc`` on PATH; returns a work
    directory holding ``a.toy`` (a warning) and ``bad.toy`` (an error)."""
    fake_distribution("pycache-toy", modules={"pycache_toy": toy_compiler.plugin_source}, entry_points={"toy": "pycache_toy"})
    pycache_env.env["PATH"] = f"{toy_compiler.bin_dir}{os.pathsep}{pycache_env.env['PATH']}"
    work = tmp_path / "w"
    work.mkdir()
    (work / "a.toy").write_text("alpha\nwarn mind the gap\n")
    (work / "bad.toy").write_text("error no such thing\n")
    return work


def compile_a(penv, work: Path, **env: str) -> subprocess.CompletedProcess:
    done = penv.compile("toycc", "-c", "a.toy", "-o", "a.out", cwd=work, env=env)
    assert (done.returncode, done.stdout, done.stderr) == (0, b"toycc: wrote a.out\n", b"a.toy:2: warning: mind the gap\n")
    assert (work / "a.out").read_bytes() == b"alpha\nwarn mind the gap\n"
    return done


def socket_path(penv) -> Path:
    return Path(penv.env["PYCACHE_RUNTIME_DIR"]) / f"s-{server_fingerprint(penv.env)}.sock"


def server_running(penv) -> bool:
    return socket_path(penv).exists()


# --- a server that is not what it should be ---------------------------------------


class FakeServer:
    """Something listening on the server's socket that is not a working
    server: it says nothing, talks nonsense, or hangs up."""

    def __init__(self, path: Path, behaviour: str) -> None:
        self.behaviour = behaviour
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(str(path))
        self.listener.listen(64)
        self.path = path
        self.held: list[socket.socket] = []
        self.accepted = 0
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            self.accepted += 1
            if self.behaviour == "silent":
                self.held.append(conn)  # accept, never read, never answer
                continue
            conn.settimeout(10)
            header = conn.recv(8, socket.MSG_WAITALL)  # take the request, then misbehave
            conn.recv(int.from_bytes(header[4:8], "little"), socket.MSG_WAITALL)
            if self.behaviour == "garbage":
                conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
                conn.close()
            elif self.behaviour == "keepalive-then-garbage":
                conn.sendall(b"\n\n\nPYC1\x05\x00\x00\x00hello")  # a frame whose body is no reply
                conn.close()
            else:  # hang up
                conn.close()

    def close(self) -> None:
        self.listener.close()
        for conn in self.held:
            conn.close()
        self.path.unlink(missing_ok=True)


@pytest.mark.parametrize(
    ("behaviour", "cause"),
    [
        ("silent", "TimeoutError"),
        ("garbage", "ValueError: unexpected bytes from server: b'HTTP/1.1"),
        ("keepalive-then-garbage", "ValueError"),
        ("hang-up", "ConnectionError: server closed the connection without a reply"),
    ],
)
def test_broken_server_the_compile_runs_uncached(pycache_env, toy, behaviour, cause):
    # One second of silence means "hung" (the default is 30 s; a real server
    # sends a keepalive every second while it compiles).
    pycache_env.set(PYCACHE_SERVER_TIMEOUT="1")
    fake = FakeServer(socket_path(pycache_env), behaviour)
    try:
        compile_a(pycache_env, toy)
        compile_a(pycache_env, toy)
        assert fake.accepted == 2
    finally:
        fake.close()
    stats = pycache_env.stats()
    assert (stats["totals"]["hits"], stats["totals"]["misses"]) == (0, 0)
    assert stats["errors"]["server-unavailable"]["count"] == 2
    assert cause in stats["errors"]["server-unavailable"]["last"]


def test_stale_socket_a_server_is_started(pycache_env, toy):
    path = socket_path(pycache_env)
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(str(path))  # bound, never listening: what a crashed server leaves
    stale.close()

    compile_a(pycache_env, toy)
    (toy / "a.out").unlink()
    compile_a(pycache_env, toy)

    totals = pycache_env.totals()
    assert (totals["misses"], totals["hits"], totals["errors"]) == (1, 1, 0)


def test_server_that_cannot_start_is_reported_with_its_cause(pycache_env, toy):
    # A build tree with a json.py: the server must not import it (it starts
    # with its working directory off sys.path) ...
    (toy / "json.py").write_text("raise SystemExit('the build tree json.py was imported')\n")
    compile_a(pycache_env, toy)
    (toy / "a.out").unlink()
    compile_a(pycache_env, toy)
    stats = pycache_env.stats()
    assert (stats["totals"]["hits"], stats["errors"]) == (1, {})
    pycache_env.stop_server()

    # ... and a server that dies at start-up is reported with its own words,
    # after it died (not after SERVER_START_TIMEOUT).
    broken = toy / "broken"  # a broken pluggy: the server needs it, the client must not
    broken.mkdir()
    (broken / "pluggy.py").write_text("raise RuntimeError('server cannot start: test')\n")
    done = pycache_env.compile("toycc", "-c", "a.toy", "-o", "a.out", cwd=toy,
                               env={"PYTHONPATH": f"{broken}{os.pathsep}{pycache_env.env.get('PYTHONPATH', '')}"})
    assert (done.returncode, done.stdout) == (0, b"toycc: wrote a.out\n")
    assert done.stderr.endswith(b"\na.toy:2: warning: mind the gap\n")  # after pycache's one warning
    stats = pycache_env.stats()
    message = stats["errors"]["server-unavailable"]["last"]
    assert "server exited at start-up (status 1): RuntimeError: server cannot start: test" in message


# --- switches -------------------------------------------------------------------------


def test_no_server_runs_the_pipeline_in_process(pycache_env, toy):
    pycache_env.set(PYCACHE_NO_SERVER="1")
    compile_a(pycache_env, toy)
    (toy / "a.out").unlink()
    compile_a(pycache_env, toy)

    assert not server_running(pycache_env)
    totals = pycache_env.totals()
    assert (totals["misses"], totals["hits"], totals["errors"]) == (1, 1, 0)


def test_disable_passes_straight_through(pycache_env, toy):
    pycache_env.set(PYCACHE_DISABLE="1")
    for _ in range(2):
        compile_a(pycache_env, toy)
    failed = pycache_env.compile("toycc", "-c", "bad.toy", "-o", "bad.out", cwd=toy)
    reference = pycache_env.direct("toycc", "-c", "bad.toy", "-o", "bad.out", cwd=toy)
    assert (failed.returncode, failed.stdout, failed.stderr) == (1, b"", b"bad.toy:1: error: no such thing\n")
    assert (failed.returncode, failed.stdout, failed.stderr) == (reference.returncode, reference.stdout, reference.stderr)
    # The compiler reads the caller's stdin, as if pycache were not there.
    cat = pycache_env.run(["cat"], input=b"through stdin\n")
    assert (cat.returncode, cat.stdout) == (0, b"through stdin\n")

    assert not server_running(pycache_env)
    assert not (pycache_env.cache_dir / "store").exists()
    assert pycache_env.totals()["requests"] == 0


@pytest.mark.parametrize("mode", ["server", "no-server", "disable", "wrap"])
def test_missing_compiler_exits_127_naming_it(pycache_env, toy, mode):
    env = {"PYCACHE_NO_SERVER": "1"} if mode == "no-server" else {"PYCACHE_DISABLE": "1"} if mode == "disable" else {}
    prefix = ["wrap", "--"] if mode == "wrap" else []
    done = pycache_env.run([*prefix, "no-such-cc-4711", "-c", "a.toy", "-o", "a.out"], cwd=toy, env=env)
    assert (done.returncode, done.stdout) == (127, b"")
    if mode == "wrap":
        assert done.stderr == b"pycache: no-such-cc-4711: No such file or directory\n"
    else:  # the launcher form: the word may be a mistyped subcommand too
        assert done.stderr == (b"pycache: unknown command or compiler 'no-such-cc-4711': "
                               b"not a pycache command, and no such executable on PATH\n")
    assert not (toy / "a.out").exists()


def test_wrap_form_and_exit_status_of_a_failed_compile(pycache_env, toy):
    compile_a(pycache_env, toy)
    wrapped = pycache_env.run(["wrap", "--", "toycc", "-c", "a.toy", "-o", "a.out"], cwd=toy)
    assert (wrapped.returncode, wrapped.stdout, wrapped.stderr) == (0, b"toycc: wrote a.out\n", b"a.toy:2: warning: mind the gap\n")
    failed = pycache_env.compile("toycc", "-c", "bad.toy", "-o", "bad.out", cwd=toy)
    assert (failed.returncode, failed.stdout, failed.stderr) == (1, b"", b"bad.toy:1: error: no such thing\n")
    totals = pycache_env.totals()
    assert (totals["misses"], totals["hits"], totals["compile_failed"]) == (1, 1, 1)


# --- masquerade -------------------------------------------------------------------------


def masquerade(penv, tmp_path: Path, name: str) -> Path:
    """A directory holding ``name`` -> pycache, put first on PATH."""
    mask = tmp_path / "mask"
    mask.mkdir()
    (mask / name).symlink_to(penv.executable)
    penv.env["PATH"] = os.pathsep.join([str(mask), penv.env["PATH"]])
    return mask


def run_as(penv, name: str, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    """Run ``name`` the way make would: looked up on PATH."""
    return subprocess.run([name, *args], cwd=cwd, env=penv.env, capture_output=True, timeout=120)


def test_masquerade_symlink_finds_the_real_compiler_and_caches(pycache_env, toy, tmp_path):
    mask = masquerade(pycache_env, tmp_path, "toycc")
    # Two disguises on PATH (one a symlink to the other): both are skipped.
    other = tmp_path / "other-mask"
    other.mkdir()
    (other / "toycc").symlink_to(mask / "toycc")
    pycache_env.env["PATH"] = os.pathsep.join([str(other), pycache_env.env["PATH"]])

    first = run_as(pycache_env, "toycc", "-c", "a.toy", "-o", "a.out", cwd=toy)
    (toy / "a.out").unlink()
    second = run_as(pycache_env, "toycc", "-c", "a.toy", "-o", "a.out", cwd=toy)

    for done in (first, second):
        assert (done.returncode, done.stdout, done.stderr) == (0, b"toycc: wrote a.out\n", b"a.toy:2: warning: mind the gap\n")
    assert (toy / "a.out").read_bytes() == b"alpha\nwarn mind the gap\n"
    families = pycache_env.stats()["families"]
    assert (families["toy"]["misses"], families["toy"]["hits"]) == (1, 1)


@pytest.mark.skipif(shutil.which("gcc") is None, reason="gcc is not installed")
def test_masquerade_as_gcc(pycache_env, tmp_path):
    masquerade(pycache_env, tmp_path, "gcc")
    work = tmp_path / "c"
    work.mkdir()
    (work / "a.c").write_text("int twice(int x) { return 2 * x; }\n")
    reference = subprocess.run(["/usr/bin/env", "-i", "PATH=/usr/bin:/bin", "gcc", "-c", "a.c", "-o", "ref.o"], cwd=work)
    assert reference.returncode == 0

    for _ in range(2):
        (work / "a.o").unlink(missing_ok=True)
        done = run_as(pycache_env, "gcc", "-c", "a.c", "-o", "a.o", cwd=work)
        assert (done.returncode, done.stdout, done.stderr) == (0, b"", b"")
        assert (work / "a.o").read_bytes() == (work / "ref.o").read_bytes()
    totals = pycache_env.totals()
    assert (totals["misses"], totals["hits"]) == (1, 1)


def test_masquerade_without_a_real_compiler_does_not_call_itself(pycache_env, tmp_path):
    masquerade(pycache_env, tmp_path, "toycc")  # the only toycc on PATH is pycache
    for env in ({}, {"PYCACHE_DISABLE": "1"}, {"PYCACHE_NO_SERVER": "1"}):
        pycache_env.env.update(env)
        done = run_as(pycache_env, "toycc", "-c", "a.toy", "-o", "a.out", cwd=tmp_path)
        assert (done.returncode, done.stderr) == (127, b"pycache: toycc: No such file or directory\n"), env


# --- what the client imports ------------------------------------------------------------

# Modules the compile path may add to a bare interpreter's: its own, and the
# C modules it uses for the socket and the server's name -- not even os.
CLIENT_MODULES = {
    "pycache_core",
    "pycache_core.client",
    "pycache_core.connection",
    "pycache_core.env",
    "pycache_core.protocol",
    "_socket",
    "_blake2",
}
# What running a compiler uncached (or starting the server) may add: it
# execs a whole compiler (or starts a whole server) anyway.
UNCACHED_MODULES = {"pycache_core.which", "os", "stat", "_stat", "posixpath", "genericpath", "_collections_abc", "fcntl",
                    "time", "_signal"}
# Named so a failure reads well; anything outside CLIENT_MODULES fails anyway.
HEAVY = {"pluggy", "typer", "rich", "click", "blake3", "boto3", "botocore", "zstandard", "filelock", "platformdirs",
         "json", "re", "socket", "selectors", "enum", "subprocess", "threading", "pathlib", "typing", "dataclasses",
         "logging", "hashlib", "tempfile", "argparse", "importlib.metadata", "site"}


def imported_modules(penv, args: list[str], cwd: Path, env: dict | None = None, status: int = 0,
                     flags: tuple[str, ...] = ()) -> set[str]:
    done = subprocess.run([sys.executable, *flags, "-X", "importtime", *args], cwd=cwd, env={**penv.env, **(env or {})},
                          capture_output=True, timeout=120)
    assert done.returncode == status, done.stderr
    modules = set()
    for line in done.stderr.decode().splitlines():
        if line.startswith("import time:") and "|" in line:
            name = line.rsplit("|", 1)[1].strip()
            if name != "package":  # the header line
                modules.add(name)
    return modules


def launched(penv) -> list[str]:
    """What the ``pycache`` command runs (bin/pycache): the client script
    beside it, in this interpreter started isolated and without site."""
    script = str(Path(penv.executable).with_name("pycache-python"))
    assert Path(script).read_text().startswith("#!"), script
    return [script, "--argv0", penv.executable]


# What the connection module may add on import: the CLI and the server use
# it too, but the client pays for it on every compile. Its C modules
# (_socket, _blake2, fcntl, time) come only where they are used.
CONNECTION_MODULES = {"pycache_core", "pycache_core.connection", "pycache_core.env", "pycache_core.protocol"}


@pytest.mark.parametrize("call", ["import", "import-connection", "miss", "hit", "disabled", "no-such-compiler"])
def test_client_imports_nothing_heavy(pycache_env, toy, call):
    if call == "import-connection":
        baseline = imported_modules(pycache_env, ["-c", "pass"], toy)
        added = imported_modules(pycache_env, ["-c", "import pycache_core.connection"], toy) - baseline
        assert added == CONNECTION_MODULES, sorted(added ^ CONNECTION_MODULES)
        return
    if call == "import":
        baseline = imported_modules(pycache_env, ["-c", "pass"], toy)
        added = imported_modules(pycache_env, ["-c", "import pycache_core.client"], toy) - baseline
        assert added == CLIENT_MODULES - {"_socket", "_blake2"}, sorted(added)
        return
    if call == "hit":
        compile_a(pycache_env, toy)
    isolated = ("-I", "-S")
    baseline = imported_modules(pycache_env, ["-c", "pass"], toy, flags=isolated)
    compiler = "no-such-cc" if call == "no-such-compiler" else "toycc"
    args = [*launched(pycache_env), compiler, "-c", "a.toy", "-o", "a.out"]
    env = {"PYCACHE_DISABLE": "1"} if call == "disabled" else {}

    added = imported_modules(pycache_env, args, toy, env, status=127 if call == "no-such-compiler" else 0,
                             flags=isolated) - baseline

    assert not added & HEAVY
    if call == "hit":
        assert added == CLIENT_MODULES, sorted(added ^ CLIENT_MODULES)
        assert pycache_env.totals()["hits"] == 1
    else:
        assert added <= CLIENT_MODULES | UNCACHED_MODULES, sorted(added - CLIENT_MODULES - UNCACHED_MODULES)
        assert {"pycache_core.client", "pycache_core.env"} <= added


def test_a_path_to_pycache_itself_is_not_a_compiler(pycache_env, tmp_path):
    """`pycache /path/to/a-link-to-pycache ...` must not run pycache again."""
    link = tmp_path / "gcc"
    link.symlink_to(pycache_env.executable)
    done = pycache_env.compile(str(link), "--version")
    assert done.returncode == 127
    assert str(link).encode() in done.stderr


@pytest.mark.skipif(shutil.which("gcc") is None, reason="gcc is not installed")
def test_a_served_reply_is_replayed_whole_before_the_client_exits(pycache_env, tmp_path):
    """The launcher's client ends without the interpreter's teardown once
    it has replayed the server's reply: every byte of a stderr larger than
    a pipe holds, and the exit status, must still be the compiler's."""
    work = tmp_path / "big"
    work.mkdir()
    (work / "w.c").write_text("".join(f'#warning "line {i} {"x" * 80}"\n' for i in range(1500)) + "int w;\n")
    (work / "e.c").write_text('#error "no such thing"\n')
    reference = subprocess.run(["gcc", "-c", "w.c", "-o", "ref.o"], cwd=work, capture_output=True)
    assert reference.returncode == 0 and len(reference.stderr) > 1 << 17
    for outcome in ("misses", "hits"):
        done = pycache_env.compile("gcc", "-c", "w.c", "-o", "w.o", cwd=work)
        assert (done.returncode, done.stdout, done.stderr) == (0, b"", reference.stderr), outcome
        assert (work / "w.o").read_bytes() == (work / "ref.o").read_bytes()
    failed = pycache_env.compile("gcc", "-c", "e.c", "-o", "e.o", cwd=work)
    direct = subprocess.run(["gcc", "-c", "e.c", "-o", "e.o"], cwd=work, capture_output=True)
    assert (failed.returncode, failed.stderr) == (direct.returncode, direct.stderr) == (1, direct.stderr)
    totals = pycache_env.totals()
    assert (totals["misses"], totals["hits"], totals["compile_failed"]) == (1, 1, 1)
