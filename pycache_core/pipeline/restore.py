"""Between a call's output slots and an entry's artifacts, both ways.

Storing (`stored_entry`): each artifact is read from its slot; texts that
name paths -- the slots' declared ``text`` and the compiler's messages --
are stored with the call's base directories replaced exactly
(`pycache_core.relocation`), when the family vouched that its key is
relocatable (`Dependencies.relocatable`). When a text cannot be relocated
exactly, or a file stored as it is names a base directory, the entry is
*bound* to the call's base directories: it is served only to calls that
have the same ones. Restoring (`fits`, `replayed_streams`, `restore`): an
entry names roles, never paths, so only the current call's slots are
written, each through a temporary file renamed into place, with the
current call's base directories and output names put back.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
import re
import time
from pathlib import Path

from .. import spawning
from ..api import Artifact, Invocation, LinePaths, MakeDepfile, NotCacheable, Outputs, ParsedInvocation
from ..entry import ResultEntry, StoredArtifact
from ..paths import NO_BASE_DIRECTORIES, BaseDirectories
from ..relocation import names_base, portable_lines, portable_make, restore_lines, restore_text, text_kind
from .call import Call, Cancelled

log = logging.getLogger("pycache")

_SGR = re.compile(rb"\x1b\[[0-9;]*[mK]")


def strip_colour(data: bytes) -> bytes:
    """Diagnostics without their colour escapes (for a caller with no terminal)."""
    return _SGR.sub(b"", data)


def stored_entry(call: Call, outputs: Outputs) -> ResultEntry | NotCacheable:
    """The entry for a successful compile (raises OSError when an output
    cannot be read)."""
    invocation, parsed, context = call.ready
    assert call.compiled is not None and call.family is not None and call.deps is not None
    result = call.compiled
    bases = call.bases or NO_BASE_DIRECTORIES
    # What the compile reported itself (rustc's dep-info) can only narrow it.
    vouched = call.deps.relocatable and (outputs.dependencies is None or outputs.dependencies.relocatable)
    relocating = bool(bases) and vouched
    texts_bases = bases if relocating else NO_BASE_DIRECTORIES
    why_bound: list[str] = []
    artifacts: list[StoredArtifact] = []
    for artifact in outputs.artifacts:
        stored = _stored_artifact(artifact, invocation, parsed, texts_bases, why_bound)
        if isinstance(stored, NotCacheable):
            return stored
        artifacts.append(stored)
    streams = []
    for name, data in (("stdout", result.stdout), ("stderr", result.stderr)):
        portable = _portable_stream(data, parsed.diagnostics, texts_bases)
        if portable is None:
            why_bound.append(f"{name} names a base directory where no path is expected")
            portable = data
        streams.append(portable)
    if not vouched:
        why_bound.append("the family keyed paths the result embeds")
    bound = bases.entries if bases and why_bound else None
    if bound is not None:
        context.log.debug("entry kept to base directories %s: %s", dict(bound), "; ".join(why_bound))
    return ResultEntry(
        family=call.family.name,
        exit_code=result.exit_code,
        stdout=streams[0],
        stderr=streams[1],
        artifacts=tuple(artifacts),
        compile_seconds=result.duration,
        colour_diagnostics=parsed.colour_diagnostics,
        relocated=relocating,
        bound=bound,
        created=time.time(),
    )


def _stored_artifact(
    artifact: Artifact, invocation: Invocation, parsed: ParsedInvocation, bases: BaseDirectories, why_bound: list[str]
) -> StoredArtifact | NotCacheable:
    path = invocation.resolve(artifact.path)
    data = path.read_bytes()
    mode = path.stat().st_mode & 0o777
    slot = parsed.outputs[artifact.role]
    if isinstance(slot.text, MakeDepfile):
        portable = portable_make(data, slot.text, bases)
        if portable is None and bases:
            why_bound.append(f"{artifact.role} cannot be relocated exactly")
            portable = portable_make(data, slot.text, NO_BASE_DIRECTORIES)  # the outputs still rewritten
        if portable is not None:
            return StoredArtifact(role=artifact.role, data=portable, mode=mode, relocatable=True, text=text_kind(slot.text))
        if slot.text.outputs:
            # The key left out the output's path, trusting the file to be rewritten.
            return NotCacheable("depfile-not-relocatable", f"{artifact.path}: not written in a way pycache can reproduce")
        why_bound.append(f"{artifact.role} is not written in a way pycache can reproduce")
    elif isinstance(slot.text, LinePaths) and bases:
        portable = portable_lines(data, slot.text, bases)
        if portable is not None:
            return StoredArtifact(role=artifact.role, data=portable, mode=mode, relocatable=True, text=text_kind(slot.text))
        why_bound.append(f"{artifact.role} names a base directory where no path is expected")
    elif bases and not slot.names_paths_harmlessly:
        named = names_base(data, (d for _, d in bases.entries))
        if named is not None:
            why_bound.append(f"{artifact.role} names {named}")
    return StoredArtifact(role=artifact.role, data=data, mode=mode)


def _portable_stream(data: bytes, diagnostics: LinePaths | None, bases: BaseDirectories) -> bytes | None:
    if not data or not bases:
        return data
    if diagnostics is None:
        return None if names_base(data, (d for _, d in bases.entries)) else data
    return portable_lines(data, diagnostics, bases)


def fits(entry: ResultEntry, call: Call) -> bool:
    """A bound entry is served only to a call with the same base directories."""
    return entry.bound is None or (call.bases is not None and entry.bound == call.bases.entries)


def replayed_streams(entry: ResultEntry, call: Call) -> tuple[bytes, bytes] | None:
    """The entry's stdout and stderr for the current call; None when they
    name a base directory it does not have."""
    if not entry.relocated:
        return entry.stdout, entry.stderr
    bases = call.bases or NO_BASE_DIRECTORIES
    stdout, stderr = restore_lines(entry.stdout, bases), restore_lines(entry.stderr, bases)
    if stdout is None or stderr is None:
        return None
    return stdout, stderr


def restore(entry: ResultEntry, call: Call) -> bool:
    """Write the entry's artifacts to the current call's output slots.

    The entry is another machine's data: roles the call did not ask for are
    ignored, and every file gets the mode the call's umask gives a new file
    (`output_mode`), whatever mode the entry stores. A slot holding a
    symbolic link is written through it or replaces it, as the slot says
    the compiler does. The first slot (the call's main output, whose time a
    build tool compares) is written last.

    False (with the cause counted in ``call.delta``) when the entry lacks a
    required slot or a slot cannot be written; a failed restore leaves no
    half file. Raises `Cancelled` when the client goes away before the last
    file: no file is written after that.
    """
    invocation, parsed = call.invocation, call.parsed
    assert invocation is not None and parsed is not None
    misfit = does_not_fit(entry, parsed)
    if misfit is not None:
        call.delta.error("entry-mismatch", misfit)
        return False
    stored = {a.role: a for a in entry.artifacts}
    ignored = set(stored) - set(parsed.outputs)
    if ignored:
        log.warning("[%s] entry holds roles the call did not ask for, ignored: %s", call.label, sorted(ignored))
    order = [role for role in reversed(list(parsed.outputs)) if role in stored]
    targets = {role: _target(role, invocation, parsed) for role in order}
    for target in targets.values():
        if os.path.exists(target) and not os.path.isfile(target):
            # Never replace a device or a directory by a file.
            call.delta.error("restore", f"{target} exists and is not a regular file")
            return False
    # Every file's bytes are worked out before the first one is written.
    contents: dict[str, bytes] = {}
    for role in order:
        data = _restored_data(stored[role], parsed, call.bases or NO_BASE_DIRECTORIES)
        if data is None:
            log.info("[%s] the entry's %s cannot be written for this call's base directories", call.label, role)
            return False
        contents[role] = data
    umask = call.request.caller_umask()
    written: list[str] = []
    try:
        for role in order:
            if call.client_gone():
                raise Cancelled(f"the client went away before {targets[role]} was restored")
            atomic_write(targets[role], contents[role], output_mode(stored[role].mode, umask), umask=0)
            written.append(os.fspath(targets[role]))
    except OSError as exc:
        call.delta.error("restore", f"cannot write {exc.filename}: {exc.strerror}")
        for path in written:
            with contextlib.suppress(OSError):
                os.unlink(path)
        return False
    return True


def does_not_fit(entry: ResultEntry, parsed: ParsedInvocation) -> str | None:
    """Why the entry's artifacts cannot fill the call's output slots (a
    required one is missing), or None. Roles the call did not ask for do
    not matter: they are ignored."""
    stored_roles = {a.role for a in entry.artifacts}
    missing = {role for role, slot in parsed.outputs.items() if slot.required} - stored_roles
    if missing:
        return f"entry roles {sorted(stored_roles)} lack the call's outputs {sorted(missing)}"
    return None


def output_mode(stored: int, umask: int) -> int:
    """The mode of a restored file: what a compiler creating it gives --
    read and write for all, execute too for an executable -- less the
    caller's umask. Nothing else of a stored mode counts (an entry from a
    shared tier never makes a file setuid, sticky or more writable than the
    umask lets it be)."""
    return (0o777 if stored & 0o111 else 0o666) & ~umask


def _target(role: str, invocation: Invocation, parsed: ParsedInvocation) -> Path:
    """Where the slot's bytes go: its path, or -- for a slot written through
    links -- the file a symbolic link there leads to (even a missing one:
    opening the link for writing creates it)."""
    slot = parsed.outputs[role]
    path = invocation.resolve(slot.path)
    if slot.through_links and os.path.islink(path):
        return Path(os.path.realpath(path))
    return path


def _restored_data(artifact: StoredArtifact, parsed: ParsedInvocation, bases: BaseDirectories) -> bytes | None:
    """An artifact's bytes for the current call: a relocated text rendered
    with its base directories and outputs; None when that cannot be done
    exactly (the slot declares no text now, or another kind)."""
    if not artifact.relocatable:
        return artifact.data
    spec = parsed.outputs[artifact.role].text
    if spec is None or artifact.text != text_kind(spec):
        return None
    return restore_text(artifact.data, spec, bases)


def atomic_write(target: Path, data: bytes, mode: int, *, umask: int | None = None) -> None:
    """Write ``target`` through a temporary file in its directory and a
    rename: a reader sees the old file or the whole new one. Its mode is
    ``mode`` less ``umask`` (default: this process's)."""
    target = os.fspath(target)
    directory, name = os.path.split(target)
    prefix = os.path.join(directory, f".{name}.")
    tmp = None
    try:
        with spawning.writing():  # a build may execute it the moment it is in place
            fd, tmp = _create_temporary(prefix)
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view):]
            finally:
                os.close(fd)
        os.chmod(tmp, mode & ~(_process_umask() if umask is None else umask))
        os.replace(tmp, target)
    except BaseException:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        raise


_TEMPORARY_SERIAL = itertools.count()
_CREATE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)


def _create_temporary(prefix: str) -> tuple[int, str]:
    """A new file ``PREFIX<pid>.<serial>.pycache-tmp``, open for writing,
    private to its owner until `atomic_write` sets its mode: what
    `tempfile.mkstemp` gives, without its random names (the process id and
    a serial are unique already; a name taken, by a crashed run of the same
    pid, is skipped)."""
    pid = os.getpid()
    for _ in range(100):
        path = f"{prefix}{pid}.{next(_TEMPORARY_SERIAL)}.pycache-tmp"
        try:
            return os.open(path, _CREATE_FLAGS, 0o600), path
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temporary name for {prefix}*.pycache-tmp")


_UMASK: int | None = None


def _process_umask() -> int:
    """This process's umask, read once (reading it means setting it, which
    threads must not race)."""
    global _UMASK
    if _UMASK is None:
        current = os.umask(0)
        os.umask(current)
        _UMASK = current
    return _UMASK
