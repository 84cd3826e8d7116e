"""Reading preprocessed output (``-E`` of gcc, clang, nvcc's host compiler)
and the sources behind it.

- `parse_markers`: every file the preprocessor entered, from the line
  markers (``# 12 "inc/a.h" 1 3``), with the file that included it;
- `strip_working_directory_marker`: gcc's ``# 1 "/cwd//"`` line, which
  ``-g`` adds, removed (a key names the working directory on its own, only
  when the result embeds it);
- `assembler_reads_files`: ``.incbin`` (and ``.include`` in assembler
  sources) make the assembler read files no key sees;
- `uses_time_macros`: sources whose result a manifest of headers cannot
  vouch for (see also `pycache_cfamily.includes.uses_has_include`);
- `compares_file_times`: ``#pragma GCC dependency``, which compares the
  modification times of two files -- no content captures that;
  `may_compute_file_time_pragma`: one a macro might build.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

__all__ = [
    "Marker",
    "assembler_reads_files",
    "parse_markers",
    "compares_file_times",
    "may_compute_file_time_pragma",
    "computes_a_pragma",
    "names_dependency",
    "strip_working_directory_marker",
    "uses_time_macros",
]

# -E output line markers: # <line> "<file>" [flags]  (gcc and clang alike).
# Matched after a newline (`parse_markers` puts one in front) with the
# escaped-character loop unrolled: an 11 MB Thrust .ii has 43,000 markers,
# and the plain `^...(?:[^"\\]|\\.)*` form took 15 times as long.
_MARKER = re.compile(rb'\n# \d+ "([^"\\\n]*(?:\\.[^"\\\n]*)*)"((?: [1-4])*)[ \t]*\r?(?=\n|\Z)')
_WORKING_DIR_MARKER = re.compile(rb'# 1 "(?:[^"\\]|\\.)*//"\r?')
_TIME_MACROS = re.compile(rb"__(?:DATE|TIME|TIMESTAMP)__")
_INCBIN = re.compile(rb"\.incbin\b")
# #pragma GCC dependency / clang dependency, _Pragma("GCC dependency ...").
_PRAGMA_DEPENDENCY = re.compile(rb"\b(?:GCC|clang)(?:\s|/\*.*?\*/)+dependency\b", re.S)
# _Pragma whose argument is not a string literal: its text is computed.
_COMPUTED_PRAGMA = re.compile(rb'\b_Pragma\s*\(\s*(?!(?:u8|u|U|L)?")')
_DEPENDENCY_WORD = re.compile(rb"\bdependency\b")
_COMMENT = re.compile(rb"/\*.*?\*/|//[^\n]*", re.S)
_ASM_INCLUDE = re.compile(rb"^\s*\.include\b", re.M)


@dataclass(frozen=True, slots=True)
class Marker:
    """A file the preprocessor entered: its path as the markers spell it,
    the file it was entered from (whose directory a quoted include searches
    first), and whether it is a system header (flag 3). ``ancestors``: the
    includer's own includers, innermost first, where a family knows them
    (MSVC searches each one's directory too; see
    `pycache_cfamily.includes.shadow_candidates`)."""

    path: str
    includer: str
    system: bool
    ancestors: tuple[str, ...] = ()


def parse_markers(output: bytes) -> list[Marker]:
    """Every file entered (line-marker flag 1), with the file it was entered
    from. Pseudo-files (``<built-in>``, ``<command-line>``) are left out."""
    entered: list[Marker] = []
    previous = ""
    for match in _MARKER.finditer(b"\n" + output):
        path = _unescape(match.group(1))
        flags = match.group(2).split()
        if b"1" in flags and not path.startswith("<"):
            entered.append(Marker(path=path, includer=previous, system=b"3" in flags))
        previous = path
    return entered


def _unescape(raw: bytes) -> str:
    text = re.sub(rb"\\(.)", rb"\1", raw)
    return os.fsdecode(text)


def strip_working_directory_marker(output: bytes) -> bytes:
    """``output`` without gcc's working-directory marker (the second line,
    ``# 1 "/cwd//"``), when it has one."""
    head = output.split(b"\n", 2)
    if len(head) == 3 and _WORKING_DIR_MARKER.fullmatch(head[1]):
        return head[0] + b"\n" + head[2]
    return output


def assembler_reads_files(output: bytes, *, assembler_source: bool) -> bool:
    """The compile may make the assembler read files itself (see
    `assembler_file_reads`)."""
    return bool(assembler_file_reads(output, assembler_source=assembler_source))


# Directives that make GNU as (or clang's integrated assembler) read a file,
# and directive names the assembler builds itself: a macro argument or
# ``\()`` inside the name (``.inc\()bin``, ``.\name``), or the alternate
# macro syntax, where ``&`` pastes too.
_READING_DIRECTIVE = re.compile(rb"(?i)(?:^|[\s;:])\.(?:incbin|include)\b")
_COMPUTED_DIRECTIVE = re.compile(rb"(?i)(?:^|[\s;:])\.[a-z0-9_.$]*\\|\.altmacro\b")
# An asm statement (GNU C, C++ asm declarations): the keyword, qualifiers,
# then its template -- the adjacent string literals after the parenthesis.
_ASM_START = re.compile(rb"\b(?:__asm__|__asm|asm)\b(?:\s+(?:volatile|__volatile__|__volatile|goto|inline|__inline__))*\s*\(")
_LITERAL = re.compile(rb'\s*(?:u8|u|U|L)?(?:"((?:[^"\\\n]|\\.)*)"|R"([^ ()\\\t\n]{0,16})\((.*?)\)\2")', re.S)
_ESCAPE = re.compile(rb"\\(?:([0-7]{1,3})|x([0-9A-Fa-f]+)|u([0-9A-Fa-f]{4})|U([0-9A-Fa-f]{8})|(.))", re.S)
_SIMPLE_ESCAPES = {b"n": b"\n", b"t": b"\t", b"r": b"\r", b"a": b"\a", b"b": b"\b", b"f": b"\f", b"v": b"\v"}


def assembler_file_reads(output: bytes, *, assembler_source: bool) -> str:
    """Why the assembler may read a file no key sees ("" when it cannot):
    ``.incbin``/``.include`` in an assembler source (``assembler_source``:
    ``-x assembler-with-cpp``) or in an asm statement's template -- its
    string literals joined and their escapes decoded, so ``".inc" "bin"``
    and ``"\\x2eincbin"`` are seen -- or a directive name the assembler
    builds from macro arguments. The raw text is searched too (clang's
    ``__asm { }`` blocks carry no strings). Conservative: a directive in a
    false ``.if`` branch counts."""
    text = _MARKER.sub(b"", output)
    if assembler_source:
        if _READING_DIRECTIVE.search(text):
            return "the assembler reads a file (.incbin or .include)"
        if _COMPUTED_DIRECTIVE.search(text):
            return "the assembler builds a directive name from macro arguments"
        return ""
    # Substring tests before each pattern: the same answers, and a kernel
    # unit's megabytes are scanned by memchr rather than by the regex engine.
    if b".incbin" in text and _READING_DIRECTIVE.search(text) and _INCBIN.search(text):
        return "the assembler reads a file (.incbin or .include)"
    # All templates searched at once (a kernel unit has thousands): joined
    # by a newline, which the patterns read as the start of a template.
    templates = b"\n".join(_asm_templates(text))
    folded = templates.lower()
    if (b".incbin" in folded or b".include" in folded) and _READING_DIRECTIVE.search(templates):
        return "the assembler reads a file (.incbin or .include)"
    if (b"\\" in templates or b".altmacro" in folded) and _COMPUTED_DIRECTIVE.search(templates):
        return "the assembler builds a directive name from macro arguments"
    return ""


def _asm_templates(text: bytes) -> list[bytes]:
    """The decoded template of every asm statement in preprocessed C/C++."""
    found = []
    for start in _ASM_START.finditer(text):
        position, parts = start.end(), []
        while (literal := _LITERAL.match(text, position)) is not None:
            body = literal.group(1)
            raw = literal.group(3) if literal.group(3) is not None else _decode(body) if b"\\" in body else body
            parts.append(raw)
            position = literal.end()
        found.append(b"".join(parts))
    return found


def _decode(body: bytes) -> bytes:
    def one(match: re.Match[bytes]) -> bytes:
        octal, hexa, short, long_, other = match.groups()
        if octal is not None:
            return bytes([int(octal, 8) & 0xFF])
        if hexa is not None:
            return bytes([int(hexa, 16) & 0xFF])
        if short is not None or long_ is not None:
            return chr(int(short or long_, 16)).encode("utf-8", "surrogatepass")
        return _SIMPLE_ESCAPES.get(other, other)

    return _ESCAPE.sub(one, body)


def uses_time_macros(data: bytes) -> bool:
    """A source or header that names ``__DATE__``, ``__TIME__`` or ``__TIMESTAMP__``."""
    return _TIME_MACROS.search(data) is not None


#: Tokens through which a file's path reaches the object as text
#: (``__FILE__``, ``__FILE_NAME__``, ``__BASE_FILE__``, ``__builtin_FILE``,
#: ``std::source_location``), as substrings.
_FILE_MACROS = (b"__FILE", b"__BASE_FILE__", b"__builtin_FILE", b"source_location")


def uses_file_macros(data: bytes) -> bool:
    """A source or header that may put a file's path into the object:
    a result keyed without its preprocessed text must then stay with its
    checkout (depend mode of gcc/clang and msvc)."""
    return any(word in data for word in _FILE_MACROS)


def compares_file_times(texts: list[bytes]) -> bool:
    """Whether the files of one translation unit (its source and headers)
    spell out a ``#pragma GCC dependency`` (or ``clang dependency``),
    directly, in ``_Pragma("...")`` or as the tokens a macro stringizes
    into one. Conservative: a mention in a comment counts too."""
    # The substring test first: the same answer, far faster than the pattern.
    return any(b"dependency" in u and _PRAGMA_DEPENDENCY.search(u) for u in (t.replace(b"\\\n", b"") for t in texts))


def may_compute_file_time_pragma(texts: list[bytes]) -> bool:
    """Whether a ``_Pragma`` whose text a macro computes could come out as
    ``GCC dependency`` by indirection (``#define D dependency``): the unit
    has a computed ``_Pragma`` and uses the identifier ``dependency`` in
    its code (comments aside). A pragma name built by token pasting
    (``depend ## ency``) is not seen."""
    return any(computes_a_pragma(t) for t in texts) and any(names_dependency(t) for t in texts)


def computes_a_pragma(text: bytes) -> bool:
    """One file's half of `may_compute_file_time_pragma`: a computed ``_Pragma``."""
    joined = text.replace(b"\\\n", b"")
    return b"_Pragma" in joined and _COMPUTED_PRAGMA.search(joined) is not None


def names_dependency(text: bytes) -> bool:
    """The other half: the identifier ``dependency`` outside comments."""
    joined = text.replace(b"\\\n", b"")
    return b"dependency" in joined and _DEPENDENCY_WORD.search(_COMMENT.sub(b" ", joined)) is not None
