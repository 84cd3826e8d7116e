"""Golden key components: for a table of real nvcc command lines, the exact
components the plugin reports in direct and preprocessor mode. A change to
what enters a key must show up here as a reviewed diff.

``<TMP>`` stands for the test's directory; digests (of the source, of each
pass's preprocessed text, of the host compiler) are checked for shape and
shown as ``<digest>``. nvcc's plan is shown as the kinds of its steps; the
facts that matter in its words (the architecture list, ``__CUDACC_RDC__``,
the placeholders for our directory and the outputs) are checked one by one.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pycache_core.api import Dependencies, ParsedInvocation
from pycache_nvcc import hooks

from .support import BASE_ENV, CLANG, make_context, make_invocation, needs_clang, needs_nvcc, parse, probe, write_project

pytestmark = needs_nvcc

LOCALE = [("env:LANG", "C"), ("env:LC_ALL", "C")]
DIGEST = re.compile(r"[0-9a-f]{64}")


@pytest.fixture(scope="module")
def identity(tmp_path_factory):
    root = tmp_path_factory.mktemp("probe")
    context = make_context(root)
    return probe(make_invocation([], root), context)


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = write_project(tmp_path / "t")
    (root / "out").mkdir()
    return root


def _show(components, root: Path):
    shown = []
    for c in components:
        if c.name == "plan":
            shown.append(("plan", tuple(line.split("\x1f", 1)[0] for line in c.value)))
            continue
        value = c.value
        if isinstance(value, str) and DIGEST.fullmatch(value):
            value = "<digest>"
        elif isinstance(value, str):
            value = value.replace(str(root), "<TMP>")
        shown.append((c.name, value))
    return shown


def _components(root: Path, identity, args, env=None):
    invocation = make_invocation(args, root, env={**BASE_ENV, **(env or {})})
    context = make_context(root.parent, cwd=root)
    context.identity = identity
    parsed = parse(invocation)
    assert isinstance(parsed, ParsedInvocation), parsed
    direct = hooks.pycache_direct_components(invocation=invocation, parsed=parsed, context=context)
    deps = hooks.pycache_discover_dependencies(invocation=invocation, parsed=parsed, context=context)
    assert isinstance(deps, Dependencies), deps
    plan = next(c.value for c in deps.components if c.name == "plan")
    return parsed, _show(direct, root), _show(deps.components, root), plan, deps


def _direct(*extra):
    return [("source", "<digest>"), ("host-compiler", "<digest>"), ("source-path", "<TMP>/kern.cu"), ("cwd", "<TMP>"),
            *extra, *LOCALE]


HOST_DEVICE_PLAN = ("host-preprocess", "cudafe++", "device-preprocess", "cicc", "ptxas", "fatbinary", "host-compile")


def test_plain_compile(tree: Path, identity) -> None:
    parsed, direct, deps, plan, found = _components(tree, identity, ["-c", "kern.cu", "-Iinc", "-o", "out/kern.o"])
    assert parsed.key_arguments == ("-c", "kern.cu", "-Iinc")
    assert direct == _direct()
    assert deps == [("plan", HOST_DEVICE_PLAN), ("preprocessed:host", "<digest>"), ("preprocessed:device:750", "<digest>"),
                    *_direct()[1:]]
    host_pp, cudafe, device_pp = plan[0].split("\x1f"), plan[1].split("\x1f"), plan[2].split("\x1f")
    assert "-D__CUDA_ARCH_LIST__=750" in host_pp and "-D__CUDA_ARCH__=750" not in host_pp
    assert "-D__CUDA_ARCH__=750" in device_pp
    assert "<keep-dir>/kern.cpp4.ii" in host_pp and "<keep-dir>/kern.cpp4.ii" in cudafe
    assert plan[-1].split("\x1f")[-1] == "<output>"
    assert not any(str(tree / "scratch") in line for line in plan)
    # The manifest holds the headers of both passes, host-only and device-only.
    files = {p.name for p in found.files}
    assert {"kern.cu", "common.h", "host_only.h", "device_only.h", "cuda_runtime.h"} <= files
    assert found.manifest_ok


def test_every_architecture_has_its_pass(tree: Path, identity) -> None:
    args = ["-c", "kern.cu", "-Iinc", "-gencode", "arch=compute_75,code=sm_75", "-gencode", "arch=compute_80,code=sm_80"]
    _, _, deps, plan, _ = _components(tree, identity, args)
    assert [name for name, _ in deps[:4]] == ["plan", "preprocessed:host", "preprocessed:device:750", "preprocessed:device:800"]
    assert "-D__CUDA_ARCH_LIST__=750,800" in plan[0].split("\x1f")


def test_relocatable_device_code(tree: Path, identity) -> None:
    _, _, deps, plan, _ = _components(tree, identity, ["-rdc=true", "-c", "kern.cu", "-Iinc"])
    assert deps[0] == ("plan", HOST_DEVICE_PLAN)
    assert all("-D__CUDACC_RDC__" in line.split("\x1f") for line in plan if line.startswith(("host-preprocess", "device-preprocess")))
    assert "--device-c" in plan[1].split("\x1f")


def test_dependency_file_target_is_the_object(tree: Path, identity) -> None:
    _, direct, deps, plan, _ = _components(tree, identity, ["-c", "kern.cu", "-Iinc", "-o", "out/kern.o", "-MD"])
    assert direct == _direct(("object-path", "out/kern.o"))
    assert deps[0][1][:4] == ("device-preprocess", "host-preprocess", "filter-dependencies", "cudafe++")
    assert plan[2].split("\x1f") == ["filter-dependencies", "-- Filter Dependencies --", "<depfile>"]
    _, direct, _, _, _ = _components(tree, identity, ["-c", "kern.cu", "-Iinc", "-MMD", "-MT", "tgt"])
    assert direct == _direct()


def test_ptx_has_no_host_pass(tree: Path, identity) -> None:
    parsed, direct, deps, _, _ = _components(tree, identity, ["-ptx", "kern.cu", "-Iinc"])
    assert set(parsed.outputs) == {"ptx"}
    assert deps == [("plan", ("device-preprocess", "cicc")), ("preprocessed:device:750", "<digest>"), *_direct()[1:]]


def test_variables_nvcc_and_the_host_compiler_read(tree: Path, identity) -> None:
    env = {"INCLUDES": "-Iinc", "PTXAS_FLAGS": "-O2", "CPATH": "inc", "HOME": "/root", "AWS_SECRET_ACCESS_KEY": "x"}
    parsed, direct, _, plan, _ = _components(tree, identity, ["-c", "kern.cu"], env)
    assert direct == _direct(("env:INCLUDES", "-Iinc"), ("env:PTXAS_FLAGS", "-O2"), ("env:CPATH", "inc"))
    ptxas = next(line for line in plan if line.startswith("ptxas")).split("\x1f")
    assert "-O2" in ptxas
    flags = _components(tree, identity, ["-c", "kern.cu", "-Iinc"], {"NVCC_APPEND_FLAGS": "-DEXTRA=2"})[0]
    assert flags.key_arguments == ("-c", "kern.cu", "-Iinc", "-DEXTRA=2")


@needs_clang
def test_the_host_compiler_is_its_own_component(tree: Path, identity) -> None:
    def direct(*extra):
        invocation = make_invocation(["-c", "kern.cu", "-Iinc", *extra], tree)
        context = make_context(tree.parent, cwd=tree)
        context.identity = identity
        return dict((c.name, c.value) for c in hooks.pycache_direct_components(invocation=invocation, parsed=parse(invocation), context=context))

    gcc, clang = direct(), direct("-ccbin", CLANG)
    assert gcc.keys() == clang.keys()
    assert gcc["host-compiler"] != clang["host-compiler"]
    assert {k: v for k, v in gcc.items() if k != "host-compiler"} == {k: v for k, v in clang.items() if k != "host-compiler"}
