"""`pycache doctor` over OpenDAL tiers: a probe round trip through each real
service, where the credentials come from, and the service's own words with
advice when something is wrong."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import tempfile

import pytest
from rich.console import Console

from pycache_core.config import Config
from pycache_core.connection import control
from pycache_core.doctor import run_doctor
from pycache_core.plugins import build_host

from ..conftest import free_port
from .conftest import AZURE_KEY, DAV_USER, KINDS, Service, unique_prefix, webdav_auth_options


def doctor(tmp_path, **environ: str) -> tuple[int, str]:
    (tmp_path / "empty.toml").touch()  # named explicitly, so it must exist
    with tempfile.TemporaryDirectory(prefix="rt") as runtime:  # short: a socket path has ~107 bytes
        settings = Config({"PATH": os.environ["PATH"], "PYCACHE_DIR": str(tmp_path / "cache"),
                           "PYCACHE_CONFIG": str(tmp_path / "empty.toml"), "PYCACHE_RUNTIME_DIR": runtime,
                           **environ})  # fmt: skip
        out = io.StringIO()
        try:
            status = run_doctor(settings, build_host(), Console(file=out, width=400, color_system=None))
        finally:
            control(settings.environ, "stop")  # the doctor starts the server
    return status, out.getvalue()


@pytest.fixture
def every_service(request) -> dict[str, Service]:
    """The session's server of every kind."""
    return {kind: _service(request, kind) for kind in KINDS}


def _service(request, kind: str) -> Service:
    from .conftest import STARTERS, s3_service

    if kind == "s3":
        return s3_service(request.getfixturevalue("seaweed"))
    servers = request.getfixturevalue("opendal_servers")
    if kind not in servers:
        servers[kind] = STARTERS[kind](request.getfixturevalue("tmp_path_factory").mktemp(kind))
    return servers[kind]


def test_every_service_round_trips_a_probe(tmp_path, every_service):
    environ: dict[str, str] = {}
    for kind, service in every_service.items():
        more = {"key_prefix": unique_prefix()}
        if kind == "webdav":
            more.update(webdav_auth_options(service))
        environ.update(service.settings(kind, **more))
    status, text = doctor(tmp_path, **environ)
    assert status == 0, text
    for kind in KINDS:
        assert f"storage opendal.{kind} (tier 30, shared)" in text
    assert text.count("put probe") == len(KINDS) + 1 and text.count("get after delete") == len(KINDS) + 1  # and the local disk
    assert "failed" not in text
    assert f"basic auth from option username + password, user {DAV_USER[0]}" in text
    assert "shared key from option account_key" in text and "access keys from option access_key_id + secret_access_key" in text
    assert "anonymous (allow_anonymous)" in text  # fake-gcs-server
    assert "option password" in text and DAV_USER[1] not in text and AZURE_KEY not in text


def test_failures_are_named_with_the_service_words_and_advice(tmp_path, every_service):
    azure = every_service["azblob"]
    dead = free_port()
    environ = {
        **azure.settings("az", account_key="d3Jvbmcta2V5LXdyb25nLWtleS13cm9uZy1rZXk=", retries="0"),
        **Service("webdav", "", {"scheme": "webdav", "endpoint": f"http://127.0.0.1:{dead}"}).settings("dav", retries="0"),
        "PYCACHE_OPENDAL_GHA__SCHEME": "ghac",
        "PYCACHE_OPENDAL_TYPO__SCHEME": "memcached",
        "PYCACHE_OPENDAL_TYPO__ENDPIONT": "tcp://127.0.0.1:1",
    }
    status, text = doctor(tmp_path, **environ)
    assert status == 1
    assert "AuthorizationFailure (HTTP 403): Server failed to authenticate the request" in text
    assert "refused these credentials (shared key from option account_key" in text
    assert "d3Jvbmcta2V5LXdyb25nLWtleS13cm9uZy1rZXk=" not in text
    assert f"127.0.0.1:{dead}" in text and "Connection refused" in text and "cannot be reached" in text
    assert "storage opendal.gha (tier 30): cannot be set up" in text and "cache url for ghac not found" in text
    assert "export ACTIONS_RESULTS_URL, ACTIONS_RUNTIME_TOKEN and ACTIONS_CACHE_SERVICE_V2" in text
    assert "memcached has no option endpiont (environment PYCACHE_OPENDAL_TYPO__ENDPIONT)" in text


def test_read_only_tier_is_only_read(tmp_path, every_service):
    memcached = every_service["memcached"]
    status, text = doctor(tmp_path, **memcached.settings(read_only="true"))
    assert status == 0, text
    assert "get probe (read-only backend: no write tried)" in text and "no (read_only is set)" in text


def test_cli_doctor_exit_status(tmp_path):
    (tmp_path / "empty.toml").touch()
    env = dict(os.environ, PYCACHE_DIR=str(tmp_path / "cache"), PYCACHE_CONFIG=str(tmp_path / "empty.toml"),
               PYCACHE_RUNTIME_DIR=tempfile.mkdtemp(prefix="rt"),
               PYCACHE_OPENDAL_SCHEME="webdav", PYCACHE_OPENDAL_ENDPOINT=f"http://127.0.0.1:{free_port()}",
               PYCACHE_OPENDAL_RETRIES="0", COLUMNS="250")  # fmt: skip
    pycache = os.path.join(os.path.dirname(sys.executable), "pycache")
    done = subprocess.run([pycache, "doctor"], env=env, capture_output=True, text=True, timeout=120)
    control(env, "stop")  # the doctor started it
    shutil.rmtree(env["PYCACHE_RUNTIME_DIR"], ignore_errors=True)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "storage opendal (tier 30, shared)" in done.stdout and "Connection refused" in done.stdout
