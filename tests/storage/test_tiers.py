"""The tiered store: order, write-back, read-only, the upload queue, statistics.

Tiers of real backends (local disk, redis-server, SeaweedFS) where the
behaviour is about them; small backends written here where a test needs to
hold an upload, count calls or fail on purpose.
"""

from __future__ import annotations

import threading
import time
import uuid

import pytest

from pycache_core.config import Config
from pycache_core.errors import ConfigError, StorageError
from pycache_core.storage.local import LocalDiskBackend
from pycache_core.storage.memory import MemoryBackend
from pycache_core.storage.redis_backend import RedisBackend
from pycache_core.storage.s3 import S3Backend
from pycache_core.storage.tiers import Tier, TieredStore
from pycache_core.testing import wait_until


def key() -> str:
    digest = uuid.uuid4().hex
    return f"entries/{digest[:2]}/{digest}"


class Recording(MemoryBackend):
    """A memory backend that logs calls, can hold its writes and fail all
    calls; ``called`` is set at the first call (a test waits for it)."""

    def __init__(self, name: str, *, fail_with: Exception | None = None, hold: threading.Event | None = None, delay: float = 0):
        super().__init__(name)
        self.calls: list[tuple[str, str]] = []
        self.called = threading.Event()
        self.fail_with = fail_with
        self.hold = hold
        self.delay = delay

    def _enter(self, op: str, key: str) -> None:
        self.calls.append((op, key))
        self.called.set()
        if self.hold is not None and op == "put":
            assert self.hold.wait(120), "test never released the backend"
        if self.delay:
            time.sleep(self.delay)
        if self.fail_with is not None:
            raise self.fail_with

    def get(self, key):
        self._enter("get", key)
        return super().get(key)

    def put(self, key, data):
        self._enter("put", key)
        super().put(key, data)


def unreachable(name: str) -> StorageError:
    return StorageError(name, "GET", "Could not connect to the endpoint URL", code="EndpointConnectionError", location="s3://b/k")


@pytest.fixture
def real_tiers(tmp_path, redis_server, seaweed, aws_env):
    """local disk -> redis -> S3 (a fresh bucket), all real."""
    local = LocalDiskBackend(tmp_path / "cache", 1 << 30)
    prefix = f"t{uuid.uuid4().hex[:8]}/"
    redis = RedisBackend(redis_server.url, prefix=prefix)
    s3 = S3Backend(bucket=seaweed.new_bucket(), endpoint=seaweed.endpoint, region="us-east-1")
    return local, redis, s3


def tiers_of(*backends, shared_from: int = 1) -> list[Tier]:
    return [Tier(backend=b, shared=i >= shared_from) for i, b in enumerate(backends)]


def test_lookup_order_and_write_back_to_faster_tiers(real_tiers):
    local, redis, s3 = real_tiers
    store = TieredStore(tiers_of(local, redis, s3))
    k = key()
    s3.put(k, b"only in s3")
    assert store.get(k) == (b"only in s3", "s3")
    assert store.flush(timeout=30)
    assert local.get(k) == b"only in s3" and redis.get(k) == b"only in s3"
    assert store.get(k) == (b"only in s3", "local")
    stats = store.tier_stats()
    assert stats["s3"]["hits"] == 1 and stats["redis"]["misses"] == 1 and stats["local"]["misses"] == 1
    assert stats["local"]["hits"] == 1
    assert stats["local"]["write_backs_done"] == 1 and stats["redis"]["write_backs_done"] == 1
    # a redis hit is copied to local only
    k2 = key()
    redis.put(k2, b"in redis")
    assert store.get(k2) == (b"in redis", "redis")
    store.close()
    assert local.get(k2) == b"in redis" and s3.get(k2) is None
    assert store.get(key()) is None


def test_put_reaches_every_tier_and_close_loses_nothing(real_tiers, seaweed):
    local, redis, s3 = real_tiers
    store = TieredStore(tiers_of(local, redis, s3), upload_workers=2)
    keys = [key() for _ in range(40)]
    for k in keys:
        store.put(k, k.encode() * 10)
        assert local.get(k) == k.encode() * 10  # the local tier is written at once
    store.close()
    assert all(redis.get(k) == k.encode() * 10 for k in keys)
    assert sorted(seaweed.keys(s3.bucket)) == sorted(keys)
    stats = store.tier_stats()
    for name in ("redis", "s3"):
        assert stats[name]["uploads_queued"] == 40 and stats[name]["uploads_done"] == 40
        assert stats[name]["uploads_pending"] == 0 and stats[name]["bytes_written"] == sum(len(k) * 10 for k in keys)
    # after close, a put still lands (synchronously)
    late = key()
    store.put(late, b"late")
    assert s3.get(late) == b"late" and redis.get(late) == b"late"


def test_read_only_writes_no_shared_tier(real_tiers, seaweed):
    local, redis, s3 = real_tiers
    s3.put("entries/aa/aaaa", b"from a trusted build")
    store = TieredStore(tiers_of(local, redis, s3), read_only=True)
    k = key()
    store.put(k, b"from an untrusted build")
    assert store.get("entries/aa/aaaa") == (b"from a trusted build", "s3")
    assert store.flush(timeout=30)
    assert redis.get("entries/aa/aaaa") is None  # no write-back into a shared tier
    assert local.get("entries/aa/aaaa") == b"from a trusted build"  # but into the local disk
    store.remove("entries/aa/aaaa")  # e.g. found corrupt: only the local copy goes
    store.close()
    assert local.get("entries/aa/aaaa") is None
    assert local.get(k) == b"from an untrusted build"
    assert redis.get(k) is None and s3.get(k) is None
    assert seaweed.keys(s3.bucket) == ["entries/aa/aaaa"]  # nothing written, nothing removed
    stats = store.tier_stats()
    assert stats["s3"]["writable"] is False and stats["redis"]["uploads_queued"] == 0


def test_first_hit_wins_and_slower_tiers_are_not_asked():
    fast, slow = Recording("fast"), Recording("slow")
    fast.data["entries/ab/ab"] = b"fast copy"
    store = TieredStore(tiers_of(fast, slow))
    assert store.get("entries/ab/ab") == (b"fast copy", "fast")
    assert slow.calls == []


def test_drop_policy_counts_dropped_uploads():
    release = threading.Event()
    remote = Recording("remote", hold=release)
    local = MemoryBackend("local")
    store = TieredStore(tiers_of(local, remote), queue_size=2, queue_policy="drop", upload_workers=1)
    keys = [key() for _ in range(6)]
    for k in keys:
        store.put(k, b"x")
    assert remote.called.wait(60)  # the first upload is in flight (held)
    stats = store.tier_stats()["remote"]
    # one upload in flight, two waiting, the rest dropped; the local tier has all
    assert stats["uploads_dropped"] >= 3 and stats["uploads_queued"] + stats["uploads_dropped"] == 6
    assert all(local.get(k) == b"x" for k in keys)
    release.set()
    assert store.flush(timeout=10)
    store.close()
    stats = store.tier_stats()["remote"]
    assert len(remote.data) == stats["uploads_done"] == stats["uploads_queued"] == 6 - stats["uploads_dropped"]


def test_wait_policy_applies_backpressure_and_loses_nothing():
    release = threading.Event()
    remote = Recording("remote", hold=release)
    store = TieredStore(tiers_of(MemoryBackend("local"), remote), queue_size=1, queue_policy="wait", upload_workers=1)
    keys = [key() for _ in range(4)]
    returned: list[str] = []
    finished = threading.Event()

    def build():
        for k in keys:
            store.put(k, b"y")
            returned.append(k)
        finished.set()

    threading.Thread(target=build, daemon=True).start()
    # One upload in flight (held), one queued: the third put must wait for room.
    wait_until(lambda: remote.called.is_set() and len(returned) == 2, "two puts to be taken")
    assert not finished.wait(0.5) and len(returned) == 2
    release.set()
    assert finished.wait(10)
    store.close()
    assert sorted(remote.data) == sorted(keys)
    assert store.tier_stats()["remote"]["uploads_dropped"] == 0


def test_flush_reports_progress():
    remote = Recording("remote", delay=0.01)
    store = TieredStore(tiers_of(MemoryBackend("local"), remote), upload_workers=1)
    for _ in range(20):
        store.put(key(), b"z")
    seen: list[tuple[int, int]] = []
    assert store.flush(progress=lambda done, total: seen.append((done, total)))
    assert seen[0][0] == 0 and seen[-1][0] == seen[-1][1] >= 1
    assert all(a[0] <= b[0] for a, b in zip(seen, seen[1:]))
    assert len(remote.data) == 20
    store.close()


def test_flush_timeout_says_not_drained():
    release = threading.Event()
    store = TieredStore(tiers_of(MemoryBackend("local"), Recording("remote", hold=release)), upload_workers=1)
    store.put(key(), b"held")
    assert store.flush(timeout=0.2) is False
    release.set()
    store.close()


def test_synchronous_uploads_with_queue_size_zero():
    remote = Recording("remote")
    store = TieredStore(tiers_of(MemoryBackend("local"), remote), queue_size=0)
    k = key()
    store.put(k, b"now")
    assert remote.data[k] == b"now"  # no flush needed
    assert store.tier_stats()["remote"]["uploads_done"] == 1


def test_failures_are_counted_with_their_text_and_never_raise():
    denied = StorageError(
        "remote", "PUT", "Access Denied.", code="AccessDenied", status=403, request_id="REQ42", location="s3://b/k"
    )
    remote = Recording("remote", fail_with=denied)
    broken = Recording("broken", fail_with=RuntimeError("backend bug"))
    store = TieredStore(tiers_of(MemoryBackend("local"), broken, remote))
    k = key()
    store.put(k, b"data")
    assert store.get(k) == (b"data", "local")
    assert store.get(key()) is None
    store.close()
    stats = store.tier_stats()
    assert "AccessDenied (HTTP 403)" in stats["remote"]["last_error"] and "REQ42" in stats["remote"]["last_error"]
    assert stats["remote"]["uploads_failed"] == 1 and stats["remote"]["errors"] == 2
    assert "RuntimeError: backend bug" in stats["broken"]["last_error"]
    assert store.last_errors()["remote"] == str(denied)
    # a service that answers (403) is not suspended
    assert stats["remote"]["suspensions"] == 0 and stats["remote"]["lookups_skipped"] == 0


def test_unreachable_tier_is_suspended_then_probed():
    remote = Recording("remote", fail_with=unreachable("remote"))
    # A pause no loaded machine outlasts in this test; it is ended below.
    store = TieredStore(tiers_of(MemoryBackend("local"), remote), suspend_base=600, queue_size=0)
    assert store.get(key()) is None
    assert store.get(key()) is None
    assert store.get(key()) is None
    assert len(remote.calls) == 1  # the next two lookups skipped the dead tier
    store.put(key(), b"x")  # uploads fail at once too
    assert len(remote.calls) == 1
    stats = store.tier_stats()["remote"]
    assert stats["lookups_skipped"] == 2 and stats["suspensions"] == 1 and stats["uploads_failed"] == 1
    assert stats["suspended_seconds"] > 0 and "EndpointConnectionError" in stats["last_error"]
    store._suspensions["remote"].until = 0.0  # the pause is over, as it would be 600 s later
    remote.fail_with = None  # it came back
    assert store.get(key()) is None
    assert len(remote.calls) == 2 and store.tier_stats()["remote"]["suspended_seconds"] == 0
    assert store.get(key()) is None and len(remote.calls) == 3


def test_write_backs_never_wait_for_a_full_queue():
    release = threading.Event()
    local = Recording("local", hold=release)
    remote = MemoryBackend("remote")
    keys = [key() for _ in range(80)]
    for k in keys:
        remote.data[k] = b"remote"
    store = TieredStore([Tier(local, False), Tier(remote, True)], queue_size=2)
    served: list[tuple[bytes, str] | None] = []
    lookups = threading.Thread(target=lambda: served.extend(store.get(k) for k in keys), daemon=True)
    lookups.start()
    # The local tier holds every write: a lookup that waited for room in its
    # queue would still be waiting when the thread is given up on.
    lookups.join(timeout=60)
    assert not lookups.is_alive() and served == [(b"remote", "remote")] * 80
    stats = store.tier_stats()["local"]
    assert stats["write_backs_dropped"] > 0
    assert stats["write_backs_queued"] + stats["write_backs_dropped"] == 80
    release.set()
    store.close()


def test_redis_dying_mid_run_is_counted_not_raised(tmp_path, redis_factory):
    server = redis_factory()
    local = LocalDiskBackend(tmp_path / "cache", 1 << 30)
    redis = RedisBackend(server.url, connect_timeout=1, socket_timeout=1)
    store = TieredStore(tiers_of(local, redis))
    first = key()
    store.put(first, b"1")
    assert store.flush(timeout=10)
    server.kill()
    second = key()
    store.put(second, b"2")
    assert store.get(second) == (b"2", "local")
    assert store.get(key()) is None
    store.close()
    stats = store.tier_stats()["redis"]
    assert stats["uploads_done"] == 1 and stats["uploads_failed"] == 1
    assert "ConnectionError" in stats["last_error"] and f"127.0.0.1:{server.port}" in stats["last_error"]


def test_drain_counters_gives_deltas():
    remote = Recording("remote")
    store = TieredStore(tiers_of(MemoryBackend("local"), remote), queue_size=0)
    store.put("entries/aa/aa", b"1234")
    store.get("entries/aa/aa")
    first = store.drain_counters()
    assert first["local"]["hits"] == 1 and first["local"]["bytes_written"] == 4
    assert first["remote"]["uploads_done"] == 1 and "last_error" not in first["remote"]
    assert store.drain_counters() == {}
    remote.fail_with = StorageError("remote", "GET", "boom", code="InternalError", status=500)
    store.get("entries/bb/bb")
    second = store.drain_counters()
    assert second["remote"]["errors"] == 1 and "InternalError (HTTP 500)" in second["remote"]["last_error"]
    assert second["local"] == {"misses": 1, "read_seconds": second["local"]["read_seconds"]}


def test_from_config():
    def config(**values):
        return Config({"PYCACHE_CONFIG": "/nonexistent/pycache.toml", **values})

    store = TieredStore.from_config(
        [], config(PYCACHE_UPLOAD_QUEUE="7", PYCACHE_UPLOAD_QUEUE_POLICY="drop", PYCACHE_READ_ONLY="1")
    )
    assert (store.queue_size, store.queue_policy, store.read_only) == (7, "drop", True)
    store = TieredStore.from_config([], config())
    assert (store.queue_size, store.queue_policy, store.read_only) == (256, "wait", False)
    with pytest.raises(ConfigError):
        TieredStore.from_config([], config(PYCACHE_UPLOAD_QUEUE_POLICY="sometimes"))
