"""Issue 13 B8-B10 for rustc, at the level of one call's key (real rustc).

B8: `PYCACHE_RUSTC_ENV` names extra variables for every key; every
`# env-dep:` form rustc writes is keyed (names and values with newlines,
backslashes, `=`, empty and unset). B9: what link arguments make the linker
read is keyed wherever the linker finds it (a `-T` script on a `-L` path and
what it `INCLUDE`s), what they make it write is refused, as are response
files and unstable options pycache does not know. B10: a rustup proxy's
`+toolchain`, a proxy's identity, a wrapper script, a custom target found
through `RUST_TARGET_PATH`. The cargo-level behaviour of the same is in
test_cargo_hardening.py.
"""

from __future__ import annotations

import os
import select
import shutil
import subprocess
from pathlib import Path

import pytest

from pycache_core.api import Invocation, KeyComponent, NotCacheable, ParsedInvocation
from pycache_rustc import depinfo, hooks, toolchain

from .test_key_components import Call, blake3_of, crate, lib_arguments, real_rustc  # noqa: F401 (fixture)

pytestmark = pytest.mark.skipif(shutil.which("rustc") is None, reason="rustc is not installed")


def components(call: Call) -> dict:
    return {c.name: c.value for c in call.key_dependencies()}


# --- B8 -----------------------------------------------------------------------------


def test_rustc_env_setting_keys_named_and_globbed_variables(crate):
    env = {
        "PYCACHE_RUSTC_ENV": "MY_MACRO_*, PYC_PLAIN:PYC_SET",
        "MY_MACRO_A": "1",
        "MY_MACRO_B": "two words",
        "MY_MACRO_TOKEN": "hunter2",
        "PYC_SET": "",
        "OTHER": "not named",
    }
    direct = {c.name: c.value for c in Call(crate, lib_arguments(crate), env=env).direct()}
    assert direct["env:MY_MACRO_A"] == "1"
    assert direct["env:MY_MACRO_B"] == "two words"
    assert direct["env:MY_MACRO_TOKEN"].startswith("blake3:") and "hunter2" not in str(direct)
    assert direct["env:PYC_PLAIN"] == "\0unset"  # named, unset: setting it later must miss
    assert direct["env:PYC_SET"] == ""
    assert "env:OTHER" not in direct
    # A changed value, a variable the glob now matches: different keys.
    changed = {c.name: c.value for c in Call(crate, lib_arguments(crate), env={**env, "MY_MACRO_A": "2"}).direct()}
    assert changed["env:MY_MACRO_A"] == "2"
    more = {c.name: c.value for c in Call(crate, lib_arguments(crate), env={**env, "MY_MACRO_C": "x"}).direct()}
    assert more["env:MY_MACRO_C"] == "x"
    # Without the setting none of them is keyed.
    plain = {c.name for c in Call(crate, lib_arguments(crate), env={k: v for k, v in env.items() if k != "PYCACHE_RUSTC_ENV"}).direct()}
    assert not any(n.startswith(("env:MY_MACRO", "env:PYC_")) for n in plain)


def test_a_path_variable_named_in_rustc_env_is_keyed_as_it_is(crate):
    """CARGO_MANIFEST_DIR is keyed with its base directory made portable (two
    checkouts share results) unless PYCACHE_RUSTC_ENV names it: a proc-macro
    that embeds the value then keeps the result with its checkout."""
    env = {"CARGO_MANIFEST_DIR": str(crate)}
    portable = {c.name: c.value for c in Call(crate, lib_arguments(crate), env=env).direct()}
    assert portable["env:CARGO_MANIFEST_DIR"] == "<BASEDIR:cwd>"
    named = {c.name: c.value for c in Call(crate, lib_arguments(crate), env={**env, "PYCACHE_RUSTC_ENV": "CARGO_MANIFEST_DIR"}).direct()}
    assert named["env:CARGO_MANIFEST_DIR"] == str(crate)


ODD_VALUE = "line1\nline2\\x\r\x0cform\u2028sep"


def test_every_env_dep_form_is_keyed(crate):
    (crate / "src" / "lib.rs").write_text(
        'pub fn a() -> Option<&\'static str> { option_env!("PYC_MULTI") }\n'
        'pub fn b() -> Option<&\'static str> { option_env!("PYC\\nNL") }\n'
        'pub fn c() -> Option<&\'static str> { option_env!("PYC_UNSET_X") }\n'
        'pub fn d() -> Option<&\'static str> { option_env!("PYC_EMPTY") }\n'
        'pub fn e() -> Option<&\'static str> { option_env!("PYC_EQ") }\n'
    )
    env = {"PYC_MULTI": ODD_VALUE, "PYC\nNL": "v1", "PYC_EMPTY": "", "PYC_EQ": "a=b"}
    call = Call(crate, lib_arguments(crate), env=env)
    keyed = {k: v for k, v in components(call).items() if k.startswith(("env-dep:", "file:"))}
    assert keyed == {
        "file:src/lib.rs": blake3_of(crate / "src" / "lib.rs"),
        "env-dep:PYC\nNL": "v1",  # rustc escapes the name too
        "env-dep:PYC_EMPTY": "",
        "env-dep:PYC_EQ": "a=b",
        "env-dep:PYC_MULTI": ODD_VALUE,  # \x0c and \u2028 do not end a dep-info line
        "env-dep:PYC_UNSET_X": "\0unset",
    }
    # The name with a newline is what the manifest records and re-checks.
    deps = call.collect(call.compile()).dependencies
    assert "PYC\nNL" in deps.env_names and len(deps.env_names) == 5
    other = Call(crate, lib_arguments(crate), env={**env, "PYC\nNL": "v2"})
    assert components(other)["env-dep:PYC\nNL"] == "v2"


def test_depinfo_parser_unescapes_names_and_splits_on_newlines_only():
    info = depinfo.parse("x.d: a.rs\n\na.rs:\n\n# env-dep:A\\nB=1\\\\n\n# env-dep:C=x\x0cy\u2028z\n")
    assert info.files == ("a.rs",)
    assert info.env == (("A\nB", "1\\n"), ("C", "x\x0cy\u2028z"))


# --- B9 -----------------------------------------------------------------------------


def bin_arguments(*extra: str) -> list[str]:
    return ["--crate-name", "app", "src/main.rs", "--crate-type", "bin", "--emit=dep-info,link", "--out-dir", "o", *extra]


def test_linker_script_found_on_a_search_path_and_what_it_includes(crate, tmp_path):
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    (out_dir / "link.x").write_text("/* from a build script */\nINCLUDE memory.x\nSECTIONS { .x : { *(.x) } } INSERT AFTER .text;\n")
    (out_dir / "memory.x").write_text("INCLUDE \"device.x\"\nPROVIDE(answer = one);\n")
    (out_dir / "device.x").write_text("/* INCLUDE commented.x */\n")
    args = bin_arguments("-L", str(out_dir), "-C", "link-arg=-Tlink.x")
    direct = {c.name: c.value for c in Call(crate, args).direct()}
    for name in ("link.x", "memory.x", "device.x"):
        assert direct[f"link-file:{out_dir}/{name}"] == blake3_of(out_dir / name)
    # A script of the same name in the working directory comes first.
    (crate / "link.x").write_text("INCLUDE memory.x\n")
    direct = {c.name: c.value for c in Call(crate, args).direct()}
    assert "link-file:<BASEDIR:cwd>/link.x" in direct and f"link-file:{out_dir}/link.x" not in direct
    (crate / "link.x").unlink()
    # An included file nowhere to be found: the link cannot be keyed.
    (out_dir / "memory.x").write_text("INCLUDE nowhere.x\n")
    outcome = Call(crate, args).direct()
    assert isinstance(outcome, NotCacheable) and outcome.reason == "link-file-not-found"
    outcome = Call(crate, bin_arguments("-C", "link-arg=-Tmissing.x")).direct()
    assert isinstance(outcome, NotCacheable) and outcome.reason == "link-file-not-found"


def test_scripts_input_group_and_search_dir(crate, tmp_path):
    lib_dir = tmp_path / "libs"
    lib_dir.mkdir()
    subprocess.run(["cc", "-c", "-x", "c", "-", "-o", str(lib_dir / "q.o")], input=b"int q(void){return 1;}\n", check=True)
    subprocess.run(["ar", "rcs", str(lib_dir / "libq.a"), str(lib_dir / "q.o")], check=True)
    script = crate / "extra.ld"
    script.write_text(f"SEARCH_DIR({lib_dir})\nGROUP ( -lq AS_NEEDED ( q.o ) )\n")
    direct = {c.name: c.value for c in Call(crate, bin_arguments("-C", "link-arg=extra.ld")).direct()}
    assert direct["link-file:<BASEDIR:cwd>/extra.ld"] == blake3_of(script)
    assert direct[f"link-file:{lib_dir}/libq.a"] == blake3_of(lib_dir / "libq.a")
    assert direct[f"link-file:{lib_dir}/q.o"] == blake3_of(lib_dir / "q.o")


@pytest.mark.parametrize(
    "link_arg",
    [
        "-Wl,--out-implib=app.lib",
        "-Wl,--dependency-file=app.dep",
        "-save-temps",
        "-Wl,--reproduce=r.tar",
        "-oelsewhere",
        "-Xlinker --dependency-file -Xlinker x.d",
        "-Wl,-Map=one.map -Wl,-Map=two.map",
    ],
)
def test_link_arguments_that_write_files_are_refused(crate, link_arg):
    extra = []
    for word in link_arg.split():
        extra += ["-C", f"link-arg={word}"]
    outcome = Call(crate, bin_arguments(*extra)).parsed
    assert isinstance(outcome, NotCacheable) and outcome.reason == "link-arg-writes-file", outcome


def test_response_files_and_pre_link_args(crate):
    (crate / "args.rsp").write_text("-Tother.x\n")
    outcome = Call(crate, bin_arguments("-C", "link-arg=@args.rsp")).parsed
    assert isinstance(outcome, NotCacheable) and outcome.reason == "link-arg-response-file"
    outcome = Call(crate, bin_arguments("-C", "link-args=-Wl,--gc-sections -Wl,--out-implib=x.lib")).parsed
    assert isinstance(outcome, NotCacheable) and outcome.reason == "link-arg-writes-file"
    # -Z pre-link-args reach the linker like -C link-args.
    (crate / "pre.ld").write_text("/* pre */\n")
    direct = {c.name: c.value for c in Call(crate, bin_arguments("-Z", "pre-link-args=-Tpre.ld")).direct()}
    assert direct["link-file:<BASEDIR:cwd>/pre.ld"] == blake3_of(crate / "pre.ld")


def test_fuse_ld_keys_the_linker_it_selects(crate, tmp_path):
    tools = tmp_path / "tools"
    tools.mkdir()
    lld = shutil.which("ld.lld") or shutil.which("ld.bfd")
    if lld is None:
        pytest.skip("no ld.lld or ld.bfd to select")
    flavour = os.path.basename(lld)[3:]
    shutil.copy(lld, tools / f"ld.{flavour}")
    direct = {c.name: c.value for c in Call(crate, bin_arguments("-C", f"link-arg=-B{tools}", "-C", f"link-arg=-fuse-ld={flavour}")).direct()}
    assert direct["linker:selected"].endswith(blake3_of(tools / f"ld.{flavour}"))
    assert f"link-tools:{tools}" in direct
    outcome = Call(crate, bin_arguments("-C", "link-arg=-fuse-ld=nosuchflavour")).direct()
    assert isinstance(outcome, NotCacheable) and outcome.reason == "linker-not-found"


def test_rlib_keys_the_static_archives_it_may_bundle(crate, tmp_path):
    """`#[link(name = "n", kind = "static")]` in a source bundles libn.a from
    a native search path into the rlib: nothing on the command line says so."""
    native = tmp_path / "native"
    native.mkdir()
    subprocess.run(["cc", "-c", "-x", "c", "-", "-o", str(native / "n.o")], input=b"unsigned n(void){return 1;}\n", check=True)
    subprocess.run(["ar", "rcs", str(native / "libn.a"), str(native / "n.o")], check=True)
    (native / "generated.rs").write_text("// not a library\n")
    direct = {c.name: c.value for c in Call(crate, lib_arguments(crate, "-L", f"native={native}")).direct()}
    assert direct[f"native-dir:{native}"] == ("libn.a " + blake3_of(native / "libn.a"),)
    # cargo check generates no code: nothing is bundled.
    check = [a if a != "--emit=dep-info,metadata,link" else "--emit=dep-info,metadata" for a in lib_arguments(crate, "-L", f"native={native}")]
    assert not any(n.startswith("native-dir:") for n in {c.name for c in Call(crate, check).direct()})


def test_staticlib_is_keyed_by_its_transitive_crates(crate):
    call = Call(crate, lib_arguments(crate))
    call.compile()
    arguments = [
        "--crate-name", "st", "src/main.rs", "--crate-type", "staticlib", "--emit=dep-info,link", "-C", "extra-filename=-9",
        "--out-dir", f"{crate}/target/deps", "-L", f"dependency={crate}/target/deps",
        "--extern", f"golden={crate}/target/deps/libgolden-0123.rlib",
    ]
    (crate / "src" / "main.rs").write_text("extern crate golden;\n#[no_mangle] pub extern \"C\" fn st() -> u32 { golden::twice(2) }\n")
    st = Call(crate, arguments)
    deps = st.discover()
    assert not isinstance(deps, NotCacheable), deps
    # Not deferred: the dep-info run names the rlibs the staticlib bundles.
    assert not deps.deferred
    assert "file:<BASEDIR:cwd>/target/deps/libgolden-0123.rlib" in [c.name for c in deps.components]


@pytest.mark.parametrize("option", ["self-profile", "dump-mir=all", "codegen-backend=cranelift", "profile-sample-use=p.prof", "temps-dir=t"])
def test_unknown_or_file_writing_unstable_options_are_refused(crate, option):
    outcome = Call(crate, lib_arguments(crate, "-Z", option)).parsed
    assert isinstance(outcome, NotCacheable) and outcome.reason == "unstable-option", outcome


def test_known_unstable_options_and_linker_plugins(crate):
    assert isinstance(Call(crate, lib_arguments(crate, "-Z", "share-generics=yes")).parsed, ParsedInvocation)
    outcome = Call(crate, lib_arguments(crate, "-C", "linker-plugin-lto=/usr/lib/LLVMgold.so")).parsed
    assert isinstance(outcome, NotCacheable) and outcome.reason == "linker-plugin"
    assert isinstance(Call(crate, lib_arguments(crate, "-C", "linker-plugin-lto")).parsed, ParsedInvocation)


# --- B10 ----------------------------------------------------------------------------


def proxy_or_skip() -> Path:
    proxy = Path(os.path.expanduser("~/.cargo/bin/rustc"))
    if not proxy.exists() or not toolchain.is_rustup_proxy(proxy):
        pytest.skip("no rustup proxy here")
    return proxy


def other_toolchain(call: Call) -> str:
    home = Path(call.env.get("RUSTUP_HOME") or os.path.expanduser("~/.rustup"))
    names = sorted(p.name for p in (home / "toolchains").iterdir() if (p / "bin" / "rustc").is_file())
    stable = real_rustc().parent.parent.name
    others = [n for n in names if n != stable]
    if not others:
        pytest.skip("only one rustup toolchain installed")
    return others[0]


def test_plus_toolchain_through_the_proxy(crate):
    proxy = proxy_or_skip()
    call = Call(crate, lib_arguments(crate))
    name = other_toolchain(call)
    arguments = (f"+{name}", *lib_arguments(crate))
    invocation = Invocation(compiler=proxy, invoked_as="rustc", arguments=arguments, cwd=crate, env=call.env, family="rustc")
    parsed = hooks.pycache_parse_arguments(invocation=invocation, family=call.family)
    assert isinstance(parsed, ParsedInvocation) and parsed.key_arguments == call.parsed.key_arguments
    call.context.identity = hooks.pycache_probe_compiler(family=call.family, compiler=proxy, env=call.env, context=call.context)
    direct = hooks.pycache_direct_components(invocation=invocation, parsed=parsed, context=call.context)
    home = Path(os.path.expanduser("~/.rustup"))
    chosen = toolchain.toolchain(home / "toolchains" / name / "bin" / "rustc", call.env, call.context)
    default = toolchain.toolchain(real_rustc(), call.env, call.context)
    assert direct[0] == KeyComponent("toolchain", chosen.fingerprint) and chosen.fingerprint != default.fingerprint


def test_wrapper_script_identity_and_per_call_toolchain(crate, tmp_path):
    script = tmp_path / "bin" / "rustc"
    script.parent.mkdir()
    script.write_text(f"#!/bin/sh\nexec {real_rustc()} \"$@\"\n")
    script.chmod(0o755)
    call = Call(crate, lib_arguments(crate))
    identity = hooks.pycache_probe_compiler(family=call.family, compiler=script, env=call.env, context=call.context)
    assert identity.details["script"] == "yes" and identity.path == real_rustc()
    real = toolchain.toolchain(real_rustc(), call.env, call.context)
    assert identity.fingerprint != real.fingerprint
    script.write_text(f"#!/bin/sh\nexec {real_rustc()} --cfg extra \"$@\"\n")
    edited = hooks.pycache_probe_compiler(family=call.family, compiler=script, env=call.env, context=call.context)
    assert edited.fingerprint != identity.fingerprint  # the script's text is its identity
    invocation = Invocation(compiler=script, invoked_as=str(script), arguments=call.invocation.arguments, cwd=crate, env=call.env, family="rustc")
    direct = hooks.pycache_direct_components(invocation=invocation, parsed=call.parsed, context=call.context)
    assert direct[0] == KeyComponent("toolchain", real.fingerprint)


def test_custom_target_found_through_rust_target_path(crate, tmp_path):
    spec = subprocess.run(
        [str(real_rustc()), "-Z", "unstable-options", "--print", "target-spec-json", "--target", "x86_64-unknown-linux-gnu"],
        capture_output=True, text=True, env={**os.environ, "RUSTC_BOOTSTRAP": "1"}, check=True,
    ).stdout
    targets = tmp_path / "targets"
    targets.mkdir()
    (targets / "pycache-custom.json").write_text(spec)
    arguments = lib_arguments(crate, "--target", "pycache-custom")
    call = Call(crate, arguments, env={"RUST_TARGET_PATH": str(targets)})
    direct = {c.name: c.value for c in call.direct()}
    assert direct["target-spec"] == blake3_of(targets / "pycache-custom.json")
    (targets / "pycache-custom.json").write_text(spec.replace('"arch": "x86_64"', '"arch": "x86_64" '))
    assert {c.name: c.value for c in Call(crate, arguments, env={"RUST_TARGET_PATH": str(targets)}).direct()}["target-spec"] != direct["target-spec"]
    outcome = Call(crate, arguments).direct()
    assert isinstance(outcome, NotCacheable) and outcome.reason == "target-spec-not-found"


def test_link_line_libraries_are_found_as_the_linker_finds_them(crate, tmp_path):
    """The -l libraries on the link line a compile prints -- including those
    upstream crates name in their metadata -- are keyed where the linker
    finds them, and earlier candidates must stay absent."""
    from pycache_rustc import linking

    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    (second / "libq.a").write_bytes(b"!<arch>\n")
    (second / "libq.so").write_text("INPUT ( libq_impl.so.1 )\n")  # a linker script, as libc.so is
    (second / "libq_impl.so.1").write_bytes(b"\x7fELF")
    text = (
        'LC_ALL="C" PATH="/usr/bin" "cc" "-m64" "/tmp/x/rustcAbCdEf/symbols.o" "app.app.0-cgu.0.rcgu.o" '
        f'"{crate}/target/deps/libdep-1.rlib" "-Wl,-Bdynamic" "-lq" "-L" "{first}" "-L" "/tmp/x/rustcAbCdEf/raw-dylibs" '
        f'"-L{second}" "-o" "{crate}/target/deps/app-1"'
    )
    line = linking.read_link_line(text)
    assert line.files == (f"{crate}/target/deps/libdep-1.rlib",)
    assert line.search_dirs == (str(first), str(second)) and line.libraries == ("q",)
    call = Call(crate, bin_arguments())
    files, absent = linking.link_line_libraries(line, call.parsed.private, call.invocation, call.context)
    assert files == [second / "libq.so", second / "libq.a", second / "libq_impl.so.1"]
    assert first / "libq.so" in absent and first / "libq.a" in absent
    outcome = linking.link_line_libraries(
        linking.LinkLine(files=(), search_dirs=(str(first),), libraries=("nosuchlibxyz",)), call.parsed.private, call.invocation, call.context
    )
    assert isinstance(outcome, NotCacheable) and outcome.reason == "native-lib-not-found"


@pytest.mark.parametrize("spelling", [["-C", "link-arg=-Wl,-Map=app.map"], ["-C", "link-args=-Xlinker -Map -Xlinker app.map"]])
def test_link_map_is_an_output_restored_on_a_hit(pycache_env, tmp_path, spelling):
    (tmp_path / "main.rs").write_text('fn main() { println!("mapped"); }\n')
    command = ["rustc", "--crate-name", "app", "--crate-type", "bin", "--emit=link,dep-info", "--out-dir", "o", *spelling, "main.rs"]
    (tmp_path / "o").mkdir()
    first = pycache_env.compile(*command, cwd=tmp_path)
    assert first.returncode == 0, first.stderr.decode()
    linked = (tmp_path / "o" / "app").read_bytes()
    link_map = (tmp_path / "app.map").read_bytes()
    assert b"main" in link_map
    (tmp_path / "app.map").unlink()
    (tmp_path / "o" / "app").unlink()
    again = pycache_env.compile(*command, cwd=tmp_path)
    assert again.returncode == 0 and (again.stdout, again.stderr) == (first.stdout, first.stderr)
    counts = pycache_env.stats()["families"]["rustc"]
    assert (counts.get("misses"), counts.get("hits")) == (1, 1), counts
    assert (tmp_path / "app.map").read_bytes() == link_map and (tmp_path / "o" / "app").read_bytes() == linked
    assert subprocess.run([str(tmp_path / "o" / "app")], capture_output=True, text=True).stdout == "mapped\n"



@pytest.mark.parametrize(
    "emit",
    [
        ["--crate-type", "lib", "--emit=metadata"],  # a build script's probe: no dep-info, keyed by a dep-info run
        ["--crate-type", "bin", "--emit=link,dep-info"],  # a linked crate: pycache adds --print link-args to the run
    ],
    ids=["probe-without-dep-info", "linked-crate"],
)
def test_what_pycache_adds_to_a_compile_never_changes_its_bytes(pycache_env, tmp_path, emit):
    """12.3 / B2: whatever pycache appends to a miss's run arguments so that the
    compile reports its inputs must leave the artifacts as rustc alone writes
    them. (An added `--emit dep-info=...` would not: output types enter
    rustc's crate hash, so the rmeta/rlib bytes change -- checked, and why a
    probe keeps its dep-info run.)"""
    (tmp_path / "main.rs").write_text('pub fn answer() -> u32 { 42 }\n#[allow(dead_code)] fn main() { println!("{}", answer()); }\n')
    command = ["rustc", "--edition=2021", "--crate-name", "probe", *emit, "--out-dir", "o", "main.rs"]
    (tmp_path / "o").mkdir()
    subprocess.run(command, cwd=tmp_path, check=True, capture_output=True)
    own = {p.name: p.read_bytes() for p in (tmp_path / "o").iterdir()}
    for expected_hits in (0, 1):
        shutil.rmtree(tmp_path / "o")
        (tmp_path / "o").mkdir()
        done = pycache_env.compile(*command, cwd=tmp_path)
        assert done.returncode == 0, done.stderr.decode()
        assert {p.name: p.read_bytes() for p in (tmp_path / "o").iterdir()} == own
        counts = pycache_env.stats()["families"]["rustc"]
        assert (counts.get("misses"), counts.get("hits", 0)) == (1, expected_hits), counts


def test_a_miss_prints_the_compilers_stderr_while_it_runs(pycache_env, tmp_path):
    """12.3: cargo starts a crate's dependents when rustc prints that the
    crate's metadata is written; a miss that held stderr back until the
    whole compile ended lost that pipelining (bat: 1.39x uncached). Here a
    proc-macro prints a line, then waits until the test has read it from
    the client's stderr: it is printed while the compile still runs, and the
    whole stderr is rustc's own, once, on the miss and on the hit."""
    (tmp_path / "waiter.rs").write_text(
        "extern crate proc_macro;\n"
        "#[proc_macro]\npub fn wait(input: proc_macro::TokenStream) -> proc_macro::TokenStream {\n"
        '    eprintln!("the macro runs");\n'
        '    let go = std::env::var("PYC_TEST_GO").unwrap();\n'
        "    while !std::path::Path::new(&go).exists() { std::thread::sleep(std::time::Duration::from_millis(20)); }\n"
        "    input\n}\n"
    )
    subprocess.run(["rustc", "--edition=2021", "--crate-type", "proc-macro", "--crate-name", "waiter", "waiter.rs"],
                   cwd=tmp_path, check=True, capture_output=True)  # fmt: skip
    (tmp_path / "main.rs").write_text('fn main() { let unused = 1; waiter::wait!(println!("linked")); }\n')
    go = tmp_path / "go"
    env = {"PYC_TEST_GO": str(go)}
    command = ["rustc", "--edition=2021", "--crate-name", "app", "--crate-type", "bin", "--emit=link,dep-info",
               "--out-dir", "o", "--extern", "waiter=libwaiter.so", "main.rs"]  # fmt: skip
    (tmp_path / "o").mkdir()
    go.touch()
    own = subprocess.run(command, cwd=tmp_path, capture_output=True, env={**os.environ, **env})
    assert own.returncode == 0 and own.stderr.startswith(b"the macro runs\n") and b"unused variable" in own.stderr, own.stderr
    go.unlink()
    shutil.rmtree(tmp_path / "o")
    (tmp_path / "o").mkdir()
    client = subprocess.Popen([pycache_env.executable, *command], cwd=tmp_path, env={**pycache_env.env, **env},
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
    early = b""
    while b"\n" not in early:
        # A generous bound that only stops a test that would wait forever.
        if not select.select([client.stderr], [], [], 120)[0]:
            go.touch()
            raise AssertionError(f"nothing on the client's stderr while the compile ran (so far: {early!r})")
        chunk = os.read(client.stderr.fileno(), 65536)
        assert chunk, early
        early += chunk
    assert early == b"the macro runs\n" and client.poll() is None  # the macro still waits
    go.touch()
    rest = client.stderr.read()
    assert client.wait(timeout=600) == 0
    assert early + rest == own.stderr and client.stdout.read() == own.stdout
    assert subprocess.run([str(tmp_path / "o" / "app")], capture_output=True, text=True).stdout == "linked\n"
    (tmp_path / "o" / "app").unlink()
    hit = pycache_env.compile(*command, cwd=tmp_path, env=env)
    assert (hit.returncode, hit.stdout, hit.stderr) == (0, own.stdout, own.stderr)
    counts = pycache_env.stats()["families"]["rustc"]
    assert (counts.get("misses"), counts.get("hits")) == (1, 1), counts


def test_a_crate_with_errors_in_its_source_is_counted_as_source_error(pycache_env, tmp_path):
    """What thiserror's build script does on stable: probe a nightly-only API
    with a crate that cannot compile. rustc's own verdict reaches the caller;
    the stats say the source does not compile, not that the cache failed."""
    (tmp_path / "probe.rs").write_text("use std::any::Provider;\npub fn f() {}\n")
    command = ["rustc", "--edition=2021", "--crate-name", "probe", "--crate-type", "lib", "--emit=metadata",
               "--out-dir", "o", "probe.rs"]  # fmt: skip
    (tmp_path / "o").mkdir()
    own = subprocess.run(command, cwd=tmp_path, capture_output=True)
    assert own.returncode != 0 and b"error[E0432]" in own.stderr
    done = pycache_env.compile(*command, cwd=tmp_path)
    assert (done.returncode, done.stdout, done.stderr) == (own.returncode, own.stdout, own.stderr)
    stats = pycache_env.stats()
    assert stats["not_cacheable_reasons"] == {"source-error": 1}, stats["not_cacheable_reasons"]
    assert stats["errors"] == {} and stats["totals"].get("errors", 0) == 0, stats["errors"]
