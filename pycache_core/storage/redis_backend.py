"""Redis backend (redis-py): a fast shared tier in front of S3, or on its own.

Turned on by ``PYCACHE_REDIS_URL`` -- ``redis://[user:password@]host:port/db``,
``rediss://`` for TLS, ``unix:///path/to/socket?db=0`` -- with keys under
``PYCACHE_REDIS_KEY_PREFIX``. ``PYCACHE_REDIS_TTL`` (seconds, 0 = never)
makes entries expire; every hit renews the expiry (``GETEX``), so entries in
use stay and forgotten ones leave, whatever the server's ``maxmemory-policy``.

redis-py is imported when the backend is created (in the server), never at
module import. The client holds a thread-safe connection pool shared by the
server's compile jobs and upload threads; short socket timeouts and a single
retry keep a dead or hung server from stalling a build. Every failure is a
`StorageError` carrying the server's own message (``WRONGPASS ...``,
``OOM command not allowed ...``) or the connection error; the password in the
URL never appears in errors or in `describe`.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from .. import env as names
from ..errors import StorageError

#: Seconds to connect, and to wait for any reply.
CONNECT_TIMEOUT = 2.0
SOCKET_TIMEOUT = 5.0
#: Connections kept beyond the server's compile jobs (background uploads).
EXTRA_CONNECTIONS = 8


class RedisBackend:
    """Keys ``<prefix><key>`` in one Redis database as a `StorageBackend`."""

    name = "redis"
    writable = True

    def __init__(
        self,
        url: str,
        *,
        prefix: str = "pycache/",
        ttl: int = 0,
        max_connections: int = 16,
        connect_timeout: float = CONNECT_TIMEOUT,
        socket_timeout: float = SOCKET_TIMEOUT,
    ) -> None:
        import redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        self.url = url
        self.safe_url = redact_url(url)
        self.prefix = prefix
        self.ttl = max(0, int(ttl))
        self.connect_timeout = connect_timeout
        self.socket_timeout = socket_timeout
        try:
            self.client = redis.Redis.from_url(
                url,
                socket_connect_timeout=connect_timeout,
                socket_timeout=socket_timeout,
                # One retry, at once, on a dropped connection: it replaces a
                # pooled connection that the server closed (restart, idle
                # timeout). A timeout is not retried: a hung server would only
                # hold the build up twice as long.
                retry=Retry(NoBackoff(), 1, supported_errors=(redis.exceptions.ConnectionError,)),
                retry_on_timeout=False,
                health_check_interval=30,
                max_connections=max_connections,
            )
        except ValueError as exc:  # a malformed URL
            raise StorageError(self.name, "CONNECT", str(exc), code="InvalidURL", location=self.safe_url) from exc
        self._getex = self.ttl > 0
        self._lock = threading.Lock()
        self._server_time: tuple[float, float] | None = None

    def _key(self, key: str) -> str:
        return f"{self.prefix}{key}"

    def location(self, key: str) -> str:
        return f"{self.safe_url} {self._key(key)}"

    # --- StorageBackend -----------------------------------------------------

    def get(self, key: str) -> bytes | None:
        name = self._key(key)
        try:
            if self._getex:
                try:
                    return self.client.getex(name, ex=self.ttl)
                except Exception as exc:
                    if not _unknown_command(exc):
                        raise
                    self._getex = False  # a server older than 6.2: plain GET
            return self.client.get(name)
        except Exception as exc:
            raise self._error("GET", key, exc) from exc

    def put(self, key: str, data: bytes) -> None:
        try:
            self.client.set(self._key(key), data, ex=self.ttl or None)
        except Exception as exc:
            raise self._error("SET", key, exc) from exc

    def remove(self, key: str) -> None:
        try:
            self.client.delete(self._key(key))
        except Exception as exc:
            raise self._error("DEL", key, exc) from exc

    def describe(self) -> Mapping[str, str]:
        parts = urlsplit(self.url)
        if parts.password:
            auth = f"password from the URL (user {parts.username or 'default'})"
        elif parts.username:
            auth = f"user {parts.username} from the URL"
        else:
            auth = "none"
        info = {
            "url": self.safe_url,
            "prefix": self.prefix or "(none)",
            "ttl": f"{self.ttl} s" if self.ttl else "none (entries never expire)",
            "authentication": auth,
            "tls": "yes" if parts.scheme == "rediss" else "no",
        }
        if self._server_time is not None:
            local, server = self._server_time
            info["clock skew"] = f"{local - server:+.1f} s (local clock minus the server's TIME)"
        return info

    # --- diagnostics --------------------------------------------------------

    def server_info(self) -> dict[str, str]:
        """Version, memory policy and clock of the server (for `pycache doctor`);
        raises `StorageError` when the server cannot be reached."""
        try:
            info = self.client.info("server")
            memory = self.client.info("memory")
            before = time.time()
            seconds, micros = self.client.time()
            after = time.time()
        except Exception as exc:
            raise self._error("INFO", "", exc) from exc
        self._server_time = ((before + after) / 2, seconds + micros / 1e6)
        return {
            "version": str(info.get("redis_version", "?")),
            "maxmemory": str(memory.get("maxmemory_human", memory.get("maxmemory", "?"))),
            "maxmemory policy": str(memory.get("maxmemory_policy", "?")),
        }

    def close(self) -> None:
        try:
            self.client.close()
        except Exception:
            pass

    def _error(self, operation: str, key: str, exc: Exception) -> StorageError:
        import redis.exceptions as rex

        code = getattr(exc, "status_code", None) or ""
        if not code:
            if isinstance(exc, rex.TimeoutError):
                code = "Timeout"
            elif isinstance(exc, rex.AuthenticationError):
                code = "AuthenticationError"
            elif isinstance(exc, rex.ConnectionError):
                code = "ConnectionError"
            elif isinstance(exc, rex.ResponseError):
                code = "ERR"
            else:
                code = type(exc).__name__
        message = str(exc) or type(exc).__name__
        if isinstance(exc, rex.TimeoutError):
            message += f" (socket timeout {self.socket_timeout:g} s)"
        return StorageError(
            self.name,
            operation,
            _scrub(message, self.url),
            code=str(code),
            location=self.location(key) if key else self.safe_url,
        )


def _unknown_command(exc: Exception) -> bool:
    import redis.exceptions as rex

    return isinstance(exc, rex.ResponseError) and "unknown command" in str(exc).lower()


def redact_url(url: str) -> str:
    """``url`` with any password replaced by ``***`` (user names stay)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unreadable Redis URL>"
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    netloc = f"{parts.username or ''}:***@{host}" + (f":{port}" if port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def _scrub(text: str, url: str) -> str:
    try:
        password = urlsplit(url).password
    except ValueError:
        password = None
    return text.replace(password, "***") if password else text


def create(settings: Any) -> RedisBackend | None:
    """The Redis backend the configuration asks for, or None without a URL."""
    url = settings.value(names.REDIS_URL)
    if not url:
        return None
    jobs = settings.integer(names.SERVER_JOBS) or 2 * (os.cpu_count() or 1)
    prefix = settings.value(names.REDIS_KEY_PREFIX)
    return RedisBackend(
        url,
        prefix="pycache/" if prefix is None else prefix,
        ttl=settings.integer(names.REDIS_TTL),
        max_connections=jobs + EXTRA_CONNECTIONS,
    )
