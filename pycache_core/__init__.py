"""pycache: a compilation cache built as a plugin framework.

This package is imported by the per-compile client, so it must stay free of
imports: everything lives in submodules.
"""

__version__ = "0.1.0"
