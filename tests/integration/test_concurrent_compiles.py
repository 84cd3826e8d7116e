"""16 compiles at once into one cache directory, identical and different:
every output correct, no corrupt entry (issue 2)."""

from __future__ import annotations

import subprocess
from concurrent.futures import ThreadPoolExecutor

from pycache_core.entry import decode_result


def test_sixteen_concurrent_compiles(pycache_env, tmp_path):
    work = tmp_path / "w"
    work.mkdir()
    for i in range(8):
        (work / f"u{i}.c").write_text(f"int value_{i}(void) {{ return {i * 7}; }}\n")
    (work / "same.c").write_text("int same(int x) { return x * 3 + 1; }\n")
    reference = {}
    for name in [f"u{i}" for i in range(8)] + ["same"]:
        subprocess.run(["gcc", "-O2", "-c", f"{name}.c", "-o", f"{name}.ref.o"], cwd=work, check=True)
        reference[name] = (work / f"{name}.ref.o").read_bytes()

    jobs = [(f"u{i}", f"u{i}.o") for i in range(8)] + [("same", f"same{j}.o") for j in range(8)]

    def compile_one(job):
        source, output = job
        return pycache_env.compile("gcc", "-O2", "-c", f"{source}.c", "-o", output, cwd=work)

    for _round in range(2):  # cold, then warm
        with ThreadPoolExecutor(16) as pool:
            results = list(pool.map(compile_one, jobs))
        assert [r.returncode for r in results] == [0] * 16, [r.stderr for r in results]
        for source, output in jobs:
            assert (work / output).read_bytes() == reference[source], output
            (work / output).unlink()

    totals = pycache_env.totals()
    assert totals["requests"] == 32
    assert totals["hits"] + totals["misses"] == 32
    assert totals["hits"] >= 16  # the whole second round
    assert totals["errors"] == 0
    for path in (pycache_env.cache_dir / "store" / "entries").rglob("*"):
        if path.is_file():
            decode_result(path.read_bytes())
