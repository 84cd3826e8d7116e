"""The C-family layer of pycache: what gcc/clang, nvcc and msvc share.

A library, not a plugin: it registers no compiler family and has no entry
point. The families' plugins build on its modules:

- `pycache_cfamily.responsefiles`: ``@file`` expansion, gcc's and the
  Microsoft C runtime's quoting;
- `pycache_cfamily.options`: option tables (rows with a closed enum of
  kinds, ``-`` and ``/`` prefixes, composition) and their parser;
- `pycache_cfamily.gnu_options`: gcc's and clang's options as such a table;
- `pycache_cfamily.reasons`: the stable not-cacheable reason identifiers;
- `pycache_cfamily.languages`: source languages by ``-x`` and extension;
- `pycache_cfamily.naming`: default object and dependency-file names;
- `pycache_cfamily.preprocessed`: line markers and other facts of ``-E`` output;
- `pycache_cfamily.includes`: the include search list, headers that would
  shadow those read, ``__has_include`` lookups;
- `pycache_cfamily.environment`: the variables a compile reads, the locale
  for parsed helper output, the working directory as recorded;
- `pycache_cfamily.texts`: where a compile names paths in text (make
  dependency file layouts, diagnostics' locations, line markers), for the
  core's base-directory relocation.

Everything here runs in the server (plugins); the per-compile client never
imports it. Nothing is imported by this package itself: import the module
you use.
"""

__version__ = "0.1.0"
