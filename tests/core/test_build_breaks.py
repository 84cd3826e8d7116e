"""Calls that must behave exactly as the compiler alone does (issue 13 A):
an output naming an input, the auto-started server's descriptors and
session, sources that are not regular files, symlinked outputs, file modes
from the caller's umask, compilers that cannot be run. Each compares with
the real gcc run without pycache: artifact bytes, stdout, stderr, exit
status -- through the real server, started by the first call as a build
would start it.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import threading
from pathlib import Path

import pytest

from pycache_core.testing import PycacheEnv

from .test_server import server_processes

GCC = shutil.which("gcc")
BASH = shutil.which("bash")
needs_gcc = pytest.mark.skipif(GCC is None, reason="gcc is not installed")

SOURCE = "int answer(void) { return 42; }\n"


@pytest.fixture
def work(pycache_env: PycacheEnv, tmp_path: Path) -> Path:
    pycache_env.set(PYCACHE_IDLE_TIMEOUT="600")  # a server that outlives a test's timeouts
    work = tmp_path / "w"
    work.mkdir()
    (work / "a.c").write_text(SOURCE)
    return work


def run(command, cwd, env, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, timeout=120, **kwargs)


def result(done: subprocess.CompletedProcess) -> tuple[int, bytes, bytes]:
    return done.returncode, done.stdout, done.stderr


def reasons(penv: PycacheEnv) -> dict:
    return penv.stats()["not_cacheable_reasons"]


# --- A1: an output that names an input ----------------------------------------


@needs_gcc
def test_output_naming_the_input_leaves_the_source_as_gcc_does(pycache_env, work):
    os.symlink("a.c", work / "link-to-a.c")
    os.link(work / "a.c", work / "hardlink-to-a.c")
    reference_dir = work.parent / "ref"
    shutil.copytree(work, reference_dir, symlinks=True)
    # An entry for the same call with another output exists: a hit would
    # write the object over the source.
    first = pycache_env.compile("gcc", "-c", "a.c", "-o", "a.o", cwd=work)
    assert first.returncode == 0, first.stderr

    spellings = ["a.c", "./a.c", str(work / "a.c"), "link-to-a.c", "hardlink-to-a.c"]
    for spelling in spellings:
        done = pycache_env.compile("gcc", "-c", "a.c", "-o", spelling, cwd=work)
        reference = run(["gcc", "-c", "a.c", "-o", spelling.replace(str(work), str(reference_dir))], reference_dir,
                        pycache_env.env)

        expected = result(reference)[:2] + (reference.stderr.replace(bytes(reference_dir), bytes(work)),)
        assert result(done) == expected, spelling
        for name in ("a.c", "link-to-a.c", "hardlink-to-a.c"):
            assert (work / name).read_bytes() == (reference_dir / name).read_bytes(), (spelling, name)
        if spelling != "hardlink-to-a.c":  # gcc sees through a hard link no better than a name
            assert reference.returncode == 1 and b"is the same as output file" in reference.stderr
            assert (work / "a.c").read_text() == SOURCE
    assert reasons(pycache_env) == {"output-is-input": len(spellings)}


# --- A2 and A3: the server's descriptors, sources that are not regular files ---


@needs_gcc
@pytest.mark.skipif(BASH is None, reason="bash is needed for process substitution")
def test_first_call_from_a_pipeline_with_a_process_substitution_source(pycache_env, work):
    """The call that starts the server holds a process-substitution pipe
    (its source, /dev/fd/63) and a second descriptor on the pipeline's pipe
    (3>&1). The server holds neither: the source is compiled by gcc in the
    caller's process, and the pipeline ends when the compile does, not when
    the server exits."""
    script = '{} -x c -c <(printf "int from_pipe = 7;\\n") -o {} 3>&1 | cat'
    assert server_processes(pycache_env) == []
    done = run([BASH, "-c", script.format(f"{pycache_env.executable} gcc", "ps.o")], work, pycache_env.env)
    reference = run([BASH, "-c", script.format("gcc", "ref.o")], work, pycache_env.env)

    assert result(done) == result(reference) == (0, b"", b"")
    assert (work / "ps.o").read_bytes() == (work / "ref.o").read_bytes()
    assert b"from_pipe" in (work / "ps.o").read_bytes()  # not an empty object

    [pid] = server_processes(pycache_env)
    assert os.getsid(pid) == pid  # a session of its own: the caller's Ctrl-C never reaches it
    descriptors = {int(n): os.readlink(f"/proc/{pid}/fd/{n}") for n in os.listdir(f"/proc/{pid}/fd")}
    assert descriptors[0] == descriptors[1] == os.devnull
    assert descriptors[2].endswith(".log")  # its own log
    assert not [target for target in descriptors.values() if target.startswith("pipe:")], descriptors
    assert reasons(pycache_env) == {"source-not-a-file": 1}


@needs_gcc
def test_files_that_are_not_regular_files_run_as_the_compiler_alone(pycache_env, work):
    env = pycache_env.env
    # /dev/stdin: the caller's stdin reaches gcc.
    with open(work / "a.c", "rb") as stdin:
        done = run([pycache_env.executable, "gcc", "-x", "c", "-c", "/dev/stdin", "-o", "in.o"], work, env, stdin=stdin)
    with open(work / "a.c", "rb") as stdin:
        reference = run(["gcc", "-x", "c", "-c", "/dev/stdin", "-o", "ref-in.o"], work, env, stdin=stdin)
    assert result(done) == result(reference) == (0, b"", b"")
    assert (work / "in.o").read_bytes() == (work / "ref-in.o").read_bytes()

    # A FIFO: read once, by gcc; the server never opens it (it would block).
    os.mkfifo(work / "fifo.c")

    def compile_from_fifo(command):
        writer = threading.Thread(target=lambda: (work / "fifo.c").write_text("int from_fifo = 3;\n"))
        writer.start()
        try:
            return run(command, work, env)
        finally:
            writer.join(timeout=60)

    done = compile_from_fifo([pycache_env.executable, "gcc", "-c", "fifo.c", "-o", "fifo.o"])
    reference = compile_from_fifo(["gcc", "-c", "fifo.c", "-o", "ref-fifo.o"])
    assert result(done) == result(reference) == (0, b"", b"")
    assert (work / "fifo.o").read_bytes() == (work / "ref-fifo.o").read_bytes()

    # (Devices other than the null device -- an empty source, see
    # test_null_device_sources_are_cached_as_empty_files -- are refused by
    # the same check: tests/core/test_files.py. Any other gcc would read
    # without end.)

    # Outputs that are no regular file: run as gcc alone runs them.
    for args in (["-c", "a.c", "-o", "/dev/null"], ["-c", "a.c", "-MD", "-MF", "/dev/null", "-o", "md.o"]):
        done = run([pycache_env.executable, "gcc", *args], work, env)
        reference = run(["gcc", *args], work, env)
        assert result(done) == result(reference) == (0, b"", b"")
    assert os.path.exists(os.devnull) and not os.path.isfile(os.devnull)  # still the device

    # Nothing was cached, each call is counted with its reason, and the
    # server still serves: a regular compile is a miss, then a hit.
    assert reasons(pycache_env) == {"source-not-a-file": 2, "output-not-a-file": 2}
    for _ in range(2):
        done = pycache_env.compile("gcc", "-c", "a.c", "-o", "a.o", cwd=work)
        assert result(done) == (0, b"", b"")
    totals = pycache_env.totals()
    assert (totals["misses"], totals["hits"], totals["errors"]) == (1, 1, 0)


@needs_gcc
@pytest.mark.parametrize("depend_mode", ["true", "false"])
def test_null_device_sources_are_cached_as_empty_files(pycache_env, work, depend_mode):
    """Kbuild's cc-option compiles ``-x c /dev/null`` into a new temporary
    name dozens of times per make: the null device reads empty in every
    process, so such a probe is a miss once, then a hit with gcc's bytes,
    whatever the output is called; a probe gcc fails is its failure, each
    time. A link to the null device is the null device."""
    pycache_env.set(PYCACHE_DEPEND_MODE=depend_mode)
    env = pycache_env.env
    os.symlink(os.devnull, work / "null-link")
    probe = ["-Werror", "-fno-stack-protector", "-c", "-x", "c"]
    for source in ("/dev/null", "null-link"):  # the object names its source
        assert result(run(["gcc", *probe, source, "-o", f"ref-{source[-4:]}.o"], work, env)) == (0, b"", b"")
    for name, source in (("tmp.1", "/dev/null"), ("tmp.2", "/dev/null"), ("tmp.3", "null-link"), ("tmp.4", "null-link")):
        done = run([pycache_env.executable, "gcc", *probe, source, "-o", name], work, env)
        assert result(done) == (0, b"", b"")
        assert (work / name).read_bytes() == (work / f"ref-{source[-4:]}.o").read_bytes(), name
    failing = ["-Werror", "-c", "-x", "c", "-include", "missing.h", "/dev/null", "-o", "fail.o"]
    reference = run(["gcc", *failing], work, env)
    assert reference.returncode != 0 and b"missing.h" in reference.stderr
    for _ in range(2):
        assert result(run([pycache_env.executable, "gcc", *failing], work, env)) == result(reference)
    totals = pycache_env.totals()
    assert (totals["misses"], totals["hits"], totals["errors"]) == (2, 2, 0)
    assert "source-not-a-file" not in reasons(pycache_env)
    assert os.path.exists(os.devnull) and not os.path.isfile(os.devnull)  # still the device


# --- A4: symlinked outputs --------------------------------------------------------


def _links(directory: Path) -> None:
    """Outputs that are links: to old targets, and one dangling."""
    for name in ("a.o", "a.d"):
        (directory / f"target-{name}").write_text("stale\n")
        os.symlink(f"target-{name}", directory / name)


def _tree(directory: Path) -> dict[str, tuple[str, bytes]]:
    """Every entry of ``directory``: a link's target, or a file's bytes."""
    return {
        p.name: ("link", os.readlink(p).encode()) if p.is_symlink() else ("file", p.read_bytes())
        for p in sorted(directory.iterdir())
    }


@needs_gcc
def test_symlinked_outputs_are_written_as_gcc_writes_them(pycache_env, work):
    """gcc's assembler replaces a link at the object's path; its dependency
    file is written through the link. A hit does the same."""
    args = ["gcc", "-c", "a.c", "-MD", "-o", "a.o"]
    reference_dir = work.parent / "ref"
    reference_dir.mkdir()
    (reference_dir / "a.c").write_text(SOURCE)
    _links(reference_dir)
    assert run(args, reference_dir, pycache_env.env).returncode == 0
    expected = _tree(reference_dir)
    assert expected["a.d"][0] == "link" and expected["a.o"][0] == "file"  # what gcc does, as said

    for outcome in ("misses", "hits"):
        for name in ("a.o", "a.d", "target-a.o", "target-a.d"):
            (work / name).unlink(missing_ok=True)
        _links(work)
        done = pycache_env.compile(*args, cwd=work)
        assert result(done) == (0, b"", b"")
        assert _tree(work) == expected, outcome
        assert pycache_env.totals()[outcome] == 1


# --- A5: file modes from the caller's umask ---------------------------------------


@needs_gcc
def test_output_modes_follow_each_callers_umask(pycache_env, work):
    """The server is started under one umask; later calls under others get
    the modes gcc gives under theirs, on a miss (the server's compile) and
    on a hit (restored)."""
    args = ["-c", "a.c", "-MD", "-o", "a.o"]
    start = run([pycache_env.executable, "gcc", "-c", "a.c", "-o", "first.o"], work, pycache_env.env, umask=0o022)
    assert start.returncode == 0, start.stderr
    for umask, outcome in ((0o077, "misses"), (0o002, "hits"), (0o027, "hits")):
        for name in ("a.o", "a.d", "ref.o", "ref.d"):
            (work / name).unlink(missing_ok=True)
        done = run([pycache_env.executable, "gcc", *args], work, pycache_env.env, umask=umask)
        reference = run(["gcc", "-c", "a.c", "-MD", "-MF", "ref.d", "-o", "ref.o"], work, pycache_env.env, umask=umask)
        assert result(done) == result(reference) == (0, b"", b"")
        for ours, theirs in (("a.o", "ref.o"), ("a.d", "ref.d")):
            mode = stat.S_IMODE((work / ours).stat().st_mode)
            assert mode == stat.S_IMODE((work / theirs).stat().st_mode) == 0o666 & ~umask, (oct(umask), ours)
        assert (work / "a.o").read_bytes() == (work / "ref.o").read_bytes()
    totals = pycache_env.totals()
    assert (totals["misses"], totals["hits"]) == (2, 2)


# --- A6: a compiler that cannot be run ------------------------------------------------


CANNOT_RUN = [
    ("server", "not-executable"),
    ("server", "directory"),
    ("server", "not-executable-on-path"),
    ("server", "directory-on-path"),
    ("no-server", "directory"),
    ("disable", "not-executable-on-path"),
]


def test_compiler_that_cannot_run_fails_as_the_shell_says(pycache_env, work):
    """Exit 126 and the system's reason, as ``sh -c 'exec ...'`` gives."""
    for mode, what in CANNOT_RUN:
        bin_dir = work / f"{mode}-{what}"
        bin_dir.mkdir()
        if what.startswith("not-executable"):
            (bin_dir / "gcc").write_text("#!/bin/sh\necho compiled\n")
            (bin_dir / "gcc").chmod(0o644)
        else:
            (bin_dir / "gcc").mkdir()
        name = "gcc" if what.endswith("on-path") else f"./{bin_dir.name}/gcc"
        env = {**pycache_env.env, "PATH": str(bin_dir)}  # the only gcc on PATH
        env.update({"no-server": {"PYCACHE_NO_SERVER": "1"}, "disable": {"PYCACHE_DISABLE": "1"}}.get(mode, {}))

        shell = run(["/bin/sh", "-c", f"exec {name} -c a.c"], work, env)
        done = run([pycache_env.executable, name, "-c", "a.c"], work, env)

        case = (mode, what)
        assert shell.returncode == done.returncode == 126, case
        assert shell.stdout == done.stdout == b"", case
        said = shell.stderr.decode().split("exec: ", 1)[1]  # "sh: 1: exec: ./server-directory/gcc: Permission denied"
        assert done.stderr.decode() == f"pycache: {said}", case
        assert not (work / "a.o").exists()
