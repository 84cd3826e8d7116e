"""The stored form of cache entries and manifests.

Entries travel between machines (S3, Redis), so the format is plain data,
never pickle::

    b"PYCACHE\\0"            8 bytes  magic
    format version         2 bytes  little endian
    kind                   1 byte   b"R" result, b"M" manifest
    blake3(payload)       32 bytes  integrity, checked on every read
    payload                         zstd frame of:
        metadata length    4 bytes
        metadata           JSON (UTF-8)
        blobs              stdout, stderr, then each artifact, back to back

Metadata names each blob's role and size; a reader trusts nothing else: an
entry never names a path, so restoring it cannot write anywhere the current
call did not ask for.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field

import blake3
import zstandard

from .errors import EntryError

MAGIC = b"PYCACHE\0"
FORMAT_VERSION = 1
KIND_RESULT = b"R"
KIND_MANIFEST = b"M"
_HEADER = len(MAGIC) + 2 + 1 + 32
# Bounds on what an entry -- another machine's data -- may make this process
# decompress (`expansion_limit`): never more than MAX_ENTRY_BYTES; beyond
# EXPANSION_FLOOR, at most MAX_EXPANSION times the stored size.
MAX_ENTRY_BYTES = 4 << 30
EXPANSION_FLOOR = 256 << 20
MAX_EXPANSION = 1000
MAX_METADATA_BYTES = 16 << 20
MAX_MANIFEST_BYTES = 64 << 20
_CHUNK = 1 << 20
ZSTD_LEVEL = 1


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredArtifact:
    """One output file. ``relocatable``: ``data`` is the portable form of a
    text of kind ``text`` (`pycache_core.relocation.text_kind`), written
    back for the current call's base directories."""

    role: str
    data: bytes
    mode: int = 0o644
    relocatable: bool = False
    text: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class ResultEntry:
    """A successful compile: what it printed and the files it wrote.

    ``relocated``: stdout, stderr and the relocatable artifacts hold base
    directory placeholders. ``bound``: the (name, directory) base
    directories of the call that stored it, when it may be served only to
    calls with the same ones (`pycache_core.pipeline.restore`).
    """

    family: str
    exit_code: int
    stdout: bytes
    stderr: bytes
    artifacts: tuple[StoredArtifact, ...]
    compile_seconds: float
    colour_diagnostics: bool = False
    relocated: bool = False
    bound: tuple[tuple[str, str], ...] | None = None
    created: float = 0.0
    metadata: dict[str, str] = field(default_factory=dict)


def _seal(kind: bytes, *pieces: bytes) -> bytes:
    """The entry whose payload compresses ``pieces`` back to back: one zstd
    frame (its header names the size), streamed piece by piece so that a
    large artifact is never copied into a joined body first (a 57 MB debug
    binary spent ~0.15 s in such copies)."""
    compressor = zstandard.ZstdCompressor(level=ZSTD_LEVEL).compressobj(size=sum(map(len, pieces)))
    digest = blake3.blake3()
    frame = []
    for piece in (*pieces, None):
        chunk = compressor.compress(piece) if piece is not None else compressor.flush()
        if chunk:
            digest.update(chunk)
            frame.append(chunk)
    return b"".join((MAGIC, FORMAT_VERSION.to_bytes(2, "little"), kind, digest.digest(), *frame))


def _open(data: bytes, kind: bytes) -> _Payload:
    """The checked, still compressed payload of an entry of ``kind``."""
    if len(data) < _HEADER or not data.startswith(MAGIC):
        raise EntryError("not a pycache entry (bad magic or truncated header)")
    version = int.from_bytes(data[8:10], "little")
    if version != FORMAT_VERSION:
        raise EntryError(f"entry format version {version}, this pycache reads {FORMAT_VERSION}")
    if data[10:11] != kind:
        raise EntryError(f"entry kind {data[10:11]!r}, expected {kind!r}")
    payload = data[_HEADER:]
    if blake3.blake3(payload).digest() != data[11:_HEADER]:
        raise EntryError("integrity digest mismatch (entry corrupt or truncated)")
    return _Payload(payload)


def expansion_limit(stored_size: int) -> int:
    """How many bytes an entry of ``stored_size`` bytes may decompress to.

    Entries come from other machines (shared tiers): a small object that
    expands to gigabytes is refused before it is. Up to `EXPANSION_FLOOR`
    anything goes (zero-filled sections compress extremely well); beyond
    it, at most `MAX_EXPANSION` times the stored size, and never more than
    `MAX_ENTRY_BYTES`.
    """
    return min(MAX_ENTRY_BYTES, max(EXPANSION_FLOOR, MAX_EXPANSION * stored_size))


class _Payload:
    """Streaming, bounded decompression of an entry's payload: nothing is
    decompressed past what the caller asks for, and never past the limit."""

    def __init__(self, compressed: bytes) -> None:
        self.stored_size = len(compressed)
        self.limit = expansion_limit(len(compressed))
        self.taken = 0
        self._reader = zstandard.ZstdDecompressor().stream_reader(compressed)

    def declare(self, total: int) -> None:
        """The metadata says the payload holds ``total`` bytes: refuse it now
        if that is over the limit, and hold the stream to it."""
        if total > self.limit:
            raise EntryError(
                f"entry declares {total} bytes, more than the {self.limit} allowed for {self.stored_size} stored bytes"
            )
        self.limit = total

    def read(self, size: int) -> bytes:
        """Exactly ``size`` more bytes."""
        if size < 0 or self.taken + size > self.limit:
            raise EntryError(f"entry payload exceeds {self.limit} bytes (stored: {self.stored_size} bytes)")
        chunks = []
        wanted = size
        try:
            while wanted:
                chunk = self._reader.read(min(wanted, _CHUNK))
                if not chunk:
                    raise EntryError("entry body shorter than its metadata says")
                chunks.append(chunk)
                wanted -= len(chunk)
        except zstandard.ZstdError as exc:
            raise EntryError(f"cannot decompress entry: {exc}") from exc
        self.taken += size
        return b"".join(chunks)

    def read_rest(self) -> bytes:
        """Everything left, within the limit."""
        chunks = []
        try:
            while chunk := self._reader.read(_CHUNK):
                self.taken += len(chunk)
                if self.taken > self.limit:
                    raise EntryError(f"entry payload exceeds {self.limit} bytes (stored: {self.stored_size} bytes)")
                chunks.append(chunk)
        except zstandard.ZstdError as exc:
            raise EntryError(f"cannot decompress entry: {exc}") from exc
        return b"".join(chunks)

    def at_end(self) -> bool:
        try:
            return self._reader.read(1) == b""
        except zstandard.ZstdError as exc:
            raise EntryError(f"cannot decompress entry: {exc}") from exc


def encode_result(entry: ResultEntry) -> bytes:
    meta = {
        "family": entry.family,
        "exit_code": entry.exit_code,
        "compile_seconds": entry.compile_seconds,
        "colour_diagnostics": entry.colour_diagnostics,
        "relocated": entry.relocated,
        "bound": [list(b) for b in entry.bound] if entry.bound is not None else None,
        "created": entry.created,
        "metadata": entry.metadata,
        "stdout": len(entry.stdout),
        "stderr": len(entry.stderr),
        "artifacts": [
            {"role": a.role, "size": len(a.data), "mode": a.mode, "relocatable": a.relocatable, "text": a.text}
            for a in entry.artifacts
        ],
    }
    meta_bytes = json.dumps(meta, sort_keys=True).encode()
    blobs = [entry.stdout, entry.stderr, *(a.data for a in entry.artifacts)]
    return _seal(KIND_RESULT, len(meta_bytes).to_bytes(4, "little"), meta_bytes, *blobs)


def decode_result(data: bytes) -> ResultEntry:
    """The entry in ``data``; raises `EntryError` for anything malformed.

    Untrusted input (another machine wrote it): the sizes the metadata
    declares are checked against the decompression limit before the blobs
    are decompressed, a role appears once, and decompression stops at the
    declared end.
    """
    payload = _open(data, KIND_RESULT)
    try:
        meta_len = int.from_bytes(payload.read(4), "little")
        if meta_len > MAX_METADATA_BYTES:
            raise EntryError(f"entry metadata of {meta_len} bytes refused (limit {MAX_METADATA_BYTES})")
        meta = json.loads(payload.read(meta_len))
        items = list(meta["artifacts"])
        sizes = [int(meta["stdout"]), int(meta["stderr"]), *(int(item["size"]) for item in items)]
        if min(sizes) < 0:
            raise EntryError("negative blob size in entry metadata")
        payload.declare(4 + meta_len + sum(sizes))
        stdout = payload.read(sizes[0])
        stderr = payload.read(sizes[1])
        artifacts = []
        roles: set[str] = set()
        for item, size in zip(items, sizes[2:]):
            role = str(item["role"])
            if not role or "/" in role or "\\" in role:
                raise EntryError(f"invalid artifact role {role!r}")
            if role in roles:
                raise EntryError(f"artifact role {role!r} appears twice")
            roles.add(role)
            artifacts.append(
                StoredArtifact(
                    role=role,
                    data=payload.read(size),
                    mode=int(item.get("mode", 0o644)) & 0o777,
                    relocatable=bool(item.get("relocatable", False)),
                    text=str(item.get("text", "")),
                )
            )
        if not payload.at_end():
            raise EntryError("entry body longer than its metadata says")
        return ResultEntry(
            family=str(meta["family"]),
            exit_code=int(meta["exit_code"]),
            stdout=stdout,
            stderr=stderr,
            artifacts=tuple(artifacts),
            compile_seconds=float(meta["compile_seconds"]),
            colour_diagnostics=bool(meta.get("colour_diagnostics", False)),
            relocated=bool(meta.get("relocated", False)),
            bound=_bases(meta.get("bound")),
            created=float(meta.get("created", 0.0)),
            metadata={str(k): str(v) for k, v in dict(meta.get("metadata", {})).items()},
        )
    except EntryError:
        raise
    except (ValueError, KeyError, TypeError) as exc:
        raise EntryError(f"malformed entry metadata: {exc}") from exc


def _bases(raw) -> tuple[tuple[str, str], ...] | None:
    if raw is None:
        return None
    return tuple((str(name), str(directory)) for name, directory in raw)


# --- manifests (direct mode) --------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class ManifestRecord:
    """One earlier compile seen under a manifest key.

    ``files``: (portable path, digest) of every file the compile read;
    ``absent``: portable paths that did not exist; ``env``: (name, value)
    pairs the compile read; ``result_key``: the entry it produced;
    ``bound``: the base directories it holds for only, as in `ResultEntry`.
    """

    files: tuple[tuple[str, str], ...]
    absent: tuple[str, ...]
    env: tuple[tuple[str, str], ...]
    result_key: str
    bound: tuple[tuple[str, str], ...] | None = None


MAX_MANIFEST_RECORDS = 32


def encode_manifest(records: Sequence[ManifestRecord]) -> bytes:
    body = {
        "records": [
            {"files": [list(f) for f in r.files], "absent": list(r.absent), "env": [list(e) for e in r.env], "result_key": r.result_key,
             "bound": [list(b) for b in r.bound] if r.bound is not None else None}
            for r in records[:MAX_MANIFEST_RECORDS]
        ]
    }
    return _seal(KIND_MANIFEST, json.dumps(body, sort_keys=True).encode())


def decode_manifest(data: bytes) -> list[ManifestRecord]:
    payload = _open(data, KIND_MANIFEST)
    payload.declare(min(payload.limit, MAX_MANIFEST_BYTES))
    body = payload.read_rest()
    try:
        return [
            ManifestRecord(
                files=tuple((str(p), str(d)) for p, d in r["files"]),
                absent=tuple(str(p) for p in r["absent"]),
                env=tuple((str(n), str(v)) for n, v in r["env"]),
                result_key=str(r["result_key"]),
                bound=_bases(r.get("bound")),
            )
            for r in json.loads(body)["records"]
        ]
    except (ValueError, KeyError, TypeError) as exc:
        raise EntryError(f"malformed manifest: {exc}") from exc
