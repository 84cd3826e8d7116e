"""Shared caches on OpenDAL tiers end to end: real gcc builds through
`pycache`, its server and each real service, on two runners with separate
cache directories; and the faults a farm meets -- a service stopped mid-build,
answering 500s, hanging, refusing credentials. Every build succeeds with
gcc's own objects; `pycache stats` and `pycache doctor` name the cause."""

from __future__ import annotations

import io
import time

import pytest
from rich.console import Console

from pycache_core.config import Config
from pycache_core.doctor import run_doctor
from pycache_core.plugins import build_host

from ..conftest import READER, serve_failing_s3, serve_silence
from ..test_shared_build import UNITS, build, finish, project, runners  # noqa: F401 (fixtures)
from .conftest import KINDS, Service, unique_prefix, webdav_auth_options

pytestmark = pytest.mark.slow

FEW = UNITS[:3]


def doctor(penv) -> tuple[int, str]:
    """`pycache doctor` in this process, with the runner's configuration."""
    out = io.StringIO()
    status = run_doctor(Config(dict(penv.env)), build_host(), Console(file=out, width=400, color_system=None))
    return status, out.getvalue()


def bounded(**more: str) -> dict[str, str]:
    """Short bounds, so a failing service costs the test little."""
    return {"timeout": "1", "io_timeout": "2", "retries": "1", **more}


@pytest.mark.parametrize("service", KINDS, indirect=True)
def test_runner_b_gets_every_hit_from_runner_a(pycache_env, runners, project, service):
    shared = service.settings(key_prefix=unique_prefix())
    a = runners(pycache_env, "runner-a", **shared)
    build(a, project)
    stats_a = finish(a)
    assert stats_a["totals"]["misses"] == len(UNITS) and stats_a["totals"]["hits"] == 0
    tier_a = stats_a["tiers"]["opendal"]
    assert tier_a["uploads_done"] >= len(UNITS) and tier_a.get("errors", 0) == 0, tier_a

    b = runners(pycache_env, "runner-b", **shared)
    assert not (b.cache_dir / "store").exists()
    build(b, project)
    stats_b = finish(b)
    assert stats_b["totals"]["hits"] == len(UNITS) and stats_b["totals"]["misses"] == 0
    assert stats_b["tiers"]["opendal"]["hits"] >= len(UNITS)
    assert stats_b["tiers"]["local"]["write_backs_done"] >= len(UNITS)  # the next rebuild stays local


def test_a_fast_tier_in_front_is_backfilled_from_a_slow_one(pycache_env, runners, project, start_service, opendal_servers, tmp_path_factory):
    from .conftest import start_webdav

    memcached = start_service("memcached")
    if "webdav" not in opendal_servers:
        opendal_servers["webdav"] = start_webdav(tmp_path_factory.mktemp("webdav"))
    dav = opendal_servers["webdav"]
    shared = {**memcached.settings("fast", tier="5"), **dav.settings("dav", key_prefix=unique_prefix())}
    a = runners(pycache_env, "runner-a", **shared)
    build(a, project)
    stats = finish(a)
    assert stats["tiers"]["opendal.fast"]["uploads_done"] >= len(UNITS)
    assert stats["tiers"]["opendal.dav"]["uploads_done"] >= len(UNITS)

    b = runners(pycache_env, "runner-b", **shared)
    build(b, project)
    stats = finish(b)
    assert stats["totals"]["hits"] == len(UNITS)
    assert stats["tiers"]["opendal.fast"]["hits"] >= len(UNITS)  # tier 5 answered first
    assert stats["tiers"]["opendal.dav"].get("hits", 0) == 0

    memcached.kill()  # the fast tier comes back empty
    memcached.restart()
    c = runners(pycache_env, "runner-c", **shared)
    build(c, project)
    stats = finish(c)
    assert stats["totals"]["hits"] == len(UNITS)
    assert stats["tiers"]["opendal.dav"]["hits"] >= len(UNITS)
    assert stats["tiers"]["opendal.fast"]["write_backs_done"] >= len(UNITS)  # backfilled


@pytest.mark.parametrize("kind", KINDS)
def test_a_service_stopped_mid_build(pycache_env, runners, project, start_service, kind):
    server = start_service(kind)
    penv = runners(pycache_env, "runner", **server.settings(**bounded()))
    build(penv, project, FEW[:1])
    server.kill()
    build(penv, project, FEW[1:])
    stats = finish(penv)
    assert stats["totals"]["misses"] == len(FEW)
    tier = stats["tiers"]["opendal"]
    assert tier["errors"] >= 1 and tier.get("suspensions", 0) >= 1, tier
    assert "Connection refused" in tier["last_error"] and f"127.0.0.1:{server.port or ''}" in tier["last_error"]
    assert "Connection refused" in " ".join(penv.run(["stats"]).stdout.decode().split())
    status, text = doctor(penv)
    assert status == 1 and "storage opendal (tier 30, shared)" in text
    assert "put probe" in text and "Connection refused" in text and "cannot be reached" in text
    build(penv, project, FEW)  # the local disk still serves every hit
    assert finish(penv)["totals"]["hits"] == len(FEW)


@pytest.mark.parametrize("kind", ["azblob", "gcs"])
def test_a_service_answering_500s(pycache_env, runners, project, kind):
    from .test_backend import failing

    with serve_failing_s3() as (endpoint, seen):
        penv = runners(pycache_env, "runner", **failing(kind, endpoint).settings(**bounded()))
        build(penv, project, FEW)
        stats = finish(penv)
        status, text = doctor(penv)
    assert seen
    tier = stats["tiers"]["opendal"]
    assert "InternalError (HTTP 500)" in tier["last_error"] and "request id FAIL" in tier["last_error"]
    # a failing service is suspended like an unreachable one: not one round of retries per compile
    assert tier.get("suspensions", 0) >= 1 and tier.get("lookups_skipped", 0) >= 1, tier
    assert stats["totals"]["misses"] == len(FEW)
    assert status == 1 and "failed on its side (HTTP 500)" in text


@pytest.mark.parametrize("kind", ["webdav", "memcached"])
def test_a_hung_service(pycache_env, runners, project, kind):
    from .test_backend import failing

    with serve_silence() as port:
        endpoint = f"tcp://127.0.0.1:{port}" if kind == "memcached" else f"http://127.0.0.1:{port}"
        penv = runners(pycache_env, "runner", **failing(kind, endpoint).settings(**bounded(retries="0")))
        started = time.monotonic()
        build(penv, project, FEW)
        stats = finish(penv)
        elapsed = time.monotonic() - started
    assert elapsed < 30  # one timeout, then the tier is skipped: not one per compile
    tier = stats["tiers"]["opendal"]
    assert "timeout reached" in tier["last_error"] and tier.get("suspensions", 0) >= 1, tier
    assert tier.get("lookups_skipped", 0) >= 1


CREDENTIALS = {
    "webdav": (lambda s: webdav_auth_options(s, password="wrong-password-42"), "Unauthorized (HTTP 401)", "wrong-password-42"),
    "azblob": (lambda s: {"account_key": "d3Jvbmcta2V5LXdyb25nLWtleS13cm9uZy1rZXk="}, "AuthorizationFailure (HTTP 403)",
               "d3Jvbmcta2V5LXdyb25nLWtleS13cm9uZy1rZXk="),
    "s3": (lambda s: {"access_key_id": READER[0], "secret_access_key": READER[1]}, "AccessDenied (HTTP 403)", READER[1]),
    "gcs": (lambda s: {"credential": "bm90IGEgc2VydmljZSBhY2NvdW50IGtleQ==", "allow_anonymous": ""},
            "failed to load signing credential", "bm90IGEgc2VydmljZSBhY2NvdW50IGtleQ=="),
}  # fmt: skip


@pytest.mark.parametrize("service", sorted(CREDENTIALS), indirect=True)
def test_refused_credentials(pycache_env, runners, project, service: Service):
    options, expected, secret = CREDENTIALS[service.kind]
    penv = runners(pycache_env, "runner", **service.settings(key_prefix=unique_prefix(), **bounded(**options(service))))
    build(penv, project, FEW)
    stats = finish(penv)
    assert stats["totals"]["misses"] == len(FEW)
    tier = stats["tiers"]["opendal"]
    assert expected in tier["last_error"] and tier["errors"] >= 1, tier
    shown = " ".join(penv.run(["stats"]).stdout.decode().split())  # rich wraps long lines
    assert expected in shown and secret not in shown
    status, text = doctor(penv)
    assert status == 1 and expected in text and secret not in text
    if service.kind != "gcs":
        assert "refused these credentials" in text
