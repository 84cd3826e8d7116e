"""Identifying cl.exe or clang-cl, and learning its ``/showIncludes`` prefix.

clang-cl answers ``--version`` (``clang version 14.0.6``, its target, and an
``InstalledDir`` line left out of the fingerprint: the same toolchain
installed elsewhere is the same toolchain). cl.exe has no such option: run
without arguments it prints its banner (``Microsoft (R) C/C++ Optimizing
Compiler Version 19.38.33130 for x64``, translated with the installation).
The fingerprint covers the kind, the driver's content, the version text
and, for cl.exe, the compiler parts beside it (c1.dll, c1xx.dll, c2.dll).

The ``/showIncludes`` prefix is read from a probe compile (a source that
includes one known header, in the call's scratch directory), so a localised
cl.exe works as well as an English one. cl.exe picks its language from
``VSLANG``: a call whose ``VSLANG`` differs from the probe's learns the
prefix again (`show_includes_prefix`).

The core memoises the identity by the executable's path, size and times.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path

from pycache_core.api import CompilerIdentity, Invocation, PluginContext
from pycache_core.errors import ProbeError

from . import showincludes

FAMILY = "msvc"
CLANG_CL = "clang-cl"
MSVC = "msvc"

#: cl.exe's compiler proper, next to cl.exe.
CL_PARTS = ("c1.dll", "c1xx.dll", "c2.dll")

#: Variables the compiler reads as part of its command line: never in a
#: helper run (the helper gets the expanded arguments instead).
COMMAND_LINE_ENV = ("CL", "_CL_")

_VERSION_NUMBER = re.compile(r"\d+\.\d+\.\d+(?:\.\d+)?")


def helper_env(env: Mapping[str, str]) -> dict[str, str]:
    """The caller's environment for a helper run of the compiler: without
    the variables it would add to the command line."""
    return {k: v for k, v in env.items() if k not in COMMAND_LINE_ENV}


def _text(data: bytes) -> str:
    return data.decode("utf-8", "surrogateescape")


def kind_of(context: PluginContext) -> str:
    """``clang-cl`` or ``msvc`` ("" before the probe)."""
    identity = context.identity
    return identity.details.get("kind", "") if identity is not None else ""


def probe(compiler: Path, env: Mapping[str, str], context: PluginContext) -> CompilerIdentity:
    """Identify the toolchain at ``compiler`` (run under that name: clang
    speaks cl's syntax only when called clang-cl); raise `ProbeError` when it
    answers like neither clang-cl nor cl.exe."""
    run_env = helper_env(env)

    def ask(*args: str, cwd: Path | None = None) -> tuple[int, str, str]:
        try:
            done = context.run([str(compiler), *args], env=run_env, cwd=cwd)
        except OSError as exc:
            raise ProbeError(f"cannot run {compiler}: {exc.strerror or exc}") from exc
        return done.returncode, _text(done.stdout), _text(done.stderr)

    rc, out, err = ask("--version")
    if rc == 0 and "clang version" in out:
        kind = CLANG_CL
        lines = [line for line in out.strip().splitlines() if not line.startswith("InstalledDir:")]
        version_text = "\n".join(lines)
        number = _VERSION_NUMBER.search(lines[0])
        version = number.group(0) if number else lines[0]
    else:
        rc, out, err = ask()
        banner = next((line for line in (err + "\n" + out).splitlines() if "Microsoft" in line), "")
        found = _VERSION_NUMBER.search(banner)
        if not found:
            detail = " / ".join((err or out).strip().splitlines()[:3])
            raise ProbeError(f"{compiler} answers neither like clang-cl (--version) nor like cl.exe (banner): {detail}")
        kind, version_text, version = MSVC, banner.strip(), found.group(0)

    try:
        parts: list[tuple[str, str]] = [("kind", kind), ("driver", context.hash_file(compiler)), ("version", version_text)]
    except OSError as exc:
        raise ProbeError(f"cannot read {compiler}: {exc.strerror or exc}") from exc
    if kind == MSVC:
        home = Path(os.path.realpath(compiler)).parent
        for name in CL_PARTS:
            if (home / name).is_file():
                parts.append((f"part:{name}", context.hash_file(home / name)))

    prefix = detect_show_includes_prefix(compiler, run_env, context)
    resource_include = ""
    if kind == CLANG_CL:
        # Where clang's own headers are: on the include search list between
        # /external:I and /imsvc.
        rc, out, _ = ask("/clang:-print-resource-dir")
        if rc == 0 and out.strip():
            resource_include = os.path.join(out.strip(), "include")
    canonical = "\n".join(f"{name}\0{value}" for name, value in parts)
    return CompilerIdentity(
        family=FAMILY,
        path=compiler,
        version=version,
        fingerprint=context.hash_bytes(canonical.encode("utf-8", "surrogateescape")),
        details={
            "kind": kind,
            "version_text": version_text.splitlines()[0],
            "driver": str(compiler),
            "show_includes_prefix": prefix,
            "probe_vslang": env.get("VSLANG", ""),
            "resource_include": resource_include,
        },
    )


def detect_show_includes_prefix(compiler: Path, env: Mapping[str, str], context: PluginContext) -> str:
    """The ``/showIncludes`` prefix this compiler prints under ``env``."""
    directory = Path(context.scratch_dir) / "show-includes-probe"
    directory.mkdir(exist_ok=True)
    (directory / showincludes.PROBE_HEADER).write_text("")
    (directory / showincludes.PROBE_SOURCE).write_text(showincludes.PROBE_SOURCE_TEXT)
    argv = [str(compiler), "/nologo", "/showIncludes", "/E", showincludes.PROBE_SOURCE]
    try:
        done = context.run(argv, cwd=directory, env=helper_env(env))
    except OSError as exc:
        raise ProbeError(f"cannot run {compiler}: {exc.strerror or exc}") from exc
    output = _text(done.stderr) + "\n" + _text(done.stdout)
    prefix = showincludes.detect_prefix(output, str(directory))
    if done.returncode != 0 or prefix is None:
        tail = " / ".join(output.strip().splitlines()[-3:])
        raise ProbeError(f"{compiler} /showIncludes probe printed no include note (exit {done.returncode}): {tail}")
    return prefix


def show_includes_prefix(invocation: Invocation, context: PluginContext) -> str:
    """The prefix for this call: the probe's, unless the call asks cl.exe
    for another language (``VSLANG``)."""
    identity = context.identity
    assert identity is not None
    if invocation.env.get("VSLANG", "") == identity.details.get("probe_vslang", ""):
        return identity.details["show_includes_prefix"]
    return detect_show_includes_prefix(invocation.compiler, invocation.env, context)
