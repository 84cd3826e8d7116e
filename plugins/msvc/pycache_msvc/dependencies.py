"""What a cl or clang-cl result depends on beyond its key arguments.

Two ways to name a call, as for gcc and clang:

- **preprocessor mode** (`discover`): run the compiler with ``/E
  /showIncludes`` and every argument that can define a macro or find a
  header, and key the preprocessed text. The notes it prints (with the
  prefix learnt by the probe, see `pycache_msvc.toolchain`) are the headers
  it read; with their nesting they are the include stack, which MSVC's
  quoted-include search walks (each includer's directory in turn, then
  ``/I``, then %INCLUDE%). Headers that would shadow one of them if created
  must stay absent.
- **direct mode** (`direct_components`): the source's digest, the
  preprocessor arguments as written and the variables that steer the
  include search; the core records the headers `discover` found in a
  manifest and hits while they are unchanged, without running ``/E``.

What the object records beyond the code: with debug information (``/Z7``,
``/Zi``, ``-g...``) clang-cl writes the object's own absolute path, the
working directory, the compiler's path and the whole compiler command line
into it, so all of them are in the key; ``/FC`` and
``-fdiagnostics-absolute-paths`` put the working directory in every
message. The compiler-dependent refusals (a shared PDB with cl.exe,
``/sourceDependencies`` with clang-cl, ``/Yc``) are decided here, where the
toolchain is known.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path

from pycache_cfamily import reasons as R
from pycache_cfamily.includes import (
    SearchPath,
    has_include_lookups,
    parse_search_path,
    resolve,
    shadow_candidates,
    uses_has_include,
)
from pycache_cfamily.options import portable_argument as _portable_argument
from pycache_cfamily.preprocessed import Marker, uses_file_macros, uses_time_macros
from pycache_cfamily.texts import portable_markers
from pycache_core.api import Dependencies, Invocation, KeyComponent, NotCacheable, ParsedInvocation, PluginContext

from . import reasons as MR
from . import showincludes, toolchain
from .arguments import ClCall
from .options import table_for

#: Variables whose values every key holds when set: cl.exe's message
#: language (diagnostics and the /showIncludes prefix).
MESSAGE_ENV = ("VSLANG",)

#: Variables that steer where the compiler finds system headers. Direct
#: mode keys them (a changed value may find other headers); so does a
#: call whose object records the command line they expand into.
INCLUDE_ENV = ("INCLUDE", "EXTERNAL_INCLUDE")
#: clang-cl finds a Visual C++ installation from these, or from a cl.exe
#: and link.exe on PATH, when %INCLUDE% is not set.
TOOLCHAIN_ENV = ("VCToolsInstallDir", "VCINSTALLDIR")
#: clang's own include variables, which clang-cl honours too.
CLANG_INCLUDE_ENV = ("CPATH", "C_INCLUDE_PATH", "CPLUS_INCLUDE_PATH")

# Line markers of /E output: clang's `# 1 "file"`, cl's `#line 1 "file"`.
_MARKER_FILE = re.compile(rb'^#(?:line)? \d+ "((?:[^"\\\n]|\\.)*)"', re.M)


def _private(parsed: ParsedInvocation) -> ClCall:
    call = parsed.private
    if not isinstance(call, ClCall):
        raise TypeError(f"parsed invocation does not come from the msvc plugin: {call!r}")
    return call


def portable_argument(argument: str, call: ClCall, context: PluginContext) -> str:
    """An option of this family with every path in it made portable."""
    return _portable_argument(argument, table_for(call.style), context.portable_path)


def refusal(call: ClCall, context: PluginContext) -> NotCacheable | None:
    """What this toolchain makes of the call that parsing could not know."""
    kind = toolchain.kind_of(context)
    if kind == toolchain.MSVC and call.pdb_shared:
        return NotCacheable(MR.SHARED_PDB, call.pdb_shared)
    if kind == toolchain.CLANG_CL and call.source_dependencies is not None:
        return NotCacheable(MR.SOURCE_DEPENDENCIES, "clang-cl does not write the /sourceDependencies JSON")
    if call.pch is not None and call.pch.mode == "create":
        if kind != toolchain.CLANG_CL:
            return NotCacheable(R.PCH_CREATION, f"/Yc{call.pch.header}: cl.exe's .pch is not cached")
        if not call.pch_timestamp_off:
            return NotCacheable(
                MR.PCH_TIMESTAMP,
                f"/Yc{call.pch.header}: the .pch records its headers' times and a restored one fails /Yu; "
                "add -Xclang -fno-pch-timestamp",
            )
    return None


def records_command_line(call: ClCall) -> bool:
    """The object (or the .pch) holds the compiler's command line and paths."""
    return call.debug or call.record_command_line or (call.pch is not None and call.pch.mode == "create")


def env_components(env: Mapping[str, str], names) -> list[KeyComponent]:
    return [KeyComponent(f"env:{name}", env[name]) for name in names if name in env]


def include_search_components(call: ClCall, invocation: Invocation, context: PluginContext) -> list[KeyComponent]:
    """The variables that decide which system headers are found."""
    env = invocation.env
    names: list[str] = list(CLANG_INCLUDE_ENV)
    names.extend(call.include_env)
    if call.default_includes and not call.sdk_dirs:
        names.extend(INCLUDE_ENV)
        names.extend(TOOLCHAIN_ENV)
    components = env_components(env, dict.fromkeys(names))
    if (
        toolchain.kind_of(context) == toolchain.CLANG_CL
        and call.default_includes
        and not call.sdk_dirs
        and not any(env.get(name) for name in (*INCLUDE_ENV, *TOOLCHAIN_ENV))
    ):
        components.append(KeyComponent("vc-on-path", _visual_cpp_on_path(env)))
    return components


def _visual_cpp_on_path(env: Mapping[str, str]) -> str:
    """The first PATH directory holding cl.exe and link.exe: where clang-cl
    looks for Visual C++ headers when nothing else names them."""
    for directory in env.get("PATH", "").split(os.pathsep):
        if directory and os.path.isfile(os.path.join(directory, "cl.exe")) and os.path.isfile(os.path.join(directory, "link.exe")):
            return directory
    return ""


def shared_components(
    invocation: Invocation, parsed: ParsedInvocation, context: PluginContext
) -> list[KeyComponent] | NotCacheable:
    """Components both modes need: paths inside options, extra input
    files, the precompiled header used, what the object records of its
    compile, and the variables every compile reads."""
    call = _private(parsed)
    refused = refusal(call, context)
    if refused is not None:
        return refused
    components: list[KeyComponent] = []
    if call.path_arguments:
        components.append(
            KeyComponent("path-arguments", tuple(portable_argument(a, call, context) for a in call.path_arguments))
        )
    for name in call.input_files:
        path = invocation.resolve(name)
        try:
            components.append(KeyComponent(f"input:{context.portable_path(path)}", context.hash_file(path)))
        except OSError as exc:
            return NotCacheable(R.MISSING_INPUT, f"cannot read {path}: {exc.strerror or exc}")
    if call.pch is not None and call.pch.mode == "use":
        # /E reads the header as text; the compile reads the .pch, built
        # with whatever macros its /Yc had: its content is the input.
        path = invocation.resolve(call.pch.path)
        try:
            components.append(KeyComponent(f"pch:{context.portable_path(path)}", context.hash_file(path)))
        except OSError as exc:
            return NotCacheable(R.MISSING_INPUT, f"cannot read precompiled header {path}: {exc.strerror or exc}")
    if records_command_line(call):
        # Real paths, not portable ones: the object holds them as they are.
        components.append(KeyComponent("command-line", call.all_arguments))
        components.append(KeyComponent("compiler-path", os.path.realpath(invocation.compiler)))
        components.append(KeyComponent("object-file", os.fspath(invocation.resolve(call.object_path))))
        components.extend(include_search_components(call, invocation, context))
    if records_command_line(call) or call.absolute_diagnostics or call.cwd_sensitive or call.source_dependencies is not None:
        components.append(KeyComponent("working-directory", os.fspath(invocation.cwd)))
    if call.depfile is not None and not call.depfile.explicit_target:
        components.append(KeyComponent("object-path", context.portable_path(call.object_path)))
    components.extend(env_components(invocation.env, MESSAGE_ENV))
    return components


# --- direct mode ------------------------------------------------------------------


def direct_components(
    invocation: Invocation, parsed: ParsedInvocation, context: PluginContext
) -> tuple[KeyComponent, ...] | NotCacheable | None:
    call = _private(parsed)
    if call.no_direct:
        context.log.debug("direct mode off: %s", call.no_direct)
        return None
    if call.style == "windows":
        context.log.debug("direct mode off: include shadowing is only worked out for POSIX paths")
        return None
    return _named_without_headers(invocation, call, parsed, context)


def _named_without_headers(
    invocation: Invocation, call: ClCall, parsed: ParsedInvocation, context: PluginContext
) -> tuple[KeyComponent, ...] | NotCacheable:
    """The source, the preprocessor arguments as written, the variables that
    steer the include search, and the shared components: the call named up
    to the headers it reads (direct mode's key, depend mode's start)."""
    source = invocation.resolve(call.source)
    try:
        source_digest = context.hash_file(source)
    except OSError as exc:
        return NotCacheable(R.MISSING_INPUT, f"cannot read {source}: {exc.strerror or exc}")
    shared = shared_components(invocation, parsed, context)
    if isinstance(shared, NotCacheable):
        return shared
    search_env = [] if records_command_line(call) else include_search_components(call, invocation, context)
    return (
        KeyComponent("source", source_digest),
        KeyComponent("source-path", context.portable_path(call.source)),
        # Relative /I paths and the source's own directory are found from here.
        KeyComponent("cwd", context.portable_path(invocation.cwd)),
        KeyComponent("preprocessor-arguments", tuple(portable_argument(a, call, context) for a in call.preprocessor_arguments)),
        *search_env,
        *shared,
    )


# --- depend mode: the compile's own /showIncludes ------------------------------------


def depend_mode_off(call: ClCall, invocation: Invocation, context: PluginContext) -> str:
    """Why this call's miss runs the preprocessor rather than being keyed
    from its compile's ``/showIncludes`` notes ("" = depend mode applies).

    The notes are on the compile's stdout only when the call asks for them
    (CMake and Ninja always do), and list every header only in the plain
    form (``/showIncludes:user`` leaves system headers out). The headers
    that must stay absent come from the include search list, which must be
    known without a preprocessor run."""
    if not context.depend_mode:
        return "PYCACHE_DEPEND_MODE (or direct mode) is off"
    if not call.lists_every_header:
        return "the compile does not list every header (no plain /showIncludes)"
    if call.no_direct:
        return call.no_direct
    if call.style == "windows":
        return "include shadowing is only worked out for POSIX paths"
    if computed_search_path(call, invocation, context) is None:
        return "the include search list is the compiler's own (SDK options, clang -I/-isystem)"
    return ""


def compile_dependencies(
    invocation: Invocation, parsed: ParsedInvocation, stdout: bytes, context: PluginContext
) -> Dependencies:
    """Depend mode: the headers the compile's notes list, each its own key
    component (``file:PATH`` = digest), and what a manifest needs."""
    call = _private(parsed)
    prefix = toolchain.show_includes_prefix(invocation, context)
    notes = showincludes.parse_notes(showincludes.note_lines(stdout, prefix), prefix, call.source)
    search = computed_search_path(call, invocation, context)
    files, absent, reasons = _manifest_inputs(call, invocation, notes, search)
    if not notes and _INCLUDE_LINE.search(_read_or_empty(invocation.resolve(call.source))):
        reasons.append(f"the compile printed no note starting {prefix!r}")
    components: list[KeyComponent] = []
    for path in files:
        try:
            components.append(KeyComponent(f"file:{context.portable_path(path)}", context.hash_file(path)))
        except OSError as exc:
            reasons.append(f"cannot read {path}: {exc.strerror}")
    if reasons:
        context.log.debug("not keyed from /showIncludes: %s", "; ".join(reasons[:3]))
    return Dependencies(
        components=tuple(components),
        files=tuple(files),
        absent=tuple(absent),
        manifest_ok=not reasons,
        relocatable=_depend_mode_relocatable(call, invocation, files, context),
    )


def _depend_mode_relocatable(call: ClCall, invocation: Invocation, files, context: PluginContext) -> bool:
    """Whether another checkout may reuse this result. Without a
    preprocessed text to look into, a path reaches the object only through
    the command line (a recorded one, debug information, a ``/D`` value
    naming a base directory) or a file macro in a file the compile read."""
    if records_command_line(call) or call.cwd_sensitive:
        return False
    # A /D value is the one preprocessor argument the object may hold as
    # text; /D and its value may also be two arguments.
    defines = [a for a in call.preprocessor_arguments if not a.startswith(("/I", "-I", "/external", "-external"))]
    if context.names_base_directory("\0".join(defines).encode("utf-8", "surrogateescape")):
        return False
    for path in (invocation.resolve(call.source), *files):
        try:
            if uses_file_macros(Path(path).read_bytes()):
                return False
        except OSError:
            return False
    return True


_INCLUDE_LINE = re.compile(rb"^[ \t]*#[ \t]*(?:include|import)\b", re.M)


def _read_or_empty(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:
        return b""


# --- preprocessor mode ------------------------------------------------------------


def discover(invocation: Invocation, parsed: ParsedInvocation, context: PluginContext) -> Dependencies | NotCacheable:
    call = _private(parsed)
    why_not = depend_mode_off(call, invocation, context)
    if not why_not:
        named = _named_without_headers(invocation, call, parsed, context)
        if isinstance(named, NotCacheable):
            return named
        context.log.debug("depend mode: keyed from the compile's /showIncludes")
        # Relocatable unless what the compile reports says otherwise.
        return Dependencies(components=named, deferred=True, relocatable=True)
    context.log.debug("preprocessor mode: %s", why_not)
    shared = shared_components(invocation, parsed, context)
    if isinstance(shared, NotCacheable):
        return shared
    kind = toolchain.kind_of(context)
    verbose = ["-v"] if kind == toolchain.CLANG_CL else []  # clang prints its include search list
    argv = [str(invocation.compiler), "/E", "/showIncludes", *verbose, *call.preprocess_arguments]
    try:
        done = context.run(argv, cwd=invocation.cwd, env=toolchain.helper_env(invocation.env))
    except OSError as exc:
        return NotCacheable(R.PREPROCESSOR_ERROR, f"cannot run {argv[0]}: {exc.strerror or exc}")
    if done.returncode != 0:
        tail = " / ".join(done.stderr.decode("utf-8", "replace").splitlines()[-3:])
        return NotCacheable(R.PREPROCESSOR_ERROR, f"{argv[0]} /E exited {done.returncode}: {tail}")
    output = done.stdout
    # The line markers' paths reach only the diagnostics and the dependency
    # file, which a hit relocates -- unless the object records them (debug
    # information, a recorded command line): then they stay as they are, as
    # does any base directory in the rest of the text (__FILE__).
    embeds = records_command_line(call) or call.cwd_sensitive
    text = output if embeds else portable_markers(output, context.portable_path)
    relocatable = not embeds and context.names_base_directory(text) is None
    components = [KeyComponent("preprocessed", context.hash_bytes(text))]
    components.extend(shared)

    prefix = toolchain.show_includes_prefix(invocation, context)
    notes = showincludes.parse_notes(showincludes.note_lines(done.stderr, prefix), prefix, call.source)
    if kind == toolchain.CLANG_CL:
        search = parse_search_path(done.stderr.decode("utf-8", "replace"))
    else:
        search = computed_search_path(call, invocation, context)
    files, absent, reasons = _manifest_inputs(call, invocation, notes, search)
    if not notes and _names_other_files(output, call.source):
        reasons.append(f"the preprocessor read headers but printed no note starting {prefix!r}")
    if reasons:
        context.log.debug("no manifest: %s", "; ".join(reasons[:3]))
    return Dependencies(
        components=tuple(components),
        files=tuple(files),
        absent=tuple(absent),
        manifest_ok=not reasons,
        relocatable=relocatable,
    )


def _manifest_inputs(
    call: ClCall, invocation: Invocation, notes: list[showincludes.Note], search: SearchPath | None
) -> tuple[list[Path], list[Path], list[str]]:
    """From the notes: the files a manifest records, the paths that must
    stay absent (MSVC's include-stack search, and what each literal
    ``__has_include`` looked for), and why no manifest can be recorded."""
    cwd = invocation.cwd
    reasons: list[str] = []
    if call.style == "windows":
        reasons.append("include shadowing is only worked out for POSIX paths")
    absent: list[Path] = []
    if search is None:
        reasons.append("the include search list is not known")
    else:
        markers = [Marker(path=n.path, includer=n.includers[0], system=False, ancestors=n.includers[1:]) for n in notes]
        absent = shadow_candidates(markers, search, cwd, includer_stack=True)
    read: dict[Path, tuple[str, ...]] = {invocation.resolve(call.source): ()}
    for note in notes:
        read.setdefault(Path(resolve(cwd, note.path)), note.includers)
    looked_up: list[Path] = []
    for path, includers in read.items():
        try:
            data = path.read_bytes()
        except OSError as exc:
            reasons.append(f"cannot read {path}: {exc.strerror}")
            continue
        if uses_time_macros(data):
            reasons.append(f"{path} uses __DATE__, __TIME__ or __TIMESTAMP__")
        if uses_has_include(data) and search is not None:
            # A lookup that finds nothing leaves no note: record what each
            # literal one saw, searching the way MSVC does (this file's
            # directory, its includers', then the lists).
            quote = tuple(os.path.dirname(i) or "." for i in includers)
            lookups = has_include_lookups(data, path, SearchPath(quote=quote, bracket=search.bracket, missing=()), cwd)
            if lookups is None:
                reasons.append(f"{path} uses __has_include with a computed argument")
            else:
                looked_up.extend(lookups[0])
                absent.extend(lookups[1])
    headers = [p for p in read if p != invocation.resolve(call.source)]
    return list(dict.fromkeys([*headers, *looked_up])), absent, reasons


def _names_other_files(output: bytes, source: str) -> bool:
    """The /E output has line markers for files other than the source
    (clang's pseudo-files ``<built-in>``, ``<command line>`` aside)."""
    for match in _MARKER_FILE.finditer(output):
        name = match.group(1).decode("utf-8", "surrogateescape").replace("\\\\", "\\")
        if not name.startswith("<") and os.path.basename(name.replace("\\", "/")) != os.path.basename(source.replace("\\", "/")):
            return True
    return False


def computed_search_path(call: ClCall, invocation: Invocation, context: PluginContext) -> SearchPath | None:
    """The include search list worked out from the options and variables,
    in the compiler's order, or None where the compiler decides it itself.

    clang-cl 14 (checked against its ``-v`` list): /I, CPATH, /external:I,
    its own headers, /imsvc, /external:env: variables, %INCLUDE%,
    %EXTERNAL_INCLUDE%. cl.exe (its documentation): /I, /external:I,
    /external:env:, %INCLUDE%, %EXTERNAL_INCLUDE%."""
    env = invocation.env
    if call.other_search_options or call.sdk_options:
        return None
    clang_cl = toolchain.kind_of(context) == toolchain.CLANG_CL
    if clang_cl and (env.get("C_INCLUDE_PATH") or env.get("CPLUS_INCLUDE_PATH")):
        return None
    if clang_cl and call.default_includes and not any(env.get(n) for n in INCLUDE_ENV):
        # clang-cl would look for Visual C++ through these or a cl.exe on PATH
        if any(env.get(n) for n in TOOLCHAIN_ENV) or _visual_cpp_on_path(env):
            return None

    def listed(name: str, separator: str = ";") -> list[str]:
        return [d for d in env.get(name, "").split(separator) if d]

    directories = list(call.include_dirs)
    if clang_cl:
        directories.extend(listed("CPATH", os.pathsep))
        directories.extend(call.external_dirs)
        resource = context.identity.details.get("resource_include", "") if context.identity is not None else ""
        if not resource:
            return None
        directories.append(resource)
        directories.extend(call.imsvc_dirs)
    else:
        directories.extend(call.external_dirs)
    for name in call.include_env:
        directories.extend(listed(name))
    if call.default_includes:
        for name in INCLUDE_ENV:
            directories.extend(listed(name))
    present = [d for d in directories if os.path.isdir(resolve(invocation.cwd, d))]
    missing = [d for d in directories if d not in present]
    return SearchPath(quote=(), bracket=tuple(dict.fromkeys(present)), missing=tuple(dict.fromkeys(missing)))
