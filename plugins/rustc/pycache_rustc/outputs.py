"""Collecting what a successful rustc call wrote.

Every output was named when the call was parsed (`arguments.output_paths`);
this module checks that each is there, and that rustc wrote nothing else for
the crate next to them (a file the entry would not restore would make a hit
differ from a compile). The ``.d`` file is relocated by the core (its slot
declares `paths.DEPINFO`). The compile's own dep-info is
read back and its files and variables reported, so the manifest the core
records matches what the real compile read.
"""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path

from pycache_core.api import (
    Artifact,
    CompileResult,
    Dependencies,
    Invocation,
    NotCacheable,
    Outputs,
    ParsedInvocation,
    PluginContext,
)

from . import depinfo, linking
from .arguments import RustcArgs
from .dependencies import call_toolchain, dependencies_from_depinfo

#: Seconds of slack when deciding whether a file was written by this compile.
CLOCK_SLACK = 1.0


def _stray_outputs(args: RustcArgs, invocation: Invocation, expected: set[str], since: float) -> list[str]:
    """Files named after the crate that this compile wrote but no slot names."""
    directories = {os.path.dirname(p) for p in expected}
    prefixes = (args.stem + ".", f"lib{args.stem}.")
    stray: list[str] = []
    for directory in directories:
        try:
            entries = list(os.scandir(directory or "."))
        except OSError:
            continue
        for entry in entries:
            if not entry.name.startswith(prefixes) or entry.name.endswith(".pycache-tmp"):
                continue
            path = os.path.normpath(entry.path)
            if path in expected:
                continue
            try:
                if entry.is_file() and entry.stat().st_mtime >= since:
                    stray.append(path)
            except OSError:
                continue
    return stray


def collect(
    invocation: Invocation, parsed: ParsedInvocation, result: CompileResult, context: PluginContext
) -> Outputs | NotCacheable:
    args: RustcArgs = parsed.private
    artifacts: list[Artifact] = []
    expected: set[str] = set()
    for role, slot in parsed.outputs.items():
        path = invocation.resolve(slot.path)
        expected.add(os.path.normpath(path))
        if not path.is_file():
            if slot.required:
                return NotCacheable("missing-output", f"rustc did not write {slot.path} ({role})")
            continue
        artifacts.append(Artifact(role=role, path=slot.path))

    since = time.time() - result.duration - CLOCK_SLACK
    stray = _stray_outputs(args, invocation, expected, since)
    if stray:
        return NotCacheable("uncaptured-output", f"rustc also wrote {', '.join(sorted(stray))}")

    dependencies = None
    if "dep-info" in parsed.outputs:
        dependencies = _compile_dependencies(invocation, parsed, args, context)
    return Outputs(artifacts=tuple(artifacts), dependencies=dependencies)


def _reported_link_line(report: Path) -> linking.LinkLine | None:
    try:
        text = report.read_text(encoding="utf-8", errors="surrogateescape")
    except OSError:
        return None
    finally:
        with contextlib.suppress(OSError):
            report.unlink()
    return linking.read_link_line(text)


def _compile_dependencies(
    invocation: Invocation, parsed: ParsedInvocation, args: RustcArgs, context: PluginContext
) -> Dependencies | None:
    path = invocation.resolve(parsed.outputs["dep-info"].path)
    try:
        info = depinfo.parse(path.read_text(encoding="utf-8", errors="surrogateescape"))
    except OSError:
        return None
    report = linking.link_report(args, {role: os.fspath(slot.path) for role, slot in parsed.outputs.items()})
    must_stay_absent: list[Path] = []
    if report is not None:
        # What the link read, as the link line the compile printed names it:
        # upstream crates and other files by path, libraries by -l.
        line = _reported_link_line(invocation.resolve(report))
        if line is None:
            return Dependencies(components=(), manifest_ok=False)
        libraries = linking.link_line_libraries(line, args, invocation, context)
        if isinstance(libraries, NotCacheable):
            context.log.info("not stored: %s", libraries.detail)
            return Dependencies(components=(), manifest_ok=False)
        library_files, must_stay_absent = libraries
        read = (*line.files, *map(os.fspath, library_files))
        info = depinfo.DepInfo(targets=info.targets, files=(*info.files, *read), env=info.env)
    tc = call_toolchain(invocation, context)
    sysroots = [os.fspath(tc.sysroot)] + ([os.path.normpath(invocation.resolve(args.sysroot))] if args.sysroot else [])
    found = dependencies_from_depinfo(info, invocation, args, sysroots, context)
    if isinstance(found, NotCacheable):
        # A dependency vanished right after the compile: record no manifest.
        return Dependencies(components=(), manifest_ok=False)
    components, files, absent, env_names, relocatable = found
    absent = [*absent, *must_stay_absent]
    return Dependencies(
        components=tuple(components), files=tuple(files), absent=tuple(dict.fromkeys(absent)), env_names=tuple(env_names),
        relocatable=relocatable,
    )

