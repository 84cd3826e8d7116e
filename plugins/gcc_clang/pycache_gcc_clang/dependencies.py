"""What a gcc/clang result depends on beyond its key arguments.

Two ways to name a call:

- **preprocessor mode** (`discover`): run ``<compiler> -E`` with every
  argument that can define a macro or find a header, and key the output.
  Line markers stay in: they name the headers as the compiler will print
  them in diagnostics, dependency files and debug info (their paths made
  portable only where nothing but those restored texts names them, see
  `embedding`). gcc's working-directory marker (``# 1 "/cwd//"`` under
  ``-g``) is dropped; the working directory is keyed on its own, exactly
  when the result embeds it.
- **direct mode** (`direct_components`): the source's digest and every
  preprocessor argument *as written*; the core records the headers
  `discover` found (from the line markers) in a manifest and hits while they
  are unchanged, without running the preprocessor.

A manifest must also notice headers that *appear*: for every header the
preprocessor read, each earlier place on the include search path where a
file of the same name would have been found first is reported as ``absent``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from pycache_cfamily import reasons as R
from pycache_cfamily.environment import effective_cwd, english_messages_env
from pycache_cfamily.includes import (
    UnrecordableLookup,
    has_include_lookups,
    parse_search_path,
    resolve,
    shadow_candidates,
    uses_has_include,
)
from pycache_cfamily.naming import replace_suffix
from pycache_cfamily.options import portable_argument as _portable_argument
from pycache_cfamily.preprocessed import (
    assembler_file_reads,
    parse_markers,
    strip_working_directory_marker,
    uses_time_macros,
)
from pycache_cfamily.texts import marker_paths, portable_markers
from pycache_core.api import Dependencies, Invocation, KeyComponent, NotCacheable, ParsedInvocation, PluginContext
from pycache_core.paths import as_is

from . import depend, exact
from .arguments import COMPILER_ENV, OPTIONS, GccCall
from .embedding import (
    DEBUG_MAPS,
    MACRO_MAPS,
    PathMode,
    apply_maps,
    calls_source_location,
    embedded_paths,
    instrumented,
    keyer,
)


def portable_argument(argument: str, context: PluginContext) -> str:
    """An option of this family with every path in it made portable."""
    return _portable_argument(argument, OPTIONS, context.portable_path)


def path_mode(call: GccCall) -> PathMode:
    """Which paths of this call the object embeds (see `embedding`)."""
    if call.test_coverage or call.profile_arcs or call.cwd_sensitive or call.record_command_line:
        return PathMode.AS_IS
    if instrumented(call.all_arguments) is not None:
        return PathMode.AS_IS
    return PathMode.DEBUG if call.debug else PathMode.PORTABLE


def _keyed_arguments(arguments: tuple[str, ...], mode: PathMode, context: PluginContext) -> tuple[str, ...]:
    """Path-bearing options as the key holds them: portable unless the
    object embeds them. Under debug info the prefix maps are keyed by what
    they do -- the mapped working directory and files -- not as written, so
    ``-fdebug-prefix-map=$PWD=.`` in two checkouts gives one key."""
    if mode is PathMode.PORTABLE:
        return tuple(portable_argument(a, context) for a in arguments)
    if mode is PathMode.DEBUG:
        return tuple(a for a in arguments if not a.startswith(DEBUG_MAPS + MACRO_MAPS))
    return arguments


def _private(parsed: ParsedInvocation) -> GccCall:
    call = parsed.private
    if not isinstance(call, GccCall):
        raise TypeError(f"parsed invocation does not come from the gcc-clang plugin: {call!r}")
    return call


def _kind(context: PluginContext) -> str:
    identity = context.identity
    return identity.details.get("kind", "") if identity is not None else ""


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
                return NotCacheable(R.PROFILE_USE, f"{option}: gcc's per-object profile name in a directory is not resolved")
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
    mode = path_mode(call)
    key_path = keyer(mode, context)
    components: list[KeyComponent] = []
    keyed_arguments = _keyed_arguments(call.path_arguments, mode, context)
    if keyed_arguments:
        components.append(KeyComponent("path-arguments", keyed_arguments))
    if call.record_command_line and kind != "gcc":
        # clang records the whole command line (-I, -D, -o included); gcc
        # records only code generation switches, which the key has anyway.
        components.append(KeyComponent("command-line", tuple(call.all_arguments)))
    for name in call.input_files:
        path = invocation.resolve(name)
        try:
            components.append(KeyComponent(f"input:{key_path(path)}", context.hash_file(path)))
        except OSError as exc:
            return NotCacheable(R.MISSING_INPUT, f"cannot read {path}: {exc.strerror or exc}")
    profiles = _profile_files(call, invocation, kind)
    if isinstance(profiles, NotCacheable):
        return profiles
    for _, path in profiles:
        try:
            value = context.hash_file(path)
        except OSError:
            value = "absent"  # gcc compiles without (and warns); the result depends on the absence
        components.append(KeyComponent(f"profile:{key_path(path)}", value))
    for name in call.pch_files:
        path = invocation.resolve(name)
        try:
            components.append(KeyComponent(f"pch:{key_path(path)}", context.hash_file(path)))
        except OSError as exc:
            return NotCacheable(R.MISSING_INPUT, f"cannot read precompiled header {path}: {exc.strerror or exc}")
    for name in call.include_files:
        for suffix in (".gch", ".pch"):
            path = invocation.resolve(name + suffix)
            if path.is_file():
                components.append(KeyComponent(f"pch:{key_path(path)}", context.hash_file(path)))
    if mode is PathMode.AS_IS:
        # The real directory: .gcno files, the .gcda path, coverage maps name it.
        components.append(KeyComponent("working-directory", effective_cwd(invocation)))
    elif mode is PathMode.DEBUG and not call.compilation_dir_set:
        # DW_AT_comp_dir, after the prefix maps.
        components.append(KeyComponent("working-directory", apply_maps(effective_cwd(invocation), call.prefix_maps, DEBUG_MAPS, kind)))
    if needs_object_path(call):
        components.append(KeyComponent("object-path", key_path(call.object_path)))
    components.extend(env_components(invocation.env))
    return components


def needs_object_path(call: GccCall) -> bool:
    """The object's own path is in the result when the object names its
    .dwo or embeds the path of its .gcda, and when a dependency file names
    it as its target in a way the core does not rewrite (-Wp,-MD: gcc names
    the target after the source, clang after -o). A -MD dependency file's
    target is rewritten for the current call on a hit instead
    (`MakeDepfile.outputs`)."""
    unrewritten_target = call.depfile is not None and not call.depfile.explicit_target and not call.depfile.rewritten_target
    return unrewritten_target or call.split_dwarf or call.test_coverage or call.profile_arcs


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
        return NotCacheable(R.MISSING_INPUT, f"cannot read {source}: {exc.strerror or exc}")
    shared = shared_components(invocation, parsed, context)
    if isinstance(shared, NotCacheable):
        return shared
    # The markers the preprocessor would write follow from these; where the
    # object embeds them, so must the manifest's name.
    key_path = context.portable_path if path_mode(call) is PathMode.PORTABLE else as_is
    return (
        KeyComponent("source", source_digest),
        KeyComponent("source-path", key_path(call.source)),
        # Relative -I paths and the source's own directory are found from here.
        KeyComponent("cwd", key_path(invocation.cwd)),
        KeyComponent(
            "preprocessor-arguments",
            tuple(portable_argument(a, context) if key_path is not as_is else a for a in call.preprocessor_arguments),
        ),
        *shared,
    )


# --- preprocessor mode ------------------------------------------------------------


def discover(
    invocation: Invocation, parsed: ParsedInvocation, context: PluginContext
) -> Dependencies | NotCacheable:
    call = _private(parsed)
    chosen = depend.plan(invocation, parsed, call, context, path_mode(call))
    if isinstance(chosen, depend.DependPlan):
        named = direct_components(invocation, parsed, context)
        if isinstance(named, NotCacheable):
            return named
        if named is not None:
            context.log.debug("depend mode: keyed from the compile's dependency list %s", chosen.depfile)
            # Relocatable unless what the compile reports says otherwise.
            return Dependencies(
                components=named,
                env_names=COMPILER_ENV,
                deferred=True,
                relocatable=True,
                run_arguments=depend.run_arguments(parsed, invocation, chosen),
            )
    else:
        context.log.debug("preprocessor mode: %s", chosen)
    shared = shared_components(invocation, parsed, context)
    if isinstance(shared, NotCacheable):
        return shared
    argv = [str(invocation.compiler), "-v", *call.preprocess_arguments]
    try:
        done = context.run(argv, cwd=invocation.cwd, env=english_messages_env(invocation.env))
    except OSError as exc:
        return NotCacheable(R.PREPROCESSOR_ERROR, f"cannot run {argv[0]}: {exc.strerror or exc}")
    stderr = done.stderr.decode("utf-8", "replace")
    if done.returncode != 0:
        refused = exact.refusal(stderr, [])
        if refused is not None:
            return refused  # -Werror and a newer dependency: the reason, not just the failure
        tail = " / ".join(line for line in stderr.splitlines()[-3:])
        return NotCacheable(R.PREPROCESSOR_ERROR, f"{argv[0]} -E exited {done.returncode}: {tail}")
    output = done.stdout

    reads = assembler_file_reads(output, assembler_source=call.language == "assembler-with-cpp")
    if reads:
        # The assembler reads those files itself; the key would not see them.
        return NotCacheable(R.ASSEMBLER_INCLUDE, reads)

    output = strip_working_directory_marker(output)
    mode = path_mode(call)
    markers = parse_markers(output)
    # Markers reach the dependency file and the diagnostics, which a hit
    # relocates; whatever the object embeds is keyed beside them as it is.
    names_base = context.names_base_directory(output) is not None  # a quick scan: most calls have none
    text = portable_markers(output, context.portable_path) if names_base and mode is not PathMode.AS_IS else output
    components = [KeyComponent("preprocessed", context.hash_bytes(text))]
    components.extend(shared)
    # A base directory left in the text (__FILE__ of an absolute path, a
    # -D value) is keyed as it is; the portable direct-mode arguments could
    # not tell checkouts apart, so no other checkout may reuse this.
    relocatable = mode is not PathMode.AS_IS and not (names_base and context.names_base_directory(text) is not None)
    if "-MG" in parsed.key_arguments:
        # A missing header is listed as the source spells it, which no
        # line marker (so no key) shows.
        relocatable = False
    kind = _kind(context)
    named = marker_paths(output)
    if mode is PathMode.DEBUG:
        components.append(embedded_paths("debug", named, call.prefix_maps, DEBUG_MAPS, kind))
    if mode is not PathMode.AS_IS and calls_source_location(output):
        # __builtin_FILE() is the marker's path (after -fmacro-prefix-map);
        # a manifest named by portable arguments cannot tell checkouts apart.
        components.append(embedded_paths("macro", named, call.prefix_maps, MACRO_MAPS, kind))
        relocatable = False

    headers = list(dict.fromkeys(Path(resolve(invocation.cwd, m.path)) for m in markers))
    manifest_ok = True
    reasons: list[str] = []

    search = parse_search_path(stderr)
    absent: list[Path] = []
    if search is None:
        manifest_ok = False
        reasons.append("no include search list in the preprocessor's -v output")
    elif search.unusual:
        manifest_ok = False
        reasons.append(f"framework directories or header maps on the include path ({search.unusual[0]})")
    else:
        try:
            absent = shadow_candidates(markers, search, invocation.cwd, strict=True, existing=context.existing)
        except UnrecordableLookup as exc:
            manifest_ok = False
            reasons.append(str(exc))
    if any("__has_include" in a for a in call.macro_arguments):
        manifest_ok = False
        reasons.append("a command-line macro calls __has_include")

    looked_up: list[Path] = []  # files that __has_include found
    read = [invocation.resolve(call.source), *headers, *(invocation.resolve(m) for m in call.macro_files)]
    unit_dirs = tuple(dict.fromkeys(str(p.parent) for p in read))
    texts: list[bytes] = []
    for path in read:
        try:
            data = path.read_bytes()
        except OSError as exc:
            return NotCacheable(R.MISSING_INPUT, f"cannot read {path}: {exc.strerror or exc}")
        texts.append(data)
        if uses_time_macros(data):
            manifest_ok = False
            reasons.append(f"{path} uses __DATE__, __TIME__ or __TIMESTAMP__")
        if uses_has_include(data) and manifest_ok:
            # A file that __has_include did not find leaves no line marker:
            # record what each literal lookup saw (system headers' too: a
            # library installed later changes their answer); give up on
            # computed ones.
            try:
                lookups = has_include_lookups(data, path, search, invocation.cwd, current_dirs=unit_dirs, strict=True)
            except UnrecordableLookup as exc:
                lookups = None
                reasons.append(str(exc))
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
                return NotCacheable(R.PCH_USE, f"precompiled header directory {gch} is not supported")
    refused = exact.refusal(stderr, texts)
    if refused is not None:
        return refused
    unsafe = exact.manifest_unsafe(texts)
    if unsafe:
        manifest_ok = False
        reasons.append(unsafe)
    components.extend(exact.components(stderr, read, call.macro_arguments, context, invocation.cwd))
    if reasons:
        context.log.debug("no manifest: %s", "; ".join(reasons[:3]))
    return Dependencies(
        components=tuple(components),
        files=tuple(dict.fromkeys([*headers, *looked_up])),
        absent=tuple(absent),
        env_names=COMPILER_ENV,
        manifest_ok=manifest_ok,
        relocatable=relocatable,
    )
