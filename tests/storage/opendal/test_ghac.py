"""The GitHub Actions cache (OpenDAL's ``ghac``): it serves only inside a
workflow, so what is tested here is what can be offline -- the configuration,
the error outside Actions, the variables that select GitHub's cache service
v2, and that a build with such a tier still succeeds."""

from __future__ import annotations

import time

import pytest

from pycache_core.config import Config
from pycache_core.errors import StorageError
from pycache_opendal.backend import open_tiers

from ..conftest import free_port
from ..test_shared_build import UNITS, build, finish, project, runners  # noqa: F401 (fixtures)

ACTIONS = ("ACTIONS_RESULTS_URL", "ACTIONS_CACHE_URL", "ACTIONS_RUNTIME_TOKEN", "ACTIONS_CACHE_SERVICE_V2")


@pytest.fixture(autouse=True)
def outside_actions(monkeypatch):
    """OpenDAL reads the ACTIONS_* variables from the process environment."""
    for name in ACTIONS:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def gha_tier(**environ: str):
    settings = Config({"PYCACHE_CONFIG": "/nonexistent/pycache.toml", "PYCACHE_OPENDAL_GHA__SCHEME": "ghac",
                       "PYCACHE_OPENDAL_GHA__VERSION": "pycache-v1", **environ})  # fmt: skip
    (tier,) = open_tiers(settings)
    return tier


def test_outside_a_workflow_the_tier_cannot_open_and_says_why():
    error = gha_tier()
    assert isinstance(error, StorageError) and error.backend == "opendal.gha" and error.code == "ConfigInvalid"
    assert "cache url for ghac not found, maybe not in github action environment?" in str(error)
    assert "export ACTIONS_RESULTS_URL, ACTIONS_RUNTIME_TOKEN and ACTIONS_CACHE_SERVICE_V2" in error.hint


def test_a_results_url_without_the_runtime_token(outside_actions):
    outside_actions.setenv("ACTIONS_RESULTS_URL", f"http://127.0.0.1:{free_port()}/")
    error = gha_tier()
    assert isinstance(error, StorageError) and "ACTIONS_RUNTIME_TOKEN not found" in str(error)


def test_the_v2_cache_service_is_chosen_by_its_variable(outside_actions):
    port = free_port()  # nothing listens: the request shows which API was called
    outside_actions.setenv("ACTIONS_RESULTS_URL", f"http://127.0.0.1:{port}/")
    outside_actions.setenv("ACTIONS_RUNTIME_TOKEN", "runtime-token-value-1234")
    outside_actions.setenv("ACTIONS_CACHE_SERVICE_V2", "true")
    tier = gha_tier(PYCACHE_OPENDAL_GHA__RETRIES="0", ACTIONS_RUNTIME_TOKEN="runtime-token-value-1234")
    assert not isinstance(tier, Exception), tier
    assert tier.describe()["credentials"] == "GitHub Actions runtime token (ACTIONS_RUNTIME_TOKEN)"
    assert tier.describe()["option version"].startswith("pycache-v1")
    assert not tier.can_delete  # the Actions cache never deletes: removing is a no-op
    tier.remove("entries/aa/aa")
    started = time.monotonic()
    with pytest.raises(StorageError) as caught:
        tier.get("entries/aa/aa")
    assert time.monotonic() - started < 5
    text = str(caught.value)
    assert "twirp/github.actions.results.api.v1.CacheService/GetCacheEntryDownloadURL" in text
    assert "runtime-token-value-1234" not in text


def test_a_build_with_a_ghac_tier_outside_actions_succeeds(pycache_env, runners, project):
    penv = runners(pycache_env, "runner", PYCACHE_OPENDAL_GHA__SCHEME="ghac")
    build(penv, project, UNITS[:2])
    stats = finish(penv)
    assert stats["totals"]["misses"] == 2
    error = stats["errors"]["storage:opendal.gha"]["last"]
    assert "cannot create backend opendal.gha" in error and "cache url for ghac not found" in error
