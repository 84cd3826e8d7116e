"""`Engine`: what one process keeps to serve compiles -- plugins, storage,
file digests, compiler identities, statistics -- and its two doors,
`compile` (`pycache_core.pipeline.compile`) and `explain`
(`pycache_core.pipeline.explain`).

Thread-safe: the server calls `compile` from many threads at once.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Mapping

from .. import env as names
from ..api import CompilerIdentity
from ..config import Config
from ..digests import FileDigests
from ..plugins import PluginHost, build_host
from ..stats import StatsDelta, StatsFile
from ..storage.tiers import Tier, TieredStore, open_backends
from .accounting import StatsAccounting
from .call import CompileReply, CompileRequest
from .compile import compile_request
from .explain import explain
from .manifests import DecodedManifests

log = logging.getLogger("pycache")
# Where no handler is configured (a compile with PYCACHE_NO_SERVER, `pycache
# explain`), records go nowhere rather than to logging's last-resort stderr
# handler: a compile's stderr is the compiler's alone, and explain reports
# faults itself. The server configures real handlers (`server.configure_logging`).
log.addHandler(logging.NullHandler())


class IdentityMemo:
    """Compiler identities by (family, path, stat signature of the file the
    path leads to), each valid while what it names beyond the driver holds: the
    values of its variables, the digests of its other files, the absence of
    the paths that would shadow them (`CompilerIdentity`). A toolchain is
    probed again when its executable or one of those changes."""

    #: identities kept per executable (one per PATH seen, say)
    PER_SIGNATURE = 8

    def __init__(self, digests: FileDigests) -> None:
        self._known: dict[tuple, list[tuple[tuple, CompilerIdentity]]] = {}
        self._digests = digests
        self._lock = threading.Lock()

    def get(self, signature: tuple, env: Mapping[str, str]) -> CompilerIdentity | None:
        with self._lock:
            known = list(self._known.get(signature, ()))
        for values, identity in known:
            if values == _values(identity, env) and self._holds(identity):
                return identity
        return None

    def remember(self, signature: tuple, identity: CompilerIdentity, env: Mapping[str, str]) -> None:
        values = _values(identity, env)
        with self._lock:
            known = [(v, i) for v, i in self._known.get(signature, ()) if v != values]
            self._known[signature] = [(values, identity), *known][: self.PER_SIGNATURE]

    def _holds(self, identity: CompilerIdentity) -> bool:
        for path, digest in identity.files:
            if self._digests.digest_or_none(path) != digest:
                log.info("%s: %s changed; probing the toolchain again", identity.path, path)
                return False
        if identity.absent and self._digests.any_exists(map(os.fspath, identity.absent)):
            log.info("%s: a toolchain part appeared where it would be found first; probing again", identity.path)
            return False
        for directory, digest in identity.directories:
            if self._digests.listing_digest(directory) != digest:
                log.info("%s: the entries of %s changed; probing the toolchain again", identity.path, directory)
                return False
        return True


def _values(identity: CompilerIdentity, env: Mapping[str, str]) -> tuple[str | None, ...]:
    return tuple(env.get(name) for name in identity.env_names)


class Engine:
    """Everything one process needs to serve compiles."""

    def __init__(self, config: Config, host: PluginHost | None = None, store: TieredStore | None = None) -> None:
        self.config = config
        self.host = host or build_host(strict=config.flag(names.STRICT_PLUGINS))
        self.digests = FileDigests()
        self.manifests = DecodedManifests()
        self.identities = IdentityMemo(self.digests)
        self.stats = StatsFile(config.cache_dir)
        self.store = store or self._build_store()
        self.accounting = StatsAccounting(self.stats, self.store)
        self.direct_mode = config.flag(names.DIRECT_MODE)
        self.depend_mode = config.flag(names.DEPEND_MODE)
        for error in self.host.load_errors:
            log.error("plugin %s: %s", error.plugin, error.message)

    def compile(self, request: CompileRequest) -> CompileReply:
        """Serve one wrapped call (never raises; counted in the statistics)."""
        return compile_request(self, request)

    def explain(self, request: CompileRequest) -> dict:
        """What the key of a call is made of and why it would miss (counts nothing)."""
        return explain(self, request)

    def _build_store(self) -> TieredStore:
        tiers = []
        for opened in open_backends(self.host.storage_types, self.config):
            if opened.backend is None:
                log.error("storage backend %s could not be created: %s", opened.name, opened.error)
                delta = StatsDelta()
                delta.error(f"storage:{opened.name}", f"cannot create backend {opened.name}: {opened.error}")
                self.stats.merge(delta)
                continue
            tiers.append(Tier(backend=opened.backend, shared=opened.kind.shared))
        return TieredStore.from_config(tiers, self.config)
