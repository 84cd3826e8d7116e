"""Identifying a gcc or clang toolchain.

The fingerprint covers everything that turns a source into an object: the
driver binary, the compiler proper it runs (gcc's cc1/cc1plus, found the way
the driver finds them), the assembler, and the version, target and
configuration text the driver reports. The core memoises the identity by
the driver's path, size and times, so this may run the driver a few times.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from pathlib import Path

from pycache_core.api import CompilerIdentity, PluginContext
from pycache_core.errors import ProbeError

FAMILY = "gcc-clang"

#: gcc's compilers proper, one per language; absent ones are skipped.
GCC_PROGRAMS = ("cc1", "cc1plus", "cc1obj", "cc1objplus", "as")

#: Variables that move the driver to other programs: the key holds them
#: (env:NAME), the probe runs without them so the memoised identity is the
#: toolchain's own.
_PROBE_DROP = ("GCC_EXEC_PREFIX", "COMPILER_PATH", "CCC_OVERRIDE_OPTIONS", "LANGUAGE")


def _probe_env(env: Mapping[str, str]) -> dict[str, str]:
    clean = {k: v for k, v in env.items() if k not in _PROBE_DROP and not k.startswith("LC_")}
    # Untranslated output, so the fingerprint does not depend on the locale.
    clean["LC_ALL"] = "C"
    clean["LANG"] = "C"
    return clean


def _text(data: bytes) -> str:
    return data.decode("utf-8", "surrogateescape")


def probe(compiler: Path, env: Mapping[str, str], context: PluginContext) -> CompilerIdentity:
    """Identify the toolchain at ``compiler``; raise `ProbeError` when it
    does not answer like gcc or clang."""
    probe_env = _probe_env(env)

    def ask(*args: str) -> tuple[int, str, str]:
        try:
            done = context.run([str(compiler), *args], env=probe_env)
        except OSError as exc:
            raise ProbeError(f"cannot run {compiler}: {exc.strerror or exc}") from exc
        return done.returncode, _text(done.stdout), _text(done.stderr)

    rc, version_out, version_err = ask("--version")
    if rc != 0 or not version_out.strip():
        detail = (version_err or version_out).strip().splitlines()[:3]
        raise ProbeError(f"{compiler} --version failed (exit {rc}): {' / '.join(detail)}")
    first_line = version_out.strip().splitlines()[0]
    kind = "clang" if "clang version" in version_out else "gcc"

    rc, _, verbose = ask("-v")
    if rc != 0:
        raise ProbeError(f"{compiler} -v failed (exit {rc})")
    # COLLECT_GCC names the driver's own path: the same toolchain installed
    # elsewhere is the same toolchain.
    verbose = "\n".join(
        line for line in verbose.splitlines() if not line.startswith(("COLLECT_GCC=", "COLLECT_LTO_WRAPPER="))
    )
    _, dumpversion, _ = ask("-dumpversion")
    _, machine, _ = ask("-dumpmachine")

    try:
        driver_digest = context.hash_file(compiler)
    except OSError as exc:
        raise ProbeError(f"cannot read {compiler}: {exc.strerror or exc}") from exc

    parts: list[tuple[str, str]] = [
        ("kind", kind),
        ("driver", driver_digest),
        ("version", version_out.strip()),
        ("verbose", verbose.strip()),
        ("dumpversion", dumpversion.strip()),
        ("dumpmachine", machine.strip()),
    ]
    details: dict[str, str] = {
        "kind": kind,
        "version_text": first_line,
        "target": machine.strip(),
        "driver": str(compiler),
    }
    for program in GCC_PROGRAMS if kind == "gcc" else ("as",):
        rc, where, _ = ask(f"-print-prog-name={program}")
        location = _locate(where.strip(), probe_env)
        if location is None:
            continue  # this toolchain has no such program (cc1obj without ObjC)
        try:
            parts.append((f"program:{program}", context.hash_file(location)))
        except OSError:
            continue
        details[program] = str(location)
    if kind == "clang":
        rc, resource, _ = ask("-print-resource-dir")
        resource_dir = Path(resource.strip()) if rc == 0 and resource.strip() else None
        if resource_dir is not None:
            details["resource_dir"] = str(resource_dir)
            # Sanitizer ignore lists clang applies by default live here.
            share = resource_dir / "share"
            if share.is_dir():
                for item in sorted(share.iterdir()):
                    if item.is_file():
                        parts.append((f"resource:{item.name}", context.hash_file(item)))

    canonical = "\n".join(f"{name}\0{value}" for name, value in parts)
    fingerprint = context.hash_bytes(canonical.encode("utf-8", "surrogateescape"))
    return CompilerIdentity(
        family=FAMILY,
        path=compiler,
        version=dumpversion.strip() or first_line,
        fingerprint=fingerprint,
        details=details,
    )


def _locate(answer: str, env: Mapping[str, str]) -> Path | None:
    """Where ``-print-prog-name`` points: an absolute path when the driver
    has its own copy, else a bare name the driver runs from PATH."""
    if not answer:
        return None
    if os.path.isabs(answer):
        return Path(answer) if os.path.isfile(answer) else None
    found = shutil.which(answer, path=env.get("PATH", os.defpath))
    return Path(found) if found else None
