"""Finding the real compiler on PATH, as the shell would -- but never pycache.

Imported by the per-compile client: ``os`` and ``stat`` only.
"""

import os
from stat import S_ISREG


def find_executable(name, env, cwd, skip=()):
    """The path ``name`` runs as, or None.

    A name with a slash is taken relative to ``cwd``; a bare name is looked up
    on the caller's PATH, skipping anything that resolves to one of ``skip``
    (a masquerade symlink named ``gcc`` must find the real gcc later on PATH).
    """
    # Compared as files (device, inode), not as resolved paths: one stat
    # rather than a readlink per path component, and a hard link to
    # pycache is pycache too.
    skipped = {_file_id(s) for s in skip if s}
    skipped.discard(None)
    if os.sep in name:
        path = name if os.path.isabs(name) else os.path.join(cwd, name)
        found = _runnable_id(path)
        if found is None:
            return None
        return None if found in skipped else path  # a path to pycache itself: running it would loop
    for directory in env.get("PATH", os.defpath).split(os.pathsep):
        directory = directory or "."
        if not os.path.isabs(directory):
            directory = os.path.join(cwd, directory)
        candidate = os.path.join(directory, name)
        found = _runnable_id(candidate)
        if found is not None and found not in skipped:
            return candidate
    return None


def _stat(path):
    try:
        return os.stat(path)
    except (OSError, ValueError):  # ValueError: a NUL in the path
        return None


def _file_id(path):
    """(device, inode) of the file ``path`` leads to, or None."""
    st = _stat(path)
    return None if st is None else (st.st_dev, st.st_ino)


def _runnable_id(path):
    """`_file_id` of ``path`` when it is a regular file this process may
    execute (as ``os.path.isfile`` and ``os.access(X_OK)`` say), else None."""
    st = _stat(path)
    if st is None or not S_ISREG(st.st_mode) or not os.access(path, os.X_OK):
        return None
    return st.st_dev, st.st_ino


def find_unrunnable(name, env, cwd):
    """Where a shell's ``exec name`` fails with "Permission denied" when
    `find_executable` finds nothing to run: the path itself for a name with
    a slash, else the first match on PATH, that exists but is a directory or
    lacks execute permission. None when there is no such path ("not found")."""
    if os.sep in name:
        path = name if os.path.isabs(name) else os.path.join(cwd, name)
        return path if _unrunnable(path) else None
    for directory in env.get("PATH", os.defpath).split(os.pathsep):
        directory = directory or "."
        if not os.path.isabs(directory):
            directory = os.path.join(cwd, directory)
        candidate = os.path.join(directory, name)
        if _unrunnable(candidate):
            return candidate
    return None


def _unrunnable(path):
    return os.path.exists(path) and not (os.path.isfile(path) and os.access(path, os.X_OK))


_O_PATH = getattr(os, "O_PATH", 0)  # Linux: a descriptor that only names a file


def real_path(path):
    """``os.path.realpath(path)``, asked of the kernel where it can: one
    open and one readlink of ``/proc/self/fd/N`` rather than a readlink per
    path component (a tenth of the time for a compiler behind two links)."""
    if _O_PATH:
        try:
            fd = os.open(path, _O_PATH | os.O_CLOEXEC)
        except (OSError, ValueError):
            return os.path.realpath(path)  # missing, or a dangling link: as realpath says
        try:
            resolved = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            resolved = ""  # no /proc
        finally:
            os.close(fd)
        if resolved.startswith("/") and not resolved.endswith(" (deleted)"):
            return resolved
    return os.path.realpath(path)

