"""Response files that are no regular file (issue 13 A3, for ``@file``): a
FIFO, or ``@<(...)``'s ``/dev/fd/N`` -- the caller's descriptor, which in the
server is some other file. They are refused without being opened (a FIFO
would block the reader, or hand it the bytes the compiler needs), in both
quoting styles; the call then runs as the compiler alone runs it."""

from __future__ import annotations

import os
import threading

import pytest

from pycache_cfamily.responsefiles import ResponseFileError, expand_response_files


@pytest.mark.parametrize("style", ["gnu", "windows"])
@pytest.mark.parametrize("name", ["args.fifo", "/dev/fd/3", "/dev/stdin", "/proc/self/fd/0"])
def test_special_response_files_are_refused_unopened(tmp_path, style, name):
    os.mkfifo(tmp_path / "args.fifo")
    outcome: list[BaseException | object] = []

    def expand():
        try:
            outcome.append(expand_response_files(["-c", f"@{name}"], style=style, cwd=tmp_path))
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread
            outcome.append(exc)

    reader = threading.Thread(target=expand, daemon=True)
    reader.start()
    reader.join(timeout=30)
    assert not reader.is_alive(), "the expansion blocked: it opened the FIFO"
    [error] = outcome
    assert isinstance(error, ResponseFileError), error
    assert "it can be read once, by the compiler" in str(error)


def test_a_regular_response_file_still_expands(tmp_path):
    (tmp_path / "args.rsp").write_text("-c a.c\n")
    assert expand_response_files(["@args.rsp", "-O2"], cwd=tmp_path).arguments == ("-c", "a.c", "-O2")
