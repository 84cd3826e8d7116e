"""``pycache cargo ARGS...``: cargo, with every rustc call and the C/C++
compiles of build scripts (the ``cc`` crate) going through pycache.

Standard library only: the client hands over to it without loading typer,
and it execs cargo at once. The variables it sets:

- ``RUSTC_WRAPPER``: this pycache (that is what the command is for);
- ``CARGO_INCREMENTAL=0``, unless set: incremental crates are not cacheable;
- ``CC_KNOWN_WRAPPER_CUSTOM=pycache``, ``CC="pycache cc"``,
  ``CXX="pycache c++"``: the ``cc`` crate hands C/C++ compiles to
  ``RUSTC_WRAPPER`` by itself only when it is called sccache, cachepot or
  buildcache; with these it splits ``pycache cc`` into wrapper and compiler.
  A ``CC`` or ``CXX`` naming a bare compiler (``gcc-12``) is prefixed
  with pycache; one that already names a wrapper is kept as it is.
"""

import os
import sys

from ..which import find_executable

KNOWN_WRAPPERS = ("pycache", "ccache", "sccache", "distcc", "icecc", "cachepot", "buildcache")


def cargo_environment(environ, pycache):
    """The environment cargo runs in; ``pycache`` is this executable's path."""
    env = dict(environ)
    env["RUSTC_WRAPPER"] = pycache
    env.setdefault("CARGO_INCREMENTAL", "0")
    # cc splits CC on whitespace: a path with spaces cannot be the wrapper.
    wrapper = pycache if not any(c.isspace() for c in pycache) else "pycache"
    env.setdefault("CC_KNOWN_WRAPPER_CUSTOM", os.path.splitext(os.path.basename(wrapper))[0])
    for variable, default in (("CC", "cc"), ("CXX", "c++")):
        words = env.get(variable, "").split()
        if not words:
            env[variable] = f"{wrapper} {default}"
        elif len(words) == 1 and os.path.splitext(os.path.basename(words[0]))[0] not in KNOWN_WRAPPERS:
            env[variable] = f"{wrapper} {words[0]}"
    return env


def run_cargo(args, environ=None):
    environ = os.environ if environ is None else environ
    pycache = os.path.realpath(sys.argv[0]) if sys.argv and sys.argv[0] else "pycache"
    cargo = find_executable(environ.get("CARGO") or "cargo", environ, os.getcwd())
    if cargo is None:
        sys.stderr.write("pycache: cargo: No such file or directory (is cargo on PATH?)\n")
        return 127
    env = cargo_environment(environ, pycache)
    if env["CARGO_INCREMENTAL"] != "0":
        sys.stderr.write(f"pycache cargo: CARGO_INCREMENTAL={env['CARGO_INCREMENTAL']} kept: incremental crates are not cached\n")
    try:
        os.execve(cargo, ["cargo", *args], env)
    except OSError as exc:
        sys.stderr.write(f"pycache: {cargo}: {exc.strerror}\n")
        return 126
