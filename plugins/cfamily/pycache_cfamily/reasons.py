"""Why a C-family call is not cached: the stable reason identifiers.

Each is a `NotCacheable.reason` or `NotCompilation.reason` that
`pycache stats` counts per family. They are stored data (statistics files,
dashboards, people's scripts): add new ones freely, never rename or reuse
one. A family may use any of them, or add its own next to its parser.
"""

from __future__ import annotations

# --- not a compilation ---------------------------------------------------------
VERSION_PROBE = "version-probe"
INFO_QUERY = "info-query"
DRY_RUN = "dry-run"
PREPROCESS_ONLY = "preprocess-only"
NO_INPUT = "no-input"

# --- the command line -----------------------------------------------------------
LINKING = "linking"
ASSEMBLY_OUTPUT = "assembly-output"
MULTIPLE_SOURCES = "multiple-sources"
STDIN_INPUT = "stdin-input"
OUTPUT_TO_STDOUT = "output-to-stdout"
OUTPUT_NOT_A_FILE = "output-not-a-file"
SAVE_TEMPS = "save-temps"
PCH_CREATION = "pch-creation"
MODULES = "modules"
SYNTAX_ONLY = "syntax-only"
UNKNOWN_OPTION = "unknown-option"
UNSUPPORTED_XCLANG = "unsupported-xclang"
UNSUPPORTED_MLLVM = "unsupported-mllvm"
PROFILE_USE = "profile-use"
EXTRA_OUTPUT = "extra-output"
TOOLCHAIN_OVERRIDE = "toolchain-override"
COMPILER_PLUGIN = "compiler-plugin"
UNSUPPORTED_OPTION = "unsupported-option"
VERBOSE = "verbose"
UNSUPPORTED_LANGUAGE = "unsupported-language"
UNSUPPORTED_INPUT = "unsupported-input"
PREPROCESSED_INPUT = "preprocessed-input"
UNSUPPORTED_PREPROCESSOR_OPTION = "unsupported-preprocessor-option"
DEPENDENCIES_ENV = "dependencies-env"
MULTIPLE_OUTPUTS = "multiple-outputs"
MULTIPLE_DEPFILES = "multiple-depfiles"
MULTIPLE_ARCHITECTURES = "multiple-architectures"
RESPONSE_FILE = "response-file"
MISSING_ARGUMENT = "missing-argument"
#: -ftime-report & co.: measurements printed anew by every run
COMPILER_REPORT = "compiler-report"

# --- later stages: dependencies, the compile, its outputs ---------------------
MISSING_INPUT = "missing-input"
PREPROCESSOR_ERROR = "preprocessor-error"
ASSEMBLER_INCLUDE = "assembler-include"
#: ``#pragma GCC dependency``: the preprocessor compares two files' times
FILE_TIMES = "pragma-dependency"
PCH_USE = "pch-use"
COMPILE_FAILED = "compile-failed"
MISSING_OUTPUT = "missing-output"
