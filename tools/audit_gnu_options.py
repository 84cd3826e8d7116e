"""Audit the generic prefixes of `pycache_cfamily.gnu_options.GNU_OPTIONS`
against the options the installed gcc and clang list (issue 13 B4).

The table accepts whole families through a few generic rows (``-f``, ``-m``,
``-W``, ``-g``, ``-O``, ``-Q``): an option that reads or writes a file must
never come in that way. This script lists every option the compilers
document (gcc: ``--help=<every class>``; clang: ``--autocomplete=-`` and
``--help-hidden``), keeps those whose name, argument or description speaks
of files (`FILE_WORDS`), and reports the ones the table accepts only
through a generic row and that `REVIEWED` does not vouch for.

    python tools/audit_gnu_options.py                  # report; exit 1 if any is unhandled
    python tools/audit_gnu_options.py --all            # every file-ish option and how the table takes it
    python tools/audit_gnu_options.py --probe-separate # clang options under a generic prefix
                                                       # that take a separate value (slow)

tests/gcc_clang/test_option_audit.py runs it against the installed
compilers: a newly listed option that may name a file fails the suite
until it gets an explicit row (a keyed input, an output role, or refused
with a reason) or a reviewed entry saying why it names none.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass

from pycache_cfamily.gnu_options import GNU_OPTIONS, GnuKind

#: The generic rows: whatever they accept is unreviewed by construction.
GENERIC = ("-f", "-m", "-W", "-g", "-O", "-Q")

#: Words in an option's name, argument or description that may mean it
#: reads or writes a file.
FILE_WORDS = re.compile(
    r"(?i)(file|path|\bdirs?\b|-dirs?\b|director|\blist\b|-list\b|list=|-map\b|\bmap\b|output|\bdump|"
    r"record|\bsave\b|-save|\btrace\b|-trace\b|report|embed|include|import|module|plugin|\bload\b|script|"
    r"cache|sysroot|resource|toolchain|config|\bspecs?\b|remark|profile|instrument|\bsample|stats|"
    r"\blog\b|database|\bindex|emit|\bwrite|json|yaml|<dir>|<file>)"
)

_GCC_CLASSES = ("common", "optimizers", "warnings", "target", "params", "undocumented", "c", "c++", "objc", "objc++")
_OPTION_LINE = re.compile(r"^\s+(-[^\s]+)(.*)$")


@dataclass(frozen=True)
class Listed:
    compiler: str
    spelling: str  # as the compiler lists it, up to its argument (-fprofile-use=)
    text: str  # argument and description


def gcc_options(gcc: str) -> list[Listed]:
    found: dict[str, Listed] = {}
    for cls in _GCC_CLASSES:
        out = subprocess.run([gcc, f"--help={cls}"], capture_output=True, text=True, env=_c_locale()).stdout
        for line in out.splitlines():
            match = _OPTION_LINE.match(line)
            if match:
                spelling, text = _split(match.group(1))
                found.setdefault(spelling, Listed("gcc", spelling, text + match.group(2)))
    return list(found.values())


def clang_options(clang: str) -> list[Listed]:
    found: dict[str, Listed] = {}
    out = subprocess.run([clang, "--autocomplete=-"], capture_output=True, text=True, env=_c_locale()).stdout
    for line in out.splitlines():
        spelling, _, text = line.partition("\t")
        if spelling.startswith("-"):
            found.setdefault(spelling, Listed("clang", spelling, text))
    out = subprocess.run([clang, "--help-hidden"], capture_output=True, text=True, env=_c_locale()).stdout
    for line in out.splitlines():
        match = _OPTION_LINE.match(line)
        if match:
            spelling, text = _split(match.group(1))
            known = found.get(spelling)
            found[spelling] = Listed("clang", spelling, (known.text + " " if known else "") + text + match.group(2))
    return list(found.values())


def _split(token: str) -> tuple[str, str]:
    """``-fprofile-use=<path>`` -> (``-fprofile-use=``, ``<path>``);
    ``-fopt-info[-<type>=filename]`` -> (``-fopt-info``, the rest)."""
    cut = len(token)
    for mark in ("=", "<", "["):
        at = token.find(mark, 1)
        if at != -1:
            cut = min(cut, at + (1 if mark == "=" else 0))
    return token[:cut], token[cut:]


def _c_locale() -> dict[str, str]:
    return {**os.environ, "LC_ALL": "C", "LANG": "C"}


def generic_row(spelling: str) -> str | None:
    """The generic row an option comes in through, or None when an explicit
    row (or no row: an unknown option, refused) decides it."""
    probe = spelling if not spelling.endswith("=") else spelling + "x"
    spec = GNU_OPTIONS.lookup(probe)
    if spec is None:
        return None
    return spec.spelling if spec.spelling in GENERIC and spec.kind in (GnuKind.CODEGEN, GnuKind.DEBUG_INFO) else None


def audit(listed: Iterable[Listed]) -> tuple[list[tuple[Listed, str]], list[tuple[Listed, str]]]:
    """(unhandled, every file-ish option with how the table takes it)."""
    from reviewed_gnu_options import reviewed  # noqa: PLC0415 (tests/gcc_clang on sys.path)

    unhandled: list[tuple[Listed, str]] = []
    everything: list[tuple[Listed, str]] = []
    for item in sorted(listed, key=lambda i: (i.spelling, i.compiler)):
        if not FILE_WORDS.search(item.spelling + " " + item.text):
            continue
        row = generic_row(item.spelling)
        if row is None:
            spec = GNU_OPTIONS.lookup(item.spelling if not item.spelling.endswith("=") else item.spelling + "x")
            how = f"row {spec.spelling!r} ({spec.kind.value})" if spec else "unknown: refused"
        elif reviewed(item.spelling):
            how = f"generic {row!r}, reviewed: {reviewed(item.spelling)}"
        else:
            how = f"generic {row!r}: UNREVIEWED"
            unhandled.append((item, how))
        everything.append((item, how))
    return unhandled, everything


def probe_separate(clang: str) -> list[str]:
    """The options under a generic prefix that clang takes with a separate
    value: asked one by one, with the value missing (about a minute)."""
    out = subprocess.run([clang, "--autocomplete=-"], capture_output=True, text=True, env=_c_locale()).stdout
    names = [line.partition("\t")[0] for line in out.splitlines()]
    found = []
    for name in names:
        if not name.startswith(GENERIC) or name.endswith("="):
            continue
        done = subprocess.run([clang, "-###", "-c", "-x", "c", os.devnull, "-o", os.devnull, name],
                              capture_output=True, text=True, env=_c_locale())
        if f"argument to '{name}' is missing" in done.stderr:
            found.append(name)
    return found


def gcc_separate(gcc: str) -> list[str]:
    """The options gcc lists as taking a separate value, under a generic prefix."""
    out = subprocess.run([gcc, "--help=separate"], capture_output=True, text=True, env=_c_locale()).stdout
    return [m.group(1) for line in out.splitlines() if (m := _OPTION_LINE.match(line)) and m.group(1).startswith(GENERIC)]


def installed_compilers() -> tuple[str | None, str | None]:
    gcc = shutil.which("gcc")
    for name in ("clang", "clang-14", "/usr/lib/llvm-14/bin/clang"):
        clang = shutil.which(name) if not os.path.isabs(name) else (name if os.path.exists(name) else None)
        if clang:
            return gcc, clang
    return gcc, None


def installed() -> list[Listed]:
    gcc, clang = installed_compilers()
    return (gcc_options(gcc) if gcc else []) + (clang_options(clang) if clang else [])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--all", action="store_true", help="list every file-ish option and how the table takes it")
    parser.add_argument("--probe-separate", action="store_true", help="ask clang which generic options take a separate value")
    args = parser.parse_args(argv)
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "gcc_clang"))
    if args.probe_separate:
        _, clang = installed_compilers()
        for name in probe_separate(clang) if clang else ():
            print(name)
        return 0
    unhandled, everything = audit(installed())
    for item, how in everything if args.all else unhandled:
        print(f"{item.compiler:5} {item.spelling:45} {how}    | {item.text.strip()[:80]}")
    print(f"{len(unhandled)} unhandled of {len(everything)} options that may name files", file=sys.stderr)
    return 1 if unhandled else 0


if __name__ == "__main__":
    sys.exit(main())
