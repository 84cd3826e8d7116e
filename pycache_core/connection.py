"""Where the server lives and how to talk to it: one module for the client,
the CLI and the server.

- **where**: a private runtime directory (0700, owner checked) holding, per
  server, a socket, a start lock and a faults file, all named by a
  fingerprint of the server-scoped settings (`pycache_core.env.server_scope`);
- **how to reach it**: `connect`, `request` (send a frame, read the reply),
  `control` (a ping, status or stop request);
- **how to start it**: `start_server`, under an ``flock`` so that many parallel
  first calls start exactly one;
- **frames on a socket**: `read_frame`, which skips the keepalive bytes a
  busy server sends (the byte layout itself is `pycache_core.protocol`'s).

Imported by the per-compile client on every compile: the builtin ``posix``
and ``sys`` at import, and only where they are needed ``_socket``,
``_blake2`` (the fingerprint), ``fcntl`` and ``time`` (starting a server) --
never ``os`` (the client starts without site, so nothing has imported it,
and it costs milliseconds: its ``_collections_abc``), ``socket``,
``hashlib``, ``json`` or anything else that costs that much
(tests/core/test_client.py checks the import list). Paths here are POSIX
paths, joined with `join`.
"""

import posix
import sys

from . import env as names
from . import protocol

CONNECT_TIMEOUT = 2.0
# Silence longer than this (no keepalive, no reply) means a hung server.
SILENCE_TIMEOUT = 30.0
SERVER_START_TIMEOUT = 15.0
# Run in the server process by -c, not -m: both put the caller's working
# directory first on sys.path, and -c lets us take it off again before
# anything is imported (a build tree's json.py must not shadow the stdlib).
SERVER_BOOT = (
    "import sys\n"
    "if sys.path and sys.path[0] == '': del sys.path[0]\n"
    "from pycache_core.server import main\n"
    "sys.exit(main(['--daemon', '--ready-fd', '3']))\n"
)  # 3: READY_FD


# --- where the server lives ---------------------------------------------------


def environment():
    """This process's environment as text: what ``os.environ`` holds,
    decoded from the builtin ``posix.environ`` as ``os`` decodes it."""
    return {k.decode("utf-8", "surrogateescape"): v.decode("utf-8", "surrogateescape") for k, v in posix.environ.items()}


def server_fingerprint(environ):
    """Names the server for this configuration: clients that differ in any
    server-scoped variable talk to different servers."""
    text = f"protocol={protocol.PROTOCOL_VERSION}\0" + names.server_scope(environ)
    try:
        from _blake2 import blake2b  # C module: microseconds, unlike hashlib
    except ImportError:  # pragma: no cover - exotic builds
        from hashlib import blake2b
    return blake2b(text.encode("utf-8", "surrogateescape"), digest_size=8).hexdigest()


def join(directory, name):
    """``directory/name``, as ``os.path.join`` makes it of a relative ``name``."""
    return f"{directory}{name}" if directory.endswith("/") or not directory else f"{directory}/{name}"


def default_runtime_dir(environ):
    """Where the runtime directory is without ``PYCACHE_RUNTIME_DIR``."""
    xdg = environ.get("XDG_RUNTIME_DIR")
    return join(xdg, "pycache") if xdg else join("/tmp", f"pycache-{posix.getuid()}")


def runtime_dir(environ):
    """A per-user directory only the user can open (created 0700)."""
    base = environ.get(names.RUNTIME_DIR) or default_runtime_dir(environ)
    try:
        posix.mkdir(base, 0o700)
    except FileExistsError:
        pass
    st = posix.lstat(base)
    # A directory itself (lstat: a symbolic link is none), owned by us, private.
    if st.st_uid != posix.getuid() or st.st_mode & 0o077 or st.st_mode & 0o170000 != 0o040000:
        raise PermissionError(f"{base} is not a private directory of this user (owner {st.st_uid}, mode {oct(st.st_mode & 0o777)})")
    return base


def server_log_path(environ):
    """The server's own log (and its stderr: start-up errors land here),
    unless ``PYCACHE_LOG_FILE`` names another; next to its socket."""
    base = environ.get(names.RUNTIME_DIR) or default_runtime_dir(environ)
    return join(base, "s-" + server_fingerprint(environ) + ".log")


def server_paths(environ, fingerprint=None):
    """(socket, lock file, faults file) of the server for this environment
    (whose `server_fingerprint` the caller may have at hand)."""
    directory = runtime_dir(environ)
    stem = join(directory, "s-" + (fingerprint or server_fingerprint(environ)))
    return stem + ".sock", stem + ".lock", stem + ".faults"


def record_fault(environ, kind, message):
    """Leave a note for the server's statistics: the client ran uncached.
    Where the runtime directory cannot be used, the note goes to the default
    one (`notes_dir`), where ``pycache stats`` looks too."""
    directory = notes_dir(environ)
    if directory is None:
        return
    try:
        faults = join(directory, "s-" + server_fingerprint(environ) + ".faults")
        line = f"{kind}\t{message}".replace("\n", " ")[:2000] + "\n"
        fd = posix.open(faults, posix.O_WRONLY | posix.O_APPEND | posix.O_CREAT, 0o600)
        try:
            posix.write(fd, line.encode("utf-8", "surrogateescape"))
        finally:
            posix.close(fd)
    except OSError:
        pass


def notes_dir(environ):
    """Where the faults file and the unavailable marker go: the runtime
    directory, or when that cannot be used (a non-private
    ``PYCACHE_RUNTIME_DIR``) the default one; None when neither can."""
    try:
        return runtime_dir(environ)
    except OSError:
        if not environ.get(names.RUNTIME_DIR):
            return None
    try:
        return runtime_dir({k: v for k, v in environ.items() if k != names.RUNTIME_DIR})
    except OSError:
        return None


# --- a server that cannot start: back off ---------------------------------------
#
# A server that fails to start (a bad setting, a broken installation) must
# cost a build once, not on every compile. The first failure leaves a marker
# holding its cause next to the socket; for BACKOFF seconds after it, compiles
# run uncached at once (counted as faults). The warning on stderr is printed
# once "per build": when the marker is made, when its cause changes, or when
# it was not renewed for NEW_BUILD seconds (no compile tried in that time).

BACKOFF = 60.0
NEW_BUILD = 600.0


class ServerBackoff(OSError):
    """No start was tried: one failed less than BACKOFF seconds ago."""


def unavailable_marker(environ):
    directory = notes_dir(environ)
    return None if directory is None else join(directory, "s-" + server_fingerprint(environ) + ".unavailable")


def read_unavailable(environ):
    """(cause, seconds since it was last seen) of a failed start, or None."""
    marker = unavailable_marker(environ)
    if marker is None:
        return None
    try:
        with open(marker, "rb") as f:
            cause = f.read(4096).decode("utf-8", "replace").strip()
        import time

        return cause, time.time() - posix.stat(marker).st_mtime
    except OSError:
        return None


def mark_unavailable(environ, cause, what="the cache server cannot start"):
    """Note that the server cannot run, and why; warn on stderr once per build."""
    marker = unavailable_marker(environ)
    previous = read_unavailable(environ)
    if previous is None or previous[0] != cause or previous[1] > NEW_BUILD:
        sys.stderr.write(
            f"pycache: warning: compiling without the cache: {what} "
            f"(retried in {BACKOFF:.0f} s; `pycache doctor` checks the setup): {cause}\n"
        )
    if marker is None:
        return
    tmp = f"{marker}.{posix.getpid()}"
    try:
        fd = posix.open(tmp, posix.O_WRONLY | posix.O_CREAT | posix.O_TRUNC, 0o600)
        try:
            posix.write(fd, cause.encode("utf-8", "surrogateescape")[:4000])
        finally:
            posix.close(fd)
        posix.replace(tmp, marker)
    except OSError:
        pass


def clear_unavailable(environ):
    marker = unavailable_marker(environ)
    if marker is not None:
        try:
            posix.unlink(marker)
        except OSError:
            pass


# --- frames on a socket -------------------------------------------------------


def connect(path, timeout=CONNECT_TIMEOUT):
    """A connected Unix socket to ``path``; raises OSError as connect() does."""
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
    """Seconds without a sign of life after which the server counts as hung
    (``PYCACHE_SERVER_TIMEOUT``; the server sends a keepalive four times a second)."""
    try:
        value = float(environ.get(names.SERVER_TIMEOUT) or SILENCE_TIMEOUT)
    except ValueError:
        return SILENCE_TIMEOUT
    return value if 0 < value <= 86400 else SILENCE_TIMEOUT


def read_frame(sock, timeout, max_size=protocol.MAX_FRAME, peer="server", expecting="reply", on_early=None):
    """The body of the next frame, skipping keepalive bytes before it.

    ``timeout`` bounds each wait for a byte. Raises ConnectionError when
    ``peer`` hangs up before a whole frame, ValueError on bytes that are no
    frame or a frame longer than ``max_size``, TimeoutError on silence.
    ``peer`` and ``expecting`` ("server", "reply") word the messages.
    ``on_early``: called with each early stderr frame's bytes as it comes
    (without it, such a frame is unexpected bytes).
    """
    sock.settimeout(timeout)
    buffer = b""
    while True:
        buffer = buffer.lstrip(protocol.KEEPALIVE)
        if len(buffer) >= 8 and on_early is not None and buffer[:4] == protocol.EARLY:
            size = int.from_bytes(buffer[4:8], "little")
            if size > max_size:
                raise ValueError(f"early frame of {size} bytes from {peer} refused (limit {max_size})")
            while len(buffer) < 8 + size:
                chunk = sock.recv(65536)
                if not chunk:
                    raise ConnectionError(f"{peer} closed the connection mid-{expecting}")
                buffer += chunk
            on_early(buffer[8 : 8 + size])
            buffer = buffer[8 + size :]
            continue
        if len(buffer) >= 8:
            break
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"{peer} closed the connection without a {expecting}")
        buffer += chunk
    if buffer[:4] != protocol.MAGIC:
        raise ValueError(f"unexpected bytes from {peer}: {buffer[:16]!r}")
    size = int.from_bytes(buffer[4:8], "little")
    if size > max_size:
        raise ValueError(f"frame of {size} bytes from {peer} refused (limit {max_size})")
    body = buffer[8:]
    while len(body) < size:
        chunk = sock.recv(min(1 << 20, size - len(body)))
        if not chunk:
            raise ConnectionError(f"{peer} closed the connection mid-{expecting} ({len(body)} of {size} bytes)")
        body += chunk
    return body[:size]


def request(path, payload, timeout=None, on_early=None):
    """Send one framed request to the server at ``path``; its reply's body.

    ``timeout``: silence that counts as a hung server (default: the
    ``PYCACHE_SERVER_TIMEOUT`` of this process's environment); ``on_early``
    as for `read_frame`."""
    sock = connect(path)
    try:
        try:
            sock.sendall(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # it may have answered without reading (a refusal): read that
        return read_frame(sock, silence_timeout(environment()) if timeout is None else timeout, on_early=on_early)
    finally:
        sock.close()


def control(environ, kind, timeout=5.0):
    """Ask the server of ``environ``'s configuration a control question
    ("ping", "status", "flush-stats", "stop"): the answer's text as bytes,
    or None when no server answers. ``timeout`` bounds the connect; the
    answer may take longer (a stop flushes uploads first), up to the larger
    of ``timeout`` and the silence timeout."""
    return control_socket(server_paths(environ)[0], server_fingerprint(environ), kind, timeout,
                          silence_timeout(environ))


def control_socket(sock_path, fingerprint, kind, timeout=5.0, silence=SILENCE_TIMEOUT):
    """`control` for the server on ``sock_path`` (``pycache server stop --all``
    reaches every server of this user this way)."""
    try:
        sock = connect(sock_path, timeout)
    except OSError:
        return None
    try:
        sock.sendall(protocol.encode_control(kind, fingerprint))
        body = read_frame(sock, max(timeout, silence))
        status, _code, _outcome, out, _err, _exe = protocol.decode_reply(body)
        if kind == "stop" and status == "ok":
            _wait_for_exit(sock, out)
    finally:
        sock.close()
    return out


STOP_EXIT_TIMEOUT = 60.0


def _wait_for_exit(sock, answer):
    """After answering a stop, the server holds the connection until its
    process ends: wait for the end of file, then (by a pidfd opened while
    the process surely still exists) for the process itself."""
    import json
    import os
    import select

    pidfd = None
    try:
        pid = int(json.loads(answer).get("pid", 0))
        pidfd = os.pidfd_open(pid) if pid > 0 else None
    except (ValueError, AttributeError, OSError):
        pass  # an older server, or no pidfds here: the end of file must do
    try:
        sock.settimeout(STOP_EXIT_TIMEOUT)
        while sock.recv(4096):
            pass
    except OSError:
        pass
    if pidfd is not None:
        try:
            select.select([pidfd], [], [], 5.0)
        finally:
            os.close(pidfd)


# --- starting the server ------------------------------------------------------

# The descriptor on which the starting server says it is ready (SERVER_BOOT
# passes it on): readiness without a probe connection to the new server.
READY_FD = 3
READY = b"ready"


def ping(environ, sock_path, timeout=0.5):
    """Whether a server answers on ``sock_path`` (a real request, so the
    server sees no connection closed without one)."""
    try:
        sock = connect(sock_path, timeout)
    except OSError:
        return False
    try:
        sock.sendall(protocol.encode_control("ping", server_fingerprint(environ)))
        read_frame(sock, timeout)
        return True
    except (OSError, ValueError):
        return False
    finally:
        sock.close()


def start_server(environ, sock_path, lock_path, back_off=True):
    """Start the server unless one is running; one starter at a time, so many
    parallel first calls start exactly one server. With ``back_off``, a start
    that failed less than `BACKOFF` seconds ago is not tried again
    (`ServerBackoff`), and a failure is marked (`mark_unavailable`)."""
    import fcntl

    fd = posix.open(lock_path, posix.O_RDWR | posix.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        if ping(environ, sock_path):
            return  # someone else started it while we waited
        if back_off:
            failed = read_unavailable(environ)
            if failed is not None and failed[1] < BACKOFF:
                raise ServerBackoff(f"not started: a start failed {failed[1]:.0f} s ago: {failed[0]}")
        try:
            _spawn_server(environ, sock_path)
        except OSError as exc:
            if back_off:
                mark_unavailable(environ, str(exc))
            raise
        clear_unavailable(environ)
    finally:
        posix.close(fd)


#: A default log past this size is moved to ``<log>.1`` when a server starts.
LOG_ROTATE_BYTES = 32 << 20


def _spawn_server(environ, sock_path):
    """Spawn the server detached from the caller: a session of its own, the
    default signal dispositions, and no descriptor of the caller's but
    /dev/null, its log and the readiness socket (a server holding the
    caller's pipes would drain a process-substitution source, or keep a
    pipeline open until it exits). Returns once it listens; raises with its
    own last words when it dies first."""
    import _signal
    import _socket
    import os  # starting a server costs far more than os

    # The server's stderr (a start-up error) goes to its default log, next to
    # its socket; only what this start adds is read back for the cause.
    log = server_log_path(environ)
    try:
        offset = posix.stat(log).st_size
        if offset > LOG_ROTATE_BYTES:
            posix.replace(log, log + ".1")
            offset = 0
    except OSError:
        offset = 0
    ours, theirs = _socket.socketpair(_socket.AF_UNIX, _socket.SOCK_STREAM)
    spare = os.dup(theirs.fileno()) if theirs.fileno() == READY_FD else None  # dup2(3, 3) would keep close-on-exec
    try:
        actions = [
            (os.POSIX_SPAWN_DUP2, theirs.fileno() if spare is None else spare, READY_FD),
            (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
            (os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0),
            (os.POSIX_SPAWN_OPEN, 2, log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600),
        ]
        # Inherited descriptors are not close-on-exec: close every one.
        actions += [(os.POSIX_SPAWN_CLOSE, n) for n in _open_descriptors() if n > READY_FD]
        pid = os.posix_spawn(
            sys.executable,
            [sys.executable, "-c", SERVER_BOOT],
            dict(environ),
            file_actions=actions,
            setsid=True,
            setsigmask=(),
            setsigdef=(_signal.SIGINT, _signal.SIGQUIT, _signal.SIGTERM, _signal.SIGHUP),
        )
    finally:
        theirs.close()
        if spare is not None:
            os.close(spare)
    try:
        ours.settimeout(SERVER_START_TIMEOUT)
        try:
            said = ours.recv(len(READY))
        except TimeoutError:
            raise TimeoutError(f"server did not start within {SERVER_START_TIMEOUT:.0f} s (its log: {log})") from None
    finally:
        ours.close()
    if said != READY:  # it closed the socket unready: it is dying
        raise ChildProcessError(f"server exited at start-up ({_exit_status(pid)}): {_last_line(log, offset)}")


def _open_descriptors():
    import os

    try:
        return [int(n) for n in os.listdir("/proc/self/fd")]
    except OSError:  # no /proc: every descriptor a process may have
        return range(3, os.sysconf("SC_OPEN_MAX"))


def _exit_status(pid):
    """How the child ended (it is on its way out: wait a little for it)."""
    import os
    import time

    deadline = time.monotonic() + 5.0
    while True:
        try:
            done, status = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:  # SIGCHLD ignored: already reaped
            return "status unknown"
        if done:
            return f"status {os.waitstatus_to_exitcode(status)}"
        if time.monotonic() > deadline:
            return "still running"
        time.sleep(0.005)


def _last_line(path, offset=0):
    """The last line written to ``path`` after ``offset``."""
    try:
        with open(path, "rb") as f:
            f.seek(offset)
            lines = f.read()[-4096:].decode("utf-8", "replace").strip().splitlines()
    except OSError as exc:
        return f"(no output: {exc.strerror})"
    return lines[-1] if lines else f"(nothing written to {path})"
