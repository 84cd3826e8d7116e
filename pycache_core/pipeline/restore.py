"""Between a call's output slots and an entry's artifacts, both ways.

Storing (`read_artifact`, `portable_bytes`): each artifact is read from its
slot; relocatable texts (dependency files) and the compiler's messages are
stored with the call's base directory replaced by a placeholder. Restoring
(`restore`, `restore_bytes`): an entry names roles, never paths, so only the
current call's slots are written, each through a temporary file renamed
into place, with the placeholder replaced by the current call's base.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import tempfile
from pathlib import Path

from ..api import Artifact, Invocation, ParsedInvocation
from ..entry import ResultEntry, StoredArtifact
from ..paths import PLACEHOLDER
from .call import Call, Cancelled

log = logging.getLogger("pycache")

_SGR = re.compile(rb"\x1b\[[0-9;]*[mK]")


def strip_colour(data: bytes) -> bytes:
    """Diagnostics without their colour escapes (for a caller with no terminal)."""
    return _SGR.sub(b"", data)


def read_artifact(artifact: Artifact, invocation: Invocation, base: str | None) -> StoredArtifact:
    path = invocation.resolve(artifact.path)
    data = path.read_bytes()
    if artifact.relocatable:
        data = portable_bytes(data, base)
    return StoredArtifact(role=artifact.role, data=data, mode=path.stat().st_mode & 0o777, relocatable=artifact.relocatable)


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
    umask = call.request.caller_umask()
    written: list[str] = []
    try:
        for role in order:
            artifact = stored[role]
            data = artifact.data
            if artifact.relocatable and entry.relocated:
                data = restore_bytes(data, call.base)
            if call.client_gone():
                raise Cancelled(f"the client went away before {targets[role]} was restored")
            atomic_write(targets[role], data, output_mode(artifact.mode, umask), umask=0)
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


def portable_bytes(data: bytes, base: str | None) -> bytes:
    """Replace the call's base directory in stored text by the placeholder.

    Only the call's own base: another base directory has no counterpart to
    put back on restore, so its paths stay as they are."""
    if base is None or not data:
        return data
    return data.replace(os.fsencode(base) + os.sep.encode(), PLACEHOLDER.encode() + os.sep.encode())


def restore_bytes(data: bytes, base: str | None) -> bytes:
    if base is None or not data:
        return data
    return data.replace(PLACEHOLDER.encode(), os.fsencode(base))


def atomic_write(target: Path, data: bytes, mode: int, *, umask: int | None = None) -> None:
    """Write ``target`` through a temporary file in its directory and a
    rename: a reader sees the old file or the whole new one. Its mode is
    ``mode`` less ``umask`` (default: this process's)."""
    target = Path(target)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".pycache-tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, mode & ~(_process_umask() if umask is None else umask))
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


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
