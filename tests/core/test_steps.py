"""A family that compiles a miss in steps of its own (`pycache_run_compile`)
and reuses steps across calls (`PluginContext.lookup_step` / `store_step`):
the call counts once, its steps in the family's breakdown; a crash in the
plugin's run still builds, uncached and counted."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import pytest

from pycache_core.testing import wait_until

from .test_server import alive, server_status

STEPPED = '''
import time
from pathlib import Path
from pycache_toy_base import *  # the toy plugin's hooks
from pycache_toy_base import pycache_discover_dependencies as _discover
from pycache_core.api import CompileResult, Dependencies, KeyComponent, StepResult


@hookimpl
def pycache_discover_dependencies(invocation, parsed, context):
    found = _discover(invocation, parsed, context)
    return Dependencies(components=found.components, files=found.files, private="discovered")


@hookimpl
def pycache_run_compile(invocation, parsed, dependencies, context):
    """Step "read": the source's text, shared by calls with and without --shout."""
    if invocation.env.get("TOY_CRASH") == "run":
        raise RuntimeError("run exploded")
    assert dependencies.private == "discovered"
    started = time.monotonic()
    source = parsed.sources[0]
    components = [KeyComponent("source", context.hash_file(source))]
    found = context.lookup_step("read", components)
    if found is None:
        text = source.read_bytes()
        context.store_step("read", components, StepResult(files={"text": text}, stderr=b"read it\\n"))
        stderr = b"read it\\n"
    else:
        text, stderr = found.files["text"], found.stderr
    if "--shout" in invocation.arguments:
        text = text.upper()
    invocation.resolve(parsed.outputs["object"].path).write_bytes(text)
    return CompileResult(exit_code=0, stdout=b"", stderr=stderr, duration=time.monotonic() - started)
'''


@pytest.fixture
def stepped(pycache_env, fake_distribution, toy_compiler, tmp_path, request):
    """The stepped toy plugin (another module's source: indirect parameter)."""
    module = getattr(request, "param", STEPPED)
    fake_distribution("pycache-toy", modules={"pycache_toy_base": toy_compiler.plugin_source, "pycache_toy": module},
                      entry_points={"toy": "pycache_toy"})
    pycache_env.env["PATH"] = f"{toy_compiler.bin_dir}{os.pathsep}{pycache_env.env['PATH']}"
    work = tmp_path / "w"
    work.mkdir()
    (work / "a.toy").write_text("alpha\n")
    return work


def test_steps_are_reused_across_calls_and_counted_apart(pycache_env, stepped):
    plain = pycache_env.compile("toycc", "-c", "a.toy", "-o", "a.out", cwd=stepped)
    assert plain.returncode == 0 and plain.stderr == b"read it\n"
    assert (stepped / "a.out").read_text() == "alpha\n"
    shout = pycache_env.compile("toycc", "--shout", "-c", "a.toy", "-o", "b.out", cwd=stepped)
    assert shout.returncode == 0 and shout.stderr == b"read it\n"  # the stored step's output, replayed
    assert (stepped / "b.out").read_text() == "ALPHA\n"
    (stepped / "b.out").unlink()
    again = pycache_env.compile("toycc", "--shout", "-c", "a.toy", "-o", "b.out", cwd=stepped)
    assert again.stderr == b"read it\n" and (stepped / "b.out").read_text() == "ALPHA\n"
    stats = pycache_env.stats()
    assert (stats["totals"]["misses"], stats["totals"]["hits"], stats["totals"]["requests"]) == (2, 1, 3)
    steps = stats["steps"]["toy"]["read"]
    assert (steps["hits"], steps["misses"], steps["stored"]) == (1, 1, 1)
    assert steps["bytes_written"] > 0 and steps["bytes_read"] > 0
    text = pycache_env.run(["stats"]).stdout.decode()
    assert "toy read steps (within the calls above): 1 hits, 1 misses, 1 stored" in text


def test_a_crash_in_the_plugins_run_still_builds(pycache_env, stepped):
    done = pycache_env.compile("toycc", "-c", "a.toy", "-o", "a.out", cwd=stepped, env={"TOY_CRASH": "run"})
    assert done.returncode == 0 and (stepped / "a.out").read_text() == "alpha\n"
    assert done.stdout == b"toycc: wrote a.out\n"  # the real compiler ran
    stats = pycache_env.stats()
    assert stats["errors"]["plugin:run"]["count"] == 1
    assert "run exploded" in stats["errors"]["plugin:run"]["last"]
    assert stats["totals"]["misses"] == 0


# --- an interrupted build, while the family's own compile runs --------------------

GATED = STEPPED.replace('''    started = time.monotonic()
    source = parsed.sources[0]''', '''    started = time.monotonic()
    gate = invocation.env.get("TOY_STEP_GATE")
    if gate:  # a step held at the gate (it and its sleeps record their process group)
        held = ["sh", "-c", f'echo $$ > {gate}.pid; while [ -e {gate} ]; do sleep 0.05; done; echo late > {gate}.late']
        try:
            context.run_compile_step(held)
        except Exception:
            if not invocation.env.get("TOY_SWALLOW"):
                raise
            # a plugin that swallowed the cancellation stores nothing, and starts nothing more
            context.store_step("read", [KeyComponent("source", "swallowed")], StepResult(files={"text": b"x"}))
        context.run_compile_step(["sh", "-c", f"echo started > {gate}.next"])
    source = parsed.sources[0]''')


@pytest.mark.parametrize("stepped", [GATED], indirect=True)
@pytest.mark.parametrize("swallowed", [False, True], ids=["plugin-lets-it-through", "plugin-swallows-it"])
def test_an_interrupted_stepped_compile_is_terminated_and_writes_nothing(pycache_env, stepped, swallowed, tmp_path):
    """Ctrl-C on the build while a family compiles its miss in steps
    (`PluginContext.run_compile_step`): the step's process group is
    terminated, no further step starts, and nothing is written -- no
    output, no entry, no step result -- as for a compiler the core runs."""
    gated = stepped
    gate = gated / "gate"
    gate.touch()
    log = tmp_path / "server.log"
    pycache_env.env.update(PYCACHE_LOG_FILE=str(log), PYCACHE_LOG="info")  # one server (configuration) for every call
    env = {**pycache_env.env, "TOY_STEP_GATE": str(gate), **({"TOY_SWALLOW": "1"} if swallowed else {})}
    build = subprocess.Popen([pycache_env.executable, "toycc", "-c", "a.toy", "-o", "a.out"], cwd=gated, env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    pid_file = Path(f"{gate}.pid")
    try:
        wait_until(lambda: pid_file.exists() and pid_file.read_text().strip(), "the step to start", timeout=60)
        step = int(pid_file.read_text())
        os.killpg(build.pid, signal.SIGINT)
        build.communicate(timeout=60)
        wait_until(lambda: not alive(step), "the cancelled step's process to end")
    finally:
        gate.unlink()
    wait_until(lambda: server_status(pycache_env)["in_flight"] == 0, "the server to finish the call")
    assert not Path(f"{gate}.late").exists()  # terminated at the gate, not finished
    assert not Path(f"{gate}.next").exists()  # nothing started after it
    assert not (gated / "a.out").exists()
    store = pycache_env.cache_dir / "store"
    assert [p for p in store.rglob("*") if p.is_file() and {"entries", "steps"} & set(p.parts)] == []
    stats = pycache_env.stats()
    assert (stats["totals"]["cancelled"], stats["totals"]["misses"], stats["errors"]) == (1, 0, {})
    assert stats.get("steps", {}) == {}
    assert "cancelled: the client went away" in log.read_text()

    # The next build runs the steps and caches as usual.
    done = pycache_env.compile("toycc", "-c", "a.toy", "-o", "a.out", cwd=gated)
    assert done.returncode == 0 and (gated / "a.out").read_text() == "alpha\n", done.stderr
    assert pycache_env.stats()["steps"]["toy"]["read"]["stored"] == 1
