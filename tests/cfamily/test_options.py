"""pycache_cfamily.options: option tables, their parser, kinds as a closed
enum, ``-`` and ``/`` prefixes, composition; and GNU_OPTIONS as a table."""

from __future__ import annotations

import re

import pytest

from pycache_cfamily import reasons
from pycache_cfamily.gnu_options import GNU_OPTIONS, GnuKind
from pycache_cfamily.options import (
    ArgForm,
    OptionKind,
    OptionSpec,
    OptionTable,
    OptionTableError,
    exhaustive_handlers,
    portable_argument,
    with_prefixes,
)

F = ArgForm


class Kind(OptionKind):
    COMPILE = "compile"
    OUTPUT = "output"
    PREPROCESSOR = "preprocessor"
    CODEGEN = "codegen"
    PROFILE = "profile"
    REFUSED = "refused"

    @property
    def refuses(self) -> bool:
        return self is Kind.REFUSED


class ClKind(OptionKind):
    COMPILE = "compile"
    OBJECT = "object"
    DEFINE = "define"
    UNDEFINE = "undefine"
    CLANG = "clang"
    END = "end"


class Other(OptionKind):
    THING = "thing"


TABLE = OptionTable(
    [
        OptionSpec("-c", F.FLAG, Kind.COMPILE),
        OptionSpec("-o", F.JOINED_OR_SEPARATE, Kind.OUTPUT, path=True),
        OptionSpec("-I", F.JOINED_OR_SEPARATE, Kind.PREPROCESSOR, path=True),
        OptionSpec("-include", F.JOINED_OR_SEPARATE, Kind.PREPROCESSOR, path=True),
        OptionSpec("-include-pch", F.SEPARATE, Kind.PREPROCESSOR, path=True),
        OptionSpec("-f", F.JOINED, Kind.CODEGEN),
        OptionSpec("-fprofile-use", F.FLAG, Kind.PROFILE),
        OptionSpec("-fprofile-use", F.EQUALS, Kind.PROFILE),
        OptionSpec("-O", F.JOINED, Kind.CODEGEN),
        OptionSpec("-std", F.EQUALS, Kind.CODEGEN),
        OptionSpec("--sysroot", F.EQUALS, Kind.PREPROCESSOR, separate_ok=True),
        OptionSpec("-Xclang", F.SEPARATE, Kind.CODEGEN),
        OptionSpec("-Wa,", F.JOINED, Kind.CODEGEN, separator=","),
        OptionSpec("-save-temps", F.FLAG, Kind.REFUSED, reason="save-temps"),
    ],
    kinds=Kind,
)


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["-c"], [("-c", None, ("-c",))]),
        (["-o", "a.o"], [("-o", "a.o", ("-o", "a.o"))]),
        (["-oa.o"], [("-o", "a.o", ("-oa.o",))]),
        (["-Iinc", "-I", "inc"], [("-I", "inc", ("-Iinc",)), ("-I", "inc", ("-I", "inc"))]),
        # exact spelling first, then the longest prefix
        (["-include-pch", "x.pch"], [("-include-pch", "x.pch", ("-include-pch", "x.pch"))]),
        (["-includecfg.h"], [("-include", "cfg.h", ("-includecfg.h",))]),
        (["-fprofile-use"], [("-fprofile-use", None, ("-fprofile-use",))]),
        (["-fprofile-use=p"], [("-fprofile-use", "p", ("-fprofile-use=p",))]),
        (["-fprofile-used"], [("-f", "profile-used", ("-fprofile-used",))]),
        (["-O"], [("-O", "", ("-O",))]),
        (["-std=c11"], [("-std", "c11", ("-std=c11",))]),
        (["--sysroot", "/s", "--sysroot=/t"], [("--sysroot", "/s", ("--sysroot", "/s")), ("--sysroot", "/t", ("--sysroot=/t",))]),
        (["-Xclang", "-o"], [("-Xclang", "-o", ("-Xclang", "-o"))]),
        (["a.c", "-"], [("", None, ("a.c",)), ("", None, ("-",))]),
        (["-Zbogus"], [("", None, ("-Zbogus",))]),
        # a gcc table has no "/" options: an absolute path is an input
        (["/usr/src/a.c"], [("", None, ("/usr/src/a.c",))]),
    ],
)
def test_option_table_parse(argv: list[str], expected: list[tuple]) -> None:
    got = [(a.option, a.value, a.tokens) for a in TABLE.parse(argv)]
    assert got == expected


def test_parsed_arg_kinds_values_and_joined_form() -> None:
    inp, unknown, stdin, sep, eq, wa, refused = TABLE.parse(
        ["a.c", "-Zx", "-", "-I", "inc", "--sysroot", "/s", "-Wa,-g,--gdwarf-5", "-save-temps"]
    )
    assert inp.is_input and not inp.is_unknown and inp.kind is None
    assert unknown.is_unknown and not unknown.is_input
    assert stdin.is_input
    assert sep.joined() == "-Iinc" and sep.kind is Kind.PREPROCESSOR
    assert eq.joined() == "--sysroot=/s"
    assert wa.values() == ("-g", "--gdwarf-5")
    assert sep.values() == ("inc",)  # no separator: the value whole
    assert refused.kind is Kind.REFUSED and refused.spec.reason == "save-temps"


def test_missing_separate_value_is_reported() -> None:
    (arg,) = TABLE.parse(["-o"])
    assert arg.missing_value and arg.value is None
    (arg,) = TABLE.parse(["-std"])  # "=" form only: no value taken from the next argument
    assert arg.is_unknown


# --- kinds are a closed set, checked when the table is built -------------------------


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: OptionSpec("-c", F.FLAG, "compile"), "not a member of an OptionKind enum"),
        (lambda: OptionSpec("-c", F.FLAG, None), "not a member of an OptionKind enum"),
        (lambda: OptionSpec("-c", "flag", Kind.COMPILE), "not an ArgForm"),
        (lambda: OptionSpec("-x", F.FLAG, Kind.REFUSED), "needs a reason"),
        (lambda: OptionSpec("-c", F.FLAG, Kind.COMPILE, reason="compile"), "does not refuse"),
        (lambda: OptionSpec("-x", F.FLAG, Kind.REFUSED, reason="Save Temps"), "lower-case-dashed"),
        (lambda: OptionSpec("-I", F.JOINED, Kind.PREPROCESSOR, separate_ok=True), "ArgForm.EQUALS only"),
        (lambda: OptionSpec("-c", F.FLAG, Kind.COMPILE, separator=","), "no value to separate"),
        (lambda: OptionSpec("-", F.FLAG, Kind.COMPILE), "at least one character"),
        # a member of an enum the table did not declare
        (lambda: OptionTable([OptionSpec("-t", F.FLAG, Other.THING)], kinds=Kind), "not one of the table's kinds (Kind)"),
        (lambda: OptionTable([OptionSpec("-c", F.FLAG, Kind.COMPILE)], kinds=str), "not an OptionKind enum"),
        (lambda: OptionTable(["-c"], kinds=Kind), "not an OptionSpec"),
        (lambda: OptionTable([OptionSpec("/c", F.FLAG, Kind.COMPILE)], kinds=Kind), "does not start with one of '-'"),
        (lambda: OptionTable([], kinds=Kind, prefixes="-", path_prefixes="/"), "must be option prefixes"),
        (lambda: OptionTable([], kinds=Kind, prefixes="a"), "punctuation"),
        (lambda: OptionTable([OptionSpec("-I", F.JOINED, Kind.PREPROCESSOR)], kinds=Kind, end_of_options="--"),
         "must be a flag row"),
    ],
)
def test_malformed_rows_and_tables_are_refused_when_built(make, message: str) -> None:
    with pytest.raises(OptionTableError, match=re.escape(message)):
        make()


@pytest.mark.parametrize(
    "rows",
    [
        [OptionSpec("-c", F.FLAG, Kind.COMPILE), OptionSpec("-c", F.FLAG, Kind.CODEGEN)],
        # a joined and a joined-or-separate -I claim -Iinc differently
        [OptionSpec("-I", F.JOINED, Kind.PREPROCESSOR), OptionSpec("-I", F.JOINED_OR_SEPARATE, Kind.PREPROCESSOR)],
        [OptionSpec("-std", F.EQUALS, Kind.CODEGEN), OptionSpec("-std", F.EQUALS, Kind.CODEGEN, path=True)],
    ],
)
def test_conflicting_rows_are_an_error(rows) -> None:
    with pytest.raises(OptionTableError, match="twice with different meanings"):
        OptionTable(rows, kinds=Kind)


def test_rows_that_do_not_compete_coexist() -> None:
    # -x (flag), -x= (equals) and -xy (joined) select different arguments
    table = OptionTable(
        [OptionSpec("-x", F.FLAG, Kind.CODEGEN), OptionSpec("-x", F.EQUALS, Kind.CODEGEN),
         OptionSpec("-xy", F.JOINED, Kind.CODEGEN), OptionSpec("-x", F.FLAG, Kind.CODEGEN)],
        kinds=Kind,
    )
    assert [(a.option, a.spec.form, a.value) for a in table.parse(["-x", "-x=1", "-xyz"])] == [
        ("-x", F.FLAG, None), ("-x", F.EQUALS, "1"), ("-xy", F.JOINED, "z")]


def test_exhaustive_handlers_want_every_kind_and_no_other() -> None:
    complete = {member: member.value for member in Kind}
    handlers = exhaustive_handlers(TABLE, complete)
    assert handlers[Kind.OUTPUT] == "output"
    with pytest.raises(TypeError):
        handlers[Kind.OUTPUT] = "changed"  # read-only
    with pytest.raises(OptionTableError, match=r"no handler for Kind\.PROFILE"):
        exhaustive_handlers(TABLE, {k: v for k, v in complete.items() if k is not Kind.PROFILE})
    with pytest.raises(OptionTableError, match="handlers for kinds the table does not have"):
        exhaustive_handlers(TABLE, {**complete, Other.THING: "thing"})


def test_every_gnu_row_has_a_gnu_kind_and_refusals_carry_known_reasons() -> None:
    known = {value for name, value in vars(reasons).items() if name.isupper()}
    assert GNU_OPTIONS.kinds == (GnuKind,)
    for spec in GNU_OPTIONS.specs:
        assert isinstance(spec.kind, GnuKind)
        assert bool(spec.reason) is spec.kind.refuses
        if spec.reason:
            assert spec.reason in known, spec


# --- "/" options: cl syntax, clang-cl's rule for paths -----------------------------------

CL = OptionTable(
    with_prefixes(
        [
            OptionSpec("/c", F.FLAG, ClKind.COMPILE),
            OptionSpec("/Fo", F.JOINED, ClKind.OBJECT, path=True),
            OptionSpec("/Fo:", F.JOINED_OR_SEPARATE, ClKind.OBJECT, path=True),
            OptionSpec("/D", F.JOINED_OR_SEPARATE, ClKind.DEFINE),
            OptionSpec("/U", F.JOINED_OR_SEPARATE, ClKind.UNDEFINE),
            OptionSpec("/clang:", F.JOINED, ClKind.CLANG),
        ],
        "/-",
    )
    + [OptionSpec("--", F.FLAG, ClKind.END)],
    kinds=ClKind,
    prefixes="/-",
    path_prefixes="/",
    end_of_options="--",
)


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["/c", "-c"], [("/c", None), ("-c", None)]),
        (["/Foout/a.obj"], [("/Fo", "out/a.obj")]),
        (["/Fo:out/a.obj"], [("/Fo:", "out/a.obj")]),
        (["/Fo:", "out/a.obj"], [("/Fo:", "out/a.obj")]),
        (["-Fo:", "out\\"], [("-Fo:", "out\\")]),
        (["/DX=1", "/D", "Y"], [("/D", "X=1"), ("/D", "Y")]),
        # clang-cl's rule: a /token that matches an option is that option ...
        (["/Users/me/a.c"], [("/U", "sers/me/a.c")]),
        # ... and one that matches none is an input, not an unknown option
        (["/usr/src/a.c"], [("", None)]),
        (["/Zbogus"], [("", None)]),
        # case-sensitive, as cl is: /C and /FO are not /c and /Fo
        (["/C"], [("", None)]),
        (["/FOx"], [("", None)]),
        # after -- everything is an input, even what matches a row
        (["/c", "--", "/Users/me/a.c", "/c"], [("/c", None), ("--", None), ("", None), ("", None)]),
    ],
)
def test_slash_options(argv: list[str], expected: list[tuple]) -> None:
    parsed = CL.parse(argv)
    assert [(a.option, a.value) for a in parsed] == expected
    assert not any(a.is_unknown for a in parsed)


def test_unmatched_dash_token_is_unknown_even_in_a_slash_table() -> None:
    (arg,) = CL.parse(["-Zbogus"])
    assert arg.is_unknown


def test_with_prefixes_spells_each_row_both_ways() -> None:
    rows = with_prefixes([OptionSpec("/c", F.FLAG, ClKind.COMPILE)], "/-")
    assert [r.spelling for r in rows] == ["/c", "-c"]
    with pytest.raises(OptionTableError, match="does not start with"):
        with_prefixes([OptionSpec("+c", F.FLAG, ClKind.COMPILE)], "/-")


def test_a_sub_list_is_parsed_with_another_table() -> None:
    """clang-cl's /clang:ARG values are clang arguments: parse them with the GNU table."""
    parsed = CL.parse(["/c", "/clang:-MD", "-clang:-MF", "-clang:deps/a.d", "a.c"])
    sub = GNU_OPTIONS.parse([a.value for a in parsed if a.kind is ClKind.CLANG])
    assert [(a.kind, a.value) for a in sub] == [(GnuKind.DEPFILE, None), (GnuKind.DEPFILE_NAME, "deps/a.d")]


# --- composition ------------------------------------------------------------------------------


class NvKind(OptionKind):
    GENCODE = "gencode"
    HOST_FORWARD = "host-forward"
    OUTPUT = "output"


NVCC_OWN = OptionTable(
    [
        OptionSpec("-gencode", F.JOINED_OR_SEPARATE, NvKind.GENCODE, separator=","),
        OptionSpec("--generate-code", F.EQUALS, NvKind.GENCODE, separate_ok=True, separator=","),
        OptionSpec("-Xcompiler", F.JOINED_OR_SEPARATE, NvKind.HOST_FORWARD, separator=","),
    ],
    kinds=NvKind,
)


def test_composed_table_has_both_tables_rows_and_kinds() -> None:
    nvcc = OptionTable.compose(NVCC_OWN, GNU_OPTIONS)
    assert nvcc.kinds == (NvKind, GnuKind)
    parsed = nvcc.parse(["-gencode", "arch=compute_80,code=sm_80", "-O2", "-c", "-Xcompiler", "-fPIC,-Wall", "k.cu"])
    assert [a.kind for a in parsed] == [NvKind.GENCODE, GnuKind.CODEGEN, GnuKind.COMPILE, NvKind.HOST_FORWARD, None]
    assert parsed[0].values() == ("arch=compute_80", "code=sm_80")
    host = GNU_OPTIONS.parse(list(parsed[3].values()))
    assert [(a.kind, a.tokens) for a in host] == [(GnuKind.CODEGEN, ("-fPIC",)), (GnuKind.CODEGEN, ("-Wall",))]
    # the parser of a composed table must handle the kinds of every part
    with pytest.raises(OptionTableError, match="no handler for GnuKind"):
        exhaustive_handlers(nvcc, {k: None for k in NvKind})


def test_composition_detects_conflicting_spellings() -> None:
    own_output = OptionTable([OptionSpec("-o", F.SEPARATE, NvKind.OUTPUT, path=True)], kinds=NvKind)
    with pytest.raises(OptionTableError, match="'-o' is in the table twice with different meanings"):
        OptionTable.compose(own_output, GNU_OPTIONS)
    # dropping gcc's row says the override is meant
    composed = OptionTable.compose(own_output, GNU_OPTIONS.without("-o"))
    (arg,) = composed.parse(["-oa.o"])
    assert arg.is_unknown  # nvcc's -o takes a separate value only; gcc's joined form is gone
    with pytest.raises(OptionTableError, match="no row spelt '-ooops'"):
        GNU_OPTIONS.without("-ooops")


def test_identical_rows_compose_once() -> None:
    twice = OptionTable.compose(GNU_OPTIONS, GNU_OPTIONS)
    assert twice.specs == GNU_OPTIONS.specs


def test_composition_settles_prefixes() -> None:
    clang_cl = OptionTable.compose(CL, GNU_OPTIONS.without("-c", "-D", "-U"))
    assert (clang_cl.prefixes, clang_cl.path_prefixes, clang_cl.end_of_options) == ("/-", "/", "--")
    kinds = [a.kind for a in clang_cl.parse(["/c", "-O2", "/Foa.obj", "/home/a.c"])]
    assert kinds == [ClKind.COMPILE, GnuKind.CODEGEN, ClKind.OBJECT, None]
    # "/" starts options in one table and paths in the other: the caller decides
    strict_slash = OptionTable([OptionSpec("/x", F.FLAG, Other.THING)], kinds=Other, prefixes="/")
    with pytest.raises(OptionTableError, match="pass path_prefixes"):
        OptionTable.compose(strict_slash, CL)
    assert OptionTable.compose(strict_slash, CL, path_prefixes="").path_prefixes == ""


def _portable_path(path: str) -> str:
    """PluginContext.portable_path with /base as the base directory."""
    return "$B" + path[len("/base"):] if path == "/base" or path.startswith("/base/") else path


@pytest.mark.parametrize(
    ("argument", "expected"),
    [
        ("-I/base/inc", "-I$B/inc"),
        ("-I/base", "-I$B"),
        ("-fdebug-prefix-map=/base=.", "-fdebug-prefix-map=$B=."),
        ("-Wl,-rpath,/base/lib", "-Wl,-rpath,$B/lib"),
        ("-I/elsewhere", "-I/elsewhere"),
        ("-I/base2/inc", "-I/base2/inc"),
        ("-fsanitize-ignorelist=x:/base/y", "-fsanitize-ignorelist=x:/base/y"),  # not a whole path: as it is
    ],
)
def test_portable_argument(argument: str, expected: str) -> None:
    assert portable_argument(argument, GNU_OPTIONS, _portable_path) == expected
