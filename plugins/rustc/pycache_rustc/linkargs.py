"""What the arguments rustc hands the linker make it read or write.

Link arguments come from ``-C link-arg``, ``-C link-args`` (split on
whitespace, as rustc does), ``-Z pre-link-arg(s)`` and, through cargo, from
``RUSTFLAGS`` and build scripts (``cargo:rustc-link-arg``). They go to the
linker driver (``cc``) as they are; ``-Wl,a,b`` and ``-Xlinker a`` reach
the linker itself. This module reads them as the linker will:

- files named by an argument (objects, archives, version scripts, ``-T``
  linker scripts, plugins) are read: each one is keyed. A ``-T`` script and
  the files a script names (``INCLUDE``, ``INPUT``, ``GROUP``, ``STARTUP``)
  are found as the linker finds them: as given (relative to the working
  directory), then in the ``-L`` directories in order (``SEARCH_DIR`` adds
  to them) -- the cortex-m-rt ``link.x``/``memory.x`` pattern, where a
  build script writes both into ``OUT_DIR`` and names that directory;
- ``-lNAME`` and ``-l:FILE`` are libraries, found by the caller
  (`linking`) in the search directories;
- ``-B DIR`` and ``-fuse-ld=`` choose the linker and the tools the driver
  runs: keyed by the content of what they select;
- the link map (``-Map FILE``) is an output: stored, and restored on a hit
  (role ``link-map``); other arguments that write files (``--out-implib``,
  ``--dependency-file``, ...) would leave outputs a hit cannot restore, and a
  response file (``@file``) holds arguments not seen here: the call is
  refused, with the option named.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from pycache_core.api import NotCacheable

from .arguments import RustcArgs

#: Linker and driver options that write a file (the value is the file).
#: ``=`` forms and the value as the next token are both recognised.
WRITING_OPTIONS = frozenset(
    {
        "--out-implib", "--dependency-file", "--reproduce", "--why-extract",
        "--print-archive-stats", "--time-trace-file", "--lto-obj-path", "--thinlto-cache-dir",
        "--thinlto-index-only", "--save-temps", "-save-temps", "-o", "--output", "--pdb",
        "--plugin-opt=obj-path", "--plugin-opt=dwo_dir", "-dumpdir", "--write-if-changed",
    }
)
#: The link map (``-Map FILE``): an output the entry stores and a hit restores.
MAP_OPTIONS = frozenset({"-Map", "--Map"})
#: Prefixes of options that write a file whatever follows (gcc's dump options).
WRITING_PREFIXES = ("-fdump-", "-save-temps", "--save-temps", "-fcallgraph-info")
#: Options whose value is the next token (so the value is not a file of its own).
_TAKES_VALUE = frozenset(
    {
        "-T", "--script", "-dT", "--default-script", "-L", "--library-path", "-l", "--library", "-B",
        "--out-implib", "--dependency-file", "-o", "--output", "-rpath", "--rpath", "-R",
        "-soname", "--soname", "-Map", "--Map", "-h", "-z", "-e", "--entry", "--version-script", "--dynamic-list", "-plugin",
        "--plugin", "-u", "--undefined", "--defsym", "-m", "-Xlinker", "--sysroot", "-specs", "--just-symbols",
        "--retain-symbols-file", "--symbol-ordering-file", "--exclude-libs", "--hash-style", "--build-id",
        "-y", "--trace-symbol", "--wrap", "-rpath-link", "--rpath-link", "-dynamic-linker", "--dynamic-linker",
        "-I", "-Ttext", "-Tdata", "-Tbss", "--section-start",
    }
)
_SCRIPT_OPTIONS = ("-T", "--script", "-dT", "--default-script")
_WL_NEXT_IS_VALUE = frozenset({"-Xlinker"})
MAX_SCRIPT_DEPTH = 16


@dataclass(slots=True)
class LinkArguments:
    """What the link arguments of one call name."""

    files: list[str] = field(default_factory=list)  # read by the linker, as given
    scripts: list[str] = field(default_factory=list)  # -T scripts, found on the search path
    libraries: list[str] = field(default_factory=list)  # -lNAME / -l:FILE, as NAME / :FILE
    search_dirs: list[str] = field(default_factory=list)  # -L
    tool_dirs: list[str] = field(default_factory=list)  # -B
    fuse_ld: str | None = None  # -fuse-ld= / --ld-path=
    map_files: list[str] = field(default_factory=list)  # -Map FILE: written by the linker


def raw_link_arguments(args: RustcArgs) -> list[str]:
    """The link arguments of a call, in the order rustc passes them."""
    tokens: list[str] = []
    for name, value in args.codegen:
        if name == "link-arg" and value:
            tokens.append(value)
        elif name == "link-args" and value:
            tokens.extend(value.split())
    for arg in args.path_arguments:
        if arg.option != "-Z":
            continue
        name, eq, value = arg.value.partition("=")
        name = name.strip().replace("_", "-")
        if name == "pre-link-arg" and eq:
            tokens.append(value)
        elif name == "pre-link-args" and eq:
            tokens.extend(value.split())
    return tokens


def linker_tokens(tokens: Iterable[str]) -> list[tuple[str, bool]]:
    """Driver arguments with ``-Wl,a,b`` and ``-Xlinker a`` unfolded, each
    with whether the linker itself receives it (``-Bstatic`` is a linker
    flag there, while the driver reads ``-Bprefix`` as a tool directory)."""
    unfolded: list[tuple[str, bool]] = []
    pending_xlinker = False
    for token in tokens:
        if pending_xlinker:
            unfolded.append((token, True))
            pending_xlinker = False
        elif token in _WL_NEXT_IS_VALUE:
            pending_xlinker = True
        elif token.startswith("-Wl,"):
            unfolded.extend((t, True) for t in token[4:].split(",") if t)
        else:
            unfolded.append((token, False))
    return unfolded


def _option_and_value(token: str) -> tuple[str, str | None]:
    if token.startswith("--") or token.startswith("-") and "=" in token:
        name, eq, value = token.partition("=")
        if eq:
            return name, value
    return token, None


def _attached_output(token: str) -> bool:
    return token.startswith("-o") and len(token) > 2 and not token.startswith("--")


def read(args: RustcArgs) -> LinkArguments | NotCacheable:
    """The call's link arguments, classified; refused when one writes a file
    or hides more arguments in a response file."""
    found = LinkArguments()
    tokens = linker_tokens(raw_link_arguments(args))
    i = 0
    while i < len(tokens):
        token, to_linker = tokens[i]
        i += 1
        if token.startswith("@"):
            return NotCacheable("link-arg-response-file", f"link argument {token}: a response file holds arguments pycache does not read")
        name, value = _option_and_value(token)
        if name in WRITING_OPTIONS or token.startswith(WRITING_PREFIXES) or _attached_output(token) or any(
            token.startswith(w + "=") for w in WRITING_OPTIONS if "=" in w
        ):
            return NotCacheable("link-arg-writes-file", f"link argument {token} writes a file a hit could not restore")
        if value is None and name in _TAKES_VALUE and i < len(tokens) and not (name == "-B" and to_linker):
            value = tokens[i][0]
            i += 1
        elif value is None:
            # Attached short forms: -Tlink.x, -Ldir, -lname; -Bdir for the driver.
            for short in ("-T", "-L", "-l") if to_linker else ("-T", "-L", "-l", "-B"):
                if token.startswith(short) and len(token) > len(short) and not token.startswith("--"):
                    name, value = short, token[len(short):]
                    break
        if name in MAP_OPTIONS and value:
            found.map_files.append(value)
        elif name in _SCRIPT_OPTIONS and value:
            found.scripts.append(value)
        elif name in ("-L", "--library-path") and value:
            found.search_dirs.append(value)
        elif name in ("-l", "--library") and value:
            found.libraries.append(value)
        elif name == "-B" and value and not to_linker:
            found.tool_dirs.append(value)
        elif name in ("-fuse-ld", "--ld-path") and value:
            found.fuse_ld = value
        elif value is not None:
            found.files.append(value)  # kept only if it names a file (checked by the caller)
        elif not token.startswith("-"):
            found.files.append(token)
    return found


# --- linker scripts ------------------------------------------------------------------

_COMMENT = re.compile(r"/\*.*?\*/", re.S)
_COMMAND = re.compile(r"\b(INCLUDE|INPUT|GROUP|STARTUP|SEARCH_DIR)\b")


def _parenthesised(text: str, start: int) -> tuple[str, int] | None:
    """The text inside the parentheses opening at or after ``start`` (nested
    ones kept), and the index after the closing one."""
    i = start
    while i < len(text) and text[i].isspace():
        i += 1
    if i >= len(text) or text[i] != "(":
        return None
    depth = 0
    for j in range(i, len(text)):
        if text[j] == "(":
            depth += 1
        elif text[j] == ")":
            depth -= 1
            if depth == 0:
                return text[i + 1 : j], j + 1
    return None


def _names(inner: str) -> list[str]:
    words = re.findall(r'"[^"]*"|[^\s,()]+', inner)
    return [w.strip('"') for w in words if w != "AS_NEEDED"]


@dataclass(frozen=True, slots=True)
class ScriptReferences:
    files: tuple[str, ...]  # INCLUDE/INPUT/GROUP/STARTUP names, as written
    search_dirs: tuple[str, ...]  # SEARCH_DIR


def script_references(text: str) -> ScriptReferences:
    """The files a linker script makes the linker read, and the directories
    it adds to the search path. ``-lNAME`` entries of INPUT/GROUP come back
    as ``-lNAME``."""
    body = _COMMENT.sub(" ", text)
    files: list[str] = []
    dirs: list[str] = []
    for match in _COMMAND.finditer(body):
        command = match.group(1)
        if command == "INCLUDE":
            word = re.match(r'\s*("[^"]+"|[^\s;]+)', body[match.end():])
            if word:
                files.append(word.group(1).strip('"'))
            continue
        inside = _parenthesised(body, match.end())
        if inside is None:
            continue
        names = _names(inside[0])
        (dirs if command == "SEARCH_DIR" else files).extend(names)
    return ScriptReferences(files=tuple(files), search_dirs=tuple(dirs))


def is_text_script(path: Path) -> bool:
    """``path`` is a text file (a linker script), not an object, archive or
    shared library."""
    try:
        with open(path, "rb") as f:
            head = f.read(512)
    except OSError:
        return False
    if head.startswith((b"\x7fELF", b"!<arch>", b"\xcf\xfa\xed\xfe", b"\xce\xfa\xed\xfe", b"MZ", b"\0asm")):
        return False
    return b"\0" not in head


def find_on_search_path(name: str, cwd: Path, dirs: Iterable[Path]) -> Path | None:
    """Where the linker finds a script or input named ``name``: as given
    (relative to the working directory), then in each search directory."""
    if name.startswith("="):
        return None  # sysroot-relative: not mirrored
    given = Path(name) if os.path.isabs(name) else cwd / name
    if given.is_file():
        return given
    if os.path.isabs(name):
        return None
    for directory in dirs:
        candidate = directory / name
        if candidate.is_file():
            return candidate
    return None


def script_closure(
    scripts: Iterable[Path],
    cwd: Path,
    dirs: list[Path],
    find_library: Callable[[str, list[Path]], Path | None],
) -> list[Path] | NotCacheable:
    """Every file the given linker scripts read, themselves included,
    following INCLUDE/INPUT/GROUP/STARTUP as the linker does (``SEARCH_DIR``
    extends the search path for what follows)."""
    seen: dict[Path, None] = {}
    search = list(dirs)
    pending = [(p, 0) for p in scripts]
    while pending:
        path, depth = pending.pop(0)
        if path in seen:
            continue
        seen[path] = None
        if depth > MAX_SCRIPT_DEPTH or not is_text_script(path):
            continue
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            return NotCacheable("link-file-unreadable", f"{path}: {exc.strerror}")
        refs = script_references(text)
        search.extend(Path(d) if os.path.isabs(d) else cwd / d for d in refs.search_dirs)
        for name in refs.files:
            if name.startswith("-l"):
                found = find_library(name[2:], search)
            else:
                found = find_on_search_path(name, cwd, search)
            if found is None:
                return NotCacheable("link-file-not-found", f"{path} names {name}, which pycache cannot find where the linker looks")
            pending.append((found, depth + 1))
    return list(seen)
