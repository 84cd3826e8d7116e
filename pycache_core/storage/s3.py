"""S3 backend (boto3): a bucket shared by every machine of a team.

Turned on by ``PYCACHE_BUCKET``. Works with AWS and with S3-compatible stores
(``PYCACHE_S3_ENDPOINT``: MinIO, SeaweedFS, R2, ...; path-style addressing is
used there, since such stores rarely resolve ``<bucket>.<host>`` names).

Credentials come only from boto3's own chain -- environment keys, profiles,
SSO, web identity, the EC2 instance metadata service (IMDSv2) -- so whatever
the AWS CLI can use, pycache can; this module contains no credential code.
``PYCACHE_S3_NO_CREDENTIALS`` sends unsigned requests instead (anonymous,
read-only access to a public cache).

boto3 costs a quarter of a second to import: it is imported when the first
request is made, never at module import, so the server starts quickly and the
per-compile client never loads it. The server builds one client and shares it
between all threads (botocore clients are thread-safe); its connection pool is
sized to the number of lookups and uploads that can run at once.

Every failure becomes a `StorageError` carrying the service's own error code,
message, HTTP status and request id, with the bucket, key and endpoint, e.g.::

    s3 PUT s3://cache/entries/ab/abcd: AccessDenied (HTTP 403): Access Denied.
    [request id 18EC637B79E18681; endpoint http://127.0.0.1:8333]

A missing key (``NoSuchKey``, or a bare 404) is a miss, not an error.
"""

from __future__ import annotations

import email.utils
import io
import logging
import os
import threading
import time
from collections.abc import Mapping
from typing import Any

from .. import env as names
from ..errors import StorageError

log = logging.getLogger("pycache.storage.s3")

CONNECT_TIMEOUT_VAR = names.S3_CONNECT_TIMEOUT
READ_TIMEOUT_VAR = names.S3_READ_TIMEOUT
MAX_ATTEMPTS_VAR = names.S3_MAX_ATTEMPTS

#: Seconds to open a connection; an unreachable endpoint fails this fast.
CONNECT_TIMEOUT = 3.0
#: Seconds without a byte from the server before a request is abandoned.
READ_TIMEOUT = 10.0
#: Tries per request (botocore's "standard" retry mode: throttling, 5xx and
#: dropped connections are retried with jittered backoff).
MAX_ATTEMPTS = 3
#: Entries at least this large go through s3transfer (multipart, parallel parts).
MULTIPART_THRESHOLD = 16 * 1024 * 1024
MULTIPART_CHUNKSIZE = 8 * 1024 * 1024
#: Connections kept beyond the server's compile jobs: background uploads and
#: multipart parts.
EXTRA_CONNECTIONS = 8

_MISSING_CODES = frozenset({"NoSuchKey", "404", "NotFound"})
_OWN_CALLS = frozenset(
    {
        "GetObject",
        "PutObject",
        "DeleteObject",
        "HeadObject",
        "CreateMultipartUpload",
        "UploadPart",
        "CompleteMultipartUpload",
        "AbortMultipartUpload",
    }
)


class S3Backend:
    """One bucket (and key prefix) as a `pycache_core.api.StorageBackend`."""

    name = "s3"

    def __init__(
        self,
        *,
        bucket: str,
        prefix: str = "",
        endpoint: str | None = None,
        use_ssl: bool = True,
        region: str | None = None,
        anonymous: bool = False,
        sse: str | None = None,
        sse_kms_key_id: str | None = None,
        max_connections: int = 10,
        connect_timeout: float = CONNECT_TIMEOUT,
        read_timeout: float = READ_TIMEOUT,
        max_attempts: int = MAX_ATTEMPTS,
    ) -> None:
        if not bucket:
            raise ValueError("an S3 backend needs a bucket")
        self.bucket = bucket
        self.prefix = _normalise_prefix(prefix)
        self.endpoint = _endpoint_url(endpoint, use_ssl) if endpoint else None
        self.use_ssl = use_ssl
        self.region = region
        self.anonymous = anonymous
        self.writable = not anonymous
        self.sse = sse or None
        self.sse_kms_key_id = sse_kms_key_id or None
        self.max_connections = max(1, max_connections)
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.max_attempts = max(1, max_attempts)
        self._lock = threading.Lock()
        self._session: Any = None
        self._client: Any = None
        self._transfer_config: Any = None
        # (local time, server time) of the latest response carrying a Date header.
        self._last_server_date: tuple[float, float] | None = None

    # --- client -------------------------------------------------------------

    def client(self) -> Any:
        """The shared botocore client, created on first use."""
        client = self._client
        if client is not None:
            return client
        with self._lock:
            if self._client is None:
                self._client = self._create_client()
            return self._client

    def start_warm_up(self) -> None:
        """Import boto3 and build the client in the background, so the first
        lookup of a build does not pay for it (the server calls this at start)."""

        def warm() -> None:
            try:
                self.client()
            except Exception as exc:  # the first real request reports it
                log.debug("s3 client warm-up failed: %s", exc)

        threading.Thread(target=warm, name="pycache-s3-warm-up", daemon=True).start()

    def _create_client(self) -> Any:
        import boto3
        import botocore
        from botocore.config import Config as BotoConfig

        session = boto3.session.Session(region_name=self.region) if self.region else boto3.session.Session()
        options: dict[str, Any] = {
            "connect_timeout": self.connect_timeout,
            "read_timeout": self.read_timeout,
            "retries": {"mode": "standard", "total_max_attempts": self.max_attempts},
            "max_pool_connections": self.max_connections,
            "tcp_keepalive": True,
            "user_agent_extra": "pycache",
        }
        if self.endpoint:
            options["s3"] = {"addressing_style": "path"}
        if self.anonymous:
            options["signature_version"] = botocore.UNSIGNED
        # Entries carry their own integrity digest; a checksum on every request
        # only costs CPU, and several S3-compatible stores reject the newer
        # trailing-checksum uploads. Older botocore has no such settings.
        checksum_options = {"request_checksum_calculation": "when_required", "response_checksum_validation": "when_required"}
        try:
            config = BotoConfig(**options, **checksum_options)
        except TypeError:
            config = BotoConfig(**options)
        region = self.region or session.region_name or ("us-east-1" if self.endpoint else None)
        client = session.client("s3", endpoint_url=self.endpoint, region_name=region, use_ssl=self.use_ssl, config=config)
        client.meta.events.register("after-call.s3", self._note_server_date)
        self._session = session
        return client

    def _transfer(self) -> Any:
        if self._transfer_config is None:
            from boto3.s3.transfer import TransferConfig

            self._transfer_config = TransferConfig(
                multipart_threshold=MULTIPART_THRESHOLD,
                multipart_chunksize=MULTIPART_CHUNKSIZE,
                max_concurrency=4,
                use_threads=True,
            )
        return self._transfer_config

    def _note_server_date(self, http_response: Any = None, **_: Any) -> None:
        date = getattr(http_response, "headers", {}).get("Date") if http_response is not None else None
        if not date:
            return
        try:
            server = email.utils.parsedate_to_datetime(date).timestamp()
        except (TypeError, ValueError, IndexError, OverflowError):
            return
        self._last_server_date = (time.time(), server)

    # --- StorageBackend -----------------------------------------------------

    def object_key(self, key: str) -> str:
        return f"{self.prefix}{key}"

    def location(self, key: str) -> str:
        return f"s3://{self.bucket}/{self.object_key(key)}"

    def get(self, key: str) -> bytes | None:
        try:
            response = self.client().get_object(Bucket=self.bucket, Key=self.object_key(key))
            return response["Body"].read()
        except Exception as exc:
            error = self._error("GET", key, exc)
            if error is None:
                return None
            raise error from exc

    def put(self, key: str, data: bytes) -> None:
        if not self.writable:
            raise StorageError(
                self.name,
                "PUT",
                "anonymous access (PYCACHE_S3_NO_CREDENTIALS) is read-only",
                code="ReadOnly",
                location=self.location(key),
            )
        extra = self._sse_arguments()
        try:
            if len(data) >= MULTIPART_THRESHOLD:
                self.client().upload_fileobj(
                    io.BytesIO(data), self.bucket, self.object_key(key), ExtraArgs=extra or None, Config=self._transfer()
                )
            else:
                self.client().put_object(Bucket=self.bucket, Key=self.object_key(key), Body=data, **extra)
        except Exception as exc:
            raise self._error("PUT", key, exc, missing_is_error=True) from exc  # type: ignore[misc]

    def remove(self, key: str) -> None:
        try:
            self.client().delete_object(Bucket=self.bucket, Key=self.object_key(key))
        except Exception as exc:
            error = self._error("DELETE", key, exc)
            if error is not None:
                raise error from exc

    def _endpoint_text(self) -> str:
        if self.endpoint:
            return self.endpoint
        client = self._client
        return str(getattr(getattr(client, "meta", None), "endpoint_url", "") or "") if client is not None else ""

    def describe(self) -> Mapping[str, str]:
        info = {
            "endpoint": self._endpoint_text() or "AWS (regional endpoint)",
            "bucket": self.bucket,
            "prefix": self.prefix or "(none)",
            "region": self.region or "(boto3 default)",
            "credentials": self.credential_source(),
            "writable": "yes" if self.writable else "no (anonymous, read-only)",
        }
        if self._client is not None:
            info["region"] = self._client.meta.region_name or info["region"]
        if self.sse:
            info["encryption"] = self.sse + (f" (key {self.sse_kms_key_id})" if self.sse_kms_key_id else "")
        skew = self.clock_skew()
        if skew is not None:
            info["clock skew"] = f"{skew:+.1f} s (local clock minus the server's Date header)"
        return info

    # --- diagnostics --------------------------------------------------------

    def credential_source(self) -> str:
        """boto3's name for where the credentials came from ("env", "iam-role",
        "assume-role-with-web-identity", "sso", "shared-credentials-file", ...)."""
        if self.anonymous:
            return "anonymous (unsigned requests)"
        try:
            self.client()
            credentials = self._session.get_credentials()
        except Exception as exc:  # a broken provider (bad token file, unreachable STS)
            return f"error: {_describe_exception(exc)}"
        if credentials is None:
            return "none found"
        return getattr(credentials, "method", None) or "unknown"

    def clock_skew(self) -> float | None:
        """Seconds the local clock is ahead of the server's (from the Date
        header of the latest response), or None before any response."""
        if self._last_server_date is None:
            return None
        local, server = self._last_server_date
        return local - server

    # --- errors -------------------------------------------------------------

    def _sse_arguments(self) -> dict[str, str]:
        if not self.sse:
            return {}
        extra = {"ServerSideEncryption": self.sse}
        if self.sse_kms_key_id:
            extra["SSEKMSKeyId"] = self.sse_kms_key_id
        return extra

    def _error(self, operation: str, key: str, exc: Exception, *, missing_is_error: bool = False) -> StorageError | None:
        """The `StorageError` for a failed request, or None when it means "no such key"."""
        import botocore.exceptions as bex

        extra: dict[str, str] = {}
        endpoint = self._endpoint_text()
        if endpoint:
            extra["endpoint"] = endpoint
        response = getattr(exc, "response", None)
        if isinstance(exc, bex.ClientError) and isinstance(response, dict):
            error = response.get("Error") or {}
            meta = response.get("ResponseMetadata") or {}
            headers = meta.get("HTTPHeaders") or {}
            code = str(error.get("Code") or "")
            status = meta.get("HTTPStatusCode")
            if code in _MISSING_CODES and not missing_is_error:
                return None
            message = str(error.get("Message") or "") or _status_text(status)
            request_id = str(meta.get("RequestId") or headers.get("x-amz-request-id") or "")
            host_id = str(meta.get("HostId") or headers.get("x-amz-id-2") or "")
            if host_id:
                extra["host id"] = host_id
            region = headers.get("x-amz-bucket-region") or error.get("Region")
            if region:
                extra["bucket region"] = str(region)
            if error.get("Endpoint"):
                extra["use endpoint"] = str(error["Endpoint"])
            failed_call = getattr(exc, "operation_name", "")
            if failed_call and failed_call not in _OWN_CALLS:
                # raised by a credential provider (STS, SSO) on the way to S3
                extra["failed call"] = failed_call
            if code in ("NoSuchBucket",):
                message += f" (bucket {self.bucket!r})"
            return StorageError(
                self.name,
                operation,
                message,
                code=code or f"HTTP{status}",
                status=int(status) if status is not None else None,
                request_id=request_id,
                location=self.location(key),
                extra=extra,
            )
        if isinstance(exc, bex.NoCredentialsError):
            message = (
                "boto3 found no credentials (environment, profile, SSO, web identity, instance metadata); "
                "configure one, or set PYCACHE_S3_NO_CREDENTIALS=true for anonymous read-only access"
            )
            return StorageError(self.name, operation, message, code="NoCredentials", location=self.location(key), extra=extra)
        if isinstance(exc, bex.BotoCoreError):
            code = type(exc).__name__
            if isinstance(exc, (bex.ConnectTimeoutError, bex.ReadTimeoutError)):
                limit = self.connect_timeout if isinstance(exc, bex.ConnectTimeoutError) else self.read_timeout
                message = f"{exc} (timeout {limit:g} s, {self.max_attempts} attempts)"
            else:
                message = str(exc)
            return StorageError(self.name, operation, message, code=code, location=self.location(key), extra=extra)
        return StorageError(
            self.name, operation, _describe_exception(exc), code=type(exc).__name__, location=self.location(key), extra=extra
        )


def _describe_exception(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text if type(exc).__name__ in text else f"{type(exc).__name__}: {text}"


def _status_text(status: Any) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(int(status)).phrase
    except (TypeError, ValueError):
        return "no message from the service"


def _normalise_prefix(prefix: str) -> str:
    prefix = (prefix or "").strip("/")
    return f"{prefix}/" if prefix else ""


def _endpoint_url(endpoint: str, use_ssl: bool) -> str:
    endpoint = endpoint.strip().rstrip("/")
    if "://" in endpoint:
        return endpoint
    return f"{'https' if use_ssl else 'http'}://{endpoint}"


def _number(settings: Any, name: str, default: float) -> float:
    raw = settings.value(name)
    if raw in (None, ""):
        return default
    try:
        return float(raw)
    except ValueError:
        from ..errors import ConfigError

        raise ConfigError(f"{name}={raw!r} is not a number") from None


def create(settings: Any) -> S3Backend | None:
    """The S3 backend the configuration asks for, or None without a bucket."""
    bucket = settings.value(names.BUCKET)
    if not bucket:
        return None
    environ = getattr(settings, "environ", os.environ)
    region = settings.value(names.S3_REGION) or environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION")
    jobs = settings.integer(names.SERVER_JOBS) or 2 * (os.cpu_count() or 1)
    sse = settings.value(names.S3_SSE)
    if sse and sse not in ("AES256", "aws:kms"):
        from ..errors import ConfigError

        raise ConfigError(f"{names.S3_SSE}={sse!r}: use AES256 or aws:kms")
    backend = S3Backend(
        bucket=bucket,
        prefix=settings.value(names.S3_KEY_PREFIX) or "",
        endpoint=settings.value(names.S3_ENDPOINT),
        use_ssl=settings.flag(names.S3_USE_SSL),
        region=region,
        anonymous=settings.flag(names.S3_NO_CREDENTIALS),
        sse=sse,
        sse_kms_key_id=settings.value(names.S3_SSE_KMS_KEY_ID),
        max_connections=jobs + EXTRA_CONNECTIONS,
        connect_timeout=_number(settings, CONNECT_TIMEOUT_VAR, CONNECT_TIMEOUT),
        read_timeout=_number(settings, READ_TIMEOUT_VAR, READ_TIMEOUT),
        max_attempts=int(_number(settings, MAX_ATTEMPTS_VAR, MAX_ATTEMPTS)),
    )
    backend.start_warm_up()
    return backend
