"""Options the table accepts through a generic row (-f, -m, -W, -g, -O,
-Q) although `tools/audit_gnu_options.py` flags them as possibly naming
files, each reviewed against the compilers' documentation (gcc 12's
manual and ``--help=``, clang 14's ``--help-hidden``): why it reads and
writes no file at compile time. An option that does read or write one has
an explicit row in `pycache_cfamily.gnu_options` instead (an input that is
keyed, or refused with a reason).

A key ending in ``*`` covers every option it prefixes.

`SEPARATE_PROBED`: the options under a generic prefix that clang 14 takes
with a separate value (``tools/audit_gnu_options.py --probe-separate``
finds them, by asking clang about each option with its value missing;
slow, so its answer is kept here and the test checks the table has a row
for each).
"""

REVIEWED: dict[str, str] = {
    # whole families that cannot name a file
    "-W*": "warning switches: they change messages only (-Wa, -Wl, -Wp, have their own rows)",
    "-fno-*": "turns a feature off; an option that reads a file has no negative form that does",
    "-mno-*": "turns a target feature off",
    # groups
    **dict.fromkeys(
        (
            "-fcall-saved-", "-fcall-saved-x10", "-fcall-saved-x11", "-fcall-saved-x12", "-fcall-saved-x13",
            "-fcall-saved-x14", "-fcall-saved-x15", "-fcall-saved-x18", "-fcall-saved-x8", "-fcall-saved-x9",
        ),
        'register allocation',
    ),
    **dict.fromkeys(
        (
            "-fsched-critical-path-heuristic", "-fsched-spec", "-fsched-spec-insn-heuristic",
            "-fsched-spec-load", "-fsched-spec-load-dangerous",
        ),
        'instruction scheduling',
    ),
    **dict.fromkeys(
        (
            "-fgcse-las", "-fgcse-lm", "-fipa-profile", "-fipa-ra", "-fipa-reference-addressable",
            "-fisolate-erroneous-paths-attribute", "-fisolate-erroneous-paths-dereference",
        ),
        'optimisation',
    ),
    **dict.fromkeys(
        (
            "-fchkp-check-write", "-fchkp-instrument-calls", "-fchkp-instrument-marked-only",
            "-fbranch-target-load-optimize", "-fbranch-target-load-optimize2",
        ),
        'no effect (removed options)',
    ),
    **dict.fromkeys(
        (
            "-fanalyzer-feasibility", "-fanalyzer-verbose-edges", "-fanalyzer-verbose-state-changes",
        ),
        "-fanalyzer's messages",
    ),
    **dict.fromkeys(
        (
            "-fdiagnostics-absolute-paths", "-fdiagnostics-format=", "-fdiagnostics-hotness-threshold=",
            "-fdiagnostics-path-format=", "-fdiagnostics-plain-output", "-fdiagnostics-show-hotness",
            "-fdiagnostics-show-location=", "-fdiagnostics-show-note-include-stack",
            "-fdiagnostics-show-path-depths", "-fdiagnostics-urls=",
        ),
        'the form of messages (in the key; -fdiagnostics-color is its own row)',
    ),
    **dict.fromkeys(
        (
            "-femit-all-decls", "-femit-class-debug-always", "-femit-struct-debug-baseonly",
            "-femit-struct-debug-detailed=", "-femit-struct-debug-reduced",
        ),
        'what the object holds (code, debug information), keyed',
    ),
    **dict.fromkeys(
        (
            "-finstrument-function-entry-bare", "-finstrument-functions",
            "-finstrument-functions-after-inlining", "-finstrument-functions-exclude-file-list=",
            "-finstrument-functions-exclude-function-list=",
        ),
        'instrumentation calls; the exclude lists are names, not files',
    ),
    **dict.fromkeys(
        (
            "-flang-info-include-translate", "-flang-info-include-translate-not",
            "-flang-info-include-translate=", "-flang-info-module-cmi", "-flang-info-module-cmi=",
        ),
        'notes about C++ modules in the messages',
    ),
    **dict.fromkeys(
        (
            "-fopenmp-assume-teams-oversubscription", "-fopenmp-assume-threads-oversubscription",
            "-fopenmp-enable-irbuilder", "-fopenmp-implicit-rpath", "-fopenmp-simd",
        ),
        'OpenMP code generation or linking (-fopenmp-targets has its own row)',
    ),
    **dict.fromkeys(
        (
            "-fprofile-abs-path", "-fprofile-correction", "-fprofile-exclude-files=",
            "-fprofile-filter-files=", "-fprofile-info-section", "-fprofile-info-section=",
            "-fprofile-partial-training", "-fprofile-reorder-functions", "-fprofile-report",
            "-fprofile-reproducible=", "-fprofile-sample-accurate", "-fprofile-update=", "-fprofile-values",
        ),
        'profile knobs: instrumentation, or the use of a profile named by an option with its own row; -fprofile-abs-path makes .gcno paths absolute (the working directory is keyed with coverage); the filter lists are regular expressions',
    ),
    **dict.fromkeys(
        (
            "-fsanitize-address-destructor=", "-fsanitize-address-outline-instrumentation",
            "-fsanitize-address-use-odr-indicator", "-fsanitize-thread-atomics",
            "-fsanitize-thread-func-entry-exit", "-fsanitize-thread-memory-access",
        ),
        'sanitizer code generation',
    ),
    **dict.fromkeys(
        (
            "-fxray-always-emit-customevents", "-fxray-always-emit-typedevents", "-fxray-function-groups=",
            "-fxray-function-index", "-fxray-ignore-loops", "-fxray-instrument",
            "-fxray-instrumentation-bundle=", "-fxray-modes=", "-fxray-selected-function-group=",
        ),
        'XRay instrumentation (the list files have their own rows)',
    ),
    **dict.fromkeys(
        (
            "-gcodeview-ghash", "-gcolumn-info", "-gdescribe-dies", "-gdwarf32", "-gdwarf64",
            "-gembed-source", "-gline-directives-only", "-gline-tables-only", "-gno-embed-source",
            "-gno-inline-line-tables", "-gno-record-command-line", "-grecord-command-line",
            "-grecord-gcc-switches", "-gsplit-dwarf", "-gstatement-frontiers", "-gstrict-dwarf",
        ),
        "debug information, keyed (a recorded command line and embedded source are keyed too; -gsplit-dwarf's .dwo is an output role)",
    ),
    **dict.fromkeys(
        (
            "-mfentry", "-mfentry-section=",
        ),
        'mcount call placement',
    ),
    **dict.fromkeys(
        (
            "-mlvi-cfi", "-mlvi-hardening",
        ),
        'load value injection hardening',
    ),
    **dict.fromkeys(
        (
            "-Qn", "-Qpar-report", "-Qspectre-load", "-Qspectre-load-cf", "-Qunused-arguments",
            "-Qvec-report", "-Qy",
        ),
        'compiler identification in the object (-Qn, -Qy), driver warnings (-Qunused-arguments), or cl options clang refuses in gcc syntax',
    ),
    # one by one
    "-faapcs-bitfield-load": "ARM bit-field access code",
    "-faddrsig": "an address-significance section in the object",
    "-faltivec-src-compat=": "PowerPC vector semantics",
    "-fauto-profile-accurate": "trusts the profile -fauto-profile= names (that one is keyed)",
    "-fbinutils-version=": "ELF features the object may use",
    "-fcaller-saves": "register saving around calls",
    "-fcanonical-system-headers": "header paths as written in the line markers (in the key)",
    "-fcf-protection=": "control-flow protection code",
    "-fconstexpr-cache-depth=": "constexpr evaluation limit",
    "-fcreate-profile": "instrumentation; the runtime writes the profile",
    "-fcs-profile-generate": "instrumentation; the runtime writes the profile",
    "-fdbg-cnt-list": "lists debug counters in the messages",
    "-fdebug-info-for-profiling": "extra debug information",
    "-fdebug-macro": "macro debug information (the key holds every definition's text)",
    "-fdebug-types-section": "debug information layout",
    "-fdeduce-init-list": "no effect",
    "-fdepfile-entry=": "a line added to the dependency file, keyed as written",
    "-fdwarf-directory-asm": "how the assembler is told directories",
    "-feliminate-unused-debug-types": "debug information",
    "-fenforce-eh-specs": "exception specification checks",
    "-ffat-lto-objects": "object layout",
    "-fforce-dwarf-frame": "unwind tables",
    "-fforce-emit-vtables": "code generation",
    "-fgnu-runtime": "Objective-C runtime ABI",
    "-fimplicit-inline-templates": "template instantiation",
    "-fimplicit-templates": "template instantiation",
    "-finput-charset=": "source character set",
    "-fira-share-save-slots": "register allocation",
    "-fkeep-static-consts": "code generation",
    "-flarge-source-files": "column tracking in messages",
    "-fmax-errors=": "message count",
    "-fmax-include-depth=": "nesting limit",
    "-fmax-subrecord-length=": "CodeView record size",
    "-fmemory-profile": "heap profiling instrumentation (the =directory form has its own row)",
    "-fminimize-whitespace": "-E output only",
    "-fms-compatibility-version=": "MSVC version emulated",
    "-fmsc-version=": "MSVC version emulated",
    "-fno_modules-validate-input-files-content": "modules only (refused)",
    "-fno_pch-validate-input-files-content": "PCH validation; a PCH in use is keyed",
    "-fobjc-encode-cxx-class-template-spec": "Objective-C type encodings",
    "-foptimization-record-passes=": "filters -fsave-optimization-record (refused)",
    "-forder-file-instrumentation": "instrumentation",
    "-fpch-validate-input-files-content": "PCH validation; a PCH in use is keyed",
    "-fplt": "code generation",
    "-fprofile": "instrumentation",
    "-fprofile-instr-generate": "instrumentation; the runtime writes default.profraw (the =file form has its own row)",
    "-fpseudo-probe-for-profiling": "instrumentation",
    "-freport-bug": "writes a report only when the compiler crashes (such a compile fails, never stored)",
    "-frtlib-add-rpath": "linking only",
    "-frtti": "code generation",
    "-frwpi": "code generation",
    "-fsanitize-coverage=": "instrumentation kinds (the allow and ignore lists have their own rows)",
    "-fsanitize-stats": "instrumentation",
    "-fsanitize-undefined-strip-path-components=": "source paths embedded in the object, keyed as given",
    "-fshow-skipped-includes": "-E output only",
    "-fshrink-wrap": "optimisation",
    "-fsplit-dwarf-inlining": "debug information",
    "-fsplit-machine-functions": "optimisation",
    "-fsplit-paths": "optimisation (control-flow paths)",
    "-fstack-protector-strong": "code generation",
    "-fstack-size-section": "a section in the object",
    "-fstandalone-debug": "debug information",
    "-fstruct-path-tbaa": "alias analysis",
    "-funique-internal-linkage-names": "symbol names",
    "-fuse-cuid=": "HIP compilation unit ids",
    "-fuse-linker-plugin": "linking only",
    "-fvalidate-ast-input-files-content": "modules and PCH only",
    "-fverbose-asm": "assembly comments (-S only)",
    "-fvisibility-externs-dllimport=": "symbol visibility",
    "-fvpt": "value profile transformations",
    "-fweak": "code generation",
    "-fwhole-file": "no effect",
    "-fworking-directory": "the working directory line marker (-E; the key holds the directory when the object does)",
    "-fada-spec-parent=": "only with -fdump-ada-spec (refused)",
    "-fstack-usage": "refused by its own row",
    "-mavx256-split-unaligned-load": "code generation",
    "-mcall-ms2sysv-xlogues": "code generation",
    "-mcet-switch": "code generation",
    "-membedded-data": "code generation",
    "-mignore-xcoff-visibility": "code generation",
    "-mincremental-linker-compatible": "COFF time stamp (the compiler's own nondeterminism)",
    "-minstrument-return=": "instrumentation",
    "-minvariant-function-descriptors": "code generation",
    "-mmark-bti-property": "a note in the object",
    "-mneeded": "a note in the object",
    "-mpconfig": "instruction set",
    "-mpush-args": "code generation",
    "-mrecord-mcount": "a section in the object",
    "-mrecord-return": "a section in the object",
    "-msave-restore": "code generation",
    "-mseses": "code generation",
    "-mspeculative-load-hardening": "code generation",
}

SEPARATE_PROBED = (
    "-fdebug-compilation-dir",
    "-filelist",
    "-fmodules-user-build-path",
    "-ftrapv-handler",
    "-fxray-instruction-threshold",
    "-gen-cdb-fragment-path",
    "-meabi",
    "-mllvm",
    "-mthread-model",
    "-module-dependency-dir",
)


def reviewed(spelling: str) -> str | None:
    """Why ``spelling`` names no file, if reviewed."""
    if spelling in REVIEWED:
        return REVIEWED[spelling]
    for key, why in REVIEWED.items():
        if key.endswith("*") and spelling.startswith(key[:-1]):
            return why
    return None
