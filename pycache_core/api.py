"""The types that cross the plugin boundary.

Everything a hook receives or returns is defined here: frozen, slotted,
keyword-only dataclasses, so that a plugin cannot mutate what the core relies
on and a type checker sees real signatures. They are immutable all the way
down: a mapping they hold is a `FrozenMap` and a sequence a tuple (a plugin
may pass a dict or a list; it is copied on construction), so each is
hashable where its contents are. Plugin authors import from this module (and
`hookimpl`) only::

    from pycache_core.api import hookimpl, CompilerFamily, ParsedInvocation

Stored identifiers -- artifact roles, not-cacheable reasons, key component
names -- end up on disk and in shared caches: once released, never rename or
renumber them.
"""

from __future__ import annotations

import logging
import re
import subprocess
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar, Union

import pluggy

PROJECT = "pycache"

#: Version of the hook specifications. A plugin declares the version it was
#: written against in each `CompilerFamily`; the core skips a family whose
#: version differs, with a message naming both numbers.
API_VERSION = 1

hookimpl = pluggy.HookimplMarker(PROJECT)

K = TypeVar("K")
V = TypeVar("V")


class FrozenMap(Mapping[K, V]):
    """An immutable mapping, hashable when its values are: what the api's
    types hold instead of a dict. Reads like a dict (``get``, ``items``,
    ``in``, iteration in insertion order, ``dict(m)`` for a mutable copy);
    has no way to change it."""

    __slots__ = ("_data", "_hash")

    def __init__(self, items: Mapping[K, V] | Iterable[tuple[K, V]] = (), /) -> None:
        self._data: dict[K, V] = dict(items)
        self._hash: int | None = None

    def __getitem__(self, key: K) -> V:
        return self._data[key]

    def __iter__(self) -> Iterator[K]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __contains__(self, key: object) -> bool:
        return key in self._data

    def get(self, key, default=None):  # as dict.get, without Mapping's try/except
        return self._data.get(key, default)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, FrozenMap):
            return self._data == other._data
        if isinstance(other, Mapping):
            return self._data == dict(other.items())
        return NotImplemented

    def __hash__(self) -> int:
        if self._hash is None:
            self._hash = hash(frozenset(self._data.items()))
        return self._hash

    def __repr__(self) -> str:
        return f"FrozenMap({self._data!r})"

    def __reduce__(self):
        return (FrozenMap, (self._data,))


def frozen_map(value: Mapping[K, V]) -> FrozenMap[K, V]:
    """``value`` as a `FrozenMap` (itself when it already is one)."""
    return value if isinstance(value, FrozenMap) else FrozenMap(value)


def _freeze(instance: object, **converters: Callable[[Any], Any]) -> None:
    """Replace fields of a frozen dataclass by their immutable form (in
    ``__post_init__``: a plugin may pass a dict or a list)."""
    for name, convert in converters.items():
        value = getattr(instance, name)
        if value is not None:
            object.__setattr__(instance, name, convert(value))


def _tuple(value: Iterable[Any]) -> tuple[Any, ...]:
    return value if type(value) is tuple else tuple(value)


def _base_dirs(value: Mapping[str, Path] | Iterable[Path]) -> FrozenMap[str, Path] | tuple[Path, ...]:
    """A family's base directories by name (an unnamed sequence is named by
    the core: `pycache_core.paths.family_dirs`)."""
    return frozen_map(value) if isinstance(value, Mapping) else _tuple(value)


# --- Compiler families -------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class CompilerFamily:
    """A family of compilers one plugin serves (returned by `pycache_register_compilers`).

    ``executables`` are regular expressions matched in full against the
    executable's file name (``.exe`` removed), both as invoked and after
    resolving symlinks, so ``cc -> x86_64-linux-gnu-gcc-12`` is recognised.
    When several families match, the highest ``precedence`` wins; equal
    precedence is an ambiguity the core reports rather than guesses.
    """

    name: str
    executables: tuple[str, ...]
    cache_version: str
    api_version: int
    precedence: int = 0
    description: str = ""
    #: May a miss's compile run as ``PREFIX compiler args...`` when
    #: ``PYCACHE_PREFIX_COMMAND`` is set (distcc, icecc: plain C-family compiler
    #: calls a compile farm can take)? Families that say no compile locally.
    accepts_prefix_command: bool = False

    def __post_init__(self) -> None:
        _freeze(self, executables=_tuple)

    def matches(self, executable_name: str) -> bool:
        name = executable_name[:-4] if executable_name.lower().endswith(".exe") else executable_name
        return any(re.fullmatch(pattern, name) for pattern in self.executables)


@dataclass(frozen=True, slots=True, kw_only=True)
class CompilerIdentity:
    """What identifies a toolchain for caching purposes.

    ``fingerprint`` must change whenever the toolchain could produce different
    output: a content digest of the driver and the parts it runs, its version
    text, its target. The core memoises identities by the executable's path,
    size and times, so probing may be slow.

    A toolchain is more than its driver: the parts the driver finds on
    ``PATH`` or through a variable (the assembler gcc runs, the linker
    rustc runs) change without the driver changing. Name them, and the
    core re-checks them on every call (cheaply: by file metadata, through
    its digest memo) and probes again when one no longer holds:

    - ``files``: (path, digest from ``PluginContext.hash_file``) of every
      file the fingerprint covers beyond the driver;
    - ``absent``: paths where a part would be found first if one were
      created there (a ``PATH`` directory before the assembler's);
    - ``directories``: (directory, digest from ``PluginContext.hash_directory``)
      of directories whose entries the driver chooses from (clang picks
      the newest gcc installation it finds);
    - ``env_names``: variables the probe's lookups read (``PATH``,
      ``COMPILER_PATH``): an identity serves only calls with the values it
      was probed with.
    """

    family: str
    path: Path
    version: str
    fingerprint: str
    details: Mapping[str, str] = field(default_factory=FrozenMap)
    files: tuple[tuple[Path, str], ...] = ()
    absent: tuple[Path, ...] = ()
    directories: tuple[tuple[Path, str], ...] = ()
    env_names: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _freeze(
            self,
            details=frozen_map,
            files=lambda v: tuple(tuple(pair) for pair in v),
            absent=_tuple,
            directories=lambda v: tuple(tuple(pair) for pair in v),
            env_names=_tuple,
        )


# --- One call of a compiler -------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Invocation:
    """A compiler call as the user made it.

    ``compiler`` is the resolved real executable (never pycache itself);
    ``arguments`` exclude the compiler; ``env`` is the caller's environment:
    read from it, but never log or hash it wholesale (tokens live there).
    """

    compiler: Path
    invoked_as: str
    arguments: tuple[str, ...]
    cwd: Path
    env: Mapping[str, str]
    family: str
    stderr_is_tty: bool = False

    def __post_init__(self) -> None:
        _freeze(self, arguments=_tuple, env=frozen_map)

    def resolve(self, path: str | Path) -> Path:
        """``path`` as the compiler would see it: relative to the call's cwd."""
        p = path if isinstance(path, Path) else Path(path)  # (a Path made again costs: ~800 a kernel unit)
        return p if p.is_absolute() else self.cwd / p


# --- Texts that name paths (relocated between checkouts by the core) ---------


class MakeLayout(Protocol):
    """How one compiler writes a make-syntax dependency file: its escaping
    and its line wrapping. The core parses the file into rules and re-renders
    it through the layout after putting the current call's base directories
    in; a layout is used only if it reproduces the compiler's own file byte
    for byte (checked when the entry is stored). ``name`` is stored in
    entries: never rename it."""

    name: str

    def escape(self, path: str) -> str:
        """``path`` (a directory or file name) as the compiler writes it in a rule."""

    def target(self, given: str) -> str:
        """The target the compiler writes for an output given as ``given``
        on the command line, escaped (gcc drops a leading ``./``)."""

    def rule(self, targets: Sequence[str], prerequisites: Sequence[str]) -> str:
        """One rule from escaped names, wrapped as the compiler wraps it,
        without the final newline."""


@dataclass(frozen=True, slots=True)
class LinePaths:
    """A text whose paths stand at known places (diagnostics, comment lines).

    ``patterns``: regular expressions over the raw bytes (use ``re.M`` for
    line anchors), each with a group named ``path``; every match's ``path``
    is one path token. Only those tokens are relocated: a base directory
    anywhere else in the text keeps the result bound to the call's own base
    directories (it is never served to another checkout).
    """

    patterns: tuple[re.Pattern[bytes], ...]

    def __post_init__(self) -> None:
        _freeze(self, patterns=_tuple)


@dataclass(frozen=True, slots=True, kw_only=True)
class MakeDepfile:
    """A make-syntax dependency file (``target: prerequisites``, ``\\ ``
    escapes, ``\\``-newline continuations, ``#`` comment lines).

    - ``layouts``: the ways the family's compilers write it; the core keeps
      the ones that reproduce the file it stored exactly.
    - ``outputs``: role -> this call's path for that output as given on the
      command line. A target that names it is stored as the role and written
      back as the current call's own (so the object path need not be in the
      key when only the dependency file names it).
    - ``comments``: path positions in comment lines (rustc's
      ``# env-dep:OUT_DIR=...``); comments are otherwise copied as they are.
    """

    layouts: tuple[MakeLayout, ...]
    outputs: Mapping[str, str] = field(default_factory=dict)
    comments: LinePaths | None = None

    def __post_init__(self) -> None:
        _freeze(self, layouts=_tuple, outputs=frozen_map)


TextFormat = Union[MakeDepfile, LinePaths]


@dataclass(frozen=True, slots=True, kw_only=True)
class OutputSlot:
    """A file the call writes, under a stable role name ("object", "depfile", ...).

    A hit restores each stored artifact to the slot of the same role in the
    *current* call, so nothing stored in an entry can name where it is written.
    ``required``: the compile must produce it for the result to be cached.
    ``through_links``: how the compiler writes the file when a symbolic link
    sits at ``path``: True (the default, what opening the path for writing
    does) writes through the link to its target; False replaces the link by
    a new file, as GNU as, clang and rustc do for objects and libraries.
    A hit writes the slot the same way.
    ``text``: the file is a text that names paths, relocated exactly between
    checkouts (see `MakeDepfile`, `LinePaths`). Any other file is stored as
    it is; the core checks that it names none of the call's base directories
    before letting another checkout reuse it, unless ``names_paths_harmlessly``
    (rustc's crate metadata records the working directory, which nothing
    built from it depends on).
    """

    path: Path
    required: bool = True
    through_links: bool = True
    text: TextFormat | None = None
    names_paths_harmlessly: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class ParsedInvocation:
    """A call the family can cache (the "cacheable" outcome of parsing).

    - ``language``: the source language ("c", "c++", "rust", ...), in the key.
    - ``sources``: the primary input files.
    - ``outputs``: role -> slot for every file the call may write.
    - ``key_arguments``: arguments that affect the result, normalised (paths
      made portable) and in the order that matters; they enter the key.
    - ``ignored_arguments``: arguments that cannot change the result (shown by
      ``pycache explain``, never hashed).
    - ``run_arguments``: the arguments to run the compiler with when they
      differ from the user's (e.g. forced diagnostics colour); None = as given.
    - ``run_environment``: the environment to run the compiler with when it
      differs from the caller's (e.g. without a jobserver the server cannot
      share); None = the caller's.
    - ``colour_diagnostics``: the compile writes coloured diagnostics; the
      core strips the colour when replaying to a caller that is no terminal.
    - ``diagnostics``: where paths stand in the compile's stdout and stderr,
      relocated exactly between checkouts; None: a base directory anywhere in
      them keeps the result to the call's own base directories.
    - ``base_dirs``: directories this family treats as base directories by
      default for this call (a cargo workspace root, ``CARGO_HOME``), in
      addition to ``PYCACHE_BASEDIRS``, by name: the name is the
      placeholder's (``<BASEDIR:cwd>``); not digits, which name the
      ``PYCACHE_BASEDIRS`` entries.
    - ``private``: the plugin's own parsed state, opaque to the core, handed
      back to the plugin's later hooks. Make it immutable too (a frozen
      dataclass); it is left out of the hash, so a parsed invocation is
      hashable whatever it holds.
    """

    language: str
    sources: tuple[Path, ...]
    outputs: Mapping[str, OutputSlot]
    key_arguments: tuple[str, ...]
    ignored_arguments: tuple[str, ...] = ()
    run_arguments: tuple[str, ...] | None = None
    run_environment: Mapping[str, str] | None = None
    colour_diagnostics: bool = False
    diagnostics: LinePaths | None = None
    base_dirs: Mapping[str, Path] = field(default_factory=dict)
    private: Any = field(default=None, hash=False)

    def __post_init__(self) -> None:
        _freeze(
            self,
            sources=_tuple,
            outputs=frozen_map,
            key_arguments=_tuple,
            ignored_arguments=_tuple,
            run_arguments=_tuple,
            run_environment=frozen_map,
            base_dirs=_base_dirs,
        )


@dataclass(frozen=True, slots=True)
class NotCacheable:
    """The call is a compilation pycache will not cache; it runs as is.

    ``reason`` is a short stable identifier ("linking", "multiple-sources")
    counted in `pycache stats`; ``detail`` says precisely why, for the log.
    """

    reason: str
    detail: str = ""


@dataclass(frozen=True, slots=True)
class NotCompilation:
    """The call is not a compilation at all (a version probe, preprocessing to
    stdout, ...); it runs as is and is counted under ``reason``."""

    reason: str
    detail: str = ""


ParseOutcome = Union[ParsedInvocation, NotCacheable, NotCompilation]


# --- Keys and dependencies --------------------------------------------------

KeyValue = Union[str, bytes, tuple[str, ...]]


@dataclass(frozen=True, slots=True)
class KeyComponent:
    """One named input of a cache key.

    Plugins describe; the core hashes. Names are stable identifiers
    ("arguments", "source", "preprocessed", "env:CPATH", "file:inc/a.h");
    ``pycache explain`` compares calls component by component, so give each
    independent input its own component. A tuple keeps its order: sort it
    yourself where order is meaningless.
    """

    name: str
    value: KeyValue

    def __post_init__(self) -> None:
        if isinstance(self.value, list):
            object.__setattr__(self, "value", tuple(self.value))


@dataclass(frozen=True, slots=True, kw_only=True)
class Dependencies:
    """Everything beyond the arguments that the result depends on.

    - ``components``: enter the key as they are.
    - ``files``: files the compile read (headers, included sources); the core
      records their digests in a manifest so a later identical call can hit
      without rediscovering them (direct mode).
    - ``absent``: paths whose appearance would change the result (a header
      that would shadow one found later on the include path); recorded in the
      manifest as "must not exist".
    - Paths in ``files`` and ``absent`` are absolute, as `Path` or `str` (a
      family listing thousands may save making a `Path` of each).
    - ``env_names``: variables whose values the compile read; recorded too.
    - ``manifest_ok``: False when the inputs cannot be captured by files and
      variables (``__TIME__`` in a source): no manifest is recorded.
    - ``relocatable``: the family vouches that every path it keyed in
      portable form (`PluginContext.portable_path`) reaches the result only
      through the texts the core relocates (the slots' ``text`` and the
      diagnostics); paths the outputs embed (debug info, ``__FILE__``) were
      keyed as they are. Then a call in another checkout may reuse the
      result and its manifest record. False (the default): they are reused
      only by calls with the same base directories.
    - ``deferred``: the rest of the key comes from the compile itself (it
      writes a complete dependency list, as rustc's ``--emit=dep-info``
      does). The core then skips the lookup -- no manifest matched, so this is
      a miss for all practical purposes -- compiles at once, and keys the
      entry with these components plus ``Outputs.dependencies.components``
      from `pycache_collect_outputs`. It saves a dependency-discovery run on
      every miss; use it only when the compile's own list is complete.
    - ``private``: the plugin's own record of what discovery already did
      (files it produced on the way), handed back to `pycache_run_compile`
      on a miss; opaque to the core, never stored or hashed.
    - ``run_arguments``: the arguments the miss's compile runs with when
      discovery needs them changed (a deferred call's dependency list
      written to a scratch file: gcc's ``-MD -MF``); None = the parsed
      invocation's. Never in the key.
    """

    components: tuple[KeyComponent, ...]
    files: tuple[Path | str, ...] = ()
    absent: tuple[Path | str, ...] = ()
    env_names: tuple[str, ...] = ()
    manifest_ok: bool = True
    relocatable: bool = False
    deferred: bool = False
    private: Any = field(default=None, hash=False)
    run_arguments: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        _freeze(self, components=_tuple, files=_tuple, absent=_tuple, env_names=_tuple, run_arguments=_tuple)


# --- Results and outputs ----------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class CompileResult:
    """What running the real compiler gave."""

    exit_code: int
    stdout: bytes
    stderr: bytes
    duration: float


@dataclass(frozen=True, slots=True, kw_only=True)
class Artifact:
    """A file a successful compile produced, under its slot's role (how it
    names paths is the slot's ``text``)."""

    role: str
    path: Path


@dataclass(frozen=True, slots=True, kw_only=True)
class Outputs:
    """What `pycache_collect_outputs` returns for a successful compile.

    ``dependencies``: files/variables the compile itself reported (rustc's
    dep-info), merged into the manifest the core records; their components
    complete the key when discovery returned ``Dependencies(deferred=True)``.

    ``rediscover``: for a deferred call, why the compile's own list cannot
    key this result although discovery can (a file read that no list
    vouches for: gcc's ``#pragma GCC dependency`` a macro may build, a
    header -MMD leaves out). The core then runs
    `pycache_discover_dependencies` again with ``context.depend_mode`` off,
    keys and stores the result from what that finds, and -- where those
    dependencies admit no manifest -- records in the call's manifest that
    it must be discovered first: later calls with the same inputs skip
    depend mode, in any server.
    """

    artifacts: tuple[Artifact, ...]
    dependencies: Dependencies | None = None
    rediscover: str = ""

    def __post_init__(self) -> None:
        _freeze(self, artifacts=_tuple)


@dataclass(frozen=True, slots=True, kw_only=True)
class StepResult:
    """One step of a compile that a plugin runs in steps of its own
    (`pycache_run_compile`), as stored by `PluginContext.store_step`: the
    files the step wrote, under the plugin's names for them (never paths:
    the plugin decides where they go when it reuses them), and what the
    step printed."""

    files: Mapping[str, bytes]
    stdout: bytes = b""
    stderr: bytes = b""

    def __post_init__(self) -> None:
        _freeze(self, files=frozen_map)


# --- Services the core lends to plugins -------------------------------------


class PluginContext(Protocol):
    """Core services available to every hook that takes a ``context``.

    Use these instead of your own hashing or subprocess code: the core
    memoises digests across calls and times every stage for the log.
    """

    identity: CompilerIdentity | None
    log: logging.Logger
    scratch_dir: Path
    #: ``PYCACHE_DEPEND_MODE`` for this call (and direct mode on): a family
    #: whose compile lists what it read may key a miss from that list --
    #: return ``Dependencies(deferred=True)`` and report the files from
    #: `pycache_collect_outputs` -- instead of running a preprocessor.
    #: Off where an earlier compile of the call asked to be discovered
    #: instead (`Outputs.rediscover`).
    depend_mode: bool
    #: The compile goes through ``PYCACHE_PREFIX_COMMAND`` (distcc, icecc):
    #: it may run on another host, so arguments that make it write a file
    #: for pycache to read (an assembler's list) must not be added.
    compiled_elsewhere: bool

    def hash_file(self, path: Path | str) -> str:
        """Hex digest of a file's content, memoised by inode, size and times."""

    def hash_directory(self, path: Path) -> str | None:
        """Hex digest of a directory's entry names (not their contents),
        memoised by the directory's times; None when it is no directory."""

    def existing(self, paths: Iterable[str]) -> set[str]:
        """Which of ``paths`` have a directory entry now (each as
        ``os.path.lexists`` would say), answered with one ``stat`` per
        directory and its memoised listing where it has settled."""

    def hash_bytes(self, data: bytes) -> str:
        """Hex digest of bytes."""

    def run(
        self,
        argv: Sequence[str],
        *,
        cwd: Path | None = None,
        env: Mapping[str, str] | None = None,
        stdin: bytes | None = None,
    ) -> subprocess.CompletedProcess[bytes]:
        """Run a helper command (a preprocessor, a probe); output captured."""

    def run_compile_step(
        self, argv: Sequence[str], *, cwd: Path | None = None, env: Mapping[str, str] | None = None
    ) -> subprocess.CompletedProcess[bytes]:
        """Run one process of the call's compile (a step of
        `pycache_run_compile`, or a preprocessing step whose output the
        compile goes on with) the way the core runs a compiler: the
        caller's umask for the files it writes, no stdin, a process group
        of its own, output captured.

        While it runs, the calling client is watched: when it goes away
        (Ctrl-C on the build) the step's whole process group is terminated
        and the call is cancelled -- an internal exception leaves the hook
        (let it through: do not catch ``Exception`` around this call), no
        further step starts, and nothing of the call is stored, step
        results included. Use `run` for probes and helpers whose output is
        no part of the compile."""

    def portable_path(self, path: str | Path) -> str:
        """``path`` with the longest base directory holding it replaced by
        its placeholder (``<BASEDIR:1>/inc/a.h``), so keys do not depend on
        where a checkout lives; other paths as they are. Key a path this way
        only where the result names it in a text the core relocates; a path
        the output embeds (debug info, ``__FILE__``) is keyed as it is."""

    def names_base_directory(self, data: bytes) -> str | None:
        """The first base directory ``data`` names as a path, or None: text a
        key holds as it is that names one makes the result depend on where
        the checkout is (`Dependencies.relocatable` must then be False)."""

    def lookup_step(self, step: str, components: Sequence[KeyComponent]) -> StepResult | None:
        """A step result stored earlier under ``components``, or None.

        For a family that compiles a miss in steps (`pycache_run_compile`)
        and reuses some of them across calls (nvcc: the device code of each
        GPU architecture). The core hashes ``components`` with the family,
        its cache version and ``step`` into a key of its own, looks it up in
        every storage tier, and counts a hit or a miss of ``step`` in the
        family's step breakdown of `pycache stats` (the call itself counts
        once, as the miss it is). Describe every input of the step, as for
        any key: a step result is reused whenever the components match."""

    def store_step(self, step: str, components: Sequence[KeyComponent], result: StepResult) -> None:
        """Store a step's result under ``components`` (see `lookup_step`);
        never raises: a storage fault is counted and logged."""


# --- Storage backends -------------------------------------------------------


class StorageBackend(Protocol):
    """A place entries are stored: get / put / remove of opaque bytes.

    Keys are short ASCII strings ("entries/ab/abcdef...", "manifests/...").
    Raise `pycache_core.errors.StorageError` with the service's own code,
    message, status and request id; the core turns every failure into a miss
    or a skipped write, never a failed build.
    """

    name: str
    writable: bool

    def get(self, key: str) -> bytes | None: ...

    def put(self, key: str, data: bytes) -> None: ...

    def remove(self, key: str) -> None: ...

    def describe(self) -> Mapping[str, str]:
        """Where it points and how it authenticates (for `pycache doctor`)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class StorageBackendType:
    """A kind of storage (returned by `pycache_register_storage_backends`).

    ``create(settings)`` returns a backend, or None when the settings do not
    turn this kind on, or a list when the kind is configured more than once
    (several OpenDAL services): of backends, and of exceptions for those
    that could not be opened (a `StorageError` names its tier by
    ``backend``), so one broken tier leaves the others serving. Each
    backend's ``name`` names its tier and must be unique. ``tier`` orders lookups: lower first (local disk
    0, Redis 10, S3 20, OpenDAL 30); a backend with an integer ``tier``
    attribute of its own takes that place instead. A hit in a slower tier is
    copied to faster ones.
    """

    name: str
    tier: int
    create: Callable[[Any], StorageBackend | None]
    shared: bool = True
