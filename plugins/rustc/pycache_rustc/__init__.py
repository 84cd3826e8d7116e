"""pycache plugin for rustc as driven by cargo through RUSTC_WRAPPER."""

__version__ = "0.1.0"
