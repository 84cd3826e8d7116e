"""Fits the ecosystem (issue 10, part 6): ``pycache cargo``, the hint for
incremental builds, shell completion, help with examples, and the README's
tables kept true to the code."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest

from pycache_core.cli import exitcodes
from pycache_core.config import SETTINGS, TABLE_PREFIXES

ROOT = Path(__file__).resolve().parents[2]

FAKE_CARGO = """#!{python}
import json, os, sys
keys = ("RUSTC_WRAPPER", "CARGO_INCREMENTAL", "CC", "CXX", "CC_KNOWN_WRAPPER_CUSTOM")
print(json.dumps({{"argv": sys.argv[1:], **{{k: os.environ.get(k) for k in keys}}}}))
"""


@pytest.fixture
def fake_cargo(pycache_env, tmp_path):
    bin_dir = tmp_path / "fakebin"
    bin_dir.mkdir()
    cargo = bin_dir / "cargo"
    import sys

    cargo.write_text(FAKE_CARGO.format(python=sys.executable))
    cargo.chmod(0o755)
    return {"PATH": f"{bin_dir}{os.pathsep}{pycache_env.env['PATH']}"}


def cargo_sees(penv, env, *args):
    done = penv.run(["cargo", *args], env=env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout), done.stderr.decode()


def test_pycache_cargo_sets_the_wrapper_variables(pycache_env, fake_cargo):
    pycache = os.path.realpath(pycache_env.executable)
    seen, err = cargo_sees(pycache_env, fake_cargo, "build", "--release", "--help")
    assert seen == {"argv": ["build", "--release", "--help"], "RUSTC_WRAPPER": pycache, "CARGO_INCREMENTAL": "0",
                    "CC": f"{pycache} cc", "CXX": f"{pycache} c++", "CC_KNOWN_WRAPPER_CUSTOM": "pycache"}
    assert err == ""
    # What the user set is kept: a bare compiler is wrapped, a wrapped one left alone.
    env = {**fake_cargo, "CC": "gcc-12", "CXX": "ccache g++", "CARGO_INCREMENTAL": "1", "RUSTC_WRAPPER": "sccache"}
    seen, err = cargo_sees(pycache_env, env, "check")
    assert (seen["CC"], seen["CXX"], seen["CARGO_INCREMENTAL"], seen["RUSTC_WRAPPER"]) == (
        f"{pycache} gcc-12", "ccache g++", "1", pycache)
    assert err == "pycache cargo: CARGO_INCREMENTAL=1 kept: incremental crates are not cached\n"
    missing = pycache_env.run(["cargo", "build"], env={"PATH": "/nonexistent"})
    assert (missing.returncode, missing.stderr) == (exitcodes.NOT_FOUND,
                                                    b"pycache: cargo: No such file or directory (is cargo on PATH?)\n")


CRATE = {
    "Cargo.toml": """
        [package]
        name = "withc"
        version = "0.1.0"
        edition = "2021"
        build = "build.rs"
    """,
    # What the cc crate does with CC (it is not installable offline here):
    # split on whitespace, a known wrapper first (CC_KNOWN_WRAPPER_CUSTOM),
    # then the compiler.
    "build.rs": """
        use std::process::Command;
        fn main() {
            let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
            let out = std::env::var("OUT_DIR").unwrap();
            let mut words = cc.split_whitespace();
            let first = words.next().unwrap();
            let custom = std::env::var("CC_KNOWN_WRAPPER_CUSTOM").unwrap_or_default();
            assert_eq!(std::path::Path::new(first).file_stem().unwrap().to_str().unwrap(), custom);
            let ok = Command::new(first).args(words).args(["-c", "native/add.c", "-o"])
                .arg(format!("{out}/add.o")).status().unwrap().success();
            assert!(ok);
            assert!(Command::new("ar").args(["crs", &format!("{out}/libadd.a"), &format!("{out}/add.o")])
                .status().unwrap().success());
            println!("cargo:rustc-link-search=native={out}");
            println!("cargo:rustc-link-lib=static=add");
            println!("cargo:rerun-if-changed=native/add.c");
        }
    """,
    "native/add.c": "int add(int a, int b) { return a + b; }\n",
    "src/main.rs": """
        extern "C" { fn add(a: i32, b: i32) -> i32; }
        fn main() { println!("{}", unsafe { add(40, 2) }); }
    """,
}


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("cargo") is None or shutil.which("gcc") is None, reason="cargo or gcc is not installed")
def test_pycache_cargo_caches_rustc_and_build_script_c(pycache_env, tmp_path):
    crate = tmp_path / "withc"
    for name, text in CRATE.items():
        (crate / name).parent.mkdir(parents=True, exist_ok=True)
        (crate / name).write_text(textwrap.dedent(text).lstrip())
    env = {"CARGO_TARGET_DIR": str(tmp_path / "target"),
           "PATH": f"{Path(shutil.which('cargo')).parent}{os.pathsep}{pycache_env.env['PATH']}"}
    for build in (1, 2):
        done = pycache_env.run(["cargo", "build", "--offline", "-q"], cwd=crate, env=env)
        assert done.returncode == 0, done.stderr.decode()
        ran = subprocess.run([tmp_path / "target" / "debug" / "withc"], capture_output=True)
        assert ran.stdout == b"42\n"
        if build == 1:
            first = pycache_env.stats()["families"]
            shutil.rmtree(tmp_path / "target")
    families = pycache_env.stats()["families"]
    gcc = next(name for name in families if name.startswith("gcc"))
    assert first[gcc]["misses"] == 1 and families[gcc]["hits"] == 1  # the build script's C compile
    assert families["rustc"]["hits"] >= 2 and families["rustc"]["hits"] == first["rustc"]["misses"]

    # Incremental: passed through, and stats says what to do about it.
    pycache_env.zero_stats()
    shutil.rmtree(tmp_path / "target")
    assert pycache_env.run(["cargo", "build", "--offline", "-q"], cwd=crate,
                           env={**env, "CARGO_INCREMENTAL": "1"}).returncode == 0
    text = pycache_env.run(["stats"], env={"COLUMNS": "300"}).stdout.decode()
    assert re.search(r"  incremental \d+ \(last: -C incremental=.*set CARGO_INCREMENTAL=0", text), text


def test_shell_completion(pycache_env):
    # Typer names the shell itself where it can find one among the
    # process's ancestors; a suite started in the background (reparented to
    # init) has none, so name it, as typer's own tests do.
    script = pycache_env.run(["--show-completion", "bash"], env={"_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION": "1"})
    assert script.returncode == 0 and b"_pycache_completion" in script.stdout
    done = pycache_env.run([], env={"_PYCACHE_COMPLETE": "complete_bash", "COMP_WORDS": "pycache sta", "COMP_CWORD": "1"})
    assert (done.returncode, done.stdout.split()) == (0, [b"stats"])
    done = pycache_env.run([], env={"_PYCACHE_COMPLETE": "complete_bash", "COMP_WORDS": "pycache server st",
                                    "COMP_CWORD": "2"})
    assert sorted(done.stdout.split()) == [b"start", b"status", b"stop"]


def test_help_shows_the_three_forms(pycache_env):
    text = pycache_env.run(["-h"], env={"COLUMNS": "200"}).stdout.decode()
    for example in ("pycache wrap -- gcc -c a.c -o a.o", "pycache gcc -c a.c -o a.o", 'CC="pycache gcc"',
                    "RUSTC_WRAPPER=pycache", "ln -s $(command -v pycache) ~/bin/gcc", "pycache cargo build"):
        assert example in text, example


def _readme_table(heading: str) -> str:
    readme = (ROOT / "README.md").read_text()
    start = readme.index(heading)
    return readme[start:readme.index("\n## ", start + 1)]


def test_readme_lists_every_setting_and_exit_status():
    from pycache_core.cli.exitcodes import MEANINGS

    config = _readme_table("## Configuration")
    for name in SETTINGS:
        assert f"`{name}`" in config, name
    named = set(re.findall(r"PYCACHE_[A-Z0-9_]+", config + (ROOT / "docs" / "ci.md").read_text()))
    unknown = {n for n in named if n not in SETTINGS and not n.startswith(tuple(TABLE_PREFIXES.values()))}
    assert not unknown, unknown
    statuses = {int(s) for s in re.findall(r"^\| (\d+) \|", _readme_table("### Exit status"), re.M)}
    assert statuses == set(MEANINGS)
