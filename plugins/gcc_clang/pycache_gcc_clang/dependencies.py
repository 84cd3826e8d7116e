"""What a gcc/clang result depends on beyond its key arguments.

Two ways to name a call:

- **preprocessor mode** (`discover`): run ``<compiler> -E`` with every
  argument that can define a macro or find a header, and key the output.
  Line markers stay in: they name the headers as the compiler will print
  them in diagnostics, dependency files and debug info. gcc's
  working-directory marker (``# 1 "/cwd//"`` under ``-g``) is dropped; the
  working directory is its own component, present exactly when the result
  embeds it.
- **direct mode** (`direct_components`): the source's digest and every
  preprocessor argument *as written*; the core records the headers
  `discover` found (from the line markers) in a manifest and hits while they
  are unchanged, without running the preprocessor.

A manifest must also notice headers that *appear*: for every header the
preprocessor read, each earlier place on the include search path where a
file of the same name would have been found first is reported as ``absent``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from pycache_core.api import Dependencies, Invocation, KeyComponent, NotCacheable, ParsedInvocation, PluginContext

from .arguments import COMPILER_ENV, OPTIONS, GccCall, replace_suffix

# -E output line markers: # <line> "<file>" [flags]  (gcc and clang alike)
_MARKER = re.compile(rb'^# \d+ "((?:[^"\\\n]|\\.)*)"((?: [1-4])*)[ \t]*\r?$', re.M)
_WORKING_DIR_MARKER = re.compile(rb'# 1 "(?:[^"\\]|\\.)*//"\r?')
_TIME_MACROS = re.compile(rb"__(?:DATE|TIME|TIMESTAMP)__")
# A __has_include(...) call (not `defined(__has_include)`), and the
# literal forms whose lookups a manifest can record.
_HAS_INCLUDE_CALL = re.compile(rb"__has_include(?:_next)?\s*\(")
_HAS_INCLUDE_LITERAL = re.compile(rb'__has_include(?:_next)?\s*\(\s*(<[^<>"\n]+>|"[^"<>\n]+")\s*\)')
_INCBIN = re.compile(rb"\.incbin\b")
_ASM_INCLUDE = re.compile(rb"^\s*\.include\b", re.M)

_QUOTE_START = '#include "..." search starts here:'
_BRACKET_START = "#include <...> search starts here:"
_SEARCH_END = "End of search list."
_NONEXISTENT = re.compile(r'^ignoring nonexistent directory "(.*)"$')


_VALUE_SEPARATORS = re.compile(r"([=,])")


def portable_argument(argument: str, context: PluginContext) -> str:
    """An option with every path in it made portable: ``-I/base/inc``,
    ``-fdebug-prefix-map=/base=.``, ``-Wl,-rpath,/base/lib`` and a path that
    is a base directory itself (which `portable_text` alone, matching
    ``base/``, would leave)."""
    pieces = _VALUE_SEPARATORS.split(argument)
    for i, piece in enumerate(pieces):
        if not piece or piece in "=,":
            continue
        portable = context.portable_path(piece)
        if portable == piece and piece.startswith("-"):
            spec = OPTIONS.lookup(piece)
            if spec is not None and piece != spec.spelling:
                head = spec.spelling
                portable = head + context.portable_path(piece[len(head):])
        pieces[i] = context.portable_text(portable)
    return "".join(pieces)


def _private(parsed: ParsedInvocation) -> GccCall:
    call = parsed.private
    if not isinstance(call, GccCall):
        raise TypeError(f"parsed invocation does not come from the gcc-clang plugin: {call!r}")
    return call


def _kind(context: PluginContext) -> str:
    identity = context.identity
    return identity.details.get("kind", "") if identity is not None else ""


def effective_cwd(invocation: Invocation) -> str:
    """The working directory as the compiler records it: gcc and clang use
    ``$PWD`` when it names the same directory (a path through a symlink)."""
    pwd = invocation.env.get("PWD")
    cwd = os.fspath(invocation.cwd)
    if pwd and os.path.isabs(pwd) and pwd != cwd:
        try:
            if os.path.samefile(pwd, cwd):
                return pwd
        except OSError:
            pass
    return pwd if pwd == cwd else cwd


def env_components(env: Mapping[str, str]) -> list[KeyComponent]:
    return [KeyComponent(f"env:{name}", env[name]) for name in COMPILER_ENV if name in env]


def _profile_files(call: GccCall, invocation: Invocation, kind: str) -> list[tuple[str, Path]] | NotCacheable:
    """The profile files the compile reads, resolved the way each compiler
    resolves them."""
    found: list[tuple[str, Path]] = []
    for option in call.profile_uses:
        name, eq, value = option.partition("=")
        if name in ("-fprofile-use", "-fbranch-probabilities") and kind == "clang":
            path = invocation.resolve(value or "default.profdata")
            if path.is_dir():
                path = path / "default.profdata"
        elif name in ("-fprofile-use", "-fbranch-probabilities"):
            if eq:
                # gcc looks for a mangled name inside that directory.
                return NotCacheable("profile-use", f"{option}: gcc's per-object profile name in a directory is not resolved")
            path = invocation.resolve(replace_suffix(call.object_path, ".gcda"))
        elif name == "-fauto-profile":
            path = invocation.resolve(value or "fbdata.afdo")
        else:  # -fprofile-instr-use=FILE, -fprofile-sample-use=FILE
            path = invocation.resolve(value)
            if path.is_dir():
                path = path / "default.profdata"
        found.append((option, path))
    return found


def shared_components(
    invocation: Invocation, parsed: ParsedInvocation, context: PluginContext
) -> list[KeyComponent] | NotCacheable:
    """Components both modes need: paths inside options, extra input files,
    the working directory and output paths where the result embeds them,
    and the variables the compiler reads."""
    call = _private(parsed)
    kind = _kind(context)
    components: list[KeyComponent] = []
    if call.path_arguments:
        components.append(
            KeyComponent("path-arguments", tuple(portable_argument(a, context) for a in call.path_arguments))
        )
    if call.record_command_line and kind != "gcc":
        # clang records the whole command line (-I, -D, -o included); gcc
        # records only code generation switches, which the key has anyway.
        components.append(
            KeyComponent("command-line", tuple(portable_argument(a, context) for a in call.all_arguments))
        )
    for name in call.input_files:
        path = invocation.resolve(name)
        try:
            components.append(KeyComponent(f"input:{context.portable_path(path)}", context.hash_file(path)))
        except OSError as exc:
            return NotCacheable("missing-input", f"cannot read {path}: {exc.strerror or exc}")
    profiles = _profile_files(call, invocation, kind)
    if isinstance(profiles, NotCacheable):
        return profiles
    for _, path in profiles:
        try:
            value = context.hash_file(path)
        except OSError:
            value = "absent"  # gcc compiles without (and warns); the result depends on the absence
        components.append(KeyComponent(f"profile:{context.portable_path(path)}", value))
    for name in call.pch_files:
        path = invocation.resolve(name)
        try:
            components.append(KeyComponent(f"pch:{context.portable_path(path)}", context.hash_file(path)))
        except OSError as exc:
            return NotCacheable("missing-input", f"cannot read precompiled header {path}: {exc.strerror or exc}")
    for name in call.include_files:
        for suffix in (".gch", ".pch"):
            path = invocation.resolve(name + suffix)
            if path.is_file():
                components.append(KeyComponent(f"pch:{context.portable_path(path)}", context.hash_file(path)))
    if needs_working_directory(call, invocation):
        # The real directory, not a portable one: the object embeds it.
        components.append(KeyComponent("working-directory", effective_cwd(invocation)))
    if needs_object_path(call):
        components.append(KeyComponent("object-path", context.portable_path(call.object_path)))
    components.extend(env_components(invocation.env))
    return components


def needs_working_directory(call: GccCall, invocation: Invocation) -> bool:
    if call.test_coverage or call.profile_arcs or call.cwd_sensitive:
        return True  # .gcno files and the .gcda path in the object are absolute
    if not call.debug or call.compilation_dir_set:
        return False
    cwd = effective_cwd(invocation)
    # gcc and clang compare prefix maps as plain string prefixes.
    return not any(old and cwd.startswith(old) for old in call.debug_prefix_maps)


def needs_object_path(call: GccCall) -> bool:
    """The object's own path is in the result when the dependency file names
    it as its target, when the object names its .dwo, or when it embeds the
    path of its .gcda."""
    depfile_target = call.depfile is not None and not call.depfile.explicit_target
    return depfile_target or call.split_dwarf or call.test_coverage or call.profile_arcs


# --- direct mode ------------------------------------------------------------------


def direct_components(
    invocation: Invocation, parsed: ParsedInvocation, context: PluginContext
) -> tuple[KeyComponent, ...] | NotCacheable | None:
    call = _private(parsed)
    if call.no_direct:
        context.log.debug("direct mode off: %s", call.no_direct)
        return None
    if any(invocation.resolve(name + s).exists() for name in call.include_files for s in (".gch", ".pch")):
        context.log.debug("direct mode off: precompiled header in use")
        return None
    source = invocation.resolve(call.source)
    try:
        source_digest = context.hash_file(source)
    except OSError as exc:
        return NotCacheable("missing-input", f"cannot read {source}: {exc.strerror or exc}")
    shared = shared_components(invocation, parsed, context)
    if isinstance(shared, NotCacheable):
        return shared
    return (
        KeyComponent("source", source_digest),
        KeyComponent("source-path", context.portable_path(call.source)),
        # Relative -I paths and the source's own directory are found from here.
        KeyComponent("cwd", context.portable_path(invocation.cwd)),
        KeyComponent("preprocessor-arguments", tuple(portable_argument(a, context) for a in call.preprocessor_arguments)),
        *shared,
    )


# --- preprocessor mode ------------------------------------------------------------


def _preprocessor_env(env: Mapping[str, str]) -> dict[str, str]:
    """The caller's environment with messages in English (the include search
    list is parsed from them) and every other locale category unchanged
    (the character set decides how the source is read)."""
    run_env = dict(env)
    run_env.pop("LANGUAGE", None)
    lc_all = run_env.pop("LC_ALL", None)
    if lc_all:
        run_env["LC_CTYPE"] = lc_all
        for category in ("LC_COLLATE", "LC_NUMERIC", "LC_TIME", "LC_MONETARY"):
            run_env[category] = lc_all
    run_env["LC_MESSAGES"] = "C"
    return run_env


@dataclass(frozen=True, slots=True)
class Marker:
    path: str
    includer: str
    system: bool


def parse_markers(output: bytes) -> list[Marker]:
    """Every file entered (line-marker flag 1), with the file it was entered
    from: the includer, whose directory a quoted include searches first."""
    entered: list[Marker] = []
    previous = ""
    for match in _MARKER.finditer(output):
        path = _unescape(match.group(1))
        flags = match.group(2).split()
        if b"1" in flags and not path.startswith("<"):
            entered.append(Marker(path=path, includer=previous, system=b"3" in flags))
        previous = path
    return entered


def _unescape(raw: bytes) -> str:
    text = re.sub(rb"\\(.)", rb"\1", raw)
    return os.fsdecode(text)


@dataclass(frozen=True, slots=True)
class SearchPath:
    quote: tuple[str, ...]
    bracket: tuple[str, ...]
    missing: tuple[str, ...]


def parse_search_path(stderr: str) -> SearchPath | None:
    """The include search list ``-v`` prints, or None when it is not there."""
    quote: list[str] = []
    bracket: list[str] = []
    missing: list[str] = []
    section = None
    seen = False
    for line in stderr.splitlines():
        found = _NONEXISTENT.match(line)
        if found:
            missing.append(found.group(1))
            continue
        if line == _QUOTE_START:
            section, seen = quote, True
            continue
        if line == _BRACKET_START:
            section, seen = bracket, True
            continue
        if line == _SEARCH_END:
            section = None
            continue
        if section is not None and line.startswith(" "):
            entry = line[1:]
            if entry.endswith(" (framework directory)"):
                entry = entry[: -len(" (framework directory)")]
            section.append(entry)
    if not seen:
        return None
    return SearchPath(quote=tuple(quote), bracket=tuple(bracket), missing=tuple(missing))


def _strip_dir(directory: str) -> str:
    return directory.rstrip("/") or "/"


def _names_under(path: str, directory: str) -> str | None:
    """The include name that ``directory`` + "/" + name spells as ``path``."""
    directory = _strip_dir(directory)
    prefix = directory if directory.endswith("/") else directory + "/"
    if path.startswith(prefix) and len(path) > len(prefix):
        return path[len(prefix) :]
    return None


def shadow_candidates(markers: Iterable[Marker], search: SearchPath, cwd: Path) -> list[Path]:
    """Paths that, if created, would be found instead of a header read now.

    For each header: every way its path splits into (search directory, name)
    -- the includer's own directory first (quoted includes), then the
    ``-iquote`` list, then the ``<...>`` list -- gives the directories searched
    before the one it was found in; the same name in each of them must stay
    absent. Candidates that exist now cannot have been searched (the
    preprocessor would have taken them: an ``#include_next`` or an angled
    include), so they are left out. Directories that did not exist are
    reported whole: any header in them would be a new candidate.
    """
    chain = [*search.quote, *search.bracket]
    absent: dict[Path, None] = {Path(_resolve(cwd, d)): None for d in search.missing}
    exists_cache: dict[str, bool] = {}

    def exists(p: str) -> bool:
        if p not in exists_cache:
            exists_cache[p] = os.path.lexists(p)
        return exists_cache[p]

    for marker in markers:
        includer_dir = os.path.dirname(marker.includer) if not marker.includer.startswith("<") else ""
        splits: list[tuple[int, str]] = []  # (position in [includer dir, *chain], name)
        if includer_dir:
            name = _names_under(marker.path, includer_dir)
            if name is not None:
                splits.append((0, name))
        elif not os.path.isabs(marker.path):
            splits.append((0, marker.path[2:] if marker.path.startswith("./") else marker.path))
        for index, directory in enumerate(chain, start=1):
            name = _names_under(marker.path, directory)
            if name is None:
                name = _names_under(os.path.normpath(marker.path), os.path.normpath(directory))
            if name is not None:
                splits.append((index, name))
        searched = [includer_dir or "."] + chain
        for position, name in splits:
            for earlier in searched[:position]:
                candidate = _first_missing(_resolve(cwd, _strip_dir(earlier)), name, exists)
                if candidate is not None:
                    absent[Path(candidate)] = None
    return list(absent)


def has_include_lookups(
    data: bytes, includer: Path, search: SearchPath | None, cwd: Path
) -> tuple[list[Path], list[Path]] | None:
    """What each ``__has_include`` in a file looks up: (files it finds, paths
    that must stay absent for the answers to stay the same).

    Every directory the lookup would search is recorded up to the first hit
    (all of them for ``__has_include_next``, which is conservative: more
    recorded paths can only turn a hit into a miss). None when an argument
    is computed by a macro, or the search list is unknown.
    """
    if search is None:
        return None
    literals = _HAS_INCLUDE_LITERAL.findall(data)
    if len(literals) != len(_HAS_INCLUDE_CALL.findall(data)):
        return None
    found: list[Path] = []
    missing: list[Path] = []
    for literal in dict.fromkeys(literals):
        name = literal[1:-1].decode("utf-8", "surrogateescape")
        if os.path.isabs(name):
            (found if os.path.lexists(name) else missing).append(Path(name))
            continue
        quoted = literal.startswith(b'"')
        directories = ([str(includer.parent), *search.quote] if quoted else []) + list(search.bracket)
        for directory in directories:
            base = _resolve(cwd, _strip_dir(directory))
            candidate = _first_missing(base, name, os.path.lexists)
            if candidate is None:
                found.append(Path(base, name))
                break
            missing.append(Path(candidate))
    return found, missing


def _first_missing(directory: str, name: str, exists) -> str | None:
    """``directory/name`` if it does not exist, shortened to its first
    missing ancestor below ``directory`` (one entry covers ``bits/*.h``);
    None when it exists."""
    path = directory
    for part in name.split("/"):
        path = f"{path}/{part}" if path != "/" else f"/{part}"
        if not exists(path):
            return path
    return None


def _resolve(cwd: Path, path: str) -> str:
    return path if os.path.isabs(path) else os.path.join(cwd, path)


def discover(
    invocation: Invocation, parsed: ParsedInvocation, context: PluginContext
) -> Dependencies | NotCacheable:
    call = _private(parsed)
    shared = shared_components(invocation, parsed, context)
    if isinstance(shared, NotCacheable):
        return shared
    argv = [str(invocation.compiler), "-v", *call.preprocess_arguments]
    try:
        done = context.run(argv, cwd=invocation.cwd, env=_preprocessor_env(invocation.env))
    except OSError as exc:
        return NotCacheable("preprocessor-error", f"cannot run {argv[0]}: {exc.strerror or exc}")
    stderr = done.stderr.decode("utf-8", "replace")
    if done.returncode != 0:
        tail = " / ".join(line for line in stderr.splitlines()[-3:])
        return NotCacheable("preprocessor-error", f"{argv[0]} -E exited {done.returncode}: {tail}")
    output = done.stdout

    if _INCBIN.search(output) or (call.language == "assembler-with-cpp" and _ASM_INCLUDE.search(output)):
        # The assembler reads those files itself; the key would not see them.
        return NotCacheable("assembler-include", "the source makes the assembler read files (.incbin/.include)")

    head = output.split(b"\n", 2)
    if len(head) == 3 and _WORKING_DIR_MARKER.fullmatch(head[1]):
        output = head[0] + b"\n" + head[2]
    text = context.portable_text(output.decode("utf-8", "surrogateescape"))
    components = [KeyComponent("preprocessed", context.hash_bytes(text.encode("utf-8", "surrogateescape")))]
    components.extend(shared)

    markers = parse_markers(output)
    headers = list(dict.fromkeys(Path(_resolve(invocation.cwd, m.path)) for m in markers))
    manifest_ok = True
    reasons: list[str] = []

    search = parse_search_path(stderr)
    absent: list[Path] = []
    if search is None:
        manifest_ok = False
        reasons.append("no include search list in the preprocessor's -v output")
    else:
        absent = shadow_candidates(markers, search, invocation.cwd)

    system = {Path(_resolve(invocation.cwd, m.path)) for m in markers if m.system}
    looked_up: list[Path] = []  # files that __has_include found
    for path in [invocation.resolve(call.source), *headers]:
        try:
            data = path.read_bytes()
        except OSError as exc:
            manifest_ok = False
            reasons.append(f"cannot read {path}: {exc.strerror}")
            continue
        if _TIME_MACROS.search(data):
            manifest_ok = False
            reasons.append(f"{path} uses __DATE__, __TIME__ or __TIMESTAMP__")
        if path not in system and _HAS_INCLUDE_CALL.search(data):
            # A file that __has_include did not find leaves no line marker:
            # record what each literal lookup saw; give up on computed ones.
            lookups = has_include_lookups(data, path, search, invocation.cwd)
            if lookups is None:
                manifest_ok = False
                reasons.append(f"{path} uses __has_include with a computed argument")
            else:
                found, missing = lookups
                looked_up.extend(found)
                absent.extend(missing)
        gch = Path(f"{path}.gch")
        if gch.exists():
            manifest_ok = False
            reasons.append(f"precompiled header {gch}")
            if gch.is_file():
                components.append(KeyComponent(f"pch:{context.portable_path(gch)}", context.hash_file(gch)))
            else:
                return NotCacheable("pch-use", f"precompiled header directory {gch} is not supported")
    if reasons:
        context.log.debug("no manifest: %s", "; ".join(reasons[:3]))
    return Dependencies(
        components=tuple(components),
        files=tuple(dict.fromkeys([*headers, *looked_up])),
        absent=tuple(absent),
        env_names=COMPILER_ENV,
        manifest_ok=manifest_ok,
    )
