"""Issue 13 B6: a header edited while the compile runs.

The "compiler" here is a real gcc behind a script that edits a header
around the real compile, the way an editor's save can land while a build
runs: after gcc read it (the manifest would record the new digest next to
the object built from the old content), or between pycache's preprocessor
run and the compile (the key would name the old text, the object hold the
new one). Either way the call is compiled and not stored, the next call
compiles again, and every object equals the compiler's own.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from pycache_core.testing import PycacheEnv

from .support import GCC, needs_gcc, write
from .test_end_to_end import _stats, cached, penv  # noqa: F401  (penv is a fixture)

pytestmark = needs_gcc

#: Edits inc/h.h from the file ``edit-before`` (before gcc runs) or
#: ``edit-after`` (once gcc is done), on the compile of a.c only (-c and
#: a.c: not pycache's -E run, nor its probes, which compile /dev/null), then
#: sets the header's mtime far back: only its ctime tells that it changed.
WRAPPER = """#!/bin/sh
compiling=
case " $* " in *" -c "*) case " $* " in *" a.c "*) compiling=1 ;; esac ;; esac
if [ -n "$compiling" ] && [ -f edit-before ]; then cat edit-before > inc/h.h; rm edit-before; touch -d @946684800 inc/h.h; fi
{gcc} "$@"
rc=$?
if [ -n "$compiling" ] && [ -f edit-after ]; then cat edit-after > inc/h.h; rm edit-after; touch -d @946684800 inc/h.h; fi
exit $rc
"""

OLD = "#define H 1\n"
NEW = "#define H 2\n"


@pytest.fixture
def project(penv: PycacheEnv) -> tuple[Path, str]:
    root = penv.root / "p"
    write(root / "a.c", '#include "h.h"\nint h = H;\n')
    write(root / "inc" / "h.h", OLD)
    os.utime(root / "inc" / "h.h", (946684800, 946684800))
    wrapper = write(penv.root / "bin" / "gcc", WRAPPER.format(gcc=os.path.realpath(GCC)))
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR)
    return root, str(wrapper)


def _compile_and_compare(penv: PycacheEnv, root: Path, compiler: str, env=None):
    args = ["-c", "a.c", "-Iinc", "-o", "a.o"]
    done, diff = cached(penv, root, compiler, *args, env=env)
    assert done.returncode == 0, done.stderr
    reference = penv.direct(GCC, *args[:-1], "ref.o", cwd=root)
    assert reference.returncode == 0
    assert (root / "a.o").read_bytes() == (root / "ref.o").read_bytes()
    return diff


def test_header_edited_after_the_compiler_read_it(penv: PycacheEnv, project) -> None:
    root, compiler = project
    write(root / "edit-after", NEW)
    # gcc compiled H 1, then the header became H 2: nothing is recorded.
    done, diff = cached(penv, root, compiler, "-c", "a.c", "-Iinc", "-o", "a.o")
    assert done.returncode == 0 and diff == {"misses": 1}
    assert _stats(penv)["not_cacheable_reasons"] == {"input-changed-during-compile": 1}
    assert not (root / "edit-after").exists() and (root / "inc" / "h.h").read_text() == NEW
    # The next call must build H 2 (a recorded manifest would serve H 1).
    assert _compile_and_compare(penv, root, compiler) == {"misses": 1}
    assert _compile_and_compare(penv, root, compiler) == {"hits": 1, "direct_hits": 1}


@pytest.mark.parametrize("direct", ["true", "false"], ids=["direct", "preprocessor"])
def test_header_edited_between_the_preprocessor_and_the_compile(penv: PycacheEnv, project, direct: str) -> None:
    root, compiler = project
    env = {"PYCACHE_DIRECT_MODE": direct}
    write(root / "edit-before", NEW)
    # pycache's -E run read H 1, the compile H 2: the object must not be
    # stored under the key of the text H 1.
    done, diff = cached(penv, root, compiler, "-c", "a.c", "-Iinc", "-o", "a.o", env=env)
    assert done.returncode == 0 and diff == {"misses": 1}
    assert _stats(penv)["not_cacheable_reasons"] == {"input-changed-during-compile": 1}
    # Back to H 1 (as a revert would): the object must be H 1's.
    write(root / "inc" / "h.h", OLD)
    assert _compile_and_compare(penv, root, compiler, env=env) == {"misses": 1}
    assert _compile_and_compare(penv, root, compiler, env=env) == {"hits": 1, f"{'direct' if direct == 'true' else 'preprocessor'}_hits": 1}
