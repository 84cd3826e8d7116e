"""Where a C-family compile writes what it was not told to name.

gcc's rules, which clang, nvcc and cl follow with their own suffixes: an
object without ``-o`` goes to the working directory, named after the
source; a dependency file, a split-DWARF ``.dwo`` or a coverage ``.gcno``
takes the object's name with its last suffix replaced.
"""

from __future__ import annotations

import os

__all__ = ["default_dependency_path", "default_object_path", "replace_suffix"]


def replace_suffix(path: str, suffix: str) -> str:
    """``out/x.o`` -> ``out/x.d``: gcc's rule (only the last suffix of the
    file name, never a dot in a directory name; ``noext`` -> ``noext.d``)."""
    head, tail = os.path.split(path)
    stem, dot, _ = tail.rpartition(".")
    name = (stem if dot and stem else tail) + suffix
    return os.path.join(head, name) if head else name


def default_object_path(source: str, suffix: str = ".o") -> str:
    """The object a compile without ``-o`` writes: in the working
    directory, named after the source (``src/a.c`` -> ``a.o``)."""
    return replace_suffix(os.path.basename(source), suffix)


def default_dependency_path(output: str | None, source: str, suffix: str = ".d") -> str:
    """The dependency file ``-MD``/``-MMD`` writes without ``-MF``: next to
    ``-o``'s file when one is given, else named after the source in the
    working directory."""
    return replace_suffix(output if output is not None else os.path.basename(source), suffix)
