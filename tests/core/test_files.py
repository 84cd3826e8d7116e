"""The core's checks of the files a parsed call names (issue 13 A1, A3), the
same for every family: `pycache_core.pipeline.files.check` on calls built as
any plugin would return them. The end-to-end behaviour with real gcc is in
test_build_breaks.py."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from pycache_core.api import Invocation, NotCacheable, OutputSlot, ParsedInvocation
from pycache_core.pipeline import files


def check(cwd: Path, source: str, **outputs: str) -> NotCacheable | None:
    invocation = Invocation(compiler=Path("/usr/bin/cc"), invoked_as="cc", arguments=(), cwd=cwd, env={}, family="any")
    parsed = ParsedInvocation(language="c", sources=(Path(source),),
                              outputs={role: OutputSlot(path=Path(p)) for role, p in outputs.items()}, key_arguments=())
    return files.check(invocation, parsed)


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    (tmp_path / "a.c").write_text("int x;\n")
    os.mkfifo(tmp_path / "fifo.c")
    (tmp_path / "out").mkdir()
    os.symlink("/proc/self/fd/0", tmp_path / "via-proc.c")
    os.symlink("/dev", tmp_path / "devdir")
    os.symlink("a.c", tmp_path / "link.c")
    os.link(tmp_path / "a.c", tmp_path / "hard.c")
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(tmp_path / "sock.c"))
    return tmp_path


@pytest.mark.parametrize(("source", "why"), [
    ("/dev/stdin", "names a file descriptor or process file"),
    ("/dev/fd/63", "names a file descriptor or process file"),
    ("/proc/self/fd/3", "names a file descriptor or process file"),
    ("via-proc.c", "names a file descriptor or process file"),  # a link into /proc, followed as the kernel would
    ("devdir/stdin", "names a file descriptor or process file"),  # a directory link, then /dev/stdin
    ("fifo.c", "is a FIFO"),
    ("/dev/zero", "is a device"),
    ("out", "is a directory"),
    ("sock.c", "is a socket"),
])
def test_sources_that_are_no_regular_file(tree, source, why):
    refused = check(tree, source, object="a.o")
    assert refused is not None and refused.reason == "source-not-a-file"
    assert why in refused.detail and source in refused.detail


def test_the_null_device_is_an_empty_source(tree):
    os.symlink(os.devnull, tree / "null-link")
    assert check(tree, os.devnull, object="a.o") is None
    assert check(tree, "null-link", object="a.o") is None
    assert check(tree, "devdir/null", object="a.o") is None
    # Through /proc it names the server's own descriptor, whatever that is.
    with open(os.devnull, "rb") as null:
        refused = check(tree, f"/proc/self/fd/{null.fileno()}", object="a.o")
    assert refused is not None and refused.reason == "source-not-a-file"
    assert "names a file descriptor or process file" in refused.detail


@pytest.mark.parametrize("output", ["/dev/null", "out", "/"])
def test_outputs_that_are_no_regular_file(tree, output):
    refused = check(tree, "a.c", object="a.o", depfile=output)
    assert refused is not None and refused.reason == "output-not-a-file" and output in refused.detail


@pytest.mark.parametrize("output", ["a.c", "./a.c", "link.c", "hard.c", "out/../a.c"])
def test_an_output_that_is_the_source(tree, output):
    refused = check(tree, "a.c", object=output)
    assert refused is not None and refused.reason == "output-is-input"


@pytest.mark.parametrize("output", ["a.o", "out/a.o", "missing-dir/a.o", "dangling.o"])
def test_ordinary_calls_pass(tree, output):
    os.symlink("nowhere.o", tree / "dangling.o")
    assert check(tree, "a.c", object=output) is None
    assert check(tree, "missing.c", object=output) is None  # the compiler reports a missing source
