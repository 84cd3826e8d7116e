"""Issue 13 B4: no option that may read or write a file comes in through a
generic prefix of the gcc/clang table (-f, -m, -W, -g, -O, -Q).

Runs `tools/audit_gnu_options.py` against the installed gcc and clang: a
newly listed option whose name, argument or description speaks of files
fails here until it has an explicit row in `pycache_cfamily.gnu_options`
(a keyed input, an output role, or refused with a reason) or a reviewed
entry in `reviewed_gnu_options.py` saying why it names no file. Options
taking a separate value must have rows too (a generic row would take the
value for an input).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from pycache_cfamily.gnu_options import GNU_OPTIONS
from pycache_cfamily.options import ArgForm

from .reviewed_gnu_options import SEPARATE_PROBED

TOOL = Path(__file__).resolve().parents[2] / "tools" / "audit_gnu_options.py"


def _tool():
    spec = importlib.util.spec_from_file_location("audit_gnu_options", TOOL)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    if str(Path(__file__).parent) not in sys.path:
        sys.path.insert(0, str(Path(__file__).parent))  # for its `reviewed_gnu_options`
    spec.loader.exec_module(module)
    return module


audit = _tool()
GCC, CLANG = audit.installed_compilers()


@pytest.mark.skipif(GCC is None and CLANG is None, reason="neither gcc nor clang is installed")
def test_every_listed_option_that_may_name_a_file_is_decided() -> None:
    unhandled, everything = audit.audit(audit.installed())
    assert len(everything) > 100  # the compilers did list their options
    assert [f"{i.compiler} {i.spelling}: {i.text.strip()[:60]}" for i, _ in unhandled] == []


def _takes_separate_value(spelling: str) -> bool:
    spec = GNU_OPTIONS.lookup(spelling)
    if spec is None:
        return False
    return spec.kind.refuses or spec.form in (ArgForm.SEPARATE, ArgForm.JOINED_OR_SEPARATE) or spec.separate_ok


@pytest.mark.parametrize("spelling", SEPARATE_PROBED)
def test_options_with_a_separate_value_have_their_own_row(spelling: str) -> None:
    spec = GNU_OPTIONS.lookup(spelling)
    assert spec is not None and spec.spelling not in audit.GENERIC, spelling
    assert _takes_separate_value(spelling), (spelling, spec)


@pytest.mark.skipif(GCC is None, reason="gcc is not installed")
def test_gcc_options_with_a_separate_value_have_their_own_row() -> None:
    listed = audit.gcc_separate(GCC)
    assert [s for s in listed if not _takes_separate_value(s)] == []


def test_a_file_taking_option_through_a_generic_row_is_reported() -> None:
    """The audit itself: an option it has not seen, under -f, naming a file."""
    fake = audit.Listed("gcc", "-fread-this-file=", "<file> Read <file> at compile time.")
    unhandled, _ = audit.audit([fake])
    assert [i.spelling for i, _ in unhandled] == ["-fread-this-file="]
