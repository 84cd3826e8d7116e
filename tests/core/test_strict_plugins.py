"""``PYCACHE_STRICT_PLUGINS`` (issue 13 E): a plugin that fails to import is
skipped and reported by default; with the setting on, it is an error --
for plugin authors, who want to see it fail -- and still never a broken
build: the compile runs uncached and the error names the plugin and its
exception.
"""

from __future__ import annotations

import os

import pytest

BROKEN = "raise RuntimeError('no SDK found')\n"


@pytest.fixture
def work(pycache_env, fake_distribution, toy_compiler, tmp_path):
    fake_distribution("pycache-toy", modules={"pycache_toy": toy_compiler.plugin_source}, entry_points={"toy": "pycache_toy"})
    fake_distribution("pycache-broken", modules={"broken_plugin": BROKEN}, entry_points={"broken": "broken_plugin"})
    pycache_env.env["PATH"] = f"{toy_compiler.bin_dir}{os.pathsep}{pycache_env.env['PATH']}"
    work = tmp_path / "w"
    work.mkdir()
    (work / "a.toy").write_text("alpha\n")
    return work


def compile_a(penv, work):
    (work / "a.out").unlink(missing_ok=True)
    done = penv.compile("toycc", "-c", "a.toy", "-o", "a.out", cwd=work)
    assert (done.returncode, done.stdout) == (0, b"toycc: wrote a.out\n"), done.stderr
    assert (work / "a.out").read_text() == "alpha\n"
    return done


def test_a_broken_plugin_is_skipped_by_default(pycache_env, work):
    for _ in range(2):
        assert compile_a(pycache_env, work).stderr == b""
    totals = pycache_env.totals()
    assert (totals["misses"], totals["hits"]) == (1, 1)
    listed = pycache_env.run(["plugins"])
    assert listed.returncode == 0 and b"no SDK found" in listed.stdout + listed.stderr


def test_strict_plugins_makes_it_an_error_that_never_breaks_the_build(pycache_env, work):
    pycache_env.set(PYCACHE_STRICT_PLUGINS="1")
    first = compile_a(pycache_env, work)
    compile_a(pycache_env, work)
    assert b"plugin broken (pycache-broken) failed to load: RuntimeError: no SDK found" in first.stderr
    stats = pycache_env.stats()
    assert (stats["totals"]["misses"], stats["totals"]["hits"]) == (0, 0)  # nothing cached: no server could run
    assert "no SDK found" in stats["errors"]["server-unavailable"]["last"]
    listed = pycache_env.run(["plugins"])
    assert listed.returncode != 0 and b"no SDK found" in listed.stderr
