"""Not-cacheable reasons of the msvc family, next to the shared C-family
ones in `pycache_cfamily.reasons` (which this family uses too). Stored data:
add new ones, never rename or reuse one."""

from __future__ import annotations

#: /Zi or /ZI with cl.exe and no per-object /Fd: several objects write one PDB
SHARED_PDB = "shared-pdb"
#: /Yc or /Yu without /Fp: where the .pch is differs between cl.exe and clang-cl
PCH_WITHOUT_FP = "pch-without-fp"
#: clang-cl /Yc without ``-Xclang -fno-pch-timestamp``: the .pch records the
#: headers' modification times, so a restored one breaks every /Yu compile
PCH_TIMESTAMP = "pch-timestamp"
#: /sourceDependencies with a compiler that does not write the JSON (clang-cl 14)
SOURCE_DEPENDENCIES = "source-dependencies"
