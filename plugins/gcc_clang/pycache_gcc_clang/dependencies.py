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

from collections.abc import Mapping
from pathlib import Path

from pycache_cfamily import reasons as R
from pycache_cfamily.environment import effective_cwd, english_messages_env
from pycache_cfamily.includes import has_include_lookups, parse_search_path, resolve, shadow_candidates, uses_has_include
from pycache_cfamily.naming import replace_suffix
from pycache_cfamily.options import portable_argument as _portable_argument
from pycache_cfamily.preprocessed import (
    assembler_reads_files,
    parse_markers,
    strip_working_directory_marker,
    uses_time_macros,
)
from pycache_core.api import Dependencies, Invocation, KeyComponent, NotCacheable, ParsedInvocation, PluginContext

from .arguments import COMPILER_ENV, OPTIONS, GccCall


def portable_argument(argument: str, context: PluginContext) -> str:
    """An option of this family with every path in it made portable."""
    return _portable_argument(argument, OPTIONS, context)


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
            return NotCacheable(R.MISSING_INPUT, f"cannot read {path}: {exc.strerror or exc}")
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
            return NotCacheable(R.MISSING_INPUT, f"cannot read precompiled header {path}: {exc.strerror or exc}")
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
        return NotCacheable(R.MISSING_INPUT, f"cannot read {source}: {exc.strerror or exc}")
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


def discover(
    invocation: Invocation, parsed: ParsedInvocation, context: PluginContext
) -> Dependencies | NotCacheable:
    call = _private(parsed)
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
        tail = " / ".join(line for line in stderr.splitlines()[-3:])
        return NotCacheable(R.PREPROCESSOR_ERROR, f"{argv[0]} -E exited {done.returncode}: {tail}")
    output = done.stdout

    if assembler_reads_files(output, assembler_source=call.language == "assembler-with-cpp"):
        # The assembler reads those files itself; the key would not see them.
        return NotCacheable(R.ASSEMBLER_INCLUDE, "the source makes the assembler read files (.incbin/.include)")

    output = strip_working_directory_marker(output)
    text = context.portable_text(output.decode("utf-8", "surrogateescape"))
    components = [KeyComponent("preprocessed", context.hash_bytes(text.encode("utf-8", "surrogateescape")))]
    components.extend(shared)

    markers = parse_markers(output)
    headers = list(dict.fromkeys(Path(resolve(invocation.cwd, m.path)) for m in markers))
    manifest_ok = True
    reasons: list[str] = []

    search = parse_search_path(stderr)
    absent: list[Path] = []
    if search is None:
        manifest_ok = False
        reasons.append("no include search list in the preprocessor's -v output")
    else:
        absent = shadow_candidates(markers, search, invocation.cwd)

    system = {Path(resolve(invocation.cwd, m.path)) for m in markers if m.system}
    looked_up: list[Path] = []  # files that __has_include found
    for path in [invocation.resolve(call.source), *headers]:
        try:
            data = path.read_bytes()
        except OSError as exc:
            manifest_ok = False
            reasons.append(f"cannot read {path}: {exc.strerror}")
            continue
        if uses_time_macros(data):
            manifest_ok = False
            reasons.append(f"{path} uses __DATE__, __TIME__ or __TIMESTAMP__")
        if path not in system and uses_has_include(data):
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
                return NotCacheable(R.PCH_USE, f"precompiled header directory {gch} is not supported")
    if reasons:
        context.log.debug("no manifest: %s", "; ".join(reasons[:3]))
    return Dependencies(
        components=tuple(components),
        files=tuple(dict.fromkeys([*headers, *looked_up])),
        absent=tuple(absent),
        env_names=COMPILER_ENV,
        manifest_ok=manifest_ok,
    )
