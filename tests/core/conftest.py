"""Fixtures shared by the core's CLI tests."""

from __future__ import annotations

import os

import pytest


@pytest.fixture
def toy_work(pycache_env, fake_distribution, toy_compiler, tmp_path):
    """The toy plugin installed, ``toycc`` on PATH; a work directory holding
    ``a.toy`` ("alpha")."""
    fake_distribution("pycache-toy", modules={"pycache_toy": toy_compiler.plugin_source}, entry_points={"toy": "pycache_toy"})
    pycache_env.env["PATH"] = f"{toy_compiler.bin_dir}{os.pathsep}{pycache_env.env['PATH']}"
    work = tmp_path / "w"
    work.mkdir()
    (work / "a.toy").write_text("alpha\n")
    return work
