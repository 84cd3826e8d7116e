"""Issue 13 B7: the parts of a toolchain found on PATH or COMPILER_PATH
are part of its identity and re-checked on every call.

Through one long-lived server (where identities are memoised): gcc runs
``as`` from ``PATH``, or from ``COMPILER_PATH`` first. A wrapper ``as``
that adds build notes makes different objects; every way it can come in
without the driver changing -- ``PATH`` changed to put it first, created
in a directory already early on ``PATH``, edited in place, reached
through ``COMPILER_PATH`` -- must miss and give the object gcc gives now.
"""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

from pycache_core.testing import PycacheEnv

from .support import GCC, needs_gcc, write

pytestmark = needs_gcc

REAL_AS = shutil.which("as") or "/usr/bin/as"


def _assembler(path: Path, *, notes: bool, tag: str) -> None:
    """A wrapper as, with build notes or without; ``tag`` makes each one a
    different file (each a different toolchain)."""
    option = " --generate-missing-build-notes=yes" if notes else ""
    write(path, f'#!/bin/sh\n# {tag}\nexec {REAL_AS}{option} "$@"\n')
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


def test_assembler_found_on_path_is_revalidated(pycache_env: PycacheEnv) -> None:
    root = pycache_env.root / "p"
    write(root / "a.c", "int a(void) { return 42; }\n")
    early = pycache_env.root / "early"  # on PATH before the real as, empty at first
    early.mkdir()
    wrappers = pycache_env.root / "wrappers"
    base_path = os.environ.get("PATH", os.defpath)
    args = [GCC, "-c", "a.c", "-o", "a.o"]
    seen: list[tuple[int, int]] = []

    def compile_and_compare(path: str, **env: str) -> None:
        env = {"PATH": path, **env}
        before = pycache_env.totals()
        done = pycache_env.compile(*args, cwd=root, env=env)
        assert done.returncode == 0, done.stderr
        reference = pycache_env.direct(*args[:-1], "ref.o", cwd=root, env=env)
        assert reference.returncode == 0, reference.stderr
        assert (root / "a.o").read_bytes() == (root / "ref.o").read_bytes()
        after = pycache_env.totals()
        seen.append((after["misses"] - before["misses"], after["hits"] - before["hits"]))

    normal = f"{early}{os.pathsep}{base_path}"
    compile_and_compare(normal)
    compile_and_compare(normal)
    # PATH now puts a wrapper first: the driver is unchanged, the identity not.
    _assembler(wrappers / "as", notes=True, tag="first on PATH")
    compile_and_compare(f"{wrappers}{os.pathsep}{normal}")
    compile_and_compare(f"{wrappers}{os.pathsep}{normal}")
    # Same PATH as at first, but an as appears in its early directory.
    _assembler(early / "as", notes=True, tag="appears early")
    compile_and_compare(normal)
    # The early as is edited in place (it stops adding notes).
    _assembler(early / "as", notes=False, tag="edited")
    compile_and_compare(normal)
    compile_and_compare(normal)
    # COMPILER_PATH is searched before PATH.
    (early / "as").unlink()
    compile_and_compare(normal, COMPILER_PATH=str(wrappers))  # a miss: COMPILER_PATH is in the key
    _assembler(wrappers / "as", notes=False, tag="edited in COMPILER_PATH")
    compile_and_compare(normal, COMPILER_PATH=str(wrappers))
    compile_and_compare(normal, COMPILER_PATH=str(wrappers))
    # Back to the real as: the first result is right again.
    compile_and_compare(normal)
    miss, hit = (1, 0), (0, 1)
    assert seen == [miss, hit, miss, hit, miss, miss, hit, miss, miss, hit, hit]
