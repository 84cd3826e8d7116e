"""The Redis backend against a real redis-server on loopback."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
import uuid
from pathlib import Path

import pytest

from pycache_core.config import Config
from pycache_core.errors import StorageError
from pycache_core.storage.redis_backend import RedisBackend, create, redact_url
from pycache_core.testing import wait_until

from .conftest import serve_silence


def key() -> str:
    digest = uuid.uuid4().hex
    return f"entries/{digest[:2]}/{digest}"


def test_round_trip_under_the_prefix(redis_server):
    backend = RedisBackend(redis_server.url, prefix="team-a/")
    k = key()
    data = os.urandom(50_000)
    backend.put(k, data)
    raw = redis_server.client()
    assert raw.get(f"team-a/{k}") == data
    assert raw.ttl(f"team-a/{k}") == -1  # no TTL configured: never expires
    assert backend.get(k) == data
    assert RedisBackend(redis_server.url, prefix="team-b/").get(k) is None
    backend.remove(k)
    assert backend.get(k) is None and raw.exists(f"team-a/{k}") == 0
    backend.remove(k)  # removing a missing key is fine


def test_ttl_is_set_honoured_and_renewed_by_hits(redis_server):
    backend = RedisBackend(redis_server.url, prefix="ttl/", ttl=100)
    raw = redis_server.client()
    k = key()
    backend.put(k, b"entry")
    assert 90 <= raw.ttl(f"ttl/{k}") <= 100
    raw.expire(f"ttl/{k}", 5)
    assert backend.get(k) == b"entry"
    assert raw.ttl(f"ttl/{k}") > 90  # the hit renewed the expiry

    short = RedisBackend(redis_server.url, prefix="ttl/", ttl=1)
    k2 = key()
    short.put(k2, b"short-lived")
    assert short.get(k2) == b"short-lived"
    # No hit in between: redis-server expires the entry (waited for, not slept on).
    wait_until(lambda: raw.exists(f"ttl/{k2}") == 0, "redis-server to expire the entry")
    assert short.get(k2) is None


def test_password_in_url_works_and_never_shows(redis_factory):
    server = redis_factory(password="s3cr3t-pw")
    url = f"redis://:s3cr3t-pw@127.0.0.1:{server.port}/2"
    backend = RedisBackend(url)
    backend.put(key(), b"x")
    info = backend.describe()
    assert "s3cr3t-pw" not in repr(info) and info["url"] == f"redis://:***@127.0.0.1:{server.port}/2"
    assert info["authentication"].startswith("password")

    wrong = RedisBackend(f"redis://default:wrong-pw@127.0.0.1:{server.port}/0")
    with pytest.raises(StorageError) as caught:
        wrong.get(key())
    text = str(caught.value)
    assert "WRONGPASS" in text or "invalid username-password" in text
    assert "wrong-pw" not in text

    anonymous = RedisBackend(f"redis://127.0.0.1:{server.port}/0")
    with pytest.raises(StorageError) as caught:
        anonymous.put(key(), b"x")
    assert "NOAUTH" in str(caught.value) or "Authentication required" in str(caught.value)


def test_unix_socket_url(redis_factory):
    directory = Path(tempfile.mkdtemp(prefix="rs", dir="/tmp"))
    try:
        sock = directory / "r.sock"
        redis_factory(extra=["--unixsocket", str(sock), "--unixsocketperm", "700"])
        backend = RedisBackend(f"unix://{sock}?db=1")
        k = key()
        backend.put(k, b"over a socket")
        assert backend.get(k) == b"over a socket"
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def test_server_errors_carry_the_servers_message(redis_factory):
    server = redis_factory(extra=["--maxmemory", "2mb", "--maxmemory-policy", "noeviction"])
    backend = RedisBackend(server.url)
    with pytest.raises(StorageError) as caught:
        for _ in range(20):
            backend.put(key(), os.urandom(512 * 1024))
    assert caught.value.code == "OOM"
    assert "command not allowed when used memory > 'maxmemory'" in str(caught.value)
    assert f"127.0.0.1:{server.port}" in str(caught.value)


def test_a_redis_killed_mid_run_gives_errors_then_recovers(redis_factory):
    server = redis_factory()
    backend = RedisBackend(server.url, connect_timeout=1, socket_timeout=1)
    k = key()
    backend.put(k, b"before")
    assert backend.get(k) == b"before"
    server.kill()
    start = time.monotonic()
    for operation in (lambda: backend.get(k), lambda: backend.put(k, b"after"), lambda: backend.remove(k)):
        with pytest.raises(StorageError) as caught:
            operation()
        assert caught.value.code == "ConnectionError"
        assert f"127.0.0.1:{server.port}" in str(caught.value)
    assert time.monotonic() - start < 30  # generous: the timeouts (1 s) hold, no hang
    # the same port comes back (an empty server): the pool reconnects
    redis_factory(port=server.port)
    assert backend.get(k) is None
    backend.put(k, b"again")
    assert backend.get(k) == b"again"


def test_a_hung_redis_times_out(redis_server):
    with serve_silence() as port:
        backend = RedisBackend(f"redis://127.0.0.1:{port}/0", connect_timeout=1, socket_timeout=1)
        start = time.monotonic()
        with pytest.raises(StorageError) as caught:
            backend.get(key())
        elapsed = time.monotonic() - start
    assert elapsed < 30  # generous: the 1 s timeouts hold, no hang
    assert caught.value.code in ("Timeout", "ConnectionError")
    assert "Timeout" in str(caught.value) or "timed out" in str(caught.value).lower()


def test_server_info_reports_version_and_clock(redis_server):
    backend = RedisBackend(redis_server.url)
    info = backend.server_info()
    assert info["version"].split(".")[0].isdigit()
    skew = backend.describe()["clock skew"]
    assert abs(float(skew.split()[0])) < 5


def test_create_reads_the_configuration():
    base = {"PYCACHE_CONFIG": "/nonexistent/pycache.toml"}
    assert create(Config(base)) is None
    backend = create(
        Config(
            {
                **base,
                "PYCACHE_REDIS_URL": "redis://u:p@127.0.0.1:1/3",
                "PYCACHE_REDIS_KEY_PREFIX": "x:",
                "PYCACHE_REDIS_TTL": "60",
            }
        )
    )
    assert backend.prefix == "x:" and backend.ttl == 60
    assert backend.describe()["url"] == "redis://u:***@127.0.0.1:1/3"
    assert create(Config({**base, "PYCACHE_REDIS_URL": "redis://127.0.0.1:1"})).prefix == "pycache/"
    with pytest.raises(StorageError):
        create(Config({**base, "PYCACHE_REDIS_URL": "http://127.0.0.1:1"}))


def test_redact_url():
    assert (
        redact_url("rediss://user:pw@cache.internal:6380/0?ssl_cert_reqs=none")
        == "rediss://user:***@cache.internal:6380/0?ssl_cert_reqs=none"
    )
    assert redact_url("redis://127.0.0.1:6379") == "redis://127.0.0.1:6379"
    assert redact_url("unix:///run/redis.sock?db=2") == "unix:///run/redis.sock?db=2"
