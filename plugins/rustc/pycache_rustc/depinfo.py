"""Reading rustc's dep-info (``.d``) files.

rustc writes Makefile rules (``target: dep dep``, spaces in paths escaped as
``\\ ``), one empty rule per dependency, and one ``# env-dep:NAME[=VALUE]``
line per environment variable the crate read through ``env!`` or
``option_env!`` (name and value escaped alike: ``\\\\``, ``\\n``, ``\\r``; no
``=`` when the variable was unset). A name cannot hold an unescaped ``=``
that matters: rustc looks ``A=B`` up as the variable ``A`` with a value
starting ``B=``, which is what splitting at the first ``=`` keys.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True, kw_only=True)
class DepInfo:
    targets: tuple[str, ...]
    files: tuple[str, ...]
    env: tuple[tuple[str, str | None], ...]


def _split_escaped(text: str) -> list[str]:
    """Split on unescaped spaces; ``\\ `` is a space inside a path."""
    parts: list[str] = []
    current: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text) and text[i + 1] == " ":
            current.append(" ")
            i += 2
            continue
        if ch == " ":
            if current:
                parts.append("".join(current))
                current = []
        else:
            current.append(ch)
        i += 1
    if current:
        parts.append("".join(current))
    return parts


def _rule_split(line: str) -> tuple[str, str] | None:
    """``target: deps`` -> (target, deps); the colon is the first one followed
    by a space or the end of the line, so ``C:\\x`` stays whole."""
    i = 0
    while True:
        i = line.find(":", i)
        if i < 0:
            return None
        if i + 1 == len(line) or line[i + 1] == " ":
            return line[:i], line[i + 1 :]
        i += 1


def unescape_env(value: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(value):
        ch = value[i]
        if ch == "\\" and i + 1 < len(value):
            nxt = value[i + 1]
            if nxt in "\\nr":
                out.append({"\\": "\\", "n": "\n", "r": "\r"}[nxt])
                i += 2
                continue
        out.append(ch)
        i += 1
    return "".join(out)


def parse(text: str) -> DepInfo:
    targets: dict[str, None] = {}
    files: dict[str, None] = {}
    env: dict[str, str | None] = {}
    # Only "\n" ends a line: str.splitlines() would also split a variable's
    # value at \x0c, \x1c-\x1e, \x85 or \u2028, which rustc does not escape.
    for raw in text.split("\n"):
        line = raw.rstrip("\r")
        if not line.strip():
            continue
        if line.startswith("#"):
            body = line[1:].strip()
            if body.startswith("env-dep:"):
                name, eq, value = body[len("env-dep:") :].partition("=")
                env[unescape_env(name)] = unescape_env(value) if eq else None
            continue
        rule = _rule_split(line)
        if rule is None:
            continue
        target, deps = rule
        dependencies = _split_escaped(deps)
        if dependencies:
            targets.update(dict.fromkeys(_split_escaped(target)))
        for dep in dependencies:
            files[dep] = None
    # The phony rules ("src/lib.rs:") have no dependencies and add nothing.
    return DepInfo(
        targets=tuple(targets),
        files=tuple(f for f in files),
        env=tuple(env.items()),
    )
