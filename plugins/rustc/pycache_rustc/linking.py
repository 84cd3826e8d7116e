"""Everything a link reads, for the crate kinds that link (bin, dylib,
cdylib, proc-macro), and the native libraries any crate bundles.

A linked crate is cacheable only when every input of the link is in the key:

- the linker: ``-C linker`` or the target's default (``cc``), identified by
  its content, its version and the content of the tools and start-up files
  it uses (``ld``, ``collect2``, ``crt*.o``, ``libgcc``, libc's linker
  script and static parts); rust-lld and gcc-ld come with the toolchain, whose
  fingerprint covers them;
- the native libraries: for a compile that prints its link line
  (`link_report`), every ``-l`` library on it where the linker finds it
  (`link_line_libraries`: those upstream crates name in their metadata
  too); otherwise (LTO) every library file in the ``-L native=``/``-L
  all=`` directories and every ``-l`` library wherever the linker would
  find it;
- what the link arguments make the linker read (`linkargs`);
- the variables the linker reads (``LIBRARY_PATH``, ``COMPILER_PATH``, ...).

What cannot be pinned down (a linker that is a script, an unknown target's
default linker, a library or linker script that cannot be found, a link
argument that writes a file) makes the call not cacheable, with a reason.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from pycache_core.api import Invocation, KeyComponent, NotCacheable, PluginContext
from pycache_core.digests import stat_signature
from pycache_core.memo import Memo

from . import linkargs
from .arguments import APPLE, ELF, WASM, NativeLib, RustcArgs, layout_for, output_paths

#: Variables a gcc/clang driver or GNU ld reads while linking. Not
#: LD_LIBRARY_PATH: cargo sets it on every rustc call to its own target
#: directories (for proc-macros), and ld reads it only to find the
#: dependencies of shared libraries, which does not change what it writes.
LINKER_ENV = ("LIBRARY_PATH", "COMPILER_PATH", "GCC_EXEC_PREFIX", "LD_RUN_PATH", "SDKROOT")

# Start-up objects and support libraries a gcc/clang driver puts into every
# link on ELF hosts; their content ends up in (or decides) the output.
_SUPPORT_FILES = (
    "crt1.o", "Scrt1.o", "rcrt1.o", "crti.o", "crtn.o", "crtbegin.o", "crtend.o", "crtbeginS.o", "crtendS.o",
    "libgcc.a", "libgcc_eh.a", "libgcc_s.so", "libgcc_s.so.1", "libc.so", "libc.so.6", "libc_nonshared.a",
    "libm.so", "libm.so.6", "libpthread.so", "libpthread.a", "libdl.so", "libdl.a", "librt.so", "librt.a",
    "libutil.so", "libutil.a", "libunwind.so", "libunwind.a",
)
_DRIVER_NAME = re.compile(r"(.*-)?(cc|c\+\+|gcc|g\+\+|clang|clang\+\+)(-[0-9.]+)?")
_LIBRARY_FILE = re.compile(r"(lib.*\.(a|so(\.[0-9.]+)?|dylib|rlib)|.*\.(lib|dll|a|o))$")
#: What rustc can bundle into an rlib or staticlib from a native directory.
_STATIC_ARCHIVE = re.compile(r".*\.(a|lib)$")
_ANY_FILE = re.compile(r".")
MAX_LIBRARY_FILES = 256

_DRIVERS: Memo[DriverProbe] = Memo()


@dataclass(frozen=True, slots=True, kw_only=True)
class DriverProbe:
    """What a gcc/clang driver told us about itself (memoised by its stat)."""

    version: str
    tools: tuple[str, ...]  # absolute paths, or bare names to find on PATH
    support_files: tuple[str, ...]
    library_dirs: tuple[str, ...]


def default_linker(args: RustcArgs) -> str | None:
    """The linker rustc runs when no ``-C linker`` is given; None if unknown."""
    if args.codegen_value("linker-flavor") is not None:
        return None  # the flavour picks a linker by rules we do not mirror
    layout = layout_for(args.target)
    if layout is ELF or layout is APPLE:
        return "cc"
    if layout is WASM:
        return "rust-lld"  # self-contained: ships in the toolchain's sysroot
    return None


def find_program(name: str, invocation: Invocation) -> Path | None:
    if os.sep in name:
        path = invocation.resolve(name)
        return path if path.is_file() else None
    found = shutil.which(name, path=invocation.env.get("PATH", os.defpath))
    return Path(found) if found else None


def linker_components(
    args: RustcArgs, invocation: Invocation, sysroot: Path, portable: Callable[[str], str], context: PluginContext
) -> tuple[KeyComponent, ...] | NotCacheable:
    """The linker's identity and the link's other inputs, as key components
    (paths through ``portable``: `PluginContext.portable_path` or as they are)."""
    named = args.codegen_value("linker")
    linker = named or default_linker(args)
    if not linker:
        return NotCacheable("linker-unknown", f"no known default linker for target {args.target}")
    if linker == "rust-lld" and not named:
        program = _toolchain_tool(sysroot, "rust-lld")
        if program is None:
            return NotCacheable("linker-not-found", "rust-lld is not in the toolchain")
        components = [KeyComponent("linker", ("rust-lld", "toolchain"))]
    else:
        program = find_program(linker, invocation)
        if program is None:
            return NotCacheable("linker-not-found", f"linker {linker} not found on PATH")
        identity = _linker_identity(linker, program, invocation, context)
        if isinstance(identity, NotCacheable):
            return identity
        components = [identity]
    selected = _selected_linker(args, invocation, context)
    if isinstance(selected, NotCacheable):
        return selected
    components.extend(selected)
    components.extend(
        KeyComponent(f"link-env:{name}", os.pathsep.join(portable(p) for p in invocation.env[name].split(os.pathsep)))
        for name in LINKER_ENV
        if name in invocation.env
    )
    return tuple(components)


def _selected_linker(args: RustcArgs, invocation: Invocation, context: PluginContext) -> list[KeyComponent] | NotCacheable:
    """The linker a driver runs instead of its own when a link argument says
    ``-fuse-ld=NAME`` (``ld.NAME`` on PATH or in a ``-B`` directory) or
    ``-fuse-ld=PATH``/``--ld-path=PATH``: keyed by its content."""
    link_args = linkargs.read(args)
    if isinstance(link_args, NotCacheable) or link_args.fuse_ld is None:
        return []
    choice = link_args.fuse_ld
    if os.sep in choice:
        program: Path | None = invocation.resolve(choice)
    else:
        program = None
        for directory in link_args.tool_dirs:
            candidate = invocation.resolve(directory) / f"ld.{choice}"
            if candidate.is_file():
                program = candidate
                break
        program = program or find_program(f"ld.{choice}", invocation)
    if program is None or not program.is_file():
        return NotCacheable("linker-not-found", f"-fuse-ld={choice}: no such linker found")
    real = Path(os.path.realpath(program))
    return [KeyComponent("linker:selected", f"{choice} {real.name} {context.hash_file(real)}")]


def _toolchain_tool(sysroot: Path, name: str) -> Path | None:
    for candidate in (sysroot / "lib" / "rustlib").glob(f"*/bin/{name}"):
        return candidate
    return None


def _is_script(path: Path) -> bool:
    try:
        with open(path, "rb") as f:
            return f.read(2) == b"#!"
    except OSError:
        return True


def _linker_identity(
    name: str, program: Path, invocation: Invocation, context: PluginContext
) -> KeyComponent | NotCacheable:
    real = Path(os.path.realpath(program))
    if _is_script(real):
        # A wrapper script may run any linker with any arguments.
        return NotCacheable("linker-unidentified", f"linker {program} is a script")
    lines = [f"linker {real.name} {context.hash_file(real)}"]
    if _DRIVER_NAME.fullmatch(real.name) or _DRIVER_NAME.fullmatch(os.path.basename(name)):
        probe = _DRIVERS.get((os.fspath(real), stat_signature(real)), lambda: _probe_driver(real, context))
        lines.append(f"version {probe.version}")
        for tool in probe.tools:
            path = Path(tool) if os.sep in tool else find_program(tool, invocation)
            if path is not None and path.is_file():
                lines.append(f"tool {path.name} {context.hash_file(path)}")
        for support in probe.support_files:
            try:
                lines.append(f"file {os.path.basename(support)} {context.hash_file(Path(support))}")
            except OSError:
                lines.append(f"file {os.path.basename(support)} <missing>")
    return KeyComponent("linker", tuple(lines))


def _probe_driver(driver: Path, context: PluginContext) -> DriverProbe:
    def ask(*argv: str) -> str:
        try:
            done = context.run([os.fspath(driver), *argv], env={"PATH": os.defpath, "LC_ALL": "C"})
        except OSError:
            return ""
        return done.stdout.decode(errors="replace").strip() if done.returncode == 0 else ""

    version = ask("--version").splitlines()[0:1]
    tools = []
    for tool in ("ld", "collect2", "ld.lld", "ld.gold", "ld.bfd"):
        answer = ask(f"-print-prog-name={tool}")
        if answer and answer != tool or tool == "ld":
            tools.append(answer or tool)
    support = []
    for name in _SUPPORT_FILES:
        answer = ask(f"-print-file-name={name}")
        if answer and os.sep in answer and os.path.exists(answer):
            support.append(os.path.normpath(answer))
    library_dirs: list[str] = []
    for line in ask("-print-search-dirs").splitlines():
        if line.startswith("libraries:"):
            raw = line.partition(":")[2].strip().lstrip("=")
            library_dirs = [os.path.normpath(d) for d in raw.split(os.pathsep) if d]
    return DriverProbe(
        version=version[0] if version else "",
        tools=tuple(tools),
        support_files=tuple(dict.fromkeys(support)),
        library_dirs=tuple(dict.fromkeys(library_dirs)),
    )


# --- native libraries -------------------------------------------------------------


def native_components(
    args: RustcArgs, invocation: Invocation, portable: Callable[[str], str], context: PluginContext
) -> tuple[KeyComponent, ...] | NotCacheable:
    """Native libraries and link inputs that reach the output.

    Every crate kind that generates code bundles static libraries (rlib,
    staticlib): those ``-l static=`` names, and those that ``#[link(name =
    ..., kind = "static")]`` attributes in its sources name, which only the
    compile sees -- so every static archive in the native search
    directories is keyed. A linked crate also reads everything its link
    arguments name (`linkargs`), and what the linker finds in those
    directories: the libraries of the link line its compile prints
    (`link_line_libraries`, reported after the compile), or, when it prints
    none (LTO), every library file there.
    """
    components: list[KeyComponent] = []
    link_args = linkargs.read(args) if args.links else linkargs.LinkArguments()
    if isinstance(link_args, NotCacheable):
        return link_args
    dirs = [invocation.resolve(d) for d in args.search_dirs("native", "all", "framework")]
    link_dirs = [*dirs, *(invocation.resolve(d) for d in link_args.search_dirs)]
    for lib in args.libs:
        if lib.kind == "static" or args.links:
            found = _find_library(lib, link_dirs)
            if found is None and args.links and lib.kind != "static":
                found = _find_in_driver_dirs(lib, args, invocation, context)
            if found is None:
                if lib.kind == "static" and "-bundle" in lib.modifiers and not args.links:
                    continue  # not bundled: only its name goes into the rlib
                return NotCacheable("native-lib-not-found", f"-l {lib.kind}={lib.name} not found in {[os.fspath(d) for d in link_dirs]}")
            components.append(KeyComponent(f"native-lib:{lib.kind}:{lib.name}", context.hash_file(found)))
    if not args.generates_code:
        return tuple(components)
    pattern = _LIBRARY_FILE if args.links else _STATIC_ARCHIVE
    # A linked crate whose compile prints its link line has the libraries it
    # reads keyed from that line (`link_line_libraries`); the rest read what
    # rustc may bundle or the linker may find in these directories.
    listed = [] if reports_link(args) else link_dirs if args.links else dirs
    for directory in listed:
        listing = _library_files(directory, pattern)
        if listing is None:
            components.append(KeyComponent(f"native-dir:{portable(os.fspath(directory))}", "<absent>"))
            continue
        if len(listing) > MAX_LIBRARY_FILES:
            return NotCacheable(
                "native-search-path-large", f"{directory} holds {len(listing)} libraries; not hashing them all on each call"
            )
        components.append(
            KeyComponent(
                f"native-dir:{portable(os.fspath(directory))}",
                tuple(f"{name} {context.hash_file(directory / name)}" for name in listing),
            )
        )
    if args.links:
        inputs = _link_inputs(args, link_args, link_dirs, invocation, context)
        if isinstance(inputs, NotCacheable):
            return inputs
        components.extend(KeyComponent(f"link-file:{portable(os.fspath(path))}", context.hash_file(path)) for path in inputs)
        for directory in link_args.tool_dirs:
            tools = _library_files(invocation.resolve(directory), _ANY_FILE)
            if tools is None or len(tools) > MAX_LIBRARY_FILES:
                return NotCacheable("linker-unidentified", f"-B {directory}: not a directory of at most {MAX_LIBRARY_FILES} tools")
            root = invocation.resolve(directory)
            components.append(KeyComponent(f"link-tools:{portable(os.fspath(root))}", tuple(f"{n} {context.hash_file(root / n)}" for n in tools)))
    return tuple(components)


def _link_inputs(
    args: RustcArgs, link_args: linkargs.LinkArguments, link_dirs: list[Path], invocation: Invocation, context: PluginContext
) -> list[Path] | NotCacheable:
    """Files the link arguments make the linker read: named files, ``-T``
    scripts found on the search path, what scripts include, ``-l`` libraries."""
    cwd = invocation.cwd
    files = [p for p in (invocation.resolve(f) for f in link_args.files) if p.is_file()]
    scripts: list[Path] = []
    for name in link_args.scripts:
        found = linkargs.find_on_search_path(name, cwd, link_dirs)
        if found is None:
            return NotCacheable("link-file-not-found", f"linker script {name} is not in {cwd} or {[os.fspath(d) for d in link_dirs]}")
        scripts.append(found)
    for name in link_args.libraries:
        found = _find_link_arg_library(name, link_dirs, args, invocation, context)
        if found is None:
            return NotCacheable("native-lib-not-found", f"link argument -l{name} not found in {[os.fspath(d) for d in link_dirs]}")
        files.append(found)

    def find_library(name: str, dirs: list[Path]) -> Path | None:
        return _find_link_arg_library(name, dirs, args, invocation, context)

    # Inputs that are text are linker scripts too (GNU ld reads an unknown
    # input file as one): follow what they include.
    closure = linkargs.script_closure([*scripts, *files], cwd, link_dirs, find_library)
    if isinstance(closure, NotCacheable):
        return closure
    return list(dict.fromkeys(closure))


def _find_link_arg_library(name: str, dirs: list[Path], args: RustcArgs, invocation: Invocation, context: PluginContext) -> Path | None:
    lib = NativeLib(kind="dylib", modifiers=("+verbatim",) if name.startswith(":") else (), name=name.lstrip(":"))
    return _find_library(lib, dirs) or _find_in_driver_dirs(lib, args, invocation, context)


def _library_candidates(lib) -> list[str]:
    if lib.verbatim:
        return [lib.name]
    if lib.kind == "static":
        return [f"lib{lib.name}.a", f"{lib.name}.lib"]
    if lib.kind == "framework":
        return [f"{lib.name}.framework"]
    return [f"lib{lib.name}.so", f"lib{lib.name}.dylib", f"lib{lib.name}.a", f"{lib.name}.lib", f"{lib.name}.dll"]


def _find_library(lib, dirs: list[Path]) -> Path | None:
    for directory in dirs:
        for candidate in _library_candidates(lib):
            path = directory / candidate
            if path.is_file():
                return path
    return None


def _find_in_driver_dirs(lib, args: RustcArgs, invocation: Invocation, context: PluginContext) -> Path | None:
    linker = args.codegen_value("linker") or default_linker(args)
    if not linker:
        return None
    program = find_program(linker, invocation)
    if program is None:
        return None
    real = Path(os.path.realpath(program))
    if not (_DRIVER_NAME.fullmatch(real.name) or _DRIVER_NAME.fullmatch(os.path.basename(linker))):
        return None
    probe = _DRIVERS.get((os.fspath(real), stat_signature(real)), lambda: _probe_driver(real, context))
    return _find_library(lib, [Path(d) for d in probe.library_dirs])


def _library_files(directory: Path, pattern: re.Pattern[str]) -> list[str] | None:
    try:
        names = sorted(os.listdir(directory))
    except OSError:
        return None
    return [n for n in names if pattern.match(n) and (directory / n).is_file()]


# --- the link line a compile reports --------------------------------------------------

#: Suffix of the file a linking compile prints its link line to (the
#: collector removes it; outputs ending so are never taken for stray ones).
LINK_REPORT_SUFFIX = ".link-args.pycache-tmp"
#: Crate files on a link line (what ``-Z binary-dep-depinfo`` would name).
CRATE_FILE = (".rlib", ".rmeta", ".so", ".dylib", ".dll")


def link_report(args: RustcArgs, roles: Mapping[str, str]) -> str | None:
    """Where a linking compile may print its link line (``--print
    link-args=PATH``), or None when that line would not name every crate the
    link reads: several linked outputs in one call, or LTO, where rustc reads
    the upstream rlibs' bitcode itself and links without them."""
    linked = [role for role in roles if role in ("bin", "dylib", "cdylib", "proc-macro")]
    if not args.links or len(linked) != 1 or "dep-info" not in roles:
        return None
    lto = args.codegen_value("lto")
    if lto is not None and lto.strip().lower() not in ("off", "no", "n", "false"):
        return None
    return roles[linked[0]] + LINK_REPORT_SUFFIX


_RUSTC_TEMPORARY = re.compile(r"(^|/)rustc[0-9A-Za-z]{6}/|\.rcgu\.o$")
_ENV_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")


@dataclass(frozen=True, slots=True, kw_only=True)
class LinkLine:
    """What a printed link line passes to the linker."""

    files: tuple[str, ...]  # absolute paths: upstream crates, objects, archives
    search_dirs: tuple[str, ...]  # -L, in order
    libraries: tuple[str, ...]  # -lNAME as NAME, -l:FILE as :FILE, in order


def read_link_line(text: str) -> LinkLine | None:
    """The inputs of the link line rustc printed (``VAR="v" ... "cc" args``),
    without rustc's own temporaries (its ``rustcXXXXXX`` directory, the
    codegen units' objects) and the output; None when it cannot be read."""
    import shlex

    try:
        words = shlex.split(text)
    except ValueError:
        return None
    while words and _ENV_ASSIGNMENT.match(words[0]):
        words.pop(0)
    words = words[1:]  # the linker itself: keyed by `linker_components`
    files: list[str] = []
    dirs: list[str] = []
    libs: list[str] = []
    i = 0
    while i < len(words):
        word = words[i]
        i += 1
        if word in ("-o", "-L", "-l") and i < len(words):
            value = words[i]
            i += 1
            if word == "-L":
                dirs.append(value)
            elif word == "-l":
                libs.append(value)
            continue
        if word.startswith("-L") and len(word) > 2:
            dirs.append(word[2:])
        elif word.startswith("-l") and len(word) > 2:
            libs.append(word[2:])
        elif word.startswith("-Wl,"):
            for part in word[4:].split(","):
                if part.startswith("-l") and len(part) > 2:
                    libs.append(part[2:])
        elif os.path.isabs(word) and not _RUSTC_TEMPORARY.search(word):
            files.append(word)
    dirs = [d for d in dirs if not _RUSTC_TEMPORARY.search(d + "/")]
    return LinkLine(files=tuple(dict.fromkeys(files)), search_dirs=tuple(dirs), libraries=tuple(dict.fromkeys(libs)))


def link_line_libraries(
    line: LinkLine, args: RustcArgs, invocation: Invocation, context: PluginContext
) -> tuple[list[Path], list[Path]] | NotCacheable:
    """(files, must-stay-absent paths) of every ``-l`` library on a link
    line, found as the linker finds it: in the ``-L`` directories in order,
    then the driver's own library directories. Each library's file in the
    first directory that has one is read (both ``libNAME.so`` and
    ``libNAME.a`` there, whichever the link mode takes), and each candidate
    in an earlier directory must stay absent. A library that is a linker
    script (libc.so) brings what it names. This covers the libraries
    upstream crates name in their metadata, which only the link line shows."""
    dirs = [invocation.resolve(d) for d in line.search_dirs]
    dirs += [Path(d) for d in _driver_library_dirs(args, invocation, context) if Path(d) not in dirs]
    files: list[Path] = []
    absent: list[Path] = []
    for name in line.libraries:
        candidates = [name[1:]] if name.startswith(":") else [f"lib{name}.so", f"lib{name}.a"]
        found: list[Path] = []
        for directory in dirs:
            present = [directory / c for c in candidates if (directory / c).is_file()]
            if present:
                found = present
                absent.extend(directory / c for c in candidates if directory / c not in present)
                break
            absent.extend(directory / c for c in candidates)
        if not found:
            return NotCacheable("native-lib-not-found", f"-l{name} of the link line not found in {[os.fspath(d) for d in dirs]}")
        files.extend(found)

    def find_library(name: str, search: list[Path]) -> Path | None:
        return _find_library(NativeLib(kind="dylib", modifiers=(), name=name), search)

    closure = linkargs.script_closure(files, invocation.cwd, dirs, find_library)
    if isinstance(closure, NotCacheable):
        return closure
    return list(dict.fromkeys(closure)), list(dict.fromkeys(absent))


def _driver_library_dirs(args: RustcArgs, invocation: Invocation, context: PluginContext) -> tuple[str, ...]:
    linker = args.codegen_value("linker") or default_linker(args)
    program = find_program(linker, invocation) if linker else None
    if program is None:
        return ()
    real = Path(os.path.realpath(program))
    if not (_DRIVER_NAME.fullmatch(real.name) or _DRIVER_NAME.fullmatch(os.path.basename(linker or ""))):
        return ()
    return _DRIVERS.get((os.fspath(real), stat_signature(real)), lambda: _probe_driver(real, context)).library_dirs


def reports_link(args: RustcArgs) -> bool:
    """The call's compile prints its link line (see `link_report`)."""
    roles = output_paths(args)
    return isinstance(roles, dict) and link_report(args, roles) is not None


def linker_env_names(env: Mapping[str, str]) -> tuple[str, ...]:
    return tuple(n for n in LINKER_ENV if n in env)
