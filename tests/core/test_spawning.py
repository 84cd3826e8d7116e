"""A restored executable can be run at once while the server starts other
compiles: no child process holds it open for writing ("Text file busy")."""

from __future__ import annotations

import errno
import os
import threading

from pycache_core import spawning
from pycache_core.pipeline.restore import atomic_write

SCRIPT = b"#!/bin/sh\nexit 7\n" + b"#" * (1 << 20)  # as big as a small build script: open for writing a while
RUNS = 600


def test_a_restored_executable_runs_at_once_while_other_threads_start_processes(tmp_path):
    # What cargo does with a build script whose hit the server just restored,
    # while the server's other threads start compilers for other calls. Without
    # the gate, about one exec in 50 failed here with ETXTBSY (11 to 14 of 600).
    stop = threading.Event()
    spawned = [0, 0]

    def start_compiles(slot: int) -> None:
        while not stop.is_set():
            assert spawning.run(["true"]).returncode == 0
            spawned[slot] += 1

    threads = [threading.Thread(target=start_compiles, args=(slot,)) for slot in range(2)]
    for thread in threads:
        thread.start()
    busy, exits = 0, []
    try:
        for n in range(RUNS):
            script = tmp_path / f"build-script-{n}"
            atomic_write(script, SCRIPT, 0o755, umask=0o022)
            try:
                pid = os.posix_spawn(script, [str(script)], {})  # as another process would: no gate
            except OSError as exc:
                assert exc.errno == errno.ETXTBSY, exc
                busy += 1
                continue
            exits.append(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
            script.unlink()
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    assert busy == 0
    assert exits == [7] * RUNS
    assert min(spawned) > 0  # the compiles really ran alongside


def test_a_spawn_waits_for_a_file_open_for_writing_and_goes_before_later_writers(monkeypatch):
    order: list[str] = []
    popen = spawning.subprocess.Popen

    def noted_popen(*args, **kwargs):
        proc = popen(*args, **kwargs)
        order.append("spawned")  # still inside the gate
        return proc

    monkeypatch.setattr(spawning.subprocess, "Popen", noted_popen)
    writer_open = threading.Event()
    release_writer = threading.Event()

    def write(name: str, hold: threading.Event | None) -> None:
        with spawning.writing():
            order.append(f"{name} open")
            if hold is not None:
                writer_open.set()
                hold.wait(10)
            order.append(f"{name} closed")

    def spawn() -> None:
        spawning.run(["true"])

    first = threading.Thread(target=write, args=("first", release_writer))
    first.start()
    assert writer_open.wait(10)
    spawner = threading.Thread(target=spawn)
    spawner.start()
    while not spawning._GATE._spawns_waiting:  # the spawn is queued behind the open file
        threading.Event().wait(0.001)
    later = threading.Thread(target=write, args=("later", None))
    later.start()
    release_writer.set()
    for thread in (first, spawner, later):
        thread.join(10)
    assert order == ["first open", "first closed", "spawned", "later open", "later closed"]
