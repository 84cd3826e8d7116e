"""Source languages: what an input is, by ``-x`` or by its extension.

gcc's and clang's names (``c``, ``c++``, ``objective-c``,
``assembler-with-cpp``) are the vocabulary: the key's language component
and ``-x`` use them. `source_language` is gcc's rule, including the C++
drivers (``g++``, ``clang++``) compiling ``.c`` as C++; it answers with the
language or the reason (from `pycache_cfamily.reasons`) an input is no
cacheable C-family source. A family with more languages (nvcc's ``.cu``)
checks its own first and passes its own ``cacheable`` set.
"""

from __future__ import annotations

import os
import re
from collections.abc import Collection
from pathlib import PurePosixPath

from . import reasons as R

__all__ = [
    "CACHEABLE_LANGUAGES",
    "HEADER_EXTENSIONS",
    "MODULE_EXTENSIONS",
    "MODULE_LANGUAGES",
    "OTHER_LANGUAGE_EXTENSIONS",
    "PCH_LANGUAGES",
    "PREPROCESSED_EXTENSIONS",
    "PREPROCESSED_LANGUAGES",
    "SOURCE_LANGUAGES",
    "is_cxx_driver",
    "source_language",
]

#: Extension (case-sensitive, as gcc's) -> language.
SOURCE_LANGUAGES = {
    ".c": "c",
    ".cc": "c++",
    ".cp": "c++",
    ".cxx": "c++",
    ".cpp": "c++",
    ".CPP": "c++",
    ".c++": "c++",
    ".C": "c++",
    ".m": "objective-c",
    ".mm": "objective-c++",
    ".M": "objective-c++",
    ".S": "assembler-with-cpp",
    ".sx": "assembler-with-cpp",
}
#: What gcc and clang compile to an object from a source (``-x`` names).
CACHEABLE_LANGUAGES = frozenset({"c", "c++", "objective-c", "objective-c++", "assembler-with-cpp"})
HEADER_EXTENSIONS = frozenset({".h", ".hh", ".H", ".hp", ".hxx", ".hpp", ".HPP", ".h++", ".tcc", ".inl"})
MODULE_EXTENSIONS = frozenset({".cppm", ".ccm", ".cxxm", ".c++m", ".ixx", ".mpp"})
PREPROCESSED_EXTENSIONS = frozenset({".i", ".ii", ".mi", ".mii"})
OTHER_LANGUAGE_EXTENSIONS = frozenset(
    {".s", ".cu", ".cl", ".hip", ".f", ".for", ".ftn", ".f90", ".f95", ".f03", ".f08", ".F", ".F90",
     ".ads", ".adb", ".d", ".go", ".rs", ".ll", ".bc"}
)
PCH_LANGUAGES = frozenset({"c-header", "c++-header", "objective-c-header", "objective-c++-header", "cuda-header"})
MODULE_LANGUAGES = frozenset({"c++-module", "c++-system-header", "c++-user-header", "c++-header-unit-header"})
PREPROCESSED_LANGUAGES = frozenset(
    {"cpp-output", "c++-cpp-output", "objective-c-cpp-output", "objc-cpp-output", "objective-c++-cpp-output",
     "objc++-cpp-output"}
)

_CXX_DRIVER = re.compile(r"\+\+(?:-[\d.]+)*$")


def is_cxx_driver(*names: str) -> bool:
    """g++, c++, clang++ and their versioned forms compile .c as C++."""
    for name in names:
        base = os.path.basename(name)
        if base.lower().endswith(".exe"):
            base = base[:-4]
        if _CXX_DRIVER.search(base):
            return True
    return False


def source_language(
    source: str, explicit: str | None, cxx_driver: bool, *, cacheable: Collection[str] = CACHEABLE_LANGUAGES
) -> tuple[str | None, str]:
    """(language, "") of an input, or (None, reason) when it is not a
    cacheable source. ``explicit``: the ``-x`` in force for it (None for
    ``-x none`` or no ``-x``)."""
    if explicit is not None:
        lang = explicit
        if lang in cacheable:
            return lang, ""
        if lang in PCH_LANGUAGES:
            return None, R.PCH_CREATION
        if lang in MODULE_LANGUAGES:
            return None, R.MODULES
        if lang in PREPROCESSED_LANGUAGES:
            return None, R.PREPROCESSED_INPUT
        return None, R.UNSUPPORTED_LANGUAGE
    suffix = PurePosixPath(source).suffix if "." in os.path.basename(source) else ""
    if suffix in SOURCE_LANGUAGES:
        lang = SOURCE_LANGUAGES[suffix]
        if cxx_driver and lang == "c":
            lang = "c++"
        elif cxx_driver and lang == "objective-c":
            lang = "objective-c++"
        return lang, ""
    if suffix in HEADER_EXTENSIONS:
        return None, R.PCH_CREATION
    if suffix in MODULE_EXTENSIONS:
        return None, R.MODULES
    if suffix in PREPROCESSED_EXTENSIONS:
        return None, R.PREPROCESSED_INPUT
    if suffix in OTHER_LANGUAGE_EXTENSIONS:
        return None, R.UNSUPPORTED_LANGUAGE
    return None, R.UNSUPPORTED_INPUT
