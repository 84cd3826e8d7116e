"""Which OpenDAL tiers the configuration asks for, and their options.

One tier, named ``opendal``::

    PYCACHE_OPENDAL_SCHEME=gcs PYCACHE_OPENDAL_BUCKET=team-cache ...

    [opendal]                      # in the config file, the same
    scheme = "gcs"
    bucket = "team-cache"

Several tiers, each named (``opendal.<name>`` in stats and doctor), with a
double underscore between the tier's name and the option in variables::

    [opendal.fast]                 # PYCACHE_OPENDAL_FAST__SCHEME=memcached
    scheme = "memcached"           # PYCACHE_OPENDAL_FAST__ENDPOINT=tcp://...
    endpoint = "tcp://cache.internal:11211"
    tier = 5                       # before Redis (10) and S3 (20)

    [opendal.gcs]
    scheme = "gcs"
    bucket = "team-cache"

A variable wins over the file, option by option. Every key of a tier is
passed to OpenDAL as a service option except pycache's own (`OWN_OPTIONS`):
``scheme``, ``key_prefix``, ``read_only``, ``tier``, ``timeout``,
``io_timeout``, ``retries``. An empty value counts as unset (CI systems
export absent secrets as empty strings).

Nothing here imports ``opendal``: the service options are checked against
the installed OpenDAL's own list when the tier is opened (`backend`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from pycache_core.env import TRUE_WORDS
from pycache_core.errors import ConfigError

TABLE = "opendal"
ENV_PREFIX = "PYCACHE_OPENDAL_"
#: Between a tier's name and an option in a variable: PYCACHE_OPENDAL_FAST__ENDPOINT.
SEPARATOR = "__"
#: Where OpenDAL tiers sit by default: after the local disk (0), Redis (10) and S3 (20).
DEFAULT_TIER = 30
#: Seconds for a request to be answered (OpenDAL's TimeoutLayer ``timeout``).
DEFAULT_TIMEOUT = 5.0
#: Seconds without progress on a read or write (TimeoutLayer ``io_timeout``).
DEFAULT_IO_TIMEOUT = 10.0
#: Retries of a temporary failure (RetryLayer: 5xx, dropped connections,
#: timeouts, throttling), with jittered backoff from 0.1 s up to 1 s.
DEFAULT_RETRIES = 2

OWN_OPTIONS = {
    "scheme": "the OpenDAL service: gcs, azblob, webdav, ghac, memcached, s3, oss, cos, ...",
    "key_prefix": "prefix of every key pycache stores (after the service's own root)",
    "read_only": "read this tier, never write it",
    "tier": f"place in the lookup order, above 0 (local disk 0, Redis 10, S3 20; default {DEFAULT_TIER})",
    "timeout": f"seconds for a request to be answered (default {DEFAULT_TIMEOUT:g})",
    "io_timeout": f"seconds without progress on a read or write (default {DEFAULT_IO_TIMEOUT:g})",
    "retries": f"retries of a temporary failure, with backoff (default {DEFAULT_RETRIES})",
}

_NAME = re.compile(r"^[a-z0-9]+(?:_[a-z0-9]+)*$")
_OPTION = re.compile(r"^[a-z][a-z0-9_]*$")
_FALSE_WORDS = frozenset({"0", "false", "no", "off"})


@dataclass(frozen=True, slots=True)
class Value:
    text: str
    origin: str  # "environment PYCACHE_OPENDAL_...", "config file ... [opendal.x]"


@dataclass(frozen=True, slots=True, kw_only=True)
class TierSpec:
    """One OpenDAL tier as configured."""

    name: str  # "opendal", or "opendal.<label>"
    label: str  # "" for the unnamed tier
    scheme: str
    options: dict[str, Value] = field(default_factory=dict)  # service options, for OpenDAL
    key_prefix: str = ""
    read_only: bool = False
    tier: int = DEFAULT_TIER
    timeout: float = DEFAULT_TIMEOUT
    io_timeout: float = DEFAULT_IO_TIMEOUT
    retries: int = DEFAULT_RETRIES
    origins: dict[str, str] = field(default_factory=dict)  # own option -> where it came from

    def variable(self, option: str) -> str:
        """The variable that sets ``option`` of this tier."""
        return variable(self.label, option)


def variable(label: str, option: str) -> str:
    return ENV_PREFIX + (f"{label.upper()}{SEPARATOR}" if label else "") + option.upper()


def _table_name(label: str) -> str:
    return f"[{TABLE}.{label}]" if label else f"[{TABLE}]"


def read_tiers(config: Any) -> list[TierSpec]:
    """Every OpenDAL tier ``config`` names, in order: the unnamed one, then
    named ones as the file lists them, then those only variables name (by
    name). Raises `ConfigError` naming every problem found."""
    problems: list[str] = []
    raw: dict[str, dict[str, Value]] = {}  # label -> option -> value

    table = config.table(TABLE) if hasattr(config, "table") else {}
    source = f"config file {getattr(config, 'file', '')}"
    for key, value in table.items():
        if isinstance(value, dict):
            label = key.lower()
            if not _NAME.match(label):
                problems.append(f"{_table_name(key)}: a tier's name is lower-case letters, digits and single underscores")
                continue
            entries = raw.setdefault(label, {})
            for option, item in value.items():
                _take(entries, option, item, f"{source} {_table_name(label)}", problems)
        else:
            _take(raw.setdefault("", {}), key, value, f"{source} {_table_name('')}", problems)

    environ = getattr(config, "environ", {})
    for name in sorted(environ):
        if not name.startswith(ENV_PREFIX):
            continue
        value = environ[name]
        rest = name[len(ENV_PREFIX):]
        label, option = rest.split(SEPARATOR, 1) if SEPARATOR in rest else ("", rest)
        label, option = label.lower(), option.lower()
        if label and not _NAME.match(label):
            problems.append(f"{name}: the tier's name {label!r} must be lower-case letters, digits and single underscores")
            continue
        _take(raw.setdefault(label, {}), option, value, f"environment {name}", problems, override=True)

    tiers = []
    for label, entries in raw.items():
        entries = {option: value for option, value in entries.items() if value.text != ""}
        if not entries:
            continue
        try:
            tiers.append(_spec(label, entries))
        except ConfigError as exc:
            problems.append(str(exc))
    if problems:
        raise ConfigError("OpenDAL tiers: " + "; ".join(problems))
    return tiers


def _take(entries: dict[str, Value], option: str, value: Any, origin: str, problems: list[str], override: bool = False) -> None:
    option = str(option).lower()
    if not _OPTION.match(option):
        problems.append(f"{origin}: {option!r} is not an option name")
        return
    if isinstance(value, (dict, list)):
        problems.append(f"{origin}: option {option!r} must be a string, number or boolean")
        return
    text = str(value).lower() if isinstance(value, bool) else str(value)
    if override or option not in entries:
        entries[option] = Value(text, origin)


def _spec(label: str, entries: dict[str, Value]) -> TierSpec:
    name = f"{TABLE}.{label}" if label else TABLE
    where = f"tier {name}"
    scheme = entries.pop("scheme", None)
    if scheme is None:
        given = ", ".join(sorted(f"{o} ({v.origin})" for o, v in entries.items()))
        raise ConfigError(
            f"{where} has options but no scheme ({given}): set {variable(label, 'scheme')} or scheme in {_table_name(label)}"
        )
    origins = {"scheme": scheme.origin}
    own: dict[str, Any] = {}
    for option in ("key_prefix", "read_only", "tier", "timeout", "io_timeout", "retries"):
        value = entries.pop(option, None)
        if value is None:
            continue
        origins[option] = value.origin
        own[option] = _own_value(where, option, value)
    return TierSpec(
        name=name,
        label=label,
        scheme=scheme.text.strip().lower(),
        options=entries,
        origins=origins,
        **own,
    )


def _own_value(where: str, option: str, value: Value) -> Any:
    text = value.text.strip()
    bad = f"{where}: {option}={text!r} ({value.origin})"
    if option == "key_prefix":
        prefix = text.strip("/")
        return f"{prefix}/" if prefix else ""
    if option == "read_only":
        if text.lower() in TRUE_WORDS:
            return True
        if text.lower() in _FALSE_WORDS:
            return False
        raise ConfigError(f"{bad} is not true or false")
    if option in ("tier", "retries"):
        try:
            number = int(text)
        except ValueError:
            raise ConfigError(f"{bad} is not a whole number") from None
        if option == "tier" and number <= 0:
            raise ConfigError(f"{bad}: the tier must be above 0 (the local disk is tier 0)")
        if option == "retries" and number < 0:
            raise ConfigError(f"{bad}: use 0 (no retries) or more")
        return number
    try:
        seconds = float(text)
    except ValueError:
        raise ConfigError(f"{bad} is not a number of seconds") from None
    if not seconds > 0 or seconds == float("inf"):
        raise ConfigError(f"{bad}: use a positive number of seconds")
    return seconds
