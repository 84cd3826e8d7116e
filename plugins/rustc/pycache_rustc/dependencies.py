"""What a rustc call depends on beyond its arguments.

Two stages, as the core asks for them:

- `direct_components`: everything known without running rustc -- the
  toolchain, path arguments, the crate root's digest, every ``--extern``
  file's digest, the target's libraries, keyed variables, native libraries
  and, for crates that link, the linker. The core looks up a manifest under
  these; when the files and variables it recorded still match, the call hits
  without any rustc run.
- `discover`: one ``rustc --emit=dep-info`` run into the scratch directory
  (with ``-Z binary-dep-depinfo``, unlocked for that run only, so that the
  transitive crates a link pulls from ``-L dependency=`` are named too). Its
  files and ``# env-dep:`` variables, with the direct components, form the
  key; the files and variables go into the manifest.

Paths enter the key as `paths` decides: portable where only the texts a
hit relocates name them, as the outputs embed them otherwise. ``env!``
values are keyed as they are (a path read through
``env!("CARGO_MANIFEST_DIR")`` is compiled into the program), except
``OUT_DIR``, which crates use to ``include!`` generated files (the files
themselves are keyed as embedded when they are absolute).
"""

from __future__ import annotations

import os
from pathlib import Path

from pycache_core.api import Dependencies, Invocation, KeyComponent, NotCacheable, PluginContext

from . import arguments, depinfo, environment, linking, toolchain
from .arguments import PathArgument, RustcArgs, discovery_arguments
from .paths import CRATE_FILES, KeyPaths, embedded_files, key_paths

DISCOVERY_DEPFILE = "dep-info.d"
UNSET = "\0unset"


def _render_path_argument(arg: PathArgument, paths: KeyPaths) -> str:
    if arg.kind == "text":
        # Free text (link arguments, -Z options) may name a path the output
        # embeds (an rpath): as it is.
        return f"{arg.option}={arg.value}"
    if arg.kind == "remap":
        src, _, dst = arg.value.partition("=")
        return f"{arg.option}={paths.portable(src)}={dst}"
    return f"{arg.option}={paths.portable(arg.value)}"


def call_toolchain(invocation: Invocation, context: PluginContext) -> toolchain.Toolchain:
    override = toolchain.toolchain_override(invocation.compiler, invocation.arguments)
    real = toolchain.resolve_for_call(invocation.compiler, invocation.env, invocation.cwd, context, override)
    return toolchain.toolchain(real, invocation.env, context)


def _env_value(name: str, value: str, paths: KeyPaths, context: PluginContext) -> str:
    if environment.is_secret(name):
        return "blake3:" + context.hash_bytes(value.encode("utf-8", "surrogateescape"))
    if environment.is_path_valued(name):
        return paths.portable(value)
    return value


def _variable_value(name: str, value: str | None, context: PluginContext) -> str:
    if value is None:
        return UNSET
    if environment.is_secret(name):
        return "blake3:" + context.hash_bytes(value.encode("utf-8", "surrogateescape"))
    return value


def direct_components(
    invocation: Invocation, args: RustcArgs, context: PluginContext
) -> tuple[KeyComponent, ...] | NotCacheable:
    """Components of the key that need no rustc run (see the module doc)."""
    tc = call_toolchain(invocation, context)
    paths = key_paths(args, context)
    components: list[KeyComponent] = []
    if toolchain.resolved_per_call(invocation.compiler):
        # The core memoises the proxy's (or script's) identity; which
        # toolchain it runs depends on this call's directory and variables.
        components.append(KeyComponent("toolchain", tc.fingerprint))
    components.append(
        KeyComponent("path-arguments", tuple(_render_path_argument(a, paths) for a in args.path_arguments))
    )
    cwd = os.fspath(invocation.cwd)
    # Debug info and coverage maps name the working directory (remapped).
    components.append(KeyComponent("cwd", paths.embedded(cwd) if args.embeds_paths or paths.as_is else paths.portable(cwd)))
    root, _covered = embedded_files([os.fspath(invocation.resolve(args.input))] if os.path.isabs(args.input) else [], invocation, paths, context)
    if root:
        # Panic locations and file!() name the crate root as given.
        components.append(KeyComponent("embedded-paths:root", tuple(root)))
    try:
        components.append(KeyComponent("source", context.hash_file(invocation.resolve(args.input))))
    except OSError as exc:
        return NotCacheable("source-unreadable", f"{args.input}: {exc.strerror}")

    seen: dict[str, int] = {}
    for ext in args.externs:
        if ext.path is None:
            continue
        label = ext.name if ext.name not in seen else f"{ext.name}#{seen[ext.name]}"
        seen[ext.name] = seen.get(ext.name, 0) + 1
        try:
            components.append(KeyComponent(f"extern:{label}", context.hash_file(invocation.resolve(ext.path))))
        except OSError as exc:
            return NotCacheable("extern-unreadable", f"--extern {ext.name}={ext.path}: {exc.strerror}")

    target_components = _target_components(args, invocation, tc, context)
    if isinstance(target_components, NotCacheable):
        return target_components
    components.extend(target_components)

    if (args.codegen_value("target-cpu") or "").strip() == "native":
        components.append(KeyComponent("native-cpu", toolchain.native_cpu(tc, context)))
    profile = args.codegen_value("profile-use")
    if profile:
        try:
            components.append(KeyComponent("profile-use", context.hash_file(invocation.resolve(profile))))
        except OSError as exc:
            return NotCacheable("profile-unreadable", f"-C profile-use={profile}: {exc.strerror}")

    # A variable named in PYCACHE_RUSTC_ENV is keyed as it is, even one keyed
    # portable otherwise (CARGO_MANIFEST_DIR): the user says a proc-macro
    # embeds its value.
    extra = dict(environment.extra_variables(invocation.env))
    for name in environment.keyed_variables(invocation.env):
        if name not in extra:
            components.append(KeyComponent(f"env:{name}", _env_value(name, invocation.env[name], paths, context)))
    for name, value in sorted(extra.items()):
        components.append(KeyComponent(f"env:{name}", _variable_value(name, value, context)))

    native = linking.native_components(args, invocation, paths.portable, context)
    if isinstance(native, NotCacheable):
        return native
    components.extend(native)
    if args.links:
        linker = linking.linker_components(args, invocation, tc.sysroot, paths.portable, context)
        if isinstance(linker, NotCacheable):
            return linker
        components.extend(linker)
    return tuple(components)


def _target_components(
    args: RustcArgs, invocation: Invocation, tc: toolchain.Toolchain, context: PluginContext
) -> list[KeyComponent] | NotCacheable:
    components: list[KeyComponent] = []
    target_name = args.target
    if args.target and args.target.endswith(".json"):
        spec = invocation.resolve(args.target)
        try:
            components.append(KeyComponent("target-spec", context.hash_file(spec)))
        except OSError as exc:
            return NotCacheable("target-spec-unreadable", f"--target {args.target}: {exc.strerror}")
        target_name = spec.stem
    elif args.target and args.target not in toolchain.builtin_targets(tc, context):
        found = toolchain.target_spec(args.target, tc, invocation.env, invocation.cwd)
        if found is None:
            return NotCacheable("target-spec-not-found", f"--target {args.target}: no built-in target and no {args.target}.json found")
        components.append(KeyComponent("target-spec", context.hash_file(found)))
    sysroot = Path(invocation.resolve(args.sysroot)) if args.sysroot else tc.sysroot
    if args.sysroot or (target_name and target_name != tc.host):
        libraries = toolchain.target_libraries(sysroot, target_name or tc.host, context)
        components.append(KeyComponent(f"target-libraries:{target_name or tc.host}", tuple(f"{n} {d}" for n, d in libraries)))
    return components


# --- discovery -------------------------------------------------------------------


def _discovery_environment(invocation: Invocation, unstable: bool) -> dict[str, str]:
    env = environment.run_environment(invocation.env) or dict(invocation.env)
    if unstable:
        # -Z binary-dep-depinfo on a stable toolchain, for this dep-info run only.
        env["RUSTC_BOOTSTRAP"] = "1"
    return env


def _run_depinfo(invocation: Invocation, args: RustcArgs, rustc: Path, context: PluginContext) -> str | NotCacheable:
    depfile = context.scratch_dir / DISCOVERY_DEPFILE
    base = [
        os.fspath(rustc),
        *discovery_arguments(args.expanded),
        f"--emit=dep-info={depfile}",
        "--out-dir",
        os.fspath(context.scratch_dir),
    ]
    attempts = ((True, [*base, "-Zbinary-dep-depinfo"]), (False, base))
    last = ""
    for unstable, argv in attempts:
        done = context.run(argv, cwd=invocation.cwd, env=_discovery_environment(invocation, unstable))
        if done.returncode == 0:
            try:
                return depfile.read_text(encoding="utf-8", errors="surrogateescape")
            except OSError as exc:
                return NotCacheable("dep-info-missing", f"rustc wrote no dep-info: {exc.strerror}")
        last = done.stderr.decode(errors="replace").strip()
        if unstable and "binary-dep-depinfo" in last:
            if args.bundles_upstream:
                # Without it the transitive crates a link reads are unknown.
                return NotCacheable("dep-info-failed", f"rustc refused -Z binary-dep-depinfo: {last.splitlines()[0]}")
            continue
        break
    first = last.splitlines()[0] if last else "no message"
    if _points_into_the_source(last):
        # The compile reports the same errors (a build script's probe of a
        # nightly-only API fails so by design): not a failure of the cache's.
        return NotCacheable("source-error", f"the crate does not compile, rustc reports: {first}")
    return NotCacheable("dep-info-failed", f"rustc --emit=dep-info failed: {first}")


def _points_into_the_source(stderr: str) -> bool:
    """Whether rustc's messages locate an error in the crate's source (its
    ``--> file:line:col`` lines): a refused option or an unreadable file
    names no location."""
    return any(line.lstrip().startswith("--> ") for line in stderr.splitlines())


def _module_alternatives(path: str) -> list[str]:
    """A module file's other possible location: a file appearing there makes
    rustc fail with "file for module found at both"."""
    if not path.endswith(".rs"):
        return []
    head, name = os.path.split(path)
    if name == "mod.rs":
        return [head + ".rs"] if head else []
    return [os.path.join(path[: -len(".rs")], "mod.rs")]


def _under(path: str, roots: list[str]) -> bool:
    return any(path == r or path.startswith(r.rstrip(os.sep) + os.sep) for r in roots)


def dependencies_from_depinfo(
    info: depinfo.DepInfo, invocation: Invocation, args: RustcArgs, sysroots: list[str], context: PluginContext,
) -> tuple[list[KeyComponent], list[Path], list[Path], list[str], bool] | NotCacheable:
    """(components, files, absent, env names, relocatable) from one dep-info
    file. Relocatable: no file the code names by an absolute path depends
    on where the checkout is (see `paths.embedded_files`)."""
    paths = key_paths(args, context)
    components: list[KeyComponent] = []
    files: list[Path] = []
    absent: list[Path] = []
    root = os.path.normpath(invocation.resolve(args.input))
    listed: list[str] = list(info.files)
    if args.bundles_upstream:
        # A dep-info run may read a crate's .rmeta; the link reads its .rlib.
        for name in info.files:
            if name.endswith(".rmeta"):
                sibling = name[: -len(".rmeta")] + ".rlib"
                if os.path.isfile(invocation.resolve(sibling)):
                    listed.append(sibling)
    for name in dict.fromkeys(listed):
        path = Path(os.path.normpath(invocation.resolve(name)))
        if _under(os.fspath(path), sysroots):
            continue  # the toolchain fingerprint covers its own libraries
        try:
            digest = context.hash_file(path)
        except OSError as exc:
            return NotCacheable("dependency-unreadable", f"{name}: {exc.strerror}")
        components.append(KeyComponent(f"file:{paths.portable(name)}", digest))
        files.append(path)
        if os.fspath(path) != root and not name.endswith(CRATE_FILES):
            absent.extend(Path(os.path.normpath(invocation.resolve(a))) for a in _module_alternatives(name))
    env_names: list[str] = []
    for name, _seen in info.env:
        value = invocation.env.get(name)
        if value is not None and name == "OUT_DIR":
            rendered = paths.portable(value)
        else:
            rendered = _variable_value(name, value, context)
        components.append(KeyComponent(f"env-dep:{name}", rendered))
        env_names.append(name)
    embedded, covered = embedded_files(
        [n for n in info.files if not _under(os.path.normpath(n), sysroots)], invocation, paths, context
    )
    if embedded:
        components.append(KeyComponent("embedded-paths:files", tuple(embedded)))
    return components, files, absent, env_names, covered


def _link_reported(args: RustcArgs) -> bool:
    roles = arguments.output_paths(args)
    return isinstance(roles, dict) and linking.link_report(args, roles) is not None


def discover(
    invocation: Invocation, args: RustcArgs, context: PluginContext, *, compile_reports: bool = False
) -> Dependencies | NotCacheable:
    """Everything the result depends on: the direct components, and the
    files and variables a dep-info run reports.

    ``compile_reports``: the compile writes its own dep-info (cargo always
    asks for it). For a crate that does not link, that list is complete, so
    discovery is deferred to the compile and the extra rustc run is saved
    (the core keys the entry after the compile). A crate that links, and a
    staticlib, also put their dependencies' dependencies into the output
    (read from ``-L dependency=``), which only the discovery run's ``-Z
    binary-dep-depinfo`` lists: a transitive rlib whose bundled native
    library changed keeps its crate hash, so no direct dependency changes."""
    direct = direct_components(invocation, args, context)
    if isinstance(direct, NotCacheable):
        return direct
    if compile_reports and (not args.bundles_upstream or _link_reported(args)):
        # Relocatable unless the compile's own dep-info says otherwise.
        return Dependencies(components=tuple(direct), deferred=True, relocatable=True)
    tc = call_toolchain(invocation, context)
    # A wrapper script runs the dep-info pass too: it may add arguments.
    runner = invocation.compiler if toolchain.is_script(invocation.compiler) else tc.rustc
    text = _run_depinfo(invocation, args, runner, context)
    if isinstance(text, NotCacheable):
        return text
    sysroots = [os.fspath(tc.sysroot)] + ([os.path.normpath(invocation.resolve(args.sysroot))] if args.sysroot else [])
    found = dependencies_from_depinfo(depinfo.parse(text), invocation, args, sysroots, context)
    if isinstance(found, NotCacheable):
        return found
    components, files, absent, env_names, relocatable = found
    return Dependencies(
        components=(*direct, *components),
        files=tuple(files),
        absent=tuple(dict.fromkeys(absent)),
        env_names=tuple(env_names),
        relocatable=relocatable and not key_paths(args, context).as_is,
    )
