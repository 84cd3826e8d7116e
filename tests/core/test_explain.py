"""``pycache explain`` (issue 10, part 3) through the real ``pycache``
executable and real gcc: it agrees with what the compile does, and names
each difference the way a user knows it -- an argument, a header, the
compiler, a variable -- never as two hashes of the preprocessed text. A
not-cacheable answer from any stage and a plugin fault are reported, not
tracebacks.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import blake3
import pytest

from pycache_core.cli import exitcodes
from pycache_core.testing import PycacheEnv

pytestmark = pytest.mark.skipif(shutil.which("gcc") is None, reason="gcc is not installed")

CALL = ("-Iinclude", "-c", "a.c", "-o", "a.o")


@pytest.fixture
def work(pycache_env: PycacheEnv, tmp_path: Path) -> Path:
    """A source including ``include/x.h``; compiles run in process
    (PYCACHE_NO_SERVER), so statistics are on disk at once."""
    pycache_env.set(PYCACHE_NO_SERVER="1")
    root = tmp_path / "w"
    (root / "include").mkdir(parents=True)
    (root / "a.c").write_text('#include "x.h"\nint f(void) { return X + FOO; }\n')
    (root / "include" / "x.h").write_text("#define X 1\n")
    return root


def compile_(penv: PycacheEnv, work: Path, *argv: str, compiler: str = "gcc", env: dict | None = None) -> None:
    done = penv.compile(compiler, *argv, cwd=work, env=env)
    assert (done.returncode, done.stdout, done.stderr) == (0, b"", b""), done.stderr.decode()


def explain(penv: PycacheEnv, work: Path, *argv: str, compiler: str = "gcc", env: dict | None = None,
            status: int = 0) -> dict:
    done = penv.run(["explain", "--json", "--", compiler, *argv], cwd=work, env=env)
    assert done.returncode == status, done.stderr.decode()
    assert b"Traceback" not in done.stdout + done.stderr
    return json.loads(done.stdout)


def human(penv: PycacheEnv, work: Path, *argv: str, compiler: str = "gcc", env: dict | None = None):
    done = penv.run(["explain", "--", compiler, *argv], cwd=work, env=env)
    assert b"Traceback" not in done.stdout + done.stderr
    return done


def messages(report: dict) -> list[str]:
    return [d["message"] for d in report["differences"]]


def digest(data: bytes) -> str:
    return blake3.blake3(data).hexdigest()


def test_a_hit_in_direct_mode_and_in_preprocessor_mode(pycache_env, work):
    pycache_env.set(PYCACHE_DEPEND_MODE="false")  # a preprocessor-mode miss (gcc/clang depend mode keys misses after the compile)
    compile_(pycache_env, work, "-DFOO=1", *CALL)
    report = explain(pycache_env, work, "-DFOO=1", *CALL)
    assert (report["status"], report["mode"], report["family"]) == ("hit", "direct", "gcc-clang")
    assert report["differences"] == [] and report["schema_version"] == 1
    assert {"name": "preprocessor-arguments", "value": "-DFOO=1 -Iinclude"} in report["direct_components"]

    off = explain(pycache_env, work, "-DFOO=1", *CALL, env={"PYCACHE_DIRECT_MODE": "false"})
    assert (off["status"], off["mode"], off["direct_components"]) == ("hit", "preprocessor", None)
    assert off["key"] == report["key"]
    assert [c["name"] for c in off["components"]][:2] == ["core:schema", "family"]


def test_a_header_edit_is_named_with_its_digests(pycache_env, work):
    pycache_env.set(PYCACHE_DEPEND_MODE="false")  # a preprocessor-mode miss (gcc/clang depend mode keys misses after the compile)
    header = work / "include" / "x.h"
    before = digest(header.read_bytes())
    compile_(pycache_env, work, "-DFOO=1", *CALL)
    header.write_text("#define X 2\n")
    after = digest(header.read_bytes())

    report = explain(pycache_env, work, "-DFOO=1", *CALL)

    assert (report["status"], report["mode"]) == ("miss", "preprocessor")
    changed = [d for d in report["differences"] if d["kind"] == "file-changed"]
    assert changed == [{
        "kind": "file-changed", "subject": "include/x.h", "component": None, "before": before, "after": after,
        "message": f"`include/x.h` changed (digest {before[:12]} → {after[:12]})",
    }]
    # The preprocessed text's digest follows, named last; nothing else differs.
    assert [d["subject"] for d in report["differences"]] == ["include/x.h", "preprocessed"]
    assert report["compared_with"]["manifest_record"] == report["compared_with"]["journal"]

    text = human(pycache_env, work, "-DFOO=1", *CALL)
    assert text.returncode == 0
    assert f"include/x.h changed (digest {before[:12]} → {after[:12]})".encode() in text.stdout
    assert text.stdout.startswith(b"MISS gcc-clang")

    # It said "miss": the compile agrees.
    (work / "a.o").unlink()
    compile_(pycache_env, work, "-DFOO=1", *CALL)
    assert pycache_env.totals()["misses"] == 2


def test_a_changed_define_is_named_as_the_argument(pycache_env, work):
    pycache_env.set(PYCACHE_DEPEND_MODE="false")  # a preprocessor-mode miss (gcc/clang depend mode keys misses after the compile)
    compile_(pycache_env, work, "-DFOO=1", *CALL)
    report = explain(pycache_env, work, "-DFOO=2", *CALL)
    assert report["status"] == "miss"
    assert report["differences"][0] == {
        "kind": "argument-changed", "subject": "-DFOO=2", "component": "preprocessor-arguments",
        "before": "-DFOO=1", "after": "-DFOO=2", "message": "`-DFOO=1` → `-DFOO=2`",
    }
    # No header changed; the preprocessed text differs as a consequence.
    assert {d["kind"] for d in report["differences"]} == {"argument-changed", "component-changed"}

    added = explain(pycache_env, work, "-DFOO=1", "-DBAR", *CALL)
    assert "`-DBAR` added" in messages(added)


def test_a_changed_compiler_is_named_by_its_path(pycache_env, work, tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    gcc = bin_dir / "gcc"  # a toolchain replaced under the same path
    gcc.write_text(f'#!/bin/sh\n# release 1\nexec {shutil.which("gcc")} "$@"\n')
    gcc.chmod(0o755)
    compile_(pycache_env, work, "-DFOO=1", *CALL, compiler=str(gcc))
    assert explain(pycache_env, work, "-DFOO=1", *CALL, compiler=str(gcc))["status"] == "hit"

    gcc.write_text(gcc.read_text().replace("release 1", "release 2"))
    report = explain(pycache_env, work, "-DFOO=1", *CALL, compiler=str(gcc))

    assert report["status"] == "miss"
    [difference] = report["differences"]
    assert (difference["kind"], difference["subject"]) == ("compiler-changed", str(gcc))
    assert difference["message"].startswith(f"compiler `{gcc}` changed (fingerprint ")


def test_a_changed_variable_is_named(pycache_env, work, tmp_path):
    one, two = tmp_path / "one", tmp_path / "two"
    one.mkdir()
    two.mkdir()
    compile_(pycache_env, work, "-DFOO=1", *CALL, env={"CPATH": str(one)})
    report = explain(pycache_env, work, "-DFOO=1", *CALL, env={"CPATH": str(two)})
    assert report["status"] == "miss"
    cpath = [d for d in report["differences"] if d["subject"] == "CPATH"]
    assert cpath == [{
        "kind": "env-changed", "subject": "CPATH", "component": "env:CPATH", "before": str(one), "after": str(two),
        "message": f"`CPATH` changed: `{one}` → `{two}`",
    }]
    unset = explain(pycache_env, work, "-DFOO=1", *CALL)
    assert f"`CPATH` unset (was `{one}`)" in messages(unset)


def test_a_not_cacheable_answer_of_direct_mode_is_what_the_compile_counts(pycache_env, work):
    report = explain(pycache_env, work, "-c", "missing.c", "-o", "m.o")
    assert (report["status"], report["stage"], report["reason"]) == ("not-cacheable", "direct", "missing-input")
    assert "missing.c" in report["detail"]

    done = pycache_env.compile("gcc", "-c", "missing.c", "-o", "m.o", cwd=work)
    assert done.returncode != 0 and b"missing.c" in done.stderr
    stats = pycache_env.stats()
    assert stats["not_cacheable_reasons"] == {"missing-input": 1}

    text = human(pycache_env, work, "-c", "missing.c", "-o", "m.o")
    assert text.returncode == 0
    assert text.stdout.startswith(b"NOT CACHEABLE gcc-clang") and b"missing-input at direct" in text.stdout


def test_a_first_call_has_nothing_to_compare_with(pycache_env, work):
    report = explain(pycache_env, work, "-DFOO=1", *CALL)
    assert (report["status"], report["differences"]) == ("miss", [])
    assert "no earlier compile of this call was recorded" in report["notes"]
    text = human(pycache_env, work, "-DFOO=1", *CALL)
    assert b"no earlier compile of this call was recorded" in text.stdout


BROKEN_PLUGIN = '''
from pycache_core.api import hookimpl


@hookimpl
def pycache_extra_key_components(invocation, family):
    raise RuntimeError("site cache buster is broken")
'''


def test_a_plugin_that_raises_is_reported_not_a_traceback(pycache_env, work, fake_distribution):
    fake_distribution("pycache-buster", modules={"pycache_buster": BROKEN_PLUGIN}, entry_points={"buster": "pycache_buster"})

    report = explain(pycache_env, work, "-DFOO=1", *CALL, status=exitcodes.FAILURE)
    assert (report["status"], report["stage"], report["reason"]) == ("error", "extra", "plugin:extra")
    assert report["detail"] == "RuntimeError: site cache buster is broken"

    text = human(pycache_env, work, "-DFOO=1", *CALL)
    assert text.returncode == exitcodes.FAILURE
    assert text.stdout.startswith(b"ERROR gcc-clang")
    assert b"plugin:extra at extra: RuntimeError: site cache buster is broken" in text.stderr

    # The compile runs uncached and counts the same fault.
    compile_(pycache_env, work, "-DFOO=1", *CALL)
    assert (work / "a.o").exists()
    stats = pycache_env.stats()
    assert stats["errors"]["plugin:extra"]["last"] == "RuntimeError: site cache buster is broken"


def test_explain_of_a_missing_compiler_and_a_non_compilation(pycache_env, work):
    missing = explain(pycache_env, work, "-c", "a.c", compiler="no-such-cc-4711", status=exitcodes.FAILURE)
    assert (missing["status"], missing["compiler"]) == ("not-found", None)
    probe = explain(pycache_env, work, "--version")
    assert (probe["status"], probe["stage"], probe["reason"]) == ("not-compilation", "parse", "version-probe")


def test_the_journal_is_private(pycache_env, work):
    compile_(pycache_env, work, "-DFOO=1", *CALL)
    [journal] = (pycache_env.cache_dir / "explain").iterdir()
    assert journal.stat().st_mode & 0o077 == 0
    data = json.loads(journal.read_text())
    assert (data["version"], data["compiler"]) == (3, shutil.which("gcc", path=pycache_env.env["PATH"]))
    assert ["include/x.h" in p for p, _ in data["manifest"]["files"]].count(True) == 1


@pytest.mark.skipif(shutil.which("rustc") is None, reason="rustc is not installed")
def test_a_deferred_miss_names_the_file_that_changed(pycache_env, tmp_path):
    """rustc's key is completed by the compile's own dep-info: explain names
    the module whose content changed from the manifest record."""
    pycache_env.set(PYCACHE_NO_SERVER="1")
    crate = tmp_path / "crate"
    (crate / "src").mkdir(parents=True)
    (crate / "out").mkdir()
    (crate / "src" / "lib.rs").write_text("mod m;\npub fn f() -> u32 { m::g() }\n")
    module = crate / "src" / "m.rs"
    module.write_text("pub fn g() -> u32 { 1 }\n")
    command = ["rustc", "--crate-name", "explained", "--crate-type", "lib", "--emit=link,dep-info", "--out-dir", "out", "src/lib.rs"]
    done = pycache_env.compile(*command, cwd=crate)
    assert done.returncode == 0, done.stderr.decode()
    before = digest(module.read_bytes())
    module.write_text("pub fn g() -> u32 { 2 }\n")

    report = explain(pycache_env, crate, *command[1:], compiler="rustc")

    assert (report["status"], report["mode"], report["key"]) == ("miss", "deferred", None)
    assert messages(report) == [f"`src/m.rs` changed (digest {before[:12]} → {digest(module.read_bytes())[:12]})"]


def test_journal_entries_keep_a_fingerprint_only_where_the_value_is_not_whole():
    from pycache_core.api import KeyComponent
    from pycache_core.keys import fingerprint_value
    from pycache_core.pipeline import journal

    long = "x" * (journal.VALUE_LIMIT + 1)
    components = (KeyComponent("file:a.h", "ab" * 32), KeyComponent("args", ("-O2", "-g")),
                  KeyComponent("blob", b"\0bytes"), KeyComponent("long", long))
    kept = journal.entries(components)
    assert [entry[1] is None for entry in kept] == [True, True, False, False]
    assert all(journal.unchanged(entry, c.value) for entry, c in zip(kept, components))
    changed = ("cd" * 32, ("-O2",), b"\0other", long + "y")
    assert not any(journal.unchanged(entry, value) for entry, value in zip(kept, changed))
    # a value of another kind with the same text is a change
    assert not journal.unchanged(journal.entries((KeyComponent("v", "-O2 -g"),))[0], ("-O2", "-g"))
    # a version-2 journal's entry: fingerprinted whatever the value
    assert journal.unchanged(["file:a.h", fingerprint_value("ab" * 32), "ab" * 32], "ab" * 32)
    assert not journal.unchanged(["file:a.h", fingerprint_value("ab" * 32), "ab" * 32], "cd" * 32)
