"""How a rustc call's paths enter its key, and where its texts name them.

Paths are keyed portable (`PluginContext.portable_path`: the core's base
directories, by default the directory cargo runs rustc in and
``CARGO_HOME``), because the texts a hit restores -- the ``.d`` file
(`DEPINFO`) and cargo's JSON messages (`DIAGNOSTICS`) -- are relocated by
the core. What the outputs embed is keyed as they embed it:

- debug info and coverage maps name the working directory: keyed after
  ``--remap-path-prefix`` (`KeyPaths.embedded`), so a remap that covers the
  checkout (``$PWD=/src``) lets checkouts share results and one that covers
  only a parent (``/home/ci=/x``) does not;
- code names its source files as rustc does -- relative names as given,
  absolute ones (a registry crate, a path dependency outside the working
  directory, a file ``include!``d from ``OUT_DIR``) as they are -- in panic
  locations and ``file!()``, with or without debug info: absolute files
  under a base directory are keyed remapped, as they are
  (`KeyPaths.embedded_files`);
- with ``-C split-debuginfo`` other than ``off`` the outputs name the
  output directory too: every path is keyed as it is (`KeyPaths.as_is`).

rustc applies ``--remap-path-prefix FROM=TO`` as checked with rustc 1.95:
the *last* matching option wins and FROM matches whole path components
(``/a/b`` does not map ``/a/bc``); the rest is joined to TO.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from pycache_core.api import Invocation, LinePaths, MakeDepfile, PluginContext
from pycache_core.paths import as_is

from .arguments import RustcArgs

#: Crate files named in dep-info: their paths are metadata, not code.
CRATE_FILES = (".rlib", ".rmeta", ".so", ".dylib", ".dll")


class _RustcDepinfo:
    """rustc's dep-info: one line per rule, spaces escaped (``\\ ``)."""

    name = "rustc"

    def escape(self, path: str) -> str:
        return path.replace(" ", "\\ ")

    def target(self, given: str) -> str:
        return self.escape(given)

    def rule(self, targets: Sequence[str], prerequisites: Sequence[str]) -> str:
        return " ".join(targets) + ":" + "".join(" " + p for p in prerequisites)


#: The ``.d`` file: rules, and ``# env-dep:`` lines of which only OUT_DIR's
#: value is keyed portable (any other value naming a base directory keeps
#: the entry to the call's own base directories).
DEPINFO = MakeDepfile(
    layouts=(_RustcDepinfo(),),
    comments=LinePaths(patterns=(re.compile(rb"^# env-dep:OUT_DIR=(?P<path>.+)$", re.M),)),
)

_ANSI = rb"(?:\\u001b\[[0-9;]*m|\x1b\[[0-9;]*m)*"
#: cargo's JSON messages (artifact notices, diagnostics' spans and their
#: rendered text) and rustc's human-readable ``--> file:line:col``.
DIAGNOSTICS = LinePaths(
    patterns=(
        re.compile(rb'"(?:artifact|file_name)":"(?P<path>[^"\\]+)"'),
        re.compile(rb"(?:-->|:::) " + _ANSI + rb"(?P<path>[^\s:\"\\\x1b]+)"),
    )
)


def _chosen(path: str, remaps: Sequence[tuple[str, str]]) -> tuple[str, str] | None:
    """The remap rustc applies to ``path``: the last one whose FROM holds it."""
    for src, dst in reversed(remaps):
        prefix = src.rstrip(os.sep) or os.sep
        if _within(path, prefix):
            return prefix, dst
    return None


def _within(path: str, directory: str) -> bool:
    return path == directory or path.startswith(directory if directory.endswith(os.sep) else directory + os.sep)


def remap(path: str, remaps: Sequence[tuple[str, str]]) -> str:
    """``path`` after rustc's ``--remap-path-prefix`` options."""
    chosen = _chosen(path, remaps)
    if chosen is None:
        return path
    prefix, dst = chosen
    return os.path.join(dst, path[len(prefix):].lstrip(os.sep)) if path != prefix else dst


def remap_scopes(args: RustcArgs) -> set[str]:
    scopes: set[str] = set()
    for arg in args.key_arguments:
        if arg.startswith("--remap-path-scope="):
            scopes.update(s.strip() for s in arg.partition("=")[2].split(","))
    return scopes or {"all"}


@dataclass(frozen=True, slots=True)
class KeyPaths:
    """How one call's paths enter its key."""

    portable: Callable[[str], str]
    remaps: tuple[tuple[str, str], ...]
    all_scopes: bool
    as_is: bool

    def embedded(self, path: str) -> str:
        """``path`` as the outputs embed it, keyed as it is: remapped (and,
        when ``--remap-path-scope`` narrows where remapping applies, also as
        given)."""
        mapped = remap(path, self.remaps)
        return mapped if self.all_scopes or mapped == path else f"{path} -> {mapped}"

    def covered(self, path: str, context: PluginContext) -> bool:
        """The outputs embed ``path`` the same in every checkout: it is under
        no base directory, or the remap applied to it starts at or inside
        its base directory."""
        portable = context.portable_path(path)
        if portable == path:
            return True
        base = path[: len(path) - len(portable[portable.index(">") + 1:])]
        chosen = _chosen(path, self.remaps)
        return chosen is not None and _within(chosen[0], base)


def key_paths(args: RustcArgs, context: PluginContext) -> KeyPaths:
    split = args.embeds_paths and args.split_debuginfo != "off"
    return KeyPaths(
        portable=as_is if split else context.portable_path,
        remaps=tuple(args.remaps),
        all_scopes=remap_scopes(args) == {"all"},
        as_is=split,
    )


def embedded_files(
    names: Sequence[str], invocation: Invocation, paths: KeyPaths, context: PluginContext
) -> tuple[list[str], bool]:
    """(absolute source files under a base directory, as the outputs embed
    them; whether every one of them is embedded the same in any checkout)."""
    embedded: list[str] = []
    covered = True
    for name in names:
        if not os.path.isabs(name) or name.endswith(CRATE_FILES) or context.portable_path(name) == name:
            continue
        embedded.append(paths.embedded(name))
        covered = covered and paths.covered(name, context)
    return embedded, covered
