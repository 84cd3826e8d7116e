"""Shared test helpers. The fixtures themselves live in `pycache_core.testing`
(loaded with -p in pyproject.toml) so third-party plugin authors get them too."""

import signal


def pytest_configure(config):
    """Tests of Ctrl-C send SIGINT to a build's process group, as a terminal
    does to make and every compile under it. A suite started in the
    background of a shell without job control (``cmd &`` in a script)
    inherits SIGINT ignored, and an ignored signal stays ignored in every
    process the tests start -- the interrupted client would wait on. Catching
    it here gives those processes the default action again (a caught signal
    is reset at exec)."""
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
