"""cargo builds through RUSTC_WRAPPER=pycache, end to end (issue 4).

The tests write a small workspace -- a lib with a build script (cfg and env),
a proc-macro, a crate using env!/option_env! and include_str!, a staticlib, a
cdylib and a bin, all path dependencies -- and build it with real cargo and
rustc, offline. Builds use CARGO_INCREMENTAL=0 where they should cache: cargo's
dev profile compiles workspace members incrementally, which pycache passes
through (see test_incremental_passes_through).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("cargo") is None, reason="cargo is not installed"),
]

FILES = {
    "Cargo.toml": """
        [workspace]
        members = ["corelib", "macros", "envinc", "staticfoo", "cdyfoo", "app"]
        resolver = "2"
    """,
    "corelib/Cargo.toml": """
        [package]
        name = "corelib"
        version = "0.1.0"
        edition = "2021"
        build = "build.rs"
        [features]
        extra = []
    """,
    "corelib/build.rs": """
        fn main() {
            let msg = std::fs::read_to_string("build_input.txt").unwrap();
            println!("cargo:rerun-if-changed=build_input.txt");
            println!("cargo:rustc-env=BUILD_MSG={}", msg.trim());
            println!("cargo:rustc-cfg=has_build_cfg");
            println!("cargo::rustc-check-cfg=cfg(has_build_cfg)");
        }
    """,
    "corelib/build_input.txt": "from build script v1\n",
    "corelib/src/lib.rs": """
        pub fn base() -> u32 { 40 }
        pub fn build_msg() -> &'static str { env!("BUILD_MSG") }
        #[cfg(has_build_cfg)]
        pub fn cfg_on() -> bool { true }
        #[cfg(feature = "extra")]
        pub fn extra() -> &'static str { "extra on" }
        #[cfg(not(feature = "extra"))]
        pub fn extra() -> &'static str { "extra off" }
        #[cfg(pycache_flag)]
        pub fn flag() -> &'static str { "flag on" }
        #[cfg(not(pycache_flag))]
        pub fn flag() -> &'static str { "flag off" }
    """,
    "macros/Cargo.toml": """
        [package]
        name = "macros"
        version = "0.1.0"
        edition = "2021"
        [lib]
        proc-macro = true
    """,
    "macros/src/lib.rs": """
        use proc_macro::TokenStream;
        #[proc_macro]
        pub fn make_answer(_item: TokenStream) -> TokenStream {
            "fn answer() -> u32 { 2 }".parse().unwrap()
        }
    """,
    "envinc/Cargo.toml": """
        [package]
        name = "envinc"
        version = "0.1.0"
        edition = "2021"
    """,
    "envinc/data.txt": "included text v1\n",
    "envinc/src/lib.rs": """
        pub const DATA: &str = include_str!("../data.txt");
        pub fn greeting() -> &'static str { option_env!("PYCACHE_TEST_GREETING").unwrap_or("no greeting") }
        pub fn pkg() -> &'static str { env!("CARGO_PKG_NAME") }
        pub fn noisy() -> u32 { let unused_here = 1; 2 }
    """,
    "staticfoo/Cargo.toml": """
        [package]
        name = "staticfoo"
        version = "0.1.0"
        edition = "2021"
        [lib]
        crate-type = ["staticlib"]
    """,
    "staticfoo/src/lib.rs": """
        #[no_mangle]
        pub extern "C" fn staticfoo_add(a: u32, b: u32) -> u32 { a + b }
    """,
    "cdyfoo/Cargo.toml": """
        [package]
        name = "cdyfoo"
        version = "0.1.0"
        edition = "2021"
        [lib]
        crate-type = ["cdylib"]
    """,
    "cdyfoo/src/lib.rs": """
        #[no_mangle]
        pub extern "C" fn cdyfoo_mul(a: u32, b: u32) -> u32 { a * b }
    """,
    "app/Cargo.toml": """
        [package]
        name = "app"
        version = "0.1.0"
        edition = "2021"
        [dependencies]
        corelib = { path = "../corelib" }
        macros = { path = "../macros" }
        envinc = { path = "../envinc" }
        [features]
        extra = ["corelib/extra"]
    """,
    "app/src/main.rs": """
        macros::make_answer!();
        fn main() {
            println!("answer={}", corelib::base() + answer());
            println!("build_msg={}", corelib::build_msg());
            println!("cfg_on={}", corelib::cfg_on());
            println!("extra={}", corelib::extra());
            println!("flag={}", corelib::flag());
            println!("data={}", envinc::DATA.trim());
            println!("greeting={}", envinc::greeting());
            println!("pkg={}", envinc::pkg());
        }
        #[cfg(test)]
        mod tests {
            #[test]
            fn base_is_forty() { assert_eq!(corelib::base(), 40); }
        }
    """,
}

# rustc compiles of one full release build: build script, corelib, envinc,
# staticfoo, cdyfoo, app, and macros twice (as a workspace member with the
# release profile, and as app's proc-macro with the build-override profile).
CRATES_PER_BUILD = 8
# The dev profile builds the proc-macro once.
CRATES_PER_DEBUG_BUILD = 7

EXPECTED_OUTPUT = (
    "answer=42\nbuild_msg=from build script v1\ncfg_on=true\nextra=extra off\nflag=flag off\n"
    "data=included text v1\ngreeting=no greeting\npkg=envinc\n"
)


def write_workspace(root: Path) -> Path:
    import textwrap

    for name, text in FILES.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip())
    return root


class Cargo:
    """cargo in one workspace, through pycache (or not)."""

    def __init__(self, penv, root: Path) -> None:
        self.penv = penv
        self.root = root

    def env(self, wrapper: bool, extra: dict[str, str] | None) -> dict[str, str]:
        env = {k: v for k, v in self.penv.env.items() if k not in ("RUSTFLAGS", "PYCACHE_TEST_GREETING")}
        env.update(CARGO_INCREMENTAL="0", CARGO_NET_OFFLINE="true", CARGO_TERM_COLOR="never")
        env.pop("RUSTC_WRAPPER", None)
        if wrapper:
            env["RUSTC_WRAPPER"] = self.penv.executable
        env.update(extra or {})
        return env

    def run(self, *args: str, wrapper: bool = True, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            ["cargo", *args], cwd=self.root, env=self.env(wrapper, env), capture_output=True, text=True, timeout=300
        )
        assert done.returncode == 0, done.stderr
        assert "jobserver" not in done.stderr, done.stderr
        return done

    def build(self, *args: str, **kw) -> subprocess.CompletedProcess[str]:
        return self.run("build", "--release", *args, **kw)

    def clean(self) -> None:
        self.run("clean", wrapper=False)

    def app(self) -> str:
        return subprocess.run(
            [str(self.root / "target/release/app")], capture_output=True, text=True, check=True
        ).stdout

    def compiled(self, done: subprocess.CompletedProcess[str]) -> set[str]:
        """Packages cargo compiled in that build."""
        return {line.split()[1] for line in done.stderr.splitlines() if line.strip().startswith("Compiling")}


_SEEN: dict[str, dict] = {}


def delta(penv) -> dict:
    """The rustc family's counters since the last call for this cache (one
    `pycache stats --json` a step: the CLI costs a second on a busy machine)."""
    stats = penv.stats()
    family = stats["families"].get("rustc", {})
    now = {
        "hits": family.get("hits", 0),
        "misses": family.get("misses", 0),
        "direct_hits": family.get("direct_hits", 0),
        "not_cacheable": family.get("not_cacheable", 0),
        "errors": stats["totals"]["errors"],
        **{f"reason:{k}": v for k, v in stats.get("not_cacheable_reasons", {}).items()},
    }
    before = _SEEN.get(str(penv.cache_dir), {})  # not id(): a later env may reuse it
    _SEEN[str(penv.cache_dir)] = now
    counts = {k: v - before.get(k, 0) for k, v in now.items()}
    counts["reasons"] = {k[len("reason:"):]: v for k, v in counts.items() if k.startswith("reason:") and v}
    counts["last_errors"] = stats.get("errors", {}) if counts["errors"] else {}
    return {k: v for k, v in counts.items() if not k.startswith("reason:")}


def artifacts(root: Path, profile: str = "release") -> dict[str, bytes]:
    deps = root / "target" / profile / "deps"
    return {p.name: p.read_bytes() for p in sorted(deps.iterdir()) if p.suffix in (".rlib", ".rmeta", ".a", ".so")}


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    return write_workspace(tmp_path / "ws")


def test_clean_rebuild_hits_every_crate_kind(pycache_env, workspace):
    cargo = Cargo(pycache_env, workspace)
    # The uncached reference.
    cargo.build(wrapper=False)
    assert cargo.app() == EXPECTED_OUTPUT
    reference = artifacts(workspace)
    assert {n.rsplit(".", 1)[1] for n in reference} == {"rlib", "rmeta", "a", "so"}
    cargo.clean()

    cargo.build()
    cold = delta(pycache_env)
    assert cold == {
        "hits": 0, "misses": CRATES_PER_BUILD, "direct_hits": 0, "not_cacheable": 0, "errors": 0, "reasons": {}, "last_errors": {}
    }
    assert artifacts(workspace) == reference
    cargo.clean()

    done = cargo.build()
    warm = delta(pycache_env)
    assert warm["hits"] == CRATES_PER_BUILD and warm["misses"] == 0 and warm["errors"] == 0, warm
    # Every hit came from a manifest: no rustc run at all, not even for dep-info.
    assert warm["direct_hits"] == CRATES_PER_BUILD, warm
    # The stored diagnostics are replayed: cargo shows the warning again.
    assert "unused variable: `unused_here`" in done.stderr
    # rlibs, rmeta, the staticlib, the cdylib and the proc-macro: byte for byte.
    assert artifacts(workspace) == reference
    assert cargo.app() == EXPECTED_OUTPUT
    # Diagnostics and artifact notices went back to cargo: it saw every crate compile.
    assert cargo.compiled(done) == {"corelib", "macros", "envinc", "staticfoo", "cdyfoo", "app"}

    # cargo accepts what the cache restored (its fingerprints read the .d files).
    again = cargo.build("-v")
    assert "Compiling" not in again.stderr and "Fresh app" in again.stderr
    assert delta(pycache_env)["hits"] == 0


def test_changes_recompile_exactly_what_must(pycache_env, workspace):
    cargo = Cargo(pycache_env, workspace)
    cargo.build()
    assert cargo.app() == EXPECTED_OUTPUT
    delta(pycache_env)

    def step(expected_output: str, *, misses: int, hits: int = 0, **kw) -> None:
        cargo.build(**kw)
        counts = delta(pycache_env)
        assert (counts["misses"], counts["hits"], counts["errors"]) == (misses, hits, 0), counts
        assert cargo.app() == expected_output

    # A source line in a dependency: corelib and the bin that links it.
    lib = workspace / "corelib/src/lib.rs"
    original = lib.read_text()
    lib.write_text(original.replace("40", "41"))
    step(EXPECTED_OUTPUT.replace("answer=42", "answer=43"), misses=2)
    lib.write_text(original)
    step(EXPECTED_OUTPUT, misses=0, hits=2)  # back to a state the cache has seen

    # An include_str! file.
    data = workspace / "envinc/data.txt"
    data.write_text("included text v2\n")
    step(EXPECTED_OUTPUT.replace("included text v1", "included text v2"), misses=2)

    # An option_env! variable (cargo tracks it through rustc's dep-info).
    greeted = EXPECTED_OUTPUT.replace("included text v1", "included text v2").replace("no greeting", "hello")
    step(greeted, misses=2, env={"PYCACHE_TEST_GREETING": "hello"})
    data.write_text("included text v1\n")
    step(EXPECTED_OUTPUT, misses=0, hits=2)

    # A feature flag: corelib with the feature (and its build script, which
    # sees the feature as a cfg) is another crate for cargo and for us.
    cargo.build("--features", "app/extra")
    counts = delta(pycache_env)
    assert (counts["misses"], counts["hits"]) == (3, 0), counts
    assert cargo.app() == EXPECTED_OUTPUT.replace("extra off", "extra on")

    # RUSTFLAGS: every crate is rebuilt. Without them again, after a clean,
    # every crate comes from the cache, as the flags' own build did not
    # overwrite the plain entries.
    cargo.build(env={"RUSTFLAGS": "--cfg pycache_flag"})
    counts = delta(pycache_env)
    assert (counts["misses"], counts["hits"]) == (CRATES_PER_BUILD, 0), counts
    assert cargo.app() == EXPECTED_OUTPUT.replace("flag off", "flag on")
    cargo.clean()
    cargo.build()
    counts = delta(pycache_env)
    assert (counts["misses"], counts["hits"]) == (0, CRATES_PER_BUILD), counts
    assert cargo.app() == EXPECTED_OUTPUT

    # The build script's output (an env var it sets): corelib and app.
    (workspace / "corelib/build_input.txt").write_text("from build script v2\n")
    step(EXPECTED_OUTPUT.replace("v1\ncfg", "v2\ncfg"), misses=2)


def test_copy_in_another_directory_hits(pycache_env, tmp_path, workspace):
    """No PYCACHE_BASEDIRS: the workspace root is a base directory by default."""
    cargo = Cargo(pycache_env, workspace)
    cargo.build()
    assert delta(pycache_env)["misses"] == CRATES_PER_BUILD
    reference = artifacts(workspace)

    copy = tmp_path / "elsewhere" / "checkout"
    shutil.copytree(workspace, copy, ignore=shutil.ignore_patterns("target"))
    other = Cargo(pycache_env, copy)
    other.build()
    counts = delta(pycache_env)
    assert (counts["hits"], counts["misses"], counts["errors"]) == (CRATES_PER_BUILD, 0, 0), counts
    assert other.app() == EXPECTED_OUTPUT
    assert artifacts(copy) == reference
    # The restored dep-info names the copy, so cargo tracks the copy's sources.
    dep_info = next((copy / "target/release/deps").glob("envinc-*.d")).read_text()
    assert str(copy) in dep_info and str(workspace) not in dep_info
    (copy / "envinc/data.txt").write_text("changed in the copy\n")
    other.build()
    assert "data=changed in the copy" in other.app()


def test_debug_build_of_a_copy_keys_the_path(pycache_env, tmp_path, workspace):
    """Debug info names the checkout: a copy must not get the first one's objects."""
    cargo = Cargo(pycache_env, workspace)
    cargo.run("build")
    first = delta(pycache_env)
    assert first["misses"] == CRATES_PER_DEBUG_BUILD and first["errors"] == 0
    copy = tmp_path / "copy2"
    shutil.copytree(workspace, copy, ignore=shutil.ignore_patterns("target"))
    Cargo(pycache_env, copy).run("build")
    counts = delta(pycache_env)
    # Only the build script (compiled without debug info) can be shared.
    assert (counts["hits"], counts["misses"]) == (1, CRATES_PER_DEBUG_BUILD - 1), counts
    app = next(p for p in (copy / "target/debug/deps").glob("app-*") if p.suffix == "")
    assert str(copy).encode() in app.read_bytes()


def test_check_and_test_through_the_wrapper(pycache_env, workspace):
    cargo = Cargo(pycache_env, workspace)
    cargo.run("check")
    assert delta(pycache_env)["misses"] > 0
    cargo.clean()
    cargo.run("check")
    counts = delta(pycache_env)
    assert counts["misses"] == 0 and counts["hits"] > 0 and counts["errors"] == 0, counts

    done = cargo.run("test")
    assert "test tests::base_is_forty ... ok" in done.stdout
    cargo.clean()
    delta(pycache_env)
    done = cargo.run("test")
    assert "test tests::base_is_forty ... ok" in done.stdout
    counts = delta(pycache_env)
    assert counts["misses"] == 0 and counts["hits"] > 0 and counts["errors"] == 0, counts


def test_incremental_passes_through(pycache_env, workspace):
    cargo = Cargo(pycache_env, workspace)
    cargo.run("build", env={"CARGO_INCREMENTAL": "1"})
    counts = delta(pycache_env)
    assert counts["reasons"].get("incremental", 0) >= 6 and counts["errors"] == 0, counts
    out = subprocess.run([str(workspace / "target/debug/app")], capture_output=True, text=True, check=True).stdout
    assert out == EXPECTED_OUTPUT


def test_pycache_rustc_directly_through_the_rustup_proxy(pycache_env, tmp_path):
    """`pycache rustc ...` as a user types it: rustc on PATH may be a rustup
    proxy; calls are cached, and a module file that would now be found twice
    makes the call fail as it does without pycache."""
    src = tmp_path / "src"
    src.mkdir()
    (src / "lib.rs").write_text("mod m;\npub fn f() -> u32 { m::g() }\n")
    (src / "m.rs").write_text("pub fn g() -> u32 { 7 }\n")
    command = ["rustc", "--crate-name", "direct", "--crate-type", "lib", "--emit=link,dep-info", "--out-dir", "out", "src/lib.rs"]
    (tmp_path / "out").mkdir()
    for _ in range(2):
        done = pycache_env.compile(*command, cwd=tmp_path)
        assert done.returncode == 0, done.stderr.decode()
    counts = delta(pycache_env)
    assert (counts["misses"], counts["hits"], counts["direct_hits"], counts["errors"]) == (1, 1, 1, 0), counts
    assert (tmp_path / "out" / "libdirect.rlib").is_file() and (tmp_path / "out" / "direct.d").is_file()

    # Probes pass straight through.
    version = pycache_env.compile("rustc", "-vV", cwd=tmp_path)
    assert version.returncode == 0 and b"release:" in version.stdout

    (src / "m").mkdir()
    (src / "m" / "mod.rs").write_text("pub fn g() -> u32 { 8 }\n")
    failed = pycache_env.compile(*command, cwd=tmp_path)
    assert failed.returncode != 0 and b"found at both" in failed.stderr
