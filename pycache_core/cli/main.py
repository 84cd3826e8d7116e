"""The ``pycache`` subcommands (typer + rich). Never on the compile path.

`pycache_core.client.main` imports this module only when the first argument
is a subcommand; compiles never pay for typer or rich. `run` is the one door:
a usage mistake ends in typer's usage message (exit 2), a problem with the
setup in one ``pycache: <what>: <cause>`` line with an exit status from
`exitcodes` -- never in a traceback.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
import traceback
from typing import Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from .. import __version__
from .. import env as names
from ..config import Config
from ..errors import ConfigError, PycacheError
from . import exitcodes
from . import format as fmt

APP_HELP = """A compilation cache for C/C++, Rust and CUDA: wrap each compile, and a repeat is served from the cache.

Three ways to put pycache in front of a compiler:

  pycache wrap -- gcc -c a.c -o a.o      (explicit)

  pycache gcc -c a.c -o a.o              (launcher: CC="pycache gcc", RUSTC_WRAPPER=pycache, CMAKE_C_COMPILER_LAUNCHER=pycache)

  ln -s $(command -v pycache) ~/bin/gcc  (masquerade: a symlink named like the compiler, first on PATH)

For cargo: pycache cargo build (sets RUSTC_WRAPPER, CARGO_INCREMENTAL=0 and routes build scripts' C compiles through pycache).
"""
APP_EPILOG = (
    "Settings: pycache config. Is it working? pycache doctor, then pycache stats. "
    "Exit status: 0 ok, 1 a check failed, 2 usage, 3 invalid setting, 4 no server, 5 a file cannot be used, "
    "127 unknown command or compiler."
)

app = typer.Typer(
    name="pycache",
    help=APP_HELP,
    epilog=APP_EPILOG,
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
server_app = typer.Typer(help="The background server that serves compiles (started by the first compile).",
                         no_args_is_help=True)
cache_app = typer.Typer(help="Manage the local cache directory.", no_args_is_help=True)
app.add_typer(server_app, name="server")
app.add_typer(cache_app, name="cache")

console = Console()
err_console = Console(stderr=True)


def run(args: list[str]) -> int:
    """Run one subcommand; its exit status. Nothing escapes as a traceback."""
    try:
        app(args=args, prog_name="pycache", standalone_mode=True)
    except SystemExit as done:
        return _status(done.code)
    except ConfigError as exc:
        for problem in getattr(exc, "problems", None) or [str(exc)]:
            _error(str(problem))
        _hint("`pycache config` shows every setting, its value and where it came from")
        return exitcodes.CONFIG
    except PycacheError as exc:
        _error(str(exc))
        return exitcodes.for_error(exc)
    except KeyboardInterrupt:
        return exitcodes.INTERRUPTED
    except BrokenPipeError:  # `pycache stats | head`
        _quiet_stdout()
        return exitcodes.OK
    except OSError as exc:
        _error(_os_error(exc))
        return exitcodes.for_os_error(exc)
    except Exception as exc:  # a bug: say so in one line, the traceback on request
        _error(f"internal error: {type(exc).__name__}: {exc}")
        if (os.environ.get(names.LOG) or "").strip().lower() == "debug":
            sys.stderr.write(traceback.format_exc())
        else:
            _hint(f"run it again with {names.LOG}=debug for the traceback, and please report it")
        return exitcodes.INTERNAL
    return exitcodes.OK


def _status(code: object) -> int:
    if code is None:
        return exitcodes.OK
    if isinstance(code, int):
        return code
    sys.stderr.write(f"{code}\n")
    return exitcodes.FAILURE


def _error(line: str) -> None:
    """One ``pycache: <what>: <cause>`` line, never wrapped or cut."""
    err_console.print(Text(f"pycache: {line}", style="red"), soft_wrap=True, highlight=False)


def _hint(line: str) -> None:
    err_console.print(Text(f"hint: {line}", style="yellow"), soft_wrap=True, highlight=False)


def _os_error(exc: OSError) -> str:
    where = exc.filename if exc.filename is not None else ""
    cause = exc.strerror or str(exc)
    return f"{where}: {cause}" if where else cause


def _quiet_stdout() -> None:
    # Python would complain again when it flushes stdout at exit.
    with __import__("contextlib").suppress(OSError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())


def _print(text: str = "", **kwargs) -> None:
    """A line of human output: markup allowed, never wrapped (values stay greppable)."""
    console.print(text, soft_wrap=True, **kwargs)


def _config(*required: str) -> Config:
    """This environment's configuration, refusing to go on when one of the
    ``required`` settings is invalid (every setting when none are named)."""
    config = Config()
    config.check(only=required or None)
    return config


# --- version, wrap, cargo ---------------------------------------------------------


def _versions() -> list[str]:
    from ..plugins import build_host

    lines = [f"pycache {__version__}"]
    for plugin in build_host().plugins:
        label = plugin.distribution or plugin.module or plugin.name
        status = f" (failed to load: {plugin.error})" if plugin.error else ""
        lines.append(f"  {plugin.name}: {label} {plugin.version or '(no version)'}{status}")
    return lines


def _show_version(value: bool) -> None:
    if value:
        for line in _versions():
            _print(line, markup=False, highlight=False)
        raise typer.Exit()


@app.callback()
def _main(
    version: bool = typer.Option(False, "--version", is_eager=True, callback=_show_version,
                                 help="Print the core's and every plugin's version, then exit."),
) -> None:
    pass


@app.command()
def version() -> None:
    """Print the core's and every plugin's version."""
    _show_version(True)


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def wrap(command: list[str] = typer.Argument(..., metavar="COMPILER ARGS...", help="the compile to run, after --")) -> None:
    """Compile through the cache: the same output, stderr and exit status as the compiler.

    Examples:

      pycache wrap -- gcc -c a.c -o a.o

      pycache wrap -- nvcc -c kernel.cu -o kernel.o

    The same without wrap, the launcher form: pycache gcc -c a.c -o a.o (as in CC="pycache gcc", RUSTC_WRAPPER=pycache, CMAKE_CXX_COMPILER_LAUNCHER=pycache).

    Or masquerade: a symlink named like the compiler, pointing at pycache, first on PATH: ln -s $(command -v pycache) ~/bin/gcc
    """
    from ..client import compile_command

    raise typer.Exit(compile_command(command))


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def cargo(args: Optional[list[str]] = typer.Argument(None, metavar="CARGO ARGS...")) -> None:
    """Run cargo with every rustc call, and build scripts' C/C++ compiles, through pycache.

    Sets RUSTC_WRAPPER to pycache, CARGO_INCREMENTAL=0 (incremental builds are not cacheable), and for the cc crate CC_KNOWN_WRAPPER_CUSTOM=pycache with CC="pycache cc", CXX="pycache c++". A variable you set yourself is kept (a bare CC=gcc-12 becomes "pycache gcc-12").

    Examples:

      pycache cargo build --release

      pycache cargo test

    cargo's own help: pycache cargo help build
    """
    from .cargo import run_cargo

    raise typer.Exit(run_cargo(list(args or [])))


# --- stats ---------------------------------------------------------------


@app.command()
def stats(
    as_json: bool = typer.Option(False, "--json", help="machine-readable output (fields: README, 'pycache stats --json')"),
    zero: bool = typer.Option(False, "--zero", help="reset every counter to zero"),
) -> None:
    """Hits, misses, calls not cached and why, errors, time saved, cache size, storage tiers.

    Examples: pycache stats; pycache stats --json | jq .totals; pycache stats --zero
    """
    from ..stats import StatsFile, merge_counts
    from . import stats_view

    config = _config(names.DIR)
    stats_file = StatsFile(config.cache_dir)
    flushed = _collect_pending_counts(config, stats_file)
    if zero:
        stats_file.zero()
        if not as_json:
            _print("statistics zeroed")
            return
    data = stats_view.gather(config, stats_file)
    if flushed and flushed.get("saved") is False:
        # Counts the server could not write (a full disk): shown all the same.
        merge_counts(data, flushed["unsaved"])
        data["unsaved"] = flushed["error"]
        err_console.print(f"pycache: warning: some counts exist only in the server's memory: {flushed['error']}",
                          markup=False, highlight=False)
    if as_json:
        sys.stdout.write(json.dumps(data, indent=2, sort_keys=True) + "\n")
        return
    for problem in config.problems():
        if problem.fatal and not problem.warning:
            _error(f"{problem} -- the cache server cannot start with it")
    stats_view.show(console, data)


def _collect_pending_counts(config: Config, stats_file) -> dict | None:
    """Move in what a running server holds in memory and what clients noted
    (compiles they ran uncached) before reading the statistics. Returns the
    server's answer: with ``"saved": False`` it holds counts the stats file
    could not take (``"unsaved"``, and the ``"error"``)."""
    from ..connection import notes_dir, server_fingerprint
    from ..stats import absorb_client_faults

    flushed = _control("flush-stats")
    directory = notes_dir(config.environ)
    if directory is not None:
        absorb_client_faults(os.path.join(directory, f"s-{server_fingerprint(config.environ)}.faults"), stats_file)
    return flushed


# --- config and plugins --------------------------------------------------


@app.command("config")
def show_config(as_json: bool = typer.Option(False, "--json", help="machine-readable output")) -> None:
    """Every setting: its value, where it came from (environment, config file, default), and any problem.

    Exits with status 3 when a setting is invalid. Example: pycache config | grep PYCACHE_DIR
    """
    from . import settings_view

    config = Config(lenient=True)
    problems = config.problems()
    if as_json:
        sys.stdout.write(json.dumps(settings_view.as_json(config, problems), indent=2) + "\n")
    else:
        settings_view.show(console, config, problems)
    if any(not p.warning for p in problems):
        raise typer.Exit(exitcodes.CONFIG)


def _strict_plugins(config: Config) -> bool:
    try:
        return config.flag(names.STRICT_PLUGINS)
    except ConfigError:
        return False  # reported by `pycache config` and `doctor`


@app.command()
def plugins(as_json: bool = typer.Option(False, "--json", help="machine-readable output")) -> None:
    """Installed plugins, their versions, the compilers they claim, load errors;
    and the libraries plugins build on."""
    from ..api import API_VERSION
    from ..plugins import build_host, installed_libraries

    host = build_host(strict=_strict_plugins(Config(lenient=True)))
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
    """The server's answer to a control request, or None when none runs (or
    none can: the runtime directory is unusable)."""
    from ..connection import control

    try:
        out = control(os.environ, kind, timeout)
    except OSError:
        return None
    if out is None:
        return None
    return json.loads(out) if out[:1] in (b"{", b"[") else {"answer": out.decode()}


@server_app.command("start")
def server_start(foreground: bool = typer.Option(False, "--foreground", help="run here, logging to the terminal")) -> None:
    """Start the server (in the background unless --foreground); it also starts with the first compile."""
    from ..connection import clear_unavailable, server_paths, start_server

    config = _config()  # every setting: the server refuses to run on an invalid one
    if foreground:
        from ..server import run_server

        raise typer.Exit(run_server(foreground=True))
    sock_path, lock_path, _ = server_paths(os.environ)
    if _control("ping") is not None:
        _print(f"server already running on {sock_path}", markup=False)
        return
    clear_unavailable(os.environ)  # an explicit start is tried at once, whatever failed before
    try:
        start_server(os.environ, sock_path, lock_path, back_off=False)
    except OSError as exc:
        raise PycacheError(f"server: cannot start: {exc}") from None
    status = _control("status") or {}
    _print(f"server started: pid {status.get('pid')}, socket {sock_path}", markup=False)
    _print(f"log: {status.get('log') or '-'} (level {config.get(names.LOG)})", markup=False)


@server_app.command("status")
def server_status(
    as_json: bool = typer.Option(False, "--json", help="one JSON object (a list of them with --all)"),
    every: bool = typer.Option(False, "--all", help="every server of this user (one runs per configuration)"),
) -> None:
    """Whether a server runs for this configuration: pid, uptime, memory, requests, its log. Exit 4 when none runs."""
    from . import server_view

    if every:
        found = server_view.every_status(os.environ)
        if as_json:
            sys.stdout.write(json.dumps(found, indent=2) + "\n")
        else:
            server_view.show_every(console, found)
        return
    config = _config(names.RUNTIME_DIR)
    status = _control("status")
    report = server_view.status_report(config, status)
    if as_json:
        sys.stdout.write(json.dumps(report, indent=2) + "\n")
    else:
        server_view.show(console, report)
    if status is None:
        raise typer.Exit(exitcodes.NOT_RUNNING)


@server_app.command("stop")
def server_stop(
    every: bool = typer.Option(False, "--all", help="stop every server of this user (one runs per configuration)"),
) -> None:
    """Stop the server after the work in flight and pending uploads finish."""
    if every:
        from . import server_view

        server_view.stop_every(console, os.environ)
        return
    _config(names.RUNTIME_DIR)
    status = _control("status")
    if status is None:
        _print("no server running")
        return
    pending = int(status.get("uploads_pending", 0))
    if status.get("in_flight"):
        _print(f"waiting for {status['in_flight']} compile(s) in flight")
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
    _print(f"server stopped after {result.get('requests_served', '?')} requests"
           + (f"; {pending} pending upload(s) flushed" if pending else ""))


# --- doctor ---------------------------------------------------------------


@app.command()
def doctor() -> None:
    """Check settings, plugins, compilers, the server, storage round trips and credentials.

    Prints "all checks passed" only when every check did; exits 1 otherwise.
    """
    from ..doctor import run_doctor
    from ..plugins import build_host

    config = Config(lenient=True)
    raise typer.Exit(run_doctor(config, build_host(strict=False), console))


# --- cache -----------------------------------------------------------------


def _local_backend():
    from ..storage.local import LocalDiskBackend

    config = _config(names.DIR, names.CACHE_SIZE)
    return LocalDiskBackend(config.cache_dir, config.cache_size)


@cache_app.command("size")
def cache_size() -> None:
    """Bytes and entries in the local cache, against the limit."""
    backend = _local_backend()
    total, count = backend.size()
    limit = fmt.size(backend.max_size) if backend.max_size else "unlimited"
    _print(f"{fmt.size(total)} in {count} files (limit {limit}) in {backend.store}", markup=False)


def _trim_size(text: Optional[str]) -> Optional[int]:
    from ..config import parse_size

    if text is None:
        return None
    try:
        size = parse_size(text)
    except ConfigError as exc:
        raise typer.BadParameter(str(exc)) from None
    if size == 0:
        raise typer.BadParameter("0 means unlimited for a size; `pycache cache clear` empties the cache")
    return size


@cache_app.command("trim")
def cache_trim(
    size: Optional[str] = typer.Option(None, "--size", help="trim down to this size, e.g. 5G or 500M "
                                       "(a bare number is GiB; default: 90% of the limit)"),
) -> None:
    """Delete least recently used entries until the cache fits."""
    target = _trim_size(size)
    backend = _local_backend()
    if target is None and not backend.max_size:
        _print("the cache has no size limit (PYCACHE_CACHE_SIZE=0): nothing to trim; use --size")
        return
    removed_bytes, removed = backend.trim(target)
    _print(f"removed {removed} files ({fmt.size(removed_bytes)})")


@cache_app.command("clear")
def cache_clear() -> None:
    """Delete every entry of the local cache (statistics are kept)."""
    backend = _local_backend()
    removed_bytes, removed = backend.clear()
    _print(f"removed {removed} files ({fmt.size(removed_bytes)})")
