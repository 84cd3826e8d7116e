"""Names of every environment variable pycache reads, in one table.

Imported by the per-compile client: standard library only, no side effects.
The meaning and default of each variable is documented in README.md
("Configuration"); `pycache config` prints the effective values.
"""

import sys

try:  # the builtin module, not os: the per-compile client never imports os
    from posix import stat as _stat
except ImportError:  # pragma: no cover - Windows
    from nt import stat as _stat

CONFIG = "PYCACHE_CONFIG"
DIR = "PYCACHE_DIR"
CACHE_SIZE = "PYCACHE_CACHE_SIZE"
BUCKET = "PYCACHE_BUCKET"
S3_KEY_PREFIX = "PYCACHE_S3_KEY_PREFIX"
S3_ENDPOINT = "PYCACHE_S3_ENDPOINT"
S3_USE_SSL = "PYCACHE_S3_USE_SSL"
S3_REGION = "PYCACHE_S3_REGION"
S3_NO_CREDENTIALS = "PYCACHE_S3_NO_CREDENTIALS"
S3_SSE = "PYCACHE_S3_SSE"
S3_SSE_KMS_KEY_ID = "PYCACHE_S3_SSE_KMS_KEY_ID"
S3_CONNECT_TIMEOUT = "PYCACHE_S3_CONNECT_TIMEOUT"
S3_READ_TIMEOUT = "PYCACHE_S3_READ_TIMEOUT"
S3_MAX_ATTEMPTS = "PYCACHE_S3_MAX_ATTEMPTS"
REDIS_URL = "PYCACHE_REDIS_URL"
REDIS_KEY_PREFIX = "PYCACHE_REDIS_KEY_PREFIX"
REDIS_TTL = "PYCACHE_REDIS_TTL"
READ_ONLY = "PYCACHE_READ_ONLY"
RECACHE = "PYCACHE_RECACHE"
BASEDIRS = "PYCACHE_BASEDIRS"
LOG = "PYCACHE_LOG"
LOG_FILE = "PYCACHE_LOG_FILE"
IDLE_TIMEOUT = "PYCACHE_IDLE_TIMEOUT"
NO_SERVER = "PYCACHE_NO_SERVER"
DISABLE = "PYCACHE_DISABLE"
DIRECT_MODE = "PYCACHE_DIRECT_MODE"
DEPEND_MODE = "PYCACHE_DEPEND_MODE"
UPLOAD_QUEUE = "PYCACHE_UPLOAD_QUEUE"
UPLOAD_QUEUE_POLICY = "PYCACHE_UPLOAD_QUEUE_POLICY"
SERVER_JOBS = "PYCACHE_SERVER_JOBS"
RUNTIME_DIR = "PYCACHE_RUNTIME_DIR"
SERVER_TIMEOUT = "PYCACHE_SERVER_TIMEOUT"
PREFIX_COMMAND = "PYCACHE_PREFIX_COMMAND"
STRICT_PLUGINS = "PYCACHE_STRICT_PLUGINS"

# Variables that shape the server process itself (its storage, limits and
# logging). A client whose values differ talks to a different server, so two
# builds with different caches never share one by accident. Per-call settings
# (RECACHE, BASEDIRS, DIRECT_MODE, DEPEND_MODE) travel with each request instead.
SERVER_SCOPED = (
    CONFIG,
    DIR,
    CACHE_SIZE,
    BUCKET,
    S3_KEY_PREFIX,
    S3_ENDPOINT,
    S3_USE_SSL,
    S3_REGION,
    S3_NO_CREDENTIALS,
    S3_SSE,
    S3_SSE_KMS_KEY_ID,
    S3_CONNECT_TIMEOUT,
    S3_READ_TIMEOUT,
    S3_MAX_ATTEMPTS,
    REDIS_URL,
    REDIS_KEY_PREFIX,
    REDIS_TTL,
    READ_ONLY,
    LOG,
    LOG_FILE,
    IDLE_TIMEOUT,
    UPLOAD_QUEUE,
    UPLOAD_QUEUE_POLICY,
    SERVER_JOBS,
    STRICT_PLUGINS,
    # boto3 reads these when the server builds its S3 client. Only a digest
    # of the values names the server, so a rotated secret or session token
    # starts a new server rather than reusing one holding expired keys.
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_PROFILE",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_EC2_METADATA_SERVICE_ENDPOINT",
    "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE",
    # Read by the services of the pycache-opendal plugin (Google Cloud,
    # Azure, the GitHub Actions cache) when the server opens its tiers.
    "GOOGLE_APPLICATION_CREDENTIALS",
    "AZURE_STORAGE_ACCOUNT",
    "AZURE_STORAGE_ACCOUNT_NAME",
    "AZURE_STORAGE_ACCOUNT_KEY",
    "AZURE_STORAGE_KEY",
    "AZURE_STORAGE_SAS_TOKEN",
    "AZURE_STORAGE_CONNECTION_STRING",
    "ACTIONS_CACHE_URL",
    "ACTIONS_RESULTS_URL",
    "ACTIONS_RUNTIME_TOKEN",
    "ACTIONS_CACHE_SERVICE_V2",
)

# Every variable starting with one of these is server-scoped too: the options
# of OpenDAL tiers (PYCACHE_OPENDAL_<OPTION>, PYCACHE_OPENDAL_<TIER>__<OPTION>)
# are open-ended, so they are matched by prefix.
SERVER_SCOPED_PREFIXES = ("PYCACHE_OPENDAL_",)

#: The configuration file's name inside the user's configuration directory.
CONFIG_FILE_NAME = "config.toml"


def config_file(environ):
    """The configuration file this environment reads: ``PYCACHE_CONFIG``, or
    ``config.toml`` in the platform's user configuration directory (what
    platformdirs' ``user_config_dir("pycache")`` names, computed here because
    the per-compile client must not import platformdirs)."""
    explicit = environ.get(CONFIG)
    if explicit:
        return explicit
    home = environ.get("HOME")  # the environment's own, not this process's
    if not home or sys.platform == "win32":
        import os  # off the per-compile path of a POSIX system with HOME set

        home = home or os.path.expanduser("~")
        if sys.platform == "win32":
            base = environ.get("LOCALAPPDATA") or os.path.join(environ.get("USERPROFILE") or home, "AppData", "Local")
            return os.path.join(base, "pycache", CONFIG_FILE_NAME)
    if sys.platform == "darwin":
        base = f"{home.rstrip('/')}/Library/Application Support"
    else:
        base = (environ.get("XDG_CONFIG_HOME") or "").strip() or f"{home.rstrip('/')}/.config"
    return f"{base.rstrip('/')}/pycache/{CONFIG_FILE_NAME}"


def server_scope(environ):
    """Everything that decides which storage and limits a server has, as one
    text: the server-scoped variables, every prefix-matched one, and the
    configuration file's identity (path, inode, size, modification time), so
    that editing the file starts a new server rather than reusing one that
    read the old contents. One ``stat``: cheap enough for every compile."""
    parts = [f"{n}={environ.get(n, '')}" for n in SERVER_SCOPED]
    parts += sorted(f"{n}={v}" for n, v in environ.items() if n.startswith(SERVER_SCOPED_PREFIXES))
    path = config_file(environ)
    try:
        st = _stat(path)
        stamp = f"{st.st_ino}:{st.st_size}:{st.st_mtime_ns}"
    except OSError:
        stamp = "absent"
    parts.append(f"config file {path}={stamp}")
    return "\0".join(parts)

TRUE_WORDS = frozenset({"1", "true", "yes", "on"})


def is_true(value: str | None) -> bool:
    """Read a boolean variable the way every PYCACHE_* flag is read."""
    return value is not None and value.strip().lower() in TRUE_WORDS
