"""``pycache stats`` for people: where every call went, why calls were not
cached, errors, the local cache against its limit, and the storage tiers --
in words, not counter names."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from ..config import Config
from ..errors import ConfigError
from ..stats import OUTCOMES, SCHEMA, StatsFile
from . import format as fmt

#: Where a call can end, in the order a reader expects; every request is in
#: exactly one of them (`stats.OUTCOMES`), hits split by how they were found.
CALL_ROWS = (
    ("requests", "requests"),
    ("hits", "hits"),
    ("direct_hits", "  direct (manifest)"),
    ("preprocessor_hits", "  after discovering dependencies"),
    ("misses", "misses (compiled and stored)"),
    ("not_cacheable", "not cacheable (run as is)"),
    ("not_compilation", "not a compilation"),
    ("compile_failed", "compile failed"),
    ("unsupported", "unsupported compiler"),
    ("not_found", "compiler not found"),
    ("cancelled", "cancelled (build interrupted)"),
    ("call_errors", "errors (run uncached)"),
)
MORE_ROWS = (
    ("seconds_saved", "time saved", lambda v: fmt.duration(v)),
    ("seconds_compiling", "time compiling misses", lambda v: fmt.duration(v)),
    ("bytes_read", "read from storage", fmt.size),
    ("bytes_written", "written to storage", fmt.size),
)
#: Storage tiers' counters, as people say them (`storage.tiers.TierCounters`).
TIER_LABELS = {
    "hits_served": "calls served from here",
    "hits": "lookups found",
    "misses": "lookups not found",
    "lookups_skipped": "lookups skipped (tier suspended)",
    "bytes_read": "read",
    "read_seconds": "time reading",
    "writes": "writes",
    "bytes_written": "written",
    "write_seconds": "time writing",
    "uploads_queued": "uploads queued",
    "uploads_done": "uploads done",
    "uploads_failed": "uploads failed",
    "uploads_dropped": "uploads dropped (queue full)",
    "uploads_pending": "uploads pending",
    "write_backs_queued": "copies from slower tiers queued",
    "write_backs_done": "copies from slower tiers done",
    "write_backs_dropped": "copies from slower tiers dropped",
    "errors": "errors",
    "suspensions": "times suspended",
    "suspended_seconds": "suspended for",
    "shared": "kind",
    "writable": "writable",
    "last_error_time": "last error",
}
TIER_NOTE = (
    "Tier lookups are not calls: a call in direct mode looks up its manifest, then its entry; one that "
    "discovers its dependencies looks the entry up again under the full key; a miss is looked up in every "
    "tier. 'calls served from here' counts the calls whose entry came from that tier."
)


def gather(config: Config, stats_file: StatsFile) -> dict[str, Any]:
    """What ``stats --json`` prints and `show` renders: the stored counters
    plus the schema, the local cache's use and the hit rate."""
    data = stats_file.read()
    data["schema_version"] = SCHEMA
    data["cache_dir"] = str(config.cache_dir)
    data["local_cache"] = _local_cache(config)
    totals = data["totals"]
    cacheable = totals.get("hits", 0) + totals.get("misses", 0)
    data["hit_rate"] = round(totals.get("hits", 0) / cacheable, 4) if cacheable else None
    return data


def _local_cache(config: Config) -> dict[str, Any]:
    from ..storage.local import LocalDiskBackend

    try:
        limit = config.cache_size
    except ConfigError:
        limit = None  # reported as a problem; the use is still worth showing
    backend = LocalDiskBackend(config.cache_dir, limit or 0)
    usage = backend.usage()
    return {"bytes": usage["bytes"], "limit": limit, "entries": usage["entries"], "manifests": usage["manifests"]}


def show(console: Console, data: dict[str, Any]) -> None:
    def line(text: str | Text, style: str = "") -> None:
        console.print(text if isinstance(text, Text) else Text(text, style=style), soft_wrap=True, highlight=False)

    totals, families = data["totals"], data["families"]
    since = data.get("zeroed_at") or data.get("since")
    zeroed = " (when last zeroed)" if data.get("zeroed_at") else ""
    line(Text(f"pycache statistics for {data['cache_dir']}", style="bold"))
    if since:
        line(f"since {fmt.moment(since)}{zeroed}")
    cache = data["local_cache"]
    limit = cache["limit"]
    of = f" of {fmt.size(limit)} ({fmt.percent(cache['bytes'], limit)})" if limit else " (no size limit)"
    line(f"local cache: {fmt.size(cache['bytes'])}{of}, {cache['entries']} entries, {cache['manifests']} manifests")

    names = sorted(families)
    table = Table(title="calls", title_justify="left")
    table.add_column("")
    table.add_column("total", justify="right")
    for name in names:
        table.add_column(name, justify="right")
    for key, label in CALL_ROWS:
        table.add_row(label, fmt.count(totals.get(key, 0)), *(fmt.count(families[n].get(key, 0)) for n in names))
    table.add_section()
    for key, label, render in MORE_ROWS:
        table.add_row(label, render(totals.get(key, 0)), *(render(families[n].get(key, 0)) for n in names))
    console.print(table)

    cacheable = totals.get("hits", 0) + totals.get("misses", 0)
    if cacheable:
        line(f"hit rate: {fmt.percent(totals.get('hits', 0), cacheable)} of {fmt.count(cacheable)} cacheable calls "
             f"(hits and misses)", "bold")
    ended = sum(totals.get(key, 0) for key in OUTCOMES)
    if ended != totals.get("requests", 0):  # counts from before every call had one outcome
        line(f"note: {fmt.count(totals.get('requests', 0))} requests but {fmt.count(ended)} outcomes: "
             "these statistics predate this version; `pycache stats --zero` starts afresh", "yellow")

    for family, steps in sorted(data.get("steps", {}).items()):
        for step, counters in sorted(steps.items()):
            line(
                f"{family} {step} steps (within the calls above): {fmt.count(counters.get('hits', 0))} hits, "
                f"{fmt.count(counters.get('misses', 0))} misses, {fmt.count(counters.get('stored', 0))} stored"
            )

    _reasons(line, "not cacheable, by reason", data.get("not_cacheable_reasons", {}),
             data.get("not_cacheable_details", {}))
    _reasons(line, "not a compilation, by reason", data.get("not_compilation_reasons", {}), {})
    for title, key in (("unsupported compilers (no plugin claims them)", "unsupported_compilers"),
                       ("compilers not found on PATH", "not_found_compilers")):
        named = data.get(key) or {}
        if named:
            line(f"{title}: " + ", ".join(f"{n} {fmt.count(c)}" for n, c in sorted(named.items(), key=lambda i: -i[1])))
    if data["errors"]:
        errors = Table(title="errors", title_justify="left")
        errors.add_column("kind")
        errors.add_column("count", justify="right")
        errors.add_column("last message", overflow="fold")
        for kind, info in sorted(data["errors"].items()):
            errors.add_row(kind, fmt.count(info.get("count", 0)), Text(str(info.get("last", ""))))
        console.print(errors)
    if data.get("tiers"):
        _tiers(console, line, data["tiers"])


def _reasons(line, title: str, counts: dict[str, float], details: dict[str, str]) -> None:
    if not counts:
        return
    line(f"{title}:")
    for reason, number in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
        detail = details.get(reason, "")
        line(f"  {reason} {fmt.count(number)}" + (f" (last: {detail})" if detail else ""))


def _tiers(console: Console, line, tiers: dict[str, dict[str, Any]]) -> None:
    names = sorted(tiers)
    # "shared" is stored only when true: every tier has a kind all the same.
    known = [key for key in TIER_LABELS if key == "shared" or any(key in tiers[n] for n in names)]
    other = sorted({key for n in names for key in tiers[n]} - set(TIER_LABELS) - {"last_error"})
    table = Table(title="storage tiers", title_justify="left")
    table.add_column("")
    for name in names:
        table.add_column(name, justify="right")
    for key in known + other:
        label = TIER_LABELS.get(key, key.replace("_", " "))
        table.add_row(label, *(_tier_value(key, tiers[n].get(key)) for n in names))
    console.print(table)
    line(TIER_NOTE, "dim")
    for name in names:
        if tiers[name].get("last_error"):
            line(f"last error of tier {name}: {tiers[name]['last_error']}")


def _tier_value(key: str, value: Any) -> str:
    if key == "shared":
        return "shared" if value else "local"
    if value is None or value == "":
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if key == "last_error_time":
        return fmt.moment(value) if value else "-"
    if not isinstance(value, (int, float)):
        return str(value)
    if key.startswith("bytes"):
        return fmt.size(value)
    if "seconds" in key:
        return fmt.duration(value)
    return fmt.count(value)
