"""pycache's own exit statuses, for its subcommands only -- the one place
they are defined (README.md, "Exit status", lists them).

A wrapped compile always exits with the compiler's status; these apply to
``pycache stats``, ``pycache doctor`` and the like.
"""

from __future__ import annotations

import errno

from ..errors import ConfigError, PluginError, PycacheError, StorageError, UsageError

OK = 0
FAILURE = 1  # a check failed (doctor), an operation could not complete
USAGE = 2  # wrong arguments or options: typer's usage message
CONFIG = 3  # a setting is invalid, or the config file cannot be read
NOT_RUNNING = 4  # server status: no server for this configuration
ENVIRONMENT = 5  # a file or directory pycache needs cannot be used (permissions, a full disk)
INTERNAL = 70  # a bug in pycache (EX_SOFTWARE); PYCACHE_LOG=debug shows the traceback
NOT_FOUND = 127  # unknown command or compiler, as a shell says it
INTERRUPTED = 130  # Ctrl-C

#: For the README's table and ``pycache --help``.
MEANINGS = {
    OK: "success",
    FAILURE: "a check failed (doctor), or an operation could not complete",
    USAGE: "wrong arguments or options (typer's usage message)",
    CONFIG: "a setting is invalid, or the config file cannot be read",
    NOT_RUNNING: "`server status`: no server runs for this configuration",
    ENVIRONMENT: "a file or directory pycache needs cannot be used",
    INTERNAL: "an internal error (a bug: please report it)",
    NOT_FOUND: "unknown command or compiler",
    INTERRUPTED: "interrupted",
}


def for_error(exc: PycacheError) -> int:
    if isinstance(exc, UsageError):
        return USAGE
    if isinstance(exc, ConfigError):
        return CONFIG
    if isinstance(exc, (PluginError, StorageError)):
        return FAILURE
    return FAILURE


def for_os_error(exc: OSError) -> int:
    return INTERRUPTED if exc.errno == errno.EINTR else ENVIRONMENT
