"""One exception root for everything pycache raises on purpose.

The compile path turns every one of these into "run the compiler uncached",
counted under the error's ``kind``; CLI commands turn them into a message and
an exit status from `pycache_core.cli.exitcodes`.
"""

from __future__ import annotations

from dataclasses import dataclass, field


class PycacheError(Exception):
    """Base of pycache's own errors."""

    kind = "error"


class UsageError(PycacheError):
    kind = "usage"


class ConfigError(PycacheError):
    kind = "config"


class PluginError(PycacheError):
    kind = "plugin"


class ProbeError(PycacheError):
    """A compiler could not be identified."""

    kind = "probe"


class ProtocolError(PycacheError):
    """The client and server could not understand each other."""

    kind = "protocol"


class EntryError(PycacheError):
    """A stored entry is corrupt, truncated or of an unknown format."""

    kind = "corrupt-entry"


@dataclass
class StorageError(PycacheError):
    """A storage operation failed; carries what the service itself said.

    ``str()`` gives everything in one line, so a log or `pycache stats` shows
    e.g. ``s3 PUT s3://bucket/key: AccessDenied (HTTP 403): Access Denied
    [request id 1234; endpoint http://127.0.0.1:8333]``. ``hint`` is the
    backend's own advice for `pycache doctor` (what to check), kept out of
    ``str()`` so that logs carry facts only.
    """

    backend: str
    operation: str
    message: str
    code: str = ""
    status: int | None = None
    request_id: str = ""
    location: str = ""
    extra: dict[str, str] = field(default_factory=dict)
    hint: str = ""

    kind = "storage"

    def __post_init__(self) -> None:
        super().__init__(str(self))

    def __str__(self) -> str:
        head = f"{self.backend} {self.operation}"
        if self.location:
            head += f" {self.location}"
        what = self.code or "error"
        if self.status is not None:
            what += f" (HTTP {self.status})"
        tail = [f"request id {self.request_id}"] if self.request_id else []
        tail += [f"{k} {v}" for k, v in self.extra.items()]
        text = f"{head}: {what}: {self.message}"
        return text + (f" [{'; '.join(tail)}]" if tail else "")
