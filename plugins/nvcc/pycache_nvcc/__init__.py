"""pycache plugin for nvcc and CUDA toolchains."""

__version__ = "0.1.0"
