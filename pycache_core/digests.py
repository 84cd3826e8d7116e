"""File content digests, memoised for the life of the server.

A file is re-hashed only when its identity or metadata changes: the memo key
is (device, inode, size, mtime, ctime). A file modified within the last
``RACY_WINDOW`` seconds is hashed again every time, because a write in the
same timestamp granule would leave every memo field unchanged (git and ccache
call this the racy-file problem).
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import blake3

RACY_WINDOW = 2.0
_MAX_MEMO = 200_000


class FileDigests:
    """Thread-safe memo of blake3 file digests."""

    def __init__(self) -> None:
        self._memo: dict[tuple[int, int, int, int, int], str] = {}
        self._lock = threading.Lock()
        self.hashed = 0
        self.memo_hits = 0

    def digest(self, path: str | os.PathLike[str]) -> str:
        """Hex blake3 digest of the file's content; raises OSError as open() would."""
        st = os.stat(path)
        memo_key = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
        racy = time.time() - max(st.st_mtime, st.st_ctime) < RACY_WINDOW
        if not racy:
            with self._lock:
                found = self._memo.get(memo_key)
            if found is not None:
                self.memo_hits += 1
                return found
        digest = hash_file(path)
        self.hashed += 1
        if not racy:
            with self._lock:
                if len(self._memo) >= _MAX_MEMO:
                    self._memo.clear()
                self._memo[memo_key] = digest
        return digest

    def digest_or_none(self, path: str | os.PathLike[str]) -> str | None:
        try:
            return self.digest(path)
        except OSError:
            return None


def hash_file(path: str | os.PathLike[str]) -> str:
    hasher = blake3.blake3(max_threads=1)
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            hasher.update(chunk)
    return hasher.hexdigest()


def stat_signature(path: Path) -> tuple[int, int, int, int, int] | None:
    """(dev, inode, size, mtime, ctime), or None when the path is missing."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
