"""A third-party plugin, installed for real, is loaded and caches -- with no
change to the core. The same example is walked through in
docs/writing-a-plugin.md."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

UV = shutil.which("uv") or str(Path.home() / ".local/bin/uv")


@pytest.fixture
def installed_toy_plugin(tmp_path: Path, toy_compiler, pycache_env):
    """Build and install a throw-away distribution ``pycache-toy`` (its own
    pyproject.toml and entry point) with a real installer into a site
    directory that the pycache subprocesses see."""
    if not os.path.exists(UV):
        pytest.skip("uv is not installed (scripts/setup installs it)")
    project = tmp_path / "pycache-toy"
    (project / "pycache_toy").mkdir(parents=True)
    (project / "pycache_toy" / "__init__.py").write_text('__version__ = "0.3.0"\n')
    (project / "pycache_toy" / "hooks.py").write_text(toy_compiler.plugin_source)
    (project / "pyproject.toml").write_text(
        textwrap.dedent(
            """\
            [project]
            name = "pycache-toy"
            version = "0.3.0"
            dependencies = []

            [project.entry-points."pycache.plugins"]
            toy = "pycache_toy.hooks"

            [build-system]
            requires = ["hatchling"]
            build-backend = "hatchling.build"
            """
        )
    )
    site = tmp_path / "site"
    done = subprocess.run(
        [UV, "pip", "install", "--quiet", "--no-deps", "--python", sys.executable, "--target", str(site), str(project)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    pycache_env.env["PYTHONPATH"] = str(site)
    pycache_env.env["PATH"] = f"{toy_compiler.bin_dir}{os.pathsep}{pycache_env.env['PATH']}"
    return site


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_plugins_lists_builtins_and_the_third_party_plugin(installed_toy_plugin, pycache_env):
    done = pycache_env.run(["plugins", "--json"])
    assert done.returncode == 0, done.stderr.decode()
    listing = json.loads(done.stdout)
    by_dist = {p["distribution"]: p for p in listing["plugins"]}
    for builtin in ("pycache-gcc-clang", "pycache-rustc", "pycache-msvc", "pycache-nvcc"):
        assert builtin in by_dist and not by_dist[builtin]["error"]
    toy = by_dist["pycache-toy"]
    assert toy["version"] == "0.3.0"
    assert [f["name"] for f in toy["families"]] == ["toy"]
    assert listing["load_errors"] == []


def test_third_party_compiler_is_cached(installed_toy_plugin, pycache_env, tmp_path):
    src = write(tmp_path / "w" / "hello.toy", "hello\nuse part.toy\nwarn careful\n")
    write(tmp_path / "w" / "part.toy", "a part\n")
    work = src.parent

    reference = pycache_env.direct("toycc", "--shout", "-c", "hello.toy", "-o", "ref.out", cwd=work)
    assert reference.returncode == 0

    first = pycache_env.compile("toycc", "--shout", "-c", "hello.toy", "-o", "hello.out", cwd=work)
    assert first.returncode == 0, first.stderr
    assert (work / "hello.out").read_bytes() == (work / "ref.out").read_bytes()
    (work / "hello.out").unlink()

    second = pycache_env.compile("toycc", "--shout", "-c", "hello.toy", "-o", "hello.out", cwd=work)
    assert second.returncode == 0
    assert (work / "hello.out").read_bytes() == b"HELLO\nA PART\nWARN CAREFUL\n"
    # stdout and stderr are replayed exactly (the path in them is the call's own).
    assert second.stdout == first.stdout == b"toycc: wrote hello.out\n"
    assert second.stderr == first.stderr == b"hello.toy:3: warning: careful\n"

    totals = pycache_env.totals()
    assert (totals["misses"], totals["hits"]) == (1, 1)
    assert pycache_env.stats()["families"]["toy"]["hits"] == 1

    # A used file changes: a miss, and the output follows.
    write(work / "part.toy", "another part\n")
    third = pycache_env.compile("toycc", "--shout", "-c", "hello.toy", "-o", "hello.out", cwd=work)
    assert third.returncode == 0
    assert (work / "hello.out").read_bytes() == b"HELLO\nANOTHER PART\nWARN CAREFUL\n"
    assert pycache_env.totals()["misses"] == 2


def test_failed_compile_is_not_cached_and_replays_exactly(installed_toy_plugin, pycache_env, tmp_path):
    work = write(tmp_path / "w" / "bad.toy", "error this is wrong\n").parent
    reference = pycache_env.direct("toycc", "-c", "bad.toy", "-o", "bad.out", cwd=work)
    for _ in range(2):
        done = pycache_env.compile("toycc", "-c", "bad.toy", "-o", "bad.out", cwd=work)
        assert (done.returncode, done.stdout, done.stderr) == (reference.returncode, reference.stdout, reference.stderr)
        assert done.returncode == 1
    totals = pycache_env.totals()
    assert (totals["compile_failed"], totals["hits"], totals["misses"]) == (2, 0, 0)
    assert not (work / "bad.out").exists()


def test_not_compilation_and_not_cacheable_calls_run_as_is(installed_toy_plugin, pycache_env, tmp_path):
    version = pycache_env.compile("toycc", "--version")
    assert (version.returncode, version.stdout) == (0, b"toycc 1.0\n")
    src = write(tmp_path / "w" / "x.toy", "x\n")
    unknown = pycache_env.compile("toycc", "--frobnicate", cwd=src.parent)
    assert unknown.returncode == 2 and b"unknown argument --frobnicate" in unknown.stderr
    stats = pycache_env.stats()
    assert stats["not_compilation_reasons"] == {"version": 1}
    assert stats["not_cacheable_reasons"] == {"no-output": 1}
