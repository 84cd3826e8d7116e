"""How the CLI writes numbers for people: sizes, durations, moments, counts."""

from __future__ import annotations

import time


def size(value: float) -> str:
    """Bytes in binary units: ``512 B``, ``1.5 KiB``, ``30.2 MiB``."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(value) < 1024 or unit == "TiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def count(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.2f}"


def duration(seconds: float) -> str:
    """``0.25 s``, ``12.3 s``, ``4 min 05 s``, ``2 h 03 min``, ``3 d 4 h``."""
    if seconds < 60:
        return f"{seconds:.2f} s" if seconds < 1 else f"{seconds:.1f} s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes:02d} min"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h"


def moment(epoch: float, now: float | None = None) -> str:
    """A past moment as local time and how long ago: ``2026-12-01 14:03 (3 h 05 min ago)``."""
    now = time.time() if now is None else now
    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(epoch))
    ago = now - epoch
    return f"{when} ({duration(ago)} ago)" if ago >= 0 else when


def percent(part: float, whole: float) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "-"
