"""The resident server: owns plugins, hashing, storage and statistics.

One server per user and configuration (see `connection.server_fingerprint`),
listening on a Unix socket in a private 0700 directory; every connection's
peer uid is checked (SO_PEERCRED) and a stranger is refused. Each connection
is served in its own thread; compiles are subprocesses and blake3 releases
the GIL, so calls run truly in parallel, bounded by ``PYCACHE_SERVER_JOBS``
-- except their lookups, which take turns (`lookup_lock`).
While a compile runs, a ticker sends keepalive bytes so the client can tell
"busy" from "hung". After ``PYCACHE_IDLE_TIMEOUT`` idle seconds it exits.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import select
import socket
import struct
import sys
import threading
import time
from pathlib import Path

from . import connection, protocol, servers
from . import env as names
from .cli import exitcodes
from .config import Config
from .errors import ConfigError
from .pipeline import CompileRequest, Engine
from .stats import take_client_faults

log = logging.getLogger("pycache.server")

TICK = 1.0
# Well below the shortest silence a client may take for a hung server
# (PYCACHE_SERVER_TIMEOUT, at least a second in practice).
KEEPALIVE_INTERVAL = 0.25
MAX_REQUEST = 64 << 20
READ_TIMEOUT = 10.0


class Server:
    def __init__(self, config: Config, engine: Engine | None = None) -> None:
        self.config = config
        environ = config.environ
        self.fingerprint = connection.server_fingerprint(environ)
        self.sock_path, self.lock_path, self.faults_path = connection.server_paths(environ)
        self.engine = engine or Engine(config)
        self.engine.accounting.batch = True  # flushed by the ticker, off the reply path
        jobs = config.integer(names.SERVER_JOBS) or 2 * (os.cpu_count() or 1)
        self.compile_slots = threading.BoundedSemaphore(jobs)
        self.jobs = jobs
        self.idle_timeout = config.integer(names.IDLE_TIMEOUT)
        self.started = time.time()
        self.log_path: Path | None = None  # set by run_server
        self.last_activity = time.monotonic()
        self.requests_served = 0
        self._compiles_running = 0  # holding one of the compile slots, guarded by _state
        self._compiles_queued = 0  # waiting for one
        self._in_flight: dict[int, tuple[ClientConnection, threading.Lock]] = {}
        self._connections = 0  # open connections of any kind, guarded by _state
        # Stop requests answered: their connections end with this process, so
        # `pycache server stop` returns once the server has exited.
        self._held_until_exit: list[socket.socket] = []
        self._state = threading.Lock()
        self._stopping = threading.Event()
        self._listener: socket.socket | None = None
        self._socket_inode: tuple[int, int] | None = None

    # --- lifecycle -------------------------------------------------------------

    def bind(self) -> None:
        """Take the socket; fails if a live server already holds it."""
        if connection.ping(self.config.environ, self.sock_path):
            raise RuntimeError(f"a server is already listening on {self.sock_path}")
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.sock_path)  # stale: its server is gone
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old_umask = os.umask(0o077)
        try:
            listener.bind(self.sock_path)
        finally:
            os.umask(old_umask)
        listener.listen(128)
        self._listener = listener
        st = os.stat(self.sock_path)
        self._socket_inode = (st.st_dev, st.st_ino)
        log.info("listening on %s (pid %d, %d compile slots)", self.sock_path, os.getpid(), self.jobs)

    def serve_forever(self) -> None:
        assert self._listener is not None
        self._absorb_client_faults()
        ticker = threading.Thread(target=self._tick, name="pycache-ticker", daemon=True)
        ticker.start()
        self._listener.settimeout(TICK)
        try:
            while not self._stopping.is_set():
                try:
                    conn, _ = self._listener.accept()
                except TimeoutError:
                    continue
                except OSError:
                    if self._stopping.is_set():
                        break
                    raise
                with self._state:
                    self._connections += 1
                threading.Thread(target=self._serve_connection, args=(conn,), daemon=True).start()
        finally:
            self._shutdown()

    def _shutdown(self) -> None:
        self._unlink_socket()
        with contextlib.suppress(OSError):
            if self._listener is not None:
                self._listener.close()
        self._wait_for_in_flight()
        # Then for the rest, e.g. the `stop` request still flushing and
        # answering: the process must not end under it.
        self._wait_for(lambda: self._connections == 0, READ_TIMEOUT + 5)
        self.engine.store.close()
        self.engine.accounting.flush()
        log.info("stopped after %d requests", self.requests_served)

    def _wait_for_in_flight(self, timeout: float = 600.0) -> None:
        self._wait_for(lambda: not self._in_flight, timeout)

    def _wait_for(self, done, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._state:
                if done():
                    return
            time.sleep(0.05)

    def _tick(self) -> None:
        next_duties = time.monotonic() + TICK
        while not self._stopping.wait(KEEPALIVE_INTERVAL):
            with self._state:
                in_flight = list(self._in_flight.values())
                idle = not self._in_flight and time.monotonic() - self.last_activity
            for client, lock in in_flight:
                with lock:
                    client.keepalive()
            if time.monotonic() < next_duties:
                continue
            next_duties = time.monotonic() + TICK
            self._absorb_client_faults()
            self.engine.accounting.flush()
            if self.idle_timeout > 0 and idle and idle > self.idle_timeout:
                log.info("idle for %d s, exiting", self.idle_timeout)
                self.stop()

    def stop(self) -> None:
        self._stopping.set()
        # At once, not when the accept loop next wakes: a client arriving
        # meanwhile starts a new server instead of queueing at this one.
        self._unlink_socket()

    def _unlink_socket(self) -> None:
        """Remove our socket file -- only ours: after `stop`, a new server
        may already have bound the same path."""
        with contextlib.suppress(OSError):
            st = os.stat(self.sock_path)
            if (st.st_dev, st.st_ino) == self._socket_inode:
                os.unlink(self.sock_path)

    def _absorb_client_faults(self) -> None:
        self.engine.accounting.record(take_client_faults(self.faults_path))

    # --- connections ---------------------------------------------------------

    def _peer_allowed(self, conn: socket.socket) -> bool:
        creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
        pid, uid, _gid = struct.unpack("3i", creds)
        if uid != os.getuid():
            log.warning("refused connection from uid %d (pid %d): not this server's user", uid, pid)
            return False
        return True

    def _serve_connection(self, conn: socket.socket) -> None:
        try:
            if not self._peer_allowed(conn):
                with contextlib.suppress(OSError):
                    conn.sendall(protocol.encode_reply("refused", 1, "refused", b"", b"uid not allowed"))
                return
            body = self._read_request(conn)
            if body is None:
                return
            kind = body.split(b"\0", 1)[0]
            if kind == b"compile":
                self._serve_compile(conn, body)
            else:
                self._serve_control(conn, kind.decode("ascii", "replace"))
        except Exception as exc:  # one bad connection never takes the server down
            log.warning("connection failed: %s: %s", type(exc).__name__, exc)
        finally:
            if conn not in self._held_until_exit:
                with contextlib.suppress(OSError):
                    conn.close()
            with self._state:
                self._connections -= 1

    def _read_request(self, conn: socket.socket) -> bytes | None:
        try:
            return connection.read_frame(conn, READ_TIMEOUT, MAX_REQUEST, peer="client", expecting="request")
        except (ConnectionError, ValueError) as exc:
            log.warning("garbage on the socket (%s); connection dropped", exc)
            return None

    def _serve_compile(self, conn: socket.socket, body: bytes) -> None:
        try:
            fingerprint, cwd, tty, client_exe, umask, argv, environ = protocol.decode_compile(body)
        except (ValueError, UnicodeDecodeError) as exc:
            log.warning("malformed compile request: %s", exc)
            return
        if fingerprint != self.fingerprint:
            conn.sendall(protocol.encode_reply("mismatch", 1, "mismatch", b"", b"configuration differs"))
            return
        lock = threading.Lock()
        key = id(conn)
        client = ClientConnection(conn)
        with self._state:
            self._in_flight[key] = (client, lock)
            self.last_activity = time.monotonic()
        try:
            def early_stderr(lines: bytes) -> None:
                with lock:
                    client.send(protocol.early(lines))

            request = CompileRequest(argv=argv, cwd=cwd, env=environ, stderr_is_tty=tty, client_executable=client_exe,
                                     umask=umask, client=client, early_stderr=early_stderr)
            with self._compile_slot():
                reply = self.engine.compile(request)
            if reply.outcome == "cancelled":
                return  # nobody to answer
            payload = protocol.encode_reply(
                "ok", reply.exit_code, reply.outcome, reply.stdout, reply.stderr, reply.execute or ""
            )
            with lock:
                conn.settimeout(READ_TIMEOUT)
                conn.sendall(payload)
        finally:
            with self._state:
                self._in_flight.pop(key, None)
                self.requests_served += 1
                self.last_activity = time.monotonic()

    @contextlib.contextmanager
    def _compile_slot(self):
        """One of the ``PYCACHE_SERVER_JOBS`` slots a call is served in."""
        with self._state:
            self._compiles_queued += 1
        self.compile_slots.acquire()
        with self._state:
            self._compiles_queued -= 1
            self._compiles_running += 1
        try:
            yield
        finally:
            with self._state:
                self._compiles_running -= 1
            self.compile_slots.release()

    def _serve_control(self, conn: socket.socket, kind: str) -> None:
        if kind == "ping":
            text = "pong"
        elif kind == "flush-stats":
            self._absorb_client_faults()
            self.engine.accounting.flush()
            unsaved = self.engine.accounting.unsaved()
            # What the stats file could not take stays in memory: the reader adds it.
            text = json.dumps({"saved": True} if unsaved is None else
                              {"saved": False, "unsaved": unsaved[0].as_dict(), "error": unsaved[1]})
        elif kind == "status":
            text = json.dumps(self.status())
        elif kind == "stop":
            self.stop()
            self._wait_for_in_flight()
            self.engine.store.flush()
            self.engine.accounting.flush()
            text = json.dumps({"stopped": True, "requests_served": self.requests_served, "pid": os.getpid()})
            self._held_until_exit.append(conn)
        else:
            conn.sendall(protocol.encode_reply("error", 2, "unknown", b"", f"unknown request {kind!r}".encode()))
            return
        conn.sendall(protocol.encode_reply("ok", 0, kind, text.encode(), b""))

    def status(self) -> dict:
        with self._state:
            in_flight, running, queued = len(self._in_flight), self._compiles_running, self._compiles_queued
        tiers = self.engine.store.tier_stats()
        return {
            "pid": os.getpid(),
            "socket": self.sock_path,
            "uptime_seconds": round(time.time() - self.started, 1),
            "requests_served": self.requests_served,
            "in_flight": in_flight,
            "compile_slots": self.jobs,
            "compiles_running": running,
            "compiles_queued": queued,
            "idle_timeout": self.idle_timeout,
            "memory_rss_bytes": _rss_bytes(),
            "uploads_pending": sum(int(t.get("uploads_pending", 0) or 0) for t in tiers.values()),
            "cache_dir": str(self.config.cache_dir),
            "log": str(self.log_path or ""),
            "log_level": self.config.get(names.LOG),
            "started": self.started,
        }


class ClientConnection:
    """A compile's client as the server sees it: its connection, and
    whether it is still there (`pycache_core.pipeline.call.ClientWatch`).

    The client sends nothing after its request, so its connection turning
    readable means it hung up (end of file, POLLHUP); a keepalive that
    cannot be written says the same.
    """

    _HUNG_UP = select.POLLHUP | select.POLLERR | select.POLLNVAL | getattr(select, "POLLRDHUP", 0)

    def __init__(self, conn: socket.socket) -> None:
        self.conn = conn
        self._gone = False

    def fileno(self) -> int:
        return self.conn.fileno()

    def gone(self) -> bool:
        if not self._gone:
            poller = select.poll()
            poller.register(self.conn.fileno(), select.POLLIN | self._HUNG_UP)
            for _fd, events in poller.poll(0):
                if events & self._HUNG_UP or (events & select.POLLIN and self._at_end()):
                    self._gone = True
        return self._gone

    def _at_end(self) -> bool:
        try:
            return self.conn.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
        except BlockingIOError:
            return False
        except OSError:
            return True

    def keepalive(self) -> None:
        self.send(protocol.KEEPALIVE)

    def send(self, data: bytes) -> None:
        """Bytes before the reply (keepalives, early stderr); one that cannot
        be written means the client is gone."""
        try:
            self.conn.sendall(data)
        except OSError:
            self._gone = True


def _rss_bytes() -> int:
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def log_file(config: Config, *, foreground: bool) -> Path | None:
    """Where the server logs: ``PYCACHE_LOG_FILE``, else (in the background)
    its default log next to its socket, which also takes its stderr."""
    if foreground and config.setting(names.LOG_FILE).origin == "default":
        return None
    return config.get(names.LOG_FILE)


def configure_logging(config: Config, *, foreground: bool) -> None:
    level = config.get(names.LOG).upper()
    root = logging.getLogger("pycache")
    root.setLevel(getattr(logging, level))
    path = log_file(config, foreground=foreground)
    if path is not None:
        handler: logging.Handler = logging.FileHandler(path)
        handler.setFormatter(logging.Formatter("%(asctime)s %(process)d %(threadName)s %(levelname)s %(name)s: %(message)s"))
        root.addHandler(handler)
    if foreground:
        from rich.logging import RichHandler

        root.addHandler(RichHandler(show_path=False, log_time_format="%H:%M:%S.%f"))


def run_server(*, foreground: bool, ready_fd: int | None = None) -> int:
    """Serve until stopped. ``ready_fd``: where the starter waits to hear
    that the socket listens (or that another server already does)."""
    try:
        config = Config()
        config.check()  # every setting: a server never runs on a value it cannot read
    except ConfigError as exc:
        # One line, the last of its stderr: the client shows it as the cause.
        sys.stderr.write(f"pycache server: cannot start: {exc}\n")
        return exitcodes.CONFIG
    configure_logging(config, foreground=foreground)
    server = Server(config)
    server.log_path = log_file(config, foreground=foreground)
    try:
        server.bind()
    except RuntimeError as exc:
        log.info("%s", exc)
        _say_ready(ready_fd)
        return 0
    _say_ready(ready_fd)
    # Files of servers long gone (idle exits, older configurations): off the start path.
    threading.Thread(target=servers.sweep, args=(os.path.dirname(server.sock_path),),
                     kwargs={"keep": server.fingerprint}, daemon=True).start()
    server.serve_forever()
    return 0


def _say_ready(fd: int | None) -> None:
    if fd is None:
        return
    with contextlib.suppress(OSError):
        os.write(fd, connection.READY)
    with contextlib.suppress(OSError):
        os.close(fd)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pycache_core.server")
    parser.add_argument("--daemon", action="store_true", help="run detached (as the client starts it)")
    parser.add_argument("--ready-fd", type=int, default=None, help="say 'ready' on this descriptor once listening")
    args = parser.parse_args(argv)
    return run_server(foreground=not args.daemon, ready_fd=args.ready_fd)


if __name__ == "__main__":
    sys.exit(main())
