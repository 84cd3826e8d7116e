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
from collections.abc import Iterable
from pathlib import Path

import blake3

RACY_WINDOW = 2.0
_MAX_MEMO = 200_000


class FileDigests:
    """Thread-safe memo of blake3 file digests."""

    def __init__(self) -> None:
        self._memo: dict[tuple[int, int, int, int, int], str] = {}
        self._listings: dict[tuple[int, int, int, int], frozenset[str]] = {}
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

    def any_exists(self, paths: Iterable[str]) -> bool:
        """Whether a directory entry exists at any of ``paths`` (as ``os.path.lexists``).

        Direct mode checks hundreds of paths that must stay absent per hit;
        they share a few directories, so each directory is stat'ed once and
        the names looked up in a memoised listing, re-read whenever the
        directory's own times change (adding or removing an entry changes them).
        """
        by_directory: dict[str, list[str]] = {}
        for path in paths:
            directory, name = os.path.split(path)
            by_directory.setdefault(directory or ".", []).append(name)
        for directory, names in by_directory.items():
            listing = self._listing(directory)
            if listing is None:
                continue  # no such directory (or not one): nothing inside it exists
            if not listing.isdisjoint(names):
                return True
        return False

    def _listing(self, directory: str) -> frozenset[str] | None:
        try:
            st = os.stat(directory)
        except OSError:
            return None
        memo_key = (st.st_dev, st.st_ino, st.st_mtime_ns, st.st_ctime_ns)
        racy = time.time() - max(st.st_mtime, st.st_ctime) < RACY_WINDOW
        with self._lock:
            listing = None if racy else self._listings.get(memo_key)
        if listing is None:
            try:
                listing = frozenset(os.listdir(directory))
            except OSError:
                return None
            if not racy:
                with self._lock:
                    if len(self._listings) >= _MAX_MEMO // 100:
                        self._listings.clear()
                    self._listings[memo_key] = listing
        return listing

    def listing_digest(self, directory: str | os.PathLike[str]) -> str | None:
        """Digest of a directory's entry names (not their contents), from the
        memoised listing; None when it is no directory."""
        listing = self._listing(os.fspath(directory))
        if listing is None:
            return None
        return blake3.blake3("\0".join(sorted(listing)).encode("utf-8", "surrogateescape")).hexdigest()

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
