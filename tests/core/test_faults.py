"""Never break the build: every fault degrades to running the compiler,
counted in stats and logged with its cause (issue 2, part 9)."""

from __future__ import annotations

import os

import pytest

CRASH_SWITCH = '''
import os
from pycache_toy_base import *  # the toy plugin's hooks
from pycache_toy_base import pycache_parse_arguments as _parse, pycache_probe_compiler as _probe


@hookimpl
def pycache_parse_arguments(invocation, family):
    if invocation.env.get("TOY_CRASH") == "parse":
        raise RuntimeError("parser exploded")
    return _parse(invocation, family)


@hookimpl
def pycache_probe_compiler(family, compiler, env, context):
    if env.get("TOY_CRASH") == "probe":
        from pycache_core.errors import ProbeError
        raise ProbeError(f"cannot identify {compiler}: toolchain probe failed")
    return _probe(family, compiler, env, context)
'''


@pytest.fixture
def toy(pycache_env, fake_distribution, toy_compiler, tmp_path):
    fake_distribution("pycache-toy", modules={"pycache_toy_base": toy_compiler.plugin_source,
                                              "pycache_toy": CRASH_SWITCH}, entry_points={"toy": "pycache_toy"})
    pycache_env.env["PATH"] = f"{toy_compiler.bin_dir}{os.pathsep}{pycache_env.env['PATH']}"
    pycache_env.env["PYCACHE_LOG_FILE"] = str(tmp_path / "server.log")
    pycache_env.env["PYCACHE_LOG"] = "info"
    work = tmp_path / "w"
    work.mkdir()
    (work / "a.toy").write_text("alpha\n")
    return work


def compile_ok(pycache_env, work, **env):
    done = pycache_env.compile("toycc", "-c", "a.toy", "-o", "a.out", cwd=work, env=env)
    assert done.returncode == 0, done.stderr
    assert (work / "a.out").read_text() == "alpha\n"
    return done


def test_plugin_crash_runs_uncached_and_is_counted(pycache_env, toy, tmp_path):
    for _ in range(2):
        compile_ok(pycache_env, toy, TOY_CRASH="parse")
    stats = pycache_env.stats()
    assert stats["totals"]["hits"] == 0
    assert stats["errors"]["plugin:parse"]["count"] == 2
    assert "RuntimeError: parser exploded" in stats["errors"]["plugin:parse"]["last"]
    pycache_env.stop_server()
    log = (tmp_path / "server.log").read_text()
    assert "parser exploded" in log and "Traceback" in log


def test_failed_probe_runs_uncached_and_is_counted(pycache_env, toy):
    compile_ok(pycache_env, toy, TOY_CRASH="probe")
    stats = pycache_env.stats()
    assert "toolchain probe failed" in stats["errors"]["probe"]["last"]


def test_corrupt_entry_is_a_miss_removed_and_counted(pycache_env, toy):
    compile_ok(pycache_env, toy)
    entries = [p for p in (pycache_env.cache_dir / "store" / "entries").rglob("*") if p.is_file()]
    assert len(entries) == 1
    data = bytearray(entries[0].read_bytes())
    data[-5] ^= 0xFF
    entries[0].write_bytes(bytes(data))
    (toy / "a.out").unlink()
    compile_ok(pycache_env, toy)  # corrupt -> compiled again, stored again
    compile_ok(pycache_env, toy)  # and now a hit
    stats = pycache_env.stats()
    assert stats["errors"]["corrupt-entry"]["count"] == 1
    assert "integrity digest mismatch" in stats["errors"]["corrupt-entry"]["last"]
    assert (stats["totals"]["misses"], stats["totals"]["hits"]) == (2, 1)


def test_unwritable_store_still_builds_and_counts_the_error(pycache_env, toy):
    pycache_env.cache_dir.mkdir(parents=True, exist_ok=True)
    (pycache_env.cache_dir / "store").write_text("a file where the store directory should be")
    compile_ok(pycache_env, toy)
    compile_ok(pycache_env, toy)
    stats = pycache_env.stats()
    assert stats["totals"]["hits"] == 0
    assert stats["tiers"]["local"]["errors"] >= 2
    assert "local PUT" in stats["tiers"]["local"]["last_error"]


def test_cache_dir_that_cannot_exist_still_builds(pycache_env, toy, tmp_path):
    blocker = tmp_path / "blocker"
    blocker.write_text("x")
    done = pycache_env.compile("toycc", "-c", "a.toy", "-o", "a.out", cwd=toy, env={"PYCACHE_DIR": str(blocker / "cache")})
    assert done.returncode == 0, done.stderr
    assert (toy / "a.out").read_text() == "alpha\n"


def test_missing_compiler_exits_127_naming_it(pycache_env, tmp_path):
    done = pycache_env.compile("no-such-compiler-xyz", "-c", "a.c")
    assert done.returncode == 127
    assert b"no-such-compiler-xyz" in done.stderr


def test_unsupported_compiler_runs_as_is(pycache_env, tmp_path):
    done = pycache_env.compile("echo", "hello", "world")
    assert (done.returncode, done.stdout) == (0, b"hello world\n")
    assert pycache_env.totals()["unsupported"] == 1
