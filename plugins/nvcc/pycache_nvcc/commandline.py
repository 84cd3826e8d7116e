"""The command line nvcc actually sees: its own arguments, the options files
they name, and ``NVCC_PREPEND_FLAGS`` / ``NVCC_APPEND_FLAGS``.

nvcc applies those variables itself, before and after the arguments, so
they are part of the call's command line and enter the key as such.
``-optf FILE[,FILE]`` (``--options-file``) is replaced by the options in
each file; an options file may name another (relative to the working
directory, as nvcc resolves it).

Splitting, as nvcc 13 does it (checked against its dryrun):

- options files: whitespace separates words; ``"..."`` groups (the quotes
  go); a backslash takes the next character literally; ``'`` is an
  ordinary character; there are no comments;
- the variables: whitespace separates words; ``"..."`` groups and the
  quotes stay; a backslash is an error to nvcc ("Stray character"), so it
  is refused here too.

nvcc then reads each word as it reads its argv (backslashes and quotes in
values mean something again); the parser refuses to interpret a value that
holds either (`pycache_nvcc.options.ESCAPED_ARGUMENT`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from pycache_cfamily.options import OptionTable

from .options import NvccKind

__all__ = ["CommandLineError", "EffectiveCommandLine", "effective_arguments", "split_env_flags", "split_options_file"]

PREPEND = "NVCC_PREPEND_FLAGS"
APPEND = "NVCC_APPEND_FLAGS"

#: nvcc has no limit; a file that names itself would loop.
MAX_OPTIONS_FILES = 200

_SPACE = " \t\r\n\f\v"


class CommandLineError(Exception):
    """The command line cannot be read as nvcc reads it."""


def split_options_file(text: str) -> list[str]:
    words: list[str] = []
    current: list[str] = []
    in_word = quoted = False
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "\\":
            if i + 1 >= n:
                raise CommandLineError("an options file ends with a backslash")
            current.append(text[i + 1])
            in_word = True
            i += 2
            continue
        if ch == '"':
            quoted = not quoted
            in_word = True
        elif ch in _SPACE and not quoted:
            if in_word:
                words.append("".join(current))
                current, in_word = [], False
        else:
            current.append(ch)
            in_word = True
        i += 1
    if quoted:
        raise CommandLineError("an options file has an unterminated quote")
    if in_word:
        words.append("".join(current))
    return words


def split_env_flags(text: str, name: str) -> list[str]:
    if "\\" in text:
        raise CommandLineError(f"{name} holds a backslash, which nvcc rejects")
    words: list[str] = []
    current: list[str] = []
    quoted = False
    for ch in text:
        if ch == '"':
            quoted = not quoted
            current.append(ch)
        elif ch in _SPACE and not quoted:
            if current:
                words.append("".join(current))
                current = []
        else:
            current.append(ch)
    if quoted:
        raise CommandLineError(f"{name} has an unterminated quote")
    if current:
        words.append("".join(current))
    return words


@dataclass(frozen=True, slots=True, kw_only=True)
class EffectiveCommandLine:
    """The arguments nvcc works on, and the options files read for them."""

    arguments: tuple[str, ...]
    options_files: tuple[Path, ...]


def effective_arguments(
    arguments: Sequence[str],
    env: Mapping[str, str],
    cwd: Path,
    table: OptionTable,
    read: Callable[[Path], bytes] = lambda p: p.read_bytes(),
) -> EffectiveCommandLine:
    """``NVCC_PREPEND_FLAGS``, ``arguments``, ``NVCC_APPEND_FLAGS``, with
    every options file expanded in place."""
    words = [
        *split_env_flags(env.get(PREPEND, ""), PREPEND),
        *arguments,
        *split_env_flags(env.get(APPEND, ""), APPEND),
    ]
    files: list[Path] = []
    while True:
        parsed = table.parse(words)
        found = next((a for a in parsed if a.kind is NvccKind.OPTIONS_FILE), None)
        if found is None:
            return EffectiveCommandLine(arguments=tuple(words), options_files=tuple(files))
        if found.missing_value or not found.value:
            raise CommandLineError(f"{found.tokens[0]} names no file")
        replacement: list[str] = []
        for name in found.value.split(","):
            path = Path(name) if Path(name).is_absolute() else cwd / name
            if len(files) >= MAX_OPTIONS_FILES:
                raise CommandLineError(f"more than {MAX_OPTIONS_FILES} options files (one that names itself?)")
            try:
                data = read(path)
            except OSError as exc:
                raise CommandLineError(f"cannot read options file {path}: {exc.strerror or exc}") from exc
            files.append(path)
            replacement.extend(split_options_file(data.decode("utf-8", "surrogateescape")))
        words[found.index : found.index + len(found.tokens)] = replacement
