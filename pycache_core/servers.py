"""Every server of this user, and the files servers leave behind.

One server runs per configuration (`connection.server_fingerprint`), each
with files named ``s-<fingerprint>.<suffix>`` in the runtime directory:
``sock`` (its socket), ``lock`` (the start lock), ``log`` (its default log
and stderr), ``faults`` (compiles clients ran uncached, for ``stats``) and
``unavailable`` (the marker of a failed start). `find` lists the servers of
the runtime directories this environment can name (its own and the
default), `sweep` removes what no running server needs any more: servers
exit when idle and a changed setting names a new one, so without it these
files pile up. The server sweeps its directory when it starts;
``pycache server stop --all`` sweeps after stopping them all.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from . import connection
from . import env as names

#: Logs and fault notes of servers gone this long are deleted.
KEEP_LOGS = 7 * 86400
KEEP_FAULTS = 30 * 86400
#: A start lock nobody holds, untouched this long, is deleted.
KEEP_LOCKS = 3600
SUFFIXES = ("sock", "lock", "log", "faults", "unavailable", "stderr")


@dataclass
class ServerFiles:
    """What one configuration's server left in a runtime directory."""

    directory: Path
    fingerprint: str
    files: dict[str, Path] = field(default_factory=dict)  # suffix -> path

    def path(self, suffix: str) -> Path:
        return self.directory / f"s-{self.fingerprint}.{suffix}"

    def ask(self, kind: str, timeout: float) -> dict | None:
        """The server's answer to a control request ("status", "stop"), or
        None when none answers here."""
        if "sock" not in self.files:
            return None
        answer = connection.control_socket(str(self.files["sock"]), self.fingerprint, kind, timeout)
        if answer is None:
            return None
        try:
            return json.loads(answer)
        except ValueError:
            return {"answer": answer.decode("utf-8", "replace")}

    def status(self, timeout: float = 2.0) -> dict | None:
        return self.ask("status", timeout)


def runtime_dirs(environ: Mapping[str, str]) -> list[Path]:
    """This environment's runtime directory and the default one, where usable."""
    found: list[Path] = []
    for env in (environ, {k: v for k, v in environ.items() if k != names.RUNTIME_DIR}):
        with contextlib.suppress(OSError):
            directory = Path(connection.runtime_dir(env))
            if directory not in found:
                found.append(directory)
    return found


def find(environ: Mapping[str, str]) -> list[ServerFiles]:
    """Every configuration's files in this user's runtime directories."""
    servers: dict[tuple[Path, str], ServerFiles] = {}
    for directory in runtime_dirs(environ):
        try:
            entries = list(os.scandir(directory))
        except OSError:
            continue
        for entry in entries:
            stem, dot, suffix = entry.name.partition(".")
            if not (entry.name.startswith("s-") and dot and suffix in SUFFIXES):
                continue
            fingerprint = stem[2:]
            server = servers.setdefault((directory, fingerprint), ServerFiles(directory, fingerprint))
            server.files[suffix] = Path(entry.path)
    return sorted(servers.values(), key=lambda s: (str(s.directory), s.fingerprint))


def stop(server: ServerFiles, timeout: float = 600.0) -> dict | None:
    """Ask ``server`` to stop (after its compiles and uploads); its answer,
    or None when none was running."""
    return server.ask("stop", timeout)


def sweep(directory: Path | str, now: float | None = None, keep: str = "") -> list[Path]:
    """Remove files of servers that no longer run: stale sockets, start locks
    nobody holds, old logs, fault notes and start markers. Never touches a
    running server's files, nor those of the fingerprint ``keep`` (the
    sweeping server's own). Returns what was removed."""
    now = time.time() if now is None else now
    removed: list[Path] = []
    for server in find({names.RUNTIME_DIR: str(directory)}):
        if Path(server.directory) != Path(directory) or server.fingerprint == keep:
            continue
        sock = server.files.get("sock")
        if sock is not None:
            if connection.control_socket(str(sock), server.fingerprint, "ping", 1.0) is not None:
                continue  # a live server: all of its files are in use
            try:
                connection.connect(str(sock), 0.5).close()
                continue  # it takes connections but did not answer: busy, leave it
            except ConnectionRefusedError:
                _remove(sock, removed)  # bound by a server that died
            except OSError:
                continue
        for suffix, path in server.files.items():
            age = _age(path, now)
            if age is None:
                continue
            if suffix == "stderr" or (suffix == "log" and age > KEEP_LOGS) or (suffix == "faults" and age > KEEP_FAULTS):
                _remove(path, removed)
            elif suffix == "unavailable" and age > connection.NEW_BUILD:
                _remove(path, removed)
            elif suffix == "lock" and age > KEEP_LOCKS:
                _remove_unlocked(path, removed)
    return removed


def _age(path: Path, now: float) -> float | None:
    try:
        return now - path.stat().st_mtime
    except OSError:
        return None


def _remove(path: Path, removed: list[Path]) -> None:
    with contextlib.suppress(OSError):
        path.unlink()
        removed.append(path)


def _remove_unlocked(path: Path, removed: list[Path]) -> None:
    """Delete a start lock only while holding it: nobody is starting a server."""
    try:
        fd = os.open(path, os.O_RDWR)
    except OSError:
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return
    try:
        _remove(path, removed)
    finally:
        os.close(fd)
