"""pycache's own exit statuses, for its subcommands only.

A wrapped compile always exits with the compiler's status; these apply to
``pycache stats``, ``pycache doctor`` and the like.
"""

from __future__ import annotations

from ..errors import ConfigError, PluginError, PycacheError, StorageError, UsageError

OK = 0
FAILURE = 1  # a check failed (doctor), an operation could not complete
USAGE = 2  # wrong arguments
CONFIG = 3  # the configuration cannot be read
NOT_RUNNING = 4  # server status: no server for this configuration
INTERRUPTED = 130


def for_error(exc: PycacheError) -> int:
    if isinstance(exc, UsageError):
        return USAGE
    if isinstance(exc, ConfigError):
        return CONFIG
    if isinstance(exc, (PluginError, StorageError)):
        return FAILURE
    return FAILURE
