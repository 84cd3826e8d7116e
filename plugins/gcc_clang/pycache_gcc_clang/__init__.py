"""pycache plugin for gcc, g++, cc, c++, clang and clang++."""

__version__ = "0.1.0"
