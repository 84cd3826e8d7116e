"""The explain journal: what the last stored compile at a call site was made of.

A call site is (family, working directory, output paths). After a miss is
stored, the compile writes there -- so that `pycache explain` can name what
differs now, in a user's terms:

- ``compiler``: the compiler's path;
- ``direct``: the direct-mode components (``[name, fingerprint, value]``;
  null without direct mode), so a changed ``-D`` is named even though it
  makes another manifest key;
- ``components``: the result key's components, the same way, and which of
  them a deferred compile ``reported`` itself;
- ``manifest``: the manifest record made for this compile -- every file it
  read with its digest, paths that had to stay absent, variables and their
  values -- so a header edit is named even when its only trace in the key is
  a digest of the preprocessed text (null when no record was made: direct
  mode off, or inputs not capturable by files).

``value`` is the component's text or list of strings (up to `VALUE_LIMIT`
characters; beyond, and for bytes, `describe_value`'s short form);
``fingerprint`` compares exactly where the value is not kept whole, and is
null where it is (the value compares itself: a kernel unit's ~850 file
components are digests already, not worth a digest each). Arguments and
allow-listed variables are in it, so the file is private to the user
(0600). Local, per cache directory, never shared; overwritten by the next
stored miss at the site.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import TYPE_CHECKING

from ..api import KeyComponent, KeyValue
from ..entry import ManifestRecord
from ..keys import describe_value, digest_bytes, fingerprint_value
from .call import Call
from .restore import atomic_write

if TYPE_CHECKING:
    from .engine import Engine

VERSION = 3
VALUE_LIMIT = 64 << 10


def path(engine: Engine, call: Call) -> Path:
    invocation, parsed = call.invocation, call.parsed
    assert invocation is not None and parsed is not None and call.family is not None
    site = "\0".join([call.family.name, str(invocation.cwd), *sorted(str(s.path) for s in parsed.outputs.values())])
    return engine.config.cache_dir / "explain" / f"{digest_bytes(site.encode('utf-8', 'surrogateescape'))[:32]}.json"


def comparable(value: KeyValue) -> str | list[str]:
    """A component value as the journal keeps it, to show and to diff."""
    if isinstance(value, tuple) and sum(len(item) for item in value) <= VALUE_LIMIT:
        return list(value)
    if isinstance(value, str) and len(value) <= VALUE_LIMIT:
        return value
    return describe_value(value)


def entries(components: tuple[KeyComponent, ...]) -> list[list]:
    """``[name, fingerprint or None, value]`` of each component."""
    kept = []
    for c in components:
        value = comparable(c.value)
        kept.append([c.name, None if _whole(c.value, value) else fingerprint_value(c.value), value])
    return kept


def unchanged(entry: list, value: KeyValue) -> bool:
    """Whether a component now has the value an `entries` item recorded."""
    fingerprint, recorded = entry[1], entry[2]
    if fingerprint is not None:
        return fingerprint == fingerprint_value(value)
    now = comparable(value)
    return _whole(value, now) and type(now) is type(recorded) and now == recorded


def _whole(value: KeyValue, kept: str | list[str]) -> bool:
    """Whether ``kept`` (`comparable` of ``value``) is the whole value."""
    return kept is value or (isinstance(value, tuple) and isinstance(kept, list))


def write(engine: Engine, call: Call, record: ManifestRecord | None) -> None:
    """Remember this stored compile at its call site."""
    assert call.invocation is not None and call.result_key is not None
    data = {
        "version": VERSION,
        "result_key": call.result_key,
        "compiler": str(call.invocation.compiler),
        "direct": entries(call.direct) if call.direct is not None else None,
        "components": entries(call.key_components()),
        "reported": [c.name for c in call.reported],
        "manifest": None if record is None else {
            "files": [list(f) for f in record.files],
            "absent": list(record.absent),
            "env": [list(e) for e in record.env],
        },
    }
    target = path(engine, call)
    with contextlib.suppress(OSError):
        target.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(target, json.dumps(data).encode(), 0o600)


def read(engine: Engine, call: Call) -> dict | None:
    """The last stored compile at this call site, or None. A journal of an
    older version reads with what it has (``components``)."""
    try:
        data = json.loads(path(engine, call).read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and isinstance(data.get("components"), list) else None


def manifest_record(data: dict) -> ManifestRecord | None:
    """The journal's manifest record, as `manifests.mismatches` checks it."""
    manifest = data.get("manifest")
    if not isinstance(manifest, dict):
        return None
    try:
        return ManifestRecord(
            files=tuple((str(p), str(d)) for p, d in manifest["files"]),
            absent=tuple(str(p) for p in manifest["absent"]),
            env=tuple((str(n), str(v)) for n, v in manifest["env"]),
            result_key=str(data["result_key"]),
        )
    except (KeyError, TypeError, ValueError):
        return None
