"""Finding the compiler (`pycache_core.which`): the PATH search that never
finds pycache itself, and `real_path`, the kernel's answer to what
``os.path.realpath`` says."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from pycache_core.which import find_executable, real_path


def executable(path: Path, text: str = "#!/bin/sh\nexit 0\n") -> Path:
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


@pytest.fixture
def bins(tmp_path: Path) -> dict[str, Path]:
    """first/ holds pycache (a file), a link to it named gcc and a hard link
    named cc; second/ holds the real gcc and cc."""
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    pycache = executable(first / "pycache", "#!/bin/sh\necho pycache\n")
    os.symlink("pycache", first / "gcc")
    os.link(pycache, first / "cc")
    return {"pycache": pycache, "first": first, "gcc": executable(second / "gcc"), "cc": executable(second / "cc"),
            "second": second}


def test_the_path_search_skips_pycache_by_link_and_by_hard_link(bins):
    env = {"PATH": f"{bins['first']}{os.pathsep}{bins['second']}"}
    assert find_executable("gcc", env, "/", [str(bins["pycache"])]) == str(bins["gcc"])
    assert find_executable("cc", env, "/", [str(bins["pycache"])]) == str(bins["cc"])  # the same file: pycache too
    assert find_executable("gcc", env, "/", []) == str(bins["first"] / "gcc")  # nothing to skip


def test_a_path_to_pycache_itself_finds_nothing(bins):
    assert find_executable(str(bins["first"] / "gcc"), {}, "/", [str(bins["pycache"])]) is None
    assert find_executable("first/cc", {}, str(bins["first"].parent), [str(bins["pycache"])]) is None
    assert find_executable("second/gcc", {}, str(bins["first"].parent), [str(bins["pycache"])]) == str(bins["gcc"].parent.parent / "second/gcc")


def test_only_runnable_regular_files_are_found(tmp_path):
    (tmp_path / "dir" / "gcc").mkdir(parents=True)
    (tmp_path / "plain").mkdir()
    (tmp_path / "plain" / "gcc").write_text("not executable\n")
    runnable = executable(tmp_path / "gcc")
    env = {"PATH": os.pathsep.join([str(tmp_path / "dir"), str(tmp_path / "plain"), "", str(tmp_path / "missing")])}
    assert find_executable("gcc", env, str(tmp_path), []) == os.path.join(str(tmp_path), ".", "gcc")  # "" is the cwd
    assert find_executable(str(runnable), {}, "/", ["/nonexistent/pycache"]) == str(runnable)
    assert find_executable("gcc", {"PATH": str(tmp_path / "missing")}, "/", []) is None
    assert find_executable("a\0b", {}, "/", []) is None


def test_real_path_agrees_with_realpath(tmp_path):
    target = executable(tmp_path / "clang-14")
    (tmp_path / "bin").mkdir()
    os.symlink(target, tmp_path / "bin" / "clang")
    os.symlink("clang", tmp_path / "bin" / "clang-cl")  # two links, the second relative
    os.symlink(tmp_path / "missing", tmp_path / "dangling")
    os.symlink(tmp_path / "bin", tmp_path / "bin-link")
    for path in [tmp_path / "bin" / "clang-cl", tmp_path / "bin-link" / "clang", target, tmp_path / "dangling",
                 tmp_path / "nothing" / "here", tmp_path / "bin" / ".." / "clang-14", Path("/dev/stdin")]:
        assert real_path(str(path)) == os.path.realpath(path), path
    assert real_path(str(tmp_path / "bin" / "clang-cl")) == str(target)
