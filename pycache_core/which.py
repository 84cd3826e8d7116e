"""Finding the real compiler on PATH, as the shell would -- but never pycache.

Imported by the per-compile client: ``os`` only.
"""

import os


def find_executable(name, env, cwd, skip=()):
    """The path ``name`` runs as, or None.

    A name with a slash is taken relative to ``cwd``; a bare name is looked up
    on the caller's PATH, skipping anything that resolves to one of ``skip``
    (a masquerade symlink named ``gcc`` must find the real gcc later on PATH).
    """
    skip_real = {os.path.realpath(s) for s in skip if s}
    if os.sep in name:
        path = name if os.path.isabs(name) else os.path.join(cwd, name)
        if skip_real and os.path.realpath(path) in skip_real:
            return None  # a path to pycache itself: running it would loop
        return path if os.path.isfile(path) and os.access(path, os.X_OK) else None
    for directory in env.get("PATH", os.defpath).split(os.pathsep):
        directory = directory or "."
        if not os.path.isabs(directory):
            directory = os.path.join(cwd, directory)
        candidate = os.path.join(directory, name)
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            if skip_real and os.path.realpath(candidate) in skip_real:
                continue
            return candidate
    return None


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
