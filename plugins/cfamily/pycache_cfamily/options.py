"""Option tables: what each argument of a C-family command line is.

A table is a list of `OptionSpec` rows. Each row has a spelling, the way it
takes its value (`ArgForm`) and a *kind*: a member of a closed enum (a
subclass of `OptionKind`) that the plugin's parser dispatches on. The table
declares which kind enums its rows may use; anything else -- a string, a
member of an undeclared enum -- is an `OptionTableError` when the table is
built, so a misspelt or forgotten kind can never fall through into "just
hash it"::

    class Kind(OptionKind):
        COMPILE = "compile"
        OUTPUT = "output"
        PREPROCESSOR = "preprocessor"
        CODEGEN = "codegen"
        REFUSED = "refused"

        @property
        def refuses(self) -> bool:
            return self is Kind.REFUSED

    TABLE = OptionTable(
        [
            OptionSpec("-c", ArgForm.FLAG, Kind.COMPILE),
            OptionSpec("-o", ArgForm.JOINED_OR_SEPARATE, Kind.OUTPUT, path=True),
            OptionSpec("-I", ArgForm.JOINED_OR_SEPARATE, Kind.PREPROCESSOR, path=True),
            OptionSpec("-std", ArgForm.EQUALS, Kind.CODEGEN),
            OptionSpec("-save-temps", ArgForm.FLAG, Kind.REFUSED, reason="save-temps"),
        ],
        kinds=Kind,
    )
    HANDLERS = exhaustive_handlers(TABLE, {Kind.COMPILE: on_compile, ...})  # every kind, or an error
    for arg in TABLE.parse(argv):
        ...  # ParsedArg: spec (None = input or unknown option), value, tokens

**Refusals are data.** A kind whose ``refuses`` is true makes the call not
cacheable (or no compilation); each of its rows carries the stable reason
identifier that `pycache stats` counts (``reason="save-temps"``), and only
those rows may. Reasons are stored data: never rename one.

**Lookup** is the exact spelling first, then the longest joined or ``=``
spelling that is a prefix of the argument, so specific rows
(``-fprofile-use=``) win over generic ones (``-f``). Spellings are
case-sensitive, as gcc's and cl's are.

**Prefixes.** A table declares the characters that start its options
(``prefixes="-"`` for gcc, ``"-/"`` for cl). For characters that also
start a file-system path (``path_prefixes="/"``), clang-cl's rule applies:
an argument that matches a row *is* that option (``/Users/me/a.c`` parses
as ``/U`` with the value ``sers/me/a.c``, as clang-cl does), and one that
matches none is an input rather than an unknown option. Whether to accept
such a match is the plugin's policy. ``end_of_options`` names a row
(``--``) after which every argument is an input.

**Composition.** ``OptionTable.compose(cl_table, GNU_OPTIONS)`` is one table
with the rows and kinds of both: nvcc's options plus gcc's, cl's plus
clang's. Two rows that would claim the same argument with different meanings
are an `OptionTableError`; a plugin that means to replace a row says so with
``table.without("-o")``. A sub-list (the values of ``/clang:`` or
``-Xcompiler``) is parsed with another table's `OptionTable.parse`.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import KW_ONLY, dataclass, replace
from types import MappingProxyType
from typing import TypeVar

__all__ = [
    "ArgForm",
    "OptionKind",
    "OptionSpec",
    "OptionTable",
    "OptionTableError",
    "ParsedArg",
    "exhaustive_handlers",
    "portable_argument",
    "with_prefixes",
]


class OptionTableError(ValueError):
    """An option table (or a row of one) is malformed: an unknown kind, a
    refusal without a reason, a spelling that does not start with one of
    the table's prefixes, two rows claiming the same argument."""


class ArgForm(enum.Enum):
    """How an option takes its value."""

    #: no value: ``-c``
    FLAG = "flag"
    #: the next argument: ``-Xclang -foo``
    SEPARATE = "separate"
    #: the rest of the same argument, possibly empty: ``-O2``, ``-Wall``, ``-O``, ``/FoX``
    JOINED = "joined"
    #: joined, or the next argument when nothing is joined: ``-Iinc``, ``-I inc``
    JOINED_OR_SEPARATE = "either"
    #: after ``=`` in the same argument: ``-std=c11``; with
    #: ``OptionSpec.separate_ok`` also ``--param name=value`` as two arguments
    EQUALS = "equals"


class OptionKind(enum.Enum):
    """Base class of a family's closed set of option kinds.

    Subclass it with one member per thing the parser must treat differently,
    and override `refuses` for the kinds whose rows make a call not
    cacheable (their rows carry a reason)."""

    @property
    def refuses(self) -> bool:
        """Rows of this kind stop caching; each carries its ``reason``."""
        return False


_REASON = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


@dataclass(frozen=True, slots=True)
class OptionSpec:
    """One row of an option table.

    ``kind``: what the option means, a member of the table's kind enums.
    ``path``: the value is (or contains) a file-system path, so it must be
    made portable before it is hashed. ``reason``: for a refusing kind, the
    stable not-cacheable reason (``"save-temps"``); empty for every other
    kind. ``separate_ok``: for `ArgForm.EQUALS`, the value may also be the
    next argument (``--sysroot dir``). ``separator``: the value is a list
    (``-Wa,-g,--gdwarf-5`` with ``","``), split by `ParsedArg.values`.
    """

    spelling: str
    form: ArgForm
    kind: OptionKind
    _: KW_ONLY
    path: bool = False
    reason: str = ""
    separate_ok: bool = False
    separator: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.spelling, str) or len(self.spelling) < 2:
            raise OptionTableError(f"option spelling {self.spelling!r}: a prefix and at least one character")
        if not isinstance(self.form, ArgForm):
            raise OptionTableError(f"option {self.spelling!r}: form {self.form!r} is not an ArgForm")
        if not isinstance(self.kind, OptionKind):
            raise OptionTableError(
                f"option {self.spelling!r}: kind {self.kind!r} is not a member of an OptionKind enum"
            )
        if self.kind.refuses and not self.reason:
            raise OptionTableError(f"option {self.spelling!r}: kind {self.kind.name} refuses, so the row needs a reason")
        if self.reason and not self.kind.refuses:
            raise OptionTableError(
                f"option {self.spelling!r}: reason {self.reason!r} on kind {self.kind.name}, which does not refuse"
            )
        if self.reason and not _REASON.fullmatch(self.reason):
            raise OptionTableError(f"option {self.spelling!r}: reason {self.reason!r} is not a lower-case-dashed identifier")
        if self.separate_ok and self.form is not ArgForm.EQUALS:
            raise OptionTableError(f"option {self.spelling!r}: separate_ok applies to ArgForm.EQUALS only")
        if self.separator and self.form is ArgForm.FLAG:
            raise OptionTableError(f"option {self.spelling!r}: a flag has no value to separate")


@dataclass(frozen=True, slots=True)
class ParsedArg:
    """One option or input as it appeared on the command line.

    ``spec`` is None for an input (`is_input`) and for an unknown option
    (`is_unknown`). ``tokens`` are the argument(s) exactly as given: one,
    or two for a separate value. ``missing_value``: the option wants a
    separate value and the command line ended.
    """

    spec: OptionSpec | None
    value: str | None
    tokens: tuple[str, ...]
    index: int
    missing_value: bool = False
    unknown: bool = False

    @property
    def is_input(self) -> bool:
        return self.spec is None and not self.unknown

    @property
    def is_unknown(self) -> bool:
        return self.unknown

    @property
    def kind(self) -> OptionKind | None:
        return self.spec.kind if self.spec is not None else None

    @property
    def option(self) -> str:
        """The spelling of the matched option ("" for inputs and unknown ones)."""
        return self.spec.spelling if self.spec is not None else ""

    def values(self) -> tuple[str, ...]:
        """The value split at the row's ``separator`` (one item without one)."""
        value = self.value or ""
        if self.spec is not None and self.spec.separator:
            return tuple(value.split(self.spec.separator))
        return (value,)

    def joined(self) -> str:
        """The option as one argument (``-I inc`` -> ``-Iinc``); an `ArgForm.EQUALS`
        or `ArgForm.SEPARATE` value keeps its separator."""
        if self.spec is None or len(self.tokens) == 1:
            return self.tokens[0]
        if self.spec.form is ArgForm.EQUALS:
            return f"{self.spec.spelling}={self.value}"
        if self.spec.form is ArgForm.SEPARATE:
            return f"{self.spec.spelling} {self.value}"
        return f"{self.spec.spelling}{self.value}"


def _exact_spelling(spec: OptionSpec) -> str | None:
    """The whole argument that selects ``spec`` on its own, if any."""
    if spec.form in (ArgForm.FLAG, ArgForm.SEPARATE, ArgForm.JOINED_OR_SEPARATE):
        return spec.spelling
    if spec.form is ArgForm.EQUALS and spec.separate_ok:
        return spec.spelling
    return None


def _prefix_spelling(spec: OptionSpec) -> str | None:
    """The start of an argument that selects ``spec`` with a joined value, if any."""
    if spec.form in (ArgForm.JOINED, ArgForm.JOINED_OR_SEPARATE):
        return spec.spelling
    if spec.form is ArgForm.EQUALS:
        return spec.spelling + "="
    return None


class OptionTable:
    """A set of `OptionSpec` rows and the parser that applies them.

    ``kinds``: the `OptionKind` enum(s) rows may use. ``prefixes``: the
    characters that start an option. ``path_prefixes``: those of them that
    also start a path (an unmatched argument starting with one is an input).
    ``end_of_options``: the spelling of a flag row after which every
    argument is an input. Immutable once built: safe to share between threads.
    """

    def __init__(
        self,
        specs: Iterable[OptionSpec],
        *,
        kinds: type[OptionKind] | Sequence[type[OptionKind]],
        prefixes: str = "-",
        path_prefixes: str = "",
        end_of_options: str | None = None,
    ) -> None:
        kind_enums = (kinds,) if isinstance(kinds, type) else tuple(kinds)
        for enum_type in kind_enums:
            if not (isinstance(enum_type, type) and issubclass(enum_type, OptionKind)):
                raise OptionTableError(f"table kinds: {enum_type!r} is not an OptionKind enum")
        if not kind_enums:
            raise OptionTableError("a table declares at least one OptionKind enum")
        if not prefixes or any(c == "@" or c.isalnum() or c.isspace() for c in prefixes):
            raise OptionTableError(f"option prefixes {prefixes!r}: punctuation such as '-' or '/'")
        if any(c not in prefixes for c in path_prefixes):
            raise OptionTableError(f"path prefixes {path_prefixes!r} must be option prefixes ({prefixes!r}) too")
        self._specs = tuple(specs)
        self._kinds = kind_enums
        self._prefixes = prefixes
        self._path_prefixes = path_prefixes
        exact: dict[str, OptionSpec] = {}
        prefixed: dict[str, OptionSpec] = {}
        for spec in self._specs:
            if not isinstance(spec, OptionSpec):
                raise OptionTableError(f"table row {spec!r} is not an OptionSpec")
            if type(spec.kind) not in kind_enums:
                declared = ", ".join(k.__name__ for k in kind_enums)
                raise OptionTableError(
                    f"option {spec.spelling!r}: kind {spec.kind!r} is not one of the table's kinds ({declared})"
                )
            if spec.spelling[0] not in prefixes:
                raise OptionTableError(f"option {spec.spelling!r} does not start with one of {prefixes!r}")
            for index, key in ((exact, _exact_spelling(spec)), (prefixed, _prefix_spelling(spec))):
                if key is None:
                    continue
                other = index.get(key)
                if other is not None and other != spec:
                    raise OptionTableError(
                        f"option {key!r} is in the table twice with different meanings: {other} and {spec}"
                    )
                index[key] = spec
        buckets: dict[str, list[OptionSpec]] = {}
        for spec in prefixed.values():
            buckets.setdefault(spec.spelling[:2], []).append(spec)
        for rows in buckets.values():
            rows.sort(key=lambda s: len(s.spelling), reverse=True)
        self._exact = exact
        self._prefixed = buckets
        # Joined spellings found by a scan of their bucket, kept: a build
        # repeats the same few hundred tokens in every call, and the scan
        # (``-f``, ``-W``, ``-m`` hold hundreds of rows) was most of parsing.
        self._joined: dict[str, OptionSpec | None] = {}
        self._end = None
        if end_of_options is not None:
            end = exact.get(end_of_options)
            if end is None or end.form is not ArgForm.FLAG:
                raise OptionTableError(f"end of options {end_of_options!r} must be a flag row of the table")
            self._end = end

    # --- building tables from tables -----------------------------------------

    @classmethod
    def compose(
        cls,
        *tables: OptionTable,
        prefixes: str | None = None,
        path_prefixes: str | None = None,
        end_of_options: str | None = None,
    ) -> OptionTable:
        """One table with the rows and kinds of ``tables``, in order.

        Prefixes are the union of the parts' unless given; a character that
        starts options in one part and paths in another must be settled by
        passing ``path_prefixes``. Rows of two parts that claim the same
        argument differently are an `OptionTableError` (identical rows are
        kept once); drop a row on purpose with `without` first.
        """
        if not tables:
            raise OptionTableError("compose() needs at least one table")
        kinds: list[type[OptionKind]] = []
        for table in tables:
            kinds.extend(k for k in table.kinds if k not in kinds)
        if prefixes is None:
            prefixes = "".join(dict.fromkeys(c for t in tables for c in t.prefixes))
        if path_prefixes is None:
            path_prefixes = "".join(dict.fromkeys(c for t in tables for c in t.path_prefixes))
            strict = {c for t in tables for c in t.prefixes if c not in t.path_prefixes}
            mixed = strict & set(path_prefixes)
            if mixed:
                raise OptionTableError(
                    f"{''.join(sorted(mixed))!r} starts options in one table and paths in another: pass path_prefixes"
                )
        if end_of_options is None:
            ends = {t.end_of_options for t in tables if t.end_of_options is not None}
            if len(ends) > 1:
                raise OptionTableError(f"the tables end options differently ({sorted(ends)}): pass end_of_options")
            end_of_options = ends.pop() if ends else None
        rows = list(dict.fromkeys(spec for table in tables for spec in table.specs))
        return cls(rows, kinds=kinds, prefixes=prefixes, path_prefixes=path_prefixes, end_of_options=end_of_options)

    def without(self, *spellings: str) -> OptionTable:
        """This table less every row spelt as one of ``spellings`` (all
        forms); naming a spelling the table lacks is an error."""
        present = {spec.spelling for spec in self._specs}
        missing = [s for s in spellings if s not in present]
        if missing:
            raise OptionTableError(f"without(): no row spelt {', '.join(map(repr, missing))}")
        end = self.end_of_options if self.end_of_options not in spellings else None
        return OptionTable(
            [spec for spec in self._specs if spec.spelling not in spellings],
            kinds=self._kinds,
            prefixes=self._prefixes,
            path_prefixes=self._path_prefixes,
            end_of_options=end,
        )

    # --- reading --------------------------------------------------------------

    @property
    def specs(self) -> tuple[OptionSpec, ...]:
        return self._specs

    @property
    def kinds(self) -> tuple[type[OptionKind], ...]:
        return self._kinds

    @property
    def prefixes(self) -> str:
        return self._prefixes

    @property
    def path_prefixes(self) -> str:
        return self._path_prefixes

    @property
    def end_of_options(self) -> str | None:
        return self._end.spelling if self._end is not None else None

    def looks_like_option(self, token: str) -> bool:
        """Starts with one of the table's prefixes (a lone ``-`` is the
        standard input, not an option)."""
        return len(token) > 1 and token[0] in self._prefixes

    def lookup(self, token: str) -> OptionSpec | None:
        """The row that matches ``token``: the exact spelling, else the
        longest joined/``=`` spelling that prefixes it."""
        spec = self._exact.get(token)
        if spec is not None:
            return spec
        try:
            return self._joined[token]
        except KeyError:
            pass
        found = None
        for row in self._prefixed.get(token[:2], ()):
            if row.form is ArgForm.EQUALS:
                if token.startswith(row.spelling + "="):
                    found = row
                    break
            elif token.startswith(row.spelling):
                found = row
                break
        if len(self._joined) >= _MAX_JOINED_MEMO:
            self._joined.clear()
        self._joined[token] = found
        return found

    def parse(self, arguments: Sequence[str]) -> list[ParsedArg]:
        """Split ``arguments`` into options (with their values) and inputs."""
        parsed: list[ParsedArg] = []
        i, n = 0, len(arguments)
        while i < n:
            token = arguments[i]
            spec = self.lookup(token) if self.looks_like_option(token) else None
            if spec is None:
                unknown = self.looks_like_option(token) and token[0] not in self._path_prefixes
                parsed.append(ParsedArg(None, None, (token,), i, unknown=unknown))
                i += 1
                continue
            form = spec.form
            if form is ArgForm.FLAG:
                parsed.append(ParsedArg(spec, None, (token,), i))
                i += 1
                if spec is self._end:
                    parsed.extend(ParsedArg(None, None, (rest,), j) for j, rest in enumerate(arguments[i:], start=i))
                    break
            elif token == spec.spelling and (
                form in (ArgForm.SEPARATE, ArgForm.JOINED_OR_SEPARATE) or (form is ArgForm.EQUALS and spec.separate_ok)
            ):
                if i + 1 >= n:
                    parsed.append(ParsedArg(spec, None, (token,), i, missing_value=True))
                    i += 1
                else:
                    parsed.append(ParsedArg(spec, arguments[i + 1], (token, arguments[i + 1]), i))
                    i += 2
            elif form is ArgForm.EQUALS:
                parsed.append(ParsedArg(spec, token[len(spec.spelling) + 1 :], (token,), i))
                i += 1
            else:  # JOINED, or JOINED_OR_SEPARATE with a joined value
                parsed.append(ParsedArg(spec, token[len(spec.spelling) :], (token,), i))
                i += 1
        return parsed


_MAX_JOINED_MEMO = 4096  # distinct tokens; a server's table sees few more


def with_prefixes(specs: Iterable[OptionSpec], prefixes: str) -> list[OptionSpec]:
    """Each row once per prefix character: cl accepts ``/c`` and ``-c``
    alike, so a cl table is written once with ``/`` and spelt both ways."""
    rows: list[OptionSpec] = []
    for spec in specs:
        if spec.spelling[0] not in prefixes:
            raise OptionTableError(f"option {spec.spelling!r} does not start with one of {prefixes!r}")
        rows.extend(replace(spec, spelling=p + spec.spelling[1:]) for p in prefixes)
    return rows


H = TypeVar("H")


def exhaustive_handlers(table: OptionTable, handlers: Mapping[OptionKind, H]) -> Mapping[OptionKind, H]:
    """``handlers``, read-only, once checked to have exactly one entry per
    member of every kind enum of ``table``: a parser built on it cannot
    forget a kind, nor keep a handler for one that no longer exists."""
    expected = {member for enum_type in table.kinds for member in enum_type}
    missing = expected - handlers.keys()
    extra = handlers.keys() - expected
    if missing or extra:
        parts = []
        if missing:
            parts.append("no handler for " + ", ".join(sorted(f"{type(m).__name__}.{m.name}" for m in missing)))
        if extra:
            parts.append("handlers for kinds the table does not have: " + ", ".join(sorted(map(repr, extra))))
        raise OptionTableError("; ".join(parts))
    return MappingProxyType(dict(handlers))


_VALUE_SEPARATORS = re.compile(r"([=,])")


def portable_argument(argument: str, table: OptionTable, portable_path: Callable[[str], str]) -> str:
    """An option with every path in it made portable by ``portable_path``
    (`PluginContext.portable_path`): ``-I/base/inc``,
    ``-fdebug-prefix-map=/base=.``, ``-Wl,-rpath,/base/lib``, a path that is
    a base directory itself. Each piece between ``=`` and ``,`` is one whole
    path or none: a base directory inside other text stays as it is.
    ``table`` tells where a joined value starts."""
    pieces = _VALUE_SEPARATORS.split(argument)
    for i, piece in enumerate(pieces):
        if not piece or piece in "=,":
            continue
        portable = portable_path(piece)
        if portable == piece and piece[:1] in table.prefixes:
            spec = table.lookup(piece)
            if spec is not None and piece != spec.spelling:
                head = spec.spelling
                portable = head + portable_path(piece[len(head) :])
        pieces[i] = portable
    return "".join(pieces)

