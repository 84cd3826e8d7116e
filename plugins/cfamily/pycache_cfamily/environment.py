"""What a C-family compiler takes from its environment.

- `GNU_COMPILER_ENV`: the variables a gcc or clang compile reads (a key
  holds each one that is set as its own component, never the whole
  environment); `GNU_DEPENDENCY_ENV`: those that make it append to a
  dependency file of its own;
- `english_messages_env`: the caller's environment with the compiler's
  messages in English, for a helper run whose output is parsed (``-v``'s
  include search list);
- `effective_cwd`: the working directory as the compiler records it in
  debug information.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from pycache_core.api import Invocation

__all__ = ["GNU_COMPILER_ENV", "GNU_DEPENDENCY_ENV", "effective_cwd", "english_messages_env"]

#: Variables a gcc or clang compile reads. Each enters the key as its own
#: component ("env:NAME") when set; never the whole environment.
GNU_COMPILER_ENV = (
    "CPATH",
    "C_INCLUDE_PATH",
    "CPLUS_INCLUDE_PATH",
    "OBJC_INCLUDE_PATH",
    "OBJCPLUS_INCLUDE_PATH",
    "SOURCE_DATE_EPOCH",
    "GCC_EXEC_PREFIX",
    "COMPILER_PATH",
    "GCC_COMPARE_DEBUG",
    "GCC_COLORS",
    "GCC_URLS",
    "TERM_URLS",
    "GCC_EXTRA_DIAGNOSTIC_OUTPUT",
    "COLUMNS",
    "LANG",
    "LANGUAGE",
    "LC_ALL",
    "LC_CTYPE",
    "LC_MESSAGES",
    "CCC_OVERRIDE_OPTIONS",
    "SDKROOT",
    "MACOSX_DEPLOYMENT_TARGET",
)

#: Variables that make the compiler write an extra dependency file, appending
#: to it: an output a cache cannot reproduce.
GNU_DEPENDENCY_ENV = ("DEPENDENCIES_OUTPUT", "SUNPRO_DEPENDENCIES")


def english_messages_env(env: Mapping[str, str]) -> dict[str, str]:
    """The caller's environment with messages in English (the include search
    list is parsed from them) and every other locale category unchanged
    (the character set decides how the source is read)."""
    run_env = dict(env)
    run_env.pop("LANGUAGE", None)
    lc_all = run_env.pop("LC_ALL", None)
    if lc_all:
        run_env["LC_CTYPE"] = lc_all
        for category in ("LC_COLLATE", "LC_NUMERIC", "LC_TIME", "LC_MONETARY"):
            run_env[category] = lc_all
    run_env["LC_MESSAGES"] = "C"
    return run_env


def effective_cwd(invocation: Invocation) -> str:
    """The working directory as the compiler records it: gcc and clang use
    ``$PWD`` when it names the same directory (a path through a symlink)."""
    pwd = invocation.env.get("PWD")
    cwd = os.fspath(invocation.cwd)
    if pwd and os.path.isabs(pwd) and pwd != cwd:
        try:
            if os.path.samefile(pwd, cwd):
                return pwd
        except OSError:
            pass
    return pwd if pwd == cwd else cwd
