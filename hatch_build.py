"""The wheel's build hook: the ``pycache`` command is the native client
(native/client.c, built by native/build.py) where this machine can compile
it, else the shell launcher bin/pycache. Both start the Python client,
pycache-python, for whatever they do not do themselves; the native one
serves a cached compile without starting an interpreter.

``PYCACHE_NATIVE_CLIENT=0`` at build time installs the shell launcher.
"""

from __future__ import annotations

import importlib.util
import os
import sysconfig
from pathlib import Path

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


def _native_build():
    spec = importlib.util.spec_from_file_location("pycache_native_build", Path(__file__).parent / "native" / "build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class NativeClientHook(BuildHookInterface):
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict) -> None:
        root = Path(self.root)
        scripts = build_data["shared_scripts"]
        if os.environ.get("PYCACHE_NATIVE_CLIENT", "1").strip().lower() in ("0", "false", "no", "off"):
            scripts[str(root / "bin" / "pycache")] = "pycache"
            return
        native = _native_build()
        try:
            built = native.build(root, root / "build" / "native" / "pycache")
        except native.BuildError as exc:
            self.app.display_warning(f"pycache: installing the shell launcher, the native client did not build: {exc}")
            scripts[str(root / "bin" / "pycache")] = "pycache"
            return
        scripts[str(built)] = "pycache"
        # An executable for this platform, whatever the Python.
        build_data["pure_python"] = False
        if version == "standard":
            build_data["tag"] = "py3-none-" + sysconfig.get_platform().replace("-", "_").replace(".", "_")
