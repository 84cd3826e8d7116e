"""nvcc's dependency file, written the way nvcc writes it.

nvcc does not ask the host compiler for dependencies: its plan has an
internal step, ``-- Filter Dependencies -- > FILE``, that reads the line
markers of every preprocessed output of the call (the device passes, then
the host pass) and writes::

    TARGET : SOURCE \\
        header.h \\
        /usr/include/stdio.h

- every file the preprocessor entered, in the order first seen, each
  spelling once (``./a.h`` and ``a.h`` are two entries, as in nvcc's);
- ``-MMD``/``-MM``: without system headers (line-marker flag 3);
- spaces in paths escaped as ``\\ ``; the target (``-MT``) as given;
- ``-MP``: an empty rule ``\\nheader.h:\\n`` for each header.

`render` produces that text from the preprocessed files; tests compare it
byte for byte with nvcc's own file.
"""

from __future__ import annotations

from collections.abc import Iterable

from pycache_cfamily.preprocessed import parse_markers

__all__ = ["dependencies_of", "render"]


def _escape(path: str) -> str:
    return path.replace(" ", "\\ ")


def dependencies_of(preprocessed: Iterable[bytes], *, system: bool) -> list[str]:
    """The headers the preprocessed outputs entered, first spelling first;
    without system headers unless ``system``."""
    seen: dict[str, None] = {}
    for output in preprocessed:
        for marker in parse_markers(output):
            if marker.system and not system:
                continue
            seen.setdefault(marker.path, None)
    return list(seen)


def render(target: str, source: str, dependencies: Iterable[str], *, phony_targets: bool) -> str:
    """The dependency file nvcc writes for ``target`` built from ``source``."""
    deps = [d for d in dependencies if d != source]
    lines = [f"{target} : {_escape(source)}", *(f"    {_escape(d)}" for d in deps)]
    text = " \\\n".join(lines) + "\n"
    if phony_targets:
        text += "".join(f"\n{_escape(d)}:\n" for d in deps)
    return text
