"""``pycache explain``: what the key of a call is made of, whether it would
hit, and for a miss what changed -- in a user's terms.

It walks the compile's own stages (`stages`) and lookups (`manifests`,
`compile.find_entry`) and stops where the compile would: a not-cacheable
answer from any stage, a plugin fault (reported, never a traceback), a
direct-mode hit, a hit on the result key. It never runs the compile, writes
no output and counts nothing.

A miss (or a hit found only after discovering dependencies) is compared
with the last compile stored at the same call site (`journal`) and with the
closest record of the call's manifest: each difference is one item naming
an argument (``-DFOO=1`` → ``-DFOO=2``), the compiler, a variable or a file
(``include/x.h`` changed (digest a → b)); a component whose only trace is a
digest (the preprocessed text) is named last, and one that is the digest of
a file already named is left out. The report's fields are documented in
README.md ("pycache explain").
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

from ..api import (
    Dependencies,
    KeyComponent,
    NotCacheable,
    NotCompilation,
    ParsedInvocation,
)
from ..entry import ManifestRecord
from ..keys import describe_value
from . import journal, manifests, stages
from .call import Call, CompileRequest, NoCache
from .compile import find_entry
from .restore import does_not_fit

if TYPE_CHECKING:
    from .engine import Engine

SCHEMA_VERSION = 1
_DIGEST = re.compile(r"[0-9a-f]{32,}")
_ABSENT = object()


@dataclass(frozen=True, slots=True)
class Difference:
    """One thing that differs from the earlier compile, in a user's terms.

    ``kind``: argument-changed, argument-added, argument-removed,
    compiler-changed, env-changed, file-changed, file-gone, file-appeared,
    base-directories, component-changed, component-added, component-removed. ``subject``: the
    argument, variable, path or component; ``component``: the key component
    it was found in (None for a manifest record's file or variable).
    """

    kind: str
    subject: str
    message: str
    component: str | None = None
    before: str | None = None
    after: str | None = None


def explain(engine: Engine, request: CompileRequest) -> dict:
    call = Call(request=request)
    report = _blank(request)
    try:
        stages.resolve(engine, call)
        report["compiler"] = call.compiler
        if call.compiler is None:
            return _stop(report, "not-found", "", f"{request.argv[0]}: not found on PATH")
        if call.family is None:
            return _stop(report, "unsupported", "", f"no plugin claims {call.compiler}")
        report["family"] = call.family.name
        parsed = stages.parse(engine, call)
        if not isinstance(parsed, ParsedInvocation):
            return _stopped_by(report, parsed, "parse")
        report["ignored_arguments"] = list(parsed.ignored_arguments)
        with stages.opened(engine, call):
            return _explain_parsed(engine, call, report)
    except NoCache as fault:
        stage = fault.kind.partition(":")[2] or fault.kind
        return _stop(report, "error", fault.kind, str(fault), stage=stage)
    except Exception as exc:  # explain reports; it never ends in a traceback
        return _stop(report, "error", "internal", f"{type(exc).__name__}: {exc}")


def _explain_parsed(engine: Engine, call: Call, report: dict) -> dict:
    stopped = stages.direct(engine, call)
    if stopped is not None:
        return _stopped_by(report, stopped, "direct")
    report["direct_components"] = _shown(call.direct) if call.direct is not None else None
    report["manifest_key"] = call.manifest_key
    records: list[ManifestRecord] = manifests.load(engine, call) if call.manifest_key is not None else []
    held = _first_holding(engine, call, records)
    if held == manifests.DISCOVER_FIRST:
        call.ready[2].depend_mode = False
        report["notes"].append("an earlier compile could not be keyed from its own list of dependencies: "
                               "this call discovers them first")
    elif held is not None:
        report.update(status="hit", mode="direct", key=held)
        return report

    deps = stages.dependencies(engine, call)
    if not isinstance(deps, Dependencies):
        return _stopped_by(report, deps, "dependencies")
    earlier = journal.read(engine, call)
    if call.result_key is None:
        report.update(status="miss", mode="deferred", components=_shown(call.key_components()))
        report["notes"].append("the rest of the key comes from the compile's own list of dependencies")
    else:
        report.update(key=call.result_key, components=_shown(call.key_components()), mode="preprocessor")
        unusable = _unusable(engine, call, call.result_key)
        report["status"] = "hit" if unusable is None else "miss"
        if unusable is None and call.manifest_key is not None:
            report["notes"].append("found after discovering dependencies: direct mode missed (see differences)")
        elif unusable not in (None, "absent"):
            report["notes"].append(f"an entry exists under this key but cannot serve this call: {unusable}")
    if report["status"] == "miss" or records or earlier is not None:
        _compare(engine, call, report, earlier, records)
    return report


def _first_holding(engine: Engine, call: Call, records: list[ManifestRecord]) -> str | None:
    """As the compile's direct lookup: the key of the first record that
    holds if this call can use its entry (or `manifests.DISCOVER_FIRST`)."""
    record = manifests.first_holding(engine, call, records)
    if record is None:
        return None
    if record.result_key == manifests.DISCOVER_FIRST:
        return manifests.DISCOVER_FIRST
    # The compile tries the first holding record only.
    return record.result_key if _unusable(engine, call, record.result_key) is None else None


def _unusable(engine: Engine, call: Call, result_key: str) -> str | None:
    """Why the entry under ``result_key`` would not serve this call
    ("absent", "corrupt", "relocated", roles that do not fit), or None."""
    assert call.parsed is not None
    found = find_entry(engine, call, result_key)
    return found if isinstance(found, str) else does_not_fit(found[0], call.parsed)


# --- differences ---------------------------------------------------------------


def _compare(engine: Engine, call: Call, report: dict, earlier: dict | None, records: list[ManifestRecord]) -> None:
    if call.manifest_key is None:
        report["notes"].append("direct mode is off for this call: the files an earlier compile read were not recorded")
    candidates = [r for r in records if r.result_key != manifests.DISCOVER_FIRST]  # they name no entry
    if earlier is not None:
        own = journal.manifest_record(earlier)
        if own is not None and all(r.result_key != own.result_key for r in records):
            candidates.append(own)
    closest, file_differences = _closest(engine, call, candidates)
    differences: list[Difference] = []
    if earlier is not None:
        if earlier.get("direct") is not None and call.direct is not None:
            differences += _component_differences(earlier["direct"], call.direct, earlier, call)
        skip = set(earlier.get("reported") or ()) if call.result_key is None else set()
        before = [entry for entry in earlier["components"] if entry[0] not in skip]
        differences += _component_differences(before, call.key_components(), earlier, call)
    differences = _merge(differences, file_differences)
    report["differences"] = [asdict(d) for d in differences]
    report["compared_with"] = {
        "journal": earlier.get("result_key") if earlier is not None else None,
        "manifest_record": closest.result_key if closest is not None else None,
    }
    if earlier is None and closest is None:
        report["notes"].append("no earlier compile of this call was recorded")
    elif not differences and report["status"] == "miss":
        report["notes"].append("nothing recorded differs: the entry is no longer in the cache (evicted or cleared)")


def _closest(engine: Engine, call: Call, records: list[ManifestRecord]) -> tuple[ManifestRecord | None, list[Difference]]:
    """The record with the fewest mismatches now, and those mismatches."""
    invocation = call.invocation
    assert invocation is not None and call.bases is not None
    best: tuple[ManifestRecord | None, list[Difference]] = (None, [])
    for record in records:
        found = [_file_difference(m, call) for m in manifests.mismatches(engine, record, invocation.env, call.bases)]
        if best[0] is None or len(found) < len(best[1]):
            best = (record, found)
    return best


def _file_difference(mismatch: manifests.Mismatch, call: Call) -> Difference:
    if mismatch.kind == "env":
        return _env_difference(mismatch.subject, mismatch.before, mismatch.after, None)
    if mismatch.kind == "bases":
        return Difference("base-directories", "PYCACHE_BASEDIRS",
                          f"the earlier compile was made for base directories {mismatch.before or 'this call does not have'}",
                          before=mismatch.before, after=mismatch.after)
    shown = _user_path(mismatch.subject, call)
    if mismatch.kind == "appeared":
        return Difference("file-appeared", shown, f"`{shown}` now exists: the earlier compile relied on its absence")
    if mismatch.kind == "gone":
        return Difference("file-gone", shown, f"`{shown}` is gone", before=mismatch.before)
    return Difference("file-changed", shown, f"`{shown}` changed (digest {_short(mismatch.before)} → {_short(mismatch.after)})",
                      before=mismatch.before, after=mismatch.after)


def _component_differences(before_entries: list, now: Iterable[KeyComponent], earlier: dict, call: Call) -> Iterator[Difference]:
    before = {entry[0]: entry for entry in before_entries}
    current = {c.name: c for c in now}
    for name in [*current, *(n for n in before if n not in current)]:
        then = before.get(name)
        component = current.get(name)
        if then is not None and component is not None and journal.unchanged(then, component.value):
            continue
        old = then[2] if then is not None else _ABSENT
        new = journal.comparable(component.value) if component is not None else _ABSENT
        yield from _describe(name, old, new, earlier, call)


def _describe(name: str, old, new, earlier: dict, call: Call) -> Iterator[Difference]:
    if name == "compiler":
        now_path = str(call.invocation.compiler) if call.invocation is not None else ""
        then_path = earlier.get("compiler") or now_path
        if then_path != now_path:
            message = f"compiler changed: `{then_path}` → `{now_path}`"
        else:
            message = f"compiler `{now_path}` changed (fingerprint {_short(old)} → {_short(new)})"
        yield Difference("compiler-changed", now_path, message, "compiler", _text(old), _text(new))
    elif name.startswith("env:"):
        yield _env_difference(name[4:], _text(old), _text(new), name)
    elif isinstance(old, list) and isinstance(new, list):
        yield from _argument_differences(name, old, new)
    elif old is _ABSENT:
        yield Difference("component-added", name, f"`{name}` added: `{_text(new)}`", name, after=_text(new))
    elif new is _ABSENT:
        yield Difference("component-removed", name, f"`{name}` removed (was `{_text(old)}`)", name, before=_text(old))
    elif _is_digest(old) and _is_digest(new):
        yield Difference("component-changed", name, f"`{name}` changed (digest {_short(old)} → {_short(new)})", name, old, new)
    else:
        yield Difference("component-changed", name, f"`{name}`: `{_text(old)}` → `{_text(new)}`", name, _text(old), _text(new))


def _argument_differences(name: str, old: list[str], new: list[str]) -> Iterator[Difference]:
    """Argument lists compared item by item: a replaced argument reads as
    ``-DFOO=1`` → ``-DFOO=2``."""
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=old, b=new, autojunk=False).get_opcodes():
        if op == "equal":
            continue
        if op == "replace" and i2 - i1 == j2 - j1:
            for before, after in zip(old[i1:i2], new[j1:j2]):
                yield Difference("argument-changed", after, f"`{before}` → `{after}`", name, before, after)
            continue
        for before in old[i1:i2]:
            yield Difference("argument-removed", before, f"`{before}` removed", name, before=before)
        for after in new[j1:j2]:
            yield Difference("argument-added", after, f"`{after}` added", name, after=after)


def _env_difference(variable: str, before: str | None, after: str | None, component: str | None) -> Difference:
    if before is None:
        message = f"`{variable}` set to `{after}` (was unset)"
    elif after is None:
        message = f"`{variable}` unset (was `{before}`)"
    else:
        message = f"`{variable}` changed: `{before}` → `{after}`"
    return Difference("env-changed", variable, message, component, before, after)


def _merge(components: list[Difference], files: list[Difference]) -> list[Difference]:
    """One item per change, named the way a user knows it: arguments, the
    compiler, variables and files first; a component that is the digest of
    a file already named is left out; other digests last."""
    file_digests = {(d.before, d.after) for d in files if d.kind == "file-changed"}
    seen: set[tuple[str, str]] = set()
    named: list[Difference] = []
    derived: list[Difference] = []
    for difference in [*components, *files]:
        if difference.kind == "component-changed" and (difference.before, difference.after) in file_digests:
            continue
        identity = (difference.kind, difference.subject)
        if identity in seen:
            continue
        seen.add(identity)
        digest_only = difference.kind == "component-changed" and _is_digest(difference.before) and _is_digest(difference.after)
        (derived if digest_only else named).append(difference)
    order = ("compiler-changed", "argument-changed", "argument-removed", "argument-added", "env-changed",
             "file-changed", "file-gone", "file-appeared")
    named.sort(key=lambda d: order.index(d.kind) if d.kind in order else len(order))
    return named + derived


# --- report --------------------------------------------------------------------


def _blank(request: CompileRequest) -> dict:
    """Every field of the report, so that machines can rely on each being there."""
    return {
        "schema_version": SCHEMA_VERSION,
        "command": list(request.argv),
        "status": "",
        "mode": None,
        "family": None,
        "compiler": None,
        "stage": None,
        "reason": "",
        "detail": "",
        "key": None,
        "manifest_key": None,
        "direct_components": None,
        "components": [],
        "ignored_arguments": [],
        "compared_with": None,
        "differences": [],
        "notes": [],
    }


def _stop(report: dict, status: str, reason: str, detail: str, *, stage: str | None = None) -> dict:
    report.update(status=status, reason=reason, detail=detail, stage=stage)
    return report


def _stopped_by(report: dict, outcome, stage: str) -> dict:
    """A stage's answer that ends the call, as the compile counts it."""
    if isinstance(outcome, NotCompilation):
        return _stop(report, "not-compilation", outcome.reason, outcome.detail, stage=stage)
    if isinstance(outcome, NotCacheable):
        return _stop(report, "not-cacheable", outcome.reason, outcome.detail, stage=stage)
    return _stop(report, "not-cacheable", "unparsed", f"the plugin gave no answer at {stage}", stage=stage)


def _shown(components: Iterable[KeyComponent]) -> list[dict]:
    return [{"name": c.name, "value": describe_value(c.value)} for c in components]


def _user_path(path: str, call: Call) -> str:
    """A path as the user names it: relative to the call's directory when inside it."""
    cwd = call.request.cwd.rstrip(os.sep) + os.sep
    return path.removeprefix(cwd)


def _text(value) -> str | None:
    if value is _ABSENT:
        return None
    return " ".join(value) if isinstance(value, list) else str(value)


def _is_digest(value) -> bool:
    return isinstance(value, str) and _DIGEST.fullmatch(value) is not None


def _short(value) -> str:
    text = _text(value) or "none"
    return text[:12] if _is_digest(text) else text
