"""Stored texts relocated exactly between checkouts: what the core writes
into an entry in place of a text that names paths, and how it is written
back for the current call.

Exact means, per kind of text:

- **make-syntax dependency files** (`MakeDepfile`): the file is parsed into
  rules -- targets and prerequisites, each a whole name with its escapes
  (``\\ ``, ``$$``, ``\\#``) -- and comment lines. A name under a base
  directory (whole path components: ``/base2/x`` is not under ``/base``)
  becomes ``<BASEDIR:name>/rest``; a target that names one of the call's
  outputs becomes that role. On a hit the current call's directories and
  outputs are put in and every rule is rendered again through the
  compiler's layout (escaping and line wrapping, which depend on the
  length of the paths). A layout is kept only if it reproduces the
  compiler's file byte for byte.
- **texts with paths at known places** (`LinePaths`: diagnostics, comment
  lines): only the path tokens the family's patterns find are relocated.

Either way, when a base directory still appears anywhere else in the text
(a ``#warning`` that prints a path, a message quoting one), the text cannot
be relocated exactly: the caller then keeps the entry to the call's own
base directories. A text that contains a placeholder of its own
(``<BASEDIR:``, ``<OUTPUT:``) is never relocated either.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .api import LinePaths, MakeDepfile, MakeLayout
from .paths import PLACEHOLDER, PLACEHOLDER_START, BaseDirectories, placeholder

OUTPUT_START = "<OUTPUT:"
_OWN_MARKERS = (PLACEHOLDER_START.encode(), OUTPUT_START.encode())

# After a base directory, a character that continues a file name means a
# different path (/base2, /base.old, /base-x); anything else is taken as
# naming the base directory itself or something in it.
_NAME_CONTINUES = rb"(?![A-Za-z0-9_.+~@%-])"


def output_placeholder(role: str) -> str:
    return f"{OUTPUT_START}{role}>"


def names_base(data: bytes, spellings: Iterable[str]) -> str | None:
    """The first of ``spellings`` (base directories as some text writes
    them) that occurs in ``data`` as a path, or None."""
    for spelling in spellings:
        raw = spelling.encode("utf-8", "surrogateescape")
        if raw in data and re.search(re.escape(raw) + _NAME_CONTINUES, data):
            return spelling
    return None


def has_own_markers(data: bytes) -> bool:
    return any(marker in data for marker in _OWN_MARKERS)


# --- texts with paths at known places -------------------------------------------


def portable_lines(data: bytes, positions: LinePaths, bases: BaseDirectories) -> bytes | None:
    """``data`` with each path token at ``positions`` made portable; None
    when a base directory appears anywhere else (or the text holds a
    placeholder of its own)."""
    if not data or not bases:
        return data
    if has_own_markers(data) or not bases.text_safe():
        return None
    spans: list[tuple[int, int]] = []
    for pattern in positions.patterns:
        spans.extend(m.span("path") for m in pattern.finditer(data) if m.start("path") >= 0)
    pieces: list[bytes] = []
    done = 0
    for start, end in sorted(set(spans)):
        if start < done:
            continue  # overlapping positions: the first one wins
        token = data[start:end].decode("utf-8", "surrogateescape")
        portable = bases.portable_path(token)
        if portable != token:
            pieces.append(data[done:start])
            pieces.append(portable.encode("utf-8", "surrogateescape"))
            done = end
    pieces.append(data[done:])
    result = b"".join(pieces)
    if names_base(result, (d for _, d in bases.entries)) is not None:
        return None
    return result


def restore_lines(data: bytes, bases: BaseDirectories) -> bytes | None:
    """Placeholders replaced by the current call's base directories; None
    when one names a base directory the call does not have."""
    if not data or PLACEHOLDER_START.encode() not in data:
        return data
    missing = False

    def directory(match: re.Match[bytes]) -> bytes:
        nonlocal missing
        found = bases.directory(match.group(1).decode())
        if found is None:
            missing = True
            return match.group(0)
        return found.encode("utf-8", "surrogateescape")

    restored = PLACEHOLDER.sub(directory, data)
    return None if missing else restored


# --- make syntax ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MakeRule:
    targets: list[str]
    prerequisites: list[str]


#: A parsed make file: each line a comment/blank (str) or a rule.
MakeLine = str | MakeRule


def _unescaped_colon(line: str) -> int:
    """Where the targets end: the first ``:`` followed by white space or
    the end of the line (``C:\\x`` stays one name); -1 when none."""
    for i, ch in enumerate(line):
        if ch == ":" and (i + 1 == len(line) or line[i + 1] in " \t"):
            return i
    return -1


# A name: escaped characters (a backslash and what follows: "\ " is a
# space inside the name, "\\" a backslash) and anything but blanks.
_NAME_TOKEN = re.compile(r"(?:\\.|[^ \t\\]|\\$)+")


def _names(text: str) -> list[str]:
    """Names split on white space that is not escaped (a space after an
    odd number of backslashes belongs to the name), escapes kept."""
    return _NAME_TOKEN.findall(text)


def parse_make(text: str) -> tuple[list[MakeLine], bool] | None:
    """(lines, ends with a newline), or None when a line is neither a
    comment, a blank line nor a ``targets: prerequisites`` rule."""
    final_newline = text.endswith("\n")
    physical = text.split("\n")
    if final_newline:
        physical.pop()
    lines: list[MakeLine] = []
    logical: list[str] = []
    for raw in physical:
        if not logical and (not raw.strip() or raw.lstrip().startswith("#")):
            lines.append(raw)
            continue
        trailing = len(raw) - len(raw.rstrip("\\"))
        if trailing % 2 == 1:  # backslash-newline: the rule goes on
            logical.append(raw[:-1])
            continue
        logical.append(raw)
        joined = " ".join(logical)
        logical = []
        colon = _unescaped_colon(joined)
        if colon < 0:
            return None
        lines.append(MakeRule(_names(joined[:colon]), _names(joined[colon + 1:])))
    if logical:
        return None  # a continuation at the very end
    return lines, final_newline


def render_make(lines: Sequence[MakeLine], final_newline: bool, layout: MakeLayout) -> str:
    body = "\n".join(line if isinstance(line, str) else layout.rule(line.targets, line.prerequisites) for line in lines)
    return body + "\n" if final_newline else body


def _portable_name(name: str, escaped_bases: Sequence[tuple[str, str]]) -> str:
    for base_name, escaped in escaped_bases:
        if name == escaped or (name.startswith(escaped) and name[len(escaped)] == "/"):
            return placeholder(base_name) + name[len(escaped):]
    return name


def _escaped_bases(bases: BaseDirectories, layout: MakeLayout) -> list[tuple[str, str]]:
    """(name, directory as the layout writes it), longest first."""
    escaped = [(name, layout.escape(directory)) for name, directory in bases.entries]
    return sorted(escaped, key=lambda e: len(e[1]), reverse=True)


def portable_make(data: bytes, spec: MakeDepfile, bases: BaseDirectories) -> bytes | None:
    """The stored form of a make dependency file (JSON: the layouts that
    reproduce it, its lines with portable names), or None when it cannot be
    relocated exactly."""
    if has_own_markers(data):
        return None
    text = data.decode("utf-8", "surrogateescape")
    parsed = parse_make(text)
    if parsed is None:
        return None
    lines, final_newline = parsed
    layouts = [layout for layout in spec.layouts if render_make(lines, final_newline, layout) == text]
    if not layouts:
        return None
    if bases and not bases.text_safe():
        return None
    # The layouts kept must agree on how every name they relocate is written.
    first = layouts[0]
    escaped = _escaped_bases(bases, first)
    written_outputs = {role: first.target(given) for role, given in spec.outputs.items()}
    layouts = [
        layout for layout in layouts
        if _escaped_bases(bases, layout) == escaped
        and all(layout.target(given) == written_outputs[role] for role, given in spec.outputs.items())
    ]
    output_of = {written: role for role, written in written_outputs.items()}
    found_outputs: set[str] = set()
    portable: list[object] = []
    for line in lines:
        if isinstance(line, str):
            raw = line.encode("utf-8", "surrogateescape")
            if spec.comments is not None and line.strip():
                relocated = portable_lines(raw, spec.comments, bases)
                if relocated is None:
                    return None
                if relocated != raw and any(escaped != bases.directory(name) for name, escaped in escaped):
                    return None  # comments hold directories unescaped, names escaped: one placeholder cannot be both
                line = relocated.decode("utf-8", "surrogateescape")
            elif names_base(raw, [d for _, d in bases.entries]) is not None:
                return None  # a comment naming a base directory: no known place to relocate
            portable.append(line)
            continue
        if any(name in output_of for name in line.prerequisites):
            return None  # an output read as an input: no way to tell them apart
        targets = []
        for name in line.targets:
            if name in output_of:
                found_outputs.add(output_of[name])
                targets.append(output_placeholder(output_of[name]))
            else:
                targets.append(_portable_name(name, escaped))
        portable.append([targets, [_portable_name(name, escaped) for name in line.prerequisites]])
    if found_outputs != set(spec.outputs):
        return None  # the compiler did not name an output the way the family said
    # A name that does not start with a base directory is another path (or
    # relative): as the key holds it, the same in every checkout.
    # Three lines: what a hit reads first (the layouts, and the directories
    # and outputs the file was written for), the portable rules, and the
    # file itself -- which a hit with the same directories and outputs (a
    # rebuild in the same checkout) writes back as it is, without rendering.
    head = json.dumps({
        "layouts": [layout.name for layout in layouts],
        "origin": {"bases": [list(entry) for entry in bases.entries], "outputs": dict(spec.outputs)},
    })
    body = json.dumps({"final_newline": final_newline, "lines": portable})
    return (head + "\n" + body + "\n").encode("utf-8", "surrogateescape") + data


def restore_make(stored: bytes, spec: MakeDepfile, bases: BaseDirectories) -> bytes | None:
    """The dependency file the current call's compiler writes, from its
    stored form; None when it cannot be known exactly (a layout this call
    does not offer, layouts that now disagree, a base directory or output
    the call does not have)."""
    try:
        head_end = stored.index(b"\n")
        body_end = stored.index(b"\n", head_end + 1)
        head = json.loads(stored[:head_end])
        names = list(head["layouts"])
        origin = head["origin"]
    except (ValueError, KeyError, TypeError):
        return None
    offered = {layout.name: layout for layout in spec.layouts}
    if not names or any(name not in offered for name in names):
        return None
    if origin == {"bases": [list(entry) for entry in bases.entries], "outputs": dict(spec.outputs)}:
        return stored[body_end + 1:]
    body = stored[head_end + 1 : body_end]
    rendered: set[str] = set()
    for name in names:
        layout = offered[name]
        lines = _restored_lines(body, spec, bases, layout)
        if lines is None:
            return None
        rendered.add(render_make(*lines, layout))
    if len(rendered) != 1:
        return None
    return rendered.pop().encode("utf-8", "surrogateescape")


def _restored_lines(
    body: bytes, spec: MakeDepfile, bases: BaseDirectories, layout: MakeLayout
) -> tuple[list[MakeLine], bool] | None:
    """The stored lines with the current call's names put in. Placeholders
    stand only at the start of whole names and never occur otherwise (such
    texts are not stored this way), so they are replaced in the stored JSON
    itself, at C speed, before it is read."""
    for role, given in spec.outputs.items():
        body = body.replace(json.dumps(output_placeholder(role)).encode(), json.dumps(layout.target(given)).encode())
    for name, directory in bases.entries:
        body = body.replace(placeholder(name).encode(), json.dumps(layout.escape(directory))[1:-1].encode("utf-8", "surrogateescape"))
    if PLACEHOLDER_START.encode() in body or OUTPUT_START.encode() in body:
        return None  # a base directory or an output this call does not have
    try:
        form = json.loads(body)
        final_newline = bool(form["final_newline"])
        lines = [line if isinstance(line, str) else MakeRule(list(line[0]), list(line[1])) for line in form["lines"]]
    except (ValueError, KeyError, TypeError, IndexError):
        return None
    return lines, final_newline


# --- one entry point per kind ----------------------------------------------------


def text_kind(spec: MakeDepfile | LinePaths) -> str:
    """The stored identifier of a text's kind (kept in entries)."""
    return "make" if isinstance(spec, MakeDepfile) else "lines"


def restore_text(stored: bytes, spec: MakeDepfile | LinePaths, bases: BaseDirectories) -> bytes | None:
    if isinstance(spec, MakeDepfile):
        return restore_make(stored, spec, bases)
    return restore_lines(stored, bases)

