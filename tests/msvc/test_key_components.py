"""Golden key components: for a table of real clang-cl command lines, the
exact components the plugin reports -- key arguments, direct-mode
components and preprocessor-mode components. A change to what enters a key
must show up here as a reviewed diff.

``<TMP>`` stands for the test's directory and ``<CLANG>`` for the clang
binary; digests of preprocessed text are checked for shape and shown as
``<digest>``; every other value is literal.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pycache_cfamily.includes import parse_search_path
from pycache_core.api import CompileResult, Dependencies, NotCacheable, ParsedInvocation
from pycache_msvc import dependencies, hooks

from .support import BASE_ENV, CLANG, make_clang_cl, make_context, make_invocation, needs_clang_cl, parse, probe, write

pytestmark = needs_clang_cl

FORCED = "-fcolor-diagnostics"
IGNORELIST_DIGEST = "b3355106cc80c99cc6a48791582f01349518c703df9e8ce63239fe453dc954f4"  # blake3 of "fun:main\n"


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "t"
    write(root / "a.c", '#include "a.h"\nint f(void) { return A; }\n')
    write(root / "inc" / "a.h", "#define A 42\n")
    write(root / "ign.txt", "fun:main\n")
    return root


def _show(components, root: Path):
    if components is None or isinstance(components, NotCacheable):
        return components
    shown = []
    for c in components:
        name = c.name.replace(str(root), "<TMP>")
        if c.name in ("preprocessed", "source"):
            assert re.fullmatch(r"[0-9a-f]{64}", c.value)
            value = "<digest>"
        elif c.name.startswith("pch:"):
            assert re.fullmatch(r"[0-9a-f]{64}", c.value)
            value = "<pch digest>"
        elif isinstance(c.value, tuple):
            value = tuple(v.replace(str(root), "<TMP>") for v in c.value)
        else:
            value = c.value.replace(str(root), "<TMP>").replace(str(CLANG), "<CLANG>")
        shown.append((name, value))
    return shown


def _components(root: Path, args, *, env=None, basedirs=()):
    compiler = make_clang_cl(root.parent / "bin")
    args = [a.replace("<TMP>", str(root)) for a in args]
    invocation = make_invocation(args, root, compiler=compiler, env={**BASE_ENV, **(env or {})})
    context = make_context(root.parent, basedirs=[b.replace("<TMP>", str(root)) for b in basedirs], cwd=root)
    probe(invocation, context)
    parsed = parse(invocation)
    assert isinstance(parsed, ParsedInvocation), parsed
    direct = hooks.pycache_direct_components(invocation=invocation, parsed=parsed, context=context)
    deps = hooks.pycache_discover_dependencies(invocation=invocation, parsed=parsed, context=context)
    if isinstance(deps, NotCacheable):
        return parsed, _show(direct, root), deps
    assert isinstance(deps, Dependencies), deps
    return parsed, _show(direct, root), _show(deps.components, root)


def _head(pp_args, source="a.c", cwd="<TMP>"):
    return [("source", "<digest>"), ("source-path", source), ("cwd", cwd), ("preprocessor-arguments", pp_args)]


NO_VC = [("vc-on-path", "")]  # no %INCLUDE%: clang-cl would look for cl.exe and link.exe on PATH


def _debug(args, obj="<TMP>/a.obj"):
    return [("command-line", tuple(args)), ("compiler-path", "<CLANG>"), ("object-file", obj), *NO_VC,
            ("working-directory", "<TMP>")]


TABLE = [
    ("plain", ["/c", "a.c", "/Iinc"], {}, (FORCED,),
     _head(("/Iinc",)) + NO_VC, [("preprocessed", "<digest>")]),
    ("code generation is in the arguments, macros only in direct mode", ["/c", "a.c", "/Iinc", "/DX=1", "/O2", "/W4"], {},
     ("/O2", "/W4", FORCED), _head(("/Iinc", "/DX=1")) + NO_VC, [("preprocessed", "<digest>")]),
    ("/Z7: the object records its command line, paths and the compiler", ["/c", "a.c", "/Iinc", "/Z7"], {},
     ("/Z7",), _head(("/Iinc",)) + _debug(["/c", "a.c", "/Iinc", "/Z7"]),
     [("preprocessed", "<digest>")] + _debug(["/c", "a.c", "/Iinc", "/Z7"])),
    ("/Zi is /Z7 to clang-cl: no PDB, no refusal", ["/c", "a.c", "/Iinc", "/Zi"], {},
     ("/Zi",), _head(("/Iinc",)) + _debug(["/c", "a.c", "/Iinc", "/Zi"]),
     [("preprocessed", "<digest>")] + _debug(["/c", "a.c", "/Iinc", "/Zi"])),
    ("CL's options are part of the command line", ["/c", "a.c"], {"CL": "/Iinc /Z7", "_CL_": "/DX"},
     ("/Z7",), _head(("/Iinc", "/DX")) + _debug(["/Iinc", "/Z7", "/c", "a.c", "/DX"]),
     [("preprocessed", "<digest>")] + _debug(["/Iinc", "/Z7", "/c", "a.c", "/DX"])),
    ("a dependency file names the object", ["/c", "a.c", "/Iinc", "-clang:-MD", "-clang:-MFa.d"], {},
     ("-clang:-MD", FORCED), _head(("/Iinc",)) + NO_VC + [("object-path", "a.obj")],
     [("preprocessed", "<digest>"), ("object-path", "a.obj")]),
    ("an explicit target keeps it out", ["/c", "a.c", "/Iinc", "-clang:-MD", "-clang:-MFa.d", "-clang:-MT", "-clang:t"], {},
     ("-clang:-MD", FORCED), _head(("/Iinc",)) + NO_VC + [("path-arguments", ("-clang:-MT", "-clang:t"))],
     [("preprocessed", "<digest>"), ("path-arguments", ("-clang:-MT", "-clang:t"))]),
    ("/FC: messages name the working directory", ["/c", "a.c", "/Iinc", "/FC"], {},
     ("/FC", FORCED), _head(("/Iinc",)) + NO_VC + [("working-directory", "<TMP>")],
     [("preprocessed", "<digest>"), ("working-directory", "<TMP>")]),
    ("the variables that find headers, in direct mode only; VSLANG always",
     ["/c", "a.c", "/Iinc", "/external:env:EXT"],
     {"INCLUDE": "inc", "CPATH": "x", "EXT": "e", "VSLANG": "1033", "HOME": "/root", "AWS_SECRET_ACCESS_KEY": "hunter2"},
     (FORCED,), _head(("/Iinc", "/external:env:EXT")) + [("env:CPATH", "x"), ("env:EXT", "e"), ("env:INCLUDE", "inc"),
                                                          ("env:VSLANG", "1033")],
     [("preprocessed", "<digest>"), ("env:VSLANG", "1033")]),
    ("/X: %INCLUDE% is not read", ["/c", "a.c", "/Iinc", "/X"], {"INCLUDE": "inc"},
     (FORCED,), _head(("/Iinc", "/X")), [("preprocessed", "<digest>")]),
    ("a sanitizer list's content", ["/c", "a.c", "/Iinc", "-fsanitize=address", "-fsanitize-ignorelist=ign.txt"], {},
     ("-fsanitize=address", FORCED),
     _head(("/Iinc",)) + NO_VC + [("path-arguments", ("-fsanitize-ignorelist=ign.txt",)), ("input:<TMP>/ign.txt", IGNORELIST_DIGEST)],
     [("preprocessed", "<digest>"), ("path-arguments", ("-fsanitize-ignorelist=ign.txt",)), ("input:<TMP>/ign.txt", IGNORELIST_DIGEST)]),
]


@pytest.mark.parametrize("row", TABLE, ids=[r[0] for r in TABLE])
def test_golden(tree: Path, row) -> None:
    _, args, env, key, direct, deps = row
    parsed, got_direct, got_deps = _components(tree, args, env=env)
    assert parsed.key_arguments == key
    assert got_direct == direct
    assert got_deps == deps


def test_golden_with_base_directory(tree: Path) -> None:
    """PYCACHE_BASEDIRS: paths under the base directory are portable in
    direct mode (named by the base's place in the list); the preprocessed
    text's line markers are made portable by the core's rule."""
    parsed, direct, deps = _components(tree, ["/c", "<TMP>/a.c", "/I<TMP>/inc", "/Fo<TMP>/a.obj"], basedirs=("<TMP>",))
    assert direct == _head(("/I<BASEDIR:1>/inc",), source="<BASEDIR:1>/a.c", cwd="<BASEDIR:1>") + NO_VC
    assert deps == [("preprocessed", "<digest>")]


def test_precompiled_header_content_is_in_the_key(tree: Path) -> None:
    write(tree / "pch.pch", "not really a pch, but its bytes are what counts")
    args = ["/c", "a.c", "/Iinc", "/Yua.h", "/Fppch.pch"]
    parsed, direct, deps = _components(tree, args)
    assert parsed.key_arguments == ("/Yua.h", FORCED)
    assert direct == _head(("/Iinc",)) + NO_VC + [("pch:<TMP>/pch.pch", "<pch digest>")]
    assert deps == [("preprocessed", "<digest>"), ("pch:<TMP>/pch.pch", "<pch digest>")]
    # The /E run reads a.h as text either way: only the .pch tells two builds apart.
    before = _raw(tree, args)
    write(tree / "pch.pch", "rebuilt with another -D")
    after = _raw(tree, args)
    assert before["preprocessed"] == after["preprocessed"]
    assert before["pch:" + str(tree / "pch.pch")] != after["pch:" + str(tree / "pch.pch")]


def _raw(tree: Path, args):
    compiler = make_clang_cl(tree.parent / "bin")
    invocation = make_invocation(args, tree, compiler=compiler)
    context = make_context(tree.parent, cwd=tree)
    probe(invocation, context)
    parsed = parse(invocation)
    deps = hooks.pycache_discover_dependencies(invocation=invocation, parsed=parsed, context=context)
    return {c.name: c.value for c in deps.components}


@pytest.mark.parametrize(
    "args, reason",
    [
        (["/c", "a.c", "/sourceDependencies", "a.json"], "source-dependencies"),
        (["/c", "a.c", "/Yca.h", "/Fpa.pch"], "pch-timestamp"),
    ],
)
def test_what_clang_cl_cannot_cache(tree: Path, args, reason: str) -> None:
    _, direct, deps = _components(tree, args)
    assert isinstance(direct, NotCacheable) and direct.reason == reason
    assert isinstance(deps, NotCacheable) and deps.reason == reason


def test_direct_mode_records_headers_and_msvc_shadowing(tree: Path) -> None:
    """/showIncludes of the /E run lists the headers; a header found through
    MSVC's include-stack rule (q.h, included by sub/b.h, found next to a.c)
    must stay unshadowed in sub/ -- and the directories searched before."""
    write(tree / "m.c", '#include "sub/b.h"\nint g(void) { return Q; }\n')
    write(tree / "sub" / "b.h", '#include "q.h"\n')
    write(tree / "q.h", "#define Q 1\n")
    compiler = make_clang_cl(tree.parent / "bin")
    invocation = make_invocation(["/c", "m.c", "/Iinc"], tree, compiler=compiler)
    context = make_context(tree.parent, cwd=tree)
    probe(invocation, context)
    parsed = parse(invocation)
    deps = hooks.pycache_discover_dependencies(invocation=invocation, parsed=parsed, context=context)
    assert deps.manifest_ok
    assert [str(p) for p in deps.files] == [f"{tree}/sub/b.h", f"{tree}/q.h"]
    absent = {str(p) for p in deps.absent}
    assert f"{tree}/sub/q.h" in absent  # searched first: the includer's directory
    assert not any(p.startswith(f"{tree}/inc") for p in absent)  # /I comes after the stack: nothing there was searched


# --- depend mode: keyed from the compile's own /showIncludes -------------------------


def _prepared(tree: Path, args, *, env=None, depend_mode=True):
    compiler = make_clang_cl(tree.parent / "bin")
    invocation = make_invocation(args, tree, compiler=compiler, env={**BASE_ENV, **(env or {})})
    context = make_context(tree.parent, cwd=tree)
    probe(invocation, context)
    context.depend_mode = depend_mode
    return invocation, context, parse(invocation)


@pytest.mark.parametrize(
    "args, env, depend_mode, deferred",
    [
        (["/c", "a.c", "/Iinc", "/showIncludes"], {}, True, True),
        (["/c", "a.c", "/Iinc", "/showIncludes"], {}, False, False),  # PYCACHE_DEPEND_MODE off
        (["/c", "a.c", "/Iinc"], {}, True, False),  # the compile lists nothing
        (["/c", "a.c", "/Iinc", "/showIncludes:user"], {}, True, False),  # system headers left out
        (["/c", "a.c", "/Iinc", "/showIncludes", "/winsysroot", "/sdk"], {}, True, False),  # clang-cl finds them itself
        (["/c", "a.c", "/Iinc", "/showIncludes", "/clang:-isystem", "/clang:inc"], {}, True, False),
        (["/c", "a.c", "/Iinc", "/showIncludes"], {"VCToolsInstallDir": "/vc"}, True, False),
        (["/c", "a.c", "/Iinc", "/showIncludes"], {"VCToolsInstallDir": "/vc", "INCLUDE": "inc"}, True, True),
    ],
)
def test_when_depend_mode_applies(tree: Path, args, env, depend_mode: bool, deferred: bool) -> None:
    invocation, context, parsed = _prepared(tree, args, env=env, depend_mode=depend_mode)
    deps = hooks.pycache_discover_dependencies(invocation=invocation, parsed=parsed, context=context)
    assert deps.deferred is deferred
    if deferred:
        # named like direct mode; the headers come from the compile
        direct = hooks.pycache_direct_components(invocation=invocation, parsed=parsed, context=context)
        assert deps.components == direct
        assert not any(c.name == "preprocessed" for c in deps.components)


def test_depend_mode_reads_the_compiles_notes(tree: Path) -> None:
    write(tree / "inc" / "b.h", '#include "a.h"\n')
    write(tree / "d.c", '#include "b.h"\nint d(void) { return A; }\n')
    args = ["/nologo", "/c", "d.c", "/Iinc", "/showIncludes", "/Fo" + str(tree / "d.obj")]
    invocation, context, parsed = _prepared(tree, args)
    done = context.run([str(invocation.compiler), *args], cwd=tree)
    assert done.returncode == 0, done.stderr
    result = CompileResult(exit_code=0, stdout=done.stdout, stderr=done.stderr, duration=0.1)
    outputs = hooks.pycache_collect_outputs(invocation=invocation, parsed=parsed, result=result, context=context)
    reported = outputs.dependencies
    assert reported is not None and reported.manifest_ok
    assert [str(p) for p in reported.files] == [f"{tree}/inc/b.h", f"{tree}/inc/a.h"]
    assert [c.name for c in reported.components] == [f"file:{tree}/inc/b.h", f"file:{tree}/inc/a.h"]
    absent = {str(p) for p in reported.absent}
    assert f"{tree}/b.h" in absent  # next to d.c, searched before /I
    assert f"{tree}/inc/a.h" not in absent
    # a compile that printed no notes cannot say what it read
    silent = CompileResult(exit_code=0, stdout=b"", stderr=b"", duration=0.1)
    outputs = hooks.pycache_collect_outputs(invocation=invocation, parsed=parsed, result=silent, context=context)
    assert outputs.dependencies is not None and not outputs.dependencies.manifest_ok


@pytest.mark.parametrize(
    "args, env",
    [
        (["/c", "a.c", "/Iinc", "/Inope"], {}),
        (["/c", "a.c", "/Iinc", "/external:Iext", "/imsvc", "sys", "/external:env:EXT"],
         {"INCLUDE": "<TMP>/i1;<TMP>/i2", "EXTERNAL_INCLUDE": "<TMP>/e1", "CPATH": "<TMP>/c1", "EXT": "<TMP>/x1"}),
        (["/c", "a.c", "/Iinc", "/X", "/imsvc", "sys"], {"INCLUDE": "<TMP>/i1"}),
    ],
)
def test_worked_out_search_list_is_clang_cls_own(tree: Path, args, env) -> None:
    """Depend mode has no -v run to read the list from: the list worked out
    from the options and variables must be the one clang-cl prints."""
    for name in ("ext", "sys", "i1", "i2", "e1", "c1", "x1"):
        (tree / name).mkdir()
    env = {k: v.replace("<TMP>", str(tree)) for k, v in env.items()}
    invocation, context, parsed = _prepared(tree, args, env=env)
    worked_out = dependencies.computed_search_path(parsed.private, invocation, context)
    done = context.run([str(invocation.compiler), "/E", "-v", *parsed.private.preprocess_arguments], cwd=tree, env=invocation.env)
    printed = parse_search_path(done.stderr.decode())
    assert worked_out is not None and printed is not None
    assert worked_out.bracket == printed.bracket
    assert set(worked_out.missing) >= set(printed.missing)


def test_has_include_lookups_are_recorded(tree: Path) -> None:
    """A literal __has_include that finds nothing leaves no note: the places
    it searched must stay empty. A computed one cannot be followed."""
    write(tree / "h.c", '#if __has_include("opt.h")\n#include "opt.h"\n#endif\n#include "a.h"\nint h(void) { return A; }\n')
    invocation, context, parsed = _prepared(tree, ["/c", "h.c", "/Iinc"], depend_mode=False)
    deps = hooks.pycache_discover_dependencies(invocation=invocation, parsed=parsed, context=context)
    assert deps.manifest_ok
    absent = {str(p) for p in deps.absent}
    assert {f"{tree}/opt.h", f"{tree}/inc/opt.h"} <= absent
    write(tree / "k.c", '#define NAME "opt.h"\n#if __has_include(NAME)\n#endif\nint k;\n')
    invocation, context, parsed = _prepared(tree, ["/c", "k.c", "/Iinc"], depend_mode=False)
    deps = hooks.pycache_discover_dependencies(invocation=invocation, parsed=parsed, context=context)
    assert not deps.manifest_ok
