"""pycache-cfamily as a distribution: a library the C-family plugins
require, listed by `pycache plugins`, never loaded as a plugin."""

from __future__ import annotations

import json
from importlib import metadata

import pycache_cfamily
from pycache_core.plugins import ENTRY_POINT_GROUP


def test_it_is_a_library_the_c_family_plugins_require():
    dist = metadata.distribution("pycache-cfamily")
    assert dist.version == pycache_cfamily.__version__
    assert not [ep for ep in dist.entry_points if ep.group == ENTRY_POINT_GROUP]
    for plugin in ("pycache-gcc-clang", "pycache-nvcc", "pycache-msvc"):
        assert "pycache-cfamily" in (metadata.distribution(plugin).requires or []), plugin


def test_pycache_plugins_lists_it_as_a_library(pycache_env):
    done = pycache_env.run(["plugins", "--json"])
    assert done.returncode == 0, done.stderr.decode()
    payload = json.loads(done.stdout)
    libraries = {lib["distribution"]: lib for lib in payload["libraries"]}
    assert libraries["pycache-cfamily"]["version"] == pycache_cfamily.__version__
    assert "C-family" in libraries["pycache-cfamily"]["summary"]
    # plugins are not libraries, nor the other way round
    assert "pycache-gcc-clang" not in libraries and "pycache" not in libraries
    assert "pycache-cfamily" not in {p["distribution"] for p in payload["plugins"]}

    done = pycache_env.run(["plugins"])
    assert done.returncode == 0, done.stderr.decode()
    assert f"libraries: pycache-cfamily {pycache_cfamily.__version__}" in done.stdout.decode()
