"""File content digests, memoised for the life of the server.

A file is re-hashed only when its identity or metadata changes: the memo key
is its stat signature (device, inode, size, mtime, ctime). A file modified
within the last ``RACY_WINDOW`` seconds is hashed again every time, because a
write in the same timestamp granule would leave every memo field unchanged
(git and ccache call this the racy-file problem).

Direct mode asks the same question on every hit -- do these files still have
these digests, are these paths still absent? -- so the answer is memoised
too (`FileDigests.witness`, `FileDigests.proven`): a check that held is kept
with the stat signatures it was answered from, and while every one of them
is the same, so is the answer: one ``stat`` per file and per directory, no
digest lookup, no listing.
"""

from __future__ import annotations

import os
import struct
import sys
import threading
import time
from collections.abc import Hashable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import blake3

RACY_WINDOW = 2.0
_MAX_MEMO = 200_000
#: Checks kept by `FileDigests.prove` (each holds a signature per file).
MAX_PROOFS = 2048
#: Up to this many names in one directory are looked up one by one rather
#: than in the directory's listing.
FEW_NAMES = 2

#: (device, inode, size, mtime_ns, ctime_ns) of a file, or of a directory
#: (size included: harmless, it changes only with the listing).
Signature = tuple[int, int, int, int, int]

_UNLISTED = frozenset({"\0unlisted"})  # a directory whose names are looked up one by one


def signature(st: os.stat_result) -> Signature:
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


class Witness:
    """The stat signatures one check was answered from (see `FileDigests.witness`)."""

    __slots__ = ("files", "directories", "absent", "racy")

    def __init__(self) -> None:
        self.files: list[tuple[str, Signature]] = []
        self.directories: list[tuple[str, Signature | None]] = []  # None: no such directory
        self.absent: list[str] = []  # looked up one by one, and not there
        self.racy = False


#: A file's signature as stored in a proof: 40 bytes rather than a tuple of
#: five ints (a few hundred bytes), so that thousands of proofs of hundreds
#: of headers each stay a few tens of MB.
_PACKED = struct.Struct("=QQqqq")


class _Proof:
    __slots__ = ("subject", "paths", "signatures", "directories", "directory_signatures", "absent")

    def __init__(self, subject: object, witness: Witness) -> None:
        self.subject = subject
        # Interned: the same headers appear in the proofs of many calls.
        self.paths = [sys.intern(path) for path, _ in witness.files]
        self.signatures = b"".join(_PACKED.pack(*sig) for _, sig in witness.files)  # struct.error: nothing kept
        self.directories = [directory for directory, _ in witness.directories]
        self.directory_signatures = [sig for _, sig in witness.directories]
        self.absent = [sys.intern(path) for path in witness.absent]


class FileDigests:
    """Thread-safe memo of blake3 file digests."""

    def __init__(self) -> None:
        self._memo: dict[Signature, str] = {}
        self._listings: dict[tuple[int, int, int, int], frozenset[str]] = {}
        self._proofs: dict[Hashable, _Proof] = {}
        self._lock = threading.Lock()
        self._local = threading.local()
        self.hashed = 0
        self.memo_hits = 0

    def digest(self, path: str | os.PathLike[str]) -> str:
        """Hex blake3 digest of the file's content; raises OSError as open() would."""
        return self.signed_digest(path)[0]

    def signed_digest(self, path: str | os.PathLike[str]) -> tuple[str, Signature | None]:
        """`digest`, with the stat signature the content it digests had:
        the one it is memoised under, or for a file read afresh, the one
        it had both before and after the read -- None when they differ
        (written while read: nothing is memoised either)."""
        st = os.stat(path)
        memo_key = signature(st)
        racy = time.time() - max(st.st_mtime, st.st_ctime) < RACY_WINDOW
        witness = getattr(self._local, "witness", None)
        if witness is not None:
            witness.files.append((os.fspath(path), memo_key))
            witness.racy = witness.racy or racy
        if not racy:
            found = self._memo.get(memo_key)  # a dict read is atomic under the GIL
            if found is not None:
                self.memo_hits += 1
                return found, memo_key
        digest = hash_file(path)
        self.hashed += 1
        if signature(os.stat(path)) != memo_key:
            return digest, None
        if not racy:
            with self._lock:
                if len(self._memo) >= _MAX_MEMO:
                    self._memo.clear()
                self._memo[memo_key] = digest
        return digest, memo_key

    def any_exists(self, paths: Iterable[str]) -> bool:
        """Whether a directory entry exists at any of ``paths`` (as ``os.path.lexists``).

        Direct mode checks hundreds of paths that must stay absent per hit;
        they share a few directories, so each directory is stat'ed once and
        the names looked up in a memoised listing, re-read whenever the
        directory's own times change (adding or removing an entry changes
        them). A directory asked about for a name or two, or one that
        changed within the racy window (a build directory, whose listing
        changes with every object written), is not listed: each name is
        looked up itself.
        """
        witness = getattr(self._local, "witness", None)
        for directory, names in _by_directory(paths).items():
            listing = self._listing(directory, witness, settled_only=True) if len(names) > FEW_NAMES else _UNLISTED
            if listing is None:
                continue  # no such directory (or not one): nothing inside it exists
            if listing is _UNLISTED:
                for name, _path in names:
                    path = f"{directory}/{name}"
                    if os.path.lexists(path):
                        return True
                    if witness is not None:
                        witness.absent.append(path)
            elif not listing.isdisjoint(name for name, _path in names):
                return True
        return False

    def existing(self, paths: Iterable[str]) -> set[str]:
        """Which of ``paths`` have a directory entry (as ``os.path.lexists``
        says of each), found as `any_exists` finds them: one ``stat`` per
        directory and a memoised listing where the directory has settled,
        each name on its own elsewhere. A miss asks this of the thousands
        of places a header could have been found first."""
        witness = getattr(self._local, "witness", None)
        found: set[str] = set()
        lexists = os.path.lexists
        for directory, names in _by_directory(paths).items():
            listing = self._listing(directory, witness, settled_only=True) if len(names) > FEW_NAMES else _UNLISTED
            if listing is None:
                continue  # no such directory (or not one): nothing inside it exists
            for name, path in names:
                if listing is _UNLISTED or name in ("", ".", ".."):  # names no listing holds
                    if lexists(path):
                        found.add(path)
                elif name in listing:
                    found.add(path)
        return found

    def _listing(self, directory: str, witness: Witness | None, settled_only: bool = False) -> frozenset[str] | None:
        """The listing of ``directory``, memoised while its times hold;
        None when there is no such directory, `_UNLISTED` when it cannot
        be listed. One changed within the racy window is listed afresh
        (a name added within its timestamp granule would leave its times
        unchanged), or with ``settled_only`` not at all (`_UNLISTED`)."""
        try:
            st = os.stat(directory)
        except OSError:
            if witness is not None:
                witness.directories.append((directory, None))
            return None
        racy = time.time() - max(st.st_mtime, st.st_ctime) < RACY_WINDOW
        if racy and settled_only:
            return _UNLISTED
        memo_key = (st.st_dev, st.st_ino, st.st_mtime_ns, st.st_ctime_ns)
        listing = None if racy else self._listings.get(memo_key)
        if listing is None:
            try:
                listing = frozenset(os.listdir(directory))
            except OSError:
                return _UNLISTED
            if not racy:
                with self._lock:
                    if len(self._listings) >= _MAX_MEMO // 100:
                        self._listings.clear()
                    self._listings[memo_key] = listing
        if witness is not None:
            witness.directories.append((directory, signature(st)))
            witness.racy = witness.racy or racy
        return listing

    def listing_digest(self, directory: str | os.PathLike[str]) -> str | None:
        """Digest of a directory's entry names (not their contents), from the
        memoised listing; None when it is no directory (or cannot be listed)."""
        listing = self._listing(os.fspath(directory), getattr(self._local, "witness", None))
        if listing is None or listing is _UNLISTED:
            return None
        return blake3.blake3("\0".join(sorted(listing)).encode("utf-8", "surrogateescape")).hexdigest()

    def digest_or_none(self, path: str | os.PathLike[str]) -> str | None:
        try:
            return self.digest(path)
        except OSError:
            return None

    # --- memoised checks ---------------------------------------------------------

    @contextmanager
    def witness(self) -> Iterator[Witness]:
        """Collect, on this thread, the stat signature behind every digest
        and listing looked up inside the block."""
        outer = getattr(self._local, "witness", None)
        found = Witness()
        self._local.witness = found
        try:
            yield found
        finally:
            self._local.witness = outer

    def prove(self, key: Hashable, subject: object, witness: Witness) -> None:
        """Keep a check that held under ``key``: it was about ``subject``
        and answered from ``witness``'s signatures. A racy witness (a file
        or directory changed within the racy window) proves nothing."""
        if witness.racy:
            return
        try:
            proof = _Proof(subject, witness)
        except struct.error:  # a value past 64 bits: not kept, checked in full each time
            return
        with self._lock:
            self._proofs.pop(key, None)
            if len(self._proofs) >= MAX_PROOFS:
                del self._proofs[next(iter(self._proofs))]  # the oldest
            self._proofs[key] = proof

    def proven(self, key: Hashable, subject: object) -> bool:
        """Whether the check kept under ``key`` for this very ``subject``
        (compared by identity) still holds: every file and directory it
        was answered from has the same stat signature now."""
        proof = self._proofs.get(key)
        if proof is None or proof.subject is not subject:
            return False
        stat, pack = os.stat, _PACKED.pack
        try:
            now = []
            for path in proof.paths:
                st = stat(path)
                now.append(pack(st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns))
        except (OSError, struct.error):
            return False
        if b"".join(now) != proof.signatures:
            return False
        for directory, known in zip(proof.directories, proof.directory_signatures):
            try:
                st = stat(directory)
            except OSError:
                if known is not None:
                    return False
                continue
            if known is None or signature(st) != known:
                return False
        lexists = os.path.lexists
        return not any(lexists(path) for path in proof.absent)


def _by_directory(paths: Iterable[str]) -> dict[str, list[tuple[str, str]]]:
    """``paths`` grouped by their directory, each as (name in it, path as given)."""
    grouped: dict[str, list[tuple[str, str]]] = {}
    for path in paths:
        directory, _, name = path.rpartition("/")
        grouped.setdefault(directory or ("/" if path.startswith("/") else "."), []).append((name, path))
    return grouped


def hash_file(path: str | os.PathLike[str]) -> str:
    hasher = blake3.blake3(max_threads=1)
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            hasher.update(chunk)
    return hasher.hexdigest()


def stat_signature(path: Path) -> Signature | None:
    """(dev, inode, size, mtime, ctime), or None when the path is missing."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return signature(st)
