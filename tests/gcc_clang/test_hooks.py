"""The plugin's hooks against real gcc and clang, called the way the core
calls them: registration, probing, dependency discovery (headers, shadowing
candidates, when a manifest is unsafe), outputs and diagnostics colour."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from pycache_core.api import (
    API_VERSION,
    CompileResult,
    Dependencies,
    NotCacheable,
    Outputs,
    ParsedInvocation,
)
from pycache_core.errors import ProbeError
from pycache_core.pipeline import strip_colour
from pycache_gcc_clang import hooks

from .support import (
    BASE_ENV,
    CLANG,
    FAMILY,
    GCC,
    GXX,
    make_context,
    make_invocation,
    needs_clang,
    needs_gcc,
    parse,
    probe,
    write,
)


def test_registration() -> None:
    (family,) = hooks.pycache_register_compilers()
    assert family.name == "gcc-clang"
    assert family.api_version == API_VERSION
    assert family.cache_version == "1"
    assert family.precedence == 0


@pytest.mark.parametrize(
    "name",
    ["gcc", "g++", "cc", "c++", "clang", "clang++", "gcc-12", "g++-12", "clang-14", "clang++-14",
     "x86_64-linux-gnu-gcc-12", "x86_64-linux-gnu-g++-12", "aarch64-linux-gnu-gcc", "gcc.exe", "clang-14.0.6"],
)
def test_recognised_executables(name: str) -> None:
    assert FAMILY.matches(name)


@pytest.mark.parametrize(
    "name", ["gcc-ar", "gcc-ar-12", "gcc-nm", "x86_64-linux-gnu-gcc-ranlib-12", "clang-cl", "clang-cpp", "cpp",
             "nvcc", "ccache", "clang-tidy", "clang-format", "cl", "rustc", "icc", "mpicc"],
)
def test_other_executables_are_not_claimed(name: str) -> None:
    assert not FAMILY.matches(name)


# --- probing ----------------------------------------------------------------------


@needs_gcc
def test_probe_gcc(tmp_path: Path) -> None:
    invocation = make_invocation([], tmp_path, compiler=GCC)
    identity = probe(invocation, make_context(tmp_path))
    assert identity.family == "gcc-clang"
    assert identity.details["kind"] == "gcc"
    assert os.path.basename(identity.details["cc1"]) == "cc1"
    assert identity.version.split(".")[0].isdigit()
    again = probe(invocation, make_context(tmp_path))
    assert again.fingerprint == identity.fingerprint  # stable
    # The locale does not leak into the fingerprint.
    german = make_invocation([], tmp_path, compiler=GCC, env={**BASE_ENV, "LC_ALL": "de_DE.UTF-8", "LANGUAGE": "de"})
    assert probe(german, make_context(tmp_path)).fingerprint == identity.fingerprint
    # g++ is another driver: another toolchain.
    assert probe(make_invocation([], tmp_path, compiler=GXX), make_context(tmp_path)).fingerprint != identity.fingerprint


@needs_clang
def test_probe_clang(tmp_path: Path) -> None:
    identity = probe(make_invocation([], tmp_path, compiler=CLANG), make_context(tmp_path))
    assert identity.details["kind"] == "clang"
    assert "clang version" in identity.details["version_text"]
    if GCC:
        gcc = probe(make_invocation([], tmp_path, compiler=GCC), make_context(tmp_path))
        assert gcc.fingerprint != identity.fingerprint


def test_probe_failures(tmp_path: Path) -> None:
    broken = tmp_path / "gcc"
    broken.write_text("#!/bin/sh\necho 'no such thing' >&2\nexit 3\n")
    broken.chmod(0o755)
    with pytest.raises(ProbeError, match="exit 3"):
        probe(make_invocation([], tmp_path, compiler=str(broken)), make_context(tmp_path))
    with pytest.raises(ProbeError, match="cannot run"):
        probe(make_invocation([], tmp_path, compiler=str(tmp_path / "missing-gcc")), make_context(tmp_path))


@needs_gcc
def test_probe_follows_a_changed_cc1(tmp_path: Path) -> None:
    """A toolchain whose compiler proper changes is a different toolchain,
    even when the driver binary is the same."""
    prefix = tmp_path / "tc"
    libexec = prefix / "libexec"
    libexec.mkdir(parents=True)
    real_cc1 = subprocess.run([GCC, "-print-prog-name=cc1"], capture_output=True, text=True).stdout.strip()
    shutil.copy(real_cc1, libexec / "cc1")
    env = {**BASE_ENV}
    driver = tmp_path / "bin" / "gcc"
    driver.parent.mkdir()
    # A driver wrapper that reports our cc1 copy, like a relocated install.
    driver.write_text(
        f"#!/bin/sh\ncase \"$1\" in -print-prog-name=cc1) echo {libexec}/cc1;; *) exec {GCC} \"$@\";; esac\n"
    )
    driver.chmod(0o755)
    before = probe(make_invocation([], tmp_path, compiler=str(driver), env=env), make_context(tmp_path))
    with open(libexec / "cc1", "ab") as f:
        f.write(b"\0patched")
    after = probe(make_invocation([], tmp_path, compiler=str(driver), env=env), make_context(tmp_path))
    assert before.fingerprint != after.fingerprint


# --- dependencies -------------------------------------------------------------------


def _discover(root: Path, args, *, compiler=None, env=None):
    invocation = make_invocation(args, root, compiler=compiler, env={**BASE_ENV, **(env or {})})
    context = make_context(root.parent, cwd=root)
    probe(invocation, context)
    parsed = parse(invocation)
    assert isinstance(parsed, ParsedInvocation), parsed
    return hooks.pycache_discover_dependencies(invocation=invocation, parsed=parsed, context=context)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "p"
    write(root / "src" / "a.c", '#include "local.h"\n#include <lib.h>\nint f(void) { return LOCAL + LIB; }\n')
    write(root / "src" / "local.h", "#define LOCAL 1\n")
    write(root / "first" / "unrelated.h", "\n")
    write(root / "second" / "lib.h", '#include "sub/part.h"\n#define LIB PART\n')
    write(root / "second" / "sub" / "part.h", "#define PART 2\n")
    return root


@needs_gcc
@pytest.mark.parametrize("which", ["gcc", "clang"])
def test_headers_and_shadowing_candidates(project: Path, which: str) -> None:
    compiler = GCC if which == "gcc" else CLANG
    if compiler is None:
        pytest.skip("clang is not installed (no clang, clang-14 or /usr/lib/llvm-14/bin/clang)")
    deps = _discover(project, ["-c", "src/a.c", "-Ifirst", "-Imissing", "-Isecond"], compiler=compiler)
    assert isinstance(deps, Dependencies)
    files = set(deps.files)
    assert {project / "src" / "local.h", project / "second" / "lib.h", project / "second" / "sub" / "part.h"} <= files
    assert project / "src" / "a.c" not in files
    absent = set(deps.absent)
    # <lib.h> was found in second/: the same name in first/ would win if created.
    assert project / "first" / "lib.h" in absent
    # sub/part.h, quoted from second/lib.h: found in the includer's directory
    # first -- and had it not been, first/sub would come before.
    assert project / "first" / "sub" in absent
    # A search directory that did not exist: anything appearing in it counts.
    assert project / "missing" in absent
    # local.h was found next to its includer, searched first: nothing shadows it.
    assert not any(p.name == "local.h" for p in absent)
    # Nothing that exists now is ever "absent".
    assert not [p for p in absent if os.path.lexists(p)]
    assert deps.manifest_ok
    assert "CPATH" in deps.env_names


@needs_gcc
def test_include_next_does_not_make_existing_files_absent(tmp_path: Path) -> None:
    root = tmp_path / "n"
    write(root / "a.c", "#include <wrap.h>\nint x = WRAPPED;\n")
    write(root / "one" / "wrap.h", "#include_next <wrap.h>\n")
    write(root / "two" / "wrap.h", "#define WRAPPED 1\n")
    deps = _discover(root, ["-c", "a.c", "-Ione", "-Itwo"], compiler=GCC)
    assert root / "two" / "wrap.h" in deps.files and root / "one" / "wrap.h" in deps.files
    assert root / "one" / "wrap.h" not in deps.absent
    assert deps.manifest_ok


@needs_gcc
@pytest.mark.parametrize(
    ("where", "text", "why"),
    [
        ("src", "const char *t = __TIME__;\n", "time"),
        ("src", "const char *d = __DATE__;\n", "date"),
        ("header", "#define STAMP __TIMESTAMP__\n", "timestamp"),
        ("header", "#define N <nothing_here.h>\n#if __has_include(N)\n#endif\n", "computed-has-include"),
    ],
)
def test_inputs_a_manifest_cannot_capture(tmp_path: Path, where: str, text: str, why: str) -> None:
    root = tmp_path / "m"
    write(root / "h.h", text if where == "header" else "\n")
    write(root / "a.c", '#include "h.h"\n' + (text if where == "src" else "int y;\n"))
    deps = _discover(root, ["-c", "a.c"], compiler=GCC)
    assert isinstance(deps, Dependencies)
    assert deps.manifest_ok is False


@needs_gcc
def test_literal_has_include_lookups_are_recorded(tmp_path: Path) -> None:
    root = tmp_path / "hi"
    write(root / "inc" / "h.h", '#if __has_include("opt.h")\n#endif\n#if __has_include(<nothing_here.h>)\n#endif\n')
    write(root / "later" / "opt.h", "\n")
    write(root / "a.c", '#include "h.h"\nint y;\n')
    deps = _discover(root, ["-c", "a.c", "-Iinc", "-Ilater"], compiler=GCC)
    assert deps.manifest_ok
    # "opt.h": the includer's directory and inc/ come first and lack it; later/ has it.
    assert root / "inc" / "opt.h" in deps.absent
    assert root / "later" / "opt.h" in deps.files
    # <nothing_here.h>: absent from every <...> directory, the system ones too.
    assert Path("/usr/include/nothing_here.h") in deps.absent


@needs_gcc
def test_precompiled_header_next_to_a_header(tmp_path: Path) -> None:
    root = tmp_path / "pch"
    write(root / "pre.h", "#define P 1\n")
    write(root / "a.c", '#include "pre.h"\nint p = P;\n')
    subprocess.run([GCC, "-x", "c-header", "pre.h", "-o", "pre.h.gch"], cwd=root, check=True)
    deps = _discover(root, ["-c", "a.c"], compiler=GCC)
    assert deps.manifest_ok is False
    names = [c.name for c in deps.components]
    assert any(n.startswith("pch:") and n.endswith("pre.h.gch") for n in names)


@needs_gcc
def test_preprocessor_error_is_not_cacheable(tmp_path: Path) -> None:
    write(tmp_path / "a.c", '#include "nowhere.h"\n')
    result = _discover(tmp_path, ["-c", "a.c"], compiler=GCC)
    assert isinstance(result, NotCacheable) and result.reason == "preprocessor-error"
    assert "nowhere.h" in result.detail or "exited 1" in result.detail


@needs_gcc
def test_incbin_is_not_cacheable(tmp_path: Path) -> None:
    write(tmp_path / "blob.bin", "data")
    write(tmp_path / "a.c", 'asm(".section .rodata\\n.incbin \\"blob.bin\\"\\n.text");\n')
    result = _discover(tmp_path, ["-c", "a.c"], compiler=GCC)
    assert isinstance(result, NotCacheable) and result.reason == "assembler-include"


@needs_gcc
def test_working_directory_marker_is_not_hashed(tmp_path: Path) -> None:
    """gcc -E -g writes the cwd into the output; the plugin keys the cwd as its
    own component instead -- as the object embeds it, after the prefix map --
    so a prefix map covering it gives equal keys."""
    keys = []
    for name in ("one", "two"):
        root = tmp_path / name
        write(root / "a.c", "int a;\n")
        deps = _discover(root, ["-c", "a.c", "-g", f"-fdebug-prefix-map={root}=."], compiler=GCC)
        values = {c.name: c.value for c in deps.components}
        assert values["working-directory"] == "."
        keys.append((values["preprocessed"], values["working-directory"], values["embedded-paths:debug"]))
        plain = _discover(root, ["-c", "a.c", "-g"], compiler=GCC)
        assert {c.name: c.value for c in plain.components}["working-directory"] == str(root)
    assert keys[0] == keys[1]


@needs_gcc
def test_working_directory_through_a_symlink_is_pwd(tmp_path: Path) -> None:
    real = tmp_path / "real"
    write(real / "a.c", "int a;\n")
    link = tmp_path / "link"
    link.symlink_to(real)
    deps = _discover(real, ["-c", "a.c", "-g"], compiler=GCC, env={"PWD": str(link)})
    assert {c.name: c.value for c in deps.components}["working-directory"] == str(link)


@needs_gcc
def test_profile_files_are_hashed(tmp_path: Path) -> None:
    write(tmp_path / "a.c", "int a;\n")
    (tmp_path / "out").mkdir()
    absent = _discover(tmp_path, ["-c", "a.c", "-o", "out/a.o", "-fprofile-use"], compiler=GCC)
    assert {c.name: c.value for c in absent.components}[f"profile:{tmp_path}/out/a.gcda"] == "absent"
    write(tmp_path / "out" / "a.gcda", "not really a profile")
    present = _discover(tmp_path, ["-c", "a.c", "-o", "out/a.o", "-fprofile-use", "-Wno-coverage-mismatch", "-w"], compiler=GCC)
    assert isinstance(present, Dependencies), present
    assert len({c.name: c.value for c in present.components}[f"profile:{tmp_path}/out/a.gcda"]) == 64
    refused = _discover(tmp_path, ["-c", "a.c", "-fprofile-use=profiles"], compiler=GCC)
    assert isinstance(refused, NotCacheable) and refused.reason == "profile-use"


# --- outputs --------------------------------------------------------------------------


def _compile_and_collect(root: Path, args, compiler: str, *, tamper=None):
    invocation = make_invocation(args, root, compiler=compiler)
    context = make_context(root.parent, cwd=root)
    probe(invocation, context)
    parsed = parse(invocation)
    assert isinstance(parsed, ParsedInvocation), parsed
    done = subprocess.run([compiler, *parsed.run_arguments], cwd=root, capture_output=True, env=invocation.env)
    assert done.returncode == 0, done.stderr
    if tamper:
        tamper(root)
    result = CompileResult(exit_code=0, stdout=done.stdout, stderr=done.stderr, duration=0.1)
    return hooks.pycache_collect_outputs(invocation=invocation, parsed=parsed, result=result, context=context)


@pytest.mark.parametrize("which", ["gcc", "clang"])
def test_collect_every_output(tmp_path: Path, which: str) -> None:
    compiler = GCC if which == "gcc" else CLANG
    if compiler is None:
        pytest.skip(f"{which} is not installed")
    write(tmp_path / "a.c", "int a(void) { return 1; }\n")
    (tmp_path / "o").mkdir()
    outputs = _compile_and_collect(tmp_path, ["-c", "a.c", "-o", "o/a.o", "-g", "-gsplit-dwarf", "-MD", "--coverage"], compiler)
    assert isinstance(outputs, Outputs)
    got = {a.role: str(a.path) for a in outputs.artifacts}
    assert got == {"object": "o/a.o", "depfile": "o/a.d", "dwo": "o/a.dwo", "gcno": "o/a.gcno"}


@needs_gcc
def test_missing_required_output_is_not_cacheable(tmp_path: Path) -> None:
    write(tmp_path / "a.c", "int a;\n")
    outputs = _compile_and_collect(tmp_path, ["-c", "a.c", "-MD"], GCC, tamper=lambda r: (r / "a.d").unlink())
    assert isinstance(outputs, NotCacheable) and outputs.reason == "missing-output"


@pytest.mark.parametrize("which", ["gcc", "clang"])
def test_split_dwarf_without_g(tmp_path: Path, which: str) -> None:
    """gcc writes a .dwo for -gsplit-dwarf alone, clang does not: a stale
    file at that path must not be stored for clang."""
    compiler = GCC if which == "gcc" else CLANG
    if compiler is None:
        pytest.skip(f"{which} is not installed")
    write(tmp_path / "a.c", "int a;\n")
    write(tmp_path / "a.dwo", "stale")
    outputs = _compile_and_collect(tmp_path, ["-c", "a.c", "-gsplit-dwarf"], compiler)
    roles = {a.role for a in outputs.artifacts}
    assert roles == ({"object", "dwo"} if which == "gcc" else {"object"})


def test_failed_compile_is_never_collected(tmp_path: Path) -> None:
    invocation = make_invocation(["-c", "a.c"], tmp_path)
    parsed = parse(invocation)
    result = CompileResult(exit_code=1, stdout=b"", stderr=b"error", duration=0.1)
    outputs = hooks.pycache_collect_outputs(invocation=invocation, parsed=parsed, result=result, context=make_context(tmp_path))
    assert isinstance(outputs, NotCacheable)


# --- colour ---------------------------------------------------------------------------

WARNING_SOURCE = "int f(int x) { int unused; return x; }\nint g(void) { return 1 / 0; }\n"


@pytest.mark.parametrize("which", ["gcc", "clang"])
def test_forced_colour_stripped_equals_plain_output(tmp_path: Path, which: str) -> None:
    compiler = GCC if which == "gcc" else CLANG
    if compiler is None:
        pytest.skip(f"{which} is not installed")
    write(tmp_path / "w.c", WARNING_SOURCE)
    args = ["-c", "w.c", "-Wall", "-o", "w.o"]
    parsed = parse(make_invocation(args, tmp_path, compiler=compiler))
    assert parsed.colour_diagnostics
    env = {**BASE_ENV}
    coloured = subprocess.run([compiler, *parsed.run_arguments], cwd=tmp_path, capture_output=True, env=env)
    plain = subprocess.run([compiler, *args], cwd=tmp_path, capture_output=True, env=env)
    assert b"\x1b[" in coloured.stderr
    assert b"warning" in plain.stderr
    assert strip_colour(coloured.stderr) == plain.stderr
    # The forced flag changes nothing in the object, debug info included.
    for extra in (["-g"], ["-O2"]):
        subprocess.run([compiler, *parsed.run_arguments, *extra, "-o", "c.o"], cwd=tmp_path, check=True, capture_output=True, env=env)
        subprocess.run([compiler, *args, *extra, "-o", "p.o"], cwd=tmp_path, check=True, capture_output=True, env=env)
        assert (tmp_path / "c.o").read_bytes() == (tmp_path / "p.o").read_bytes()
    # and the preprocessor run never gets it
    assert "-fdiagnostics-color=always" not in parsed.private.preprocess_arguments
