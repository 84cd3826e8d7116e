"""Stats that add up (issue 10, part 4): every request in exactly one
outcome, across a build that has one of each; the local cache against its
limit, when counting began, the hit rate; the compilers named; the storage
tiers in words; ``--json`` versioned. And the rich output under a terminal.
"""

from __future__ import annotations

import os
import pty
import re
import subprocess
import time

import pytest

from pycache_core.stats import OUTCOMES, SCHEMA

TOY_SWITCHES = '''
from pycache_toy_base import *  # the toy plugin's hooks
from pycache_toy_base import pycache_parse_arguments as _parse
from pycache_core.api import NotCacheable


@hookimpl
def pycache_parse_arguments(invocation, family):
    if invocation.env.get("TOY_CRASH"):
        raise RuntimeError("parser exploded")
    if invocation.env.get("TOY_NOCACHE"):
        return NotCacheable("toy-refuses", "TOY_NOCACHE is set: the toy is not cached")
    return _parse(invocation, family)
'''


@pytest.fixture
def toy(pycache_env, fake_distribution, toy_compiler, tmp_path):
    fake_distribution("pycache-toy", modules={"pycache_toy_base": toy_compiler.plugin_source,
                                              "pycache_toy": TOY_SWITCHES}, entry_points={"toy": "pycache_toy"})
    mytool = toy_compiler.bin_dir / "mytool"  # an executable no plugin claims
    mytool.write_text("#!/bin/sh\necho mytool ran\n")
    mytool.chmod(0o755)
    pycache_env.env["PATH"] = f"{toy_compiler.bin_dir}{os.pathsep}{pycache_env.env['PATH']}"
    work = tmp_path / "w"
    work.mkdir()
    (work / "a.toy").write_text("alpha\n")
    (work / "bad.toy").write_text("error no such thing\n")
    return work


# One call of every outcome: (arguments, extra environment, exit status).
MIXED_BUILD = {
    "misses": (["toycc", "-c", "a.toy", "-o", "a.out"], {}, 0),
    "hits": (["toycc", "-c", "a.toy", "-o", "a.out"], {}, 0),
    "not_cacheable": (["toycc", "-c", "a.toy", "-o", "a.out"], {"TOY_NOCACHE": "1"}, 0),
    "not_compilation": (["toycc", "--version"], {}, 0),
    "compile_failed": (["toycc", "-c", "bad.toy", "-o", "bad.out"], {}, 1),
    "unsupported": (["mytool", "-c", "x"], {}, 0),
    "not_found": (["no-such-cc-4711", "-c", "a.toy"], {}, 127),
    "call_errors": (["toycc", "-c", "a.toy", "-o", "a.out"], {"TOY_CRASH": "1"}, 0),
}


def test_every_request_lands_in_exactly_one_outcome(pycache_env, toy):
    # cancelled (the client went away) needs a killed client: tests/core/test_interrupted.py
    assert set(MIXED_BUILD) | {"cancelled"} == set(OUTCOMES)
    for outcome, (args, env, status) in MIXED_BUILD.items():
        done = pycache_env.compile(*args, cwd=toy, env=env)
        assert done.returncode == status, (outcome, done.stderr)
    data = pycache_env.stats()
    totals = data["totals"]
    assert totals["requests"] == len(MIXED_BUILD)
    assert {key: totals[key] for key in OUTCOMES} == {**dict.fromkeys(OUTCOMES, 1), "cancelled": 0}
    assert totals["direct_hits"] + totals["preprocessor_hits"] == totals["hits"]
    toy_counts = data["families"]["toy"]  # the toy's six calls add up too
    assert toy_counts["requests"] == 6 == sum(toy_counts.get(key, 0) for key in OUTCOMES)
    assert data["unsupported_compilers"] == {"mytool": 1}
    assert data["not_found_compilers"] == {"no-such-cc-4711": 1}
    assert data["not_cacheable_reasons"] == {"toy-refuses": 1}
    assert data["not_cacheable_details"] == {"toy-refuses": "TOY_NOCACHE is set: the toy is not cached"}
    assert data["errors"]["plugin:parse"]["count"] == 1 and totals["errors"] == 1
    assert data["schema_version"] == SCHEMA and data["hit_rate"] == 0.5
    assert data["local_cache"]["entries"] == 1 and data["local_cache"]["manifests"] == 1
    assert data["local_cache"]["limit"] == 10 << 30 and 0 < data["local_cache"]["bytes"] < 1 << 20
    assert time.time() - 300 < data["since"] <= time.time()

    human = pycache_env.run(["stats"], env={"COLUMNS": "160"})
    assert human.returncode == 0
    text = human.stdout.decode()
    for label in ("requests", "hits", "misses (compiled and stored)", "not cacheable (run as is)", "not a compilation",
                  "compile failed", "unsupported compiler", "compiler not found", "errors (run uncached)"):
        assert re.search(rf"{re.escape(label)}\s+│\s+1\b" if label != "requests" else r"requests\s+│\s+8\b", text), label
    assert "hit rate: 50.0% of 2 cacheable calls" in text
    assert "unsupported compilers (no plugin claims them): mytool 1" in text
    assert "compilers not found on PATH: no-such-cc-4711 1" in text
    assert "toy-refuses 1 (last: TOY_NOCACHE is set: the toy is not cached)" in text
    assert re.search(r"local cache: [\d.]+ (B|KiB) of 10\.0 GiB \([\d.]+%\), 1 entries, 1 manifests", text)
    assert re.search(r"since \d{4}-\d\d-\d\d \d\d:\d\d \(", text)


def test_storage_tiers_in_words(pycache_env, toy):
    for _ in range(2):
        assert pycache_env.compile("toycc", "-c", "a.toy", "-o", "a.out", cwd=toy).returncode == 0
    pycache_env.stop_server()  # its tier counters are written when it stops
    text = pycache_env.run(["stats"], env={"COLUMNS": "160"}).stdout.decode()
    tiers = text[text.index("storage tiers"):]
    assert re.search(r"calls served from here\s+│\s+1\b", tiers)
    assert "lookups found" in tiers and "lookups not found" in tiers and "kind" in tiers and "local" in tiers
    for raw in ("hits_served", "True", "False", "last_error_time", "_"):
        assert raw not in tiers.split("Tier lookups")[0], raw
    assert not re.search(r"\b1[6-9]\d{8}\b", tiers)  # no epoch seconds
    assert "Tier lookups are not calls: a call in direct mode looks up its manifest, then its entry" in tiers


def test_zero_says_when(pycache_env, toy):
    assert pycache_env.compile("toycc", "-c", "a.toy", "-o", "a.out", cwd=toy).returncode == 0
    before = time.time()
    assert pycache_env.run(["stats", "--zero"]).stdout == b"statistics zeroed\n"
    data = pycache_env.stats()
    assert data["totals"]["requests"] == 0 and before - 1 <= data["zeroed_at"] <= time.time()
    assert b"(when last zeroed)" in pycache_env.run(["stats"]).stdout


def _in_a_terminal(penv, args, columns=80):
    """Run pycache with a pseudo-terminal as stdout and stderr; its output."""
    import fcntl
    import struct
    import termios

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))
    env = {k: v for k, v in penv.env.items() if k not in ("COLUMNS", "LINES", "NO_COLOR")}
    env["TERM"] = "xterm-256color"
    proc = subprocess.Popen([penv.executable, *args], stdin=slave, stdout=slave, stderr=slave, env=env, cwd=penv.root)
    os.close(slave)
    chunks = []
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the other side closed
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(master)
    assert proc.wait(timeout=120) == 0
    return b"".join(chunks).decode().replace("\r\n", "\n")


def test_rich_output_in_a_terminal(pycache_env, toy, tmp_path):
    assert pycache_env.compile("toycc", "-c", "a.toy", "-o", "a.out", cwd=toy).returncode == 0
    stats = _in_a_terminal(pycache_env, ["stats"])
    assert "\x1b[" in stats  # styled
    plain = re.sub(r"\x1b\[[0-9;]*m", "", stats)
    assert "┏" in plain and "misses (compiled and stored)" in plain and "local cache:" in plain
    deep = tmp_path / ("a-rather-long-directory-name-" * 4)
    pycache_env.set(PYCACHE_DIR=str(deep))
    config = re.sub(r"\x1b\[[0-9;]*m", "", _in_a_terminal(pycache_env, ["config"]))
    assert f"PYCACHE_DIR={deep}  [environment] local cache directory" in config.splitlines()  # not wrapped
