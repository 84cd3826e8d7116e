"""Settings checked where people look (issue 10, part 2): ``pycache config``
and ``doctor`` flag every invalid value with its variable and why; sizes;
a server that cannot start costs a build once (a marker, one warning,
counted in ``stats``); ``config`` output whole when piped.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from pycache_core.cli import exitcodes
from pycache_core.config import SETTINGS, parse_size
from pycache_core.connection import BACKOFF, NEW_BUILD, server_fingerprint


@pytest.fixture
def toy(toy_work):
    return toy_work


def config_json(penv, **env):
    done = penv.run(["config", "--json"], env=env)
    return done.returncode, json.loads(done.stdout)


# --- pycache config -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value", "why"),
    [
        ("PYCACHE_LOG", "verbose", "not one of debug, info, warning, error, critical"),
        ("PYCACHE_IDLE_TIMEOUT", "abc", "not a whole number: use e.g. 600, 0 for never"),
        ("PYCACHE_CACHE_SIZE", "banana", "not a size: use a size such as 500M, 10G"),
        ("PYCACHE_UPLOAD_QUEUE_POLICY", "later", "not one of wait, drop"),
        ("PYCACHE_S3_USE_SSL", "ture", "not a boolean: use true or false"),
        ("PYCACHE_S3_SSE", "rot13", "not one of AES256, aws:kms"),
        ("PYCACHE_S3_MAX_ATTEMPTS", "0", "must be at least 1"),
        ("PYCACHE_S3_READ_TIMEOUT", "0", "must be more than 0 seconds"),
        ("PYCACHE_SERVER_TIMEOUT", "1e9", "must be at most 86400 seconds"),
        ("PYCACHE_SERVER_JOBS", "-2", "must be at least 0, 0 for 2 x CPUs"),
        ("PYCACHE_REDIS_URL", "localhost:6379", "not a URL of scheme redis://, rediss://, unix://"),
        ("PYCACHE_S3_ENDPOINT", "ftp://x", "not a URL of scheme http://, https://"),
        ("PYCACHE_CONFIG", "/no/such/pycache.toml", "the file does not exist (it was set explicitly)"),
    ],
)
def test_config_flags_an_invalid_value_by_name_and_why(pycache_env, name, value, why):
    status, data = config_json(pycache_env, **{name: value})
    assert status == exitcodes.CONFIG
    assert [(p["name"], p["value"], p["origin"]) for p in data["problems"]] == [(name, value, "environment")]
    assert data["problems"][0]["why"].startswith(why)
    human = pycache_env.run(["config"], env={name: value})
    assert human.returncode == exitcodes.CONFIG
    lines = human.stdout.decode().splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith(f"{name}="))
    assert lines[at].startswith(f"{name}={value}  [environment]")
    assert lines[at + 1].startswith(f"  ^ invalid: {why}")
    assert lines[-1] == "1 invalid setting(s)"


def test_config_flags_places_and_files(pycache_env, tmp_path):
    file = tmp_path / "a-file"
    file.write_text("")
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    (pycache_env.root / "config.toml").write_text('bukket = "x"\nlog = "debug"\n')
    status, data = config_json(pycache_env, PYCACHE_DIR=str(file), PYCACHE_RUNTIME_DIR=str(shared),
                               PYCACHE_LOG_FILE=str(tmp_path / "no" / "such" / "dir" / "x.log"), PYCACHE_STATZ="1",
                               PYCACHE_RUSTC_ENV="MY_MACRO_*")
    assert status == exitcodes.CONFIG
    problems = {p["name"]: p for p in data["problems"]}
    assert problems["PYCACHE_DIR"]["why"] == "is a file, not a directory"
    assert problems["PYCACHE_RUNTIME_DIR"]["why"].endswith("is not a private directory of this user "
                                                           f"(owner {os.getuid()}, mode 0o777)")
    assert problems["PYCACHE_LOG_FILE"]["why"].startswith("its directory ")
    assert problems["bukket"]["why"].startswith("unknown setting 'bukket'; did you mean 'bucket'?")
    assert problems["PYCACHE_STATZ"]["warning"] is True
    assert problems["PYCACHE_STATZ"]["why"].startswith("not a pycache setting")
    # A plugin's own per-call variable is known, and listed where it came from.
    assert "PYCACHE_RUSTC_ENV" not in problems
    assert {"name": "PYCACHE_RUSTC_ENV", "value": "MY_MACRO_*",
            "origin": "environment; rustc plugin: extra variables in every rustc key (plugins/rustc/README.md), read per call"} in data["tables"]
    assert data["settings"]["PYCACHE_LOG"] == {**data["settings"]["PYCACHE_LOG"], "value": "debug"}


def test_config_lists_every_setting_whole_when_piped_at_80_columns(pycache_env, tmp_path):
    deep = tmp_path / ("a-rather-long-directory-name-" * 4) / "pycache-cache"
    done = pycache_env.run(["config"], env={"COLUMNS": "80", "PYCACHE_DIR": str(deep),
                                            "PYCACHE_REDIS_URL": "redis://user:s3cret@cache.internal:6379/0"})
    assert done.returncode == 0, done.stdout.decode()
    lines = done.stdout.decode().splitlines()
    assert lines[0] == f"config file: {pycache_env.root / 'config.toml'} (exists)"
    assert f"PYCACHE_DIR={deep}  [environment] local cache directory" in lines  # one line, not wrapped
    for name in SETTINGS:  # every setting, PYCACHE_CONFIG, PYCACHE_RUNTIME_DIR, PYCACHE_STRICT_PLUGINS included
        assert sum(line.startswith(f"{name}=") for line in lines) == 1, name
    assert "PYCACHE_REDIS_URL=redis://user:****@cache.internal:6379/0  [environment]" in done.stdout.decode()
    assert b"s3cret" not in done.stdout
    assert lines[-1] == "all settings valid"
    missing = pycache_env.run(["config"], env={"PYCACHE_CONFIG": str(tmp_path / "none.toml")})
    assert missing.stdout.decode().splitlines()[0] == f"config file: {tmp_path / 'none.toml'} (does not exist (set explicitly))"


def test_config_json_has_a_schema_and_every_setting(pycache_env):
    status, data = config_json(pycache_env)
    assert status == 0 and data["schema_version"] == 1 and data["problems"] == []
    assert set(data["settings"]) == set(SETTINGS)
    assert data["config_file"] == {"path": str(pycache_env.root / "config.toml"), "exists": True, "explicit": True}
    assert data["settings"]["PYCACHE_RUNTIME_DIR"]["value"] == pycache_env.env["PYCACHE_RUNTIME_DIR"]
    log = data["settings"]["PYCACHE_LOG_FILE"]
    assert (log["origin"], Path(log["value"]).parent) == ("default", Path(pycache_env.env["PYCACHE_RUNTIME_DIR"]))


# --- sizes ------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "shown"), [("5", "limit 5.0 GiB"), ("0", "limit unlimited"), ("500M", "limit 500.0 MiB"),
                                             ("4096B", "limit 4.0 KiB")])
def test_a_bare_size_is_gib_and_zero_unlimited(pycache_env, text, shown):
    done = pycache_env.run(["cache", "size"], env={"PYCACHE_CACHE_SIZE": text})
    assert done.returncode == 0 and shown.encode() in done.stdout
    assert parse_size(text) == {"5": 5 << 30, "0": 0, "500M": 500 << 20, "4096B": 4096}[text]


# --- doctor -------------------------------------------------------------------------------


def test_doctor_passes_only_when_all_checks_do_and_starts_the_server(pycache_env):
    good = pycache_env.run(["doctor"], env={"COLUMNS": "200"})
    assert good.returncode == 0, good.stdout.decode()
    assert b"settings: all valid" in good.stdout and b"all checks passed" in good.stdout
    assert b"server: started, pid " in good.stdout
    status = json.loads(pycache_env.run(["server", "status", "--json"]).stdout)
    assert status["running"] is True and str(status["pid"]).encode() in good.stdout

    bad = pycache_env.run(["doctor"], env={"COLUMNS": "200", "PYCACHE_LOG": "verbose", "PYCACHE_IDLE_TIMEOUT": "abc"})
    assert bad.returncode == exitcodes.FAILURE
    text = bad.stdout.decode()
    assert "all checks passed" not in text
    assert "setting PYCACHE_LOG='verbose' (environment): not one of debug, info, warning, error, critical" in text
    assert "setting PYCACHE_IDLE_TIMEOUT='abc' (environment): not a whole number" in text
    assert "server: not started (invalid settings)" in text


# --- a server that cannot start ------------------------------------------------------------


def marker(penv, **env) -> Path:
    return Path(penv.env["PYCACHE_RUNTIME_DIR"]) / f"s-{server_fingerprint({**penv.env, **env})}.unavailable"


def test_a_server_that_cannot_start_costs_the_build_once(pycache_env, toy):
    pycache_env.set(PYCACHE_IDLE_TIMEOUT="abc")
    cause = ("server exited at start-up (status 3): pycache server: cannot start: "
             "PYCACHE_IDLE_TIMEOUT='abc' (environment): not a whole number: use e.g. 600, 0 for never")
    first = pycache_env.compile("toycc", "-c", "a.toy", "-o", "a.out", cwd=toy)
    assert (first.returncode, first.stdout) == (0, b"toycc: wrote a.out\n")
    assert first.stderr.decode() == (f"pycache: warning: compiling without the cache: the cache server cannot start "
                                     f"(retried in {BACKOFF:.0f} s; `pycache doctor` checks the setup): {cause}\n")
    assert marker(pycache_env).read_text() == cause
    for _ in range(2):  # backing off: no start tried, no warning
        again = pycache_env.compile("toycc", "-c", "a.toy", "-o", "a.out", cwd=toy)
        assert (again.returncode, again.stdout, again.stderr) == (0, b"toycc: wrote a.out\n", b"")

    stats = pycache_env.stats()
    assert stats["totals"]["requests"] == 3 and stats["totals"]["hits"] == 0
    assert stats["errors"]["server-unavailable"]["count"] == 3
    assert cause in stats["errors"]["server-unavailable"]["last"]
    status = pycache_env.run(["server", "status", "--json"])
    assert status.returncode == exitcodes.NOT_RUNNING
    assert json.loads(status.stdout)["start_failed"]["cause"] == cause

    # After the back-off a start is tried again; the same cause, in the same
    # build, is not repeated -- but a build after a long pause hears it again.
    stamp = time.time() - BACKOFF - 5
    os.utime(marker(pycache_env), (stamp, stamp))
    retried = pycache_env.compile("toycc", "-c", "a.toy", "-o", "a.out", cwd=toy)
    assert retried.stderr == b"" and marker(pycache_env).stat().st_mtime > stamp + 5
    stamp = time.time() - NEW_BUILD - 5
    os.utime(marker(pycache_env), (stamp, stamp))
    later = pycache_env.compile("toycc", "-c", "a.toy", "-o", "a.out", cwd=toy)
    assert later.stderr.decode().startswith("pycache: warning: compiling without the cache:")

    # Mended, the cache works at once (a new configuration, a new server).
    pycache_env.set(PYCACHE_IDLE_TIMEOUT="120")
    for expected in (b"", b""):
        done = pycache_env.compile("toycc", "-c", "a.toy", "-o", "a.out", cwd=toy)
        assert (done.returncode, done.stderr) == (0, expected)
    assert pycache_env.totals()["hits"] == 1


def test_a_runtime_dir_that_cannot_be_used_warns_once_and_is_counted(pycache_env, toy, tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    pycache_env.set(PYCACHE_RUNTIME_DIR=str(shared), XDG_RUNTIME_DIR=str(tmp_path / "xdg"))
    (tmp_path / "xdg").mkdir(mode=0o700)
    first = pycache_env.compile("toycc", "-c", "a.toy", "-o", "a.out", cwd=toy)
    assert first.returncode == 0
    assert first.stderr.decode().startswith("pycache: warning: compiling without the cache: the cache server cannot start")
    assert "no runtime directory: " in first.stderr.decode() and "is not a private directory" in first.stderr.decode()
    second = pycache_env.compile("toycc", "-c", "a.toy", "-o", "a.out", cwd=toy)
    assert (second.returncode, second.stderr) == (0, b"")
    stats = pycache_env.run(["stats", "--json"])
    assert stats.returncode == 0
    errors = json.loads(stats.stdout)["errors"]["server-unavailable"]
    assert errors["count"] == 2 and "is not a private directory" in errors["last"]
