"""``pycache explain``: what the key of a call is made of, whether it would
hit, and for a miss which components differ from the last miss at the same
call site. Built on the compile's own stages; it counts nothing and writes
nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..api import Dependencies, NotCacheable, ParsedInvocation
from ..keys import describe_value, fingerprint_value
from . import journal, manifests, stages
from .call import Call, CompileRequest, NoCache

if TYPE_CHECKING:
    from .engine import Engine


def explain(engine: Engine, request: CompileRequest) -> dict:
    call = Call(request=request)
    stages.resolve(engine, call)
    if call.compiler is None:
        return {"status": "not-found", "detail": f"{request.argv[0]}: not found on PATH"}
    if call.family is None:
        return {"status": "unsupported", "detail": f"no plugin claims {call.compiler}"}
    family = call.family
    try:
        parsed = stages.parse(engine, call)
        if not isinstance(parsed, ParsedInvocation):
            return {"status": type(parsed).__name__ if parsed else "unparsed", "family": family.name,
                    "reason": getattr(parsed, "reason", ""), "detail": getattr(parsed, "detail", "")}
        with stages.opened(engine, call):
            return _explain_parsed(engine, call)
    except NoCache as why:
        return {"status": "error", "family": family.name, "reason": why.kind, "detail": str(why)}


def _explain_parsed(engine: Engine, call: Call) -> dict:
    assert call.family is not None and call.parsed is not None
    stop = stages.direct(engine, call)
    if isinstance(stop, NotCacheable):
        return {"status": "not-cacheable", "family": call.family.name, "reason": stop.reason, "detail": stop.detail}
    direct_hit = manifests.match(engine, call) if call.manifest_key is not None else None
    deps = stages.dependencies(engine, call)
    if not isinstance(deps, Dependencies):
        return {"status": "not-cacheable", "family": call.family.name, "reason": getattr(deps, "reason", ""),
                "detail": getattr(deps, "detail", "")}
    report: dict = {
        "family": call.family.name,
        "direct_hit": direct_hit is not None,
        "direct_components": [[c.name, describe_value(c.value)] for c in call.direct] if call.direct is not None else None,
        "ignored_arguments": list(call.parsed.ignored_arguments),
        "differences": [],
    }
    if call.result_key is None:
        report.update(
            status="hit" if direct_hit else "miss",
            key=direct_hit or "",
            components=[[c.name, describe_value(c.value)] for c in call.core + tuple(deps.components)],
            detail="the rest of the key comes from the compile's own dependency list",
        )
        return report
    components = call.key_components()
    found = engine.store.get(call.result_key)
    report.update(
        status="hit" if found else "miss",
        key=call.result_key,
        components=[[c.name, describe_value(c.value)] for c in components],
    )
    if not found:
        earlier = journal.read(engine, call)
        if earlier is not None:
            before = {name: (fp, text) for name, fp, text in earlier["components"]}
            now = {c.name: (fingerprint_value(c.value), describe_value(c.value)) for c in components}
            for name in sorted(set(before) | set(now)):
                if before.get(name, (None,))[0] != now.get(name, (None,))[0]:
                    report["differences"].append(
                        [name, before.get(name, (None, "<absent>"))[1], now.get(name, (None, "<absent>"))[1]]
                    )
            report["compared_with"] = earlier["result_key"]
    return report
