"""One OpenDAL tier as a `pycache_core.api.StorageBackend`.

Each tier is an ``opendal.Operator`` for its scheme and options, wrapped in
OpenDAL's own layers: a ``TimeoutLayer`` (``timeout`` seconds for a request,
``io_timeout`` without progress on a read or write) inside a ``RetryLayer``
(``retries`` retries of temporary failures -- 5xx, dropped connections,
timeouts, throttling -- with jittered backoff from 0.1 s to 1 s). A dead
service fails in milliseconds, a hung one after ``timeout`` seconds times
the attempts; the tiers then suspend it (`pycache_core.storage.tiers`).

The blocking operator is shared by the server's threads: its calls release
the GIL while they wait on the network. Keys are ``<key_prefix><key>``
under the service's own ``root``. A missing key is a miss; a missing bucket
or container is an error. A write the service refuses because the key is
already there (the GitHub Actions cache never overwrites) counts as stored:
keys name their content. Services that cannot delete (ghac) make
``remove`` a no-op.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from pycache_core.errors import ConfigError, StorageError

from . import errors
from .credentials import credential_source, is_secret
from .settings import TierSpec, read_tiers

log = logging.getLogger("pycache.storage.opendal")

#: Backoff between retries (seconds): OpenDAL's RetryLayer.
RETRY_MIN_DELAY = 0.1
RETRY_MAX_DELAY = 1.0


def service_options(scheme: str) -> frozenset[str] | None:
    """The options the installed OpenDAL knows for ``scheme`` (from its typed
    ``opendal.config`` dictionaries), or None when it does not list them."""
    try:
        import opendal.config as typed
    except ImportError:
        return None
    for value in vars(typed).values():
        annotations = getattr(value, "__annotations__", None)
        if not isinstance(value, type) or not annotations or "scheme" not in annotations:
            continue
        if f'"{scheme}"' in str(annotations["scheme"]) or f"'{scheme}'" in str(annotations["scheme"]):
            return frozenset(name for name in annotations if name != "scheme")
    return None


class OpenDALBackend:
    """One configured OpenDAL service (see the module's docstring)."""

    def __init__(self, spec: TierSpec, environ: Mapping[str, str] | None = None) -> None:
        import opendal
        from opendal.layers import RetryLayer, TimeoutLayer

        self.spec = spec
        self.name = spec.name
        self.tier = spec.tier
        self.scheme = spec.scheme
        self.prefix = spec.key_prefix
        self.environ = dict(os.environ if environ is None else environ)
        options = {option: value.text for option, value in spec.options.items()}
        known = service_options(spec.scheme)
        if known is not None:
            unknown = sorted(set(options) - known)
            if unknown:
                listed = ", ".join(f"{o} ({spec.options[o].origin})" for o in unknown)
                raise ConfigError(
                    f"tier {self.name}: {spec.scheme} has no option {listed}; its options are "
                    f"{', '.join(sorted(known))}, and pycache's own: scheme, key_prefix, read_only, tier, timeout, io_timeout, retries"
                )
        self._where = errors.Where(
            tier=self.name,
            scheme=self.scheme,
            endpoint=options.get("endpoint", ""),
            credentials=self.credential_source(),
            timeout=spec.timeout,
            io_timeout=spec.io_timeout,
            attempts=spec.retries + 1,
            secrets=tuple(v for o, v in options.items() if is_secret(o)),
        )
        try:
            operator = opendal.Operator(spec.scheme, **options)
            operator = operator.layer(TimeoutLayer(timeout=spec.timeout, io_timeout=spec.io_timeout))
            if spec.retries:
                operator = operator.layer(
                    RetryLayer(max_times=spec.retries, factor=2.0, jitter=True, min_delay=RETRY_MIN_DELAY, max_delay=RETRY_MAX_DELAY)
                )
            capability = operator.capability()
        except Exception as exc:
            raise errors.translate(exc, self._where, "OPEN", self._target()) from exc
        self._operator = operator
        self.can_write = bool(capability.write)
        self.can_delete = bool(capability.delete)
        self.writable = self.can_write and not spec.read_only

    # --- where things are -------------------------------------------------------

    def _target(self) -> str:
        options = {o: v.text for o, v in self.spec.options.items()}
        place = options.get("bucket") or options.get("container") or ""
        if not place and options.get("endpoint"):
            parts = urlsplit(options["endpoint"])
            place = (parts.netloc + parts.path.rstrip("/")) or options["endpoint"]
        root = options.get("root", "").strip("/")
        return f"{self.scheme}://{place}" + (f"/{root}" if root else "")

    def path(self, key: str) -> str:
        return f"{self.prefix}{key}"

    def location(self, key: str) -> str:
        return f"{self._target()}/{self.path(key)}"

    # --- StorageBackend ----------------------------------------------------------

    def get(self, key: str) -> bytes | None:
        try:
            return bytes(self._operator.read(self.path(key)))
        except Exception as exc:
            error = errors.translate(exc, self._where, "GET", self.location(key))
            if errors.is_not_found(exc) and error.code not in errors.MISSING_CONTAINER:
                return None
            raise error from exc

    def put(self, key: str, data: bytes) -> None:
        if not self.writable:
            why = "read_only is set" if self.spec.read_only else f"{self.scheme} cannot write"
            raise StorageError(self.name, "PUT", f"this tier is read-only ({why})", code="ReadOnly", location=self.location(key))
        try:
            self._operator.write(self.path(key), data)
        except Exception as exc:
            if errors.is_already_there(exc):
                log.debug("%s already holds %s: kept", self.name, key)
                return
            raise errors.translate(exc, self._where, "PUT", self.location(key)) from exc

    def remove(self, key: str) -> None:
        if not self.can_delete:
            log.debug("%s cannot delete (%s): %s stays", self.name, self.scheme, key)
            return
        try:
            self._operator.delete(self.path(key))
        except Exception as exc:
            if not errors.is_not_found(exc):
                raise errors.translate(exc, self._where, "DELETE", self.location(key)) from exc

    def describe(self) -> Mapping[str, str]:
        spec = self.spec
        info = {
            "scheme": f"{spec.scheme} ({spec.origins.get('scheme', '')})",
            "location": self._target(),
            "key prefix": spec.key_prefix or "(none)",
            "credentials": self.credential_source(),
        }
        for option, value in sorted(spec.options.items()):
            shown = "***" if is_secret(option) else value.text
            info[f"option {option}"] = f"{shown} ({value.origin})"
        info["timeouts"] = (
            f"{spec.timeout:g} s per request, {spec.io_timeout:g} s per read or write, {spec.retries} retries"
        )
        can = [word for word, yes in (("read", True), ("write", self.can_write), ("delete", self.can_delete)) if yes]
        info["capabilities"] = ", ".join(can)
        if not self.writable:
            info["writable"] = "no (read_only is set)" if spec.read_only else f"no ({spec.scheme} cannot write)"
        return info

    def credential_source(self) -> str:
        return credential_source(self.scheme, self.spec.options, self.environ)


def open_tiers(settings: Any) -> list[OpenDALBackend | StorageError] | None:
    """Every OpenDAL tier the configuration names, opened; a tier that cannot
    be opened comes back as its `StorageError` (the core reports it and goes
    on without that tier; the others still serve). None when none is named."""
    specs = read_tiers(settings)
    if not specs:
        return None
    environ = getattr(settings, "environ", None)
    opened: list[OpenDALBackend | StorageError] = []
    for spec in specs:
        try:
            opened.append(OpenDALBackend(spec, environ))
        except StorageError as exc:
            opened.append(exc)
        except ConfigError as exc:
            opened.append(StorageError(spec.name, "OPEN", str(exc), code="ConfigError", location=spec.scheme))
    return opened
