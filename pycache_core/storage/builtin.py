"""The storage backends that ship with the core, registered like any plugin's.

This module is the ``pycache-storage`` entry point of the core distribution,
so local disk, Redis and S3 arrive through `pycache_register_storage_backends`
exactly as a third party's GCS or WebDAV backend would.
"""

from __future__ import annotations

from ..api import StorageBackendType, hookimpl
from ..config import Config


def _local(settings: Config):
    from .local import LocalDiskBackend

    return LocalDiskBackend(settings.cache_dir, settings.cache_size)


def _redis(settings: Config):
    from .redis_backend import create

    return create(settings)


def _s3(settings: Config):
    from .s3 import create

    return create(settings)


@hookimpl
def pycache_register_storage_backends() -> list[StorageBackendType]:
    return [
        StorageBackendType(name="local", tier=0, create=_local, shared=False),
        StorageBackendType(name="redis", tier=10, create=_redis, shared=True),
        StorageBackendType(name="s3", tier=20, create=_s3, shared=True),
    ]
