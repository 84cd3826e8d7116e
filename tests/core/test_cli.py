"""The subcommands a user reads: explain, config, cache size/trim/clear, stats."""

from __future__ import annotations

import json
import os

import pytest


@pytest.fixture
def toy(pycache_env, fake_distribution, toy_compiler, tmp_path):
    fake_distribution("pycache-toy", modules={"pycache_toy": toy_compiler.plugin_source},
                      entry_points={"toy": "pycache_toy"})
    pycache_env.env["PATH"] = f"{toy_compiler.bin_dir}{os.pathsep}{pycache_env.env['PATH']}"
    work = tmp_path / "w"
    work.mkdir()
    (work / "a.toy").write_text("alpha\nuse b.toy\n")
    (work / "b.toy").write_text("beta\n")
    return work


def explain(pycache_env, work, *extra):
    done = pycache_env.run(["explain", "--json", "--", "toycc", *extra, "-c", "a.toy", "-o", "a.out"], cwd=work)
    assert done.returncode == 0, done.stderr.decode()
    return json.loads(done.stdout)


def test_explain_names_the_component_that_changed(pycache_env, toy):
    before = explain(pycache_env, toy)
    assert before["status"] == "miss" and before["family"] == "toy"
    names = [c["name"] for c in before["components"]]
    assert names[:2] == ["core:schema", "family"] and "use:b.toy" in names

    assert pycache_env.compile("toycc", "-c", "a.toy", "-o", "a.out", cwd=toy).returncode == 0
    hit = explain(pycache_env, toy)
    assert (hit["status"], hit["mode"]) == ("hit", "direct")

    (toy / "b.toy").write_text("gamma\n")
    after = explain(pycache_env, toy)
    assert after["status"] == "miss"
    # The used file is named, not the component that holds its digest.
    assert [(d["kind"], d["subject"]) for d in after["differences"]] == [("file-changed", "b.toy")]

    shouting = explain(pycache_env, toy, "--shout")
    assert [(d["kind"], d["subject"]) for d in shouting["differences"]] == [
        ("argument-added", "--shout"), ("file-changed", "b.toy")
    ]
    assert shouting["differences"][0]["message"] == "`--shout` added"


def test_explain_human_output(pycache_env, toy):
    done = pycache_env.run(["explain", "--", "toycc", "-c", "a.toy", "-o", "a.out"], cwd=toy)
    assert done.returncode == 0
    assert done.stdout.startswith(b"MISS toy") and b"key components" in done.stdout


def test_config_shows_values_and_origins(pycache_env, tmp_path):
    (pycache_env.root / "config.toml").write_text('cache_size = "3G"\n')
    done = pycache_env.run(["config", "--json"], env={"PYCACHE_BUCKET": "team-cache"})
    assert done.returncode == 0, done.stdout.decode()
    settings = json.loads(done.stdout)["settings"]
    assert settings["PYCACHE_BUCKET"]["value"] == "team-cache"
    assert settings["PYCACHE_BUCKET"]["origin"] == "environment"
    assert settings["PYCACHE_CACHE_SIZE"]["value"] == "3G"
    assert settings["PYCACHE_CACHE_SIZE"]["origin"].startswith("config file ")
    assert settings["PYCACHE_IDLE_TIMEOUT"]["origin"] == "environment"  # set by the fixture
    assert (settings["PYCACHE_RECACHE"]["value"], settings["PYCACHE_RECACHE"]["origin"]) == ("false", "default")


def test_cache_size_trim_clear(pycache_env, toy):
    for i in range(3):
        (toy / f"f{i}.toy").write_text(f"file {i}\n" * 200)
        assert pycache_env.compile("toycc", "-c", f"f{i}.toy", "-o", f"f{i}.out", cwd=toy).returncode == 0
    size = pycache_env.run(["cache", "size"])
    assert b"in 6 files" in size.stdout  # 3 entries + 3 manifests
    cleared = pycache_env.run(["cache", "clear"])
    assert b"removed 6 files" in cleared.stdout
    assert b"in 0 files" in pycache_env.run(["cache", "size"]).stdout
    (toy / "f0.out").unlink()
    assert pycache_env.compile("toycc", "-c", "f0.toy", "-o", "f0.out", cwd=toy).returncode == 0
    assert (toy / "f0.out").read_text() == "file 0\n" * 200
    assert pycache_env.totals()["misses"] == 4


def test_stats_zero_and_recache(pycache_env, toy):
    for _ in range(2):
        assert pycache_env.compile("toycc", "-c", "a.toy", "-o", "a.out", cwd=toy).returncode == 0
    assert pycache_env.totals()["hits"] == 1
    pycache_env.zero_stats()
    assert pycache_env.totals()["requests"] == 0
    assert pycache_env.compile("toycc", "-c", "a.toy", "-o", "a.out", cwd=toy, env={"PYCACHE_RECACHE": "1"}).returncode == 0
    assert (pycache_env.totals()["hits"], pycache_env.totals()["misses"]) == (0, 1)
    human = pycache_env.run(["stats"])
    assert b"misses" in human.stdout and b"toy" in human.stdout
