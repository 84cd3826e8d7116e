"""The explain journal: what the last miss at a call site was made of.

A call site is (family, working directory, output paths). After a miss the
compile writes the components of its key there, so that `pycache explain`
can say which of them differ now. Local, per cache directory; never shared.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ..api import KeyComponent
from ..keys import describe_value, digest_bytes, fingerprint_value
from .call import Call
from .restore import atomic_write

if TYPE_CHECKING:
    from .engine import Engine


def path(engine: Engine, call: Call) -> Path:
    invocation, parsed = call.invocation, call.parsed
    assert invocation is not None and parsed is not None and call.family is not None
    site = "\0".join([call.family.name, str(invocation.cwd), *sorted(str(s.path) for s in parsed.outputs.values())])
    return engine.config.cache_dir / "explain" / f"{digest_bytes(site.encode('utf-8', 'surrogateescape'))[:32]}.json"


def write(engine: Engine, call: Call, components: Sequence[KeyComponent], result_key: str) -> None:
    """Remember the components of this miss at its call site."""
    target = path(engine, call)
    record = {
        "result_key": result_key,
        "components": [[c.name, fingerprint_value(c.value), describe_value(c.value)] for c in components],
    }
    with contextlib.suppress(OSError):
        target.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(target, json.dumps(record).encode(), 0o644)


def read(engine: Engine, call: Call) -> dict | None:
    """The last miss recorded at this call site, or None."""
    try:
        return json.loads(path(engine, call).read_text())
    except (OSError, ValueError):
        return None
