"""Hook implementations of the rustc plugin.

The distribution is installed and loaded like every plugin; it claims no
compiler yet, so calls of this family run uncached (counted as
"unsupported-compiler").
"""

from __future__ import annotations

from pycache_core.api import CompilerFamily, hookimpl


@hookimpl
def pycache_register_compilers() -> list[CompilerFamily]:
    return []
