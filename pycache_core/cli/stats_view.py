"""``pycache stats`` for people: the counters, the calls not cached and why,
errors, and the storage tiers."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from ..config import Config
from ..stats import StatsFile
from . import format as fmt


def gather(config: Config, stats_file: StatsFile) -> dict[str, Any]:
    """What ``stats --json`` prints and `show` renders."""
    data = stats_file.read()
    data["cache_dir"] = str(config.cache_dir)
    return data


def show(console: Console, data: dict) -> None:
    totals = data["totals"]
    families = sorted(data["families"])
    table = Table(title=f"pycache statistics ({data['cache_dir']})")
    table.add_column("counter")
    table.add_column("total", justify="right")
    for family in families:
        table.add_column(family, justify="right")
    rows = [
        ("requests", "requests"),
        ("hits", "hits"),
        ("  direct", "direct_hits"),
        ("  preprocessor", "preprocessor_hits"),
        ("misses", "misses"),
        ("not cacheable", "not_cacheable"),
        ("not a compilation", "not_compilation"),
        ("compile failed", "compile_failed"),
        ("unsupported compiler", "unsupported"),
        ("cancelled (build interrupted)", "cancelled"),
        ("errors", "errors"),
    ]
    for label, key in rows:
        table.add_row(label, fmt.count(totals.get(key, 0)), *(fmt.count(data["families"][f].get(key, 0)) for f in families))
    table.add_row("time saved", f"{totals.get('seconds_saved', 0):.1f} s",
                  *(f"{data['families'][f].get('seconds_saved', 0):.1f} s" for f in families))
    table.add_row("bytes read", fmt.size(totals.get("bytes_read", 0)), *(fmt.size(data["families"][f].get("bytes_read", 0)) for f in families))
    table.add_row("bytes written", fmt.size(totals.get("bytes_written", 0)),
                  *(fmt.size(data["families"][f].get("bytes_written", 0)) for f in families))
    console.print(table)
    cacheable = totals.get("hits", 0) + totals.get("misses", 0)
    if cacheable:
        console.print(f"hit rate: {100 * totals.get('hits', 0) / cacheable:.1f}% of {int(cacheable)} cacheable calls")
    for title, key in (("not cacheable", "not_cacheable_reasons"), ("not a compilation", "not_compilation_reasons")):
        if data[key]:
            console.print(f"{title}: " + ", ".join(f"{r} {n}" for r, n in sorted(data[key].items())))
    if data["errors"]:
        errors = Table(title="errors")
        errors.add_column("kind")
        errors.add_column("count", justify="right")
        errors.add_column("last message", overflow="fold")
        for kind, info in sorted(data["errors"].items()):
            errors.add_row(kind, fmt.count(info.get("count", 0)), str(info.get("last", "")))
        console.print(errors)
    if data.get("tiers"):
        tiers = Table(title="storage tiers")
        tiers.add_column("counter")
        names = sorted(data["tiers"])
        for name in names:
            tiers.add_column(name, justify="right", overflow="fold")
        counters = sorted({k for t in data["tiers"].values() for k in t if k != "last_error"})
        for counter in counters:
            tiers.add_row(counter, *(_tier_value(counter, data["tiers"][n].get(counter, "")) for n in names))
        console.print(tiers)
        for name in names:
            if data["tiers"][name].get("last_error"):
                console.print(f"last error of tier {name}: {data['tiers'][name]['last_error']}", markup=False)


def _tier_value(counter: str, value) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if counter.startswith("bytes"):
        return fmt.size(value)
    if "seconds" in counter:
        return f"{value:.3f} s"
    return fmt.count(value)


