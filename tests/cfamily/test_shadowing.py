"""Where a header could have been found first (`shadow_candidates`) and
the shortest path that must stay absent for each place (`first_missing_each`),
with every existence question asked at once -- the same answers as asking
``os.path.lexists`` one path at a time."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pycache_cfamily.includes import Marker, SearchPath, UnrecordableLookup, first_missing_each, shadow_candidates
from pycache_core.digests import FileDigests


def test_first_missing_each_shortens_to_the_first_missing_ancestor(tmp_path: Path) -> None:
    (tmp_path / "a" / "linux").mkdir(parents=True)
    (tmp_path / "a" / "linux" / "here.h").write_text("")
    a, b = f"{tmp_path}/a", f"{tmp_path}/b"
    pairs = [(a, "linux/here.h"), (a, "linux/gone.h"), (a, "asm/x.h"), (b, "linux/x.h")]
    expected = {
        (a, "linux/here.h"): None,
        (a, "linux/gone.h"): f"{a}/linux/gone.h",
        (a, "asm/x.h"): f"{a}/asm",
        (b, "linux/x.h"): f"{b}/linux",  # below the directory (a missing one is recorded whole elsewhere)
    }
    assert first_missing_each(pairs) == expected
    assert first_missing_each(pairs, FileDigests().existing) == expected


def _search(*directories: str) -> SearchPath:
    return SearchPath(quote=(), bracket=tuple(directories), missing=())


def test_shadow_candidates_name_each_earlier_place(tmp_path: Path) -> None:
    for directory in ("first", "second", "third/linux"):
        (tmp_path / directory).mkdir(parents=True)
    (tmp_path / "third" / "linux" / "types.h").write_text("")
    markers = [Marker(path=f"{tmp_path}/third/linux/types.h", includer=f"{tmp_path}/a.c", system=False)]
    search = _search(f"{tmp_path}/first", f"{tmp_path}/second", f"{tmp_path}/third")
    # the includer's own directory first (a quoted include), then the list
    expected = [tmp_path / "first" / "linux", tmp_path / "linux", tmp_path / "second" / "linux"]
    for existing in (None, FileDigests().existing):
        got = shadow_candidates(markers, search, tmp_path, strict=True, existing=existing)
        assert sorted(got) == expected
    # a directory where the header's name is found, yet was not taken: no
    # "must stay absent" can express that a file there would be
    (tmp_path / "first" / "linux" / "types.h").mkdir(parents=True)
    with pytest.raises(UnrecordableLookup, match="no regular file"):
        shadow_candidates(markers, search, tmp_path, strict=True, existing=FileDigests().existing)
    assert os.path.isdir(tmp_path / "first" / "linux" / "types.h")
