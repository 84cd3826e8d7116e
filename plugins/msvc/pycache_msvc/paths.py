"""Paths as cl.exe and clang-cl read them, on Windows and on POSIX hosts.

The compiler follows the rules of the machine it runs on: on Windows both
``\\`` and ``/`` separate, ``C:\\x`` and ``\\\\server\\share\\x`` are absolute,
``\\\\?\\`` prefixes name the same file without them, and names compare
without regard to case; on Linux (clang-cl cross-compiling) only ``/``
separates and case matters. Every function takes the ``style`` it applies
("windows" or "posix"; `HOST_STYLE` by default), so the Windows rules are
exercised by unit tests on any machine.

Output names follow clang's ``MakeCLOutputFilename``, which cl.exe's
documented behaviour matches: an empty ``/Fo`` names the source in the
working directory, a value ending in a separator is a directory the source's
name goes into, and a value without an extension gets the default one.
"""

from __future__ import annotations

import os
import posixpath
import re

__all__ = [
    "HOST_STYLE",
    "basename",
    "cl_output_path",
    "dirname",
    "ends_with_separator",
    "has_extension",
    "is_absolute",
    "join",
    "normalize",
    "replace_extension",
    "same_path",
    "stem",
    "strip_verbatim_prefix",
]

HOST_STYLE = "windows" if os.name == "nt" else "posix"

_DRIVE_ABSOLUTE = re.compile(r"[A-Za-z]:[\\/]")
_UNC = re.compile(r"[\\/]{2}[^\\/?.][^\\/]*[\\/][^\\/]+")


def _separators(style: str) -> str:
    if style == "windows":
        return "\\/"
    if style == "posix":
        return "/"
    raise ValueError(f"unknown path style {style!r}")


def strip_verbatim_prefix(path: str) -> str:
    r"""``\\?\C:\x`` -> ``C:\x`` and ``\\?\UNC\srv\share\x`` -> ``\\srv\share\x``
    (the Win32 "verbatim" prefix names the same file)."""
    for prefix in ("\\\\?\\", "//?/", "\\??\\"):
        if path.startswith(prefix):
            rest = path[len(prefix) :]
            if rest[:4].upper() in ("UNC\\", "UNC/"):
                return "\\\\" + rest[4:]
            return rest
    return path


def is_absolute(path: str, style: str = HOST_STYLE) -> bool:
    """A path that does not depend on the working directory (nor, on
    Windows, on the current drive: ``C:x`` and ``\\x`` are relative)."""
    if _separators(style) == "/":
        return path.startswith("/")
    path = strip_verbatim_prefix(path)
    return bool(_DRIVE_ABSOLUTE.match(path) or _UNC.match(path))


def ends_with_separator(path: str, style: str = HOST_STYLE) -> bool:
    return bool(path) and path[-1] in _separators(style)


def _split(path: str, style: str) -> tuple[str, str]:
    seps = _separators(style)
    cut = max(path.rfind(s) for s in seps)
    if cut < 0:
        if style == "windows" and re.match(r"[A-Za-z]:", path):
            return path[:2], path[2:]
        return "", path
    return path[: cut + 1], path[cut + 1 :]


def basename(path: str, style: str = HOST_STYLE) -> str:
    return _split(path, style)[1]


def dirname(path: str, style: str = HOST_STYLE) -> str:
    """The directory part, without its trailing separator ("" for a bare name)."""
    head = _split(path, style)[0]
    seps = _separators(style)
    trimmed = head.rstrip(seps)
    if not trimmed and head:
        return head[0]  # the root itself
    if style == "windows" and re.fullmatch(r"[A-Za-z]:", trimmed) and len(head) > 2:
        return head[:3]  # C:\ stays the root of C:
    return trimmed


def join(directory: str, name: str, style: str = HOST_STYLE) -> str:
    if not directory:
        return name
    if is_absolute(name, style):
        return name
    if ends_with_separator(directory, style):
        return directory + name
    return directory + ("\\" if style == "windows" and "/" not in directory else "/") + name


def has_extension(path: str, style: str = HOST_STYLE) -> bool:
    """llvm::sys::path::has_extension: the last component (``.`` when the
    path ends in a separator) has a dot that is not its only character."""
    if ends_with_separator(path, style):
        return False
    name = basename(path, style)
    if name in (".", ".."):
        return False
    dot = name.rfind(".")
    return dot >= 0 and name != "."


def stem(path: str, style: str = HOST_STYLE) -> str:
    """The file name without its extension (``out\\a.obj`` -> ``a``)."""
    name = basename(path, style)
    if name in (".", ".."):
        return name
    dot = name.rfind(".")
    return name[:dot] if dot > 0 else name


def replace_extension(path: str, extension: str, style: str = HOST_STYLE) -> str:
    """The path with its file name's extension replaced (added when it has
    none): ``out/a.c`` + ``.obj`` -> ``out/a.obj``."""
    head, name = _split(path, style)
    dot = name.rfind(".")
    if dot > 0:
        name = name[:dot]
    return head + name + extension


def cl_output_path(value: str, source: str, extension: str, style: str = HOST_STYLE) -> str:
    """Where ``/Fo<value>`` (``/Fd``, ``/Fp``...) puts the file for ``source``."""
    name = basename(source, style)
    if not value:
        path = name
    elif ends_with_separator(value, style):
        path = value + name
    else:
        path = value
    if not has_extension(value, style):
        path = replace_extension(path, extension, style)
    return path


def normalize(path: str, style: str = HOST_STYLE, cwd: str | None = None) -> str:
    """A comparison form: absolute when ``cwd`` is given, ``.``/``..``
    resolved lexically, and on Windows without the verbatim prefix, with
    ``\\`` separators and lower case (NTFS compares names without case)."""
    if _separators(style) == "/":
        if cwd is not None and not path.startswith("/"):
            path = posixpath.join(cwd, path)
        return posixpath.normpath(path)
    path = strip_verbatim_prefix(path).replace("/", "\\")
    if cwd is not None and not is_absolute(path, style):
        cwd = strip_verbatim_prefix(cwd).replace("/", "\\")
        if path.startswith("\\") and not path.startswith("\\\\"):
            path = cwd[:2] + path  # \x is on the working directory's drive
        elif not re.match(r"[A-Za-z]:", path):
            path = cwd.rstrip("\\") + "\\" + path
    unc = path.startswith("\\\\")
    drive, rest = ("", path)
    if unc:
        parts = path[2:].split("\\")
        drive, rest = "\\\\" + "\\".join(parts[:2]), "\\" + "\\".join(parts[2:])
    elif re.match(r"[A-Za-z]:", path):
        drive, rest = path[:2], path[2:]
    absolute = rest.startswith("\\")
    out: list[str] = []
    for part in rest.split("\\"):
        if part in ("", "."):
            continue
        if part == "..":
            if out and out[-1] != "..":
                out.pop()
            elif not absolute:
                out.append(part)
            continue
        out.append(part)
    body = ("\\" if absolute else "") + "\\".join(out)
    return (drive + body).lower() or "."


def same_path(a: str, b: str, style: str = HOST_STYLE, cwd: str | None = None) -> bool:
    """``a`` and ``b`` name the same file by the style's rules (no file-system access)."""
    return normalize(a, style, cwd) == normalize(b, style, cwd)
