"""Golden key components: for a table of real gcc/clang command lines, the
exact components the plugin reports -- key arguments, direct-mode components
and preprocessor-mode components. A change to what enters a key must show
up here as a reviewed diff.

``<TMP>`` stands for the test's directory; the digest of preprocessed output
and of system headers' text (which depend on the machine) are checked for
shape and shown as ``<digest>``; every other value is literal.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pycache_core.api import Dependencies, ParsedInvocation
from pycache_gcc_clang import hooks

from .support import BASE_ENV, CLANG, GCC, GXX, make_context, make_invocation, needs_clang, needs_gcc, parse, probe, write

SOURCE_DIGEST = "f02cd0c224f03e6b04c9840b370b73856c3d1efa0dc748a41ce578baf975b717"  # blake3 of a.c below
CXX_SOURCE_DIGEST = "e9688fe715a2265a2f20875c0d253b63b6f7a7cc3895db372351d1193e26cb17"  # blake3 of b.cpp below
HEADER_DIGEST = "bb1a37f19b6533856046dbce9532c6a891a5ea91136f687bf93b789809b820cc"  # blake3 of inc/a.h
#: Preprocessor mode keys the exact text of every file read (issue 13 B1,
#: B2: messages quote it, clang's debug info holds its MD5): the source,
#: the implicit stdc-predef.h, the header.
#: Named relative to the working directory when under it.
TEXTS = [("text:a.c", SOURCE_DIGEST), ("text:/usr/include/stdc-predef.h", "<digest>"), ("text:inc/a.h", HEADER_DIGEST)]
FORCED = "-fdiagnostics-color=always"
LOCALE = [("env:LANG", "C"), ("env:LC_ALL", "C")]
PREDEF = "/usr/include/stdc-predef.h"  # gcc's implicit include (clang has none)


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "t"
    write(root / "a.c", '#include "a.h"\nint f(void) { return A; }\n')
    write(root / "b.cpp", '#include "a.h"\nint g() { return A + __cplusplus > 0; }\n')
    write(root / "inc" / "a.h", "#define A 42\n")
    write(root / "ign.txt", "fun:main\n")
    (root / "out").mkdir()
    (root / "o").mkdir()
    return root


def _show(components, root: Path):
    if components is None:
        return None
    shown = []
    for c in components:
        name = c.name.replace(str(root), "<TMP>")
        if c.name == "preprocessed" or (c.name.startswith("text:/") and "<TMP>" not in name and "<BASEDIR" not in name):
            assert re.fullmatch(r"[0-9a-f]{64}", c.value)
            value = "<digest>"
        elif isinstance(c.value, tuple):
            value = tuple(v.replace(str(root), "<TMP>") for v in c.value)
        else:
            value = c.value.replace(str(root), "<TMP>")
        shown.append((name, value))
    return shown


def _components(root: Path, args, *, compiler=None, env=None, basedirs=()):
    args = [a.replace("<TMP>", str(root)) for a in args]
    invocation = make_invocation(args, root, compiler=compiler, env={**BASE_ENV, **(env or {})})
    context = make_context(root.parent, basedirs=[b.replace("<TMP>", str(root)) for b in basedirs], cwd=root)
    probe(invocation, context)
    parsed = parse(invocation)
    assert isinstance(parsed, ParsedInvocation), parsed
    direct = hooks.pycache_direct_components(invocation=invocation, parsed=parsed, context=context)
    deps = hooks.pycache_discover_dependencies(invocation=invocation, parsed=parsed, context=context)
    assert isinstance(deps, Dependencies), deps
    return parsed, _show(direct, root), _show(deps.components, root)


def _direct_head(pp_args, source="a.c", cwd="<TMP>", digest=SOURCE_DIGEST):
    return [("source", digest), ("source-path", source), ("cwd", cwd), ("preprocessor-arguments", pp_args)]


GCC_TABLE = [
    (
        "plain",
        ["-c", "a.c", "-Iinc", "-o", "a.o"],
        {},
        (FORCED,),
        _direct_head(("-Iinc",)) + LOCALE,
        [("preprocessed", "<digest>")] + LOCALE + TEXTS,
    ),
    (
        # The dependency file's target is rewritten for each call on a hit:
        # the object path stays out (it was in before issue 13 C).
        "codegen flags and a dependency file",
        ["-c", "a.c", "-Iinc", "-DX=1", "-O2", "-Wall", "-o", "out/a.o", "-MD"],
        {},
        ("-O2", "-Wall", "-MD", FORCED),
        _direct_head(("-Iinc", "-DX=1")) + LOCALE,
        [("preprocessed", "<digest>")] + LOCALE + [("macro-arguments", ("-DX=1",))] + TEXTS,
    ),
    (
        # Debug info names the working directory and every file as the
        # markers spell them: keyed as the object embeds them.
        "debug info puts the working directory in",
        ["-c", "a.c", "-I", "./inc", "-g", "-o", "a.o"],
        {},
        ("-g", FORCED),
        _direct_head(("-I", "./inc")) + [("working-directory", "<TMP>")] + LOCALE,
        [("preprocessed", "<digest>"), ("working-directory", "<TMP>")] + LOCALE
        + [("embedded-paths:debug", ("a.c", PREDEF, "./inc/a.h"))] + TEXTS,
    ),
    (
        # The mapped directory is what the object embeds (issue 13 B3: it
        # was left out of the key before); the map is keyed by what it does.
        "a prefix map maps it",
        ["-c", "a.c", "-Iinc", "-g", "-fdebug-prefix-map=<TMP>=.", "-o", "a.o"],
        {},
        ("-g", FORCED),
        _direct_head(("-Iinc",)) + [("working-directory", ".")] + LOCALE,
        [("preprocessed", "<digest>"), ("working-directory", ".")]
        + LOCALE + [("embedded-paths:debug", ("a.c", PREDEF, "inc/a.h"))] + TEXTS,
    ),
    (
        "split dwarf: the object names its .dwo",
        ["-c", "a.c", "-Iinc", "-g", "-gsplit-dwarf", "-o", "o/a.o"],
        {},
        ("-g", "-gsplit-dwarf", FORCED),
        _direct_head(("-Iinc",)) + [("working-directory", "<TMP>"), ("object-path", "o/a.o")] + LOCALE,
        [("preprocessed", "<digest>"), ("working-directory", "<TMP>"), ("object-path", "o/a.o")] + LOCALE
        + [("embedded-paths:debug", ("a.c", PREDEF, "inc/a.h"))] + TEXTS,
    ),
    (
        "coverage: absolute .gcda path and .gcno directory",
        ["-c", "a.c", "-Iinc", "--coverage", "-o", "a.o"],
        {},
        ("--coverage", FORCED),
        _direct_head(("-Iinc",)) + [("working-directory", "<TMP>"), ("object-path", "a.o")] + LOCALE,
        [("preprocessed", "<digest>"), ("working-directory", "<TMP>"), ("object-path", "a.o")] + LOCALE + TEXTS,
    ),
    (
        "explicit dependency target: the object path stays out",
        ["-c", "a.c", "-Iinc", "-MMD", "-MT", "tgt", "-MP"],
        {},
        ("-MMD", "-MP", FORCED),
        _direct_head(("-Iinc",)) + [("path-arguments", ("-MT", "tgt"))] + LOCALE,
        [("preprocessed", "<digest>"), ("path-arguments", ("-MT", "tgt"))] + LOCALE + TEXTS,
    ),
    (
        "the kernel's -Wp,-MMD keeps direct mode",
        ["-c", "a.c", "-Iinc", "-Wp,-MMD,.a.o.d", "-o", "a.o"],
        {},
        ("-Wp,-MMD", FORCED),
        _direct_head(("-Iinc",)) + [("object-path", "a.o")] + LOCALE,
        [("preprocessed", "<digest>"), ("object-path", "a.o")] + LOCALE + TEXTS,
    ),
    (
        "variables the compiler reads, and only those",
        ["-c", "a.c"],
        {"CPATH": "inc", "SOURCE_DATE_EPOCH": "0", "HOME": "/root", "AWS_SECRET_ACCESS_KEY": "hunter2"},
        (FORCED,),
        _direct_head(()) + [("env:CPATH", "inc"), ("env:SOURCE_DATE_EPOCH", "0")] + LOCALE,
        [("preprocessed", "<digest>"), ("env:CPATH", "inc"), ("env:SOURCE_DATE_EPOCH", "0")] + LOCALE + TEXTS,
    ),
    (
        "other -Wp options: preprocessor mode only",
        ["-c", "a.c", "-Iinc", "-Wp,-DX"],
        {},
        (FORCED,),
        None,
        # -Wp, arguments are keyed as given (gcc records -Wp,-C; -D counts)
        [("preprocessed", "<digest>"), ("path-arguments", ("-Wp,-DX",))] + LOCALE + TEXTS,
    ),
]


@needs_gcc
@pytest.mark.parametrize("row", GCC_TABLE, ids=[r[0] for r in GCC_TABLE])
def test_gcc_golden(tree: Path, row) -> None:
    _, args, env, key, direct, deps = row
    parsed, got_direct, got_deps = _components(tree, args, compiler=GCC, env=env)
    assert parsed.key_arguments == key
    assert got_direct == direct
    assert got_deps == deps


@needs_gcc
def test_gcc_golden_with_base_directory(tree: Path) -> None:
    """PYCACHE_BASEDIRS without debug info: every path under the base
    directory is portable, named by the base's place in the list."""
    args = ["-c", "<TMP>/a.c", "-I<TMP>/inc", "-O2", "-o", "<TMP>/out/a.o", "-MD"]
    parsed, direct, deps = _components(tree, args, compiler=GCC, basedirs=("/elsewhere", "<TMP>"))
    assert parsed.key_arguments == ("-O2", "-MD", FORCED)
    assert direct == _direct_head(("-I<BASEDIR:2>/inc",), source="<BASEDIR:2>/a.c", cwd="<BASEDIR:2>") + LOCALE
    assert deps == [("preprocessed", "<digest>")] + LOCALE + TEXTS


@needs_gcc
def test_gcc_golden_with_base_directory_and_debug_info(tree: Path) -> None:
    """With debug info the object names the paths: direct-mode arguments
    stay as they are, the prefix map is keyed by what it does, and the
    paths the object embeds are keyed after it -- the same in any checkout."""
    args = ["-c", "<TMP>/a.c", "-I<TMP>/inc", "-fdebug-prefix-map=<TMP>=.", "-g", "-o", "<TMP>/out/a.o", "-MD"]
    parsed, direct, deps = _components(tree, args, compiler=GCC, basedirs=("<TMP>",))
    assert parsed.key_arguments == ("-g", "-MD", FORCED)
    assert direct == _direct_head(("-I<TMP>/inc",), source="<TMP>/a.c", cwd="<TMP>") + [("working-directory", ".")] + LOCALE
    assert deps == [("preprocessed", "<digest>"), ("working-directory", ".")] + LOCALE + [
        ("embedded-paths:debug", ("./a.c", PREDEF, "./inc/a.h"))
    ] + TEXTS


@needs_gcc
def test_gxx_golden(tree: Path) -> None:
    parsed, direct, deps = _components(tree, ["-c", "b.cpp", "-Iinc", "-std=c++17", "-O1"], compiler=GXX)
    assert parsed.language == "c++"
    assert parsed.key_arguments == ("-std=c++17", "-O1", FORCED)
    assert direct == _direct_head(("-Iinc",), source="b.cpp", digest=CXX_SOURCE_DIGEST) + LOCALE
    assert deps == [("preprocessed", "<digest>")] + LOCALE + [("text:b.cpp", CXX_SOURCE_DIGEST), *TEXTS[1:]]


@needs_clang
def test_clang_golden(tree: Path) -> None:
    """clang-only inputs: a sanitizer ignore list (hashed) and a recorded
    command line (clang puts -I, -D and -o into the object). The recorded
    command line is the user's: no colour forced into it (issue 13 B2)."""
    args = ["-c", "a.c", "-Iinc", "-DX", "-fsanitize=address", "-fsanitize-ignorelist=ign.txt",
            "-frecord-command-line", "-o", "a.o"]
    parsed, direct, deps = _components(tree, args, compiler=CLANG)
    assert parsed.key_arguments == ("-fsanitize=address", "-frecord-command-line", "-fdiagnostics-color=auto")
    assert parsed.run_arguments is None and not parsed.colour_diagnostics
    shared = [
        ("path-arguments", ("-fsanitize-ignorelist=ign.txt",)),
        ("command-line", tuple(args)),
        ("input:<TMP>/ign.txt", "b3355106cc80c99cc6a48791582f01349518c703df9e8ce63239fe453dc954f4"),
        # Sanitizer data and the recorded command line name paths: every one keyed as it is.
        ("working-directory", "<TMP>"),
    ] + LOCALE
    assert direct == _direct_head(("-Iinc", "-DX")) + shared
    assert deps == [("preprocessed", "<digest>")] + shared + [("macro-arguments", ("-DX",)), TEXTS[0], TEXTS[2]]


@needs_gcc
def test_include_path_spelling_changes_only_direct_components(tree: Path) -> None:
    """-I inc and -Iinc preprocess identically (one preprocessed digest);
    direct mode keys the spelling. -I./inc changes the line markers, so it
    is a different preprocessed output: gcc prints ./inc/a.h in diagnostics."""

    def raw(args):
        invocation = make_invocation(args, tree, compiler=GCC)
        context = make_context(tree.parent, cwd=tree)
        probe(invocation, context)
        parsed = parse(invocation)
        deps = hooks.pycache_discover_dependencies(invocation=invocation, parsed=parsed, context=context)
        direct = hooks.pycache_direct_components(invocation=invocation, parsed=parsed, context=context)
        return dict((c.name, c.value) for c in deps.components)["preprocessed"], direct

    joined, direct_joined = raw(["-c", "a.c", "-Iinc"])
    separate, direct_separate = raw(["-c", "a.c", "-I", "inc"])
    dotted, _ = raw(["-c", "a.c", "-I./inc"])
    assert joined == separate
    assert direct_joined != direct_separate
    assert dotted != joined
