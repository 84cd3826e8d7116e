"""Golden key components of rustc calls (issue 4, parts 4, 6 and 7).

Each test runs the plugin's hooks the way the core does -- parse, probe,
direct components, discover (a real `rustc --emit=dep-info` run), collect --
on a crate written into a temporary directory, and compares the exact list
of components. A change to what enters a rustc key shows up here as a diff.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from pycache_core.api import CompileResult, Dependencies, Invocation, KeyComponent, NotCacheable, ParsedInvocation
from pycache_core.context import CallContext
from pycache_core.digests import FileDigests
from pycache_core.keys import digest_bytes
from pycache_core.paths import BaseDirectories
from pycache_rustc import depinfo, hooks, linking, paths, toolchain

pytestmark = pytest.mark.skipif(shutil.which("rustc") is None, reason="rustc is not installed")


def real_rustc() -> Path:
    sysroot = subprocess.run(["rustc", "--print", "sysroot"], capture_output=True, text=True, check=True).stdout.strip()
    return Path(sysroot) / "bin" / "rustc"


def blake3_of(path: Path) -> str:
    return digest_bytes(path.read_bytes())


@pytest.fixture
def crate(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    (ws / "src").mkdir(parents=True)
    (ws / "src" / "lib.rs").write_text(
        "mod m;\n"
        'pub const DATA: &str = include_str!("data.txt");\n'
        'pub fn golden() -> Option<&\'static str> { option_env!("PYCACHE_GOLDEN") }\n'
        "pub fn twice(x: u32) -> u32 { m::double(x) }\n"
    )
    (ws / "src" / "m.rs").write_text("pub fn double(x: u32) -> u32 { x * 2 }\n")
    (ws / "src" / "data.txt").write_text("golden data\n")
    (ws / "src" / "main.rs").write_text("fn main() { println!(\"{}\", golden::twice(21)); }\n")
    (ws / "target" / "deps").mkdir(parents=True)
    return ws


class Call:
    """One rustc call driven through the plugin's hooks, as the core would."""

    def __init__(self, ws: Path, arguments: list[str], env: dict[str, str] | None = None, basedirs=()):
        self.ws = ws
        self.env = {
            "PATH": os.environ["PATH"],
            "HOME": os.environ.get("HOME", "/root"),
            "CARGO_PKG_NAME": "golden",
            "CARGO_MANIFEST_DIR": str(ws),
            "CARGO_MAKEFLAGS": "-j --jobserver-fds=6,7 --jobserver-auth=6,7",
            **(env or {}),
        }
        self.family = hooks.pycache_register_compilers()[0]
        self.invocation = Invocation(
            compiler=real_rustc(),
            invoked_as=str(real_rustc()),
            arguments=tuple(arguments),
            cwd=ws,
            env=self.env,
            family="rustc",
        )
        scratch = ws.parent / f"scratch-{len(list(ws.parent.glob('scratch-*')))}"
        scratch.mkdir()
        self.parsed = hooks.pycache_parse_arguments(invocation=self.invocation, family=self.family)
        # As the core does: PYCACHE_BASEDIRS (``basedirs``), then the family's own.
        user = {"PYCACHE_BASEDIRS": os.pathsep.join(basedirs)}
        family_dirs = self.parsed.base_dirs if isinstance(self.parsed, ParsedInvocation) else {}
        self.context = CallContext(
            digests=FileDigests(),
            bases=BaseDirectories.for_call(user, ws, family_dirs),
            scratch_dir=scratch,
            default_cwd=ws,
            default_env=self.env,
        )
        self.context.identity = hooks.pycache_probe_compiler(
            family=self.family, compiler=self.invocation.compiler, env=self.env, context=self.context
        )

    def direct(self):
        return hooks.pycache_direct_components(invocation=self.invocation, parsed=self.parsed, context=self.context)

    def discover(self):
        return hooks.pycache_discover_dependencies(invocation=self.invocation, parsed=self.parsed, context=self.context)

    def key_dependencies(self) -> list:
        """Every dependency component of the key: from discovery, or, when it
        is deferred, what the compile itself reports (as the core does)."""
        deps = self.discover()
        if not deps.deferred:
            return list(deps.components)
        return list(deps.components) + list(self.collect(self.compile()).dependencies.components)

    def compile(self) -> CompileResult:
        argv = [str(self.invocation.compiler), *(self.parsed.run_arguments or self.invocation.arguments)]
        done = subprocess.run(argv, cwd=self.ws, env=self.parsed.run_environment or self.env, capture_output=True)
        assert done.returncode == 0, done.stderr.decode()
        return CompileResult(exit_code=0, stdout=done.stdout, stderr=done.stderr, duration=1.0)

    def collect(self, result: CompileResult):
        return hooks.pycache_collect_outputs(
            invocation=self.invocation, parsed=self.parsed, result=result, context=self.context
        )


def lib_arguments(ws: Path, *extra: str) -> list[str]:
    return [
        "--crate-name", "golden", "--edition=2021", "src/lib.rs", "--error-format=json", "--json=artifacts",
        "--crate-type", "lib", "--emit=dep-info,metadata,link", "-C", "opt-level=3", "-C", "metadata=0123",
        "-C", "extra-filename=-0123", "--out-dir", f"{ws}/target/deps", "-L", f"dependency={ws}/target/deps", *extra,
    ]


def test_lib_components(crate):
    call = Call(crate, lib_arguments(crate))
    assert isinstance(call.parsed, ParsedInvocation)
    assert call.parsed.key_arguments == (
        "--crate-name=golden", "--edition=2021", "--error-format=json", "--json=artifacts", "--crate-type=lib",
        "--emit=dep-info,metadata,link", "-Copt-level=3", "-Cmetadata=0123", "-Cextra-filename=-0123",
    )
    lib = crate / "src" / "lib.rs"
    direct = [
        KeyComponent(
            "path-arguments", ("input=src/lib.rs", "--out-dir=<BASEDIR:cwd>/target/deps", "-Ldependency=<BASEDIR:cwd>/target/deps")
        ),
        KeyComponent("cwd", "<BASEDIR:cwd>"),
        KeyComponent("source", blake3_of(lib)),
        KeyComponent("env:CARGO_MANIFEST_DIR", "<BASEDIR:cwd>"),
        KeyComponent("env:CARGO_PKG_NAME", "golden"),
    ]
    assert list(call.direct()) == direct

    # A lib that writes its own dep-info: discovery waits for the compile.
    deferred = call.discover()
    assert isinstance(deferred, Dependencies) and deferred.deferred
    assert list(deferred.components) == direct
    deps = call.collect(call.compile()).dependencies
    assert isinstance(deps, Dependencies)
    assert list(deps.components) == [
        KeyComponent("file:src/lib.rs", blake3_of(lib)),
        KeyComponent("file:src/m.rs", blake3_of(crate / "src" / "m.rs")),
        KeyComponent("file:src/data.txt", blake3_of(crate / "src" / "data.txt")),
        KeyComponent("env-dep:PYCACHE_GOLDEN", "\0unset"),
    ]
    assert deps.files == (lib, crate / "src" / "m.rs", crate / "src" / "data.txt")
    assert deps.absent == (crate / "src" / "m" / "mod.rs",)
    assert deps.env_names == ("PYCACHE_GOLDEN",)
    assert deps.manifest_ok


def test_env_dep_value_and_toolchain_independent_of_jobserver(crate):
    call = Call(crate, lib_arguments(crate), env={"PYCACHE_GOLDEN": "gold", "CARGO_MAKEFLAGS": "-j2"})
    components = dict((c.name, c.value) for c in call.key_dependencies())
    assert components["env-dep:PYCACHE_GOLDEN"] == "gold"
    assert not any("MAKEFLAGS" in name for name in components)


def test_debuginfo_keys_the_working_directory_as_embedded(crate):
    """Debug info names the working directory: keyed as it is; the other
    paths stay portable (the outputs do not embed them)."""
    call = Call(crate, lib_arguments(crate, "-C", "debuginfo=2"))
    direct = list(call.direct())
    assert direct[:3] == [
        KeyComponent(
            "path-arguments", ("input=src/lib.rs", "--out-dir=<BASEDIR:cwd>/target/deps", "-Ldependency=<BASEDIR:cwd>/target/deps")
        ),
        KeyComponent("cwd", str(crate)),
        KeyComponent("source", blake3_of(crate / "src" / "lib.rs")),
    ]


@pytest.mark.parametrize(
    ("remap", "cwd"),
    [
        ("{crate}=/src", "/src"),  # covers the checkout: the same in any checkout
        ("{crate}/=/src", "/src"),
        ("{parent}=/x", "/x/ws"),  # covers a parent: the checkout's name stays in (issue 13 B3)
        ("{crate}/sr=/nope", "{crate}"),  # whole components only
    ],
)
def test_debuginfo_keys_the_remapped_working_directory(crate, remap, cwd):
    spelled = remap.format(crate=crate, parent=crate.parent)
    call = Call(crate, lib_arguments(crate, "-C", "debuginfo=2", "--remap-path-prefix", spelled))
    direct = {c.name: c.value for c in call.direct()}
    assert direct["cwd"] == cwd.format(crate=crate)
    assert direct["path-arguments"][-1] == "--remap-path-prefix=" + spelled.replace(str(crate), "<BASEDIR:cwd>", 1)


def test_remap_takes_the_last_matching_option():
    assert paths.remap("/a/b/c.rs", [("/a", "/A"), ("/a/b", "/B")]) == "/B/c.rs"
    assert paths.remap("/a/b/c.rs", [("/a/b", "/B"), ("/a", "/A")]) == "/A/b/c.rs"
    assert paths.remap("/a/bc/d.rs", [("/a/b", "/B")]) == "/a/bc/d.rs"
    assert paths.remap("/a/b", [("/a/b", "/B")]) == "/B"


def test_every_base_directory_is_portable_by_name(crate, tmp_path):
    """A registry crate: cargo runs rustc in the package's directory, given by
    absolute path. Each base directory keeps its own placeholder; the root's
    absolute path is also keyed as the code embeds it (panic locations,
    file!()), so another checkout of the package does not share it."""
    package = tmp_path / "registry" / "dep-1.0.0"
    (package / "src").mkdir(parents=True)
    (package / "src" / "lib.rs").write_text("pub fn dep() {}\n")
    arguments = [
        "--crate-name", "dep", f"{package}/src/lib.rs", "--crate-type", "lib", "--emit=dep-info,metadata,link",
        "-C", "extra-filename=-1", "--out-dir", f"{crate}/target/deps", "-L", f"dependency={crate}/target/deps",
    ]
    direct = {c.name: c.value for c in Call(package, arguments, basedirs=[str(crate)]).direct()}
    assert direct["path-arguments"] == (
        "input=<BASEDIR:cwd>/src/lib.rs", "--out-dir=<BASEDIR:1>/target/deps", "-Ldependency=<BASEDIR:1>/target/deps"
    )
    assert direct["embedded-paths:root"] == (f"{package}/src/lib.rs",)
    remapped = Call(package, [*arguments, "--remap-path-prefix", f"{package}=/dep"], basedirs=[str(crate)])
    assert {c.name: c.value for c in remapped.direct()}["embedded-paths:root"] == ("/dep/src/lib.rs",)


def test_paths_outside_every_base_directory_are_as_they_are(crate, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    call = Call(crate, [*lib_arguments(crate), "-L", f"native={elsewhere}"])
    assert list(call.direct())[0].value[-1] == f"-Lnative={elsewhere}"


def test_extern_and_static_native_library(crate, tmp_path):
    # Build the lib first; then a bin that depends on it and links a static C library.
    lib_call = Call(crate, lib_arguments(crate))
    lib_call.compile()
    native = tmp_path / "native"
    native.mkdir()
    subprocess.run(["cc", "-c", "-x", "c", "-", "-o", str(native / "n.o")], input=b"int n(void){return 1;}\n", check=True)
    subprocess.run(["ar", "rcs", str(native / "libn.a"), str(native / "n.o")], check=True)
    rlib = crate / "target" / "deps" / "libgolden-0123.rlib"
    arguments = [
        "--crate-name", "app", "--edition=2021", "src/main.rs", "--crate-type", "bin", "--emit=dep-info,link",
        "-C", "opt-level=3", "-C", "extra-filename=-77", "--out-dir", f"{crate}/target/deps",
        "-L", f"dependency={crate}/target/deps", "--extern", f"golden={rlib}", "-L", f"native={native}", "-l", "static=n",
    ]
    # cargo sets LD_LIBRARY_PATH to its target directories on every call.
    call = Call(crate, arguments, env={"LD_LIBRARY_PATH": f"{crate}/target/deps", "LIBRARY_PATH": "/opt/lib"})
    direct = {c.name: c.value for c in call.direct()}
    assert direct["link-env:LIBRARY_PATH"] == "/opt/lib"
    assert "link-env:LD_LIBRARY_PATH" not in direct
    assert direct["extern:golden"] == blake3_of(rlib)
    assert direct["native-lib:static:n"] == blake3_of(native / "libn.a")
    # The libraries the linker reads come from the link line the compile
    # prints (below), not from listing every library of the directory.
    assert f"native-dir:{native}" not in direct
    linker = direct["linker"]
    assert linker[0].startswith("linker ") and linker[1].startswith("version ")
    assert any(line.startswith("file crt1.o ") for line in linker) or any(line.startswith("file Scrt1.o ") for line in linker)
    # The crates a link reads are named by the link line the compile itself
    # prints (no dep-info run before it), after the sources.
    assert call.discover().deferred
    assert "--print" in call.parsed.run_arguments and "--print" not in call.parsed.key_arguments
    reported = call.key_dependencies()
    names = [c.name for c in reported]
    assert "file:<BASEDIR:cwd>/target/deps/libgolden-0123.rlib" in names
    # The -l libraries of the link line, found where the linker finds them:
    # the static one in its -L directory, libc through its linker script.
    assert f"file:{native}/libn.a" in names
    assert any(n.startswith("file:") and n.endswith("/libc.so") for n in names), names
    assert any(n.endswith(("/libc.so.6", "/libc_nonshared.a")) for n in names), names
    assert names.index("file:src/main.rs") < names.index("file:<BASEDIR:cwd>/target/deps/libgolden-0123.rlib")
    assert not list((crate / "target" / "deps").glob("*.pycache-tmp"))  # the printed link line is gone


def test_missing_static_library_is_not_cacheable(crate):
    call = Call(crate, lib_arguments(crate, "-l", "static=nowhere"))
    outcome = call.direct()
    assert isinstance(outcome, NotCacheable) and outcome.reason == "native-lib-not-found"


def test_script_linker_is_not_cacheable(crate, tmp_path):
    script = tmp_path / "mylinker"
    script.write_text("#!/bin/sh\nexec cc \"$@\"\n")
    script.chmod(0o755)
    arguments = ["--crate-name", "app", "src/main.rs", "--crate-type", "bin", "-C", f"linker={script}", "--out-dir", "o"]
    outcome = Call(crate, arguments).direct()
    assert isinstance(outcome, NotCacheable) and outcome.reason == "linker-unidentified"


def test_unknown_linker_is_not_cacheable(crate):
    arguments = ["--crate-name", "app", "src/main.rs", "--crate-type", "bin", "-C", "linker=no-such-linker-xyz", "--out-dir", "o"]
    outcome = Call(crate, arguments).direct()
    assert isinstance(outcome, NotCacheable) and outcome.reason == "linker-not-found"


def test_link_arg_files_are_hashed(crate):
    script = crate / "extra.ld"
    script.write_text("/* empty linker script */\n")
    arguments = [
        "--crate-name", "app", "src/main.rs", "--crate-type", "bin", "--out-dir", "o",
        "-C", "link-arg=-Wl,--version-script=extra.ld", "-C", "link-arg=-Wl,-rpath,/opt/x",
    ]
    direct = {c.name: c.value for c in Call(crate, arguments).direct()}
    assert direct["link-file:<BASEDIR:cwd>/extra.ld"] == blake3_of(script)
    assert direct["path-arguments"][-2:] == ("-Clink-arg=-Wl,--version-script=extra.ld", "-Clink-arg=-Wl,-rpath,/opt/x")


def test_target_cpu_native_names_the_cpu(crate):
    direct = {c.name: c.value for c in Call(crate, lib_arguments(crate, "-C", "target-cpu=native")).direct()}
    assert direct["native-cpu"].startswith("native")


def test_secret_variables_never_enter_the_key_as_text(crate):
    (crate / "src" / "lib.rs").write_text('pub fn t() -> Option<&\'static str> { option_env!("MY_API_TOKEN") }\n')
    call = Call(crate, lib_arguments(crate), env={"MY_API_TOKEN": "hunter2", "CARGO_REGISTRY_TOKEN": "hunter3"})
    components = call.key_dependencies()
    assert not any("hunter" in str(c.value) for c in components)
    assert dict((c.name, c.value) for c in components)["env-dep:MY_API_TOKEN"].startswith("blake3:")


def test_collect_outputs_after_a_real_compile(crate):
    call = Call(crate, lib_arguments(crate))
    outputs = call.collect(call.compile())
    roles = {a.role: a.path for a in outputs.artifacts}
    assert roles == {
        "rlib": crate / "target/deps/libgolden-0123.rlib",
        "rmeta": crate / "target/deps/libgolden-0123.rmeta",
        "dep-info": crate / "target/deps/golden-0123.d",
    }
    # The .d file is relocated by the core; crate metadata records paths harmlessly.
    slots = call.parsed.outputs
    assert slots["dep-info"].text is paths.DEPINFO
    assert slots["rlib"].names_paths_harmlessly and slots["rmeta"].names_paths_harmlessly
    assert not slots["dep-info"].names_paths_harmlessly
    assert outputs.dependencies.env_names == ("PYCACHE_GOLDEN",)
    assert crate / "src" / "data.txt" in outputs.dependencies.files


def test_collect_refuses_stray_and_missing_outputs(crate):
    call = Call(crate, lib_arguments(crate))
    result = call.compile()
    stray = crate / "target/deps/golden-0123.golden.abc-cgu.0.rcgu.dwo"
    stray.write_bytes(b"x")
    outcome = call.collect(result)
    assert isinstance(outcome, NotCacheable) and outcome.reason == "uncaptured-output"
    stray.unlink()
    (crate / "target/deps/libgolden-0123.rmeta").unlink()
    outcome = call.collect(result)
    assert isinstance(outcome, NotCacheable) and outcome.reason == "missing-output"


def test_rustup_proxy_adds_the_real_toolchain(crate):
    proxy = Path(os.path.expanduser("~/.cargo/bin/rustc"))
    if not proxy.exists() or os.path.basename(os.path.realpath(proxy)) != "rustup":
        pytest.skip("no rustup proxy here")
    call = Call(crate, lib_arguments(crate))
    invocation = Invocation(
        compiler=proxy, invoked_as="rustc", arguments=call.invocation.arguments, cwd=crate, env=call.env, family="rustc"
    )
    identity = hooks.pycache_probe_compiler(family=call.family, compiler=proxy, env=call.env, context=call.context)
    assert identity.path == real_rustc() and identity.details["rustup-proxy"] == "yes"
    # The proxy names no toolchain of its own: whichever a first call reached
    # must not enter every later key.
    assert identity.fingerprint == "rustup-proxy"
    call.context.identity = identity
    direct = hooks.pycache_direct_components(invocation=invocation, parsed=call.parsed, context=call.context)
    real = toolchain.toolchain(real_rustc(), call.env, call.context)
    assert direct[0] == KeyComponent("toolchain", real.fingerprint)


# --- dep-info files -------------------------------------------------------------------


def test_depinfo_parse_escapes_and_env():
    text = (
        "/o/x.d: src/lib.rs src/with\\ space.rs /abs/inc.txt\n\n"
        "/o/libx.rlib: src/lib.rs src/with\\ space.rs /abs/inc.txt\n\n"
        "src/lib.rs:\nsrc/with\\ space.rs:\n/abs/inc.txt:\n\n"
        "# env-dep:CARGO_PKG_NAME=x\n"
        "# env-dep:MULTI=a\\nb\\\\c\n"
        "# env-dep:UNSET\n"
    )
    info = depinfo.parse(text)
    assert info.targets == ("/o/x.d", "/o/libx.rlib")
    assert info.files == ("src/lib.rs", "src/with space.rs", "/abs/inc.txt")
    assert info.env == (("CARGO_PKG_NAME", "x"), ("MULTI", "a\nb\\c"), ("UNSET", None))


def test_library_file_pattern():
    names = ["libz.a", "libz.so", "libz.so.1.2", "foo.lib", "x.o", "README", "libfoo.rlib", "build.rs"]
    assert [n for n in names if linking._LIBRARY_FILE.match(n)] == ["libz.a", "libz.so", "libz.so.1.2", "foo.lib", "x.o", "libfoo.rlib"]
