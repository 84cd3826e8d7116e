"""Loading plugins and calling their hooks through one typed facade.

Entry points in group ``pycache.plugins`` are loaded one at a time: a plugin
that fails to import, or whose registration is invalid, is recorded in
``load_errors`` and skipped (``PYCACHE_STRICT_PLUGINS=1`` raises instead).
Nothing here runs at import time; a `PluginHost` is built explicitly.
`installed_libraries` lists the distributions plugins build on (they
require pycache but have no entry point), for `pycache plugins`.
"""

from __future__ import annotations

import logging
import re
import traceback
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from types import ModuleType
from typing import Any

import pluggy

from . import hookspecs
from .api import (
    API_VERSION,
    PROJECT,
    CompileResult,
    CompilerFamily,
    CompilerIdentity,
    Dependencies,
    Invocation,
    KeyComponent,
    NotCacheable,
    Outputs,
    ParsedInvocation,
    ParseOutcome,
    PluginContext,
    StorageBackendType,
)
from .errors import PluginError

ENTRY_POINT_GROUP = "pycache.plugins"

log = logging.getLogger("pycache.plugins")


@dataclass(frozen=True, slots=True, kw_only=True)
class PluginInfo:
    """One loaded (or failed) plugin, as `pycache plugins` shows it."""

    name: str
    distribution: str
    version: str
    module: str
    families: tuple[CompilerFamily, ...] = ()
    error: str = ""
    traceback: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class LoadError:
    plugin: str
    distribution: str
    message: str
    traceback: str = ""


@dataclass
class PluginHost:
    """The plugin manager plus what the core derived from registrations."""

    manager: pluggy.PluginManager
    plugins: list[PluginInfo] = field(default_factory=list)
    load_errors: list[LoadError] = field(default_factory=list)
    families: dict[str, CompilerFamily] = field(default_factory=dict)
    family_owner: dict[str, str] = field(default_factory=dict)
    storage_types: list[StorageBackendType] = field(default_factory=list)

    @property
    def hooks(self) -> Hooks:
        return Hooks(self)

    # --- family selection ---------------------------------------------------

    def family_for(self, *names: str) -> CompilerFamily | None:
        """The family serving an executable, given the names it goes by, most
        telling first (as typed, then the symlink's target).

        The first name any family claims decides: ``clang-cl -> clang-14``
        is clang-cl's family, not clang's. Among families claiming the same
        name, explicit precedence decides; a tie is logged and the call is
        not attributed to either family.
        """
        matches: list[CompilerFamily] = []
        for name in names:
            if name:
                matches = [f for f in self.families.values() if f.matches(name)]
            if matches:
                break
        if not matches:
            return None
        matches.sort(key=lambda f: f.precedence, reverse=True)
        if len(matches) > 1 and matches[0].precedence == matches[1].precedence:
            log.warning(
                "executable %s is claimed by families %s with equal precedence; not caching it",
                names[0],
                ", ".join(f.name for f in matches),
            )
            return None
        return matches[0]


def _distribution_of(ep: metadata.EntryPoint) -> tuple[str, str]:
    dist = getattr(ep, "dist", None)
    if dist is None:
        return ("", "")
    return (dist.metadata["Name"] or "", dist.version or "")


def build_host(
    *,
    extra_plugins: Iterable[tuple[str, ModuleType | Any]] = (),
    load_entry_points: bool = True,
    strict: bool = False,
) -> PluginHost:
    """Create a plugin manager and load every plugin.

    ``extra_plugins`` (name, module) pairs are registered as if they came
    from an entry point; tests use them.
    """
    manager = pluggy.PluginManager(PROJECT)
    manager.add_hookspecs(hookspecs)
    host = PluginHost(manager=manager)
    candidates: list[tuple[str, str, str, Any]] = []  # name, dist, version, loader

    if load_entry_points:
        for ep in sorted(metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
            dist, version = _distribution_of(ep)
            candidates.append((ep.name, dist, version, ep))
    for name, module in extra_plugins:
        candidates.append((name, "", "", module))

    for name, dist, version, source in candidates:
        if manager.has_plugin(name):
            continue
        module_name = source.value if isinstance(source, metadata.EntryPoint) else getattr(source, "__name__", name)
        try:
            plugin = source.load() if isinstance(source, metadata.EntryPoint) else source
            manager.register(plugin, name=name)
            families = tuple(_call_registration(manager, name))
        except Exception as exc:  # a broken plugin is reported, never fatal
            if manager.has_plugin(name):
                manager.unregister(name=name)
            tb = traceback.format_exc()
            message = f"{type(exc).__name__}: {exc}"
            log.error("plugin %s (%s) failed to load: %s\n%s", name, dist or module_name, message, tb)
            if strict:
                raise PluginError(f"plugin {name} ({dist or module_name}) failed to load: {message}") from exc
            host.load_errors.append(LoadError(plugin=name, distribution=dist, message=message, traceback=tb))
            host.plugins.append(
                PluginInfo(name=name, distribution=dist, version=version, module=module_name, error=message, traceback=tb)
            )
            continue
        accepted = _accept_families(host, name, dist, families, strict)
        host.plugins.append(
            PluginInfo(name=name, distribution=dist, version=version, module=module_name, families=accepted)
        )

    manager.check_pending()
    for name, plugin in manager.list_name_plugin():
        impl = getattr(plugin, "pycache_register_storage_backends", None)
        if impl is None:
            continue
        try:
            host.storage_types.extend(impl() or [])
        except Exception as exc:
            tb = traceback.format_exc()
            log.error("plugin %s failed to register storage backends: %s\n%s", name, exc, tb)
            host.load_errors.append(LoadError(plugin=name, distribution="", message=f"{type(exc).__name__}: {exc}", traceback=tb))
    host.storage_types.sort(key=lambda t: t.tier)
    return host


def _call_registration(manager: pluggy.PluginManager, name: str) -> list[CompilerFamily]:
    plugin = manager.get_plugin(name)
    impl = getattr(plugin, "pycache_register_compilers", None)
    if impl is None:
        return []
    families = impl() or []
    for family in families:
        if not isinstance(family, CompilerFamily):
            raise PluginError(f"pycache_register_compilers returned {family!r}, not a CompilerFamily")
    return list(families)


def _accept_families(
    host: PluginHost, name: str, dist: str, families: tuple[CompilerFamily, ...], strict: bool
) -> tuple[CompilerFamily, ...]:
    accepted = []
    for family in families:
        who = dist or name
        if family.api_version != API_VERSION:
            message = (
                f"family {family.name!r} of plugin {name} ({who}) targets plugin API version "
                f"{family.api_version}, this pycache speaks version {API_VERSION}; skipped"
            )
            _reject(host, name, dist, message, strict)
            continue
        if family.name in host.families:
            other = host.family_owner[family.name]
            other_info = next((p for p in host.plugins if p.name == other), None)
            other_dist = (other_info.distribution if other_info else "") or other
            message = (
                f"compiler family {family.name!r} is registered by both {other_dist} and {who}; "
                "neither is used"
            )
            _reject(host, name, dist, message, strict)
            del host.families[family.name]
            continue
        host.families[family.name] = family
        host.family_owner[family.name] = name
        accepted.append(family)
    return tuple(accepted)


@dataclass(frozen=True, slots=True, kw_only=True)
class LibraryInfo:
    """An installed distribution that builds on pycache without being a
    plugin (no entry point, no compilers): a layer plugins share."""

    distribution: str
    version: str
    summary: str = ""


_REQUIREMENT_NAME = re.compile(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _requires_core(requirement: str) -> bool:
    """``requirement`` (a Requires-Dist line) names pycache itself, not
    only for an extra."""
    name = _REQUIREMENT_NAME.match(requirement)
    marker = requirement.partition(";")[2]
    return name is not None and _canonical(name.group(1)) == PROJECT and "extra" not in marker


def installed_libraries() -> list[LibraryInfo]:
    """Installed distributions that require pycache and declare no entry
    point in ``pycache.plugins``, by name. Reads every distribution's
    metadata: for the CLI, never the compile path."""
    found: dict[str, LibraryInfo] = {}
    for dist in metadata.distributions():
        name = dist.metadata["Name"] or ""
        key = _canonical(name)
        if not name or key == PROJECT or key in found:
            continue
        if not any(_requires_core(r) for r in dist.requires or ()):
            continue
        if any(ep.group == ENTRY_POINT_GROUP for ep in dist.entry_points):
            continue
        found[key] = LibraryInfo(distribution=name, version=dist.version or "", summary=dist.metadata["Summary"] or "")
    return sorted(found.values(), key=lambda lib: _canonical(lib.distribution))


def _reject(host: PluginHost, name: str, dist: str, message: str, strict: bool) -> None:
    log.error("%s", message)
    if strict:
        raise PluginError(message)
    host.load_errors.append(LoadError(plugin=name, distribution=dist, message=message))


class Hooks:
    """Typed facade over the hooks: the only way the core calls plugins.

    Family hooks go to the plugin that registered the family and no other.
    """

    def __init__(self, host: PluginHost) -> None:
        self._host = host
        self._pm = host.manager

    def _owner_caller(self, hook_name: str, family: str):
        owner = self._host.family_owner.get(family)
        if owner is None:
            raise PluginError(f"no plugin owns compiler family {family!r}")
        others = [p for n, p in self._pm.list_name_plugin() if n != owner and p is not None]
        return self._pm.subset_hook_caller(hook_name, remove_plugins=others)

    def probe_compiler(
        self, family: CompilerFamily, compiler: Path, env: Mapping[str, str], context: PluginContext
    ) -> CompilerIdentity | None:
        caller = self._owner_caller("pycache_probe_compiler", family.name)
        return caller(family=family, compiler=compiler, env=env, context=context)

    def parse_arguments(self, invocation: Invocation, family: CompilerFamily) -> ParseOutcome | None:
        caller = self._owner_caller("pycache_parse_arguments", family.name)
        return caller(invocation=invocation, family=family)

    def direct_components(
        self, invocation: Invocation, parsed: ParsedInvocation, context: PluginContext
    ) -> tuple[KeyComponent, ...] | NotCacheable | None:
        caller = self._owner_caller("pycache_direct_components", invocation.family)
        return caller(invocation=invocation, parsed=parsed, context=context)

    def discover_dependencies(
        self, invocation: Invocation, parsed: ParsedInvocation, context: PluginContext
    ) -> Dependencies | NotCacheable | None:
        caller = self._owner_caller("pycache_discover_dependencies", invocation.family)
        return caller(invocation=invocation, parsed=parsed, context=context)

    def extra_key_components(self, invocation: Invocation, family: CompilerFamily) -> list[KeyComponent]:
        """Every plugin's extra components, each name prefixed ``<plugin>:``."""
        components: list[KeyComponent] = []
        for impl in reversed(self._pm.hook.pycache_extra_key_components.get_hookimpls()):
            offered = {"invocation": invocation, "family": family}
            result = impl.function(**{k: v for k, v in offered.items() if k in impl.argnames})
            for component in result or ():
                components.append(KeyComponent(f"{impl.plugin_name}:{component.name}", component.value))
        return components

    def run_compile(
        self, invocation: Invocation, parsed: ParsedInvocation, dependencies: Dependencies, context: PluginContext
    ) -> CompileResult | None:
        caller = self._owner_caller("pycache_run_compile", invocation.family)
        return caller(invocation=invocation, parsed=parsed, dependencies=dependencies, context=context)

    def collect_outputs(
        self, invocation: Invocation, parsed: ParsedInvocation, result: CompileResult, context: PluginContext
    ) -> Outputs | NotCacheable | None:
        caller = self._owner_caller("pycache_collect_outputs", invocation.family)
        return caller(invocation=invocation, parsed=parsed, result=result, context=context)
