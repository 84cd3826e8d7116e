"""Parsing rustc command lines, as cargo writes them, into `RustcArgs`.

Parsing is pure: it reads nothing but ``@argfiles``. Every option either goes
into the key (``key_arguments``, path-free text), into ``path_arguments``
(paths and path-bearing text, made portable later, when a context with the
call's base directories is at hand), or is refused with a reason. An option
this module does not know is refused ("unknown-option"): a cache that guessed
would one day serve a wrong artifact.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pycache_core.api import NotCacheable, NotCompilation

CRATE_TYPES = frozenset({"bin", "lib", "rlib", "dylib", "cdylib", "staticlib", "proc-macro"})
#: Crate types whose ``link`` output is made by the system linker.
LINKED_CRATE_TYPES = frozenset({"bin", "dylib", "cdylib", "proc-macro"})
#: ``--emit`` kinds we can name the outputs of. asm/llvm-ir/obj/mir name one
#: file per codegen unit in some configurations, so they are refused.
SUPPORTED_EMITS = frozenset({"link", "metadata", "dep-info"})
KNOWN_EMITS = SUPPORTED_EMITS | {"asm", "llvm-bc", "llvm-ir", "obj", "mir", "thin-link-bitcode"}

# `--print` requests that happen while compiling (they print and the compile
# goes on); every other one makes rustc print and stop.
PRINTS_DURING_COMPILE = frozenset({"native-static-libs", "link-args"})

DEBUGINFO_OFF = frozenset({"0", "none", "n", "no", "off", "false"})
BOOLEAN_WORDS = frozenset({"y", "yes", "on", "true", "n", "no", "off", "false", ""})

#: ``-Z`` options whose only effect is on what rustc compiles or prints (so
#: the key's argument text covers them) or which read files pycache keys
#: itself (``pre-link-arg(s)``: see `linkargs`). Any other one is refused:
#: unstable options come and go, and many read or write files of their own.
UNSTABLE_OPTIONS = frozenset(
    {
        "unstable-options", "share-generics", "threads", "macro-backtrace", "location-detail", "sanitizer",
        "sanitizer-memory-track-origins", "sanitizer-recover", "sanitizer-cfi-canonical-jump-tables",
        "sanitizer-cfi-generalize-pointers", "sanitizer-cfi-normalize-integers", "randomize-layout",
        "remap-cwd-prefix", "polonius", "mir-opt-level", "inline-mir", "inline-mir-threshold",
        "inline-mir-hint-threshold", "cross-crate-inline-threshold", "panic-abort-tests", "fmt-debug", "tune-cpu",
        "trim-diagnostic-paths", "dep-info-omit-d-target", "binary-dep-depinfo", "crate-attr", "plt",
        "relax-elf-relocations", "function-sections", "emit-stack-sizes", "virtual-function-elimination",
        "dylib-lto", "print-type-sizes", "time-passes", "time-llvm-passes", "track-diagnostics", "terminal-urls",
        "ui-testing", "verify-llvm-ir", "has-thread-local", "split-dwarf-kind", "split-dwarf-inlining",
        "dwarf-version", "debuginfo-compression", "oom", "panic-in-drop", "direct-access-external-data",
        "fixed-x18", "branch-protection", "cf-protection", "stack-protector", "min-function-alignment",
        "no-parallel-backend", "next-solver", "teach", "treat-err-as-bug", "assume-incomplete-release",
        "mir-enable-passes", "precise-enum-drop-elaboration", "export-executable-symbols", "pre-link-arg",
        "pre-link-args", "patchable-function-entry", "instrument-mcount", "instrument-xray", "ehcont-guard",
        "large-data-threshold", "mutable-noalias", "merge-functions", "human-readable-cgu-names",
        "allow-features", "ub-checks", "on-broken-pipe", "reg-struct-return", "regparm", "retpoline",
        "retpoline-external-thunk", "indirect-branch-cs-prefix", "function-return", "default-visibility",
        "deduplicate-diagnostics", "coverage-options", "no-generate-arange-section", "thinlto",
        "use-sync-unwind", "codegen-source-order", "combine-cgu", "print-mono-items", "link-native-libraries",
        "packed-bundled-libs", "staticlib-allow-rdylib-deps", "staticlib-prefer-dynamic", "wasm-c-abi",
        "emscripten-wasm-eh", "hint-mostly-unused", "build-sdylib-interface", "lint-mir", "validate-mir",
        "maximal-hir-to-mir-coverage", "no-trait-vptr", "unleash-the-miri-inside-of-you", "verbose-internals",
        "print-llvm-passes", "simulate-remapped-rust-src-base",
    }
)

# Options with a value, long and short spellings -> canonical name.
_VALUE_OPTIONS = {
    "--cfg": "--cfg",
    "--check-cfg": "--check-cfg",
    "-L": "-L",
    "-l": "-l",
    "--crate-type": "--crate-type",
    "--crate-name": "--crate-name",
    "--edition": "--edition",
    "--emit": "--emit",
    "--print": "--print",
    "-o": "-o",
    "--out-dir": "--out-dir",
    "--explain": "--explain",
    "--target": "--target",
    "-A": "-A",
    "--allow": "-A",
    "-W": "-W",
    "--warn": "-W",
    "--force-warn": "--force-warn",
    "-D": "-D",
    "--deny": "-D",
    "-F": "-F",
    "--forbid": "-F",
    "--cap-lints": "--cap-lints",
    "-C": "-C",
    "--codegen": "-C",
    "--extern": "--extern",
    "--sysroot": "--sysroot",
    "--error-format": "--error-format",
    "--json": "--json",
    "--color": "--color",
    "--diagnostic-width": "--diagnostic-width",
    "--remap-path-prefix": "--remap-path-prefix",
    "--remap-path-scope": "--remap-path-scope",
    "-Z": "-Z",
    "--env-set": "--env-set",
}
# Short options whose value may be attached: -Lfoo, -Copt-level=3.
_SHORT_WITH_VALUE = ("-L", "-l", "-o", "-A", "-W", "-D", "-F", "-C", "-Z")
_FLAGS = {
    "-g": "-g",
    "-O": "-O",
    "--test": "--test",
    "-v": "-v",
    "--verbose": "-v",
}
_PROBE_FLAGS = {"-V": "version", "--version": "version", "-h": "help", "--help": "help", "-vV": "version", "-Vv": "version"}


@dataclass(frozen=True, slots=True, kw_only=True)
class Extern:
    """``--extern [opts:]name[=path]``."""

    name: str
    path: str | None
    options: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class SearchPath:
    """``-L [kind=]path``; kind "all" when not given."""

    kind: str
    path: str


@dataclass(frozen=True, slots=True, kw_only=True)
class NativeLib:
    """``-l [kind[:modifiers]=]name[:rename]``; kind "dylib" when not given."""

    kind: str
    modifiers: tuple[str, ...]
    name: str
    rename: str | None = None

    @property
    def verbatim(self) -> bool:
        return "+verbatim" in self.modifiers


@dataclass(frozen=True, slots=True, kw_only=True)
class PathArgument:
    """A path-bearing argument kept out of ``key_arguments``.

    ``kind``: "path" (one path, made portable), "text" (free text that may
    contain paths: every base directory in it is made portable), "remap"
    (``FROM=TO``: FROM is a path, TO is kept as written).
    """

    option: str
    value: str
    kind: str = "path"


@dataclass(frozen=True, slots=True, kw_only=True)
class RustcArgs:
    """One rustc call, understood. The plugin's ``ParsedInvocation.private``."""

    input: str
    crate_name: str
    crate_types: tuple[str, ...]
    emits: tuple[str, ...]
    emit_paths: Mapping[str, str] = field(default_factory=dict)
    out_dir: str | None = None
    output: str | None = None
    extra_filename: str = ""
    target: str | None = None
    sysroot: str | None = None
    externs: tuple[Extern, ...] = ()
    search_paths: tuple[SearchPath, ...] = ()
    libs: tuple[NativeLib, ...] = ()
    codegen: tuple[tuple[str, str | None], ...] = ()
    remaps: tuple[tuple[str, str], ...] = ()
    test: bool = False
    error_format: str | None = None
    json: tuple[str, ...] = ()
    color: str | None = None
    key_arguments: tuple[str, ...] = ()
    path_arguments: tuple[PathArgument, ...] = ()
    expanded: tuple[str, ...] = ()

    # --- derived facts -------------------------------------------------------

    def codegen_value(self, name: str) -> str | None:
        """The last ``-C name=value`` (rustc: the last one wins)."""
        value = None
        for key, val in self.codegen:
            if key == name:
                value = val if val is not None else ""
        return value

    def codegen_values(self, name: str) -> tuple[str, ...]:
        return tuple(val or "" for key, val in self.codegen if key == name)

    @property
    def links(self) -> bool:
        """The call runs the system linker (a bin, dylib, cdylib or proc-macro)."""
        return "link" in self.emits and any(t in LINKED_CRATE_TYPES for t in self.crate_types)

    @property
    def bundles_upstream(self) -> bool:
        """The output holds the code of every upstream crate, read from
        their rlibs -- the direct ones and those found through ``-L
        dependency=`` -- and their bundled native libraries: a linked crate,
        or a staticlib."""
        return self.links or ("link" in self.emits and "staticlib" in self.crate_types)

    @property
    def generates_code(self) -> bool:
        return "link" in self.emits

    @property
    def debuginfo(self) -> bool:
        """Debug info (which embeds the working directory and source paths)
        goes into the outputs."""
        if not self.generates_code:
            return False
        level = self.codegen_value("debuginfo")
        return level is not None and level.strip().lower() not in DEBUGINFO_OFF

    @property
    def coverage(self) -> bool:
        value = self.codegen_value("instrument-coverage")
        return self.generates_code and value is not None and value.lower() not in DEBUGINFO_OFF

    @property
    def embeds_paths(self) -> bool:
        """Outputs name the working directory and source paths beyond what
        base directories can make portable (debug info, coverage maps)."""
        return self.debuginfo or self.coverage

    @property
    def split_debuginfo(self) -> str:
        return (self.codegen_value("split-debuginfo") or "off").lower()

    @property
    def stem(self) -> str:
        return self.crate_name + self.extra_filename

    def search_dirs(self, *kinds: str) -> tuple[str, ...]:
        return tuple(sp.path for sp in self.search_paths if sp.kind in kinds)


# --- target file layout --------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class TargetLayout:
    """How a target names linked outputs (rustc's ``dll_prefix`` & co)."""

    name: str
    dll_prefix: str = "lib"
    dll_suffix: str = ".so"
    exe_suffix: str = ""
    staticlib_prefix: str = "lib"
    staticlib_suffix: str = ".a"
    # Linking for this target needs things we cannot name as slots (import
    # libraries, .pdb files, .dSYM directories).
    linking_supported: bool = True


ELF = TargetLayout(name="elf")
APPLE = TargetLayout(name="apple", dll_suffix=".dylib")
WASM = TargetLayout(name="wasm", dll_prefix="", dll_suffix=".wasm", exe_suffix=".wasm")
WINDOWS_MSVC = TargetLayout(
    name="windows-msvc", dll_prefix="", dll_suffix=".dll", exe_suffix=".exe", staticlib_prefix="",
    staticlib_suffix=".lib", linking_supported=False,
)
WINDOWS_GNU = TargetLayout(name="windows-gnu", dll_prefix="", dll_suffix=".dll", exe_suffix=".exe", linking_supported=False)


def host_triple_guess() -> str:
    """The host this server runs on, as a rustc target family (no probe: the
    parser must stay pure)."""
    if sys.platform.startswith("linux"):
        return "unknown-linux"
    if sys.platform == "darwin":
        return "apple-darwin"
    if sys.platform == "win32":
        return "pc-windows-msvc"
    return sys.platform


def layout_for(target: str | None) -> TargetLayout | None:
    """The layout of ``target`` (a triple, None for the host); None when unknown."""
    triple = (target or host_triple_guess()).lower()
    if triple.endswith(".json"):
        return None
    if "windows" in triple:
        return WINDOWS_MSVC if "msvc" in triple else WINDOWS_GNU
    if "apple" in triple or "darwin" in triple:
        return APPLE
    if triple.startswith("wasm") and "emscripten" not in triple:
        return WASM
    if any(os_name in triple for os_name in ("linux", "android", "freebsd", "netbsd", "openbsd", "dragonfly",
                                               "illumos", "solaris", "fuchsia", "redox", "hermit", "none", "haiku")):
        return ELF
    return None


# --- parsing -------------------------------------------------------------------


class _Refuse(Exception):
    def __init__(self, outcome: NotCacheable | NotCompilation) -> None:
        super().__init__(outcome.reason)
        self.outcome = outcome


def _not_cacheable(reason: str, detail: str = "") -> _Refuse:
    return _Refuse(NotCacheable(reason, detail))


def expand_argfiles(arguments: Sequence[str], cwd: Path) -> tuple[str, ...]:
    """Replace ``@path`` by the file's lines (rustc reads one argument a line,
    without recursion)."""
    expanded: list[str] = []
    for arg in arguments:
        if arg.startswith("@") and len(arg) > 1:
            path = Path(arg[1:])
            path = path if path.is_absolute() else cwd / path
            try:
                text = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise _not_cacheable("argfile-unreadable", f"{arg}: {exc}") from exc
            expanded.extend(text.splitlines())
        else:
            expanded.append(arg)
    return tuple(expanded)


def _split_options(arguments: Sequence[str]) -> Iterable[tuple[str, str | None, tuple[str, ...]]]:
    """Yield (canonical option, value, the tokens it took) for each option; a
    positional argument comes as ("", value, (value,))."""
    i = 0
    n = len(arguments)
    while i < n:
        arg = arguments[i]
        i += 1
        if arg in _PROBE_FLAGS:
            yield ("probe", _PROBE_FLAGS[arg], (arg,))
            continue
        if arg in _FLAGS:
            yield (_FLAGS[arg], None, (arg,))
            continue
        if arg == "-" or not arg.startswith("-"):
            yield ("", arg, (arg,))
            continue
        if arg.startswith("--"):
            name, eq, value = arg.partition("=")
            if name in _VALUE_OPTIONS:
                if eq:
                    yield (_VALUE_OPTIONS[name], value, (arg,))
                    continue
                if i >= n:
                    raise _not_cacheable("missing-value", f"{name} needs a value")
                i += 1
                yield (_VALUE_OPTIONS[name], arguments[i - 1], (arg, arguments[i - 1]))
                continue
            raise _not_cacheable("unknown-option", arg)
        head = arg[:2]
        if head in _SHORT_WITH_VALUE:
            if len(arg) > 2:
                yield (_VALUE_OPTIONS[head], arg[2:], (arg,))
                continue
            if i >= n:
                raise _not_cacheable("missing-value", f"{head} needs a value")
            i += 1
            yield (_VALUE_OPTIONS[head], arguments[i - 1], (arg, arguments[i - 1]))
            continue
        raise _not_cacheable("unknown-option", arg)


#: Options a dep-info-only run must not repeat: it writes its own outputs and
#: nobody reads its diagnostics.
_NOT_FOR_DISCOVERY = frozenset({"--emit", "-o", "--out-dir", "--json", "--error-format", "--color", "--diagnostic-width", "--print"})


def discovery_arguments(expanded: Sequence[str]) -> list[str]:
    """The call's arguments without its outputs and diagnostics settings,
    for a ``--emit=dep-info`` run into a scratch directory."""
    kept: list[str] = []
    for option, value, tokens in _split_options(expanded):
        if option in _NOT_FOR_DISCOVERY:
            continue
        if option == "-C" and value is not None and value.partition("=")[0].strip() in ("split-debuginfo", "save-temps"):
            continue
        kept.extend(tokens)
    return kept


def parse_extern(value: str) -> Extern:
    spec, eq, path = value.partition("=")
    options: tuple[str, ...] = ()
    if ":" in spec:
        opts, _, spec = spec.rpartition(":")
        options = tuple(o for o in opts.split(",") if o)
    return Extern(name=spec, path=path if eq else None, options=options)


def parse_search_path(value: str) -> SearchPath:
    kind, eq, path = value.partition("=")
    if eq and kind in {"dependency", "crate", "native", "framework", "all"}:
        return SearchPath(kind=kind, path=path)
    return SearchPath(kind="all", path=value)


def parse_native_lib(value: str) -> NativeLib:
    kind = "dylib"
    modifiers: tuple[str, ...] = ()
    spec = value
    if "=" in value:
        head, _, spec = value.partition("=")
        kind, _, mods = head.partition(":")
        modifiers = tuple(m for m in mods.split(",") if m)
    name, colon, rename = spec.partition(":")
    return NativeLib(kind=kind or "dylib", modifiers=modifiers, name=name, rename=rename if colon else None)


def parse(arguments: Sequence[str], cwd: Path) -> RustcArgs | NotCacheable | NotCompilation:
    """Understand one rustc command line (without the executable)."""
    try:
        return _parse(arguments, cwd)
    except _Refuse as refused:
        return refused.outcome


def _parse(arguments: Sequence[str], cwd: Path) -> RustcArgs:
    args = expand_argfiles(arguments, cwd)
    inputs: list[str] = []
    key: list[str] = []
    paths: list[PathArgument] = []
    crate_types: list[str] = []
    emits: list[str] = []
    emit_paths: dict[str, str] = {}
    externs: list[Extern] = []
    search: list[SearchPath] = []
    libs: list[NativeLib] = []
    codegen: list[tuple[str, str | None]] = []
    remaps: list[tuple[str, str]] = []
    prints: list[str] = []
    probe: str | None = None
    crate_name = None
    out_dir = output = target = sysroot = None
    error_format = color = None
    json_opts: list[str] = []
    test = False

    for option, value, tokens in _split_options(args):
        if option == "probe":
            probe = probe or value
        elif option == "":
            inputs.append(value)
        elif option in ("-g", "-O", "-v"):
            key.append(option)
            if option == "-g":
                codegen.append(("debuginfo", "2"))
            elif option == "-O":
                codegen.append(("opt-level", "3"))
        elif option == "--test":
            test = True
            key.append(option)
        elif option == "--explain":
            probe = "explain"
        elif option == "--print":
            prints.append(value)
        elif option == "--crate-name":
            crate_name = value
            key.append(f"--crate-name={value}")
        elif option == "--crate-type":
            for kind in value.split(","):
                kind = kind.strip()
                if kind not in CRATE_TYPES:
                    raise _not_cacheable("unknown-crate-type", kind)
                crate_types.append(kind)
            key.append(f"--crate-type={value}")
        elif option == "--emit":
            for item in value.split(","):
                kind, eq, path = item.strip().partition("=")
                if kind not in KNOWN_EMITS:
                    raise _not_cacheable("unknown-emit", kind)
                if kind not in SUPPORTED_EMITS:
                    raise _not_cacheable("emit-kind", f"--emit={kind} writes files named per codegen unit")
                if kind not in emits:
                    emits.append(kind)
                if eq:
                    if path == "-":
                        raise _not_cacheable("output-to-stdout", f"--emit={item}")
                    emit_paths[kind] = path
                    paths.append(PathArgument(option=f"--emit={kind}", value=path))
            key.append("--emit=" + ",".join(i.partition("=")[0] for i in value.split(",")))
        elif option == "-o":
            if value == "-":
                raise _not_cacheable("output-to-stdout", "-o -")
            output = value
            paths.append(PathArgument(option="-o", value=value))
        elif option == "--out-dir":
            out_dir = value
            paths.append(PathArgument(option="--out-dir", value=value))
        elif option == "--target":
            target = value
            if value.endswith(".json"):
                paths.append(PathArgument(option="--target", value=value))
            else:
                key.append(f"--target={value}")
        elif option == "--sysroot":
            sysroot = value
            paths.append(PathArgument(option="--sysroot", value=value))
        elif option == "--extern":
            ext = parse_extern(value)
            externs.append(ext)
            prefix = ",".join(ext.options) + ":" if ext.options else ""
            if ext.path is None:
                key.append(f"--extern={prefix}{ext.name}")
            else:
                # The name and options are key text; the file is hashed as a dependency.
                key.append(f"--extern={prefix}{ext.name}=<file>")
                paths.append(PathArgument(option=f"--extern={prefix}{ext.name}", value=ext.path))
        elif option == "-L":
            sp = parse_search_path(value)
            search.append(sp)
            paths.append(PathArgument(option=f"-L{sp.kind}", value=sp.path))
        elif option == "-l":
            lib = parse_native_lib(value)
            libs.append(lib)
            key.append(f"-l{value}")
        elif option == "-C":
            name, eq, val = value.partition("=")
            name = name.strip().replace("_", "-")
            entry = (name, val if eq else None)
            if name == "incremental":
                raise _not_cacheable("incremental", f"-C incremental={val}: rustc keeps its own state between builds; "
                                                   "set CARGO_INCREMENTAL=0 (or build with `pycache cargo`)")
            if name == "save-temps" and (val or "yes").lower() not in DEBUGINFO_OFF:
                raise _not_cacheable("save-temps", "-C save-temps leaves intermediate files behind")
            if name == "help":
                probe = "help"
            if name == "linker-plugin-lto" and eq and val.strip().lower() not in BOOLEAN_WORDS:
                raise _not_cacheable("linker-plugin", f"-C linker-plugin-lto={val}: the linker loads a plugin pycache does not key")
            codegen.append(entry)
            if name in ("linker", "ar", "dlltool", "profile-use", "profile-generate"):
                paths.append(PathArgument(option=f"-C{name}", value=val if eq else ""))
            elif name in ("link-arg", "link-args", "llvm-args", "remark"):
                paths.append(PathArgument(option=f"-C{name}", value=val if eq else "", kind="text"))
            else:
                key.append(f"-C{name}={val}" if eq else f"-C{name}")
        elif option in ("-A", "-W", "-D", "-F", "--force-warn", "--cap-lints"):
            if option == "-W" and value == "help":
                probe = "help"
            key.append(f"{option}{value}" if option.startswith("-") and len(option) == 2 else f"{option}={value}")
        elif option in ("--cfg", "--check-cfg", "--edition", "--diagnostic-width", "--remap-path-scope", "--env-set"):
            key.append(f"{option}={value}")
        elif option == "--error-format":
            error_format = value
            key.append(f"--error-format={value}")
        elif option == "--json":
            json_opts.extend(v for v in value.split(",") if v)
            key.append(f"--json={value}")
        elif option == "--color":
            color = value
            key.append(f"--color={value}")
        elif option == "--remap-path-prefix":
            src, eq, dst = value.partition("=")
            if not eq:
                raise _not_cacheable("bad-remap", value)
            remaps.append((src, dst))
            paths.append(PathArgument(option="--remap-path-prefix", value=value, kind="remap"))
        elif option == "-Z":
            name = value.partition("=")[0].strip().replace("_", "-")
            if name not in UNSTABLE_OPTIONS:
                # Unstable options come and go; many read or write files of
                # their own (-Z self-profile, -Z dump-mir, -Z codegen-backend).
                raise _not_cacheable("unstable-option", f"-Z {value}")
            # Unstable options may carry paths (-Z remap-cwd-prefix=...).
            paths.append(PathArgument(option="-Z", value=value, kind="text"))
        else:  # pragma: no cover - every canonical option is handled above
            raise _not_cacheable("unknown-option", " ".join(tokens))

    if probe is not None:
        raise _Refuse(NotCompilation(probe, " ".join(arguments)))
    if inputs == ["-"] or "-" in inputs:
        raise _Refuse(NotCompilation("stdin", "the crate comes from standard input"))
    stops = [p for p in prints if p.partition("=")[0] not in PRINTS_DURING_COMPILE]
    if stops:
        raise _Refuse(NotCompilation("print", "--print " + ",".join(stops)))
    if any("=" in p for p in prints):
        raise _not_cacheable("print-to-file", ",".join(prints))
    key.extend(f"--print={p}" for p in prints)
    if not inputs:
        raise _Refuse(NotCompilation("no-input", "no crate root given"))
    if len(inputs) > 1:
        raise _not_cacheable("multiple-inputs", " ".join(inputs))
    if not crate_types:
        if not test:
            # Without --crate-type, a #![crate_type] attribute in the source
            # decides the outputs, and parsing must not read sources.
            raise _not_cacheable("crate-type-implicit", "no --crate-type given")
        crate_types = ["bin"]
    if test:
        crate_types = ["bin"]
    if crate_name is None:
        raise _not_cacheable("crate-name-implicit", "no --crate-name given")
    if not emits:
        emits = ["link"]
    if output is not None and (len(emits) > 1 or len(crate_types) > 1):
        # rustc adapts -o per output type in ways that differ per crate type.
        raise _not_cacheable("output-file-multiple-emits", f"-o {output} with --emit={','.join(emits)}")

    extra_filename = ""
    for name, val in codegen:
        if name == "extra-filename":
            extra_filename = val or ""

    paths.insert(0, PathArgument(option="input", value=inputs[0]))
    return RustcArgs(
        input=inputs[0],
        crate_name=crate_name,
        crate_types=tuple(dict.fromkeys(crate_types)),
        emits=tuple(emits),
        emit_paths=emit_paths,
        out_dir=out_dir,
        output=output,
        extra_filename=extra_filename,
        target=target,
        sysroot=sysroot,
        externs=tuple(externs),
        search_paths=tuple(search),
        libs=tuple(libs),
        codegen=tuple(codegen),
        remaps=tuple(remaps),
        test=test,
        error_format=error_format,
        json=tuple(json_opts),
        color=color,
        key_arguments=tuple(key),
        path_arguments=tuple(paths),
        expanded=args,
    )


# --- outputs -------------------------------------------------------------------


def output_paths(args: RustcArgs) -> dict[str, str] | NotCacheable:
    """Role -> path (as the call names it, relative to its cwd or absolute)
    for every file the call writes. Roles are stored identifiers: never rename.

    - ``rlib``, ``staticlib``, ``dylib``, ``cdylib``, ``proc-macro``, ``bin``:
      the ``link`` output of each crate type;
    - ``rmeta``: ``--emit=metadata``; ``dep-info``: the ``.d`` file;
    - ``dwp``: the packed split debug info of a linked crate.
    """
    layout = layout_for(args.target)
    base_dir = args.out_dir if args.out_dir is not None else (os.path.dirname(args.output) if args.output else "")

    def in_dir(name: str) -> str:
        return os.path.join(base_dir, name) if base_dir else name

    stem = args.stem
    roles: dict[str, str] = {}
    if "link" in args.emits:
        if args.output is not None:
            roles[_link_role(args.crate_types[0])] = args.output
        else:
            for kind in args.crate_types:
                role = _link_role(kind)
                if kind in ("lib", "rlib"):
                    roles[role] = in_dir(f"lib{stem}.rlib")
                    continue
                if layout is None:
                    return NotCacheable("target-layout", f"cannot name the {kind} output for target {args.target}")
                if kind in LINKED_CRATE_TYPES and not layout.linking_supported:
                    return NotCacheable("target-layout", f"{kind} crates for {args.target} write files pycache cannot name")
                if kind == "staticlib":
                    roles[role] = in_dir(f"{layout.staticlib_prefix}{stem}{layout.staticlib_suffix}")
                elif kind == "bin":
                    roles[role] = in_dir(f"{stem}{layout.exe_suffix}")
                else:
                    roles[role] = in_dir(f"{layout.dll_prefix}{stem}{layout.dll_suffix}")
    if "metadata" in args.emits:
        roles["rmeta"] = args.emit_paths.get("metadata") or (
            args.output if args.output is not None and args.emits == ("metadata",) else in_dir(f"lib{stem}.rmeta")
        )
    if "dep-info" in args.emits:
        roles["dep-info"] = args.emit_paths.get("dep-info") or (
            args.output if args.output is not None and args.emits == ("dep-info",) else in_dir(f"{stem}.d")
        )
    if "link" in args.emit_paths:
        link_roles = [r for r in roles if r not in ("rmeta", "dep-info")]
        if len(link_roles) != 1:
            return NotCacheable("output-file-multiple-emits", "--emit=link=PATH with several crate types")
        roles[link_roles[0]] = args.emit_paths["link"]
    if args.debuginfo and args.links:
        split = args.split_debuginfo
        if split == "unpacked":
            # One .dwo per codegen unit, named after it: not names a call can predict.
            return NotCacheable("split-debuginfo-unpacked", "-C split-debuginfo=unpacked writes one file per codegen unit")
        if split == "packed" and (layout is None or layout.name != "elf"):
            return NotCacheable("split-debuginfo-packed", f"packed split debug info for {args.target or 'this host'}")
        if split == "packed":
            linked = [r for r in roles if r in LINKED_CRATE_TYPES]
            if len(linked) == 1:
                roles["dwp"] = roles[linked[0]] + ".dwp"
    seen: dict[str, str] = {}
    for role, path in roles.items():
        if path in seen:
            return NotCacheable("output-collision", f"{seen[path]} and {role} both write {path}")
        seen[path] = role
    return roles


def _link_role(crate_type: str) -> str:
    return "rlib" if crate_type in ("lib", "rlib") else crate_type
