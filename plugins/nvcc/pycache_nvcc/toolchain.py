"""Identifying a CUDA toolchain: nvcc, the programs it runs, its profile,
and the host compiler a call uses.

The fingerprint covers the executable the call named (nvcc itself, or a
wrapper script named nvcc), the real nvcc behind it, ``nvcc --version``, the
programs nvcc runs (cicc, ptxas, cudafe++, fatbinary, nvlink), libdevice,
``nvcc.profile`` and the toolkit headers that only the final host compile
reads (``crt/host_runtime.h`` and the rest of ``include/crt``,
``fatbinary_section.h``; every other header a call reads shows up in its
preprocessed output).

A wrapper script is looked through with ``nvcc --dryrun``, which prints
the directory of the real nvcc (``#$ _HERE_=...``); nvcc's dryrun needs a
working host compiler, so a wrapper whose nvcc cannot be asked is a
`ProbeError` and the call runs uncached.

The host compiler is not part of nvcc's identity: ``-ccbin`` and
``NVCC_CCBIN`` choose it per call. `host_compiler_path` resolves it the way
nvcc does and `host_identity` probes it with gcc_clang's public probe
(memoised here by its stat signature: the core memoises only nvcc's).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path

from pycache_core.api import CompilerIdentity, PluginContext
from pycache_core.digests import stat_signature
from pycache_core.errors import ProbeError
from pycache_core.memo import Memo

FAMILY = "nvcc"

#: The programs nvcc runs for a compile, in the directory of nvcc itself.
TOOLKIT_PROGRAMS = ("nvcc", "cudafe++", "ptxas", "fatbinary", "nvlink")

_VERSION = re.compile(r"release (\d+\.\d+), V(\d+\.\d+\.\d+)")
_ASSIGNMENT = re.compile(r"^#\$ ([A-Za-z_][A-Za-z0-9_]*)=(.*)$")

_HOSTS: Memo[CompilerIdentity] = Memo()


def _probe_env(env: Mapping[str, str]) -> dict[str, str]:
    clean = {k: v for k, v in env.items() if not k.startswith(("LC_", "NVCC_"))}
    clean["LC_ALL"] = "C"
    return clean


def is_elf(path: Path) -> bool:
    try:
        with open(path, "rb") as f:
            return f.read(4) == b"\x7fELF"
    except OSError:
        return False


def _real_nvcc_dir(compiler: Path, env: Mapping[str, str], context: PluginContext) -> Path:
    """The directory of the nvcc binary a call of ``compiler`` runs."""
    if is_elf(compiler):
        return Path(os.path.realpath(compiler)).parent
    probe = context.scratch_dir / "pycache-probe.ptx"
    probe.write_bytes(b"")
    argv = [str(compiler), "--dryrun", "-cubin", str(probe), "-o", os.devnull]
    try:
        done = context.run(argv, env=_probe_env(env), cwd=context.scratch_dir)
    except OSError as exc:
        raise ProbeError(f"cannot run {compiler}: {exc.strerror or exc}") from exc
    text = done.stderr.decode("utf-8", "replace")
    for line in text.splitlines():
        found = _ASSIGNMENT.match(line)
        if found and found.group(1) == "_HERE_":
            return Path(found.group(2).strip())
    tail = " / ".join(text.strip().splitlines()[-2:])
    raise ProbeError(f"{compiler} is no nvcc binary and its --dryrun names no nvcc (exit {done.returncode}: {tail})")


def _hash_tree(directory: Path, context: PluginContext, parts: list[tuple[str, str]], label: str) -> None:
    if not directory.is_dir():
        return
    for item in sorted(directory.iterdir()):
        if item.is_file():
            parts.append((f"{label}/{item.name}", context.hash_file(item)))


def probe(compiler: Path, env: Mapping[str, str], context: PluginContext) -> CompilerIdentity:
    """Identify the CUDA toolchain ``compiler`` runs; `ProbeError` when it
    does not answer like nvcc."""
    try:
        done = context.run([str(compiler), "--version"], env=_probe_env(env))
    except OSError as exc:
        raise ProbeError(f"cannot run {compiler}: {exc.strerror or exc}") from exc
    version_text = done.stdout.decode("utf-8", "replace").strip()
    version = _VERSION.search(version_text)
    if done.returncode != 0 or version is None:
        detail = (done.stderr or done.stdout).decode("utf-8", "replace").strip().splitlines()[:3]
        raise ProbeError(f"{compiler} --version does not name a CUDA release (exit {done.returncode}: {' / '.join(detail)})")

    here = _real_nvcc_dir(compiler, env, context)
    top = here.parent
    parts: list[tuple[str, str]] = [("version", version_text)]
    try:
        parts.append(("invoked", context.hash_file(compiler)))
        for program in TOOLKIT_PROGRAMS:
            parts.append((f"program:{program}", context.hash_file(here / program)))
        cicc = top / "nvvm" / "bin" / "cicc"
        parts.append(("program:cicc", context.hash_file(cicc)))
        profile = here / "nvcc.profile"
        parts.append(("nvcc.profile", context.hash_file(profile)))
    except OSError as exc:
        raise ProbeError(f"cannot read the CUDA toolkit behind {compiler}: {exc.filename}: {exc.strerror}") from exc
    libdevice = top / "nvvm" / "libdevice"
    _hash_tree(libdevice, context, parts, "libdevice")
    includes = sorted((top / "targets").glob("*/include"))
    for include in includes:
        _hash_tree(include / "crt", context, parts, f"include:{include.parent.name}/crt")
        section = include / "fatbinary_section.h"
        if section.is_file():
            parts.append((f"include:{include.parent.name}/fatbinary_section.h", context.hash_file(section)))
    canonical = "\n".join(f"{name}\0{value}" for name, value in parts)
    return CompilerIdentity(
        family=FAMILY,
        path=compiler,
        version=version.group(2),
        fingerprint=context.hash_bytes(canonical.encode("utf-8", "surrogateescape")),
        details={
            "release": version.group(1),
            "nvcc": str(here / "nvcc"),
            "bin": str(here),
            "cicc": str(cicc),
            "libdevice": str(libdevice),
            "profile": str(profile),
        },
    )


# --- the host compiler ----------------------------------------------------------


def toolkit_path(identity: CompilerIdentity, env: Mapping[str, str]) -> str:
    """``PATH`` as nvcc's steps see it: nvcc.profile puts the toolkit's
    nvvm/bin and bin first."""
    bin_dir = identity.details.get("bin", "")
    cicc_dir = os.path.dirname(identity.details.get("cicc", ""))
    return os.pathsep.join(p for p in (cicc_dir, bin_dir, env.get("PATH", os.defpath)) if p)


def host_compiler_path(ccbin: str | None, identity: CompilerIdentity, env: Mapping[str, str], cwd: Path) -> Path | None:
    """The host compiler nvcc runs: ``-ccbin`` (a directory means its
    ``gcc``), else ``NVCC_CCBIN``, else ``gcc``, looked up on the PATH nvcc's
    steps see. None when there is none."""
    choice = ccbin if ccbin else env.get("NVCC_CCBIN") or "gcc"
    path = choice if os.path.isabs(choice) else os.path.join(cwd, choice)
    if os.sep in choice and os.path.isdir(path):
        choice = os.path.join(path, "gcc")
        path = choice
    if os.sep in choice:
        return Path(path) if os.path.isfile(path) and os.access(path, os.X_OK) else None
    for directory in toolkit_path(identity, env).split(os.pathsep):
        candidate = os.path.join(directory or ".", choice)
        if not os.path.isabs(candidate):
            candidate = os.path.join(cwd, candidate)
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return Path(candidate)
    return None


def host_identity(path: Path, env: Mapping[str, str], context: PluginContext) -> CompilerIdentity:
    """The host compiler's identity from gcc_clang's probe, memoised by its
    path and stat signature (and its target's)."""
    from pycache_gcc_clang.toolchain import probe as probe_gcc_clang

    real = Path(os.path.realpath(path))
    key = (str(path), stat_signature(path), str(real), stat_signature(real))
    return _HOSTS.get(key, lambda: probe_gcc_clang(path, env, context))
