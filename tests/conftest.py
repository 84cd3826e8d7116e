"""Shared test helpers. The fixtures themselves live in `pycache_core.testing`
(loaded with -p in pyproject.toml) so third-party plugin authors get them too."""
