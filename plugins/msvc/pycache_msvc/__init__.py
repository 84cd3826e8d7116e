"""pycache plugin for cl.exe and clang-cl (MSVC command-line syntax)."""

__version__ = "0.1.0"
