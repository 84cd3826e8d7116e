"""The native client (native/client.c, issue 12 part 2): a cached compile
served without starting Python, everything else handed to the Python client
exactly as the shell launcher hands it.

A bin directory holding the native ``pycache`` alone (no ``pycache-python``
beside it) cannot hand anything over: a call it serves there is a call it
served itself, and one it would hand over fails with "cannot start its
client". The other tests run it beside a stand-in ``pycache-python`` that
prints how it was started (as test_launcher.py does for the shell launcher),
or beside the real one.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pycache_core import client, connection, env, protocol
from pycache_core.testing import PycacheEnv

from .test_launcher import install_beside_stand_in

REPO = Path(__file__).resolve().parents[2]
FAILED_HANDOVER = b"pycache: cannot start its client"


def _build_module():
    spec = importlib.util.spec_from_file_location("pycache_native_build", REPO / "native" / "build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


native_build = _build_module()


@pytest.fixture(scope="session")
def native_client(tmp_path_factory) -> Path:
    """The native client built from this checkout's sources."""
    if native_build.compiler() is None:
        pytest.skip("no C compiler (cc, gcc or clang) to build the native client with")
    return native_build.build(REPO, tmp_path_factory.mktemp("native") / "pycache")


@pytest.fixture
def alone(native_client, tmp_path) -> Path:
    """The native client in a bin directory of its own."""
    bindir = tmp_path / "alone"
    bindir.mkdir()
    shutil.copy(native_client, bindir / "pycache")
    return bindir / "pycache"


@pytest.fixture
def work(tmp_path) -> Path:
    work = tmp_path / "w"
    work.mkdir()
    (work / "a.c").write_text('#include "a.h"\nint a(void) { return A; }\n')
    (work / "a.h").write_text("#define A 1\n")
    (work / "warn.c").write_text("int w(void) { int unused; return 0; }\n")
    (work / "bad.c").write_text("int b(void) { return nope; }\n")
    (work / "main.c").write_text("int a(void);\nint main(void) { return a() == 1 ? 0 : 3; }\n")
    return work


def python_client(penv: PycacheEnv) -> PycacheEnv:
    """The same installation through the Python client (it starts servers)."""
    return PycacheEnv(root=penv.root, env=penv.env, executable=str(Path(sys.executable).with_name("pycache-python")))


def native(penv: PycacheEnv, executable: Path) -> PycacheEnv:
    return PycacheEnv(root=penv.root, env=penv.env, executable=str(executable))


# --- served without Python ---------------------------------------------------------


@pytest.mark.parametrize(
    "settings",
    [
        {},
        # Prefix-matched server-scoped variables, sorted; a scope text of
        # several BLAKE2b blocks; a configuration file that exists.
        {"PYCACHE_OPENDAL_ZZ": "z", "PYCACHE_OPENDAL_AA": "a" * 300, "AWS_PROFILE": "p"},
        {"PYCACHE_CONFIG": "", "XDG_CONFIG_HOME": "  {root}/xdg/  ", "HOME": "{root}/home//"},
        {"PYCACHE_CONFIG": "", "XDG_CONFIG_HOME": "", "HOME": "{root}/home"},
        {"PYCACHE_DISABLE": "0", "PYCACHE_NO_SERVER": " Off ", "PYCACHE_SERVER_TIMEOUT": "12.5"},
    ],
    ids=["plain", "scoped-variables", "xdg-config-file", "home-config", "flags-false"],
)
def test_a_hit_is_served_by_the_native_client_alone(pycache_env, alone, work, settings):
    """The native client finds the server the Python client started, for
    every way the server's name is derived, and serves the hit itself."""
    values = {k: v.format(root=pycache_env.root) for k, v in settings.items()}
    (pycache_env.root / "xdg" / "pycache").mkdir(parents=True)
    (pycache_env.root / "xdg" / "pycache" / "config.toml").write_text("")
    (pycache_env.root / "home" / ".config" / "pycache").mkdir(parents=True)
    (pycache_env.root / "home" / ".config" / "pycache" / "config.toml").write_text("")
    pycache_env.set(**values)
    assert connection.server_fingerprint(pycache_env.env)  # the scope reads these settings
    first = python_client(pycache_env).compile("gcc", "-c", "a.c", "-o", "a.o", cwd=work)
    assert first.returncode == 0, first.stderr
    (work / "a.o").rename(work / "reference.o")
    done = native(pycache_env, alone).compile("gcc", "-c", "a.c", "-o", "a.o", cwd=work)
    assert (done.returncode, done.stdout, done.stderr) == (0, b"", b"")
    assert (work / "a.o").read_bytes() == (work / "reference.o").read_bytes()
    totals = python_client(pycache_env).totals()
    assert (totals["hits"], totals["misses"]) == (1, 1)


def test_misses_warnings_errors_and_exit_codes_come_back_as_the_compiler_gave_them(pycache_env, alone, work):
    python_client(pycache_env).compile("gcc", "-c", "a.c", "-o", "a.o", cwd=work)  # starts the server
    cached = native(pycache_env, alone)
    for command in (["gcc", "-Wall", "-c", "warn.c", "-o", "warn.o"], ["gcc", "-c", "bad.c", "-o", "bad.o"]):
        for _ in range(2):  # the miss, then the hit (a failed compile is never stored: twice a miss)
            done = cached.compile(*command, cwd=work)
            plain = pycache_env.direct(*command, cwd=work)
            assert (done.returncode, done.stdout, done.stderr) == (plain.returncode, plain.stdout, plain.stderr)
    assert plain.returncode == 1 and b"nope" in plain.stderr
    totals = python_client(pycache_env).totals()
    assert (totals["hits"], totals["misses"], totals["compile_failed"]) == (1, 2, 2)


def test_a_call_the_server_does_not_cache_is_run_by_the_native_client_itself(pycache_env, alone, work):
    """A link: the server answers "run it yourself" and the native client
    execs the compiler in its place (the program works; nothing is handed
    over, or the lone client would have failed)."""
    cached = python_client(pycache_env)
    cached.compile("gcc", "-c", "a.c", "-o", "a.o", cwd=work)
    done = native(pycache_env, alone).compile("gcc", "main.c", "a.o", "-o", "prog", cwd=work)
    assert (done.returncode, done.stderr) == (0, b"")
    assert subprocess.run([work / "prog"]).returncode == 0
    totals = python_client(pycache_env).totals()
    assert (totals["hits"], totals["misses"], totals["not_cacheable"]) == (0, 1, 1), totals


def test_a_compile_through_a_link_named_like_the_compiler(pycache_env, alone, work, tmp_path):
    python_client(pycache_env).compile("gcc", "-c", "a.c", "-o", "reference.o", cwd=work)
    links = tmp_path / "links"
    links.mkdir()
    (links / "gcc").symlink_to(alone)
    path = f"{links}{os.pathsep}{pycache_env.env['PATH']}"
    done = subprocess.run(["gcc", "-c", "a.c", "-o", "a.o"], cwd=work, capture_output=True, timeout=120,
                          env={**pycache_env.env, "PATH": path})
    assert (done.returncode, done.stderr) == (0, b"")
    assert (work / "a.o").read_bytes() == (work / "reference.o").read_bytes()
    assert python_client(pycache_env).totals()["hits"] == 1


def test_a_compiler_killed_by_a_signal_kills_the_native_client_with_it(pycache_env, alone, work, tmp_path):
    python_client(pycache_env).compile("gcc", "-c", "a.c", "-o", "a.o", cwd=work)  # starts the server
    tools = tmp_path / "tools"
    tools.mkdir()
    (tools / "gcc").write_text('#!/bin/sh\nkill -SEGV $$\n')
    (tools / "gcc").chmod(0o755)
    path = f"{tools}{os.pathsep}{pycache_env.env['PATH']}"
    done = native(pycache_env, alone).compile("gcc", "-c", "a.c", "-o", "b.o", cwd=work, env={"PATH": path})
    assert done.returncode == -11, done.stderr


# --- handed to the Python client ---------------------------------------------------


@pytest.fixture
def beside_stand_in(native_client, tmp_path) -> Path:
    """The native client beside a pycache-python whose interpreter is a
    stand-in that prints the arguments it was given."""
    return install_beside_stand_in(native_client, tmp_path)


def lines(command, **kwargs) -> list[str]:
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, **kwargs)
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


@pytest.mark.parametrize(
    "args",
    [["stats"], ["cargo", "build"], ["--version"], [], ["wrap"], ["wrap", "--help"], ["server", "start"]],
    ids=" ".join,
)
def test_what_is_not_a_compile_goes_to_the_python_client_as_the_shell_launcher_sends_it(beside_stand_in, args):
    pycache = str(beside_stand_in / "pycache")
    assert lines([pycache, *args]) == ["python", "-I", "-S", str(beside_stand_in / "pycache-python"), "--argv0", pycache,
                                       *args]


@pytest.mark.parametrize(
    "settings",
    [
        {"PYCACHE_DISABLE": "1"},
        {"PYCACHE_DISABLE": " TRUE "},
        {"PYCACHE_NO_SERVER": "yes"},
        {"PYCACHE_DISABLE": "vrai\u00e9"},  # not ASCII: Python's rules decide
        {"PYCACHE_SERVER_TIMEOUT": "1_0"},  # Python reads 10; not this client's business
        {"XDG_CONFIG_HOME": "\u2003/x", "PYCACHE_CONFIG": ""},  # Unicode whitespace around it
        {"PYCACHE_OPENDAL_ROOT": "/caf\u00e9"},  # sorted as Python sorts text
        {"HOME": "", "PYCACHE_CONFIG": ""},  # the user's home from the password database
        {"PYCACHE_RUNTIME_DIR": "{tmp}/not-private"},  # Python reports it and runs uncached
    ],
)
def test_a_setting_that_needs_python_hands_the_compile_over(beside_stand_in, tmp_path, settings):
    """Handed over before any server is asked: something listens where the
    server of these settings would, and is never called."""
    import socket

    (tmp_path / "rt").mkdir(mode=0o700)
    (tmp_path / "not-private").mkdir(mode=0o755)
    (tmp_path / "not-private").chmod(0o755)
    environ = {k: v for k, v in os.environ.items() if not k.startswith("PYCACHE_")}
    environ.update(PYCACHE_RUNTIME_DIR=str(tmp_path / "rt"), PYCACHE_CONFIG=str(tmp_path / "config.toml"))
    environ.update({k: v.format(tmp=tmp_path) for k, v in settings.items()})
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(f"{environ['PYCACHE_RUNTIME_DIR']}/s-{connection.server_fingerprint(environ)}.sock")
    listener.listen(4)
    listener.setblocking(False)
    try:
        pycache = str(beside_stand_in / "pycache")
        assert lines([pycache, "gcc", "-c", "a.c"], env=environ) == [
            "python", "-I", "-S", str(beside_stand_in / "pycache-python"), "--argv0", pycache, "gcc", "-c", "a.c",
        ]
        with pytest.raises(BlockingIOError):
            listener.accept()
    finally:
        listener.close()


def test_the_native_client_asks_the_server_of_plainly_false_settings(beside_stand_in, tmp_path):
    """The counterpart of the test above: with settings it reads exactly, it
    calls that server itself (which here hangs up: then it hands over)."""
    import socket

    (tmp_path / "rt").mkdir(mode=0o700)
    environ = {k: v for k, v in os.environ.items() if not k.startswith("PYCACHE_")}
    environ.update(PYCACHE_RUNTIME_DIR=str(tmp_path / "rt"), PYCACHE_CONFIG=str(tmp_path / "config.toml"),
                   PYCACHE_DISABLE="no", PYCACHE_NO_SERVER="0", PYCACHE_SERVER_TIMEOUT="5")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(f"{environ['PYCACHE_RUNTIME_DIR']}/s-{connection.server_fingerprint(environ)}.sock")
    listener.listen(4)
    listener.settimeout(30)
    try:
        started = subprocess.Popen([beside_stand_in / "pycache", "gcc", "-c", "a.c"], env=environ, text=True,
                                   stdout=subprocess.PIPE)
        conn, _ = listener.accept()
        conn.settimeout(30)
        request = conn.recv(1 << 20)
        while len(request) < 8 or len(request) < 8 + int.from_bytes(request[4:8], "little"):
            request += conn.recv(1 << 20)  # all of it: a close with bytes unread resets the connection
        assert request.startswith(protocol.MAGIC + (len(request) - 8).to_bytes(4, "little") + b"compile\0")
        conn.shutdown(socket.SHUT_RDWR)
        conn.close()
        out, _ = started.communicate(timeout=60)
    finally:
        listener.close()
    assert out.splitlines()[6:9] == ["--client-fault", "ConnectionError: server closed the connection without a reply",
                                     "gcc"]


def test_no_server_hands_the_compile_over_by_the_path_it_was_found_at(beside_stand_in, tmp_path):
    """Found on PATH (argv[0] without a slash), relative, or by a link named
    like a compiler: the Python client is told the path the program was run
    by, as a shell tells a script its $0."""
    environ = {**os.environ, "PYCACHE_RUNTIME_DIR": str(tmp_path / "rt"),
               "PATH": f"{beside_stand_in}{os.pathsep}{os.environ['PATH']}"}
    client_script = str(beside_stand_in / "pycache-python")
    assert lines(["pycache", "gcc", "-c", "a.c"], env=environ)[3:] == [
        client_script, "--argv0", f"{beside_stand_in}/pycache", "gcc", "-c", "a.c"]
    assert lines(["./pycache", "-c", "x.c"], cwd=beside_stand_in, env=environ)[3:] == [
        f"{beside_stand_in}/./pycache-python", "--argv0", "./pycache", "-c", "x.c"]
    links = tmp_path / "links"
    links.mkdir()
    (links / "g++").symlink_to(beside_stand_in / "pycache")
    environ["PATH"] = f"{links}{os.pathsep}{os.environ['PATH']}"
    assert lines(["g++", "-c", "x.cc"], env=environ)[3:] == [client_script, "--argv0", f"{links}/g++", "-c", "x.cc"]
    # Started by a path with another argv[0] (as a build tool may): the path
    # counts, as a shell's $0 would -- not a bare name looked up on PATH.
    assert lines(["cc", "-c", "x.cc"], executable=links / "g++", env=environ)[3:] == [
        client_script, "--argv0", f"{links}/g++", "-c", "x.cc"]


@pytest.mark.parametrize("shebang", ["#!/bin/sh", "#!/usr/bin/env python3", f"#!{sys.executable} -E"])
def test_an_interpreter_line_that_is_not_a_plain_python_path_runs_the_client_as_a_script(beside_stand_in, shebang):
    body = 'echo itself "$@"' if shebang == "#!/bin/sh" else "import sys; print('itself', *sys.argv[1:])"
    (beside_stand_in / "pycache-python").write_text(f"{shebang}\n{body}\n")
    assert lines([str(beside_stand_in / "pycache"), "stats"]) == [f"itself --argv0 {beside_stand_in}/pycache stats"]


def test_a_lone_native_client_says_why_it_cannot_hand_a_call_over(alone, tmp_path):
    done = subprocess.run([alone, "stats"], capture_output=True, timeout=60)
    assert done.returncode == 127
    assert done.stderr == FAILED_HANDOVER + f" {alone.parent}/pycache-python: No such file or directory\n".encode()
    # A compile with no server to answer it goes the same way (the Python
    # client would start the server).
    environ = {**os.environ, "PYCACHE_RUNTIME_DIR": str(tmp_path / "rt")}
    done = subprocess.run([alone, "gcc", "-c", "a.c"], capture_output=True, timeout=60, env=environ)
    assert (done.returncode, done.stderr.startswith(FAILED_HANDOVER)) == (127, True)


def test_a_server_that_fails_mid_call_is_counted_by_the_python_client_and_the_compile_runs(pycache_env, native_client,
                                                                                           work):
    """The real Python client beside the native one: a server that hangs up
    after the request is a fault the Python client counts, and the compile
    runs uncached without asking the server again."""
    import socket
    import threading

    bindir = Path(sys.executable).parent
    assert (bindir / "pycache-python").exists()
    sock_path = Path(pycache_env.env["PYCACHE_RUNTIME_DIR"]) / f"s-{connection.server_fingerprint(pycache_env.env)}.sock"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(sock_path))
    listener.listen(4)
    accepted = []

    def hang_up():
        conn, _ = listener.accept()
        accepted.append(conn.recv(1 << 20))
        conn.close()

    thread = threading.Thread(target=hang_up, daemon=True)
    thread.start()
    try:
        # The native client beside a copy of the environment's Python client.
        pair = pycache_env.root / "pair"
        pair.mkdir()
        shutil.copy(native_client, pair / "pycache")
        shutil.copy(bindir / "pycache-python", pair / "pycache-python")
        done = native(pycache_env, pair / "pycache").compile("gcc", "-c", "a.c", "-o", "a.o", cwd=work)
        thread.join(10)
    finally:
        listener.close()
    assert (done.returncode, done.stderr) == (0, b"")
    assert (work / "a.o").exists()
    assert accepted and accepted[0].startswith(protocol.MAGIC)
    sock_path.unlink()
    stats = python_client(pycache_env).stats()
    assert stats["errors"]["server-unavailable"]["count"] == 1
    assert "ConnectionError: server closed the connection without a reply" in stats["errors"]["server-unavailable"]["last"]


# --- one owner for each constant ----------------------------------------------------


def test_the_generated_constants_are_the_python_modules_own():
    """native/build.py reads the constants from the modules that own them;
    a change there the reader cannot follow must fail the build, never
    give the native client another value."""
    read = {name: native_build.module_constants(REPO / "pycache_core" / f"{name}.py") for name in
            ("env", "protocol", "connection", "client")}
    assert read["env"]["SERVER_SCOPED"] == env.SERVER_SCOPED
    assert read["env"]["SERVER_SCOPED_PREFIXES"] == env.SERVER_SCOPED_PREFIXES
    assert set(read["env"]["TRUE_WORDS"]) == env.TRUE_WORDS
    assert read["protocol"]["PROTOCOL_VERSION"] == protocol.PROTOCOL_VERSION
    assert (read["protocol"]["MAGIC"], read["protocol"]["EARLY"]) == (protocol.MAGIC, protocol.EARLY)
    assert read["protocol"]["MAX_FRAME"] == protocol.MAX_FRAME
    assert read["connection"]["SILENCE_TIMEOUT"] == connection.SILENCE_TIMEOUT
    assert read["client"]["COMMANDS"] == client.COMMANDS
    header = native_build.constants_header(REPO)
    assert all(f'"{name}"' in header for name in env.SERVER_SCOPED)


def test_a_machine_without_a_c_compiler_is_told_why(tmp_path, monkeypatch):
    monkeypatch.setenv("CC", str(tmp_path / "no-such-cc"))
    with pytest.raises(native_build.BuildError, match="no-such-cc"):
        native_build.build(REPO, tmp_path / "pycache")
    assert not (tmp_path / "pycache").exists()


def test_doctor_says_which_client_the_pycache_command_is(pycache_env, native_client):
    bindir = Path(sys.executable).parent
    pair = pycache_env.root / "pair"
    pair.mkdir()
    shutil.copy(bindir / "pycache-python", pair / "pycache-python")
    shutil.copy(native_client, pair / "pycache")
    shutil.copy(REPO / "bin" / "pycache", pair / "pycache-sh")
    done = native(pycache_env, pair / "pycache").run(["doctor"], env={"COLUMNS": "300"})
    assert done.returncode == 0, done.stdout.decode()
    assert f"client: the native client, {pair}/pycache\n".encode() in done.stdout
    done = native(pycache_env, pair / "pycache-sh").run(["doctor"], env={"COLUMNS": "300"})
    assert done.returncode == 0, done.stdout.decode()
    assert f"client: the shell launcher, {pair}/pycache-sh: every call starts Python".encode() in done.stdout
