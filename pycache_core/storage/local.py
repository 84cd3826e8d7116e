"""Local disk backend: the first tier, shared by every process of a user.

Layout under ``<PYCACHE_DIR>/store/``: the key is the relative path
(``entries/ab/abcdef...``). Safe under many concurrent readers and writers:
a write goes to a temporary file in the same directory and is renamed into
place, so a reader sees the old entry, the new one, or none -- never half of
one. The running total of stored bytes lives in ``store/size`` (updated under
a file lock); when it passes the limit, the least recently used entries
(oldest mtime; a hit refreshes it) are deleted down to 90% of the limit.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

from filelock import FileLock, Timeout

from ..errors import StorageError

_KEY = re.compile(r"^[a-z]+(/[0-9a-z]+)+$")
TRIM_TARGET = 0.9
#: Digits the running total is written in (padded), so that it is rewritten in place.
_SIZE_WIDTH = 20


class LocalDiskBackend:
    name = "local"
    writable = True

    def __init__(self, root: Path, max_size: int) -> None:
        """``max_size``: bytes, 0 for no limit."""
        self.root = Path(root)
        self.store = self.root / "store"
        self.max_size = max_size
        self._size_file = self.store / "size"
        self._size_lock = FileLock(str(self.store / "size.lock"), timeout=10)
        self._trim_lock = FileLock(str(self.store / "trim.lock"), timeout=0)

    # --- StorageBackend -----------------------------------------------------

    def _path(self, key: str) -> Path:
        if not _KEY.match(key):
            raise StorageError(self.name, "key", f"invalid key {key!r}")
        return self.store / key

    def get(self, key: str) -> bytes | None:
        path = self._path(key)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StorageError(self.name, "GET", exc.strerror or str(exc), code=_errno_name(exc), location=str(path)) from exc
        with contextlib.suppress(OSError):
            os.utime(path)  # mark as recently used for eviction
        return data

    def put(self, key: str, data: bytes) -> None:
        path = self._path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
            try:
                with os.fdopen(fd, "wb") as f:
                    f.write(data)
                # Rename and count under one lock, so the running total stays
                # exact when writers race on the same key.
                with self._size_lock:
                    try:
                        previous = path.stat().st_size
                    except FileNotFoundError:
                        previous = 0
                    os.replace(tmp, path)
                    total = max(0, self._read_size() + len(data) - previous)
                    self._write_size(total)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                raise
        except Timeout as exc:
            raise StorageError(self.name, "PUT", f"size lock busy: {exc}", location=str(path)) from exc
        except OSError as exc:
            raise StorageError(self.name, "PUT", exc.strerror or str(exc), code=_errno_name(exc), location=str(path)) from exc
        if self.max_size and total > self.max_size:  # 0: no limit
            self.trim()

    def remove(self, key: str) -> None:
        path = self._path(key)
        try:
            with self._size_lock:
                size = path.stat().st_size
                path.unlink()
                self._write_size(max(0, self._read_size() - size))
        except FileNotFoundError:
            return
        except (OSError, Timeout) as exc:
            raise StorageError(self.name, "DELETE", getattr(exc, "strerror", None) or str(exc), location=str(path)) from exc

    def describe(self) -> Mapping[str, str]:
        return {"directory": str(self.store), "limit": str(self.max_size)}

    # --- size management ----------------------------------------------------

    def _read_size(self) -> int:
        try:
            return int(self._size_file.read_text() or 0)
        except (OSError, ValueError):
            return 0

    def _write_size(self, total: int) -> None:
        """Write the running total in place, under ``_size_lock``: one
        fixed-width write into the file, not a new file renamed over it
        (two journalled directory changes per store, which cost a kernel
        build's misses about a second)."""
        fd = os.open(self._size_file, os.O_WRONLY | os.O_CREAT, 0o644)
        try:
            os.pwrite(fd, f"{total:<{_SIZE_WIDTH}}\n".encode("ascii"), 0)
        finally:
            os.close(fd)

    def entries(self) -> Iterator[tuple[Path, os.stat_result]]:
        for kind in ("entries", "manifests"):
            base = self.store / kind
            if not base.is_dir():
                continue
            for dirpath, _dirs, files in os.walk(base):
                for name in files:
                    path = Path(dirpath, name)
                    if name.startswith(".tmp-"):
                        # Left by a writer that died; old ones are garbage.
                        with contextlib.suppress(OSError):
                            if time.time() - path.stat().st_mtime > 3600:
                                path.unlink()
                        continue
                    with contextlib.suppress(OSError):
                        yield path, path.stat()

    def usage(self) -> dict[str, int]:
        """Bytes stored (the running total: no walk) and the entries and
        manifests on disk (counted by name, not stat'ed): for ``pycache stats``."""
        counts = {}
        for kind in ("entries", "manifests"):
            counts[kind] = sum(
                sum(1 for name in files if not name.startswith(".tmp-")) for _dir, _dirs, files in os.walk(self.store / kind)
            )
        return {"bytes": self._read_size(), **counts}

    def size(self) -> tuple[int, int]:
        """(bytes, files) actually on disk, recounted."""
        total = count = 0
        for _path, st in self.entries():
            total += st.st_size
            count += 1
        return total, count

    def trim(self, target: int | None = None) -> tuple[int, int]:
        """Delete least recently used entries until at most ``target`` bytes
        remain (default 90% of the limit). Returns (bytes, files) removed.
        Another process already trimming makes this a no-op."""
        if target is None and not self.max_size:
            return 0, 0  # no limit, nothing to trim to
        limit = int(self.max_size * TRIM_TARGET) if target is None else target
        try:
            self._trim_lock.acquire()
        except Timeout:
            return 0, 0
        try:
            listing = sorted(self.entries(), key=lambda item: item[1].st_mtime)
            total = sum(st.st_size for _p, st in listing)
            removed_bytes = removed = 0
            for path, st in listing:
                if total <= limit:
                    break
                with contextlib.suppress(OSError):
                    path.unlink()
                    total -= st.st_size
                    removed_bytes += st.st_size
                    removed += 1
            with self._size_lock:
                self._write_size(total)
            return removed_bytes, removed
        finally:
            self._trim_lock.release()

    def clear(self) -> tuple[int, int]:
        return self.trim(target=0)


def _errno_name(exc: OSError) -> str:
    import errno

    return errno.errorcode.get(exc.errno or 0, "OSError")
