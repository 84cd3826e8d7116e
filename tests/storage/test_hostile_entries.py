"""Entries from a shared tier are another machine's data (issue 13 D):
hand-crafted hostile entries, put into a real S3 bucket (SeaweedFS) under
the key a real gcc call looks up, and served to a runner that reads it.

- a stored mode never widens what the caller's umask gives (no setuid,
  setgid or sticky bit, nothing writable beyond the umask);
- a role the call did not ask for is ignored (nothing else is written);
- a small object that decompresses to a gigabyte is refused early, with
  the server's memory bounded -- whether its metadata declares the size or
  lies about it -- and the call compiles instead.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
from pathlib import Path

import blake3

from pycache_core.connection import control
from pycache_core.entry import FORMAT_VERSION, KIND_RESULT, MAGIC, ResultEntry, StoredArtifact, decode_result, encode_result

from .test_shared_build import runners, s3_settings  # noqa: F401 (fixture)

SOURCE = "int answer(void) { return 42; }\n"
ARGS = ("gcc", "-c", "a.c", "-MD", "-o", "a.o")
GIB = 1 << 30


def zstd_frame(prefix: bytes, zeros: int) -> bytes:
    """A zstd frame (RFC 8878) of ``prefix`` then ``zeros`` zero bytes, with
    no content size in its header: one raw block, then RLE blocks of 128 KiB
    -- four bytes each, so a gigabyte costs 32 KiB."""
    block = 128 << 10
    out = bytearray(b"\x28\xb5\x2f\xfd")  # magic
    out += bytes([0x00, 0x38])  # no content size, not single-segment; window 128 KiB
    blocks = [(0, prefix)] + [(1, min(block, zeros - start)) for start in range(0, zeros, block)]
    for number, (kind, content) in enumerate(blocks):
        last = number == len(blocks) - 1
        size = len(content) if kind == 0 else content
        out += (int(last) | kind << 1 | size << 3).to_bytes(3, "little")
        out += content if kind == 0 else b"\0"
    return bytes(out)


def sealed(body_frame: bytes) -> bytes:
    """An entry around a compressed payload, with a correct integrity digest."""
    return MAGIC + FORMAT_VERSION.to_bytes(2, "little") + KIND_RESULT + blake3.blake3(body_frame).digest() + body_frame


def metadata(entry: ResultEntry, artifacts: list[dict]) -> bytes:
    meta = {"family": entry.family, "exit_code": 0, "compile_seconds": 0.1, "colour_diagnostics": False,
            "relocated": False, "created": 0.0, "metadata": {}, "stdout": 0, "stderr": 0, "artifacts": artifacts}
    text = json.dumps(meta).encode()
    return len(text).to_bytes(4, "little") + text


def peak_memory(penv) -> int:
    """The reader's server's peak resident memory (VmHWM), in bytes."""
    pid = json.loads(control(penv.env, "status"))["pid"]
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM in /proc/PID/status")


def test_hostile_entries_in_s3(pycache_env, runners, seaweed, tmp_path):  # noqa: F811
    bucket = seaweed.new_bucket()
    work = tmp_path / "w"
    work.mkdir()
    (work / "a.c").write_text(SOURCE)
    reference = subprocess.run(["gcc", "-c", "a.c", "-MD", "-MF", "ref.d", "-o", "ref.o"], cwd=work,
                               capture_output=True)
    assert reference.returncode == 0

    # A writer fills the bucket with the real entry of the call.
    writer = runners(pycache_env, "writer", **s3_settings(seaweed, bucket))
    assert writer.compile(*ARGS, cwd=work).returncode == 0
    writer.stop_server()  # flushes the upload
    [entry_key] = [k for k in seaweed.keys(bucket) if k.startswith("entries/")]
    s3 = seaweed.client()
    good = decode_result(s3.get_object(Bucket=bucket, Key=entry_key)["Body"].read())
    obj, dep = (next(a for a in good.artifacts if a.role == role) for role in ("object", "depfile"))

    reader = runners(pycache_env, "reader", **s3_settings(seaweed, bucket, PYCACHE_READ_ONLY="true"))

    def serve(hostile: bytes):
        """Put ``hostile`` under the call's key, forget the reader's local
        copy, run the call through the reader."""
        s3.put_object(Bucket=bucket, Key=entry_key, Body=hostile)
        for path in (reader.cache_dir / "store" / "entries").rglob("*"):
            if path.is_file():
                path.unlink()
        for name in ("a.o", "a.d"):
            (work / name).unlink(missing_ok=True)
        done = subprocess.run([reader.executable, *ARGS], cwd=work, env=reader.env, capture_output=True,
                              timeout=300, umask=0o022)
        assert (done.returncode, done.stdout, done.stderr) == (0, b"", b"")
        assert (work / "a.o").read_bytes() == (work / "ref.o").read_bytes()
        assert (work / "a.d").read_bytes() == (work / "ref.d").read_bytes().replace(b"ref.o", b"a.o")
        return reader.stats()

    # Modes: setuid, setgid, sticky, world-writable -- none survives.
    modes = ResultEntry(family=good.family, exit_code=0, stdout=b"", stderr=b"", compile_seconds=0.1, artifacts=(
        StoredArtifact(role="object", data=obj.data, mode=0o7666),
        StoredArtifact(role="depfile", data=dep.data, mode=0o6777, relocatable=dep.relocatable, text=dep.text),
    ))
    stats = serve(encode_result(modes))
    assert stats["totals"]["hits"] == 1
    assert stat.S_IMODE((work / "a.o").stat().st_mode) == stat.S_IMODE((work / "ref.o").stat().st_mode) == 0o644
    assert stat.S_IMODE((work / "a.d").stat().st_mode) == 0o755  # executable at most, as a compiler could make it

    # A role the call did not ask for: ignored, nothing else written.
    extra = ResultEntry(family=good.family, exit_code=0, stdout=b"", stderr=b"", compile_seconds=0.1,
                        artifacts=(*good.artifacts, StoredArtifact(role="evil", data=b"#!/bin/sh\nrm -rf ~\n", mode=0o755)))
    stats = serve(encode_result(extra))
    assert stats["totals"]["hits"] == 2
    assert sorted(os.listdir(work)) == ["a.c", "a.d", "a.o", "ref.d", "ref.o"]

    # Bombs: 32 KiB objects that decompress to a gigabyte.
    before = peak_memory(reader)
    honest = [{"role": "object", "size": GIB, "mode": 0o644}, {"role": "depfile", "size": 0, "mode": 0o644}]
    stats = serve(sealed(zstd_frame(metadata(good, honest), GIB)))
    declared = stats["errors"]["corrupt-entry"]
    assert declared["count"] == 1 and f"entry declares {GIB + len(metadata(good, honest))}" in declared["last"]

    lying = [{"role": "object", "size": 16, "mode": 0o644}, {"role": "depfile", "size": 0, "mode": 0o644}]
    stats = serve(sealed(zstd_frame(metadata(good, lying), GIB)))
    assert stats["errors"]["corrupt-entry"]["count"] == 2
    assert "entry body longer than its metadata says" in stats["errors"]["corrupt-entry"]["last"]
    assert (stats["totals"]["hits"], stats["totals"]["misses"]) == (2, 2)  # refused entries: compiled instead
    growth = peak_memory(reader) - before
    assert growth < 128 << 20, f"the server's peak memory grew by {growth >> 20} MiB serving two 1 GiB bombs"
