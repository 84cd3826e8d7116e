"""The ``pycache`` subcommands (typer + rich). Never on the compile path.

`pycache_core.client.main` imports this module only when the first argument
is a subcommand; compiles never pay for typer or rich.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from typing import Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from .. import __version__
from ..config import SETTINGS, Config
from ..errors import PycacheError
from . import exitcodes

app = typer.Typer(
    name="pycache",
    help="A compilation cache for C/C++, Rust and CUDA. Wrap a compile: pycache gcc -c a.c",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
server_app = typer.Typer(help="The background server that serves compiles.", no_args_is_help=True)
cache_app = typer.Typer(help="Manage the local cache directory.", no_args_is_help=True)
app.add_typer(server_app, name="server")
app.add_typer(cache_app, name="cache")

console = Console()
err_console = Console(stderr=True)


def run(args: list[str]) -> int:
    try:
        # Without standalone mode, click returns the code of a raised Exit.
        result = app(args=args, prog_name="pycache", standalone_mode=False)
        if isinstance(result, int):
            return result
    except typer.Exit as done:
        return done.exit_code
    except PycacheError as exc:
        err_console.print(f"[red]pycache: {exc}[/red]")
        return exitcodes.for_error(exc)
    except (typer.Abort, KeyboardInterrupt):
        return exitcodes.INTERRUPTED
    except Exception as exc:  # click usage errors and the like
        import click

        if isinstance(exc, click.exceptions.ClickException):
            exc.show()
            return exitcodes.USAGE
        raise
    return 0


@app.command()
def version() -> None:
    """Print pycache's version."""
    console.print(f"pycache {__version__}")


# --- stats ---------------------------------------------------------------


@app.command()
def stats(
    as_json: bool = typer.Option(False, "--json", help="machine-readable output"),
    zero: bool = typer.Option(False, "--zero", help="reset every counter to zero"),
) -> None:
    """Hits, misses, not-cacheable calls by reason, errors, time saved."""
    from ..connection import server_paths
    from ..stats import StatsFile, absorb_client_faults

    config = Config()
    stats_file = StatsFile(config.cache_dir)
    _control("flush-stats")  # a running server holds the latest counts in memory
    try:
        absorb_client_faults(server_paths(config.environ)[2], stats_file)
    except OSError:
        pass
    if zero:
        stats_file.zero()
        if not as_json:
            console.print("statistics zeroed")
            return
    data = stats_file.read()
    data["cache_dir"] = str(config.cache_dir)
    if as_json:
        sys.stdout.write(json.dumps(data, indent=2, sort_keys=True) + "\n")
        return
    _print_stats(data)


def _print_stats(data: dict) -> None:
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
        ("errors", "errors"),
    ]
    for label, key in rows:
        table.add_row(label, _num(totals.get(key, 0)), *(_num(data["families"][f].get(key, 0)) for f in families))
    table.add_row("time saved", f"{totals.get('seconds_saved', 0):.1f} s",
                  *(f"{data['families'][f].get('seconds_saved', 0):.1f} s" for f in families))
    table.add_row("bytes read", _size(totals.get("bytes_read", 0)), *(_size(data["families"][f].get("bytes_read", 0)) for f in families))
    table.add_row("bytes written", _size(totals.get("bytes_written", 0)),
                  *(_size(data["families"][f].get("bytes_written", 0)) for f in families))
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
            errors.add_row(kind, _num(info.get("count", 0)), str(info.get("last", "")))
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
        return _size(value)
    if "seconds" in counter:
        return f"{value:.3f} s"
    return _num(value)


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.2f}"


def _size(value: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return str(value)


# --- config and plugins --------------------------------------------------


@app.command("config")
def show_config(as_json: bool = typer.Option(False, "--json", help="machine-readable output")) -> None:
    """The effective configuration and where each value came from."""
    config = Config()
    settings = config.all()
    if as_json:
        payload = {s.name: {"value": s.value, "origin": s.origin} for s in settings}
        sys.stdout.write(json.dumps(payload, indent=2) + "\n")
        return
    table = Table(title=f"pycache configuration (file: {config.file})")
    table.add_column("variable")
    table.add_column("value", overflow="fold")
    table.add_column("from")
    table.add_column("meaning")
    for s in settings:
        table.add_row(s.name, "" if s.value is None else s.value, s.origin, SETTINGS[s.name][1])
    console.print(table)


@app.command()
def plugins(as_json: bool = typer.Option(False, "--json", help="machine-readable output")) -> None:
    """Installed plugins, their versions, the compilers they claim, load errors;
    and the libraries plugins build on."""
    from ..api import API_VERSION
    from ..plugins import build_host, installed_libraries

    host = build_host()
    libraries = installed_libraries()
    if as_json:
        payload = {
            "api_version": API_VERSION,
            "plugins": [
                {
                    "name": p.name,
                    "distribution": p.distribution,
                    "version": p.version,
                    "module": p.module,
                    "families": [
                        {"name": f.name, "executables": list(f.executables), "precedence": f.precedence,
                         "cache_version": f.cache_version, "api_version": f.api_version}
                        for f in p.families
                    ],
                    "error": p.error,
                }
                for p in host.plugins
            ],
            "load_errors": [{"plugin": e.plugin, "distribution": e.distribution, "message": e.message} for e in host.load_errors],
            "storage_backends": [{"name": t.name, "tier": t.tier} for t in host.storage_types],
            "libraries": [{"distribution": lib.distribution, "version": lib.version, "summary": lib.summary} for lib in libraries],
        }
        sys.stdout.write(json.dumps(payload, indent=2) + "\n")
        return
    table = Table(title=f"pycache plugins (plugin API version {API_VERSION})")
    table.add_column("plugin")
    table.add_column("distribution")
    table.add_column("version")
    table.add_column("compilers", overflow="fold")
    table.add_column("status", overflow="fold")
    for p in host.plugins:
        compilers = "; ".join(f"{f.name} (API {f.api_version}, precedence {f.precedence})" for f in p.families) or "-"
        table.add_row(p.name, p.distribution or "-", p.version or "-", compilers, f"[red]{p.error}[/red]" if p.error else "loaded")
    console.print(table)
    console.print("storage backends: " + ", ".join(f"{t.name} (tier {t.tier})" for t in host.storage_types))
    if libraries:
        console.print("libraries: " + ", ".join(f"{lib.distribution} {lib.version}" for lib in libraries))
    for error in host.load_errors:
        err_console.print(f"[red]{error.plugin}: {error.message}[/red]")
        if error.traceback:
            err_console.print(error.traceback, markup=False, highlight=False)


# --- explain -------------------------------------------------------------


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def explain(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="machine-readable output (fields: README, 'pycache explain')"),
) -> None:
    """What the key of a call is made of, whether it would hit, and what changed.

    Usage: pycache explain -- gcc -c a.c -o a.o
    """
    from ..pipeline import CompileRequest, Engine

    command = [a for a in ctx.args]
    if command and command[0] == "--":
        command = command[1:]
    if not command:
        err_console.print("usage: pycache explain -- COMPILER ARGS...")
        raise typer.Exit(exitcodes.USAGE)
    engine = Engine(Config())
    try:
        report = engine.explain(
            CompileRequest(argv=tuple(command), cwd=os.getcwd(), env=dict(os.environ),
                           client_executable=os.path.realpath(sys.argv[0]))
        )
    finally:
        engine.store.close()
    failed = report["status"] in ("error", "not-found")
    if as_json:
        sys.stdout.write(json.dumps(report, indent=2) + "\n")
    else:
        _print_explain(report)
    if failed:
        raise typer.Exit(exitcodes.FAILURE)


_EXPLAIN_TITLES = {
    "hit": "HIT", "miss": "MISS", "not-cacheable": "NOT CACHEABLE", "not-compilation": "NOT A COMPILATION",
    "unsupported": "UNSUPPORTED COMPILER", "not-found": "COMPILER NOT FOUND", "error": "ERROR",
}
_EXPLAIN_MODES = {
    "direct": "direct mode: a manifest record of an earlier compile holds",
    "preprocessor": "key from the discovered dependencies",
    "deferred": "key completed by the compile's own dependency list",
}


def _quoted(message: str):
    """A message with its `quoted` parts highlighted, never read as markup."""
    from rich.text import Text

    text = Text()
    for i, part in enumerate(message.split("`")):
        text.append(part, style="bold cyan" if i % 2 else "")
    return text


def _print_explain(report: dict) -> None:
    status = report["status"]
    title = _EXPLAIN_TITLES.get(status, status.upper())
    head = " ".join(str(x) for x in (report["family"], report["compiler"] or report["command"][0]) if x)
    mode = _EXPLAIN_MODES.get(report["mode"] or "", "")
    style = {"hit": "green", "miss": "yellow", "error": "red", "not-found": "red"}.get(status, "magenta")
    console.print(f"[bold {style}]{title}[/] " + escape(head) + (f" ({escape(mode)})" if mode else ""), soft_wrap=True)
    if status not in ("hit", "miss"):
        where = f" at {report['stage']}" if report["stage"] else ""
        reason = f"{report['reason']}{where}: " if report["reason"] else ""
        target = err_console if status in ("error", "not-found") else console
        target.print(_quoted(f"{reason}{report['detail']}"), soft_wrap=True)
        return
    if report["differences"]:
        console.print("[bold]what changed[/] since the last compile stored for this call:")
        for difference in report["differences"]:
            console.print(_quoted(f"  • {difference['message']}"), soft_wrap=True)
    for note in report["notes"]:
        console.print(_quoted(f"note: {note}"), soft_wrap=True)
    if report["key"]:
        console.print(f"key: {report['key']}", soft_wrap=True, highlight=False)
    for title, components in (("direct-mode components", report["direct_components"]), ("key components", report["components"])):
        if components:
            table = Table(title=title)
            table.add_column("component", overflow="fold")
            table.add_column("value", overflow="fold")
            for component in components:
                table.add_row(escape(component["name"]), escape(component["value"]))
            console.print(table)
    if report["ignored_arguments"]:
        console.print("arguments not in the key: " + escape(" ".join(report["ignored_arguments"])), soft_wrap=True)


# --- server ---------------------------------------------------------------


def _control(kind: str, timeout: float = 5.0) -> dict | None:
    """The server's answer to a control request, or None when none runs."""
    from ..connection import control

    out = control(os.environ, kind, timeout)
    if out is None:
        return None
    return json.loads(out) if out[:1] in (b"{", b"[") else {"answer": out.decode()}


@server_app.command("start")
def server_start(foreground: bool = typer.Option(False, "--foreground", help="run here, logging to the terminal")) -> None:
    """Start the server (in the background unless --foreground)."""
    from ..connection import server_paths, start_server

    if foreground:
        from ..server import run_server

        raise typer.Exit(run_server(foreground=True))
    sock_path, lock_path, _ = server_paths(os.environ)
    if _control("ping") is not None:
        console.print(f"server already running on {sock_path}")
        return
    start_server(os.environ, sock_path, lock_path)
    status = _control("status") or {}
    console.print(f"server started: pid {status.get('pid')}, socket {sock_path}")


@server_app.command("status")
def server_status(as_json: bool = typer.Option(False, "--json")) -> None:
    """Whether a server runs for this configuration, and what it is doing."""
    status = _control("status")
    if status is None:
        if as_json:
            sys.stdout.write(json.dumps({"running": False}) + "\n")
        else:
            console.print("no server running")
        raise typer.Exit(exitcodes.NOT_RUNNING)
    status["running"] = True
    if as_json:
        sys.stdout.write(json.dumps(status, indent=2) + "\n")
        return
    for key, value in status.items():
        console.print(f"{key}: {value}")


@server_app.command("stop")
def server_stop() -> None:
    """Stop the server after the work in flight and pending uploads finish."""
    status = _control("status")
    if status is None:
        console.print("no server running")
        return
    pending = int(status.get("uploads_pending", 0))
    if status.get("in_flight"):
        console.print(f"waiting for {status['in_flight']} compile(s) in flight")
    result: dict = {}

    def stop() -> None:
        result.update(_control("stop", timeout=600.0) or {})

    worker = threading.Thread(target=stop)
    worker.start()
    if pending:
        from rich.progress import Progress

        with Progress(console=console) as progress:
            task = progress.add_task("flushing uploads", total=pending)
            while worker.is_alive():
                now = _control("status", timeout=1.0)
                left = int(now.get("uploads_pending", 0)) if now else 0
                progress.update(task, completed=pending - left)
                time.sleep(0.1)
            progress.update(task, completed=pending)
    worker.join()
    console.print(f"server stopped after {result.get('requests_served', '?')} requests"
                  + (f"; {pending} pending upload(s) flushed" if pending else ""))


# --- doctor ---------------------------------------------------------------


@app.command()
def doctor() -> None:
    """Check compilers, plugins, storage round trips and credentials."""
    from ..plugins import build_host

    try:
        from ..doctor import run_doctor
    except ImportError as exc:
        err_console.print(f"doctor is not available: {exc}")
        raise typer.Exit(exitcodes.FAILURE) from exc
    raise typer.Exit(run_doctor(Config(), build_host(), console))


# --- cache -----------------------------------------------------------------


def _local_backend():
    from ..storage.local import LocalDiskBackend

    config = Config()
    return LocalDiskBackend(config.cache_dir, config.cache_size)


@cache_app.command("size")
def cache_size() -> None:
    """Bytes and entries in the local cache, against the limit."""
    backend = _local_backend()
    total, count = backend.size()
    console.print(f"{_size(total)} in {count} files (limit {_size(backend.max_size)}) in {backend.store}")


@cache_app.command("trim")
def cache_trim(
    size: Optional[str] = typer.Option(None, "--size", help="trim down to this size (default: 90% of the limit)"),
) -> None:
    """Delete least recently used entries until the cache fits."""
    from ..config import parse_size

    backend = _local_backend()
    removed_bytes, removed = backend.trim(parse_size(size) if size else None)
    console.print(f"removed {removed} files ({_size(removed_bytes)})")


@cache_app.command("clear")
def cache_clear() -> None:
    """Delete every entry of the local cache (statistics are kept)."""
    backend = _local_backend()
    removed_bytes, removed = backend.clear()
    console.print(f"removed {removed} files ({_size(removed_bytes)})")
