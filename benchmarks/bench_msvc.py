#!/usr/bin/env python3
"""Benchmark: a clang-cl build through pycache and through ccache, cold and warm (issue 9).

No MSVC or Windows SDK headers exist on these machines, so the workload is
generated: ``--units`` C++ translation units of template-heavy code of their
own (recursive class templates, folds over parameter packs, type lists),
each including a group header and a shared header, compiled by clang-cl (a
symlink named clang-cl to Debian's clang) with ``/O2 /std:c++17 /EHsc /W3
/Brepro`` and archived with llvm-lib. Ninja drives the build the way CMake's
Ninja generator does for cl-like compilers: ``/showIncludes`` on every
compile and ``deps = msvc``.

In one run, each a clean build (objects and ninja's logs removed) of the same
tree in the same directory:

    uncached        clang-cl itself
    ccache cold     empty cache (CCACHE_COMPILERTYPE=clang-cl: ccache 4.7
                    takes a clang-cl symlink for clang otherwise)
    pycache cold    empty cache, server started before the clock
    ccache warm     from the cache (--warm-runs rounds, interleaved; median)
    pycache warm    from the cache

The three cold builds are repeated ``--rounds`` times, in a rotated order
each round (caches emptied each time), and their medians compared, so that a
change in the machine's load does not fall on one tool alone.

It reports wall times, ratios (cold / uncached, warm / uncached, pycache
warm / ccache warm), each tool's hit and miss counts for each build, whether
every object equals the uncached compile's byte for byte, the median hit
latency of one unit (``--hit-runs``), and the load average, as Markdown
(``--output``, default benchmarks/results-msvc.md).

    nice -n 10 .venv/bin/python benchmarks/bench_msvc.py

Targets (issue 9): pycache warm <= 1.2x ccache warm; cold <= 1.05x uncached.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_hits import REPO, Ccache, Pycache, Tool, Uncached, _existing, _first_line, compile_bytecode  # noqa: E402

TARGETS = {"warm_vs_ccache": 1.2, "cold_overhead": 1.05}
FLAGS = "/nologo /O2 /std:c++17 /EHsc /W3 /Brepro /Iinclude"
SHOW_INCLUDES_PREFIX = "Note: including file: "

META_H = """\
#pragma once
namespace bench {
template <int Tag, int N>
struct Chain {
  Chain<Tag, N - 1> rest;
  int value = N * 31 + Tag;
  int sum(int k) const { return value * k + rest.sum(k + 1); }
  template <class F> int fold(F f, int acc) const { return rest.fold(f, f(acc, value)); }
};
template <int Tag> struct Chain<Tag, 0> {
  int sum(int) const { return 0; }
  template <class F> int fold(F, int acc) const { return acc; }
};
template <class... Ts> struct List {};
template <class L, class T> struct Push;
template <class... Ts, class T> struct Push<List<Ts...>, T> { using type = List<Ts..., T>; };
template <int I, int N, class L> struct Build { using type = typename Build<I + 1, N, typename Push<L, Chain<I, 3>>::type>::type; };
template <int N, class L> struct Build<N, N, L> { using type = L; };
template <class L> struct Size;
template <class... Ts> struct Size<List<Ts...>> { static constexpr int value = sizeof...(Ts); };
template <int... Ks> struct Seq {};
template <int N, int... Ks> struct Make : Make<N - 1, N - 1, Ks...> {};
template <int... Ks> struct Make<0, Ks...> { using type = Seq<Ks...>; };
}  // namespace bench
"""

GROUP_H = """\
#pragma once
#include "meta.h"
namespace group{group} {{
template <int Tag, int K> int one() {{
  bench::Chain<Tag * 100 + K, {chain} + {group} % 3> c;
  return c.sum(K) + c.fold([](int a, int b) {{ return a ^ (b * {mult}); }}, K);
}}
template <int Tag, int... Ks> int all(bench::Seq<Ks...>) {{ return (one<Tag, Ks>() + ...); }}
}}  // namespace group{group}
"""

UNIT_CPP = """\
#include "group{group}.h"
int unit{unit}() {{
  using L = bench::Build<0, 40, bench::List<>>::type;
  return group{group}::all<{unit}>(typename bench::Make<{width}>::type{{}}) + bench::Size<L>::value;
}}
"""


def generate(root: Path, units: int, groups: int, chain: int, width: int) -> list[str]:
    """The project's sources; returns the units' stems."""
    shutil.rmtree(root, ignore_errors=True)
    (root / "include").mkdir(parents=True)
    (root / "src").mkdir()
    (root / "include" / "meta.h").write_text(META_H)
    for group in range(groups):
        (root / "include" / f"group{group}.h").write_text(GROUP_H.format(group=group, chain=chain, mult=group + 3))
    stems = []
    for unit in range(units):
        stem = f"unit{unit:03d}"
        (root / "src" / f"{stem}.cpp").write_text(UNIT_CPP.format(group=unit % groups, unit=unit, width=width))
        stems.append(stem)
    return stems


def write_ninja(root: Path, stems: list[str], launcher: list[str], clang_cl: Path, llvm_lib: str) -> None:
    prefix = " ".join(launcher)
    lines = [
        f"msvc_deps_prefix = {SHOW_INCLUDES_PREFIX}",
        "rule cc",
        f"  command = {prefix} {clang_cl} {FLAGS} /showIncludes /c $in /Fo$out".replace("  command =  ", "  command = "),
        "  deps = msvc",
        "  description = CC $out",
        "rule lib",
        f"  command = {llvm_lib} /nologo /out:$out $in",
        "  description = LIB $out",
    ]
    for stem in stems:
        lines.append(f"build obj/{stem}.obj: cc src/{stem}.cpp")
    lines.append("build bench.lib: lib " + " ".join(f"obj/{s}.obj" for s in stems))
    lines.append("default bench.lib")
    (root / "build.ninja").write_text("\n".join(lines) + "\n")


def clean(root: Path) -> None:
    shutil.rmtree(root / "obj", ignore_errors=True)
    for name in ("bench.lib", ".ninja_log", ".ninja_deps"):
        (root / name).unlink(missing_ok=True)


def build(root: Path, tool: Tool, stems: list[str], clang_cl: Path, llvm_lib: str, jobs: int) -> float:
    clean(root)
    write_ninja(root, stems, tool.launcher, clang_cl, llvm_lib)
    started = time.monotonic()
    done = subprocess.run(["ninja", "-j", str(jobs)], cwd=root, env=tool.environ(), capture_output=True, text=True)
    elapsed = time.monotonic() - started
    if done.returncode != 0:
        sys.exit(f"{tool.name} build failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return elapsed


def objects(root: Path, stems: list[str]) -> dict[str, bytes]:
    return {s: (root / "obj" / f"{s}.obj").read_bytes() for s in stems}


def hit_latency(root: Path, tool: Tool, clang_cl: Path, stem: str) -> float:
    """One compile of one unit, through the tool's warm cache."""
    command = tool.command(str(clang_cl), *FLAGS.split(), "/showIncludes", "/c", f"src/{stem}.cpp", f"/Foobj/{stem}.obj")
    started = time.monotonic()
    done = subprocess.run(command, cwd=root, env=tool.environ(), capture_output=True)
    elapsed = time.monotonic() - started
    if done.returncode != 0:
        sys.exit(f"{tool.name} hit failed: {done.stderr.decode(errors='replace')}")
    return elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--units", type=int, default=48)
    parser.add_argument("--groups", type=int, default=8)
    parser.add_argument("--chain", type=int, default=24, help="template recursion depth per unit (compile cost)")
    parser.add_argument("--width", type=int, default=10, help="instantiations per unit (compile cost)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--rounds", type=int, default=2, help="rounds of the three cold builds")
    parser.add_argument("--warm-runs", type=int, default=3)
    parser.add_argument("--hit-runs", type=int, default=11)
    parser.add_argument("--clang", default=None, help="the clang binary clang-cl points at")
    parser.add_argument("--ccache", default=None)
    parser.add_argument("--pycache", default=None)
    parser.add_argument("--work", type=Path, default=HERE / "work" / "msvc")
    parser.add_argument("--output", type=Path, default=HERE / "results-msvc.md")
    args = parser.parse_args(argv)

    clang = args.clang or _existing(Path("/usr/lib/llvm-14/bin/clang")) or shutil.which("clang-14")
    llvm_lib = shutil.which("llvm-lib-14") or shutil.which("llvm-lib") or _existing(Path("/usr/lib/llvm-14/bin/llvm-lib"))
    ccache = args.ccache or shutil.which("ccache")
    pycache = args.pycache or _existing(REPO / ".venv" / "bin" / "pycache") or shutil.which("pycache")
    for what, found in (("clang (apt-get install clang-14)", clang), ("llvm-lib", llvm_lib), ("ninja", shutil.which("ninja")),
                        ("ccache (apt-get install ccache)", ccache), ("pycache (scripts/setup)", pycache)):
        if not found:
            sys.exit(f"{what} not found")
    work = args.work.resolve()
    bin_dir = work / "bin"
    bin_dir.mkdir(parents=True, exist_ok=True)
    clang_cl = bin_dir / "clang-cl"
    clang_cl.unlink(missing_ok=True)
    clang_cl.symlink_to(os.path.realpath(clang))
    root = work / "project"
    stems = generate(root, args.units, args.groups, args.chain, args.width)

    caches = work / "caches"
    uncached = Uncached(name="uncached", launcher=[])
    cc = Ccache(name="ccache", launcher=[ccache], cache=caches / "ccache", env={
        "CCACHE_DIR": str(caches / "ccache"), "CCACHE_CONFIGPATH": str(caches / "ccache" / "ccache.conf"),
        "CCACHE_COMPILERTYPE": "clang-cl"})
    cc.version = _first_line([ccache, "--version"])
    py = Pycache(name="pycache", launcher=[pycache], cache=caches / "pycache", env={
        "PYCACHE_DIR": str(caches / "pycache"), "PYCACHE_RUNTIME_DIR": str(caches / "pycache-rt"),
        "PYCACHE_CONFIG": str(caches / "pycache.toml"), "PYCACHE_CACHE_SIZE": "20G"})
    compile_bytecode(pycache)
    py.version = _first_line([pycache, "version"])
    tools = [cc, py]

    load_start = os.getloadavg()
    started = time.time()
    print(f"load average at start: {load_start[0]:.1f} {load_start[1]:.1f} {load_start[2]:.1f}", flush=True)
    times: dict[str, list[float]] = {}
    counts: dict[str, list[dict]] = {}
    identical: dict = {}

    def record(label: str, tool: Tool, elapsed: float) -> None:
        times.setdefault(label, []).append(elapsed)
        counts.setdefault(label, []).append(tool.stats())
        print(f"{label}: {elapsed:.2f} s {counts[label][-1]} (load {os.getloadavg()[0]:.1f})", flush=True)

    reference: dict[str, bytes] | None = None
    order: list[Tool] = [uncached, *tools]
    for round_ in range(args.rounds):
        for tool in order[round_ % len(order):] + order[: round_ % len(order)]:
            if tool is uncached:
                record("uncached", uncached, build(root, uncached, stems, clang_cl, llvm_lib, args.jobs))
                reference = reference or objects(root, stems)
                continue
            tool.reset()
            tool.start()
            tool.zero_stats()
            record(f"{tool.name} cold", tool, build(root, tool, stems, clang_cl, llvm_lib, args.jobs))
            cold_objects = objects(root, stems)
            identical.setdefault(f"{tool.name} cold", []).append(cold_objects)
    assert reference is not None
    identical = {label: all(o == reference for o in runs) for label, runs in identical.items()}
    for _ in range(args.warm_runs):
        for tool in tools:
            tool.zero_stats()
            record(f"{tool.name} warm", tool, build(root, tool, stems, clang_cl, llvm_lib, args.jobs))
            identical[f"{tool.name} warm"] = identical.get(f"{tool.name} warm", True) and objects(root, stems) == reference
    latency: dict[str, list[float]] = {tool.name: [] for tool in tools}
    for _ in range(args.hit_runs):
        for tool in tools:
            latency[tool.name].append(hit_latency(root, tool, clang_cl, stems[0]))
    for tool in tools:
        tool.stop()
    load_end = os.getloadavg()
    print(f"load average at end: {load_end[0]:.1f} {load_end[1]:.1f} {load_end[2]:.1f}", flush=True)

    median = {label: statistics.median(values) for label, values in times.items()}
    ratios = {
        "ccache cold / uncached": median["ccache cold"] / median["uncached"],
        "pycache cold / uncached": median["pycache cold"] / median["uncached"],
        "ccache warm / uncached": median["ccache warm"] / median["uncached"],
        "pycache warm / uncached": median["pycache warm"] / median["uncached"],
        "pycache warm / ccache warm": median["pycache warm"] / median["ccache warm"],
        "pycache hit / ccache hit (median latency)": statistics.median(latency["pycache"]) / statistics.median(latency["ccache"]),
    }
    report = render(args, clang_cl, cc, py, median, times, counts, identical, latency, ratios, load_start, load_end,
                    time.time() - started)
    args.output.write_text(report)
    print(report)
    return 0


def render(args, clang_cl, cc, py, median, times, counts, identical, latency, ratios, load_start, load_end, seconds) -> str:
    version = subprocess.run([str(clang_cl), "--version"], capture_output=True, text=True).stdout.splitlines()[0]
    out = [
        "# clang-cl build: pycache vs ccache (benchmarks/bench_msvc.py)",
        "",
        f"{args.units} generated C++ units ({args.groups} group headers, chain {args.chain}, width {args.width}), "
        f"{args.rounds} rounds of the cold builds, {args.warm_runs} of the warm ones, "
        f"`clang-cl {FLAGS} /showIncludes`, ninja `-j {args.jobs}` with `deps = msvc`, archived with llvm-lib.",
        f"{version}; {cc.version}; {py.version}; Python {platform.python_version()}; "
        f"{os.cpu_count()} CPUs; niceness {os.nice(0)}.",
        f"Load average at start {load_start[0]:.1f} / {load_start[1]:.1f} / {load_start[2]:.1f}, "
        f"at end {load_end[0]:.1f} / {load_end[1]:.1f} / {load_end[2]:.1f} (1/5/15 min); the run took {seconds / 60:.1f} min.",
        "",
        "| build | wall s (median) | runs | hits / misses per run | objects = uncached |",
        "|---|---:|---:|---|---|",
    ]
    for label, values in times.items():
        per_run = "; ".join(f"{c.get('hits', '-')} / {c.get('misses', '-')}" for c in counts[label]) if label != "uncached" else ""
        same = "" if label == "uncached" else ("yes" if identical.get(label) else "**no**")
        out.append(f"| {label} | {median[label]:.2f} | {len(values)} | {per_run} | {same} |")
    out += ["", "| ratio | value | target |", "|---|---:|---:|"]
    for name, value in ratios.items():
        target = ""
        if name == "pycache warm / ccache warm":
            target = f"<= {TARGETS['warm_vs_ccache']}"
        elif name == "pycache cold / uncached":
            target = f"<= {TARGETS['cold_overhead']}"
        out.append(f"| {name} | {value:.3f} | {target} |")
    out += [
        "",
        f"Hit latency of one unit (median of {args.hit_runs}, interleaved): "
        + ", ".join(f"{name} {statistics.median(values) * 1000:.1f} ms" for name, values in latency.items()) + ".",
        "",
    ]
    return "\n".join(out)


if __name__ == "__main__":
    sys.exit(main())
