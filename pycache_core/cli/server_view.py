"""``pycache server status`` and ``stop --all`` for people and for machines."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.console import Console
from rich.text import Text

from .. import servers
from ..config import Config
from ..connection import read_unavailable, server_fingerprint, server_paths
from . import format as fmt


def status_report(config: Config, status: dict | None) -> dict[str, Any]:
    """One object, whether a server runs or not: ``running``, where its
    socket and log are, and the server's own status when it runs."""
    sock_path = server_paths(config.environ)[0]
    report: dict[str, Any] = {
        "running": status is not None,
        "fingerprint": server_fingerprint(config.environ),
        "socket": sock_path,
        "log": str(config.get("PYCACHE_LOG_FILE")),
    }
    if status is not None:
        report.update(status)
    else:
        failed = read_unavailable(config.environ)
        report["start_failed"] = None if failed is None else {"cause": failed[0], "seconds_ago": round(failed[1], 1)}
    return report


_LABELS = (
    ("pid", "pid", str),
    ("uptime_seconds", "uptime", fmt.duration),
    ("memory_rss_bytes", "memory (resident)", fmt.size),
    ("requests_served", "requests served", str),
    ("in_flight", "compiles in flight", str),
    ("compile_slots", "compile slots", str),
    ("uploads_pending", "uploads pending", str),
    ("idle_timeout", "exits when idle for", lambda s: "never" if not s else fmt.duration(s)),
    ("cache_dir", "cache directory", str),
    ("socket", "socket", str),
    ("log", "log", str),
    ("log_level", "log level", str),
)


def show(console: Console, report: dict[str, Any]) -> None:
    def line(label: str, value: str) -> None:
        console.print(Text(f"{label + ':':20} ") + Text(value), soft_wrap=True, highlight=False)

    if not report["running"]:
        console.print("no server running for this configuration", soft_wrap=True)
        line("socket", report["socket"])
        line("log", report["log"])
        failed = report.get("start_failed")
        if failed:
            line("last start failed", f"{fmt.duration(failed['seconds_ago'])} ago: {failed['cause']}")
        return
    console.print(Text("server running", style="bold green"), soft_wrap=True)
    for key, label, render in _LABELS:
        if key in report and report[key] not in (None, ""):
            line(label, render(report[key]))


def every_status(environ: Mapping[str, str]) -> list[dict[str, Any]]:
    """Every server of this user that answers, with its files."""
    found = []
    for server in servers.find(environ):
        status = server.status()
        if status is None:
            continue
        found.append({"fingerprint": server.fingerprint, "directory": str(server.directory),
                      "log": str(server.path("log")), **status})
    return found


def show_every(console: Console, found: list[dict[str, Any]]) -> None:
    if not found:
        console.print("no server running for this user", soft_wrap=True)
        return
    for status in found:
        console.print(
            Text(f"pid {status.get('pid')}: up {fmt.duration(status.get('uptime_seconds', 0))}, "
                 f"{fmt.size(status.get('memory_rss_bytes', 0))}, {status.get('requests_served', 0)} requests, "
                 f"cache {status.get('cache_dir')}, log {status.get('log')}"),
            soft_wrap=True, highlight=False,
        )


def stop_every(console: Console, environ: Mapping[str, str]) -> None:
    """Stop every server of this user, then sweep their runtime directories."""
    stopped = 0
    for server in servers.find(environ):
        answer = servers.stop(server)
        if answer is None:
            continue
        stopped += 1
        console.print(f"stopped server {server.fingerprint} after {answer.get('requests_served', '?')} requests",
                      soft_wrap=True, highlight=False)
    removed = []
    for directory in servers.runtime_dirs(environ):
        removed += servers.sweep(directory)
    console.print(f"{stopped} server(s) stopped" + (f"; {len(removed)} stale file(s) removed" if removed else ""),
                  soft_wrap=True)
