"""The core's rules for running a compile hold for nvcc's own stepped
compile of a miss (`pycache_nvcc.decompose`, every step through
`PluginContext.run_compile_step`), with the real nvcc:

- Ctrl-C on the build while a step runs (discovery's preprocessing, or
  the final host compile): the step's processes are terminated, no later
  step starts, and nothing is written -- no object, no entry; a device
  step finished and stored before the Ctrl-C stays (it is complete, and
  keyed by its own inputs);
- the files the steps write get the caller's umask, as nvcc's would;
- ``PYCACHE_PREFIX_COMMAND`` is not used for nvcc (distcc and icecc do not
  distribute nvcc): the call compiles locally and is counted as
  ``prefix_skipped``.
"""

from __future__ import annotations

import os
import signal
import stat
import subprocess
from pathlib import Path

import pytest

from pycache_core.testing import PycacheEnv, process_alive, wait_until

from .support import NVCC, needs_nvcc, write, write_project
from .test_device_steps import ARCH_75, device_steps, fatbin, nvccs_fatbin
from .test_end_to_end import cached, run_host

pytestmark = needs_nvcc

# A host compiler (``-ccbin DIR`` runs DIR/gcc) held at a gate in one of
# nvcc's steps: a device pass's preprocessing (discovery, before anything is
# compiled) or the final host compile (the last step, after the device code
# was compiled and stored). It records its pid; the loop's sleeps are its
# children.
GATED_GCC = """\
#!/bin/sh
gate() {
  if [ -e "$NVCC_TEST_GATE" ]; then
    echo $$ > "$NVCC_TEST_GATE.pid"
    while [ -e "$NVCC_TEST_GATE" ]; do sleep 0.05; done
    echo late > "$NVCC_TEST_GATE.late"
  fi
}
case "$NVCC_TEST_GATE_AT:$*" in
  device-preprocess:*-D__CUDA_ARCH__=*" -E "*) gate ;;
  host-compile:*" -E "*) ;;
  host-compile:*" -c "*) gate ;;
esac
exec gcc "$@"
"""


@pytest.fixture
def tree(pycache_env: PycacheEnv) -> Path:
    return write_project(pycache_env.root / "src")


@pytest.mark.parametrize("held_at", ["device-preprocess", "host-compile"])
def test_an_interrupted_stepped_compile_is_terminated_and_writes_nothing(
    pycache_env: PycacheEnv, tree: Path, held_at: str
) -> None:
    """Ctrl-C while a step runs. A device step stored before it (held at
    the host compile) is kept: it is complete, keyed by its own inputs,
    and the next build reuses it."""
    host_dir = tree / "host"
    gcc = write(host_dir / "gcc", GATED_GCC)
    gcc.chmod(0o755)
    gate = tree / "gate"
    args = [NVCC, "-c", "kern.cu", "-Iinc", *ARCH_75, "-ccbin", str(host_dir), "-o", "kern.o"]
    gating = {"NVCC_TEST_GATE": str(gate), "NVCC_TEST_GATE_AT": held_at}
    log = pycache_env.root / "server.log"
    pycache_env.env.update(PYCACHE_LOG_FILE=str(log), PYCACHE_LOG="info")  # one server (configuration) for every call
    env = {**pycache_env.env, **gating}
    gate.touch()
    build = subprocess.Popen([pycache_env.executable, *args], cwd=tree, env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    pid_file = Path(f"{gate}.pid")
    try:
        wait_until(lambda: pid_file.exists() and pid_file.read_text().strip(), f"the {held_at} step to start",
                   timeout=240)
        step = int(pid_file.read_text())
        os.killpg(build.pid, signal.SIGINT)  # Ctrl-C on the build's process group
        build.communicate(timeout=60)
        wait_until(lambda: not process_alive(step), "the cancelled step's processes to end", timeout=60)
    finally:
        gate.unlink(missing_ok=True)
        if build.poll() is None:
            build.kill()
    wait_until(lambda: pycache_env.totals().get("cancelled") == 1, "the server to count the call cancelled", timeout=60)
    assert "cancelled: the client went away" in log.read_text()
    assert not Path(f"{gate}.late").exists()  # terminated at the gate, not run to its end
    assert not (tree / "kern.o").exists()
    stats = pycache_env.stats()
    assert (stats["totals"]["cancelled"], stats["totals"].get("misses", 0), stats["errors"]) == (1, 0, {})
    stored_before = 1 if held_at == "host-compile" else 0
    assert device_steps(pycache_env).get("stored", 0) == stored_before
    store = pycache_env.cache_dir / "store"
    assert [p for p in store.rglob("*") if p.is_file() and "entries" in p.parts] == []

    # The next build compiles and caches as usual.
    done, diff = cached(pycache_env, tree, *args, env=gating)
    assert done.returncode == 0 and diff == {"misses": 1}, done.stderr
    steps = device_steps(pycache_env)
    assert (steps.get("hits", 0), steps["stored"]) == (stored_before, 1)
    assert run_host(tree, "kern.o") == "15"


def test_step_outputs_get_the_callers_umask(pycache_env: PycacheEnv, tree: Path) -> None:
    """The server runs under its own umask; the object nvcc's steps write
    for a caller under 077 has the mode nvcc gives it there."""
    args = ["-c", "kern.cu", "-Iinc", *ARCH_75]
    started = pycache_env.compile(NVCC, *args, "-o", "first.o", cwd=tree)  # starts the server, umask 022
    assert started.returncode == 0, started.stderr

    def under_077(command):
        return subprocess.run(command, cwd=tree, env=pycache_env.env, capture_output=True, timeout=300,
                              umask=0o077)

    write(tree / "inc" / "host_only.h", "#define HOST_FACTOR 6\n")  # a miss, with its device step reused
    done = under_077([pycache_env.executable, NVCC, *args, "-o", "kern.o"])
    reference = under_077([NVCC, *args, "-o", "ref.o"])
    assert done.returncode == reference.returncode == 0, done.stderr
    assert device_steps(pycache_env)["hits"] == 1
    assert stat.S_IMODE((tree / "kern.o").stat().st_mode) == stat.S_IMODE((tree / "ref.o").stat().st_mode) == 0o600
    assert fatbin(tree / "kern.o") == fatbin(tree / "ref.o")


def test_prefix_command_is_not_used_for_nvcc(pycache_env: PycacheEnv, tree: Path) -> None:
    """A prefix that would record being run (and fail): never run for nvcc."""
    marker = tree / "prefix-ran"
    prefix = write(tree / "fake-distcc", f"#!/bin/sh\necho ran >> {marker}\nexit 111\n")
    prefix.chmod(0o755)
    args = [NVCC, "-c", "kern.cu", "-Iinc", *ARCH_75, "-o", "kern.o"]
    done, diff = cached(pycache_env, tree, *args, env={"PYCACHE_PREFIX_COMMAND": str(prefix)})
    assert done.returncode == 0 and diff == {"misses": 1}, done.stderr
    assert not marker.exists()
    totals = pycache_env.totals()
    assert (totals.get("prefix_skipped"), totals.get("prefix_compiles", 0), totals.get("prefix_failures", 0)) == (1, 0, 0)
    assert device_steps(pycache_env)["stored"] == 1  # compiled in steps, locally
    assert fatbin(tree / "kern.o") == nvccs_fatbin(pycache_env, tree, args[1:-2])
    assert run_host(tree, "kern.o") == "15"
