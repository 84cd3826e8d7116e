"""The plugin's hook: one storage kind, ``opendal``, whose ``create`` opens
every OpenDAL tier the configuration names (heavy work deferred to it)."""

from __future__ import annotations

from pycache_core.api import StorageBackendType, hookimpl

from .settings import DEFAULT_TIER


def _create(settings):
    from .backend import open_tiers

    return open_tiers(settings)


@hookimpl
def pycache_register_storage_backends() -> list[StorageBackendType]:
    return [StorageBackendType(name="opendal", tier=DEFAULT_TIER, create=_create, shared=True)]
