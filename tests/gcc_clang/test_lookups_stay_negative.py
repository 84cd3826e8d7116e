"""Issue 13 B5: lookups that must stay negative.

One unit reaches its headers in every way a search can go: ``-iquote``,
``-idirafter``, ``-isystem``, ``#include_next``, ``__has_include_next``,
``__has_include`` in a system header and inside a macro expanded in
another directory, an ``-include`` file, a path through ``..``, a name
computed by a macro, a directory that does not exist yet, a dangling link
and a directory where a header is looked for. Then, one at a time, a file
appears that the compiler would now find first; each next call must miss
and build what the compiler builds (objects compared byte for byte).
"""

from __future__ import annotations

import os

import pytest

from pycache_core.testing import PycacheEnv

from .support import needs_gcc, write
from .test_end_to_end import cached, compilers, penv  # noqa: F401  (penv is a fixture)

pytestmark = needs_gcc

SOURCE = """#include "q.h"
#include <late.h>
#include <nx.h>
#include <hn.h>
#include <sysuse.h>
#include "def.h"
#include "defB/use.h"
#include "../common/b.h"
#define COMPUTED "comp.h"
#include COMPUTED
#include "ln.h"
#include "dh.h"
#include <nh.h>
int values[] = { Q, LATE, NX, HN, FEATURE, CFG, B, COMP, LN, DH, NH, FI };
"""

FILES = {
    "inc2/q.h": "#define Q 1\n",
    "after/late.h": "#define LATE 1\n",
    "inc1/nx.h": "#include_next <nx.h>\n",
    "inc3/nx.h": "#define NX 1\n",
    "inc1/hn.h": "#if __has_include_next(<hn.h>)\n#include_next <hn.h>\n#else\n#define HN 1\n#endif\n",
    "sys/sysuse.h": "#if __has_include(<feature.h>)\n#include <feature.h>\n#else\n#define FEATURE 1\n#endif\n",
    "defA/def.h": '#define HAVE_CFG __has_include("cfg.h")\n',
    "src/defB/use.h": '#if HAVE_CFG\n#include "cfg.h"\n#else\n#define CFG 1\n#endif\n',
    "inc/common/b.h": "#define B 1\n",
    "inc3/comp.h": "#define COMP 1\n",
    "inc2/ln.h": "#define LN 1\n",
    "inc2/dh.h": "#define DH 1\n",
    "inc3/nh.h": "#define NH 1\n",
    "inc2/fi.h": "#define FI 1\n",
}

OPTIONS = ["-iquote", "q", "-Inew/sub", "-Iinc1", "-Iinc2", "-Iinc3", "-Iinc/sub", "-IdefA",
           "-isystem", "sys", "-idirafter", "after", "-include", "fi.h"]

#: (what appears, file, text): each found first from then on.
APPEARING = [
    ("a quoted header in an -iquote directory", "q/q.h", "#define Q 2\n"),
    ("an -idirafter header shadowed by -isystem", "sys/late.h", "#define LATE 2\n"),
    ("#include_next finds one in between", "inc2/nx.h", "#define NX 2\n"),
    ("__has_include_next finds one further on", "inc3/hn.h", "#define HN 2\n"),
    ("__has_include in a system header", "inc3/feature.h", "#define FEATURE 2\n"),
    ("__has_include in a macro, expanded in another directory", "src/defB/cfg.h", "#define CFG 2\n"),
    ("a header through .. next to the source", "common/b.h", "#define B 2\n"),
    ("a computed include shadowed", "inc2/comp.h", "#define COMP 2\n"),
    ("a dangling link's target", "inc1/target.h", "#define LN 2\n"),
    ("a directory where a header is looked for, replaced", "inc1/dh.h", "#define DH 2\n"),
    ("a header in a directory that did not exist", "new/sub/nh.h", "#define NH 2\n"),
    ("an -include file in the working directory", "fi.h", "#define FI 2\n"),
]


@pytest.mark.parametrize("compiler", compilers())
def test_a_header_that_appears_is_seen(penv: PycacheEnv, compiler: str) -> None:
    penv.set(PYCACHE_DEPEND_MODE="false")  # preprocessor mode: its counts (depend mode: test_depend_mode.py)
    root = penv.root / "p"
    write(root / "src" / "a.c", SOURCE)
    for name, text in FILES.items():
        write(root / name, text)
    (root / "inc" / "sub").mkdir(parents=True)
    os.symlink("target.h", root / "inc1" / "ln.h")  # dangling for now
    (root / "inc1" / "dh.h").mkdir()  # a directory: skipped
    args = [compiler, "-c", "src/a.c", *OPTIONS, "-o", "a.o"]

    def compile_and_compare() -> dict:
        reference = penv.direct(*args[:-1], "ref.o", cwd=root)
        assert reference.returncode == 0, reference.stderr
        done, diff = cached(penv, root, *args)
        assert done.returncode == 0, done.stderr
        assert (root / "a.o").read_bytes() == (root / "ref.o").read_bytes()
        return diff

    assert compile_and_compare() == {"misses": 1}
    assert compile_and_compare().get("hits") == 1
    for what, name, text in APPEARING:
        if name == "inc1/dh.h":
            (root / name).rmdir()
        write(root / name, text)
        assert compile_and_compare() == {"misses": 1}, what
