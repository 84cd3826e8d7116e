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
# A decompressed entry larger than this is treated as corrupt rather than
# exhausting the server's memory.
MAX_ENTRY_BYTES = 4 << 30
ZSTD_LEVEL = 1


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredArtifact:
    role: str
    data: bytes
    mode: int = 0o644
    relocatable: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class ResultEntry:
    """A successful compile: what it printed and the files it wrote."""

    family: str
    exit_code: int
    stdout: bytes
    stderr: bytes
    artifacts: tuple[StoredArtifact, ...]
    compile_seconds: float
    colour_diagnostics: bool = False
    relocated: bool = False
    created: float = 0.0
    metadata: dict[str, str] = field(default_factory=dict)


def _seal(kind: bytes, body: bytes) -> bytes:
    payload = zstandard.ZstdCompressor(level=ZSTD_LEVEL).compress(body)
    return MAGIC + FORMAT_VERSION.to_bytes(2, "little") + kind + blake3.blake3(payload).digest() + payload


def _open(data: bytes, kind: bytes) -> bytes:
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
    try:
        return zstandard.ZstdDecompressor().decompress(payload, max_output_size=MAX_ENTRY_BYTES)
    except zstandard.ZstdError as exc:
        raise EntryError(f"cannot decompress entry: {exc}") from exc


def encode_result(entry: ResultEntry) -> bytes:
    meta = {
        "family": entry.family,
        "exit_code": entry.exit_code,
        "compile_seconds": entry.compile_seconds,
        "colour_diagnostics": entry.colour_diagnostics,
        "relocated": entry.relocated,
        "created": entry.created,
        "metadata": entry.metadata,
        "stdout": len(entry.stdout),
        "stderr": len(entry.stderr),
        "artifacts": [
            {"role": a.role, "size": len(a.data), "mode": a.mode, "relocatable": a.relocatable}
            for a in entry.artifacts
        ],
    }
    meta_bytes = json.dumps(meta, sort_keys=True).encode()
    blobs = [entry.stdout, entry.stderr, *(a.data for a in entry.artifacts)]
    return _seal(KIND_RESULT, len(meta_bytes).to_bytes(4, "little") + meta_bytes + b"".join(blobs))


def decode_result(data: bytes) -> ResultEntry:
    body = _open(data, KIND_RESULT)
    try:
        meta_len = int.from_bytes(body[:4], "little")
        meta = json.loads(body[4 : 4 + meta_len])
        offset = 4 + meta_len

        def take(size: int) -> bytes:
            nonlocal offset
            if size < 0 or offset + size > len(body):
                raise EntryError("entry body shorter than its metadata says")
            chunk = body[offset : offset + size]
            offset += size
            return chunk

        stdout = take(int(meta["stdout"]))
        stderr = take(int(meta["stderr"]))
        artifacts = []
        for item in meta["artifacts"]:
            role = str(item["role"])
            if not role or "/" in role or "\\" in role:
                raise EntryError(f"invalid artifact role {role!r}")
            artifacts.append(
                StoredArtifact(
                    role=role,
                    data=take(int(item["size"])),
                    mode=int(item.get("mode", 0o644)) & 0o777,
                    relocatable=bool(item.get("relocatable", False)),
                )
            )
        if offset != len(body):
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
            created=float(meta.get("created", 0.0)),
            metadata={str(k): str(v) for k, v in dict(meta.get("metadata", {})).items()},
        )
    except EntryError:
        raise
    except (ValueError, KeyError, TypeError) as exc:
        raise EntryError(f"malformed entry metadata: {exc}") from exc


# --- manifests (direct mode) --------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class ManifestRecord:
    """One earlier compile seen under a manifest key.

    ``files``: (portable path, digest) of every file the compile read;
    ``absent``: portable paths that did not exist; ``env``: (name, value)
    pairs the compile read; ``result_key``: the entry it produced.
    """

    files: tuple[tuple[str, str], ...]
    absent: tuple[str, ...]
    env: tuple[tuple[str, str], ...]
    result_key: str


MAX_MANIFEST_RECORDS = 32


def encode_manifest(records: Sequence[ManifestRecord]) -> bytes:
    body = {
        "records": [
            {"files": [list(f) for f in r.files], "absent": list(r.absent), "env": [list(e) for e in r.env], "result_key": r.result_key}
            for r in records[:MAX_MANIFEST_RECORDS]
        ]
    }
    return _seal(KIND_MANIFEST, json.dumps(body, sort_keys=True).encode())


def decode_manifest(data: bytes) -> list[ManifestRecord]:
    body = _open(data, KIND_MANIFEST)
    try:
        return [
            ManifestRecord(
                files=tuple((str(p), str(d)) for p, d in r["files"]),
                absent=tuple(str(p) for p in r["absent"]),
                env=tuple((str(n), str(v)) for n, v in r["env"]),
                result_key=str(r["result_key"]),
            )
            for r in json.loads(body)["records"]
        ]
    except (ValueError, KeyError, TypeError) as exc:
        raise EntryError(f"malformed manifest: {exc}") from exc
