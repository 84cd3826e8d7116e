"""Pytest fixtures for pycache and for authors of pycache plugins.

Opt in with ``-p pycache_core.testing`` (or ``pytest_plugins =
["pycache_core.testing"]`` in a conftest). Fixtures:

- ``pycache_env``: an isolated cache directory, runtime directory, HOME and
  config file; run ``pycache`` in subprocesses with ``.run(...)`` and read
  ``.stats()``. Its server (if any) is stopped at teardown.
- ``plugin_host``: a fresh plugin manager over the installed plugins.
- ``make_plugin_host``: the same, with extra plugin modules registered.
- ``fake_distribution``: writes an installed distribution (dist-info with an
  entry point in ``pycache.plugins``) into a directory and puts it on
  ``sys.path`` and on the ``pycache_env`` subprocesses' ``PYTHONPATH``.
- ``toy_compiler``: a real executable "compiler" (``toycc``) and the source of
  a plugin for it -- the worked example of docs/writing-a-plugin.md.
- ``memory_storage``: an in-memory storage backend.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from .plugins import PluginHost, build_host
from .pipeline.freshness import MARGIN_NS
from .storage.memory import MemoryBackend

#: Seconds `PycacheEnv.compile` waits first: past the freshness margin.
FILE_CLOCK_WAIT = 1.5 * MARGIN_NS / 1e9


def wait_until(predicate, what: str, timeout: float = 60.0, step: float = 0.02):
    """Poll until ``predicate()`` is truthy and return its value. The timeout
    only stops a test that would otherwise wait forever (a generous bound,
    for a loaded machine); nothing asserts on how long it took."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what} after {timeout:.0f} s")
        time.sleep(step)


def process_alive(pid: int) -> bool:
    """Whether process ``pid`` runs (a zombie, exited but not reaped, does not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def pycache_executable() -> str:
    """The ``pycache`` script of the running interpreter's environment."""
    candidate = Path(sys.executable).with_name("pycache")
    if candidate.exists():
        return str(candidate)
    found = shutil.which("pycache")
    if not found:
        raise RuntimeError("the pycache executable is not installed in this environment")
    return found


@dataclass
class PycacheEnv:
    """An isolated pycache installation for one test."""

    root: Path
    env: dict[str, str]
    executable: str = field(default_factory=pycache_executable)

    @property
    def cache_dir(self) -> Path:
        return Path(self.env["PYCACHE_DIR"])

    def set(self, **values: str) -> None:
        self.env.update(values)

    def run(
        self,
        args: Sequence[str],
        *,
        cwd: Path | str | None = None,
        env: Mapping[str, str] | None = None,
        input: bytes | None = None,
        timeout: float = 300,
    ) -> subprocess.CompletedProcess[bytes]:
        """Run ``pycache ARGS`` (bytes in, bytes out)."""
        return subprocess.run(
            [self.executable, *args],
            cwd=cwd or self.root,
            env={**self.env, **(env or {})},
            input=input,
            capture_output=True,
            timeout=timeout,
            check=False,
        )

    def compile(self, *command: str, cwd: Path | str | None = None, env: Mapping[str, str] | None = None):
        """Run a compile through the cache: ``compile("gcc", "-c", "a.c")``.

        It starts once the file clock has moved past what the test wrote
        just before: a call whose inputs were written within the clock's
        margin is compiled and rightly not stored (pipeline/freshness.py),
        and a fast client on a quiet machine gets there that soon -- a test
        counting hits would then race the clock."""
        time.sleep(FILE_CLOCK_WAIT)
        return self.run(list(command), cwd=cwd, env=env)

    def direct(self, *command: str, cwd: Path | str | None = None, env: Mapping[str, str] | None = None):
        """Run the same command without pycache (the uncached reference)."""
        return subprocess.run(
            list(command), cwd=cwd or self.root, env={**self.env, **(env or {})}, capture_output=True, check=False
        )

    def compile_like_the_compiler(
        self, *command: str, cwd: Path, outputs: Sequence[Path], env: Mapping[str, str] | None = None
    ) -> dict[str, float]:
        """Compile through the cache, then with the compiler alone in the
        same place; assert that the exit status, stdout, stderr and every
        file of ``outputs`` are the compiler's own, and return how each
        statistics counter changed (``{"hits": 1, "direct_hits": 1}``).
        Counts are read from the cache directory: use with
        ``PYCACHE_NO_SERVER=1``."""
        from .stats import StatsFile

        def totals() -> dict[str, float]:
            return {k: v for k, v in StatsFile(self.cache_dir).read()["totals"].items() if isinstance(v, (int, float))}

        before = totals()
        cached = self.compile(*command, cwd=cwd, env=env)
        after = totals()
        got = {p: p.read_bytes() for p in outputs}
        for p in outputs:
            p.unlink()
        plain = self.direct(*command, cwd=cwd, env=env)
        assert (cached.returncode, cached.stdout, cached.stderr) == (plain.returncode, plain.stdout, plain.stderr)
        for p in outputs:
            assert got[p] == p.read_bytes(), f"{p}: the cached file differs from the compiler's own"
        return {k: after.get(k, 0) - before.get(k, 0) for k in after if after.get(k, 0) != before.get(k, 0)}

    def stats(self) -> dict:
        done = self.run(["stats", "--json"])
        assert done.returncode == 0, done.stderr.decode()
        return json.loads(done.stdout)

    def totals(self) -> dict:
        return self.stats()["totals"]

    def zero_stats(self) -> None:
        self.run(["stats", "--zero"])

    def stop_server(self) -> None:
        """Stop this installation's server, if one runs; returns once it has
        exited (as ``pycache server stop`` does, without its start-up cost)."""
        import contextlib

        from .connection import control

        with contextlib.suppress(OSError, ValueError):
            control(self.env, "stop", timeout=5.0)


def _isolated_env(root: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYCACHE_")}
    runtime = root / "rt"
    runtime.mkdir(mode=0o700, exist_ok=True)
    home = root / "home"
    home.mkdir(exist_ok=True)
    (root / "config.toml").touch()  # named explicitly, so it must exist (pycache config checks)
    env.update(
        PYCACHE_DIR=str(root / "cache"),
        PYCACHE_RUNTIME_DIR=str(runtime),
        PYCACHE_CONFIG=str(root / "config.toml"),
        PYCACHE_IDLE_TIMEOUT="120",
        XDG_CACHE_HOME=str(home / ".cache"),
        XDG_CONFIG_HOME=str(home / ".config"),
        LC_ALL="C",
        LANG="C",
    )
    return env


@pytest.fixture
def pycache_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PycacheEnv]:
    # A short root: Unix socket paths are limited to ~107 bytes.
    root = tmp_path_factory.mktemp("pc")
    penv = PycacheEnv(root=root, env=_isolated_env(root))
    yield penv
    penv.stop_server()


@pytest.fixture
def plugin_host() -> PluginHost:
    return build_host()


@pytest.fixture
def make_plugin_host():
    """``make_plugin_host(("name", module), ...)`` -> a fresh host with those
    plugins registered beside the installed ones."""

    def make(*extra, load_entry_points: bool = True) -> PluginHost:
        return build_host(extra_plugins=extra, load_entry_points=load_entry_points)

    return make


@pytest.fixture
def memory_storage() -> MemoryBackend:
    return MemoryBackend()


# --- a fake installed distribution -------------------------------------------


@dataclass
class FakeDistribution:
    site: Path
    name: str
    version: str


def write_distribution(site: Path, name: str, version: str, modules: Mapping[str, str], entry_points: Mapping[str, str]) -> FakeDistribution:
    """Write modules and a ``.dist-info`` (metadata + entry points) into ``site``,
    as an installer would."""
    site.mkdir(parents=True, exist_ok=True)
    for module, source in modules.items():
        path = site / (module.replace(".", "/") + ".py")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source))
    dist_info = site / f"{name.replace('-', '_')}-{version}.dist-info"
    dist_info.mkdir(exist_ok=True)
    (dist_info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    lines = ["[pycache.plugins]"] + [f"{ep} = {target}" for ep, target in entry_points.items()]
    (dist_info / "entry_points.txt").write_text("\n".join(lines) + "\n")
    (dist_info / "RECORD").write_text("")
    return FakeDistribution(site=site, name=name, version=version)


@pytest.fixture
def fake_distribution(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest):
    """``fake_distribution(name, modules={...}, entry_points={...})``: an
    installed distribution visible to this process and to ``pycache_env``."""
    site = tmp_path / "site-packages"
    penv: PycacheEnv | None = request.getfixturevalue("pycache_env") if "pycache_env" in request.fixturenames else None

    def make(name: str, *, modules: Mapping[str, str], entry_points: Mapping[str, str], version: str = "1.0") -> FakeDistribution:
        dist = write_distribution(site, name, version, modules, entry_points)
        monkeypatch.syspath_prepend(str(site))
        if penv is not None:
            penv.env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(site), penv.env.get("PYTHONPATH", "")]))
        return dist

    return make


# --- the toy compiler -----------------------------------------------------------

TOYCC = '''\
#!{python}
"""toycc: a tiny real "compiler". toycc [--shout] -c SRC -o OUT

Each line "use NAME" is replaced by the content of NAME (relative to the
source); the result is written to OUT, upper-cased with --shout. A line
"warn ..." prints a warning on stderr; a line "error ..." fails the compile.
"""
import os, sys

def main(argv):
    if argv == ["--version"]:
        print("toycc 1.0")
        return 0
    shout, src, out = False, None, None
    args = iter(argv)
    for arg in args:
        if arg == "--shout": shout = True
        elif arg == "-c": src = next(args)
        elif arg == "-o": out = next(args)
        else:
            sys.stderr.write(f"toycc: unknown argument {{arg}}\\n"); return 2
    text, status = [], 0
    for number, line in enumerate(open(src), 1):
        if line.startswith("use "):
            line = open(os.path.join(os.path.dirname(src), line[4:].strip())).read()
        elif line.startswith("warn "):
            sys.stderr.write(f"{{src}}:{{number}}: warning: {{line[5:].strip()}}\\n")
        elif line.startswith("error "):
            sys.stderr.write(f"{{src}}:{{number}}: error: {{line[6:].strip()}}\\n"); status = 1
        text.append(line)
    if status:
        return status
    result = "".join(text)
    open(out, "w").write(result.upper() if shout else result)
    print(f"toycc: wrote {{out}}")
    return 0

sys.exit(main(sys.argv[1:]))
'''

TOY_PLUGIN = '''\
"""pycache plugin for toycc: the worked example of docs/writing-a-plugin.md."""
from pathlib import Path

from pycache_core.api import (
    API_VERSION, Artifact, CompilerFamily, CompilerIdentity, Dependencies, KeyComponent,
    NotCacheable, NotCompilation, OutputSlot, Outputs, ParsedInvocation, hookimpl,
)


@hookimpl
def pycache_register_compilers():
    return [CompilerFamily(name="toy", executables=(r"toycc",), cache_version="1", api_version=API_VERSION)]


@hookimpl
def pycache_probe_compiler(family, compiler, env, context):
    version = context.run([str(compiler), "--version"]).stdout.decode().strip()
    return CompilerIdentity(family="toy", path=compiler, version=version,
                            fingerprint=context.hash_file(compiler) + version)


@hookimpl
def pycache_parse_arguments(invocation, family):
    args = list(invocation.arguments)
    if args == ["--version"]:
        return NotCompilation("version")
    if "-c" not in args or "-o" not in args:
        return NotCacheable("no-output", "toycc needs -c SRC -o OUT to be cached")
    source = invocation.resolve(args[args.index("-c") + 1])
    output = Path(args[args.index("-o") + 1])
    flags = tuple(a for a in args if a == "--shout")
    return ParsedInvocation(language="toy", sources=(source,), outputs={"object": OutputSlot(path=output)},
                            key_arguments=flags)


def _used_files(source):
    used = []
    for line in source.read_text().splitlines():
        if line.startswith("use "):
            used.append(source.parent / line[4:].strip())
    return used


@hookimpl
def pycache_direct_components(invocation, parsed, context):
    source = parsed.sources[0]
    return (KeyComponent("source", context.hash_file(source)),)


@hookimpl
def pycache_discover_dependencies(invocation, parsed, context):
    source = parsed.sources[0]
    used = _used_files(source)
    components = [KeyComponent("source", context.hash_file(source))]
    components += [KeyComponent(f"use:{p.name}", context.hash_file(p)) for p in used]
    return Dependencies(components=tuple(components), files=(source, *used))


@hookimpl
def pycache_collect_outputs(invocation, parsed, result, context):
    return Outputs(artifacts=(Artifact(role="object", path=parsed.outputs["object"].path),))
'''


@dataclass
class ToyCompiler:
    bin_dir: Path
    executable: Path
    plugin_source: str


@pytest.fixture
def toy_compiler(tmp_path: Path) -> ToyCompiler:
    """``toycc`` installed in a fresh bin directory (put it on PATH), and the
    source of its plugin (register it with ``fake_distribution``)."""
    bin_dir = tmp_path / "toybin"
    bin_dir.mkdir()
    exe = bin_dir / "toycc"
    exe.write_text(TOYCC.format(python=sys.executable))
    exe.chmod(0o755)
    return ToyCompiler(bin_dir=bin_dir, executable=exe, plugin_source=TOY_PLUGIN)
