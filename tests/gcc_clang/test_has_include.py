"""Direct mode with __has_include: a header that appears (or disappears)
where a project header asks for it must change the result, never be
served stale; a literal lookup no longer turns direct mode off."""

from __future__ import annotations

import subprocess


def test_has_include_answers_are_part_of_the_manifest(pycache_env, tmp_path):
    pycache_env.set(PYCACHE_NO_SERVER="1")
    work = tmp_path / "w"
    (work / "inc").mkdir(parents=True)
    (work / "extra").mkdir()
    (work / "inc" / "config.h").write_text(
        '#if __has_include("feature.h")\n#include "feature.h"\n#else\n#define FEATURE 1\n#endif\n'
        "#if __has_include(<missing_std_header_xyz.h>)\n#error not expected\n#endif\n"
    )
    (work / "a.c").write_text('#include "config.h"\nint feature(void) { return FEATURE; }\n')
    command = ["gcc", "-O2", "-Iinc", "-Iextra", "-c", "a.c", "-o", "a.o"]

    def compile_and_compare():
        done = pycache_env.compile(*command, cwd=work)
        assert done.returncode == 0, done.stderr
        cached = (work / "a.o").read_bytes()
        subprocess.run([*command[:-1], "ref.o"], cwd=work, check=True)
        assert cached == (work / "ref.o").read_bytes()
        return pycache_env.totals()

    assert compile_and_compare()["misses"] == 1
    assert compile_and_compare()["direct_hits"] == 1  # the literal lookups were recorded

    # A header appears where __has_include looks (a later directory): no stale hit.
    (work / "extra" / "feature.h").write_text("#define FEATURE 2\n")
    totals = compile_and_compare()
    assert (totals["misses"], totals["direct_hits"]) == (2, 1)

    # It goes away again: the earlier result is right again, found through its key.
    (work / "extra" / "feature.h").unlink()
    totals = compile_and_compare()
    assert totals["direct_hits"] + totals["preprocessor_hits"] == 2 and totals["misses"] == 2


def test_computed_has_include_argument_turns_direct_mode_off(pycache_env, tmp_path):
    pycache_env.set(PYCACHE_DEPEND_MODE="false")  # preprocessor mode: its counts (depend mode: test_depend_mode.py)
    pycache_env.set(PYCACHE_NO_SERVER="1")
    work = tmp_path / "w"
    work.mkdir()
    (work / "h.h").write_text('#define NAME "feature.h"\n#if __has_include(NAME)\n#define F 1\n#else\n#define F 0\n#endif\n')
    (work / "a.c").write_text('#include "h.h"\nint f(void) { return F; }\n')
    for _ in range(2):
        assert pycache_env.compile("gcc", "-c", "a.c", "-o", "a.o", cwd=work).returncode == 0
    totals = pycache_env.totals()
    assert (totals["misses"], totals["direct_hits"], totals["preprocessor_hits"]) == (1, 0, 1)
