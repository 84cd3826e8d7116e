"""Shared caches end to end: real gcc builds through `pycache`, its server and
real shared tiers (SeaweedFS S3, redis-server), on two "runners" with
separate cache directories; and every storage fault a CI farm meets. Every
build must succeed with correct objects; the statistics must show the fault
with the service's own words."""

from __future__ import annotations

import subprocess
import uuid
from pathlib import Path

import pytest

from pycache_core.testing import PycacheEnv

from .conftest import _AWS_VARIABLES, READER, WRITER, free_port, serve_failing_s3, serve_silence

pytestmark = pytest.mark.slow

SOURCES = {
    "util.h": "#define SCALE 3\nint twice(int x);\nint thrice(int x);\n",
    "twice.c": '#include "util.h"\nint twice(int x) { return 2 * x; }\n',
    "thrice.c": '#include "util.h"\nint thrice(int x) { return SCALE * x; }\n',
    "sum.c": '#include "util.h"\nint sum(int n) { int s = 0; for (int i = 0; i < n; i++) s += twice(i); return s; }\n',
    "table.c": '#include "util.h"\nconst int table[] = {1, 2, 3, 4, 5, 6, 7, 8};\nint pick(int i) { return table[i % 8]; }\n',
    "main.c": '#include <stdio.h>\n#include "util.h"\nint main(void) { printf("%d\\n", twice(thrice(7))); return 0; }\n',
}
UNITS = sorted(name for name in SOURCES if name.endswith(".c"))


@pytest.fixture
def project(tmp_path) -> Path:
    """A small C project, with the objects an uncached gcc makes of it."""
    root = tmp_path / "project"
    root.mkdir()
    for name, text in SOURCES.items():
        (root / name).write_text(text)
    reference = tmp_path / "reference"
    reference.mkdir()
    for unit in UNITS:
        subprocess.run(["gcc", "-O2", "-c", unit, "-o", str(reference / unit.replace(".c", ".o"))], cwd=root, check=True)
    return root


def runner(base: PycacheEnv, name: str, **settings: str) -> PycacheEnv:
    """Another CI runner: its own empty cache directory and server, the same
    shared tiers; boto3 sees only the variables given here."""
    root = base.root / name
    runtime = root / "rt"
    runtime.mkdir(parents=True, mode=0o700)
    env = {k: v for k, v in base.env.items() if k not in _AWS_VARIABLES}
    env.update(
        PYCACHE_DIR=str(root / "cache"),
        PYCACHE_RUNTIME_DIR=str(runtime),
        AWS_CONFIG_FILE=str(root / "aws-config-absent"),
        AWS_SHARED_CREDENTIALS_FILE=str(root / "aws-credentials-absent"),
        AWS_EC2_METADATA_DISABLED="true",
        AWS_DEFAULT_REGION="us-east-1",
        PYCACHE_S3_CONNECT_TIMEOUT="1",
        PYCACHE_S3_READ_TIMEOUT="2",
        PYCACHE_S3_MAX_ATTEMPTS="2",
    )
    env.update(settings)
    return PycacheEnv(root=root, env=env)


def s3_settings(seaweed, bucket: str, keys=WRITER, **more: str) -> dict[str, str]:
    return {
        "PYCACHE_BUCKET": bucket,
        "PYCACHE_S3_ENDPOINT": seaweed.endpoint,
        "AWS_ACCESS_KEY_ID": keys[0],
        "AWS_SECRET_ACCESS_KEY": keys[1],
        **more,
    }


def build(penv: PycacheEnv, project: Path, units=UNITS) -> None:
    """Compile the units through pycache; each must succeed and match gcc's own object."""
    reference = project.parent / "reference"
    for unit in units:
        obj = project / unit.replace(".c", ".o")
        obj.unlink(missing_ok=True)
        done = penv.compile("gcc", "-O2", "-c", unit, "-o", obj.name, cwd=project)
        assert done.returncode == 0, done.stderr.decode()
        assert obj.read_bytes() == (reference / obj.name).read_bytes(), f"{obj.name} differs from gcc's own"


def finish(penv: PycacheEnv) -> dict:
    """Stop the runner's server (flushing its uploads) and read its statistics."""
    penv.stop_server()
    return penv.stats()


@pytest.fixture
def runners():
    started: list[PycacheEnv] = []

    def make(base: PycacheEnv, name: str, **settings: str) -> PycacheEnv:
        penv = runner(base, name, **settings)
        started.append(penv)
        return penv

    yield make
    for penv in started:
        penv.stop_server()


def test_runner_b_gets_all_hits_from_runner_a_through_s3(pycache_env, runners, project, seaweed):
    bucket = seaweed.new_bucket()
    a = runners(pycache_env, "runner-a", **s3_settings(seaweed, bucket, PYCACHE_S3_KEY_PREFIX="ci"))
    build(a, project)
    stats_a = finish(a)
    assert stats_a["totals"]["misses"] == len(UNITS) and stats_a["totals"]["hits"] == 0
    s3_a = stats_a["tiers"]["s3"]
    assert s3_a["uploads_done"] >= len(UNITS) and s3_a.get("errors", 0) == 0
    stored = seaweed.keys(bucket)
    assert sum(k.startswith("ci/entries/") for k in stored) == len(UNITS)
    assert any(k.startswith("ci/manifests/") for k in stored)  # direct-mode manifests are shared too

    b = runners(pycache_env, "runner-b", **s3_settings(seaweed, bucket, PYCACHE_S3_KEY_PREFIX="ci"))
    assert not (b.cache_dir / "store").exists()
    build(b, project)
    stats_b = finish(b)
    assert stats_b["totals"]["hits"] == len(UNITS) and stats_b["totals"]["misses"] == 0
    assert stats_b["tiers"]["s3"]["hits"] >= len(UNITS)
    # the S3 hits were written back to runner B's disk: a rebuild stays local
    build(b, project)
    stats_b = finish(b)
    assert stats_b["totals"]["hits"] == 2 * len(UNITS)
    assert stats_b["tiers"]["local"]["hits"] >= len(UNITS)


def test_redis_in_front_of_s3(pycache_env, runners, project, seaweed, redis_server):
    bucket = seaweed.new_bucket()
    prefix = f"e2e-{uuid.uuid4().hex[:8]}/"
    shared = {**s3_settings(seaweed, bucket), "PYCACHE_REDIS_URL": redis_server.url, "PYCACHE_REDIS_KEY_PREFIX": prefix}
    a = runners(pycache_env, "runner-a", **shared)
    build(a, project)
    finish(a)
    redis_keys = redis_server.client().keys(f"{prefix}entries/*")
    assert len(redis_keys) == len(UNITS)
    b = runners(pycache_env, "runner-b", **shared)
    build(b, project)
    stats = finish(b)
    assert stats["totals"]["hits"] == len(UNITS)
    assert stats["tiers"]["redis"]["hits"] >= len(UNITS)
    assert stats["tiers"]["s3"].get("hits", 0) == 0  # Redis answered first


def test_read_only_runner_writes_nothing(pycache_env, runners, project, seaweed):
    bucket = seaweed.new_bucket()
    pr = runners(pycache_env, "pull-request", **s3_settings(seaweed, bucket, PYCACHE_READ_ONLY="true"))
    build(pr, project)
    stats = finish(pr)
    assert stats["totals"]["misses"] == len(UNITS)
    assert seaweed.keys(bucket) == []
    assert stats["tiers"]["s3"].get("uploads_queued", 0) == 0 and stats["tiers"]["local"]["writes"] >= len(UNITS)


def test_denied_uploads_are_readable_in_stats(pycache_env, runners, project, seaweed):
    bucket = seaweed.new_bucket()
    penv = runners(pycache_env, "runner", **s3_settings(seaweed, bucket, keys=READER))
    build(penv, project)
    stats = finish(penv)
    s3 = stats["tiers"]["s3"]
    assert s3["uploads_failed"] >= len(UNITS) and s3["errors"] >= len(UNITS)
    assert "AccessDenied (HTTP 403)" in s3["last_error"] and "request id" in s3["last_error"]
    assert seaweed.keys(bucket) == []
    # also among the errors `pycache stats` lists, by tier
    assert "AccessDenied" in stats["errors"]["storage:s3"]["last"]
    shown = penv.run(["stats"]).stdout.decode()
    assert "AccessDenied" in shown
    assert READER[1] not in shown


def test_s3_down(pycache_env, runners, project):
    penv = runners(pycache_env, "runner", PYCACHE_BUCKET="cache", PYCACHE_S3_ENDPOINT=f"http://127.0.0.1:{free_port()}",
                   AWS_ACCESS_KEY_ID=WRITER[0], AWS_SECRET_ACCESS_KEY=WRITER[1])  # fmt: skip
    build(penv, project)
    stats = finish(penv)
    s3 = stats["tiers"]["s3"]
    assert s3["errors"] >= 1 and "EndpointConnectionError" in s3["last_error"]
    assert stats["totals"]["misses"] == len(UNITS)


def test_s3_answering_500(pycache_env, runners, project):
    with serve_failing_s3() as (endpoint, seen):
        penv = runners(pycache_env, "runner", PYCACHE_BUCKET="cache", PYCACHE_S3_ENDPOINT=endpoint,
                       AWS_ACCESS_KEY_ID=WRITER[0], AWS_SECRET_ACCESS_KEY=WRITER[1])  # fmt: skip
        build(penv, project)
        stats = finish(penv)
    assert seen  # the server was asked
    s3 = stats["tiers"]["s3"]
    assert "InternalError (HTTP 500)" in s3["last_error"] and "request id FAIL" in s3["last_error"]
    assert stats["totals"]["misses"] == len(UNITS)


def test_hung_s3(pycache_env, runners, project):
    with serve_silence() as port:
        penv = runners(pycache_env, "runner", PYCACHE_BUCKET="cache", PYCACHE_S3_ENDPOINT=f"http://127.0.0.1:{port}",
                       PYCACHE_S3_MAX_ATTEMPTS="1", AWS_ACCESS_KEY_ID=WRITER[0], AWS_SECRET_ACCESS_KEY=WRITER[1])  # fmt: skip
        build(penv, project)
        stats = finish(penv)
    # One timeout, then the tier is skipped for a while: not one per compile
    # (counted, not timed).
    s3 = stats["tiers"]["s3"]
    assert "ReadTimeoutError" in s3["last_error"] and s3.get("suspensions", 0) >= 1
    assert s3.get("lookups_skipped", 0) >= 1


def test_redis_dying_mid_build(pycache_env, runners, project, redis_factory):
    server = redis_factory()
    penv = runners(pycache_env, "runner", PYCACHE_REDIS_URL=server.url)
    build(penv, project, UNITS[:2])
    server.kill()
    build(penv, project, UNITS[2:])
    stats = finish(penv)
    redis = stats["tiers"]["redis"]
    assert redis.get("uploads_done", 0) >= 2
    assert "ConnectionError" in redis["last_error"] and f"127.0.0.1:{server.port}" in redis["last_error"]
    assert stats["totals"]["misses"] == len(UNITS)
    # a rebuild hits the local disk although Redis is still gone
    build(penv, project)
    assert finish(penv)["totals"]["hits"] == len(UNITS)


def test_no_server_mode_uploads_before_exit(pycache_env, runners, project, seaweed):
    bucket = seaweed.new_bucket()
    penv = runners(pycache_env, "runner", PYCACHE_NO_SERVER="1", **s3_settings(seaweed, bucket))
    build(penv, project, UNITS[:2])  # each call loads everything: keep it short
    assert sum(k.startswith("entries/") for k in seaweed.keys(bucket)) == 2
