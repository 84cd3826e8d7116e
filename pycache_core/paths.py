"""Base directories: the one place that decides how paths become portable
between checkouts, and how they are put back.

A call's base directories are ``PYCACHE_BASEDIRS`` (named ``1``, ``2``, ...
in the order given; relative entries are taken from the call's working
directory) followed by the family's own (`ParsedInvocation.base_dirs`,
named by the family: rustc's ``cwd`` and ``cargo-home``). A directory
listed twice keeps its first name; ``/`` is never a base directory.

`BaseDirectories.portable_path` writes a path under the *longest* base
directory holding it (whole path components: ``/base2/x`` is not under
``/base``) as ``<BASEDIR:name>/rest``; `BaseDirectories.restore_path` puts
the current call's directory of that name back. The name says which base
a path was under, so a checkout with its sources and a dependency tree in
two base directories gets each path back in the right one. A real path
that happens to begin with ``<BASEDIR:`` is escaped with one more ``<``,
so no real path ever reads as a portable one.

Texts (dependency files, diagnostics) are relocated exactly, token by
token, by `pycache_core.relocation`; this module only knows paths.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path

from . import env as envnames

PLACEHOLDER_START = "<BASEDIR:"
#: A placeholder in a stored text: ``<BASEDIR:name>``.
PLACEHOLDER = re.compile(rb"<BASEDIR:([A-Za-z0-9_.-]+)>")
_NAME = re.compile(r"[A-Za-z0-9_.-]+")

#: Characters that some stored texts escape (JSON, C strings) or that
#: cannot be told apart from text around a path: a base directory holding
#: one is never substituted into a text, so no entry is relocated for it.
_UNSAFE_IN_TEXT = re.compile(r'[\\"\x00-\x1f\x7f]')


def placeholder(name: str) -> str:
    return f"{PLACEHOLDER_START}{name}>"


def user_basedirs(environ: Mapping[str, str]) -> list[str]:
    """``PYCACHE_BASEDIRS`` split like ``PATH``, empty entries dropped."""
    raw = environ.get(envnames.BASEDIRS, "")
    return [p for p in raw.split(os.pathsep) if p.strip()]


class BaseDirectories:
    """One call's base directories, in order, each with its name."""

    __slots__ = ("entries", "_longest_first", "_by_name")

    def __init__(self, entries: Iterable[tuple[str, str]]) -> None:
        kept: dict[str, str] = {}  # directory -> name
        names: set[str] = set()
        for name, directory in entries:
            if not _NAME.fullmatch(name):
                raise ValueError(f"base directory name {name!r}: letters, digits, '.', '_' and '-' only")
            if name in names:
                raise ValueError(f"base directory name {name!r} given twice")
            names.add(name)
            if directory != os.sep and directory not in kept:
                kept[directory] = name
        #: (name, directory) in the call's order.
        self.entries: tuple[tuple[str, str], ...] = tuple((n, d) for d, n in kept.items())
        self._longest_first = sorted(self.entries, key=lambda e: len(e[1]), reverse=True)
        self._by_name = dict(self.entries)

    @classmethod
    def for_call(
        cls, env: Mapping[str, str], cwd: str | os.PathLike[str], family_dirs: Mapping[str, str | os.PathLike[str]] = {}
    ) -> BaseDirectories:
        """``PYCACHE_BASEDIRS`` of the call (relative entries from its
        ``cwd``), then the family's ``family_dirs``."""
        cwd = os.fspath(cwd)
        user = [(str(i), _normalise(d, cwd)) for i, d in enumerate(user_basedirs(env), start=1)]
        family = [(name, _normalise(os.fspath(d), cwd)) for name, d in family_dirs.items()]
        for name, _ in family:
            if name.isdigit():
                raise ValueError(f"family base directory name {name!r}: digits name PYCACHE_BASEDIRS entries")
        return cls([*user, *family])

    def __bool__(self) -> bool:
        return bool(self.entries)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, BaseDirectories) and other.entries == self.entries

    def __hash__(self) -> int:
        return hash(self.entries)

    def __repr__(self) -> str:
        return f"BaseDirectories({list(self.entries)!r})"

    def directory(self, name: str) -> str | None:
        return self._by_name.get(name)

    def base_of(self, path: str | os.PathLike[str]) -> tuple[str, str] | None:
        """(name, directory) of the longest base directory holding ``path``."""
        text = os.fspath(path)
        for name, directory in self._longest_first:
            if text == directory or (text.startswith(directory) and text[len(directory)] == os.sep):
                return name, directory
        return None

    def portable_path(self, path: str | os.PathLike[str]) -> str:
        """``path`` with the longest base directory holding it replaced by
        its placeholder; other paths as they are (escaped when they could be
        taken for a portable one)."""
        text = os.fspath(path)
        found = self.base_of(text)
        if found is not None:
            return placeholder(found[0]) + text[len(found[1]):]
        if text.lstrip("<").startswith(PLACEHOLDER_START[1:]) and text.startswith("<"):
            return "<" + text
        return text

    def restore_path(self, portable: str) -> str | None:
        """The inverse of `portable_path` for this call; None when the
        placeholder names a base directory this call does not have."""
        if not portable.startswith("<"):
            return portable
        if portable.startswith("<<") and portable.lstrip("<").startswith(PLACEHOLDER_START[1:]):
            return portable[1:]
        found = PLACEHOLDER.match(portable.encode("utf-8", "surrogateescape"))
        if found is None:
            return portable
        directory = self._by_name.get(found.group(1).decode())
        if directory is None:
            return None
        return directory + portable[found.end():]

    def text_safe(self) -> bool:
        """Every base directory can be substituted into a text as it is
        written (no character a text format would escape)."""
        return not any(_UNSAFE_IN_TEXT.search(d) for _, d in self.entries)


def _normalise(directory: str, cwd: str) -> str:
    path = directory if os.path.isabs(directory) else os.path.join(cwd, directory)
    return os.path.normpath(path).rstrip(os.sep) or os.sep


def as_is(path: str | os.PathLike[str]) -> str:
    """A path as it is: what a plugin keys instead of `portable_path` when
    the result embeds the path."""
    return os.fspath(path)


NO_BASE_DIRECTORIES = BaseDirectories(())


def family_dirs(dirs: Mapping[str, Path] | Iterable[Path]) -> Mapping[str, Path]:
    """A family's ``base_dirs`` as names -> directories (a plain sequence is
    named ``family1``, ``family2``, ...)."""
    if isinstance(dirs, Mapping):
        return dirs
    return {f"family{i}": d for i, d in enumerate(dirs, start=1)}
