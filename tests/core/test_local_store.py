import multiprocessing
import os

import pytest

from pycache_core.entry import ResultEntry, StoredArtifact, decode_result, encode_result
from pycache_core.errors import StorageError
from pycache_core.storage.local import LocalDiskBackend


def entry_bytes(seed: int, size: int = 2000) -> bytes:
    payload = bytes((seed * 31 + i) % 251 for i in range(size))
    return encode_result(ResultEntry(family="toy", exit_code=0, stdout=b"", stderr=b"",
                                     artifacts=(StoredArtifact(role="object", data=payload),), compile_seconds=0.1))


def test_put_get_remove(tmp_path):
    store = LocalDiskBackend(tmp_path, 10 << 20)
    assert store.get("entries/ab/abcdef") is None
    store.put("entries/ab/abcdef", b"data")
    assert store.get("entries/ab/abcdef") == b"data"
    store.remove("entries/ab/abcdef")
    assert store.get("entries/ab/abcdef") is None
    assert store.size() == (0, 0)


def test_the_running_total_follows_puts_replacements_and_removals(tmp_path):
    """The total `pycache stats` shows (and trimming starts from) is kept
    in place in one small file, across stores opened anew (another process),
    and read as before from a total written by an older pycache."""
    store = LocalDiskBackend(tmp_path, 0)  # no limit: no trim recounts the total
    store.put("entries/aa/aa01", b"x" * 1000)
    store.put("entries/bb/bb01", b"y" * 500)
    assert store.usage()["bytes"] == 1500
    store.put("entries/aa/aa01", b"z" * 200)  # replaced: counted once, at its new size
    again = LocalDiskBackend(tmp_path, 0)
    assert again.usage()["bytes"] == 700 == again.size()[0]
    again.remove("entries/bb/bb01")
    assert store.usage()["bytes"] == 200
    (store.store / "size").write_text("123456789012")  # an older writer's form, longer than what follows
    store.put("entries/cc/cc01", b"w" * 8)
    assert store.usage()["bytes"] == 123456789020
    store.remove("entries/cc/cc01")
    store.remove("entries/aa/aa01")
    assert store.usage()["bytes"] == 123456789012 - 200 and list(tmp_path.glob("**/size.tmp*")) == []


@pytest.mark.parametrize("key", ["../etc/passwd", "entries/../../x", "/abs", "entries/AB/x", ""])
def test_keys_cannot_escape_the_store(tmp_path, key):
    with pytest.raises(StorageError):
        LocalDiskBackend(tmp_path, 1 << 20).put(key, b"x")


def test_least_recently_used_entries_go_first(tmp_path):
    store = LocalDiskBackend(tmp_path, 10_000)
    for i in range(3):
        store.put(f"entries/0{i}/0{i}aa", b"x" * 3000)
        os.utime(store.store / f"entries/0{i}/0{i}aa", (1000 + i, 1000 + i))
    # Reading entry 0 makes it the most recently used.
    assert store.get("entries/00/00aa") is not None
    store.put("entries/09/09aa", b"y" * 3000)  # over the limit -> trim to 90%
    remaining = {p.name for p, _ in store.entries()}
    assert "00aa" in remaining and "09aa" in remaining
    assert "01aa" not in remaining  # the oldest unused one
    assert store.size()[0] <= 9000


def test_unwritable_directory_is_a_storage_error(tmp_path):
    if os.getuid() == 0:
        target = tmp_path / "file-not-dir"
        target.write_text("x")
        store = LocalDiskBackend(target, 1 << 20)  # store/ cannot be created under a file
    else:
        tmp_path.chmod(0o500)
        store = LocalDiskBackend(tmp_path / "c", 1 << 20)
    with pytest.raises(StorageError) as info:
        store.put("entries/ab/abcd", b"x")
    assert "PUT" in str(info.value)


def _hammer(root: str, worker: int) -> None:
    store = LocalDiskBackend(root, 1 << 30)
    for round_ in range(30):
        shared = "entries/aa/aashared"
        store.put(shared, entry_bytes(7))
        own = f"entries/bb/bb{worker:02d}x{round_:02d}"
        store.put(own, entry_bytes(worker * 100 + round_))
        for key in (shared, own):
            data = store.get(key)
            if data is not None:
                decode_result(data)  # raises on a torn entry


def test_concurrent_processes_never_see_a_torn_entry(tmp_path):
    ctx = multiprocessing.get_context("fork")
    workers = [ctx.Process(target=_hammer, args=(str(tmp_path), i)) for i in range(16)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(120)
    assert [w.exitcode for w in workers] == [0] * 16
    store = LocalDiskBackend(tmp_path, 1 << 30)
    total, count = store.size()
    assert count == 1 + 16 * 30
    for path, _ in store.entries():
        decode_result(path.read_bytes())
    assert int((store.store / "size").read_text()) == total


def test_any_exists_sees_new_and_removed_entries(tmp_path):
    from pycache_core.digests import FileDigests

    digests = FileDigests()
    (tmp_path / "inc").mkdir()
    paths = [str(tmp_path / "inc" / "a.h"), str(tmp_path / "missing-dir" / "b.h")]
    assert digests.any_exists(paths) is False
    (tmp_path / "inc" / "a.h").write_text("x")  # the directory changes: its listing is re-read
    assert digests.any_exists(paths) is True
    (tmp_path / "inc" / "a.h").unlink()
    assert digests.any_exists(paths) is False
    (tmp_path / "inc" / "a.h").symlink_to(tmp_path / "nowhere")  # a dangling link counts, like lexists
    assert digests.any_exists(paths) is True
