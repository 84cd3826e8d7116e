"""Table-driven parsing of rustc command lines (issue 4, part 3).

The command lines are cargo's own, captured with a logging RUSTC_WRAPPER from
`cargo build`, `cargo build --release`, `cargo check` and `cargo test` on the
workspace that tests/rustc/test_cargo_build.py writes ({ROOT} is its root).
"""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest

from pycache_core.api import Invocation, NotCacheable, NotCompilation, ParsedInvocation
from pycache_rustc import arguments, environment, hooks
from pycache_rustc.arguments import Extern, NativeLib, SearchPath

ROOT = "/work/ws"

JSON = "--error-format=json --json=diagnostic-rendered-ansi,artifacts,future-incompat"
CHECK_CFG = "--check-cfg 'cfg(docsrs,test)' --check-cfg 'cfg(feature, values())'"

# Captured from cargo 1.95 (`cargo build -v`), with CARGO_INCREMENTAL=0 for
# the cacheable ones (cargo's dev profile adds -C incremental to workspace
# members otherwise).
LIB_DEV = (
    f"--crate-name envinc --edition=2021 envinc/src/lib.rs {JSON} --crate-type lib "
    f"--emit=dep-info,metadata,link -C embed-bitcode=no -C debuginfo=2 {CHECK_CFG} "
    "-C metadata=ac318df5d60dca34 -C extra-filename=-6a30abd72fdbbd98 "
    "--out-dir {ROOT}/target/debug/deps -L dependency={ROOT}/target/debug/deps"
)
LIB_INCREMENTAL = LIB_DEV + " -C incremental={ROOT}/target/debug/incremental"
BUILD_SCRIPT = (
    f"--crate-name build_script_build --edition=2021 corelib/build.rs {JSON} --crate-type bin "
    "--emit=dep-info,link -C embed-bitcode=no --check-cfg 'cfg(docsrs,test)' "
    "--check-cfg 'cfg(feature, values(\"extra\"))' -C metadata=f242f7c456bb78c2 "
    "-C extra-filename=-3d3e245540eab723 --out-dir {ROOT}/target/debug/build/corelib-3d3e245540eab723 "
    "-L dependency={ROOT}/target/debug/deps"
)
PROC_MACRO = (
    f"--crate-name macros --edition=2021 macros/src/lib.rs {JSON} --crate-type proc-macro "
    f"--emit=dep-info,link -C prefer-dynamic -C embed-bitcode=no -C debuginfo=2 {CHECK_CFG} "
    "-C metadata=1d61a06786133913 -C extra-filename=-10f8c2335f2f2fd4 --out-dir {ROOT}/target/debug/deps "
    "-L dependency={ROOT}/target/debug/deps --extern proc_macro"
)
LIB_WITH_BUILD_OUTPUT = (
    f"--crate-name corelib --edition=2021 corelib/src/lib.rs {JSON} --crate-type lib "
    "--emit=dep-info,metadata,link -C opt-level=3 -C embed-bitcode=no --check-cfg 'cfg(docsrs,test)' "
    "--check-cfg 'cfg(feature, values(\"extra\"))' -C metadata=90d191bca0d5903f "
    "-C extra-filename=-c58c0f79de2d2604 --out-dir {ROOT}/target/release/deps -C strip=debuginfo "
    "-L dependency={ROOT}/target/release/deps --cfg has_build_cfg --check-cfg 'cfg(has_build_cfg)'"
)
BIN_RELEASE = (
    f"--crate-name app --edition=2021 app/src/main.rs {JSON} --crate-type bin --emit=dep-info,link "
    "-C opt-level=3 -C embed-bitcode=no --check-cfg 'cfg(docsrs,test)' --check-cfg 'cfg(feature, values(\"extra\"))' "
    "-C metadata=ceb78386a08361bc -C extra-filename=-c1ec5089fd38d581 --out-dir {ROOT}/target/release/deps "
    "-C strip=debuginfo -L dependency={ROOT}/target/release/deps "
    "--extern corelib={ROOT}/target/release/deps/libcorelib-c58c0f79de2d2604.rlib "
    "--extern envinc={ROOT}/target/release/deps/libenvinc-805386713b65c9b1.rlib "
    "--extern macros={ROOT}/target/release/deps/libmacros-bdeb158e3211743d.so"
)
CDYLIB = (
    f"--crate-name cdyfoo --edition=2021 cdyfoo/src/lib.rs {JSON} --crate-type cdylib --emit=dep-info,link "
    f"-C opt-level=3 -C embed-bitcode=no {CHECK_CFG} -C metadata=9f340753039db9b0 "
    "--out-dir {ROOT}/target/release/deps -C strip=debuginfo -L dependency={ROOT}/target/release/deps"
)
STATICLIB = (
    f"--crate-name staticfoo --edition=2021 staticfoo/src/lib.rs {JSON} --crate-type staticlib "
    f"--emit=dep-info,link -C embed-bitcode=no -C debuginfo=2 {CHECK_CFG} -C metadata=c853293b7b3671d6 "
    "-C extra-filename=-5c27c10650ed0ae2 --out-dir {ROOT}/target/debug/deps -L dependency={ROOT}/target/debug/deps"
)
CHECK_BIN = (
    f"--crate-name app --edition=2021 app/src/main.rs {JSON} --crate-type bin --emit=dep-info,metadata "
    "-C embed-bitcode=no -C debuginfo=2 --check-cfg 'cfg(docsrs,test)' --check-cfg 'cfg(feature, values(\"extra\"))' "
    "-C metadata=f394586cf18e5ade -C extra-filename=-77d2e4667ee9e637 --out-dir {ROOT}/target/debug/deps "
    "-L dependency={ROOT}/target/debug/deps "
    "--extern corelib={ROOT}/target/debug/deps/libcorelib-0f3ccbd5ba8a67af.rmeta "
    "--extern envinc={ROOT}/target/debug/deps/libenvinc-7f46f7a1e59a5591.rmeta "
    "--extern macros={ROOT}/target/debug/deps/libmacros-4fc814a019848656.so"
)
TEST_HARNESS = (
    f"--crate-name corelib --edition=2021 corelib/src/lib.rs {JSON} --emit=dep-info,link -C embed-bitcode=no "
    "-C debuginfo=2 --test --check-cfg 'cfg(docsrs,test)' --check-cfg 'cfg(feature, values(\"extra\"))' "
    "-C metadata=7f9865a6c84c4ebe -C extra-filename=-71f14c4a7b0ce7a3 --out-dir {ROOT}/target/debug/deps "
    "-L dependency={ROOT}/target/debug/deps --cfg has_build_cfg --check-cfg 'cfg(has_build_cfg)'"
)
PROBE_FILE_NAMES = (
    "- --crate-name ___ --print=file-names --crate-type bin --crate-type rlib --crate-type dylib "
    "--crate-type cdylib --crate-type staticlib --crate-type proc-macro --print=sysroot "
    "--print=split-debuginfo --print=crate-name --print=cfg -Wwarnings"
)


def argv(line: str) -> list[str]:
    return shlex.split(line.replace("{ROOT}", ROOT))


def parse(line: str | list[str], cwd: str = ROOT):
    return arguments.parse(argv(line) if isinstance(line, str) else line, Path(cwd))


# --- cacheable command lines: outputs ---------------------------------------------

OUTPUT_CASES = [
    (
        "lib, dev profile",
        LIB_DEV,
        {
            "rlib": f"{ROOT}/target/debug/deps/libenvinc-6a30abd72fdbbd98.rlib",
            "rmeta": f"{ROOT}/target/debug/deps/libenvinc-6a30abd72fdbbd98.rmeta",
            "dep-info": f"{ROOT}/target/debug/deps/envinc-6a30abd72fdbbd98.d",
        },
    ),
    (
        "build script",
        BUILD_SCRIPT,
        {
            "bin": f"{ROOT}/target/debug/build/corelib-3d3e245540eab723/build_script_build-3d3e245540eab723",
            "dep-info": f"{ROOT}/target/debug/build/corelib-3d3e245540eab723/build_script_build-3d3e245540eab723.d",
        },
    ),
    (
        "proc-macro",
        PROC_MACRO,
        {
            "proc-macro": f"{ROOT}/target/debug/deps/libmacros-10f8c2335f2f2fd4.so",
            "dep-info": f"{ROOT}/target/debug/deps/macros-10f8c2335f2f2fd4.d",
        },
    ),
    (
        "bin, release",
        BIN_RELEASE,
        {
            "bin": f"{ROOT}/target/release/deps/app-c1ec5089fd38d581",
            "dep-info": f"{ROOT}/target/release/deps/app-c1ec5089fd38d581.d",
        },
    ),
    (
        "cdylib: cargo gives no extra-filename",
        CDYLIB,
        {"cdylib": f"{ROOT}/target/release/deps/libcdyfoo.so", "dep-info": f"{ROOT}/target/release/deps/cdyfoo.d"},
    ),
    (
        "staticlib",
        STATICLIB,
        {
            "staticlib": f"{ROOT}/target/debug/deps/libstaticfoo-5c27c10650ed0ae2.a",
            "dep-info": f"{ROOT}/target/debug/deps/staticfoo-5c27c10650ed0ae2.d",
        },
    ),
    (
        "cargo check of a bin: metadata only",
        CHECK_BIN,
        {
            "rmeta": f"{ROOT}/target/debug/deps/libapp-77d2e4667ee9e637.rmeta",
            "dep-info": f"{ROOT}/target/debug/deps/app-77d2e4667ee9e637.d",
        },
    ),
    (
        "cargo test harness: --test without --crate-type is a bin",
        TEST_HARNESS,
        {
            "bin": f"{ROOT}/target/debug/deps/corelib-71f14c4a7b0ce7a3",
            "dep-info": f"{ROOT}/target/debug/deps/corelib-71f14c4a7b0ce7a3.d",
        },
    ),
    (
        "several crate types, joined option forms",
        "--crate-name=k --crate-type=rlib,staticlib --emit=link,metadata -Cextra-filename=-x --out-dir=out src/lib.rs",
        {"rlib": "out/libk-x.rlib", "staticlib": "out/libk-x.a", "rmeta": "out/libk-x.rmeta"},
    ),
    (
        "wasm cdylib",
        "--crate-name w --crate-type cdylib --target wasm32-unknown-unknown --out-dir o src/lib.rs",
        {"cdylib": "o/w.wasm"},
    ),
    (
        "-o with one output",
        "--crate-name m --crate-type bin -o out/prog main.rs",
        {"bin": "out/prog"},
    ),
    (
        "explicit --emit paths",
        "--crate-name m --crate-type lib --emit=link=a/m.rlib,dep-info=d/m.d src/lib.rs",
        {"rlib": "a/m.rlib", "dep-info": "d/m.d"},
    ),
    (
        "packed split debuginfo: a .dwp next to the binary",
        "--crate-name m --crate-type bin -C debuginfo=2 -C split-debuginfo=packed --out-dir o main.rs",
        {"bin": "o/m", "dwp": "o/m.dwp"},
    ),
    (
        "no output directory: the working directory",
        "--crate-name m --crate-type lib src/lib.rs",
        {"rlib": "libm.rlib"},
    ),
]


@pytest.mark.parametrize("line, expected", [c[1:] for c in OUTPUT_CASES], ids=[c[0] for c in OUTPUT_CASES])
def test_outputs(line, expected):
    args = parse(line)
    assert isinstance(args, arguments.RustcArgs), args
    assert arguments.output_paths(args) == expected


# --- cacheable command lines: what enters the key ----------------------------------


def test_lib_dev_key_and_paths():
    args = parse(LIB_DEV)
    assert args.crate_name == "envinc"
    assert args.crate_types == ("lib",)
    assert args.emits == ("dep-info", "metadata", "link")
    assert args.stem == "envinc-6a30abd72fdbbd98"
    assert args.debuginfo and args.embeds_paths and not args.links
    assert args.error_format == "json"
    assert args.json == ("diagnostic-rendered-ansi", "artifacts", "future-incompat")
    assert args.key_arguments == (
        "--crate-name=envinc",
        "--edition=2021",
        "--error-format=json",
        "--json=diagnostic-rendered-ansi,artifacts,future-incompat",
        "--crate-type=lib",
        "--emit=dep-info,metadata,link",
        "-Cembed-bitcode=no",
        "-Cdebuginfo=2",
        "--check-cfg=cfg(docsrs,test)",
        "--check-cfg=cfg(feature, values())",
        "-Cmetadata=ac318df5d60dca34",
        "-Cextra-filename=-6a30abd72fdbbd98",
    )
    assert [(p.option, p.value, p.kind) for p in args.path_arguments] == [
        ("input", "envinc/src/lib.rs", "path"),
        ("--out-dir", f"{ROOT}/target/debug/deps", "path"),
        ("-Ldependency", f"{ROOT}/target/debug/deps", "path"),
    ]
    assert args.search_paths == (SearchPath(kind="dependency", path=f"{ROOT}/target/debug/deps"),)


def test_bin_externs_and_linking():
    args = parse(BIN_RELEASE)
    assert args.links and not args.debuginfo and not args.embeds_paths
    assert args.externs == (
        Extern(name="corelib", path=f"{ROOT}/target/release/deps/libcorelib-c58c0f79de2d2604.rlib"),
        Extern(name="envinc", path=f"{ROOT}/target/release/deps/libenvinc-805386713b65c9b1.rlib"),
        Extern(name="macros", path=f"{ROOT}/target/release/deps/libmacros-bdeb158e3211743d.so"),
    )
    assert "--extern=corelib=<file>" in args.key_arguments
    assert "-Cstrip=debuginfo" in args.key_arguments
    # Paths stay out of the key text; they are made portable with the call's context.
    assert not any(ROOT in a for a in args.key_arguments)


def test_proc_macro_sysroot_extern_has_no_path():
    args = parse(PROC_MACRO)
    assert args.externs == (Extern(name="proc_macro", path=None),)
    assert "--extern=proc_macro" in args.key_arguments
    assert "-Cprefer-dynamic" in args.key_arguments
    assert args.links


def test_build_script_outputs_cfg_in_key():
    args = parse(LIB_WITH_BUILD_OUTPUT)
    assert "--cfg=has_build_cfg" in args.key_arguments
    assert "--check-cfg=cfg(has_build_cfg)" in args.key_arguments  # stale check-cfg warnings otherwise
    assert args.codegen_value("opt-level") == "3"


@pytest.mark.parametrize(
    "value, expected",
    [
        ("foo=/p/libfoo.rlib", Extern(name="foo", path="/p/libfoo.rlib")),
        ("noprelude:foo=/p/libfoo.rlib", Extern(name="foo", path="/p/libfoo.rlib", options=("noprelude",))),
        ("priv,noprelude:foo=x.rmeta", Extern(name="foo", path="x.rmeta", options=("priv", "noprelude"))),
        ("proc_macro", Extern(name="proc_macro", path=None)),
    ],
)
def test_extern_forms(value, expected):
    assert arguments.parse_extern(value) == expected


@pytest.mark.parametrize(
    "value, expected",
    [
        ("dependency=/t/deps", SearchPath(kind="dependency", path="/t/deps")),
        ("native=/o/out", SearchPath(kind="native", path="/o/out")),
        ("all=x", SearchPath(kind="all", path="x")),
        ("framework=/F", SearchPath(kind="framework", path="/F")),
        ("/plain/dir", SearchPath(kind="all", path="/plain/dir")),
        ("weird=dir", SearchPath(kind="all", path="weird=dir")),
    ],
)
def test_search_path_forms(value, expected):
    assert arguments.parse_search_path(value) == expected


@pytest.mark.parametrize(
    "value, expected",
    [
        ("z", NativeLib(kind="dylib", modifiers=(), name="z")),
        ("static=foo", NativeLib(kind="static", modifiers=(), name="foo")),
        ("static:+whole-archive,-bundle=foo", NativeLib(kind="static", modifiers=("+whole-archive", "-bundle"), name="foo")),
        ("dylib=ssl:myssl", NativeLib(kind="dylib", modifiers=(), name="ssl", rename="myssl")),
        ("static:+verbatim=libx.a", NativeLib(kind="static", modifiers=("+verbatim",), name="libx.a")),
    ],
)
def test_native_lib_forms(value, expected):
    assert arguments.parse_native_lib(value) == expected


def test_short_and_long_spellings_agree():
    long = parse("--crate-name a --crate-type lib --codegen opt-level=2 --allow dead_code --warn x -L native=n src/lib.rs")
    short = parse("--crate-name=a --crate-type=lib -Copt-level=2 -Adead_code -Wx -Lnative=n src/lib.rs")
    assert long.key_arguments == short.key_arguments
    assert long.path_arguments == short.path_arguments


def test_order_and_delimiters_matter():
    # "-C a=b" twice vs once with both: different keys.
    one = parse("--crate-name a --crate-type lib --cfg x --cfg y src/lib.rs")
    other = parse("--crate-name a --crate-type lib --cfg 'x --cfg y' src/lib.rs")
    assert one.key_arguments != other.key_arguments


def test_link_args_and_linker_are_path_arguments():
    args = parse("--crate-name a --crate-type bin -C linker=/opt/cc -C link-arg=-Wl,-T,/w/link.ld -C link-args='-a -b' main.rs")
    assert [(p.option, p.value, p.kind) for p in args.path_arguments] == [
        ("input", "main.rs", "path"),
        ("-Clinker", "/opt/cc", "path"),
        ("-Clink-arg", "-Wl,-T,/w/link.ld", "text"),
        ("-Clink-args", "-a -b", "text"),
    ]
    assert args.codegen_value("linker") == "/opt/cc"


def test_remap_and_target_json():
    args = parse("--crate-name a --crate-type lib --remap-path-prefix /w=/src --target specs/my.json src/lib.rs")
    assert args.remaps == (("/w", "/src"),)
    assert [(p.option, p.value, p.kind) for p in args.path_arguments][1:] == [
        ("--remap-path-prefix", "/w=/src", "remap"),
        ("--target", "specs/my.json", "path"),
    ]
    assert not any(a.startswith("--target") for a in args.key_arguments)


def test_argfile_is_expanded(tmp_path):
    (tmp_path / "args.txt").write_text("--crate-name\nfromfile\n--crate-type\nlib\n--cfg\nfeature=\"a b\"\n")
    args = parse(["@args.txt", "src/lib.rs", "--out-dir", "o"], cwd=str(tmp_path))
    assert args.crate_name == "fromfile"
    assert '--cfg=feature="a b"' in args.key_arguments
    assert arguments.output_paths(args) == {"rlib": "o/libfromfile.rlib"}


def test_color_diagnostic_width_and_lints_are_key_text():
    args = parse("--crate-name a --crate-type lib --color always --diagnostic-width=80 --cap-lints warn -D warnings src/lib.rs")
    assert args.key_arguments[-4:] == ("--color=always", "--diagnostic-width=80", "--cap-lints=warn", "-Dwarnings")


def test_print_during_compile_is_cacheable():
    args = parse("--crate-name a --crate-type staticlib --print native-static-libs src/lib.rs")
    assert isinstance(args, arguments.RustcArgs)
    assert "--print=native-static-libs" in args.key_arguments


# --- refused command lines ------------------------------------------------------------

REFUSED = [
    ("-vV", NotCompilation, "version"),
    ("--version", NotCompilation, "version"),
    ("-V", NotCompilation, "version"),
    (PROBE_FILE_NAMES, NotCompilation, "stdin"),
    ("--print sysroot", NotCompilation, "print"),
    ("--crate-name a --crate-type lib --print cfg src/lib.rs", NotCompilation, "print"),
    ("--explain E0308", NotCompilation, "explain"),
    ("-C help", NotCompilation, "help"),
    ("--crate-type lib", NotCompilation, "no-input"),
    (LIB_INCREMENTAL, NotCacheable, "incremental"),
    ("--crate-name a --crate-type lib --frobnicate src/lib.rs", NotCacheable, "unknown-option"),
    ("--crate-name a --crate-type lib -Q src/lib.rs", NotCacheable, "unknown-option"),
    ("--crate-name a --crate-type lib a.rs b.rs", NotCacheable, "multiple-inputs"),
    ("--crate-name a src/lib.rs", NotCacheable, "crate-type-implicit"),
    ("--crate-type lib src/lib.rs", NotCacheable, "crate-name-implicit"),
    ("--crate-name a --crate-type lib --emit=link,asm src/lib.rs", NotCacheable, "emit-kind"),
    ("--crate-name a --crate-type lib --emit=bogus src/lib.rs", NotCacheable, "unknown-emit"),
    ("--crate-name a --crate-type weird src/lib.rs", NotCacheable, "unknown-crate-type"),
    ("--crate-name a --crate-type lib -C save-temps src/lib.rs", NotCacheable, "save-temps"),
    ("--crate-name a --crate-type lib -o - src/lib.rs", NotCacheable, "output-to-stdout"),
    ("--crate-name a --crate-type lib --emit=dep-info,link -o x src/lib.rs", NotCacheable, "output-file-multiple-emits"),
    ("--crate-name a --crate-type staticlib --print native-static-libs=f.txt src/lib.rs", NotCacheable, "print-to-file"),
    ("--crate-name a --crate-type lib --remap-path-prefix nothing src/lib.rs", NotCacheable, "bad-remap"),
    ("--crate-name a --crate-type lib --out-dir", NotCacheable, "missing-value"),
    ("--crate-name a --crate-type lib @/nonexistent/args src/lib.rs", NotCacheable, "argfile-unreadable"),
]


@pytest.mark.parametrize("line, kind, reason", REFUSED, ids=[r[2] + ":" + r[0][:30] for r in REFUSED])
def test_refused(line, kind, reason):
    outcome = parse(line)
    assert isinstance(outcome, kind), outcome
    assert outcome.reason == reason


REFUSED_OUTPUTS = [
    ("--crate-name m --crate-type bin -C debuginfo=2 -C split-debuginfo=unpacked main.rs", "split-debuginfo-unpacked"),
    ("--crate-name m --crate-type bin --target x86_64-pc-windows-msvc main.rs", "target-layout"),
    ("--crate-name m --crate-type cdylib --target specs/t.json src/lib.rs", "target-layout"),
    ("--crate-name m --crate-type dylib --crate-type cdylib src/lib.rs", "output-collision"),
]


@pytest.mark.parametrize("line, reason", REFUSED_OUTPUTS, ids=[r[1] for r in REFUSED_OUTPUTS])
def test_refused_outputs(line, reason):
    args = parse(line)
    assert isinstance(args, arguments.RustcArgs), args
    outcome = arguments.output_paths(args)
    assert isinstance(outcome, NotCacheable) and outcome.reason == reason, outcome


def test_unpacked_split_debuginfo_without_debuginfo_is_fine():
    args = parse("--crate-name m --crate-type bin -C split-debuginfo=unpacked --out-dir o main.rs")
    assert arguments.output_paths(args) == {"bin": "o/m"}


def test_rlib_for_json_target_is_named():
    args = parse("--crate-name m --crate-type lib --target specs/t.json --out-dir o src/lib.rs")
    assert arguments.output_paths(args) == {"rlib": "o/libm.rlib"}


# --- the dep-info run's arguments -----------------------------------------------------


def test_discovery_arguments_drop_outputs_and_diagnostics():
    args = parse(BIN_RELEASE)
    kept = arguments.discovery_arguments(args.expanded)
    assert "--out-dir" not in kept and not any(k.startswith(("--emit", "--json", "--error-format")) for k in kept)
    assert kept[:3] == ["--crate-name", "app", "--edition=2021"]
    assert "--extern" in kept and f"corelib={ROOT}/target/release/deps/libcorelib-c58c0f79de2d2604.rlib" in kept
    assert kept[-6:] == argv(BIN_RELEASE)[-6:]


def test_discovery_arguments_keep_test_and_cfg():
    kept = arguments.discovery_arguments(parse(TEST_HARNESS).expanded)
    assert "--test" in kept and "has_build_cfg" in kept


# --- the hook: ParsedInvocation -------------------------------------------------------


def _invocation(line: str, *, tty: bool = False, env: dict | None = None) -> Invocation:
    return Invocation(
        compiler=Path("/toolchain/bin/rustc"),
        invoked_as="/toolchain/bin/rustc",
        arguments=tuple(argv(line)),
        cwd=Path(ROOT),
        env=env or {"PATH": "/usr/bin"},
        family="rustc",
        stderr_is_tty=tty,
    )


def _family():
    return hooks.pycache_register_compilers()[0]


def test_hook_parses_cargo_lib():
    parsed = hooks.pycache_parse_arguments(invocation=_invocation(LIB_DEV), family=_family())
    assert isinstance(parsed, ParsedInvocation)
    assert parsed.language == "rust"
    assert parsed.sources == (Path("envinc/src/lib.rs"),)
    assert set(parsed.outputs) == {"rlib", "rmeta", "dep-info"}
    assert all(slot.required for slot in parsed.outputs.values())
    assert parsed.run_arguments is None and parsed.run_environment is None
    assert not parsed.colour_diagnostics


def test_hook_forces_colour_for_a_terminal_only_with_human_diagnostics():
    human = "--crate-name a --crate-type lib src/lib.rs"
    parsed = hooks.pycache_parse_arguments(invocation=_invocation(human, tty=True), family=_family())
    assert parsed.run_arguments[-1] == "--color=always" and parsed.key_arguments[-1] == "--color=always"
    assert parsed.colour_diagnostics
    as_json = hooks.pycache_parse_arguments(invocation=_invocation(LIB_DEV, tty=True), family=_family())
    assert as_json.run_arguments is None


def test_hook_drops_an_fd_jobserver_from_the_compile_environment():
    env = {"PATH": "/usr/bin", "CARGO_MAKEFLAGS": "-j --jobserver-fds=6,7 --jobserver-auth=6,7", "CARGO_PKG_NAME": "x"}
    parsed = hooks.pycache_parse_arguments(invocation=_invocation(LIB_DEV, env=env), family=_family())
    assert parsed.run_environment == {"PATH": "/usr/bin", "CARGO_PKG_NAME": "x"}
    fifo = {"CARGO_MAKEFLAGS": "-j --jobserver-auth=fifo:/tmp/js"}
    assert environment.run_environment(fifo) is None


def test_hook_ignores_other_families():
    other = hooks.pycache_register_compilers()[0].__class__(name="gcc", executables=("gcc",), cache_version="1", api_version=1)
    assert hooks.pycache_parse_arguments(invocation=_invocation(LIB_DEV), family=other) is None


@pytest.mark.parametrize(
    "name, matches",
    [("rustc", True), ("rustc.exe", True), ("rustc-1.95", True), ("rustup", False), ("rustdoc", False), ("clippy-driver", False)],
)
def test_family_executables(name, matches):
    assert _family().matches(name) is matches


# --- environment allow-list ---------------------------------------------------------------


def test_keyed_variables():
    env = {
        "CARGO_PKG_NAME": "x",
        "CARGO_PKG_AUTHORS": "a",
        "CARGO_MANIFEST_DIR": "/w/x",
        "CARGO_PRIMARY_PACKAGE": "1",
        "CARGO_MAKEFLAGS": "-j --jobserver-fds=6,7",
        "CARGO_BUILD_JOBS": "4",
        "CARGO_REGISTRY_TOKEN": "secret",
        "CARGO_REGISTRIES_MY_TOKEN": "secret",
        "CARGO_TERM_COLOR": "always",
        "CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_LINKER": "clang",
        "CARGO_INCREMENTAL": "0",
        "CARGO": "/t/bin/cargo",
        "RUSTC_BOOTSTRAP": "1",
        "HOME": "/root",
        "AWS_SECRET_ACCESS_KEY": "x",
    }
    assert environment.keyed_variables(env) == [
        "CARGO_MANIFEST_DIR",
        "CARGO_PKG_AUTHORS",
        "CARGO_PKG_NAME",
        "CARGO_PRIMARY_PACKAGE",
        "RUSTC_BOOTSTRAP",
    ]
