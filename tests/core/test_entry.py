import pytest

from pycache_core.entry import (
    ManifestRecord,
    ResultEntry,
    StoredArtifact,
    decode_manifest,
    decode_result,
    encode_manifest,
    encode_result,
)
from pycache_core.errors import EntryError


def sample() -> ResultEntry:
    return ResultEntry(
        family="gcc-clang",
        exit_code=0,
        stdout=b"out",
        stderr=b"warning: x\n",
        artifacts=(
            StoredArtifact(role="object", data=b"\x7fELF" + bytes(range(256)) * 40, mode=0o644),
            StoredArtifact(role="depfile", data=b"a.o: a.c\n", relocatable=True),
        ),
        compile_seconds=1.25,
        colour_diagnostics=True,
    )


def test_result_round_trip():
    entry = sample()
    assert decode_result(encode_result(entry)) == entry


def test_every_flipped_byte_is_detected():
    data = bytearray(encode_result(sample()))
    for position in range(0, len(data), max(1, len(data) // 50)):
        corrupt = bytearray(data)
        corrupt[position] ^= 0x40
        with pytest.raises(EntryError):
            decode_result(bytes(corrupt))


def test_truncated_and_foreign_data_are_rejected():
    data = encode_result(sample())
    for bad in (data[: len(data) // 2], data[:10], b"", b"\x80\x04pickle", data.replace(b"PYCACHE", b"XYCACHE", 1)):
        with pytest.raises(EntryError):
            decode_result(bad)


def test_manifest_is_not_a_result():
    manifest = encode_manifest([ManifestRecord(files=(("a.h", "d"),), absent=(), env=(), result_key="entries/aa/aa")])
    with pytest.raises(EntryError, match="kind"):
        decode_result(manifest)


def test_manifest_round_trip():
    records = [
        ManifestRecord(files=(("<BASEDIR>/a.h", "d1"), ("/usr/include/stdio.h", "d2")), absent=("inc/a.h",),
                       env=(("CPATH", "x"),), result_key="entries/ab/abcd"),
        ManifestRecord(files=(), absent=(), env=(), result_key="entries/cd/cdef"),
    ]
    assert decode_manifest(encode_manifest(records)) == records


def test_large_artifacts_are_one_frame_that_names_its_size():
    """The payload is compressed piece by piece (no joined copy of the
    artifacts): still one zstd frame, whose header holds the exact size."""
    import os

    import zstandard

    big = os.urandom(1 << 20) + bytes(3 << 20) + b"tail"
    entry = ResultEntry(
        family="rustc",
        exit_code=0,
        stdout=b"",
        stderr=b"",
        artifacts=(StoredArtifact(role="bin", data=big, mode=0o755), StoredArtifact(role="dep-info", data=b"")),
        compile_seconds=2.0,
    )
    data = encode_result(entry)
    assert decode_result(data) == entry
    payload = data[8 + 2 + 1 + 32 :]
    whole = zstandard.ZstdDecompressor().decompress(payload)  # needs the size in the frame header
    assert whole.endswith(big)
    assert zstandard.get_frame_parameters(payload).content_size == len(whole)
