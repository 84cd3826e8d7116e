"""``pycache cache trim`` really trims (issue 13 E): run through the CLI on
a cache of three compiles with a known order of last use, it deletes the
least recently used entries and manifests first, keeps the most recent, and
what it kept still hits.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from pycache_core.entry import decode_manifest, decode_result

from .test_interrupted import toy  # noqa: F401 (fixture: the toy compiler)


def test_cache_trim_removes_the_least_recently_used_first(pycache_env, toy):  # noqa: F811
    names = ["f0", "f1", "f2"]
    for name in names:
        (toy / f"{name}.toy").write_text(f"{name}\n" * 300)
    for name in names:
        done = pycache_env.compile("toycc", "-c", f"{name}.toy", "-o", f"{name}.out", cwd=toy)
        assert done.returncode == 0, done.stderr
    pycache_env.stop_server()

    # Which files belong to which compile: each entry holds its output, each
    # manifest names its entry.
    store = pycache_env.cache_dir / "store"
    files: dict[str, list[Path]] = {name: [] for name in names}
    owner_of_entry = {}
    for path in (store / "entries").rglob("*"):
        if path.is_file():
            name = decode_result(path.read_bytes()).artifacts[0].data.decode().split("\n", 1)[0]
            files[name].append(path)
            owner_of_entry[str(path.relative_to(store))] = name
    for path in (store / "manifests").rglob("*"):
        if path.is_file():
            [record] = decode_manifest(path.read_bytes())
            files[owner_of_entry[record.result_key]].append(path)
    assert all(len(paths) == 2 for paths in files.values()), files

    # Last used: f1 longest ago, then f2, then f0 (a hit touches its files).
    now = time.time()
    for age, name in ((3000, "f1"), (2000, "f2"), (1000, "f0")):
        for path in files[name]:
            os.utime(path, (now - age, now - age))
    keep = sum(path.stat().st_size for path in files["f0"])

    trimmed = pycache_env.run(["cache", "trim", "--size", f"{keep}B"])

    assert trimmed.returncode == 0, trimmed.stderr
    assert trimmed.stdout.decode().startswith("removed 4 files"), trimmed.stdout
    assert all(not path.exists() for name in ("f1", "f2") for path in files[name])
    assert all(path.exists() for path in files["f0"])
    size = pycache_env.run(["cache", "size"])
    assert " in 2 files " in size.stdout.decode(), size.stdout

    for name in names:
        (toy / f"{name}.out").unlink()
        done = pycache_env.compile("toycc", "-c", f"{name}.toy", "-o", f"{name}.out", cwd=toy)
        assert done.returncode == 0, done.stderr
        assert (toy / f"{name}.out").read_text() == f"{name}\n" * 300
    totals = pycache_env.totals()
    assert (totals["misses"], totals["hits"]) == (3 + 2, 1)  # f0 hit; f1 and f2 compiled again
