"""Logs and servers (issue 10, part 5): the server's log is where
``server status`` says, ``PYCACHE_LOG=debug`` alone fills it; status in words
and as one JSON object; ``stop --all`` stops every server of this user and
sweeps what gone servers left behind."""

from __future__ import annotations

import json
import os
import re
import socket
import time
from pathlib import Path

import pytest

from pycache_core.cli import exitcodes
from pycache_core.connection import server_fingerprint


@pytest.fixture
def toy(toy_work):
    return toy_work


def status_json(penv, **env) -> tuple[int, dict]:
    done = penv.run(["server", "status", "--json"], env=env)
    return done.returncode, json.loads(done.stdout)


def test_debug_log_alone_goes_where_status_says(pycache_env, toy):
    pycache_env.set(PYCACHE_LOG="debug")
    started = pycache_env.run(["server", "start"])
    assert started.returncode == 0
    runtime = Path(pycache_env.env["PYCACHE_RUNTIME_DIR"])
    log = runtime / f"s-{server_fingerprint(pycache_env.env)}.log"
    assert f"log: {log} (level debug)".encode() in started.stdout
    assert pycache_env.compile("toycc", "-c", "a.toy", "-o", "a.out", cwd=toy).returncode == 0

    code, status = status_json(pycache_env)
    assert code == 0 and status["running"] is True
    assert (status["log"], status["log_level"]) == (str(log), "debug")
    text = log.read_text()
    assert " DEBUG " in text and "  source = " in text  # every key component, at debug level

    human = pycache_env.run(["server", "status"]).stdout.decode()
    assert human.splitlines()[0] == "server running"
    assert re.search(r"^uptime: +[\d.]+ s$", human, re.M)
    assert re.search(r"^memory \(resident\): +\d+\.\d MiB$", human, re.M)
    assert re.search(rf"^log: +{re.escape(str(log))}$", human, re.M)
    assert re.search(r"^requests served: +1$", human, re.M)


def test_status_without_a_server_is_one_object_too(pycache_env):
    code, status = status_json(pycache_env)
    assert code == exitcodes.NOT_RUNNING
    assert status["running"] is False and status["socket"].endswith(".sock") and status["log"].endswith(".log")
    assert status["start_failed"] is None


def test_stop_all_stops_every_server_and_sweeps_stale_files(pycache_env, toy, tmp_path):
    other = {"PYCACHE_DIR": str(tmp_path / "other-cache")}  # a second configuration: a second server
    for env in ({}, other):
        assert pycache_env.compile("toycc", "-c", "a.toy", "-o", "a.out", cwd=toy, env=env).returncode == 0
    every = json.loads(pycache_env.run(["server", "status", "--all", "--json"]).stdout)
    assert sorted(s["cache_dir"] for s in every) == sorted([pycache_env.env["PYCACHE_DIR"], other["PYCACHE_DIR"]])

    runtime = Path(pycache_env.env["PYCACHE_RUNTIME_DIR"])
    old, recent = time.time() - 8 * 86400, time.time() - 60
    stale = {name: runtime / f"s-00000000deadbeef.{name}" for name in ("lock", "log", "unavailable", "stderr")}
    for path in stale.values():
        path.write_text("")
        os.utime(path, (old, old))
    kept = runtime / "s-00000000cafecafe.log"
    kept.write_text("a log from a minute ago")
    os.utime(kept, (recent, recent))
    dead = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)  # bound, never listening: a crashed server's
    dead.bind(str(runtime / "s-00000000deadbeef.sock"))
    dead.close()

    stopped = pycache_env.run(["server", "stop", "--all"])
    assert stopped.returncode == 0
    assert re.search(rb"^2 server\(s\) stopped; \d+ stale file\(s\) removed$", stopped.stdout, re.M), stopped.stdout
    for env in ({}, other):
        assert status_json(pycache_env, **env)[0] == exitcodes.NOT_RUNNING
    assert not any(path.exists() for path in stale.values())
    assert not (runtime / "s-00000000deadbeef.sock").exists()
    assert kept.exists()
