"""The digest memo and the memoised checks built on it (direct mode asks
"do these files still have these digests, are these paths still absent?"
on every hit): an answer kept as proven must stop holding the moment any
file or directory it was answered from changes."""

from __future__ import annotations

import os
import time

import pytest

from pycache_core import digests as digests_module
from pycache_core.digests import FileDigests


@pytest.fixture
def no_racy_window(monkeypatch):
    """Files the test just wrote count as settled (the default window of
    two seconds would make every check here racy)."""
    monkeypatch.setattr(digests_module, "RACY_WINDOW", 0.0)


def check(digests: FileDigests, files: dict[str, str], absent: list[str]) -> bool:
    """What direct mode asks: no absent path exists and every file has its digest."""
    if digests.any_exists(absent):
        return False
    return all(digests.digest_or_none(path) == digest for path, digest in files.items())


def prove(digests: FileDigests, key, subject, files: dict[str, str], absent: list[str]) -> bool:
    with digests.witness() as witness:
        held = check(digests, files, absent)
    if held:
        digests.prove(key, subject, witness)
    return held


def settle():
    """Let the kernel's coarse file-time clock tick (edits in one tick keep mtime)."""
    time.sleep(0.02)


@pytest.fixture
def tree(tmp_path):
    inc = tmp_path / "inc"
    inc.mkdir()
    (inc / "a.h").write_text("int a;\n")
    (inc / "b.h").write_text("int b;\n")
    many = tmp_path / "many"  # a directory asked about for several names: listed
    many.mkdir()
    (many / "keep.h").write_text("")
    absent = [str(many / n) for n in ("x.h", "y.h", "z.h")] + [str(inc / "shadow.h"), str(tmp_path / "nodir" / "n.h")]
    digests = FileDigests()
    files = {str(inc / n): digests.digest(inc / n) for n in ("a.h", "b.h")}
    return tmp_path, digests, files, absent


def test_a_proven_check_holds_until_a_file_changes(no_racy_window, tree):
    tmp_path, digests, files, absent = tree
    subject = object()
    assert prove(digests, "k", subject, files, absent)
    assert digests.proven("k", subject)
    assert not digests.proven("k", object())  # another subject under the same key proves nothing
    settle()
    header = tmp_path / "inc" / "a.h"
    before = header.stat()
    header.write_text("int A;\n")  # same size
    os.utime(header, ns=(before.st_atime_ns, before.st_mtime_ns))  # and the old mtime: only ctime tells
    assert not digests.proven("k", subject)
    assert not check(digests, files, absent)


@pytest.mark.parametrize("where", ["listed directory", "looked up by name", "missing directory"])
def test_a_proven_check_stops_holding_when_an_absent_path_appears(no_racy_window, tree, where):
    tmp_path, digests, files, absent = tree
    subject = object()
    assert prove(digests, "k", subject, files, absent)
    settle()
    if where == "listed directory":
        (tmp_path / "many" / "y.h").write_text("")
    elif where == "looked up by name":
        (tmp_path / "inc" / "shadow.h").symlink_to(tmp_path / "nowhere")  # a dangling link counts, like lexists
    else:
        (tmp_path / "nodir").mkdir()
        (tmp_path / "nodir" / "n.h").write_text("")
    assert not digests.proven("k", subject)
    assert not check(digests, files, absent)


def test_a_proven_check_stops_holding_when_a_file_goes(no_racy_window, tree):
    tmp_path, digests, files, absent = tree
    subject = object()
    assert prove(digests, "k", subject, files, absent)
    (tmp_path / "inc" / "b.h").unlink()
    assert not digests.proven("k", subject)


def test_a_directory_written_to_is_looked_up_by_name_and_proofs_survive_its_writes(no_racy_window, tree):
    """The build directory changes with every object written; a check that
    needs names in it must not depend on its listing."""
    tmp_path, digests, files, absent = tree
    build = tmp_path / "many"
    subject = object()
    assert prove(digests, "k", subject, files, absent)
    settle()
    (build / "out.o").write_bytes(b"\0")  # the directory changed: the proof may lapse...
    if not digests.proven("k", subject):
        assert prove(digests, "k", subject, files, absent)  # ...and be made again
    assert digests.proven("k", subject)


def test_a_racy_check_proves_nothing(tree):
    """Files written within the racy window may change within one timestamp
    granule: nothing is memoised about them."""
    _tmp_path, digests, files, absent = tree
    subject = object()
    assert prove(digests, "k", subject, files, absent)
    assert not digests.proven("k", subject)


@pytest.mark.parametrize("settled", [True, False], ids=["settled listings", "racy directories"])
def test_existing_answers_as_lexists_does(request, tmp_path, settled):
    """`FileDigests.existing` (a miss's shadowing checks) says of each path
    what ``os.path.lexists`` says: files, directories, dangling links,
    names in missing directories, relative paths, and the names no listing
    holds -- whether it reads listings (settled directories) or not."""
    if settled:
        request.getfixturevalue("no_racy_window")
    for name in ("a.h", "b.h", "c.h", "sub/d.h"):
        (tmp_path / "inc" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "inc" / name).write_text("")
    (tmp_path / "inc" / "dangling.h").symlink_to(tmp_path / "nowhere.h")
    (tmp_path / "inc" / "dir.h").mkdir()
    inc = f"{tmp_path}/inc"
    names = ["a.h", "b.h", "x.h", "y.h", "sub", "sub/d.h", "sub/e.h", "dangling.h", "dir.h", ".", "..", "", "c.h"]
    paths = [f"{inc}/{n}" for n in names] + [f"{tmp_path}/nodir/a.h", f"{tmp_path}/nodir/b.h", f"{tmp_path}/nodir/c.h", "/", "/tmp"]
    digests = FileDigests()
    expected = {p for p in paths if os.path.lexists(p)}
    assert digests.existing(paths) == expected
    # a name added later is seen: adding it changes the directory's times
    settle()
    (tmp_path / "inc" / "x.h").write_text("")
    assert digests.existing(paths) == expected | {f"{inc}/x.h"}
    # relative paths, answered against the working directory
    old = os.getcwd()
    os.chdir(tmp_path / "inc")
    try:
        assert digests.existing(["a.h", "b.h", "q.h", "c.h", "sub/d.h"]) == {"a.h", "b.h", "c.h", "sub/d.h"}
    finally:
        os.chdir(old)


def test_a_file_written_while_it_is_read_is_neither_vouched_for_nor_memoised(no_racy_window, tmp_path, monkeypatch):
    path = tmp_path / "h.h"
    path.write_text("#define H 1\n")
    os.utime(path, (946684800, 946684800))
    real_hash = digests_module.hash_file

    def hash_then_written(p):
        digest = real_hash(p)
        path.write_text("#define H 2\n")  # an editor's save lands during the read
        return digest

    digests = FileDigests()
    monkeypatch.setattr(digests_module, "hash_file", hash_then_written)
    first, signature = digests.signed_digest(path)
    assert signature is None  # the content read may not be the one stat saw
    monkeypatch.setattr(digests_module, "hash_file", real_hash)
    assert digests.digest(path) == real_hash(path) != first  # not served from a memo of the old signature
