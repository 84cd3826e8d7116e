"""Depend mode: a gcc/clang miss keyed from its compile's own dependency list.

With ``PYCACHE_DEPEND_MODE`` on (and direct mode), a miss runs no ``-E``
pass: the compile itself writes a make dependency file -- the caller's
own when it asked for one with ``-MD`` (or ``-Wp,-MD,``), else a scratch
file added to the run's arguments only (``-MD -MF <scratch>``, never in
the key) -- and the entry is keyed by the direct-mode components plus the
digest of every file that list names. A later call hits through the
manifest only.

What the list cannot show decides before the compile where the command
line tells (`plan`: the call then runs in preprocessor mode, the reason
logged) and after it otherwise (`reported`: the compile is then keyed in
preprocessor mode after all -- one ``-E`` pass after it -- and, where that
mode admits no manifest, the call's manifest tells later calls to run it
first; see `pycache_core.api.Outputs.rediscover`):

- ``-MMD`` leaves system headers out, and one compile cannot write a
  second, complete list: such a call uses preprocessor mode -- unless its
  include search list holds no system directory at all (every directory
  the ``-E -v`` probe prints came from the call's own ``-I``/``-iquote``,
  as with the Linux kernel's ``-nostdinc``), where the only system headers
  left are files that make themselves one (``#pragma GCC system_header``,
  a line marker): a unit reading such a file is keyed by the preprocessor;
- ``-MG``, ``-imacros``, a precompiled header, ``-Wp,`` options, an
  assembler source (the assembler's ``.include``/``.incbin`` reads are in
  no list of the compiler's), a recorded command line that an added ``-MD`` would change,
  debug information with prefix maps (their effect on the recorded names
  is keyed from the preprocessor's spelling), a command-line macro that
  calls ``__has_include``: preprocessor mode;
- a file read that uses ``__DATE__``/``__TIME__``, a computed
  ``__has_include``, ``#pragma GCC dependency`` (or a computed ``_Pragma``
  that might be one), or has a ``.gch`` beside it: keyed by the
  preprocessor (which caches it where it can).

Inline assembly may read files (``.include``, ``.incbin``), which no
compiler list names. With gcc and an assembler that writes its own list
(GNU as' ``--MD``, checked once per compiler by a probe), the compile also
gets ``-Wa,--MD,<scratch>``: a file the assembler read beyond its input and
the source's name keeps the result out of the cache. Otherwise (clang's
integrated assembler) any file read whose raw text mentions such a
directive, or a piece a string concatenation could make one of, does.

Headers that would shadow one read if created must stay absent. The
include search list comes from one ``-E -v`` run on an empty input per
(compiler, options that can move it, variables), memoised while its
directories stay as they were. Without the include tree a dependency file
does not tell which file included which, so the places are worked out
conservatively (more of them only turns a hit into a miss): for each file
read, every earlier search directory under which its name would be found;
for each ``#include "..."`` of a file read, the name in that file's own
directory; for an include whose name a macro computes, the name of every
header read in that file's directory.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from pycache_cfamily import reasons as R
from pycache_cfamily.environment import english_messages_env
from pycache_cfamily.includes import (
    SearchPath,
    UnrecordableLookup,
    first_missing_each,
    has_include_lookups,
    parse_search_path,
    resolve,
    uses_has_include,
)
from pycache_cfamily.options import ParsedArg
from pycache_cfamily.preprocessed import (
    compares_file_times,
    computes_a_pragma,
    names_dependency,
    uses_file_macros,
    uses_time_macros,
)
from pycache_core.api import Dependencies, Invocation, KeyComponent, NotCacheable, ParsedInvocation, PluginContext
from pycache_core.paths import as_is
from pycache_core.relocation import MakeRule, parse_make

from .arguments import COMPILER_ENV, OPTIONS, GccCall
from .embedding import PathMode

#: Not-cacheable reasons of depend mode (stored data: never rename).
DEPEND_UNREADABLE = "depend-list-unreadable"
DEPEND_TIME_MACROS = "depend-time-macros"
DEPEND_UNRECORDABLE = "depend-unrecordable-lookup"
DEPEND_SYSTEM_HEADER = "depend-system-header"

#: The scratch dependency file's name in the call's scratch directory.
SCRATCH_DEPFILE = "depend.d"
#: The assembler's own list (GNU as --MD), in the same directory.
ASSEMBLER_LIST = "assembler.d"

#: What may make the assembler read a file or build a directive, searched
#: in the lower-cased raw text of every file (the templates are not
#: expanded here, so any mention counts): ``.incbin``, ``.include``, the
#: pieces ``".inc"`` and ``"inc"`` a string concatenation could join, an
#: escaped dot, ``.altmacro``.
_ASSEMBLER_READS = (b"incbin", b".include", b'.inc"', b'"inc"', b".altmacro", b"\\x2e", b"\\x02e", b"\\056", b"\\56")
#: What makes the rest of a file a system header, which -MMD lists nothing
#: it includes from: the pragma (gcc's and clang's spelling), or a GNU line
#: marker (``# 12 "name" 3``; any marker counts).
_SYSTEM_HEADER_PRAGMA = b"system_header"
_LINE_MARKER = re.compile(rb"^[ \t]*#[ \t]*[0-9]", re.MULTILINE)
#: Search options that add system directories (or move where gcc looks for
#: them), by their option-table spelling: a call with any of them (or
#: ``-I-``) keeps -MMD in preprocessor mode.
_SYSTEM_SEARCH_OPTIONS = frozenset({"-isystem", "-isystem-after", "-idirafter", "-iwithprefix", "-iwithprefixbefore",
                                    "-iwithsysroot", "-cxx-isystem", "-iframework", "-imultilib", "-iprefix", "-F"})
#: An include directive (``#``, the digraph ``%:``, the trigraph ``??=``;
#: comments between), anywhere on a line: what follows the keyword is a
#: quoted name, an angled one, or a macro.
_INCLUDE = re.compile(rb'(?:#|%:|\?\?=)(?:[ \t]|/\*.*?\*/)*(?:include_next|include|import)(?:[ \t]|/\*.*?\*/)*(\S)([^\n]*)')


@dataclass(frozen=True, slots=True)
class DependPlan:
    """How a depend-mode miss gets its list: the file the compile writes
    (``scratch``: added to the run's arguments by pycache) and the include
    search list the shadowing checks use."""

    depfile: Path
    scratch: bool
    search: SearchPath
    #: The list leaves system headers out (-MMD): the search list has no
    #: system directory, so a file read that makes itself one keeps the
    #: unit out of the cache.
    user_headers_only: bool = False
    #: Where the assembler writes the files it read (-Wa,--MD), or None
    #: when it cannot: then a file read that mentions an assembler read
    #: keeps the unit out.
    assembler_list: Path | None = None


@dataclass(frozen=True, slots=True)
class _Facts:
    """What depend mode needs to know of one file's text (memoised by its
    digest: a header read by many units is scanned once)."""

    refusal: tuple[str, str]  # (reason, why) that keeps a unit out, or ("", "")
    assembler_reads: bool  # mentions an assembler directive that reads files
    file_times: bool  # spells a #pragma GCC dependency
    computes_pragma: bool
    names_dependency: bool
    has_include: bool
    file_macro: bool
    quoted: tuple[str, ...]  # the names of its #include "..." directives
    computed_include: bool  # an include whose name a macro gives
    system_header: bool  # makes itself a system header (pragma, line marker)


def _facts_of(data: bytes) -> _Facts:
    # Plain substring tests first: most headers name none of these, and the
    # regular expressions behind them cost ten times as much.
    lowered = data.lower()
    names_dep = b"dependency" in data
    refusal = ("", "")
    if (b"__DATE__" in data or b"__TIME" in data) and uses_time_macros(data):
        refusal = (DEPEND_TIME_MACROS, "uses __DATE__, __TIME__ or __TIMESTAMP__")
    quoted: list[str] = []
    computed = False
    for match in _INCLUDE.finditer(data.replace(b"\\\n", b"")):
        first, rest = match.group(1), match.group(2)
        if first == b'"':
            end = rest.find(b'"')
            if end > 0:
                quoted.append(rest[:end].decode("utf-8", "surrogateescape"))
                continue
            computed = True
        elif first != b"<":
            computed = True
    return _Facts(
        refusal=refusal,
        assembler_reads=any(word in lowered for word in _ASSEMBLER_READS),
        file_times=names_dep and compares_file_times([data]),
        computes_pragma=b"_Pragma" in data and computes_a_pragma(data),
        names_dependency=names_dep and names_dependency(data),
        has_include=b"__has_include" in data and uses_has_include(data),
        file_macro=uses_file_macros(data),
        quoted=tuple(dict.fromkeys(quoted)),
        computed_include=computed,
        system_header=_SYSTEM_HEADER_PRAGMA in data or _LINE_MARKER.search(data) is not None,
    )


_FACTS: dict[str, _Facts] = {}
_FACTS_LIMIT = 50_000

#: probe key -> the include search list it printed.
_SEARCH: dict[tuple, SearchPath] = {}
_SEARCH_LIMIT = 512


def plan(invocation: Invocation, parsed: ParsedInvocation, call: GccCall, context: PluginContext,
         mode: PathMode) -> DependPlan | str:
    """How this call's miss is keyed in depend mode, or why it is not
    (the miss then runs the preprocessor)."""
    if not context.depend_mode:
        return "PYCACHE_DEPEND_MODE (or direct mode) is off"
    if call.no_direct:
        return call.no_direct
    if call.language == "assembler-with-cpp":
        return "the assembler's .include and .incbin reads are in no dependency list"
    if "-MG" in parsed.key_arguments:
        return "-MG lists missing headers as the source spells them"
    if any("__has_include" in a for a in call.macro_arguments):
        return "a command-line macro calls __has_include"
    if any(invocation.resolve(name + s).exists() for name in call.include_files for s in (".gch", ".pch")):
        return "precompiled header in use"
    if mode is PathMode.DEBUG and call.prefix_maps:
        return "debug information with prefix maps: the recorded names are keyed from the preprocessor's markers"
    depfile = call.depfile
    user_only = depfile is not None and not depfile.system_headers
    search_options = OPTIONS.parse(call.search_arguments) if user_only else []
    if any(a.spec is not None and a.spec.spelling in _SYSTEM_SEARCH_OPTIONS or a.value == "-" for a in search_options):
        return "-MMD leaves system headers out of the dependency file (the call adds system directories)"
    if depfile is None and call.record_command_line:
        return "the object records its command line, which an added -MD would change"
    search = search_path(invocation, call, context)
    if isinstance(search, str):
        return search
    if user_only:
        system = _system_directory(search, search_options, invocation.cwd)
        if system is not None:
            return f"-MMD leaves system headers out of the dependency file (system directory {system})"
    assembler_list = context.scratch_dir / ASSEMBLER_LIST if _assembler_lists(invocation, call, context) else None
    if depfile is None:
        return DependPlan(depfile=context.scratch_dir / SCRATCH_DEPFILE, scratch=True, search=search,
                          assembler_list=assembler_list)
    return DependPlan(depfile=invocation.resolve(depfile.path), scratch=False, search=search,
                      user_headers_only=user_only, assembler_list=assembler_list)


#: (compiler, fingerprint, variables) -> whether its assembler writes a list.
_ASSEMBLER_PROBES: dict[tuple, bool] = {}


def _assembler_lists(invocation: Invocation, call: GccCall, context: PluginContext) -> bool:
    """Whether this call's compile can be given ``-Wa,--MD,<file>``: gcc
    (clang's integrated assembler refuses it) running its assembler (no
    ``-S``), an assembler that accepts it -- one probe per compiler --, a
    compile on this host (no PYCACHE_PREFIX_COMMAND), and nothing in the
    call that picks another assembler (``-B``), asks for a list itself, or
    records the command line."""
    kind = context.identity.details.get("kind", "") if context.identity is not None else ""
    if kind != "gcc" or call.assembly or call.record_command_line or getattr(context, "compiled_elsewhere", False):
        return False  # (a distcc host would write the list there, and distcc compiles such a call locally)
    if any(a.startswith("-B") or (a.startswith(("-Wa,", "-Xassembler")) and "MD" in a) for a in invocation.arguments):
        return False
    fingerprint = context.identity.fingerprint if context.identity is not None else ""
    env = tuple((name, invocation.env.get(name)) for name in COMPILER_ENV)
    key = (str(invocation.compiler), fingerprint, env)
    known = _ASSEMBLER_PROBES.get(key)
    if known is None:
        probe = context.scratch_dir / "probe"
        argv = [str(invocation.compiler), "-c", "-x", "c", os.devnull, "-o", f"{probe}.o", f"-Wa,--MD,{probe}.d"]
        try:
            done = context.run(argv, cwd=invocation.cwd, env=english_messages_env(invocation.env))
            known = done.returncode == 0 and os.path.isfile(f"{probe}.d")
        except OSError:
            known = False
        for suffix in (".o", ".d"):
            Path(f"{probe}{suffix}").unlink(missing_ok=True)
        if len(_ASSEMBLER_PROBES) >= _SEARCH_LIMIT:
            _ASSEMBLER_PROBES.clear()
        _ASSEMBLER_PROBES[key] = known
    return known


def _system_directory(search: SearchPath, options: list[ParsedArg], cwd: Path) -> str | None:
    """A directory of the search list that the call's ``-I``/``-iquote``
    options did not give -- a system directory, whose headers -MMD leaves
    out --, or None when every one came from them."""
    given = {os.path.realpath(resolve(cwd, a.value)) for a in options
             if a.spec is not None and a.spec.spelling in ("-I", "-iquote") and a.value}
    for directory in (*search.quote, *search.bracket):
        if os.path.realpath(resolve(cwd, directory)) not in given:
            return directory
    return None


def run_arguments(parsed: ParsedInvocation, invocation: Invocation, chosen: DependPlan) -> tuple[str, ...] | None:
    """The compile's arguments: the parsed run's, plus the scratch files."""
    added: list[str] = []
    if chosen.scratch:
        added += ["-MD", "-MF", os.fspath(chosen.depfile)]
    if chosen.assembler_list is not None:
        added.append(f"-Wa,--MD,{chosen.assembler_list}")
    if not added:
        return None
    given = parsed.run_arguments if parsed.run_arguments is not None else invocation.arguments
    return (*given, *added)


def search_path(invocation: Invocation, call: GccCall, context: PluginContext) -> SearchPath | str:
    """The include search list of this call's options (``-E -v`` of an
    empty input, memoised while every directory in it still exists and
    every missing one is still missing), or why it is not known."""
    fingerprint = context.identity.fingerprint if context.identity is not None else ""
    env = tuple((name, invocation.env.get(name)) for name in COMPILER_ENV)
    key = (str(invocation.compiler), fingerprint, str(invocation.cwd), call.language, call.search_arguments, env)
    known = _SEARCH.get(key)
    if known is not None and _still_holds(known, invocation.cwd):
        return known
    argv = [str(invocation.compiler), "-E", "-v", *call.search_arguments, "-x", call.language, os.devnull]
    try:
        done = context.run(argv, cwd=invocation.cwd, env=english_messages_env(invocation.env))
    except OSError as exc:
        return f"cannot run {argv[0]}: {exc.strerror or exc}"
    if done.returncode != 0:
        return f"the include search probe exited {done.returncode}"
    search = parse_search_path(done.stderr.decode("utf-8", "replace"))
    if search is None:
        return "no include search list in the -E -v probe's output"
    if search.unusual:
        return f"framework directories or header maps on the include path ({search.unusual[0]})"
    if len(_SEARCH) >= _SEARCH_LIMIT:
        _SEARCH.clear()
    _SEARCH[key] = search
    return search


def _still_holds(search: SearchPath, cwd: Path) -> bool:
    return all(os.path.isdir(resolve(cwd, d)) for d in (*search.quote, *search.bracket)) and not any(
        os.path.lexists(resolve(cwd, d)) for d in search.missing
    )


# --- after the compile ----------------------------------------------------------------


def reported(
    invocation: Invocation, call: GccCall, chosen: DependPlan, mode: PathMode, context: PluginContext
) -> Dependencies | NotCacheable:
    """The files the compile's list names, each keyed by its digest, with
    the paths that must stay absent -- or why the result is not stored."""
    listed = _listed_files(chosen)
    if isinstance(listed, NotCacheable):
        return listed
    cwd = invocation.cwd
    source = os.path.normpath(invocation.resolve(call.source))
    if not listed or os.path.normpath(resolve(cwd, listed[0])) != source:
        return NotCacheable(DEPEND_UNREADABLE, f"{chosen.depfile} does not start with the source {call.source}")
    digests: dict[str, str] = {}
    facts: dict[str, _Facts] = {}
    paths = {name: resolve(cwd, name) for name in listed}  # strings: ~800 headers a kernel unit
    for name, path in paths.items():
        try:
            digest = digests[name] = context.hash_file(path)
            known = _FACTS.get(digest)
            if known is None:
                known = _facts_of(Path(path).read_bytes())
                if len(_FACTS) >= _FACTS_LIMIT:
                    _FACTS.clear()
                _FACTS[digest] = known
        except OSError as exc:
            return NotCacheable(R.MISSING_INPUT, f"cannot read {name}: {exc.strerror or exc}")
        facts[name] = known
    refused = _unrecordable(facts, cwd, context) or _assembler_read(invocation, call, chosen, listed, facts)
    if refused is not None:
        return refused
    if chosen.user_headers_only:
        marked = next((name for name, known in facts.items() if known.system_header), None)
        if marked is not None:
            return NotCacheable(DEPEND_SYSTEM_HEADER, f"{marked} makes itself a system header (#pragma GCC "
                                "system_header or a line marker): -MMD lists nothing it includes")
    search = chosen.search
    looked_up: list[Path] = []
    try:
        absent = _shadows(listed, facts, search, cwd, call.include_files, context)
        unit_dirs = tuple(dict.fromkeys(os.path.dirname(resolve(cwd, n)) for n in listed))
        for name, known in facts.items():
            if not known.has_include:
                continue
            path = Path(resolve(cwd, name))
            lookups = has_include_lookups(path.read_bytes(), path, search, cwd, current_dirs=unit_dirs, strict=True)
            if lookups is None:
                return NotCacheable(DEPEND_UNRECORDABLE, f"{name} uses __has_include with a computed argument")
            looked_up.extend(lookups[0])
            absent.extend(lookups[1])
    except UnrecordableLookup as exc:
        return NotCacheable(DEPEND_UNRECORDABLE, str(exc))
    except OSError as exc:
        return NotCacheable(R.MISSING_INPUT, f"cannot read {exc.filename}: {exc.strerror}")
    relocatable = _relocatable(call, mode, facts.values(), context)
    # A result bound to its checkout is keyed by its own paths: another
    # checkout's compile gets a key of its own instead of replacing it.
    key_path = context.portable_path if relocatable else as_is
    components = [KeyComponent("keyed-by", "the compile's dependency list")]
    files: list[Path | str] = []
    for name, path in paths.items():
        components.append(KeyComponent(f"file:{key_path(path)}", digests[name]))
        files.append(path)
    for path in dict.fromkeys(looked_up):
        try:
            components.append(KeyComponent(f"file:{key_path(os.fspath(path))}", context.hash_file(path)))
        except OSError as exc:
            return NotCacheable(R.MISSING_INPUT, f"cannot read {path}: {exc.strerror or exc}")
        files.append(path)
    return Dependencies(
        components=tuple(components),
        files=tuple(files),
        absent=tuple(dict.fromkeys(absent)),
        env_names=COMPILER_ENV,
        relocatable=relocatable,
    )


def _assembler_read(invocation: Invocation, call: GccCall, chosen: DependPlan, listed: list[str],
                    facts: Mapping[str, _Facts]) -> NotCacheable | None:
    """Why a file the assembler may have read keeps the result out: one
    its own list names beyond its input, the source's names (its
    ``.file`` directives) and the files the compiler read -- or, without
    that list, a file read mentioning such a directive."""
    if chosen.assembler_list is None:
        marked = next((name for name, known in facts.items() if known.assembler_reads), None)
        if marked is None:
            return None
        return NotCacheable(R.ASSEMBLER_INCLUDE, f"{marked} may make the assembler read a file (.incbin, .include)")
    try:
        text = chosen.assembler_list.read_text(encoding="utf-8", errors="surrogateescape")
    except OSError as exc:
        return NotCacheable(DEPEND_UNREADABLE, f"the assembler wrote no list {chosen.assembler_list}: {exc.strerror}")
    finally:
        chosen.assembler_list.unlink(missing_ok=True)
    parsed = parse_make(text)
    if parsed is None:
        return NotCacheable(DEPEND_UNREADABLE, f"{chosen.assembler_list} is not a make dependency file")
    names = [n for line in parsed[0] if isinstance(line, MakeRule) for n in line.prerequisites]
    cwd = invocation.cwd
    known = {os.path.normpath(resolve(cwd, name)) for name in listed}
    source_names = {call.source, os.path.basename(call.source)}
    # gcc's temporary directory, as gcc picks it (libiberty's choose_tmpdir).
    temporary = next((invocation.env[v] for v in ("TMPDIR", "TMP", "TEMP") if invocation.env.get(v)), "/tmp")
    temporary = os.path.realpath(resolve(cwd, temporary))
    for index, name in enumerate(names):
        if name in source_names or os.path.normpath(resolve(cwd, name)) in known:
            continue
        last = index == len(names) - 1
        base = os.path.basename(name)
        if last and base.startswith("cc") and base.endswith(".s") and os.path.realpath(os.path.dirname(name)) == temporary:
            continue  # the assembler's input: gcc's temporary assembly
        return NotCacheable(R.ASSEMBLER_INCLUDE, f"the assembler read {name} (.include or .incbin)")
    return None


def _listed_files(chosen: DependPlan) -> list[str] | NotCacheable:
    """Every prerequisite the dependency file names (the source first), as
    the compiler spelled them; a scratch file is removed once read."""
    try:
        text = chosen.depfile.read_text(encoding="utf-8", errors="surrogateescape")
    except OSError as exc:
        return NotCacheable(DEPEND_UNREADABLE, f"the compile wrote no dependency file {chosen.depfile}: {exc.strerror}")
    finally:
        if chosen.scratch:
            chosen.depfile.unlink(missing_ok=True)
    parsed = parse_make(text)
    if parsed is None:
        return NotCacheable(DEPEND_UNREADABLE, f"{chosen.depfile} is not a make dependency file")
    names: list[str] = []
    for line in parsed[0]:
        if isinstance(line, MakeRule):
            for name in line.prerequisites:
                unescaped = _unescape(name)
                if unescaped is None:
                    return NotCacheable(DEPEND_UNREADABLE, f"{chosen.depfile}: cannot read the name {name!r}")
                names.append(unescaped)
    return list(dict.fromkeys(names))


def _unescape(name: str) -> str | None:
    """A name as gcc and clang escape it in a rule (``\\ `` a blank, ``\\#``,
    ``$$``), or None for a backslash whose meaning is not certain."""
    if "\\" not in name and "$" not in name:
        return name
    out: list[str] = []
    i = 0
    while i < len(name):
        ch = name[i]
        if ch == "$":
            if name[i + 1 : i + 2] != "$":
                return None
            out.append("$")
            i += 2
        elif ch == "\\":
            run = len(name[i:]) - len(name[i:].lstrip("\\"))
            after = name[i + run : i + run + 1]
            if after in (" ", "\t") and run % 2 == 1:
                out.append("\\" * (run // 2) + after)
                i += run + 1
            elif after == "#" and run == 1:
                out.append("#")
                i += 2
            else:
                return None
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def _unrecordable(facts: Mapping[str, _Facts], cwd: Path, context: PluginContext) -> NotCacheable | None:
    """What in the files read keeps the result out of the cache in depend mode."""
    for name, known in facts.items():
        if known.refusal[0]:
            return NotCacheable(known.refusal[0], f"{name} {known.refusal[1]}")
        if known.file_times:
            return NotCacheable(R.FILE_TIMES, "#pragma GCC dependency compares file times, which no key can capture")
    gchs = [f"{resolve(cwd, name)}.gch" for name in facts]
    present = context.existing(gchs)  # a stat per directory: a kernel unit reads ~800 files
    gch = next((path for path in gchs if path in present), None)
    if gch is not None:
        return NotCacheable(R.PCH_USE, f"precompiled header {gch} beside a file read")
    values = facts.values()
    if any(f.computes_pragma for f in values) and any(f.names_dependency for f in values):
        return NotCacheable(R.FILE_TIMES, "a computed _Pragma in a unit that names `dependency` might compare file times")
    return None


def _names_under(path: str, directory: str) -> str | None:
    directory = directory.rstrip("/") or "/"
    prefix = directory if directory.endswith("/") else directory + "/"
    if path.startswith(prefix) and len(path) > len(prefix):
        return path[len(prefix) :]
    return None


#: (cwd, search chain), header as listed -> `_splits` of it: the same
#: headers come back in unit after unit of a build.
_SPLITS: dict[tuple[tuple[str, tuple[str, ...]], str], tuple[dict[str, None], dict[tuple[str, str], None]]] = {}
_SPLITS_LIMIT = 100_000


def _splits(name: str, chain: list[str], resolved_chain: list[str], cwd: Path
            ) -> tuple[dict[str, None], dict[tuple[str, str], None]]:
    """The names under which a header the compile read is found on the
    search chain, and the (earlier directory, name) places searched before
    each: a pure function of its arguments."""
    normal = os.path.normpath(resolve(cwd, name))
    unders: dict[str, None] = {}
    pairs: dict[tuple[str, str], None] = {}
    for index, directory in enumerate(chain):
        under = _names_under(name, directory)
        if under is None:
            under = _names_under(normal, os.path.normpath(resolved_chain[index]))
        if under is None:
            continue
        unders[under] = None
        if not os.path.isabs(under):
            pairs.update(dict.fromkeys((earlier, under) for earlier in resolved_chain[:index]))
    return unders, pairs


def _shadows(listed: list[str], facts: Mapping[str, _Facts], search: SearchPath, cwd: Path,
             include_files: tuple[str, ...], context: PluginContext) -> list[str]:
    """Paths that must stay absent (see the module docstring)."""
    chain = [*search.quote, *search.bracket]
    resolved_chain = [resolve(cwd, d.rstrip("/") or "/") for d in chain]
    absent: dict[str, None] = {resolve(cwd, d): None for d in search.missing}
    split_names: dict[str, None] = {}  # every name under which a file read is found on the list
    pairs: dict[tuple[str, str], None] = {}  # (directory, name): the name must not be found there

    chain_key = (os.fspath(cwd), tuple(chain))
    for name in listed[1:]:
        splits = _SPLITS.get((chain_key, name))
        if splits is None:
            splits = _splits(name, chain, resolved_chain, cwd)
            if len(_SPLITS) >= _SPLITS_LIMIT:
                _SPLITS.clear()
            _SPLITS[chain_key, name] = splits
        split_names.update(splits[0])
        pairs.update(splits[1])
    isabs = os.path.isabs
    # -include looks in the working directory first
    pairs.update(dict.fromkeys((os.fspath(cwd), name) for name in include_files if not isabs(name)))
    computed_in: dict[str, None] = {}  # directories of files with a computed include (a kernel unit: 9 files, 4 places)
    for name, known in facts.items():
        if not known.quoted and not known.computed_include:
            continue
        own = os.path.dirname(resolve(cwd, name)) or "/"
        pairs.update(dict.fromkeys((own, include) for include in known.quoted if not isabs(include)))
        if known.computed_include:
            computed_in[own] = None
    relative_splits = [name for name in split_names if not isabs(name)]
    for own in computed_in:
        pairs.update(dict.fromkeys((own, include) for include in relative_splits))
    # strict: a place that exists, yet was not taken, is no regular file: a file created there would be
    found = first_missing_each(pairs, context.existing, strict=True).values()
    absent.update(dict.fromkeys(candidate for candidate in found if candidate is not None))
    return list(absent)


def _relocatable(call: GccCall, mode: PathMode, facts, context: PluginContext) -> bool:
    """Whether another checkout may reuse the result. Without a
    preprocessed text to look into, a path reaches the object only through
    the command line (debug information, instrumentation: not `PORTABLE`;
    a ``-D`` value naming a base directory) or a file macro in a file read."""
    if mode is not PathMode.PORTABLE:
        return False
    if context.names_base_directory("\0".join(call.macro_arguments).encode("utf-8", "surrogateescape")):
        return False
    return not any(known.file_macro for known in facts)
