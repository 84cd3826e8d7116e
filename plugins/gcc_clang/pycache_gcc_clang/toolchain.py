"""Identifying a gcc or clang toolchain.

The fingerprint covers everything that turns a source into an object: the
driver binary, the compiler proper it runs (gcc's cc1/cc1plus, found the way
the driver finds them), the assembler, and the version, target and
configuration text the driver reports.

Parts other than the driver are found by a search: gcc looks for cc1 and
``as`` in its program directories (``COMPILER_PATH`` first), then runs
``as`` from ``PATH``; clang picks the newest gcc installation it finds for
its headers. The identity names those parts (`CompilerIdentity.files`),
the places where a part would be found first if one were created there
(``absent``), the directories whose entries the driver chooses from
(``directories``) and the variables the search reads (``env_names``); the
core re-checks them on every call and probes again when one changes, so a
wrapper ``as`` put earlier on ``PATH`` or an upgraded binutils is noticed
although the driver is the same.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Mapping
from pathlib import Path

from pycache_core.api import CompilerIdentity, PluginContext
from pycache_core.errors import ProbeError

FAMILY = "gcc-clang"

#: gcc's compilers proper, one per language; absent ones are skipped.
GCC_PROGRAMS = ("cc1", "cc1plus", "cc1obj", "cc1objplus", "as")

#: Variables the driver's search for its parts reads: the identity holds
#: for calls with the values it was probed with.
LOOKUP_ENV = ("PATH", "COMPILER_PATH", "GCC_EXEC_PREFIX")

#: Variables the probe runs without: they rewrite the command line
#: (clang's CCC_OVERRIDE_OPTIONS) or translate messages; the key holds them.
_PROBE_DROP = ("CCC_OVERRIDE_OPTIONS", "LANGUAGE")

_SEARCH_LIST = re.compile(r"^(programs): =(.*)$", re.M)
_SPECS = re.compile(r"^Reading specs from (.+)$", re.M)
_CONFIG = re.compile(r"^Configuration file: (.+)$", re.M)
_GCC_INSTALLATION = re.compile(r"^Selected GCC installation: (.+)$", re.M)


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
    _, search_dirs, _ = ask("-print-search-dirs")
    searched = _search_lists(search_dirs)
    path_dirs = _path_dirs(probe_env)
    files: list[tuple[Path, str]] = []
    absent: list[Path] = []
    for program in GCC_PROGRAMS if kind == "gcc" else ("as",):
        rc, where, _ = ask(f"-print-prog-name={program}")
        location, earlier = _locate(program, where.strip(), searched.get("programs", ()), path_dirs)
        if location is None:
            # No such program (cc1obj without ObjC): a call needing it fails
            # and is never stored, so one appearing later shadows nothing.
            continue
        absent.extend(earlier)
        try:
            digest = context.hash_file(location)
        except OSError:
            continue
        parts.append((f"program:{program}", digest))
        files.append((location, digest))
        details[program] = str(location)
    read = [Path(p.strip()) for p in (*_SPECS.findall(verbose), *_CONFIG.findall(verbose))]
    for path in read:  # gcc's specs file, clang's configuration file
        digest = context.hash_file(path)
        parts.append((f"read:{path}", digest))
        files.append((path, digest))
    directories: list[tuple[Path, str]] = []
    for installation in _GCC_INSTALLATION.findall(verbose):
        # clang takes the newest gcc installation it finds: a new version
        # beside this one (or a new target directory) changes its headers.
        here = Path(installation.strip())
        for directory in (here.parent, here.parent.parent):
            listing = context.hash_directory(directory)
            if listing is not None:
                directories.append((directory, listing))
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
        files=tuple(files),
        absent=tuple(dict.fromkeys(absent)),
        directories=tuple(directories),
        env_names=LOOKUP_ENV,
    )


def _search_lists(text: str) -> dict[str, tuple[str, ...]]:
    """``-print-search-dirs``: the program and library directories, in order."""
    return {name: tuple(d for d in value.split(os.pathsep) if d) for name, value in _SEARCH_LIST.findall(text)}


def _path_dirs(env: Mapping[str, str]) -> tuple[str, ...]:
    """The absolute directories of ``PATH``, in order. Relative entries
    (the working directory, for an empty one) are not followed: they
    would make the toolchain depend on each call's directory."""
    return tuple(d for d in env.get("PATH", os.defpath).split(os.pathsep) if os.path.isabs(d))


def _locate(program: str, answer: str, programs: tuple[str, ...], path_dirs: tuple[str, ...]) -> tuple[Path | None, list[Path]]:
    """Where ``-print-prog-name`` points, and the paths where a program of
    that name would be found first if created. The driver looks in its
    program directories, then on ``PATH``; an absolute answer is a program
    directory's copy, a bare name one the driver runs from ``PATH``."""
    if not answer:
        return None, []
    if os.path.isabs(answer):
        found = Path(answer) if os.path.isfile(answer) else None
        directory = os.path.normpath(os.path.dirname(answer))
        before = []
        for d in programs:
            if os.path.normpath(d) == directory:
                break
            before.append(d)
        return found, _missing(Path(d) / os.path.basename(answer) for d in before)
    located = shutil.which(answer, path=os.pathsep.join(path_dirs))
    found = Path(located) if located else None
    before = []
    for d in path_dirs:
        if found is not None and os.path.normpath(d) == os.path.normpath(str(found.parent)):
            break
        before.append(d)
    candidates = [Path(d) / answer for d in programs] + [Path(d) / answer for d in before]
    return found, _missing(candidates)


def _missing(paths) -> list[Path]:
    """The candidates that do not exist now, one per real location: one
    appearing would be taken first (an existing one that is not taken, a
    file without execute permission, is left out: it would always look
    present)."""
    unique = {Path(os.path.realpath(p.parent), p.name): None for p in paths}
    return [p for p in unique if not os.path.lexists(p)]
