"""Cache keys: the one place where key components become a digest.

Plugins describe inputs as `KeyComponent`s; only this module hashes them, with
an encoding that cannot be ambiguous: every component is tagged with its type,
and its name and value are length-prefixed, so ``("-I", "-O2")`` and
``("-I-O2",)`` can never produce the same bytes. The schema version leads, so a
change of encoding changes every key.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import blake3

from .api import KeyComponent

#: Bump when the encoding below, the set of core components or what a key's
#: portable paths mean changes. 2: base directory placeholders name their
#: base (``<BASEDIR:1>``) and stored texts are relocated token by token.
KEY_SCHEMA_VERSION = 2

_TAG_STR = b"s"
_TAG_BYTES = b"b"
_TAG_TUPLE = b"t"


def _lp(data: bytes) -> bytes:
    return len(data).to_bytes(8, "little") + data


def encode_value(value: str | bytes | tuple[str, ...]) -> bytes:
    if isinstance(value, str):
        return _TAG_STR + _lp(value.encode("utf-8", "surrogateescape"))
    if isinstance(value, bytes):
        return _TAG_BYTES + _lp(value)
    if isinstance(value, tuple):
        items = b"".join(_lp(str(item).encode("utf-8", "surrogateescape")) for item in value)
        return _TAG_TUPLE + len(value).to_bytes(8, "little") + items
    raise TypeError(f"key component value must be str, bytes or tuple of str, not {type(value).__name__}")


def encode_components(components: Iterable[KeyComponent], *, purpose: str) -> bytes:
    """The canonical byte string a key is the digest of.

    ``purpose`` separates key spaces ("result", "manifest") so a manifest key
    can never equal a result key.
    """
    parts = [b"pycache-key", _lp(str(KEY_SCHEMA_VERSION).encode()), _lp(purpose.encode())]
    for component in components:
        parts.append(b"c" + _lp(component.name.encode("utf-8", "surrogateescape")) + encode_value(component.value))
    return b"".join(parts)


def digest_components(components: Sequence[KeyComponent], *, purpose: str) -> str:
    return blake3.blake3(encode_components(components, purpose=purpose)).hexdigest()


def result_key(components: Sequence[KeyComponent]) -> str:
    """The storage key of a result entry: ``entries/<2 hex>/<digest>``."""
    return "entries/" + _shard(digest_components(components, purpose="result"))


def manifest_key(components: Sequence[KeyComponent]) -> str:
    """The storage key of a direct-mode manifest: ``manifests/<2 hex>/<digest>``."""
    return "manifests/" + _shard(digest_components(components, purpose="manifest"))


def step_key(components: Sequence[KeyComponent]) -> str:
    """The storage key of a plugin's step result (`PluginContext.store_step`):
    ``steps/<2 hex>/<digest>``."""
    return "steps/" + _shard(digest_components(components, purpose="step"))


def _shard(digest: str) -> str:
    return f"{digest[:2]}/{digest}"


def digest_bytes(data: bytes) -> str:
    return blake3.blake3(data, max_threads=blake3.blake3.AUTO if len(data) > 1 << 20 else 1).hexdigest()


def describe_value(value: str | bytes | tuple[str, ...], *, limit: int = 160) -> str:
    """A short human form of a component value, for `pycache explain` and debug logs."""
    if isinstance(value, bytes):
        return f"<{len(value)} bytes, blake3 {digest_bytes(value)[:16]}>"
    if isinstance(value, tuple):
        text = " ".join(value)
    else:
        text = value
    if len(text) > limit:
        return f"{text[:limit]}... <{len(text)} chars, blake3 {digest_bytes(text.encode('utf-8', 'surrogateescape'))[:16]}>"
    return text


def fingerprint_value(value: str | bytes | tuple[str, ...]) -> str:
    """A stable digest of one component value (what explain records compare)."""
    return blake3.blake3(encode_value(value)).hexdigest()[:32]
