"""`pycache doctor` against real tiers, and against the failures it must explain."""

from __future__ import annotations

import io
import os
import subprocess
import sys

import pytest
from rich.console import Console

from pycache_core.config import Config
from pycache_core.connection import control
from pycache_core.doctor import hint_for, run_doctor
from pycache_core.errors import StorageError
from pycache_core.plugins import build_host

from .conftest import READER, WRITER, free_port, serve_failing_s3, serve_sts


@pytest.fixture
def doctor(aws_env, tmp_path, tmp_path_factory):
    """Run the doctor with the environment the test set; (exit status, text)."""
    aws_env.setenv("PYCACHE_DIR", str(tmp_path / "cache"))
    (tmp_path / "empty.toml").touch()  # named explicitly, so it must exist
    aws_env.setenv("PYCACHE_CONFIG", str(tmp_path / "empty.toml"))
    aws_env.setenv("PYCACHE_RUNTIME_DIR", str(tmp_path_factory.mktemp("rt")))  # the doctor starts a server there
    aws_env.setenv("PYCACHE_S3_CONNECT_TIMEOUT", "1")
    aws_env.setenv("PYCACHE_S3_READ_TIMEOUT", "2")
    aws_env.setenv("PYCACHE_S3_MAX_ATTEMPTS", "2")

    def run(host=None) -> tuple[int, str]:
        out = io.StringIO()
        console = Console(file=out, width=300, force_terminal=False, color_system=None)
        status = run_doctor(Config(dict(os.environ)), host or build_host(), console)
        return status, out.getvalue()

    yield run
    control(dict(os.environ), "stop")


def use_s3(env, seaweed, keys=WRITER, bucket=None):
    env.setenv("PYCACHE_BUCKET", bucket or seaweed.bucket)
    env.setenv("PYCACHE_S3_ENDPOINT", seaweed.endpoint)
    env.setenv("AWS_ACCESS_KEY_ID", keys[0])
    env.setenv("AWS_SECRET_ACCESS_KEY", keys[1])


def test_all_tiers_healthy(doctor, aws_env, seaweed, redis_server):
    use_s3(aws_env, seaweed)
    aws_env.setenv("PYCACHE_S3_KEY_PREFIX", "doctor-ci")
    aws_env.setenv("PYCACHE_REDIS_URL", redis_server.url)
    status, text = doctor()
    assert status == 0, text
    assert "all checks passed" in text
    for tier in ("storage local (tier 0)", "storage redis (tier 10, shared)", "storage s3 (tier 20, shared)"):
        assert tier in text
    assert text.count("put probe") == 3 and text.count("get after delete") == 3 and "failed" not in text
    assert "credentials" in text and " env " in text  # boto3's provider name
    assert "clock skew" in text and "server version" in text
    assert "gcc-clang" in text  # a compiler family, and what it found on PATH
    assert not [k for k in seaweed.keys(prefix="doctor-ci/") if "probe" in k]  # the probe was deleted
    assert WRITER[1] not in text


def test_denied_write_shows_the_service_error_and_a_hint(doctor, aws_env, seaweed):
    use_s3(aws_env, seaweed, keys=READER)
    status, text = doctor()
    assert status == 1
    assert "AccessDenied (HTTP 403)" in text and "request id" in text
    assert "get probe (can it read?)" in text  # reading still works
    assert "refused these credentials (env)" in text
    assert READER[1] not in text


def test_missing_bucket(doctor, aws_env, seaweed):
    use_s3(aws_env, seaweed, bucket="no-such-bucket-doctor")
    status, text = doctor()
    assert status == 1
    assert "NoSuchBucket (HTTP 404)" in text and "check PYCACHE_BUCKET" in text


def test_unreachable_endpoint(doctor, aws_env):
    aws_env.setenv("PYCACHE_BUCKET", "cache")
    aws_env.setenv("PYCACHE_S3_ENDPOINT", f"http://127.0.0.1:{free_port()}")
    status, text = doctor()
    assert status == 1
    assert "EndpointConnectionError" in text and "cannot be reached" in text


def test_wrong_region_redirect(doctor, aws_env):
    message = "The bucket you are attempting to access must be addressed using the specified endpoint."
    with serve_failing_s3(301, "PermanentRedirect", message, {"x-amz-bucket-region": "eu-west-3"}) as (endpoint, _):
        aws_env.setenv("PYCACHE_BUCKET", "cache")
        aws_env.setenv("PYCACHE_S3_ENDPOINT", endpoint)
        status, text = doctor()
    assert status == 1
    assert "PermanentRedirect (HTTP 301)" in text and "bucket region eu-west-3" in text
    assert "another region (eu-west-3): set PYCACHE_S3_REGION" in text


def test_expired_web_identity_token(doctor, aws_env, tmp_path):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        aws_env.delenv(name)
    token = tmp_path / "token"
    token.write_text("an-expired-oidc-token")
    expired = (
        400,
        "ExpiredTokenException",
        "Token expired: current date/time 1764387000 must be before the expiration date/time 1764386000",
    )
    with serve_sts(WRITER, error=expired) as sts:
        aws_env.setenv("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/pycache-ci")
        aws_env.setenv("AWS_WEB_IDENTITY_TOKEN_FILE", str(token))
        aws_env.setenv("AWS_ENDPOINT_URL_STS", sts.url)
        aws_env.setenv("PYCACHE_BUCKET", "cache")
        aws_env.setenv("PYCACHE_S3_ENDPOINT", f"http://127.0.0.1:{free_port()}")
        status, text = doctor()
    assert status == 1
    assert "assume-role-with-web-identity" in text
    assert "ExpiredTokenException (HTTP 400)" in text and "failed call AssumeRoleWithWebIdentity" in text
    assert "identity token has expired" in text


def test_redis_wrong_password(doctor, aws_env, redis_factory):
    server = redis_factory(password="right-password")
    aws_env.setenv("PYCACHE_REDIS_URL", f"redis://:wrong-password@127.0.0.1:{server.port}/0")
    status, text = doctor()
    assert status == 1
    assert "WRONGPASS" in text and "password in PYCACHE_REDIS_URL is wrong" in text
    assert "wrong-password" not in text and "redis://:***@" in text


def test_read_only_does_not_write(doctor, aws_env, seaweed):
    use_s3(aws_env, seaweed)
    aws_env.setenv("PYCACHE_S3_KEY_PREFIX", "doctor-ro")
    aws_env.setenv("PYCACHE_READ_ONLY", "true")
    status, text = doctor()
    assert status == 0, text
    assert "PYCACHE_READ_ONLY: no write tried" in text
    assert seaweed.keys(prefix="doctor-ro/") == []


def test_a_broken_plugin_is_a_problem(doctor):
    class Broken:
        __name__ = "broken_plugin"

        def pycache_register_compilers(self):
            raise RuntimeError("cannot find my toolchain table")

    from pycache_core.api import hookimpl

    Broken.pycache_register_compilers = hookimpl(Broken.pycache_register_compilers)
    status, text = doctor(build_host(extra_plugins=[("broken-plugin", Broken())]))
    assert status == 1
    assert "broken-plugin" in text and "RuntimeError: cannot find my toolchain table" in text


def test_hints_cover_service_failures():
    error = StorageError("s3", "GET", "We encountered an internal error.", code="InternalError", status=503, request_id="R")
    assert "HTTP 503" in hint_for(error)
    assert hint_for(RuntimeError("x")) == ""


def test_cli_doctor_exit_status(aws_env, seaweed, tmp_path, tmp_path_factory):
    use_s3(aws_env, seaweed, keys=READER)
    (tmp_path / "empty.toml").touch()
    env = dict(os.environ, PYCACHE_DIR=str(tmp_path / "cache"), PYCACHE_CONFIG=str(tmp_path / "empty.toml"), COLUMNS="250",
               PYCACHE_RUNTIME_DIR=str(tmp_path_factory.mktemp("rt")))
    pycache = os.path.join(os.path.dirname(sys.executable), "pycache")
    done = subprocess.run([pycache, "doctor"], env=env, capture_output=True, text=True, timeout=120)
    control(env, "stop")  # the doctor started it
    assert done.returncode == 1, done.stdout + done.stderr
    assert "AccessDenied (HTTP 403)" in done.stdout
