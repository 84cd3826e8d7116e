"""Which environment variables enter a rustc key, and which must not.

rustc exposes the whole environment to the crate: ``env!``/``option_env!``
reads are reported in dep-info (``# env-dep:``) and keyed from there; a
proc-macro may read any variable without rustc noticing, and cargo's
per-crate ``CARGO_*`` variables are what proc-macros read in practice
(``CARGO_MANIFEST_DIR``, ``CARGO_PKG_NAME``, ...). So every ``CARGO_*``
variable enters the key, except:

- scheduling noise that never changes an output (the jobserver in
  ``CARGO_MAKEFLAGS``, ``CARGO_BUILD_JOBS``, terminal and network settings);
- cargo configuration already reflected in rustc's arguments
  (``CARGO_BUILD_*``, ``CARGO_PROFILE_*``, ``CARGO_TARGET_<triple>_*``,
  ``CARGO_INCREMENTAL``);
- anything that looks like a secret (tokens, passwords, credentials): keys
  and ``pycache explain`` must never carry one.

Beyond ``CARGO_*``, the variables rustc itself reads are keyed by name.

What a proc-macro (or a wrapper script) reads through ``std::env::var`` is
invisible to rustc and cargo. ``PYCACHE_RUSTC_ENV`` names such variables --
names or globs (``MY_MACRO_*``), separated by commas, whitespace or the
``PATH`` separator -- and each one enters every rustc key: its value, or
"unset" for a name given without a glob that the call does not have.
"""

from __future__ import annotations

import fnmatch
import os
import re
from collections.abc import Mapping

#: Variables rustc itself reads while compiling (not through the crate).
RUSTC_ENV = (
    "RUSTC_BOOTSTRAP",  # unlocks unstable features: changes what compiles
    "RUSTC_FORCE_RUSTC_VERSION",  # enters crate metadata
    "RUST_TARGET_PATH",  # where --target NAME finds NAME.json
    "RUSTC_LOG",  # adds log lines to stderr
    "SDKROOT",
    "MACOSX_DEPLOYMENT_TARGET",
    "IPHONEOS_DEPLOYMENT_TARGET",
    "TVOS_DEPLOYMENT_TARGET",
    "WATCHOS_DEPLOYMENT_TARGET",
    "XROS_DEPLOYMENT_TARGET",
)

_EXCLUDED = frozenset(
    {
        "CARGO",  # the toolchain's cargo binary: covered by the toolchain fingerprint
        "CARGO_MAKEFLAGS",
        "CARGO_BUILD_JOBS",
        "CARGO_INCREMENTAL",
        "CARGO_TARGET_DIR",
        "CARGO_CACHE_RUSTC_INFO",
        "CARGO_LOG",
    }
)
_EXCLUDED_PREFIXES = (
    "CARGO_TERM_",
    "CARGO_HTTP_",
    "CARGO_NET_",
    "CARGO_REGISTRIES_",
    "CARGO_REGISTRY_",
    "CARGO_LOG_",
    "CARGO_BUILD_",
    "CARGO_PROFILE_",
    "CARGO_ALIAS_",
    "CARGO_FUTURE_INCOMPAT_REPORT_",
    "CARGO_CARGO_NEW_",
    "CARGO_SOURCE_",
    "CARGO_INSTALL_",
)
_TARGET_CONFIG = re.compile(r"CARGO_TARGET_[A-Z0-9_]+_(LINKER|RUNNER|RUSTFLAGS|RUSTDOCFLAGS|AR)")
_SECRET = re.compile(r"TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|PRIVATE_KEY", re.IGNORECASE)

#: Variables whose values are paths: made portable in keys (when outputs
#: do not embed them verbatim; see dependencies.py).
_PATH_VALUED = frozenset(
    {"CARGO_HOME", "CARGO_MANIFEST_DIR", "CARGO_MANIFEST_PATH", "CARGO_TARGET_TMPDIR", "CARGO_RUSTC_CURRENT_DIR", "OUT_DIR"}
)

#: Jobserver variables: they name file descriptors of the calling process,
#: which a compile run elsewhere (in the server) does not have.
JOBSERVER_VARIABLES = ("CARGO_MAKEFLAGS", "MAKEFLAGS", "MFLAGS")


#: The per-call setting naming extra variables for every rustc key.
EXTRA_ENV = "PYCACHE_RUSTC_ENV"
_EXTRA_SEPARATORS = re.compile(r"[,\s" + re.escape(os.pathsep) + r"]+")
_GLOB = re.compile(r"[*?\[]")


def extra_variables(env: Mapping[str, str]) -> list[tuple[str, str | None]]:
    """(name, value or None when unset) of every variable ``PYCACHE_RUSTC_ENV``
    names in this call, sorted by name. A glob matches the call's variables
    (case-sensitively, as variable names are); a plain name is keyed even when
    it is unset, so that setting it later misses."""
    patterns = [p for p in _EXTRA_SEPARATORS.split(env.get(EXTRA_ENV, "")) if p]
    found: dict[str, str | None] = {}
    for pattern in patterns:
        if _GLOB.search(pattern):
            found.update((n, env[n]) for n in env if fnmatch.fnmatchcase(n, pattern))
        else:
            found[pattern] = env.get(pattern)
    return sorted(found.items())


def is_secret(name: str) -> bool:
    return bool(_SECRET.search(name))


def keyed_cargo_variable(name: str) -> bool:
    if not name.startswith("CARGO_") or name in _EXCLUDED or is_secret(name):
        return False
    if name.startswith(_EXCLUDED_PREFIXES) or _TARGET_CONFIG.fullmatch(name):
        return False
    return True


def is_path_valued(name: str) -> bool:
    return name in _PATH_VALUED or name.startswith("CARGO_BIN_EXE_")


def keyed_variables(env: Mapping[str, str]) -> list[str]:
    """Names of the caller's variables that enter the key, sorted."""
    names = [n for n in env if keyed_cargo_variable(n)]
    names.extend(n for n in RUSTC_ENV if n in env)
    return sorted(set(names))


def uses_fd_jobserver(value: str) -> bool:
    """A make/cargo jobserver passed as inherited file descriptors (not a
    named fifo, which any process can open)."""
    for word in value.split():
        if word.startswith(("--jobserver-fds=", "--jobserver-auth=")) and "fifo:" not in word:
            return True
    return False


def run_environment(env: Mapping[str, str]) -> dict[str, str] | None:
    """The caller's environment without a jobserver the compile cannot reach
    (rustc would warn "failed to connect to jobserver" into the stored
    stderr); None when nothing needs to change."""
    drop = [n for n in JOBSERVER_VARIABLES if n in env and uses_fd_jobserver(env[n])]
    if not drop:
        return None
    return {k: v for k, v in env.items() if k not in drop}
