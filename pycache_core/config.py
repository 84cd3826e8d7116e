"""Effective configuration: environment over the TOML file over defaults.

Every setting is named by its environment variable (`pycache_core.env`). In
the TOML file the same setting is the variable's name in lower case without
the ``PYCACHE_`` prefix::

    dir = "/var/cache/pycache"
    cache_size = "20G"
    bucket = "my-team-cache"
    s3_endpoint = "http://127.0.0.1:8333"

`Config.value` returns the string form; typed accessors parse it. Each value
remembers where it came from, for ``pycache config``.

Besides settings, the file may hold the tables named in `TABLES`, each read
by the plugin that owns it (``[opendal]``, ``[opendal.<tier>]``: the tiers of
pycache-opendal); `Config.table` hands one over as parsed. Any other table,
like any unknown setting, is refused.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from . import env as names
from .errors import ConfigError

PREFIX = "PYCACHE_"


def _user_cache_dir() -> str:
    import platformdirs

    return os.path.join(platformdirs.user_cache_dir("pycache", appauthor=False), "")[:-1]


#: Top-level tables the config file may hold, and who reads each one.
TABLES = {"opendal": "OpenDAL storage tiers (pycache-opendal)"}


# name -> (default, one-line meaning). A callable default is computed lazily.
SETTINGS: dict[str, tuple[object, str]] = {
    names.DIR: (_user_cache_dir, "local cache directory"),
    names.CACHE_SIZE: ("10G", "local size limit; least recently used entries go first"),
    names.BUCKET: (None, "S3 bucket; setting it turns on the S3 tier"),
    names.S3_KEY_PREFIX: ("", "key prefix inside the bucket"),
    names.S3_ENDPOINT: (None, "endpoint URL of an S3-compatible store"),
    names.S3_USE_SSL: ("true", "use HTTPS for the S3 endpoint"),
    names.S3_REGION: (None, "S3 region (else AWS_REGION / AWS_DEFAULT_REGION)"),
    names.S3_NO_CREDENTIALS: ("false", "anonymous, read-only access to a public cache"),
    names.S3_SSE: (None, "server-side encryption: AES256 or aws:kms"),
    names.S3_SSE_KMS_KEY_ID: (None, "KMS key id for aws:kms encryption"),
    names.S3_CONNECT_TIMEOUT: ("3", "seconds to connect to the S3 endpoint"),
    names.S3_READ_TIMEOUT: ("10", "seconds without a byte from S3 before a request is abandoned"),
    names.S3_MAX_ATTEMPTS: ("3", "tries per S3 request (botocore standard retry mode)"),
    names.REDIS_URL: (None, "Redis tier URL (redis://, rediss://, unix://)"),
    names.REDIS_KEY_PREFIX: ("pycache/", "key prefix in Redis"),
    names.REDIS_TTL: ("0", "seconds before a Redis entry expires (0 = never)"),
    names.READ_ONLY: ("false", "read shared tiers, never write them"),
    names.RECACHE: ("false", "ignore hits, compile and overwrite"),
    names.BASEDIRS: ("", "path prefixes stripped before hashing (separated like PATH)"),
    names.LOG: ("warning", "log level of the server"),
    names.LOG_FILE: (None, "log file of the server"),
    names.IDLE_TIMEOUT: ("600", "seconds before an idle server exits (0 = never)"),
    names.NO_SERVER: ("false", "run everything in the calling process"),
    names.DISABLE: ("false", "pass every call straight to the compiler"),
    names.DIRECT_MODE: ("true", "use manifests to hit without running the preprocessor"),
    names.UPLOAD_QUEUE: ("256", "uploads to shared tiers waiting at most"),
    names.UPLOAD_QUEUE_POLICY: ("wait", "when the upload queue is full: wait or drop"),
    names.SERVER_JOBS: ("0", "compiles the server runs at once (0 = 2 x CPUs)"),
    names.SERVER_TIMEOUT: ("30", "seconds a client waits on a silent server before compiling itself"),
    names.PREFIX_COMMAND: (None, "run each cache miss as PREFIX compiler args... (distcc, icecc); never in the key"),
}


@dataclass(frozen=True, slots=True)
class Setting:
    name: str
    value: str | None
    origin: str  # "environment", "config file <path>", "default"


class Config:
    """Settings for one process (the server, or a no-server call)."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self.environ = dict(os.environ if environ is None else environ)
        self.file = Path(names.config_file(self.environ))
        self._tables: dict[str, dict] = {}
        self._file_values = self._read_file()

    def _read_file(self) -> dict[str, str]:
        if not self.file.is_file():
            return {}
        try:
            import tomllib  # type: ignore[import-not-found]
        except ImportError:  # Python 3.10
            import tomli as tomllib  # type: ignore[no-redef]
        try:
            data = tomllib.loads(self.file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ConfigError(f"cannot read config file {self.file}: {exc}") from exc
        values = {}
        for key, value in data.items():
            if key in TABLES:
                if not isinstance(value, dict):
                    raise ConfigError(f"{key!r} in {self.file} must be a table ([{key}]), not {type(value).__name__}")
                self._tables[key] = value
                continue
            name = PREFIX + key.upper()
            if name not in SETTINGS:
                known = ", ".join(sorted(k[len(PREFIX):].lower() for k in SETTINGS))
                raise ConfigError(f"unknown setting {key!r} in {self.file} (known: {known}; tables: {', '.join(TABLES)})")
            values[name] = str(value).lower() if isinstance(value, bool) else str(value)
        return values

    def table(self, name: str) -> dict:
        """The config file's table ``[name]`` as parsed (empty without one);
        only names in `TABLES` exist."""
        if name not in TABLES:
            raise KeyError(f"no table {name!r} is known (known: {', '.join(TABLES)})")
        import copy

        return copy.deepcopy(self._tables.get(name, {}))

    def setting(self, name: str) -> Setting:
        if name in self.environ:
            return Setting(name, self.environ[name], "environment")
        if name in self._file_values:
            return Setting(name, self._file_values[name], f"config file {self.file}")
        default = SETTINGS.get(name, (None, ""))[0]
        if callable(default):
            default = default()
        return Setting(name, default, "default")  # type: ignore[arg-type]

    def value(self, name: str) -> str | None:
        return self.setting(name).value

    def flag(self, name: str) -> bool:
        return names.is_true(self.value(name))

    def integer(self, name: str) -> int:
        raw = self.value(name) or "0"
        try:
            return int(raw)
        except ValueError as exc:
            raise ConfigError(f"{name}={raw!r} is not a whole number") from exc

    def all(self) -> list[Setting]:
        return [self.setting(name) for name in SETTINGS]

    # --- typed accessors ---------------------------------------------------

    @property
    def cache_dir(self) -> Path:
        return Path(self.value(names.DIR) or _user_cache_dir()).expanduser()

    @property
    def cache_size(self) -> int:
        return parse_size(self.value(names.CACHE_SIZE) or "10G")


_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMGT]?)(i?B?)?\s*$", re.IGNORECASE)


def parse_size(text: str) -> int:
    """``500M``, ``10G``, ``1.5GiB``, ``1048576`` -> bytes (powers of 1024)."""
    match = _SIZE.match(text)
    if not match:
        raise ConfigError(f"cannot read size {text!r}: use a number with K, M, G or T, e.g. 500M or 10G")
    number, unit = float(match.group(1)), match.group(2).upper()
    return int(number * 1024 ** " KMGT".index(unit or " "))
