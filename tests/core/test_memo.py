"""pycache_core.memo: a probe asked for by several compiles at once runs once."""

from __future__ import annotations

import threading

import pytest

from pycache_core.memo import Memo
from pycache_core.testing import wait_until


def test_concurrent_gets_of_one_key_compute_it_once():
    memo: Memo[str] = Memo()
    calls: list[str] = []
    started, release = threading.Event(), threading.Event()

    def probe() -> str:
        calls.append(threading.current_thread().name)
        started.set()
        release.wait()
        return "toolchain"

    results: dict[str, str] = {}
    first = threading.Thread(target=lambda: results.update(first=memo.get("rustc", probe)), name="first")
    first.start()
    started.wait()
    second = threading.Thread(target=lambda: results.update(second=memo.get("rustc", probe)), name="second")
    second.start()
    wait_until(lambda: memo.waited == 1, "the second get to wait for the first")
    release.set()
    first.join()
    second.join()
    assert calls == ["first"] and results == {"first": "toolchain", "second": "toolchain"}
    assert memo.get("rustc", lambda: "other") == "toolchain"


def test_a_failed_computation_is_not_kept_and_a_waiter_computes_it_itself():
    memo: Memo[str] = Memo()
    started, release = threading.Event(), threading.Event()

    def failing() -> str:
        started.set()
        release.wait()
        raise OSError("probe failed")

    errors: list[BaseException] = []

    def first_get() -> None:
        try:
            memo.get("rustc", failing)
        except OSError as exc:
            errors.append(exc)

    first = threading.Thread(target=first_get)
    first.start()
    started.wait()
    results: list[str] = []
    second = threading.Thread(target=lambda: results.append(memo.get("rustc", lambda: "second's")))
    second.start()
    wait_until(lambda: memo.waited == 1, "the second get to wait for the first")
    release.set()
    first.join()
    second.join()
    assert [str(e) for e in errors] == ["probe failed"] and results == ["second's"]
    with pytest.raises(ValueError):
        memo.get("other", lambda: (_ for _ in ()).throw(ValueError("x")))
    assert memo.get("other", lambda: "now") == "now"
