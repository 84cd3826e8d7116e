"""The core's base-directory service (issue 13 C): one call's base
directories, how a path or a text is made portable, and how it is put back
for another checkout -- exactly, token by token, or not at all."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

import pytest

from pycache_core.api import LinePaths, MakeDepfile
from pycache_core.entry import ResultEntry, StoredArtifact, decode_result, encode_result
from pycache_core.paths import BaseDirectories
from pycache_core.relocation import (
    names_base,
    parse_make,
    portable_lines,
    portable_make,
    render_make,
    restore_lines,
    restore_make,
)


def bases(*dirs: str) -> BaseDirectories:
    return BaseDirectories((str(i), d) for i, d in enumerate(dirs, start=1))


# --- paths ---------------------------------------------------------------------------


def test_each_base_directory_has_its_own_placeholder() -> None:
    b = BaseDirectories.for_call({"PYCACHE_BASEDIRS": "/ck/src:/ck/deps"}, "/ck/src", {"cwd": "/ck/src", "home": "/home/u"})
    # /ck/src given twice: it keeps its first name.
    assert b.entries == (("1", "/ck/src"), ("2", "/ck/deps"), ("home", "/home/u"))
    assert b.portable_path("/ck/src/a.c") == "<BASEDIR:1>/a.c"
    assert b.portable_path("/ck/deps/include/z.h") == "<BASEDIR:2>/include/z.h"
    assert b.portable_path("/ck/src") == "<BASEDIR:1>"
    other = BaseDirectories.for_call({"PYCACHE_BASEDIRS": "/two/src:/two/deps"}, "/two/src")
    assert other.restore_path("<BASEDIR:2>/include/z.h") == "/two/deps/include/z.h"
    assert other.restore_path("<BASEDIR:home>/x") is None  # a base this call does not have


def test_whole_path_components_and_the_longest_base() -> None:
    b = bases("/base", "/base/vendor")
    assert b.portable_path("/base2/x.h") == "/base2/x.h"
    assert b.portable_path("/base/vendor/x.h") == "<BASEDIR:2>/x.h"
    assert b.portable_path("/base/x.h") == "<BASEDIR:1>/x.h"
    assert b.portable_path("relative/x.h") == "relative/x.h"


def test_relative_entries_come_from_the_call_and_root_is_never_a_base() -> None:
    b = BaseDirectories.for_call({"PYCACHE_BASEDIRS": "src:/:../deps/"}, "/work/ck")
    assert b.entries == (("1", "/work/ck/src"), ("3", "/work/deps"))


def test_a_real_path_never_reads_as_a_portable_one() -> None:
    b = bases("/base")
    for real in ("<BASEDIR:1>/x", "<<BASEDIR:1>/x"):
        portable = b.portable_path(real)
        assert portable != real and portable != b.portable_path("/base/x")
        assert b.restore_path(portable) == real


# --- texts with paths at known places ---------------------------------------------------

LOCATIONS = LinePaths(patterns=(re.compile(rb"^(?P<path>[^:\n]+):\d", re.M),))


def test_only_declared_positions_are_relocated() -> None:
    text = b"/base/a.c:1:2: warning: x\n/base2/b.c:3: note\n/base/a.c:4: at the end /base\n"
    assert portable_lines(text, LOCATIONS, bases("/base")) is None  # "/base" in a message: not relocatable
    text = b"/base/a.c:1:2: warning: x\n/base2/b.c:3: note\n"
    stored = portable_lines(text, LOCATIONS, bases("/base"))
    assert stored == b"<BASEDIR:1>/a.c:1:2: warning: x\n/base2/b.c:3: note\n"
    assert restore_lines(stored, bases("/elsewhere/ck")) == b"/elsewhere/ck/a.c:1:2: warning: x\n/base2/b.c:3: note\n"
    assert restore_lines(b"<BASEDIR:7>/a.c:1", bases("/x")) is None


def test_texts_that_cannot_be_told_apart_are_not_relocated() -> None:
    assert portable_lines(b"<BASEDIR:1>/a.c:1: x\n", LOCATIONS, bases("/base")) is None
    assert portable_lines(b"/ba\"se/a.c:1: x\n", LOCATIONS, bases('/ba"se')) is None
    assert names_base(b"in /base2 and /base.old", ["/base"]) is None
    assert names_base(b"in /base: yes", ["/base"]) == "/base"


# --- make syntax ---------------------------------------------------------------------


class Wrap40:
    """A layout for the tests: wraps at 40 columns, ' \\' + newline + two spaces."""

    name = "wrap40"

    def escape(self, path: str) -> str:
        return path.replace(" ", "\\ ")

    def target(self, given: str) -> str:
        return self.escape(given)

    def rule(self, targets: Sequence[str], prerequisites: Sequence[str]) -> str:
        out, column = " ".join(targets) + ":", len(" ".join(targets)) + 1
        for name in prerequisites:
            if column + len(name) + 1 > 40:
                out += " \\\n "
                column = 1
            out += " " + name
            column += len(name) + 1
        return out


WRAP = Wrap40()


def depfile(layout, bases_: BaseDirectories, obj: str, headers: list[str]) -> str:
    rule = WRAP.rule([layout.target(obj)], [layout.escape(h) for h in headers])
    return rule + "\n\n# a comment\n" + "".join(f"{layout.escape(h)}:\n" for h in headers)


def test_make_files_are_parsed_and_rendered_exactly() -> None:
    text = depfile(WRAP, bases("/b"), "out/a.o", ["/b/src/a.c", "/b/my dir/x.h", "/b2/y.h", "rel/z.h"])
    parsed = parse_make(text)
    assert parsed is not None and render_make(*parsed, WRAP) == text
    lines, _ = parsed
    assert lines[0].prerequisites == ["/b/src/a.c", "/b/my\\ dir/x.h", "/b2/y.h", "rel/z.h"]
    assert parse_make("not a rule\n") is None


@pytest.mark.parametrize("second", ["/other", "/a/much/longer/second/checkout/directory"])
def test_a_dependency_file_follows_the_checkout_and_the_output(second: str) -> None:
    spec = MakeDepfile(layouts=(WRAP,), outputs={"object": "out/a.o"})
    headers = ["{b}/src/a.c", "{b}/src/inc/with space.h", "{d}/z.h", "/usr/include/stdio.h", "{b}2/sibling.h"]
    first_bases = bases("/ck", "/deps")
    first = depfile(WRAP, first_bases, "out/a.o", [h.format(b="/ck", d="/deps") for h in headers])
    stored = portable_make(first.encode(), spec, first_bases)
    assert stored is not None
    portable = b"".join(stored.splitlines(keepends=True)[:2])
    assert b"/ck/" not in portable and b"/deps/" not in portable and b"/ck2/sibling.h" in portable
    # Another checkout, other directory lengths, another object: what its compiler would write.
    other_spec = MakeDepfile(layouts=(WRAP,), outputs={"object": "obj/b.o"})
    other_bases = bases(second, second + "-deps")
    expected = depfile(WRAP, other_bases, "obj/b.o", [h.format(b=second, d=second + "-deps").replace(second + "2", "/ck2") for h in headers])
    assert restore_make(stored, other_spec, other_bases) == expected.encode()


def test_a_dependency_file_that_cannot_be_reproduced_is_not_relocated() -> None:
    spec = MakeDepfile(layouts=(WRAP,), outputs={"object": "a.o"})
    assert portable_make(b"a.o:   x.c\n", spec, bases("/b")) is None  # another layout wrote it
    assert portable_make(b"other.o: x.c\n", spec, bases("/b")) is None  # the output is not where it was said
    assert portable_make(b"a.o: x.c a.o\n", spec, bases("/b")) is None  # the output read as an input
    assert portable_make(b"a.o: x.c\n# built in /b\n", spec, bases("/b")) is None
    stored = portable_make(b"a.o: x.c\n", spec, bases("/b"))
    assert json.loads(stored.splitlines()[0])["layouts"] == ["wrap40"]
    assert restore_make(stored, spec, bases("/b")) == b"a.o: x.c\n"  # the same checkout: the file as it was
    assert restore_make(stored, MakeDepfile(layouts=(), outputs={"object": "a.o"}), bases("/b")) is None


# --- entries ---------------------------------------------------------------------------


def test_bound_entries_and_text_kinds_survive_storage() -> None:
    entry = ResultEntry(
        family="f", exit_code=0, stdout=b"", stderr=b"", compile_seconds=0.1,
        artifacts=(StoredArtifact(role="depfile", data=b"{}", relocatable=True, text="make"),),
        relocated=True, bound=(("1", "/ck"), ("cwd", "/ck/src")),
    )
    again = decode_result(encode_result(entry))
    assert again.bound == entry.bound and again.artifacts == entry.artifacts
