"""The ``pycache`` executable: the per-compile client, and the door to the CLI.

This module runs once per compile, so it imports only what the interpreter
already has loaded or can load in microseconds (``os``, ``sys``, ``_socket``,
``fcntl``) -- never pluggy, typer, rich, blake3 or boto3. It sends the
command line, cwd, environment and whether stderr is a terminal to the
server, then replays stdout, stderr and the exit status. Whatever goes wrong
on the way (no server, a hung one, garbage on the socket), the compiler runs
uncached in this process and the fault is recorded for ``pycache stats``.

Forms:
    pycache wrap -- gcc -c a.c        compile through the cache
    pycache gcc -c a.c                the same (RUSTC_WRAPPER, *_LAUNCHER, CC=)
    gcc -c a.c                        via a symlink named gcc -> pycache
    pycache stats|server|...          subcommands (typer CLI, imported lazily)
"""

import os
import sys

from . import env as names
from . import protocol
from .which import find_executable

SUBCOMMANDS = frozenset(
    {"stats", "server", "config", "explain", "doctor", "plugins", "cache", "version", "--help", "-h", "--version"}
)
CONNECT_TIMEOUT = 2.0
# Silence longer than this (no keepalive, no reply) means a hung server.
SILENCE_TIMEOUT = 30.0
# Overrides SILENCE_TIMEOUT (seconds); the server sends a keepalive every second.
SILENCE_TIMEOUT_VAR = names.SERVER_TIMEOUT
SERVER_START_TIMEOUT = 15.0
# Run in the server process by -c, not -m: both put the caller's working
# directory first on sys.path, and -c lets us take it off again before
# anything is imported (a build tree's json.py must not shadow the stdlib).
SERVER_BOOT = (
    "import sys\n"
    "if sys.path and sys.path[0] == '': del sys.path[0]\n"
    "from pycache_core.server import main\n"
    "sys.exit(main(['--daemon']))\n"
)


def main(argv=None):
    argv = list(sys.argv if argv is None else argv)
    program = os.path.basename(argv[0])
    if not program.startswith("pycache") and program not in ("__main__.py", "client.py"):
        # Masquerade: we were run as the compiler, perhaps by a path to our
        # symlink; the real one is that name later on PATH, never ourselves.
        return compile_command([program, *argv[1:]])
    rest = argv[1:]
    if rest and rest[0] == "wrap":
        rest = rest[1:]
        if rest and rest[0] == "--":
            rest = rest[1:]
        if not rest:
            sys.stderr.write("pycache wrap: missing compiler command (pycache wrap -- gcc -c a.c)\n")
            return 2
        return compile_command(rest)
    if not rest or rest[0] in SUBCOMMANDS or rest[0].startswith("-"):
        from .cli.main import run

        return run(rest)
    return compile_command(rest)


# --- where the server lives -------------------------------------------------


def server_fingerprint(environ):
    """Names the server for this configuration: clients that differ in any
    server-scoped variable talk to different servers."""
    text = "\0".join(f"{n}={environ.get(n, '')}" for n in names.SERVER_SCOPED)
    try:
        from _blake2 import blake2b  # C module: microseconds, unlike hashlib
    except ImportError:  # pragma: no cover - exotic builds
        from hashlib import blake2b
    return blake2b(text.encode("utf-8", "surrogateescape"), digest_size=8).hexdigest()


def runtime_dir(environ):
    """A per-user directory only the user can open (created 0700)."""
    base = environ.get(names.RUNTIME_DIR)
    if not base:
        xdg = environ.get("XDG_RUNTIME_DIR")
        base = os.path.join(xdg, "pycache") if xdg else os.path.join("/tmp", f"pycache-{os.getuid()}")
    try:
        os.mkdir(base, 0o700)
    except FileExistsError:
        pass
    st = os.lstat(base)
    if st.st_uid != os.getuid() or st.st_mode & 0o077 or not os.path.isdir(base) or os.path.islink(base):
        raise PermissionError(f"{base} is not a private directory of this user (owner {st.st_uid}, mode {oct(st.st_mode & 0o777)})")
    return base


def server_paths(environ):
    """(socket, lock file, faults file) of the server for this environment."""
    directory = runtime_dir(environ)
    stem = os.path.join(directory, "s-" + server_fingerprint(environ))
    return stem + ".sock", stem + ".lock", stem + ".faults"


def record_fault(environ, kind, message):
    """Leave a note for the server's statistics: the client ran uncached."""
    try:
        _sock, _lock, faults = server_paths(environ)
        line = f"{kind}\t{message}".replace("\n", " ")[:2000] + "\n"
        fd = os.open(faults, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line.encode("utf-8", "surrogateescape"))
        finally:
            os.close(fd)
    except OSError:
        pass


# --- talking to the server --------------------------------------------------


def _connect(path, timeout=CONNECT_TIMEOUT):
    import _socket

    sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        sock.connect(path)
    except BaseException:
        sock.close()
        raise
    return sock


def silence_timeout(environ):
    """Seconds without a sign of life after which the server counts as hung."""
    try:
        value = float(environ.get(SILENCE_TIMEOUT_VAR) or SILENCE_TIMEOUT)
    except ValueError:
        return SILENCE_TIMEOUT
    return value if 0 < value <= 86400 else SILENCE_TIMEOUT


def _read_frame(sock, timeout=None):
    """Read one reply frame, skipping keepalives; ValueError on garbage."""
    sock.settimeout(silence_timeout(os.environ) if timeout is None else timeout)
    buffer = b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("server closed the connection without a reply")
        buffer += chunk
        buffer = buffer.lstrip(protocol.KEEPALIVE)
        if len(buffer) >= 8:
            break
    if buffer[:4] != protocol.MAGIC:
        raise ValueError(f"unexpected bytes from server: {buffer[:16]!r}")
    size = int.from_bytes(buffer[4:8], "little")
    body = buffer[8:]
    while len(body) < size:
        chunk = sock.recv(min(1 << 20, size - len(body)))
        if not chunk:
            raise ConnectionError("server closed the connection mid-reply")
        body += chunk
    return body[:size]


def request(path, payload):
    sock = _connect(path)
    try:
        try:
            sock.sendall(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # it may have answered without reading (a refusal): read that
        return _read_frame(sock)
    finally:
        sock.close()


def start_server(environ, sock_path, lock_path):
    """Start the server unless one is running; one starter at a time, so many
    parallel first calls start exactly one server."""
    import fcntl

    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            _connect(sock_path, 0.5).close()
            return  # someone else started it while we waited
        except OSError:
            pass
        devnull = os.devnull
        # The server's own stderr (a start-up traceback) lands next to its socket.
        errors = os.path.splitext(sock_path)[0] + ".stderr"
        pid = os.posix_spawn(
            sys.executable,
            [sys.executable, "-c", SERVER_BOOT],
            dict(environ),
            setsid=True,
            file_actions=[
                (os.POSIX_SPAWN_OPEN, 0, devnull, os.O_RDONLY, 0),
                (os.POSIX_SPAWN_OPEN, 1, devnull, os.O_WRONLY, 0),
                (os.POSIX_SPAWN_OPEN, 2, errors, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600),
            ],
        )
        import time

        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while time.monotonic() < deadline:
            try:
                _connect(sock_path, 0.5).close()
                return
            except OSError:
                pass
            exited = _exit_status(pid)
            if exited is not None:  # it died (or found another server): stop waiting
                try:
                    _connect(sock_path, 0.5).close()
                    return
                except OSError:
                    raise ChildProcessError(f"server exited at start-up ({exited}): {_last_line(errors)}") from None
            time.sleep(0.005)
        raise TimeoutError(f"server did not start within {SERVER_START_TIMEOUT:.0f} s")
    finally:
        os.close(fd)


def _exit_status(pid):
    """None while the child runs, else how it ended."""
    try:
        done, status = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:  # SIGCHLD ignored: already reaped
        return "status unknown"
    return f"status {os.waitstatus_to_exitcode(status)}" if done else None


def _last_line(path):
    try:
        with open(path, "rb") as f:
            lines = f.read()[-4096:].decode("utf-8", "replace").strip().splitlines()
    except OSError as exc:
        return f"(no output: {exc.strerror})"
    return lines[-1] if lines else f"(nothing written to {path})"


# --- one compile ------------------------------------------------------------


def compile_command(command):
    environ = os.environ
    self_exe = os.path.realpath(sys.argv[0]) if sys.argv and sys.argv[0] else ""
    if names.is_true(environ.get(names.DISABLE)):
        return exec_compiler(command, self_exe)
    cwd = os.getcwd()
    tty = os.isatty(2)
    if names.is_true(environ.get(names.NO_SERVER)):
        return _compile_in_process(command, cwd, tty, self_exe)
    try:
        sock_path, lock_path, _faults = server_paths(environ)
    except OSError as exc:
        record_fault(environ, "server-unavailable", f"no runtime directory: {exc}")
        return exec_compiler(command, self_exe)
    payload = protocol.encode_compile(server_fingerprint(environ), cwd, tty, self_exe, command, environ)
    try:
        try:
            body = request(sock_path, payload)
        except (FileNotFoundError, ConnectionRefusedError):
            start_server(environ, sock_path, lock_path)
            body = request(sock_path, payload)
        status, code, _outcome, out, err, execute = protocol.decode_reply(body)
        if status != "ok":
            raise ValueError(f"server answered {status}: {err.decode('utf-8', 'replace')}")
    except (OSError, ValueError) as exc:
        record_fault(environ, "server-unavailable", f"{type(exc).__name__}: {exc}")
        return exec_compiler(command, self_exe)
    if execute:
        return exec_compiler([execute, *command[1:]], self_exe, argv0=command[0])
    return replay(code, out, err)


def _compile_in_process(command, cwd, tty, self_exe):
    from .config import Config
    from .pipeline import CompileRequest, Engine

    engine = Engine(Config())
    try:
        reply = engine.compile(
            CompileRequest(argv=tuple(command), cwd=cwd, env=dict(os.environ), stderr_is_tty=tty, client_executable=self_exe)
        )
    finally:
        engine.store.close()
    if reply.execute:
        return exec_compiler([reply.execute, *command[1:]], self_exe, argv0=command[0])
    return replay(reply.exit_code, reply.stdout, reply.stderr)


def replay(code, out, err):
    _write_all(1, out)
    _write_all(2, err)
    if code < 0:  # the compiler died of a signal: die of the same one
        import signal

        signal.signal(-code, signal.SIG_DFL)
        os.kill(os.getpid(), -code)
    return code


def _write_all(fd, data):
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def exec_compiler(command, self_exe, argv0=None):
    """Replace this process with the real compiler (uncached)."""
    name = command[0]
    path = find_executable(name, os.environ, os.getcwd(), [self_exe])
    if path is not None and self_exe and os.path.realpath(path) == self_exe:
        path = None  # a path to pycache itself: running it would loop forever
    if path is None:
        # What a shell-less exec of a missing program reports (as env(1) does).
        sys.stderr.write(f"pycache: {name}: No such file or directory\n")
        return 127
    try:
        os.execv(path, [argv0 or name, *command[1:]])
    except OSError as exc:
        sys.stderr.write(f"pycache: {name}: {exc.strerror}\n")
        return 126 if os.path.exists(path) else 127


if __name__ == "__main__":
    sys.exit(main())
