"""rustc in two real checkouts (issue 13 C and B3): the ``.d`` file and
cargo's JSON artifact notices name the second checkout exactly on a hit;
``--remap-path-prefix`` that covers the checkout shares debug builds, one
that covers only a parent of it does not. Every output, stdout and stderr
is compared with rustc's own in the same checkout."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from pycache_core.testing import PycacheEnv

pytestmark = pytest.mark.skipif(shutil.which("rustc") is None, reason="rustc is not installed")

COUNTERS = ("hits", "direct_hits", "misses", "errors")
LIB = "pub fn triple(x: u32) -> u32 { x.checked_mul(3).unwrap() }\npub fn here() -> &'static str { file!() }\n"


@pytest.fixture
def penv(pycache_env: PycacheEnv) -> PycacheEnv:
    pycache_env.set(PYCACHE_NO_SERVER="1")
    return pycache_env


def build(penv: PycacheEnv, root: Path, *extra: str, source: str = "src/lib.rs", metadata: bool = True) -> dict[str, float]:
    """A library crate built as cargo builds it (absolute --out-dir, JSON
    messages with artifact notices), through pycache and with rustc alone.
    ``metadata``: compare the rlib and rmeta too (their crate metadata
    records the working directory, which nothing built from them depends
    on: see the rustc README)."""
    out = root / "target" / "deps"
    out.mkdir(parents=True, exist_ok=True)
    argv = [
        "rustc", "--crate-name", "triple", "--edition=2021", source, "--error-format=json",
        "--json=diagnostic-rendered-ansi,artifacts,future-incompat", "--crate-type", "lib",
        "--emit=dep-info,metadata,link", "-C", "extra-filename=-0123", "--out-dir", str(out), *extra,
    ]
    outputs = [out / "triple-0123.d"] + ([out / "libtriple-0123.rlib", out / "libtriple-0123.rmeta"] if metadata else [])
    diff = penv.compile_like_the_compiler(*argv, cwd=root, outputs=outputs)
    assert not diff.get("errors"), diff
    return {k: v for k, v in diff.items() if k in COUNTERS}


def checkout(penv: PycacheEnv, name: str, lib: str = LIB) -> Path:
    root = penv.root / "parent" / name
    (root / "src").mkdir(parents=True, exist_ok=True)
    (root / "src" / "lib.rs").write_text(lib)
    return root


def test_dep_info_and_artifact_notices_name_the_second_checkout(penv: PycacheEnv) -> None:
    """The working directory is a base directory by default: the second
    checkout hits, and its .d file and rustc's artifact notices (absolute
    paths under --out-dir) are its own, byte for byte."""
    first, second = checkout(penv, "ck1"), checkout(penv, "a-much-longer-second-checkout")
    assert build(penv, first) == {"misses": 1}
    assert build(penv, second, metadata=False) == {"hits": 1, "direct_hits": 1}
    assert str(second).encode() in (second / "target/deps/triple-0123.d").read_bytes()


def test_a_crate_given_by_absolute_path_keeps_it(penv: PycacheEnv) -> None:
    """Code names its source as rustc was given it (panic locations,
    file!()): an absolute path under a base directory stays in the key."""
    first, second = checkout(penv, "ck1"), checkout(penv, "second")
    assert build(penv, first, source=f"{first}/src/lib.rs") == {"misses": 1}
    assert build(penv, second, source=f"{second}/src/lib.rs") == {"misses": 1}
    # Remapped to the same name in both, they share.
    remap = ["--remap-path-prefix", "{root}=/src"]
    assert build(penv, first, *(r.format(root=first) for r in remap), source=f"{first}/src/lib.rs") == {"misses": 1}
    assert build(penv, second, *(r.format(root=second) for r in remap), source=f"{second}/src/lib.rs") == {"hits": 1, "direct_hits": 1}


@pytest.mark.parametrize(
    ("remap", "second"),
    [
        ("{root}=/src", {"hits": 1, "direct_hits": 1}),
        # Covers only the checkouts' parent: /x/ck1 and /x/second stay in the debug info.
        ("{parent}=/x", {"misses": 1}),
    ],
    ids=["covers-the-checkout", "covers-a-parent"],
)
def test_remap_path_prefix_under_debug_info(penv: PycacheEnv, remap: str, second: dict) -> None:
    first_root, second_root = checkout(penv, "ck1"), checkout(penv, "second")
    results = []
    for root in (first_root, second_root):
        results.append(build(penv, root, "-C", "debuginfo=2", "--remap-path-prefix", remap.format(root=root, parent=root.parent)))
    assert results == [{"misses": 1}, second]


def test_paths_embedded_without_debug_info_keep_the_call_path_dependent(pycache_env, tmp_path):
    """A crate compiled from an absolute source path (cargo does this for
    registry and vendored crates, running rustc in the package directory,
    a default base directory): panic locations and file!() embed that path
    in the rlib even without debug info. A second copy elsewhere must not
    get the first copy's rlib."""
    source = "pub fn here() -> &'static str { file!() }\npub fn boom(x: Option<u32>) -> u32 { x.unwrap() }\n"
    rlibs = {}
    for name in ("a", "b"):
        package = tmp_path / name / "vendored-1.0"
        (package / "src").mkdir(parents=True)
        (package / "src" / "lib.rs").write_text(source)
        (package / "out").mkdir()
        command = [
            "rustc", "--crate-name", "vendored", "--crate-type", "lib", "--emit=link,dep-info", "-C", "opt-level=2",
            "--out-dir", str(package / "out"), str(package / "src" / "lib.rs"),
        ]
        for _ in range(2):  # the second call in the same place hits
            done = pycache_env.compile(*command, cwd=package)
            assert done.returncode == 0, done.stderr.decode()
        rlibs[name] = (package / "out" / "libvendored.rlib").read_bytes()
        strings = subprocess.run(["strings", str(package / "out" / "libvendored.rlib")], capture_output=True, text=True).stdout
        assert str(package / "src" / "lib.rs") in strings
    assert str(tmp_path / "a").encode() not in rlibs["b"]
    counts = pycache_env.stats()["families"]["rustc"]
    assert (counts.get("misses"), counts.get("hits")) == (2, 2), counts
