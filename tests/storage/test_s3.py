"""The S3 backend against a real S3 API (SeaweedFS on loopback)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid

import pytest

from pycache_core.config import Config
from pycache_core.errors import ConfigError, StorageError
from pycache_core.storage.s3 import EXTRA_CONNECTIONS, MULTIPART_THRESHOLD, S3Backend, create

from .conftest import READER, WRITER, free_port, serve_failing_s3, serve_imds, serve_silence, serve_sts


def key() -> str:
    digest = uuid.uuid4().hex
    return f"entries/{digest[:2]}/{digest}"


def backend(seaweed, **kwargs) -> S3Backend:
    options = {"bucket": seaweed.bucket, "endpoint": seaweed.endpoint, "prefix": "ci/", "region": "us-east-1"}
    options.update(kwargs)
    return S3Backend(**options)


def test_round_trip_through_the_http_api(seaweed, aws_env):
    s3 = backend(seaweed, prefix="/team/ci/")
    k = key()
    data = os.urandom(70_000) + b"\0end"
    s3.put(k, data)
    assert f"team/ci/{k}" in seaweed.keys(prefix="team/ci/entries/")
    assert s3.get(k) == data
    stored = seaweed.client().get_object(Bucket=seaweed.bucket, Key=f"team/ci/{k}")["Body"].read()
    assert stored == data
    s3.remove(k)
    assert s3.get(k) is None
    assert f"team/ci/{k}" not in seaweed.keys(prefix="team/ci/entries/")


def test_missing_key_is_a_miss_and_removing_it_is_fine(seaweed, aws_env):
    s3 = backend(seaweed)
    assert s3.get(key()) is None
    s3.remove(key())


def test_large_entry_goes_through_s3transfer(seaweed, aws_env):
    s3 = backend(seaweed)
    k = key()
    data = os.urandom(MULTIPART_THRESHOLD + 123_457)
    s3.put(k, data)
    assert s3.get(k) == data
    head = seaweed.client().head_object(Bucket=seaweed.bucket, Key=f"ci/{k}")
    assert head["ContentLength"] == len(data)
    # several parts were uploaded: a multipart object's ETag ends in -<parts>
    assert "-" in head["ETag"].strip('"')
    s3.remove(k)


def test_denied_write_is_a_readable_error(seaweed, aws_env):
    aws_env.setenv("AWS_ACCESS_KEY_ID", READER[0])
    aws_env.setenv("AWS_SECRET_ACCESS_KEY", READER[1])
    s3 = backend(seaweed)
    k = key()
    with pytest.raises(StorageError) as caught:
        s3.put(k, b"object code")
    error = caught.value
    text = str(error)
    assert error.code == "AccessDenied" and error.status == 403
    assert error.request_id and error.request_id in text
    assert "AccessDenied" in text and "HTTP 403" in text
    assert f"s3://{seaweed.bucket}/ci/{k}" in text and seaweed.endpoint in text
    assert text.startswith("s3 PUT ")
    assert READER[1] not in text
    # the reader can still read what the writer stored
    seaweed.client().put_object(Bucket=seaweed.bucket, Key=f"ci/{k}", Body=b"shared")
    assert s3.get(k) == b"shared"


def test_denied_large_write_keeps_the_service_error(seaweed, aws_env):
    aws_env.setenv("AWS_ACCESS_KEY_ID", READER[0])
    aws_env.setenv("AWS_SECRET_ACCESS_KEY", READER[1])
    with pytest.raises(StorageError) as caught:
        backend(seaweed).put(key(), bytes(MULTIPART_THRESHOLD + 1))
    assert caught.value.code == "AccessDenied" and caught.value.status == 403 and caught.value.request_id


def test_wrong_secret_is_a_readable_error_without_the_secret(seaweed, aws_env):
    aws_env.setenv("AWS_SECRET_ACCESS_KEY", "not-the-secret-4242")
    with pytest.raises(StorageError) as caught:
        backend(seaweed).get(key())
    text = str(caught.value)
    assert caught.value.status == 403 and caught.value.code == "SignatureDoesNotMatch"
    assert "not-the-secret-4242" not in text and caught.value.request_id


def test_missing_bucket_is_an_error_not_a_miss(seaweed, aws_env):
    s3 = backend(seaweed, bucket="no-such-bucket-here")
    with pytest.raises(StorageError) as caught:
        s3.get(key())
    assert caught.value.code == "NoSuchBucket" and caught.value.status == 404
    assert "no-such-bucket-here" in str(caught.value)


def test_unreachable_endpoint_fails_fast(aws_env):
    port = free_port()  # nothing listens there
    s3 = S3Backend(bucket="b", endpoint=f"http://127.0.0.1:{port}", connect_timeout=1, read_timeout=1, max_attempts=2)
    start = time.monotonic()
    with pytest.raises(StorageError) as caught:
        s3.get(key())
    # Generous: botocore's defaults (60 s connect timeout, retries) would take minutes.
    assert time.monotonic() - start < 30
    assert caught.value.code == "EndpointConnectionError"
    assert f"127.0.0.1:{port}" in str(caught.value)


def test_hung_server_times_out_within_the_bound(aws_env):
    with serve_silence() as port:
        s3 = S3Backend(bucket="b", endpoint=f"127.0.0.1:{port}", use_ssl=False, connect_timeout=1, read_timeout=1, max_attempts=2)
        start = time.monotonic()
        with pytest.raises(StorageError) as caught:
            s3.get(key())
        elapsed = time.monotonic() - start
        with pytest.raises(StorageError):
            s3.put(key(), b"x")
    # At least two attempts of one second each; the upper bound is generous
    # (a loaded machine), far below botocore's default of 60 s per attempt.
    assert 2 <= elapsed < 30
    assert caught.value.code == "ReadTimeoutError"
    assert "timeout 1 s, 2 attempts" in str(caught.value)


def test_server_errors_are_retried_and_reported(aws_env):
    with serve_failing_s3() as (endpoint, seen):
        s3 = S3Backend(bucket="b", endpoint=endpoint, max_attempts=3)
        with pytest.raises(StorageError) as caught:
            s3.get(key())
    error = caught.value
    assert len(seen) == 3  # botocore's standard mode retried the 500s
    assert error.code == "InternalError" and error.status == 500
    assert error.request_id.startswith("FAIL0002")  # the last attempt's id
    assert "We encountered an internal error" in str(error)


def test_anonymous_access_reads_and_refuses_writes(seaweed, aws_env):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        aws_env.delenv(name)
    k = key()
    seaweed.client().put_object(Bucket=seaweed.bucket, Key=f"ci/{k}", Body=b"public")
    s3 = backend(seaweed, anonymous=True)
    assert not s3.writable
    assert s3.get(k) == b"public"
    with pytest.raises(StorageError) as caught:
        s3.put(k, b"x")
    assert caught.value.code == "ReadOnly"
    assert s3.describe()["credentials"].startswith("anonymous")


def test_describe_names_the_credential_provider_and_clock_skew(seaweed, aws_env):
    s3 = backend(seaweed)
    info = s3.describe()
    assert info["credentials"] == "env"
    assert info["bucket"] == seaweed.bucket and info["endpoint"] == seaweed.endpoint and info["prefix"] == "ci/"
    assert info["region"] == "us-east-1"
    assert "clock skew" not in info  # no response seen yet
    s3.get(key())
    skew = s3.clock_skew()
    assert skew is not None and abs(skew) < 5
    assert "clock skew" in s3.describe()


def test_no_credentials_is_named(aws_env, seaweed):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        aws_env.delenv(name)
    s3 = backend(seaweed)
    assert s3.describe()["credentials"] == "none found"
    with pytest.raises(StorageError) as caught:
        s3.get(key())
    assert caught.value.code == "NoCredentials"


def test_credentials_from_instance_metadata_imdsv2(seaweed, aws_env):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_EC2_METADATA_DISABLED"):
        aws_env.delenv(name)
    with serve_imds(WRITER) as imds:
        # the service is strict: a GET without a session token is refused
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(imds.url + "latest/meta-data/iam/security-credentials/", timeout=5)
        assert refused.value.code == 401
        aws_env.setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", imds.url)
        s3 = backend(seaweed)
        k = key()
        s3.put(k, b"from an instance role")
        assert s3.get(k) == b"from an instance role"
        assert s3.describe()["credentials"] == "iam-role"
        requests = list(imds.requests)
    boto_requests = requests[1:]  # after the test's own refused GET
    assert boto_requests[0] == ("PUT", "/latest/api/token", True)
    gets = [r for r in boto_requests if r[0] == "GET"]
    assert ("GET", f"/latest/meta-data/iam/security-credentials/{imds.role}", True) in gets
    assert all(valid for _, _, valid in gets)


def test_credentials_from_web_identity(seaweed, aws_env, tmp_path):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        aws_env.delenv(name)
    token_file = tmp_path / "token"
    token_file.write_text("eyJ-ci-runner-oidc-token")
    with serve_sts(WRITER) as sts:
        aws_env.setenv("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/pycache-ci")
        aws_env.setenv("AWS_WEB_IDENTITY_TOKEN_FILE", str(token_file))
        aws_env.setenv("AWS_ROLE_SESSION_NAME", "runner-a")
        aws_env.setenv("AWS_ENDPOINT_URL_STS", sts.url)
        s3 = backend(seaweed)
        assert s3.describe()["credentials"] == "assume-role-with-web-identity"
        k = key()
        s3.put(k, b"from a web identity")
        assert s3.get(k) == b"from a web identity"
    assert sts.calls and sts.calls[0]["Action"] == "AssumeRoleWithWebIdentity"
    assert sts.calls[0]["WebIdentityToken"] == "eyJ-ci-runner-oidc-token"
    assert sts.calls[0]["RoleArn"] == "arn:aws:iam::123456789012:role/pycache-ci"


def test_server_side_encryption_is_requested(seaweed, aws_env):
    s3 = backend(seaweed, sse="AES256")
    k = key()
    s3.put(k, b"secret object")
    head = seaweed.client().head_object(Bucket=seaweed.bucket, Key=f"ci/{k}")
    assert head.get("ServerSideEncryption") == "AES256"
    assert s3.get(k) == b"secret object"
    assert s3.describe()["encryption"] == "AES256"


def settings(**values) -> Config:
    return Config({"PYCACHE_CONFIG": "/nonexistent/pycache.toml", **values})


def test_create_reads_the_configuration(aws_env):
    assert create(settings()) is None
    s3 = create(
        Config(
            {
                "PYCACHE_CONFIG": "/nonexistent/pycache.toml",
                "PYCACHE_BUCKET": "cache",
                "PYCACHE_S3_ENDPOINT": "127.0.0.1:9000",
                "PYCACHE_S3_USE_SSL": "false",
                "PYCACHE_S3_KEY_PREFIX": "team",
                "PYCACHE_S3_REGION": "eu-west-3",
                "PYCACHE_SERVER_JOBS": "6",
                "PYCACHE_S3_SSE": "aws:kms",
                "PYCACHE_S3_SSE_KMS_KEY_ID": "alias/cache",
            }
        )
    )
    assert s3 is not None
    assert s3.endpoint == "http://127.0.0.1:9000" and s3.prefix == "team/" and s3.region == "eu-west-3"
    assert s3._sse_arguments() == {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": "alias/cache"}
    config = s3.client().meta.config
    assert config.max_pool_connections == 6 + EXTRA_CONNECTIONS
    assert config.retries["mode"] == "standard"
    assert config.s3["addressing_style"] == "path"
    assert s3.client().meta.region_name == "eu-west-3"
    aws = create(settings(PYCACHE_BUCKET="cache", AWS_REGION="ap-south-1"))
    assert aws.endpoint is None and aws.region == "ap-south-1"
    assert create(settings(PYCACHE_BUCKET="cache", PYCACHE_S3_NO_CREDENTIALS="1")).writable is False
    with pytest.raises(ConfigError):
        create(settings(PYCACHE_BUCKET="cache", PYCACHE_S3_SSE="rot13"))


def test_storage_modules_do_not_import_boto3_or_redis():
    code = (
        "import sys\n"
        "import pycache_core.storage.s3, pycache_core.storage.redis_backend, pycache_core.storage.builtin, pycache_core.storage.tiers\n"
        "heavy = sorted(m for m in ('boto3', 'botocore', 's3transfer', 'redis') if m in sys.modules)\n"
        "print(','.join(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
