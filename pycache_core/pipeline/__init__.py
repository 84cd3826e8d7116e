"""The pipeline: one compile through the cache, and ``explain`` of one.

One module per job:

    engine.py      Engine: plugins, storage, digests, identities, statistics;
                   its doors `compile` and `explain`
    call.py        CompileRequest / CompileReply, the per-call state `Call`,
                   the NoCache signal and the plugin-fault `guard`
    stages.py      the stages that name a call, shared by compile and explain:
                   resolve, parse, opened, direct, dependencies
    compile.py     the compile in order: lookups, hit, miss, store
    run.py         running the real compiler for a miss
    manifests.py   direct mode: match a manifest record, record one
    restore.py     artifacts between output slots and entries, relocated texts
    accounting.py  each call's statistics and the storage tiers' changes
    journal.py     what the last miss at a call site was made of (for explain)
    explain.py     `pycache explain`, on the same stages
"""

from .call import CompileReply, CompileRequest
from .engine import Engine
from .restore import strip_colour

__all__ = ["CompileReply", "CompileRequest", "Engine", "strip_colour"]
