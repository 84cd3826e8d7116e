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
import os
import re
import tempfile
from pathlib import Path

from ..api import Artifact, Invocation, ParsedInvocation
from ..entry import ResultEntry, StoredArtifact
from ..paths import PLACEHOLDER
from .call import Call

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

    False (with the cause counted in ``call.delta``) when the entry does not
    fit the call's slots or a slot cannot be written; a failed restore
    leaves no half file.
    """
    invocation, parsed = call.invocation, call.parsed
    assert invocation is not None and parsed is not None
    misfit = does_not_fit(entry, parsed)
    if misfit is not None:
        call.delta.error("entry-mismatch", misfit)
        return False
    for artifact in entry.artifacts:
        target = _target(artifact.role, invocation, parsed)
        if os.path.lexists(target) and not os.path.isfile(target):
            # Never replace a device, directory or dangling link by a file.
            call.delta.error("restore", f"{target} exists and is not a regular file")
            return False
    written: list[str] = []
    try:
        for artifact in entry.artifacts:
            target = _target(artifact.role, invocation, parsed)
            data = artifact.data
            if artifact.relocatable and entry.relocated:
                data = restore_bytes(data, call.base)
            atomic_write(target, data, artifact.mode)
            written.append(os.fspath(target))
    except OSError as exc:
        call.delta.error("restore", f"cannot write {exc.filename}: {exc.strerror}")
        for path in written:
            with contextlib.suppress(OSError):
                os.unlink(path)
        return False
    return True


def does_not_fit(entry: ResultEntry, parsed: ParsedInvocation) -> str | None:
    """Why the entry's artifacts do not match the call's output slots, or None."""
    stored_roles = {a.role for a in entry.artifacts}
    unknown = stored_roles - set(parsed.outputs)
    missing = {role for role, slot in parsed.outputs.items() if slot.required} - stored_roles
    if unknown or missing:
        return f"entry roles {sorted(stored_roles)} do not fit the call's outputs {sorted(parsed.outputs)}"
    return None


def _target(role: str, invocation: Invocation, parsed: ParsedInvocation) -> Path:
    return invocation.resolve(parsed.outputs[role].path)


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


def atomic_write(target: Path, data: bytes, mode: int) -> None:
    """Write ``target`` through a temporary file in its directory and a
    rename: a reader sees the old file or the whole new one."""
    target = Path(target)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".pycache-tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, mode & ~_umask())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


_UMASK: int | None = None


def _umask() -> int:
    global _UMASK
    if _UMASK is None:
        current = os.umask(0)
        os.umask(current)
        _UMASK = current
    return _UMASK
