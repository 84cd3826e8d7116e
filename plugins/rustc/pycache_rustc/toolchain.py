"""Which rustc toolchain a call uses, and a fingerprint of its content.

cargo calls the toolchain's own ``rustc`` (``~/.rustup/toolchains/<name>/bin/rustc``);
a user typing ``pycache rustc`` reaches ``~/.cargo/bin/rustc``, a rustup
proxy whose toolchain depends on ``RUSTUP_TOOLCHAIN``, ``rust-toolchain.toml``
in the working directory and rustup's default. The core memoises identities
by the executable's path, which for a proxy says nothing about the toolchain,
so a proxy is resolved on every call (`resolve_for_call`) and its real
toolchain's fingerprint enters the key.

The fingerprint covers ``rustc -vV`` and the content of the driver, its
shared libraries (``librustc_driver``, LLVM) and the host's target libraries
and tools in the sysroot (std's rlibs, ``rust-lld``, ``gcc-ld``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from pycache_core.api import CompilerIdentity, PluginContext
from pycache_core.digests import stat_signature
from pycache_core.errors import ProbeError
from pycache_core.memo import Memo

FAMILY = "rustc"

_TOOLCHAINS: Memo[Toolchain] = Memo()
_TARGET_LIBS: Memo[tuple[tuple[str, int], ...]] = Memo(1024)
_NATIVE_CPU: Memo[str] = Memo()


@dataclass(frozen=True, slots=True, kw_only=True)
class Toolchain:
    rustc: Path
    sysroot: Path
    host: str
    release: str
    version_text: str
    fingerprint: str


def is_rustup_proxy(compiler: Path) -> bool:
    """``compiler`` is rustup itself under another name (``rustc -> rustup``)."""
    real = os.path.basename(os.path.realpath(compiler))
    return real.startswith("rustup")


def is_script(compiler: Path) -> bool:
    """``compiler`` is a script (``#!``): a wrapper that runs some rustc."""
    try:
        with open(os.path.realpath(compiler), "rb") as f:
            return f.read(2) == b"#!"
    except OSError:
        return False


def resolved_per_call(compiler: Path) -> bool:
    """Which toolchain ``compiler`` runs can differ from call to call (a
    rustup proxy reads ``RUSTUP_TOOLCHAIN``, ``rust-toolchain.toml`` and
    overrides; a wrapper script may read anything): it is resolved for
    every call, and that toolchain's fingerprint enters the key."""
    return is_rustup_proxy(compiler) or is_script(compiler)


def toolchain_override(compiler: Path, arguments: tuple[str, ...]) -> str | None:
    """``rustc +nightly ...`` through a rustup proxy: the toolchain named."""
    if arguments and arguments[0].startswith("+") and len(arguments[0]) > 1 and is_rustup_proxy(compiler):
        return arguments[0][1:]
    return None


def _run_text(context: PluginContext, argv: list[str], env: Mapping[str, str] | None, cwd: Path | None = None) -> str:
    try:
        done = context.run(argv, env=env, cwd=cwd)
    except OSError as exc:
        raise ProbeError(f"cannot run {argv[0]}: {exc}") from exc
    if done.returncode != 0:
        message = done.stderr.decode(errors="replace").strip()
        raise ProbeError(f"{' '.join(argv)} exited with {done.returncode}: {message}")
    return done.stdout.decode(errors="replace")


def resolve_for_call(
    compiler: Path, env: Mapping[str, str], cwd: Path | None, context: PluginContext, override: str | None = None
) -> Path:
    """The real rustc a call runs: ``compiler`` itself, or the toolchain a
    rustup proxy (``override``: its ``+toolchain`` argument) or a wrapper
    script picks for this environment and directory."""
    proxy = is_rustup_proxy(compiler)
    if not proxy and not is_script(compiler):
        return compiler
    if proxy:
        named = override or env.get("RUSTUP_TOOLCHAIN")
        home = env.get("RUSTUP_HOME") or os.path.join(env.get("HOME", os.path.expanduser("~")), ".rustup")
        if named and os.sep not in named:
            # What rustup does first, without starting it (a rustup run costs ~20 ms).
            candidate = Path(home) / "toolchains" / named / "bin" / "rustc"
            if candidate.is_file():
                return candidate
    argv = [str(compiler), *([f"+{override}"] if override else []), "--print", "sysroot"]
    sysroot = _run_text(context, argv, env, cwd).strip()
    real = Path(sysroot) / "bin" / "rustc"
    if not real.is_file():
        kind = "rustup proxy" if proxy else "wrapper script"
        raise ProbeError(f"{compiler} is a {kind}, but the sysroot it names, {sysroot}, has no bin/rustc")
    return real


def toolchain(rustc: Path, env: Mapping[str, str], context: PluginContext) -> Toolchain:
    """The toolchain of a real (non-proxy) rustc, memoised by its files' stat."""
    driver_sig = tuple(stat_signature(p) for p in _driver_libraries(rustc.parent.parent))
    key = (os.fspath(rustc), stat_signature(rustc), driver_sig)
    return _TOOLCHAINS.get(key, lambda: _probe_toolchain(rustc, env, context))


_DRIVER_PREFIXES = ("librustc_driver", "libLLVM", "libstd-", "rustc_driver", "LLVM")


def _driver_libraries(sysroot: Path) -> list[Path]:
    """The compiler's own shared libraries next to it (rustup's layout:
    ``lib/librustc_driver-*.so``, ``lib/libLLVM*.so``); a distribution's
    rustc in /usr shares ``lib`` with everything else, so only these."""
    lib = sysroot / "lib"
    try:
        names = sorted(os.listdir(lib))
    except OSError:
        return []
    return [lib / n for n in names if n.startswith(_DRIVER_PREFIXES) and (lib / n).is_file()]


def _probe_toolchain(rustc: Path, env: Mapping[str, str], context: PluginContext) -> Toolchain:
    # Without RUSTUP_TOOLCHAIN a toolchain's rustc never consults rustup, so
    # the probe is the same whatever the caller's variables.
    probe_env = {k: v for k, v in env.items() if not k.startswith(("RUSTC_", "CARGO_MAKEFLAGS", "RUSTUP_"))}
    version_text = _run_text(context, [str(rustc), "-vV"], probe_env)
    fields = dict(
        line.split(": ", 1) for line in version_text.splitlines() if ": " in line
    )
    host = fields.get("host", "")
    release = fields.get("release", "")
    if not host or not release:
        raise ProbeError(f"{rustc} -vV gave no host or release: {version_text!r}")
    sysroot = Path(_run_text(context, [str(rustc), "--print", "sysroot"], probe_env).strip())
    files: list[Path] = [rustc, *_driver_libraries(sysroot)]
    for sub in (sysroot / "lib" / "rustlib" / host / "lib", sysroot / "lib" / "rustlib" / host / "bin"):
        files.extend(_walk_files(sub))
    lines = [f"rustc -vV\n{version_text}"]
    for path in files:
        try:
            digest = context.hash_file(path)
        except OSError as exc:
            raise ProbeError(f"cannot read toolchain file {path}: {exc}") from exc
        lines.append(f"{_relative(path, sysroot)} {digest}")
    fingerprint = context.hash_bytes("\n".join(lines).encode("utf-8", "surrogateescape"))
    return Toolchain(
        rustc=rustc, sysroot=sysroot, host=host, release=release, version_text=version_text, fingerprint=fingerprint
    )


def _walk_files(root: Path) -> list[Path]:
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        found.extend(Path(dirpath) / name for name in sorted(filenames))
    return found


def _relative(path: Path, root: Path) -> str:
    try:
        return os.fspath(path.relative_to(root))
    except ValueError:
        return path.name


def identity(compiler: Path, env: Mapping[str, str], context: PluginContext) -> CompilerIdentity:
    """`pycache_probe_compiler` for rustc."""
    real = resolve_for_call(compiler, env, None, context)
    tc = toolchain(real, env, context)
    fingerprint = tc.fingerprint
    if is_rustup_proxy(compiler):
        # The toolchain differs per call (its fingerprint is a key component
        # of each call): the proxy itself names none, whichever the first
        # call happened to reach.
        fingerprint = "rustup-proxy"
    elif is_script(compiler):
        # The script's own text decides what it runs and adds.
        fingerprint = context.hash_bytes(f"script {context.hash_file(Path(os.path.realpath(compiler)))}".encode())
    return CompilerIdentity(
        family=FAMILY,
        path=tc.rustc,
        version=tc.release,
        fingerprint=fingerprint,
        details={
            "host": tc.host,
            "sysroot": os.fspath(tc.sysroot),
            "rustc": os.fspath(tc.rustc),
            "rustup-proxy": "yes" if is_rustup_proxy(compiler) else "no",
            "script": "yes" if is_script(compiler) else "no",
        },
    )


def target_libraries(sysroot: Path, target: str, context: PluginContext) -> tuple[tuple[str, str], ...]:
    """(file name, digest) of a target's libraries in ``sysroot`` (std for a
    cross target, or a ``--sysroot`` of one's own); empty when absent."""
    directory = sysroot / "lib" / "rustlib" / target / "lib"
    listing_key = (os.fspath(directory), stat_signature(directory))
    names = _TARGET_LIBS.get(listing_key, lambda: tuple((os.fspath(p.relative_to(directory)), 0) for p in _walk_files(directory)))
    return tuple((name, context.hash_file(directory / name)) for name, _ in names)


_TARGET_LISTS: Memo[frozenset[str]] = Memo()


def builtin_targets(tc: Toolchain, context: PluginContext) -> frozenset[str]:
    """The target names ``tc`` knows without a target specification file."""
    return _TARGET_LISTS.get(
        tc.fingerprint, lambda: frozenset(_run_text(context, [str(tc.rustc), "--print", "target-list"], None).split())
    )


def target_spec(target: str, tc: Toolchain, env: Mapping[str, str], cwd: Path) -> Path | None:
    """Where rustc finds the specification of a target that is not built in
    (``--target NAME``): ``NAME.json`` in a ``RUST_TARGET_PATH`` directory,
    else ``<sysroot>/lib/rustlib/NAME/target.json``."""
    for directory in env.get("RUST_TARGET_PATH", "").split(os.pathsep):
        if directory:
            candidate = (Path(directory) if os.path.isabs(directory) else cwd / directory) / f"{target}.json"
            if candidate.is_file():
                return candidate
    candidate = tc.sysroot / "lib" / "rustlib" / target / "target.json"
    return candidate if candidate.is_file() else None


def native_cpu(tc: Toolchain, context: PluginContext) -> str:
    """What ``-C target-cpu=native`` means on this machine: the CPU rustc
    detects and the target features it enables."""

    def probe() -> str:
        cpus = _run_text(context, [str(tc.rustc), "--print", "target-cpus"], None)
        native = next((line.strip() for line in cpus.splitlines() if line.strip().startswith("native")), "")
        cfg = _run_text(context, [str(tc.rustc), "--print", "cfg", "-C", "target-cpu=native"], None)
        features = sorted(line for line in cfg.splitlines() if line.startswith("target_feature"))
        return native + "\n" + "\n".join(features)

    return _NATIVE_CPU.get(os.fspath(tc.rustc), probe)
