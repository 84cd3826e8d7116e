"""Effective configuration: environment over the TOML file over defaults.

Every setting is named by its environment variable (`pycache_core.env`). In
the TOML file the same setting is the variable's name in lower case without
the ``PYCACHE_`` prefix::

    dir = "/var/cache/pycache"
    cache_size = "20G"
    bucket = "my-team-cache"
    s3_endpoint = "http://127.0.0.1:8333"

`SETTINGS` is the one table of what each setting is: its kind (a size, a
count, seconds, a flag, one of some words, a URL, a path...), its default and
its meaning. Every reader goes through it: `Config.get` parses a value by
its kind and raises `ConfigError` naming the variable, where the value came
from and why it is refused; `Config.problems` checks every setting (and the
places they name: a cache directory that is a file, a runtime directory that
is not private, an explicit config file that does not exist) for
``pycache config``, ``pycache doctor`` and the server's start, which refuses
to run on any of them.

An empty variable counts as unset (CI systems export absent values as empty
strings), except for free text, where empty is a value (a key prefix).

Besides settings, the file may hold the tables named in `TABLES`, each read
by the plugin that owns it (``[opendal]``: pycache-opendal); `Config.table`
hands one over as parsed.
"""

from __future__ import annotations

import enum
import math
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from . import env as names
from .errors import ConfigError

PREFIX = "PYCACHE_"


def _user_cache_dir(_environ: Mapping[str, str]) -> str:
    import platformdirs

    return os.path.join(platformdirs.user_cache_dir("pycache", appauthor=False), "")[:-1]


def _user_config_file(environ: Mapping[str, str]) -> str:
    return names.config_file({k: v for k, v in environ.items() if k != names.CONFIG})


def _runtime_dir(environ: Mapping[str, str]) -> str:
    from .connection import default_runtime_dir

    return default_runtime_dir(environ)


def _server_log(environ: Mapping[str, str]) -> str:
    from .connection import server_log_path

    return server_log_path(environ)


class Kind(enum.Enum):
    """What a setting's text must look like; `_parse` handles every kind."""

    TEXT = "text"
    PATH = "path"
    PATHS = "paths"  # separated like PATH
    SIZE = "size"
    COUNT = "count"  # a whole number
    SECONDS = "seconds"
    FLAG = "flag"
    CHOICE = "choice"
    URL = "url"
    COMMAND = "command"  # words, split as a shell would


@dataclass(frozen=True, slots=True, kw_only=True)
class Spec:
    """One setting: its variable, kind, default and meaning."""

    name: str
    kind: Kind
    default: str | None | Callable[[Mapping[str, str]], str | None]
    meaning: str
    #: CHOICE: the words allowed (canonical spelling); URL: the schemes allowed.
    choices: tuple[str, ...] = ()
    #: COUNT, SECONDS: the smallest and largest values allowed.
    minimum: float = 0
    maximum: float | None = None
    #: Said of 0 where it has a meaning of its own ("never", "2 x CPUs").
    zero: str = ""

    @property
    def file_key(self) -> str:
        return self.name[len(PREFIX):].lower()


def _spec(name: str, kind: Kind, default, meaning: str, **more) -> tuple[str, Spec]:
    return name, Spec(name=name, kind=kind, default=default, meaning=meaning, **more)


LOG_LEVELS = ("debug", "info", "warning", "error", "critical")

SETTINGS: dict[str, Spec] = dict(
    [
        _spec(names.CONFIG, Kind.PATH, _user_config_file, "the configuration file (TOML)"),
        _spec(names.DIR, Kind.PATH, _user_cache_dir, "local cache directory"),
        _spec(names.CACHE_SIZE, Kind.SIZE, "10G", "local size limit; least recently used entries go first", zero="unlimited"),
        _spec(names.BUCKET, Kind.TEXT, None, "S3 bucket; setting it turns on the S3 tier"),
        _spec(names.S3_KEY_PREFIX, Kind.TEXT, "", "key prefix inside the bucket"),
        _spec(names.S3_ENDPOINT, Kind.URL, None, "endpoint URL of an S3-compatible store", choices=("http", "https")),
        _spec(names.S3_USE_SSL, Kind.FLAG, "true", "use HTTPS for the S3 endpoint"),
        _spec(names.S3_REGION, Kind.TEXT, None, "S3 region (else AWS_REGION / AWS_DEFAULT_REGION)"),
        _spec(names.S3_NO_CREDENTIALS, Kind.FLAG, "false", "anonymous, read-only access to a public cache"),
        _spec(names.S3_SSE, Kind.CHOICE, None, "server-side encryption: AES256 or aws:kms", choices=("AES256", "aws:kms")),
        _spec(names.S3_SSE_KMS_KEY_ID, Kind.TEXT, None, "KMS key id for aws:kms encryption"),
        _spec(names.S3_CONNECT_TIMEOUT, Kind.SECONDS, "3", "seconds to connect to the S3 endpoint", minimum=0.001),
        _spec(names.S3_READ_TIMEOUT, Kind.SECONDS, "10", "seconds without a byte from S3 before a request is abandoned",
              minimum=0.001),
        _spec(names.S3_MAX_ATTEMPTS, Kind.COUNT, "3", "tries per S3 request (botocore standard retry mode)", minimum=1),
        _spec(names.REDIS_URL, Kind.URL, None, "Redis tier URL (redis://, rediss://, unix://)",
              choices=("redis", "rediss", "unix")),
        _spec(names.REDIS_KEY_PREFIX, Kind.TEXT, "pycache/", "key prefix in Redis"),
        _spec(names.REDIS_TTL, Kind.COUNT, "0", "seconds before a Redis entry expires", zero="never"),
        _spec(names.READ_ONLY, Kind.FLAG, "false", "read shared tiers, never write them"),
        _spec(names.RECACHE, Kind.FLAG, "false", "ignore hits, compile and overwrite"),
        _spec(names.BASEDIRS, Kind.PATHS, "", "directories whose paths enter keys relative to them, named by their place (separated like PATH)"),
        _spec(names.DIRECT_MODE, Kind.FLAG, "true", "use manifests to hit without running the preprocessor"),
        _spec(names.DEPEND_MODE, Kind.FLAG, "true",
              "let a family key a miss from the compile's own dependency list, without a preprocessor run (needs direct mode)"),
        _spec(names.PREFIX_COMMAND, Kind.COMMAND, None,
              "run each cache miss as PREFIX compiler args... (distcc, icecc); never in the key"),
        _spec(names.LOG, Kind.CHOICE, "warning", "log level of the server", choices=LOG_LEVELS),
        _spec(names.LOG_FILE, Kind.PATH, _server_log, "log file of the server (its start-up errors always go to the default one)"),
        _spec(names.IDLE_TIMEOUT, Kind.COUNT, "600", "seconds before an idle server exits", zero="never"),
        _spec(names.SERVER_JOBS, Kind.COUNT, "0", "compiles the server runs at once", zero="2 x CPUs"),
        _spec(names.SERVER_TIMEOUT, Kind.SECONDS, "30", "seconds a client waits on a silent server before compiling itself",
              minimum=0.001, maximum=86400),
        _spec(names.UPLOAD_QUEUE, Kind.COUNT, "256", "uploads to shared tiers waiting at most", zero="upload synchronously"),
        _spec(names.UPLOAD_QUEUE_POLICY, Kind.CHOICE, "wait", "when the upload queue is full: wait or drop",
              choices=("wait", "drop")),
        _spec(names.NO_SERVER, Kind.FLAG, "false", "run everything in the calling process"),
        _spec(names.DISABLE, Kind.FLAG, "false", "pass every call straight to the compiler"),
        _spec(names.RUNTIME_DIR, Kind.PATH, _runtime_dir, "private directory of the server's socket, lock and log"),
        _spec(names.STRICT_PLUGINS, Kind.FLAG, "false", "a plugin that fails to load is an error (for plugin authors)"),
    ]
)

#: Top-level tables the config file may hold, and who reads each one: their
#: contents are checked by their owner (``pycache doctor`` shows its verdict).
TABLES = {"opendal": "OpenDAL storage tiers (pycache-opendal)"}
#: Variables of open-ended families, shown by ``pycache config`` with the tables.
TABLE_PREFIXES = {"opendal": names.SERVER_SCOPED_PREFIXES[0]}

#: Variables a family plugin reads from each call's environment (never from
#: the config file), documented by the plugin: known here so that `pycache
#: config` lists them and neither it nor `doctor` calls them unknown.
PLUGIN_CALL_VARIABLES = {"PYCACHE_RUSTC_ENV": "rustc plugin: extra variables in every rustc key (plugins/rustc/README.md)"}

_FALSE_WORDS = frozenset({"0", "false", "no", "off"})


@dataclass(frozen=True, slots=True)
class Setting:
    name: str
    value: str | None
    origin: str  # "environment", "config file <path>", "default"


@dataclass(frozen=True, slots=True)
class Problem:
    """A setting that cannot be used as it is, and why."""

    name: str
    value: str | None
    origin: str
    why: str
    warning: bool = False  # worth saying; ``pycache config`` and ``doctor`` still pass
    #: The server (and a command that needs the setting) refuses to run over it.
    fatal: bool = True

    def __str__(self) -> str:
        shown = "" if self.value is None else f"={self.value!r}"
        where = f" ({self.origin})" if self.origin else ""
        return f"{self.name}{shown}{where}: {self.why}"


class Config:
    """Settings for one process (the server, a CLI command, a no-server call).

    A config file that cannot be read raises `ConfigError` here, unless
    ``lenient``: then its fault is one of `problems` (``pycache config`` and
    ``doctor`` show everything else all the same).
    """

    def __init__(self, environ: Mapping[str, str] | None = None, *, lenient: bool = False) -> None:
        self.environ = dict(os.environ if environ is None else environ)
        explicit = self.environ.get(names.CONFIG)
        self.file_explicit = bool(explicit)
        self.file = Path(explicit or _user_config_file(self.environ)).expanduser()
        self._tables: dict[str, dict] = {}
        self._file_problems: list[Problem] = []
        self._file_values = self._read_file()
        fatal = [p for p in self._file_problems if p.fatal]
        if fatal and not lenient:
            raise ConfigError("; ".join(str(p) for p in fatal))

    def _read_file(self) -> dict[str, str]:
        origin = "set explicitly" if self.file_explicit else "default location"
        if not self.file.exists():
            if self.file_explicit:
                # Flagged by `pycache config` and `doctor`; nothing refuses to run
                # over it (settings come from the environment and defaults).
                self._file_problems.append(Problem(names.CONFIG, str(self.file), "environment",
                                                   "the file does not exist (it was set explicitly)", fatal=False))
            return {}
        if not self.file.is_file():
            self._file_problems.append(Problem(names.CONFIG, str(self.file), origin, "not a file"))
            return {}
        try:
            import tomllib  # type: ignore[import-not-found]
        except ImportError:  # Python 3.10
            import tomli as tomllib  # type: ignore[no-redef]
        try:
            data = tomllib.loads(self.file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            self._file_problems.append(Problem(names.CONFIG, str(self.file), origin, f"cannot read the file: {why}"))
            return {}
        values = {}
        where = f"config file {self.file}"
        for key, value in data.items():
            if key in TABLES:
                if isinstance(value, dict):
                    self._tables[key] = value
                else:
                    self._file_problems.append(
                        Problem(f"'{key}' in {self.file}", None, "", f"must be a table ([{key}]), not {type(value).__name__}")
                    )
                continue
            name = PREFIX + key.upper()
            if name not in SETTINGS or name == names.CONFIG:
                known = ", ".join(sorted(s.file_key for s in SETTINGS.values() if s.name != names.CONFIG))
                guess = _closest(key, [s.file_key for s in SETTINGS.values()] + list(TABLES))
                hint = f"did you mean {guess!r}? " if guess else ""
                self._file_problems.append(
                    Problem(key, None, where, f"unknown setting {key!r}; {hint}(known: {known}; tables: {', '.join(TABLES)})")
                )
                continue
            if isinstance(value, (dict, list)):
                self._file_problems.append(Problem(key, None, where, f"must be a single value, not a {type(value).__name__}"))
                continue
            values[name] = str(value).lower() if isinstance(value, bool) else str(value)
        return values

    def table(self, name: str) -> dict:
        """The config file's table ``[name]`` as parsed (empty without one);
        only names in `TABLES` exist."""
        if name not in TABLES:
            raise KeyError(f"no table {name!r} is known (known: {', '.join(TABLES)})")
        import copy

        return copy.deepcopy(self._tables.get(name, {}))

    # --- raw values ---------------------------------------------------------

    def setting(self, name: str) -> Setting:
        spec = SETTINGS.get(name)
        blank_is_unset = spec is not None and spec.kind is not Kind.TEXT
        raw = self.environ.get(name)
        if raw is not None and not (blank_is_unset and not raw.strip()):
            return Setting(name, raw, "environment")
        if name in self._file_values:
            return Setting(name, self._file_values[name], f"config file {self.file}")
        default = spec.default if spec is not None else None
        if callable(default):
            default = default(self.environ)
        return Setting(name, default, "default")

    def value(self, name: str) -> str | None:
        return self.setting(name).value

    def file_value(self, name: str) -> str | None:
        """The config file's own value of ``name``, None when it sets none.
        For a per-call setting that each call's environment overrides and
        the server's own environment must not leak into (``PYCACHE_BASEDIRS``)."""
        return self._file_values.get(name)

    def all(self) -> list[Setting]:
        return [self.setting(name) for name in SETTINGS]

    # --- typed values -------------------------------------------------------

    def get(self, name: str):
        """The setting parsed by its kind (None when unset); `ConfigError`
        names the variable, the value's origin and what is wrong."""
        setting = self.setting(name)
        if setting.value is None:
            return None
        try:
            return _parse(SETTINGS[name], setting.value)
        except ValueError as exc:
            raise ConfigError(str(Problem(name, setting.value, setting.origin, str(exc)))) from None

    def flag(self, name: str) -> bool:
        return bool(self.get(name)) if name in SETTINGS else names.is_true(self.value(name))

    def integer(self, name: str) -> int:
        if name in SETTINGS:
            return int(self.get(name) or 0)
        raw = self.value(name) or "0"
        try:
            return int(raw)
        except ValueError as exc:
            raise ConfigError(f"{name}={raw!r} is not a whole number") from exc

    def number(self, name: str) -> float:
        return float(self.get(name) or 0)

    @property
    def cache_dir(self) -> Path:
        return self.get(names.DIR)

    @property
    def cache_size(self) -> int:
        """Bytes; 0 means unlimited."""
        return self.get(names.CACHE_SIZE)

    # --- checks -----------------------------------------------------------------

    def problems(self) -> list[Problem]:
        """Every setting that cannot be used as it is, in table order, then
        warnings (unknown ``PYCACHE_*`` variables)."""
        found = list(self._file_problems)
        for name, spec in SETTINGS.items():
            setting = self.setting(name)
            if setting.value is None:
                continue
            try:
                value = _parse(spec, setting.value)
            except ValueError as exc:
                found.append(Problem(name, setting.value, setting.origin, str(exc)))
                continue
            why = _place_problem(spec, value, self.environ) if setting.origin != "default" or spec.name == names.DIR else ""
            if why:
                found.append(Problem(name, setting.value, setting.origin, why))
            if spec.kind is Kind.PATHS:
                relative = [p for p in value if not os.path.isabs(p)]
                if relative:
                    found.append(Problem(name, setting.value, setting.origin,
                                         f"not absolute: {', '.join(relative)} (taken relative to each call's directory)",
                                         warning=True, fatal=False))
        known_prefixes = tuple(TABLE_PREFIXES.values())
        for name in sorted(self.environ):
            if (name.startswith(PREFIX) and name not in SETTINGS and name not in PLUGIN_CALL_VARIABLES
                    and not name.startswith(known_prefixes)):
                guess = _closest(name, list(SETTINGS))
                hint = f"; did you mean {guess}?" if guess else ""
                found.append(Problem(name, None, "environment", f"not a pycache setting{hint}", warning=True, fatal=False))
        return found

    def check(self, only: tuple[str, ...] | None = None) -> None:
        """Raise `ConfigError` listing every problem (of ``only`` these
        settings, when given) that is not just a warning."""
        errors = [p for p in self.problems() if p.fatal and not p.warning and (only is None or p.name in only)]
        if errors:
            raise ConfigError("; ".join(str(p) for p in errors))


# --- parsing by kind ----------------------------------------------------------------


_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMGT]?)(i?B)?\s*$", re.IGNORECASE)
_BYTES = re.compile(r"^\s*(\d+)\s*B\s*$", re.IGNORECASE)
SIZE_FORM = "a size such as 500M, 10G or 1.5T (powers of 1024; a bare number is GiB, 0 means unlimited, 4096B is bytes)"


def parse_size(text: str) -> int:
    """``500M``, ``10G``, ``1.5GiB``, ``4096B`` -> bytes (powers of 1024).

    A bare number is GiB, as ccache reads it (``5`` is 5 GiB, never a 5-byte
    cache), and ``0`` means unlimited (returned as 0)."""
    text = text.strip()
    exact = _BYTES.match(text)
    if exact:
        return int(exact.group(1))
    match = _SIZE.match(text)
    if not match:
        raise ConfigError(f"cannot read size {text!r}: use {SIZE_FORM}")
    number, unit = float(match.group(1)), match.group(2).upper()
    return int(number * 1024 ** " KMGT".index(unit or "G"))


def _parse(spec: Spec, text: str):
    """``text`` as a value of ``spec``'s kind; ValueError says why not."""
    stripped = text.strip()
    kind = spec.kind
    if kind is Kind.TEXT:
        return text
    if kind is Kind.PATH:
        if not stripped:
            raise ValueError("empty path")
        return Path(stripped).expanduser()
    if kind is Kind.PATHS:
        return tuple(p for p in text.split(os.pathsep) if p.strip())
    if kind is Kind.SIZE:
        try:
            return parse_size(stripped)
        except ConfigError:
            raise ValueError(f"not a size: use {SIZE_FORM}") from None
    if kind is Kind.COUNT:
        zero = f", 0 for {spec.zero}" if spec.zero else ""
        try:
            number = int(stripped)
        except ValueError:
            raise ValueError(f"not a whole number: use e.g. {spec.default}{zero}") from None
        if number < spec.minimum:
            raise ValueError(f"must be at least {spec.minimum:g}{zero}")
        return number
    if kind is Kind.SECONDS:
        try:
            number = float(stripped)
        except ValueError:
            raise ValueError(f"not a number of seconds: use e.g. {spec.default}") from None
        if not math.isfinite(number) or number < spec.minimum:
            raise ValueError(f"must be more than 0 seconds (e.g. {spec.default})")
        if spec.maximum is not None and number > spec.maximum:
            raise ValueError(f"must be at most {spec.maximum:g} seconds")
        return number
    if kind is Kind.FLAG:
        word = stripped.lower()
        if word in names.TRUE_WORDS:
            return True
        if word in _FALSE_WORDS or not word:
            return False
        raise ValueError("not a boolean: use true or false (also 1/0, yes/no, on/off)")
    if kind is Kind.CHOICE:
        for choice in spec.choices:
            if stripped.lower() == choice.lower():
                return choice
        raise ValueError(f"not one of {', '.join(spec.choices)}")
    if kind is Kind.COMMAND:
        import shlex

        try:
            return tuple(shlex.split(text))
        except ValueError as exc:
            raise ValueError(f"cannot be split into words as a shell would: {exc}") from None
    if kind is Kind.URL:
        scheme, sep, rest = stripped.partition("://")
        if not sep or scheme.lower() not in spec.choices or not rest.strip("/"):
            raise ValueError(f"not a URL of scheme {', '.join(s + '://' for s in spec.choices)}")
        return stripped
    raise AssertionError(f"unhandled setting kind {kind}")  # pragma: no cover - every kind is handled above


def _place_problem(spec: Spec, value, environ: Mapping[str, str]) -> str:
    """What is wrong with the place a path setting names, or ""."""
    if spec.name == names.DIR:
        return _directory_problem(value)
    if spec.name == names.LOG_FILE:
        if value.is_dir():
            return "is a directory, not a file"
        if value.exists():
            return "" if os.access(value, os.W_OK) else "cannot be written (permission denied)"
        parent = value.parent
        if not parent.is_dir():
            return f"its directory {parent} does not exist"
        return "" if os.access(parent, os.W_OK | os.X_OK) else f"cannot be created: {parent} is not writable"
    if spec.name == names.RUNTIME_DIR:
        from .connection import runtime_dir

        try:
            directory = runtime_dir({**environ, names.RUNTIME_DIR: str(value)})
        except OSError as exc:
            return _os_why(exc)
        return "" if os.access(directory, os.W_OK | os.X_OK) else "is not writable: the server cannot create its socket"
    return ""


def _directory_problem(path: Path) -> str:
    """Why ``path`` cannot be (or become) a directory we write into, or ""."""
    if path.exists() and not path.is_dir():
        return "is a file, not a directory"
    existing = path
    while not existing.exists():
        if existing.parent == existing:
            break
        existing = existing.parent
    if not existing.is_dir():
        return f"cannot be created: {existing} is a file"
    if not os.access(existing, os.W_OK | os.X_OK):
        return "is not writable" if existing == path else f"cannot be created: {existing} is not writable"
    return ""


def _os_why(exc: OSError) -> str:
    return str(exc) if not exc.strerror else f"{exc.strerror}" + (f": {exc.filename}" if exc.filename else "")


def _closest(word: str, choices: list[str]) -> str:
    """The choice a typo most likely meant, or ""."""
    import difflib

    found = difflib.get_close_matches(word.upper() if word.isupper() else word, choices, n=1, cutoff=0.75)
    return found[0] if found else ""


_SECRET_WORDS = ("secret", "password", "token", "credential", "account_key", "sas_token", "access_key")


def mask_secret(name: str, value: str | None, *, by_name: bool = False) -> str | None:
    """A value fit to print: the password of a URL (``redis://:pw@host``) is
    blanked, and with ``by_name`` (open-ended options, like a table's) the
    whole value of an option whose name says it is a secret."""
    if value is None:
        return None
    if by_name and any(word in name.lower() for word in _SECRET_WORDS):
        return "****" if value else value
    return re.sub(r"(://[^/@:]*:)[^/@]*@", r"\1****@", value)
