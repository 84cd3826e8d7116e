"""One OpenDAL tier against each real server: round trips, misses, refusals,
dead and hung services, server errors -- and what the errors say."""

from __future__ import annotations

import os
import time
import uuid

import pytest

from pycache_core.config import Config
from pycache_core.errors import StorageError
from pycache_opendal.backend import OpenDALBackend, open_tiers

from ..conftest import READER, free_port, serve_failing_s3, serve_silence
from .conftest import AZURE_KEY, DAV_USER, KINDS, Service, unique_prefix, webdav_auth_options


def key() -> str:
    digest = uuid.uuid4().hex
    return f"entries/{digest[:2]}/{digest}"


def open_tier(service: Service, **more: str) -> OpenDALBackend:
    settings = Config({"PYCACHE_CONFIG": "/nonexistent/pycache.toml", **service.settings(**more)})
    (tier,) = open_tiers(settings)
    if isinstance(tier, Exception):
        raise tier
    return tier


def failing(kind: str, endpoint: str, service: Service | None = None) -> Service:
    """A tier of ``kind`` pointed at another endpoint (a dead, hung or failing server)."""
    options = dict(service.options) if service else {"scheme": kind}
    options["endpoint"] = endpoint
    if kind == "azblob":
        options.update(container="c", account_name="devstoreaccount1", account_key=AZURE_KEY)
    if kind == "gcs":
        options.update(bucket="b", allow_anonymous="true", disable_vm_metadata="true", disable_config_load="true")
    if kind == "s3":
        options.update(bucket="b", region="us-east-1", access_key_id="k", secret_access_key="s3-secret-value",
                       disable_config_load="true", disable_ec2_metadata="true")  # fmt: skip
    return Service(kind, endpoint, options)


@pytest.mark.parametrize("service", KINDS, indirect=True)
def test_round_trip_under_the_prefix(service):
    prefix = unique_prefix()
    tier = open_tier(service, key_prefix=prefix)
    k = key()
    data = os.urandom(70_000) + b"\0end"
    tier.put(k, data)
    assert tier.get(k) == data
    assert open_tier(service, key_prefix=unique_prefix()).get(k) is None  # another prefix sees nothing
    assert tier.get(key()) is None  # a missing key is a miss
    tier.remove(k)
    assert tier.get(k) is None
    tier.remove(k)  # removing a missing key is fine
    big = os.urandom(5 * 1024 * 1024 + 17)
    tier.put(k, big)
    assert tier.get(k) == big
    tier.remove(k)


def test_webdav_files_land_under_root_and_prefix(opendal_servers, tmp_path_factory):
    from .conftest import start_webdav

    directory = tmp_path_factory.mktemp("dav-files")
    server = start_webdav(directory)
    try:
        tier = open_tier(server, key_prefix="team/ci")
        k = key()
        tier.put(k, b"object bytes")
        assert (directory / "open" / "cache" / "team" / "ci" / k).read_bytes() == b"object bytes"
        # the same file over plain HTTP (a bazel-remote / nginx style read-only cache)
        http = open_tier(Service("http", server.endpoint, {"scheme": "http", "endpoint": server.endpoint, "root": "/open/cache"}),
                         key_prefix="team/ci")  # fmt: skip
        assert http.get(k) == b"object bytes" and http.get(key()) is None
        assert not http.writable and http.describe()["writable"] == "no (http cannot write)"
        with pytest.raises(StorageError) as caught:
            http.put(k, b"x")
        assert caught.value.code == "ReadOnly"
    finally:
        server.stop()


@pytest.mark.parametrize("service", ["webdav"], indirect=True)
def test_webdav_basic_auth(service):
    tier = open_tier(service, **webdav_auth_options(service))
    k = key()
    tier.put(k, b"private")
    assert tier.get(k) == b"private"
    assert tier.describe()["credentials"] == f"basic auth from option username + password, user {DAV_USER[0]} (environment PYCACHE_OPENDAL_USERNAME)"
    assert DAV_USER[1] not in repr(tier.describe())
    wrong = open_tier(service, **webdav_auth_options(service, password="not-the-password"))
    for operation in (lambda: wrong.get(k), lambda: wrong.put(key(), b"x")):
        with pytest.raises(StorageError) as caught:
            operation()
        error = caught.value
        assert error.status == 401 and error.code == "Unauthorized", str(error)
        assert "Access not authorized" in str(error) and "not-the-password" not in str(error)
        assert "refused these credentials (basic auth" in error.hint
    anonymous = open_tier(service, root="/team/cache")
    with pytest.raises(StorageError) as caught:
        anonymous.get(k)
    assert caught.value.status == 401


@pytest.mark.parametrize("service", ["azblob"], indirect=True)
def test_azure_wrong_key_is_refused_with_the_services_words(service):
    wrong_key = "d3Jvbmcta2V5LXdyb25nLWtleS13cm9uZy1rZXktd3Jvbmcta2V5LXdyb25nLWtleQ=="
    tier = open_tier(service, account_key=wrong_key)
    with pytest.raises(StorageError) as caught:
        tier.get(key())
    error = caught.value
    assert error.code == "AuthorizationFailure" and error.status == 403
    assert "Server failed to authenticate the request" in error.message and error.request_id
    assert "service operation GetBlob" in str(error) and wrong_key not in str(error)
    assert "shared key from option account_key" in error.hint


@pytest.mark.parametrize("service", ["s3"], indirect=True)
def test_s3_reader_keys_read_but_cannot_write(service, seaweed):
    k = key()
    writer = open_tier(service, key_prefix="rw")
    writer.put(k, b"shared")
    reader = open_tier(service, key_prefix="rw", access_key_id=READER[0], secret_access_key=READER[1])
    assert reader.get(k) == b"shared"
    with pytest.raises(StorageError) as caught:
        reader.put(key(), b"x")
    error = caught.value
    assert error.code == "AccessDenied" and error.status == 403 and error.request_id, str(error)
    assert READER[1] not in str(error)
    assert f"rw/{k}" in seaweed.keys(prefix="rw/")  # OpenDAL's S3 wrote where boto3 finds it


@pytest.mark.parametrize("service", ["azblob", "gcs", "s3"], indirect=True)
def test_a_missing_bucket_is_an_error_not_a_miss(service):
    option = "container" if service.kind == "azblob" else "bucket"
    tier = open_tier(service, **{option: f"no-such-{uuid.uuid4().hex[:8]}"})
    with pytest.raises(StorageError) as caught:
        tier.put(key(), b"x")
    assert caught.value.status == 404, str(caught.value)
    assert "does not exist" in caught.value.hint
    if service.kind != "gcs":  # fake-gcs-server answers a missing bucket's GET like a missing object's
        with pytest.raises(StorageError) as caught:
            tier.get(key())
        assert caught.value.code in ("ContainerNotFound", "NoSuchBucket")


@pytest.mark.parametrize("kind", KINDS)
def test_a_dead_service_fails_fast_and_says_so(kind):
    port = free_port()
    endpoint = f"tcp://127.0.0.1:{port}" if kind == "memcached" else f"http://127.0.0.1:{port}"
    tier = open_tier(failing(kind, endpoint), retries="1")
    started = time.monotonic()
    with pytest.raises(StorageError) as caught:
        tier.get(key())
    assert time.monotonic() - started < 5
    error = caught.value
    assert error.status is None and "Connection refused" in error.message, str(error)
    assert f"127.0.0.1:{port}" in str(error) and "cannot be reached" in error.hint
    assert "s3-secret-value" not in str(error)


@pytest.mark.parametrize("kind", KINDS)
def test_a_hung_service_times_out_within_the_bound(kind):
    with serve_silence() as port:
        endpoint = f"tcp://127.0.0.1:{port}" if kind == "memcached" else f"http://127.0.0.1:{port}"
        tier = open_tier(failing(kind, endpoint), timeout="1", io_timeout="1", retries="1")
        started = time.monotonic()
        with pytest.raises(StorageError) as caught:
            tier.get(key())
        elapsed = time.monotonic() - started
    assert 1.5 <= elapsed < 8  # two attempts of one second, plus a short backoff
    error = caught.value
    assert "timeout reached" in error.message and "(timeout 1 s per request, 1 s per read or write; 2 attempts)" in error.message
    assert "did not answer in time" in error.hint


@pytest.mark.parametrize("kind", ["webdav", "azblob", "gcs", "s3"])
def test_server_errors_are_retried_and_reported(kind):
    with serve_failing_s3() as (endpoint, seen):
        tier = open_tier(failing(kind, endpoint), retries="2")
        with pytest.raises(StorageError) as caught:
            tier.get(key())
    assert len(seen) == 3, seen  # OpenDAL's RetryLayer tried again twice
    error = caught.value
    assert error.status == 500 and error.request_id.startswith("FAIL"), str(error)
    assert "We encountered an internal error" in error.message
    assert "failed on its side (HTTP 500)" in error.hint


def test_memcached_refusing_an_entry_says_why(start_service):
    server = start_service("memcached", item_limit="1m")
    tier = open_tier(server)
    tier.put(key(), b"small")
    with pytest.raises(StorageError) as caught:
        tier.put(key(), os.urandom(2 * 1024 * 1024))
    # OpenDAL 0.47 does not pass memcached's SERVER_ERROR text on: the hint names the likely cause
    assert "unexpected status received" in str(caught.value), str(caught.value)
    assert "size limit (memcached -I" in caught.value.hint


@pytest.mark.parametrize("service", ["webdav"], indirect=True)
def test_a_read_only_tier_reads_and_refuses_writes(service):
    prefix = unique_prefix()
    k = key()
    open_tier(service, key_prefix=prefix).put(k, b"from the trusted runner")
    tier = open_tier(service, key_prefix=prefix, read_only="true")
    assert not tier.writable and tier.get(k) == b"from the trusted runner"
    with pytest.raises(StorageError) as caught:
        tier.put(k, b"x")
    assert caught.value.code == "ReadOnly" and "read_only is set" in str(caught.value)
