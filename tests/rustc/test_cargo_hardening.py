"""cargo builds that reach what rustc keys the hard way (issue 13 B8-B10).

One workspace, built with real cargo through RUSTC_WRAPPER=pycache:

- `nat`: a build script compiles `nat.c` into `libnat.a` in OUT_DIR and names
  that directory; `#[link(name = "nat", kind = "static")]` in the source
  bundles it into the rlib -- nothing on the command line names it (B9);
- `mid`: an rlib over `nat`; `st`: a staticlib over `mid`, so `nat`'s code
  reaches the staticlib through a dependency of a dependency (B9);
- `mac`: a proc-macro that reads `PYCACHE_TEST_MACRO` through
  `std::env::var`, invisible to rustc and cargo (B8: `PYCACHE_RUSTC_ENV`);
- `app`: a bin whose build script writes `link.x` (which `INCLUDE`s
  `memory.x`) and copies the package's `memory.x` into OUT_DIR, names OUT_DIR
  as a link search path and links with `-Tlink.x` -- the cortex-m-rt pattern
  (B9). `memory.x` decides which function `pycache_answer` is.

Every step compares the program's output (and the staticlib's, through a C
program) with what the edit must give, and the hit/miss counts.
"""

from __future__ import annotations

import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest

from .test_cargo_build import Cargo, delta

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("cargo") is None or shutil.which("cc") is None, reason="cargo or cc is not installed"),
]

FILES = {
    "Cargo.toml": """
        [workspace]
        members = ["nat", "mid", "st", "mac", "app"]
        resolver = "2"
    """,
    "nat/Cargo.toml": """
        [package]
        name = "nat"
        version = "0.1.0"
        edition = "2021"
        build = "build.rs"
    """,
    "nat/nat.c": "unsigned nat_value(void) { return 7; }\n",
    "nat/build.rs": """
        use std::process::Command;
        fn main() {
            let out = std::env::var("OUT_DIR").unwrap();
            println!("cargo:rerun-if-changed=nat.c");
            let ok = Command::new("cc").args(["-c", "-fPIC", "nat.c", "-o"]).arg(format!("{out}/nat.o")).status().unwrap();
            assert!(ok.success());
            let _ = std::fs::remove_file(format!("{out}/libnat.a"));
            let ok = Command::new("ar").arg("rcs").arg(format!("{out}/libnat.a")).arg(format!("{out}/nat.o")).status().unwrap();
            assert!(ok.success());
            println!("cargo:rustc-link-search=native={out}");
            // What a build script writes within the file clock's margin before
            // rustc starts is rightly not stored (pipeline/freshness.py): age it.
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    """,
    "nat/src/lib.rs": """
        #[link(name = "nat", kind = "static")]
        extern "C" { fn nat_value() -> u32; }
        pub fn value() -> u32 { unsafe { nat_value() } }
    """,
    "mid/Cargo.toml": """
        [package]
        name = "mid"
        version = "0.1.0"
        edition = "2021"
        [dependencies]
        nat = { path = "../nat" }
    """,
    "mid/src/lib.rs": "pub fn value() -> u32 { nat::value() }\n",
    "st/Cargo.toml": """
        [package]
        name = "st"
        version = "0.1.0"
        edition = "2021"
        [lib]
        crate-type = ["staticlib"]
        [dependencies]
        mid = { path = "../mid" }
    """,
    "st/src/lib.rs": '#[no_mangle]\npub extern "C" fn st_value() -> u32 { mid::value() }\n',
    "mac/Cargo.toml": """
        [package]
        name = "mac"
        version = "0.1.0"
        edition = "2021"
        [lib]
        proc-macro = true
    """,
    "mac/src/lib.rs": """
        use proc_macro::TokenStream;
        #[proc_macro]
        pub fn macro_value(_item: TokenStream) -> TokenStream {
            let value = std::env::var("PYCACHE_TEST_MACRO").unwrap_or_else(|_| "unset".into());
            format!("{value:?}").parse().unwrap()
        }
    """,
    "app/Cargo.toml": """
        [package]
        name = "app"
        version = "0.1.0"
        edition = "2021"
        build = "build.rs"
        [dependencies]
        mid = { path = "../mid" }
        mac = { path = "../mac" }
    """,
    "app/memory.x": "PROVIDE(pycache_answer = answer_one);\n",
    "app/build.rs": """
        fn main() {
            let out = std::env::var("OUT_DIR").unwrap();
            std::fs::write(
                format!("{out}/link.x"),
                "INCLUDE memory.x\\nSECTIONS { .pycache_note : { KEEP(*(.pycache_note)) } } INSERT AFTER .text;\\n",
            ).unwrap();
            std::fs::copy("memory.x", format!("{out}/memory.x")).unwrap();
            println!("cargo:rerun-if-changed=memory.x");
            println!("cargo:rustc-link-search={out}");
            println!("cargo:rustc-link-arg-bins=-Tlink.x");
            std::thread::sleep(std::time::Duration::from_millis(50));  // as in nat's
        }
    """,
    "app/src/main.rs": """
        #[no_mangle]
        pub extern "C" fn answer_one() -> u32 { 1 }
        #[no_mangle]
        pub extern "C" fn answer_two() -> u32 { 2 }
        extern "C" { fn pycache_answer() -> u32; }
        fn main() {
            println!("nat={} macro={} answer={}", mid::value(), mac::macro_value!(), unsafe { pycache_answer() });
        }
    """,
    "main.c": '#include <stdio.h>\nunsigned st_value(void);\nint main(void) { printf("st=%u\\n", st_value()); return 0; }\n',
}

# Compiles of one release build: 2 build scripts, nat, mid, st, app, and mac
# twice (as a workspace member, and as app's proc-macro with the
# build-override profile).
CRATES = 8
MACRO_ENV = {"PYCACHE_RUSTC_ENV": "PYCACHE_TEST_MACRO*", "PYCACHE_TEST_MACRO": "one"}


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "hws"
    for name, text in FILES.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip())
    return root


def run_app(root: Path) -> str:
    return subprocess.run([str(root / "target/release/app")], capture_output=True, text=True, check=True).stdout


def run_staticlib(root: Path) -> str:
    prog = root / "target" / "prog"
    subprocess.run(
        ["cc", str(root / "main.c"), str(root / "target/release/libst.a"), "-lpthread", "-ldl", "-lm", "-o", str(prog)], check=True
    )
    return subprocess.run([str(prog)], capture_output=True, text=True, check=True).stdout


def counts(penv) -> tuple[int, int, int, dict]:
    d = delta(penv)
    return d["misses"], d["hits"], d["errors"], d["reasons"]


def test_linker_scripts_bundled_natives_and_macro_variables(pycache_env, workspace):
    cargo = Cargo(pycache_env, workspace)
    cargo.build(env=MACRO_ENV)
    assert counts(pycache_env) == (CRATES, 0, 0, {})
    assert run_app(workspace) == "nat=7 macro=one answer=1\n"
    assert run_staticlib(workspace) == "st=7\n"
    app = (workspace / "target/release/app").read_bytes()
    cargo.clean()
    cargo.build(env=MACRO_ENV)
    assert counts(pycache_env) == (0, CRATES, 0, {})
    assert (workspace / "target/release/app").read_bytes() == app

    # B9: memory.x, found by the linker through link.x's INCLUDE on the
    # OUT_DIR search path. The build script runs again, the bin relinks.
    (workspace / "app/memory.x").write_text("PROVIDE(pycache_answer = answer_two);\n")
    cargo.build(env=MACRO_ENV)
    assert counts(pycache_env) == (1, 0, 0, {})  # app (its build script only runs again)
    assert run_app(workspace) == "nat=7 macro=one answer=2\n"

    # B9: the C library bundled into nat's rlib by #[link(kind = "static")].
    # nat's crate hash does not change, so mid's rlib stays the same: only
    # the transitive rlib tells the staticlib and the bin that nat changed.
    (workspace / "nat/nat.c").write_text("unsigned nat_value(void) { return 8; }\n")
    cargo.build(env=MACRO_ENV)
    misses, hits, errors, reasons = counts(pycache_env)
    assert (misses, errors, reasons) == (4, 0, {})  # nat, mid, st, app
    assert run_app(workspace) == "nat=8 macro=one answer=2\n"
    assert run_staticlib(workspace) == "st=8\n"

    # B8: the macro's variable, named in PYCACHE_RUSTC_ENV. cargo does not
    # track it: after a clean, the crates the setting keys (every one) miss
    # where the value differs -- the macro's expansion in app is new.
    cargo.clean()
    cargo.build(env={**MACRO_ENV, "PYCACHE_TEST_MACRO": "two"})
    misses, hits, errors, reasons = counts(pycache_env)
    assert (misses, hits, errors) == (CRATES, 0, 0)
    assert run_app(workspace) == "nat=8 macro=two answer=2\n"
    cargo.clean()
    cargo.build(env=MACRO_ENV)
    assert counts(pycache_env) == (0, CRATES, 0, {})
    assert run_app(workspace) == "nat=8 macro=one answer=2\n"


def test_workspace_wrapper_calls_are_not_served_from_plain_compiles(pycache_env, tmp_path):
    """B10: cargo runs `RUSTC_WRAPPER RUSTC_WORKSPACE_WRAPPER rustc ...` for
    workspace members (`cargo clippy` sets clippy-driver there). Those calls
    are not rustc's: they pass through, so clippy's lints are never replaced
    by a cached plain compile."""
    if subprocess.run(["cargo", "clippy", "--version"], capture_output=True).returncode != 0:
        pytest.skip("cargo clippy is not installed")
    root = tmp_path / "linted"
    (root / "src").mkdir(parents=True)
    (root / "Cargo.toml").write_text('[package]\nname = "linted"\nversion = "0.1.0"\nedition = "2021"\n')
    (root / "src" / "lib.rs").write_text("pub fn f(x: &Vec<u32>) -> usize { x.len() }\n")  # clippy::ptr_arg
    cargo = Cargo(pycache_env, root)
    cargo.build()
    assert counts(pycache_env)[0] == 1
    for _ in range(2):
        cargo.clean()
        done = cargo.run("clippy", "--release")
        assert "ptr_arg" in done.stderr, done.stderr
        misses, hits, errors, _reasons = counts(pycache_env)
        assert (misses, hits, errors) == (0, 0, 0)
    stats = pycache_env.stats()
    assert stats["totals"].get("unsupported", 0) >= 2, stats["totals"]
