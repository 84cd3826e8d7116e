"""Base directories: making paths portable between checkouts and machines.

``PYCACHE_BASEDIRS`` lists prefixes (separated like ``PATH``). Inside keys,
manifests and relocatable artifacts, a path under the *longest* matching base
directory is written as ``<BASEDIR>/rest``; on the way back the current call's
base directory is put in its place. The placeholder carries no index: two
checkouts in different places share hits exactly when the part below the base
directory is the same.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path

from . import env as envnames

PLACEHOLDER = "<BASEDIR>"


def basedirs_from_env(environ: Mapping[str, str]) -> tuple[str, ...]:
    raw = environ.get(envnames.BASEDIRS, "")
    return normalise_basedirs(p for p in raw.split(os.pathsep) if p.strip())


def normalise_basedirs(dirs: Iterable[str]) -> tuple[str, ...]:
    cleaned = {os.path.normpath(os.path.abspath(d)).rstrip(os.sep) or os.sep for d in dirs}
    # Longest first, so /a/b wins over /a for /a/b/c.
    return tuple(sorted(cleaned, key=len, reverse=True))


class Relocator:
    """Turns paths and texts into their portable form and back."""

    def __init__(self, basedirs: Iterable[str]) -> None:
        self.basedirs = normalise_basedirs(basedirs)

    def __bool__(self) -> bool:
        return bool(self.basedirs)

    def base_of(self, path: str | Path) -> str | None:
        text = os.fspath(path)
        for base in self.basedirs:
            if text == base or text.startswith(base + os.sep):
                return base
        return None

    def portable_path(self, path: str | Path) -> str:
        text = os.fspath(path)
        base = self.base_of(text)
        if base is None:
            return text
        return PLACEHOLDER + text[len(base):]

    def portable_text(self, text: str) -> str:
        for base in self.basedirs:
            text = text.replace(base + os.sep, PLACEHOLDER + os.sep)
        return text

    def restore_text(self, text: str, base: str | None) -> str:
        """Put ``base`` back where a placeholder stands (no-op without one)."""
        if base is None:
            return text
        return text.replace(PLACEHOLDER, base)
