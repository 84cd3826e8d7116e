"""``python -m pycache_core`` behaves like the ``pycache`` executable."""

import sys

from .client import main

sys.exit(main(["pycache", *sys.argv[1:]]))
