"""The gcc/clang parser against its own option table (issue 13 E and Tests).

- Every refusing row of the table (`GnuKind.refuses`: queries,
  preprocess-only, -S, -v, and every REFUSED row) drives one case: a
  cacheable compile plus that option is refused with the row's own reason.
  Turning a row cacheable, or dropping its reason, fails its case.
- A property test: random option sequences (known spellings with values,
  options the table does not know, inputs, response files) never make the
  parser raise, and it never calls a command line cacheable that holds an
  option missing from its table, or a refusing one.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pycache_cfamily.gnu_options import GNU_OPTIONS, GnuKind
from pycache_cfamily.options import ArgForm, OptionSpec
from pycache_core.api import NotCacheable, NotCompilation, ParsedInvocation
from pycache_gcc_clang import arguments

from .support import make_invocation

REFUSING = [spec for spec in GNU_OPTIONS.specs if spec.kind.refuses]
# Kinds whose calls are no compilation at all; every other refusing kind is
# a compilation that is not cacheable.
NOT_COMPILATION = {GnuKind.QUERY, GnuKind.PREPROCESS_ONLY}
CACHEABLE = ["-c", "a.c", "-O2", "-o", "a.o"]


def spelled(spec: OptionSpec, value: str = "v") -> list[str]:
    """The option as a command line writes it, with a value where it takes one."""
    if spec.form is ArgForm.FLAG:
        return [spec.spelling]
    if spec.form is ArgForm.JOINED:
        return [spec.spelling + value]
    if spec.form is ArgForm.EQUALS:
        return [f"{spec.spelling}={value}"]
    return [spec.spelling, value]  # SEPARATE, JOINED_OR_SEPARATE


def outcome(args: list[str], cwd: Path):
    return arguments.parse(make_invocation(args, cwd, compiler="/usr/bin/gcc"))


def test_the_table_refuses_what_it_should():
    # The rows the mutation check found untested are among them.
    spellings = {spec.spelling for spec in REFUSING}
    assert {"-aux-info", "-fdump-", "-save-temps", "-fplugin", "-B", "-specs", "-fsyntax-only"} <= spellings
    assert all(spec.reason for spec in REFUSING)


@pytest.mark.parametrize("spec", REFUSING, ids=[f"{s.spelling}:{s.form.name.lower()}" for s in REFUSING])
def test_every_refusing_row_refuses_with_its_reason(spec: OptionSpec, tmp_path: Path):
    (tmp_path / "a.c").write_text("int x;\n")
    option = spelled(spec)
    assert GNU_OPTIONS.lookup(option[0]) is spec  # the case spells this very row
    assert isinstance(outcome(CACHEABLE, tmp_path), ParsedInvocation)

    for args in ([*CACHEABLE, *option], [*option, *CACHEABLE]):
        got = outcome(args, tmp_path)
        expected = NotCompilation if spec.kind in NOT_COMPILATION else NotCacheable
        assert isinstance(got, expected), (args, got)
        assert got.reason == spec.reason, (args, got)


# --- property: never a crash, never "cacheable" for what the table does not know --------

KNOWN = [spec for spec in GNU_OPTIONS.specs]
VALUES = st.sampled_from(["v", "a.c", "inc", "-", "=", "x=y", "c++", "none", "", "/dev/null", "-c", "@r.rsp", "a,b"])
UNKNOWN = st.text("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_=,+-", min_size=1, max_size=12).map(
    lambda text: "-" + text
).filter(lambda token: GNU_OPTIONS.lookup(token) is None)
INPUTS = st.sampled_from(["a.c", "b.cpp", "c.s", "d.S", "x.o", "-", "inc/h.h", "@r.rsp", "@missing.rsp"])


@st.composite
def known_option(draw) -> list[str]:
    return spelled(draw(st.sampled_from(KNOWN)), draw(VALUES))


TOKENS = st.one_of(
    known_option(),
    UNKNOWN.map(lambda token: [token]),
    INPUTS.map(lambda token: [token]),
    st.sampled_from([["-c"], ["-o", "a.o"], ["-x", "c"], ["-MD"], ["-Wp,-MD,a.d"], ["-Xclang", "-v"]]),
)


@pytest.fixture(scope="module")
def sources(tmp_path_factory) -> Path:
    cwd = tmp_path_factory.mktemp("prop")
    for name in ("a.c", "b.cpp", "c.s", "d.S"):
        (cwd / name).write_text("int x;\n")
    return cwd


@settings(max_examples=300, deadline=None)
@given(parts=st.lists(TOKENS, max_size=12), response=st.lists(TOKENS, max_size=4))
def test_random_command_lines_never_crash_and_never_cache_the_unknown(parts, response, sources):
    cwd = sources
    (cwd / "r.rsp").write_text(" ".join(token for part in response for token in part if token and "'" not in token))
    args = [token for part in parts for token in part]

    got = outcome(args, cwd)  # never raises

    assert isinstance(got, (ParsedInvocation, NotCacheable, NotCompilation)), got
    if isinstance(got, ParsedInvocation):
        # What the parser accepted, read again with the table alone (the
        # response file spelled out): no option it does not know, none
        # that refuses.
        expanded = [t for a in args for t in (_response_tokens(cwd, a) if a.startswith("@") else [a])]
        for arg in GNU_OPTIONS.parse(expanded):
            assert not arg.is_unknown, (args, arg.tokens)
            assert arg.spec is None or not arg.spec.kind.refuses, (args, arg.tokens)
        assert got.sources and got.outputs, got


def _response_tokens(cwd: Path, token: str) -> list[str]:
    path = cwd / token[1:]
    return path.read_text().split() if path.is_file() else [token]
