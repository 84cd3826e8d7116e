"""``pycache doctor``: is this machine set up to cache, and if not, why not.

Checks, in order, and prints each with rich:

0. settings -- every setting that is invalid (`Config.problems`: the
   variable, where its value came from and why), and the server: reached,
   or started when none runs, with its log's path;
1. plugins -- every loaded plugin, and each one that failed to load with its
   error (a plugin that fails is skipped by builds, so it is a problem here);
2. compilers -- for each registered family, the executables on ``PATH`` that
   it would serve;
3. storage -- for every configured tier (local disk, Redis, S3, third-party):
   what the backend says about itself (endpoint, bucket, where boto3 found
   the credentials: "env", "iam-role", "assume-role-with-web-identity", ...),
   a put / get / delete round trip on a probe key, the server's clock against
   ours, and on failure the service's own error in full, with a hint for the
   usual causes (a 403 from a policy, a missing bucket, a bucket in another
   region, an unreachable endpoint, an expired token).

The exit status is 0 when nothing failed, 1 otherwise. Warnings (no compiler
of a family on ``PATH``, a clock a little off) do not fail the run.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import env as names
from .errors import PycacheError, StorageError

OK = 0
FAILURE = 1

#: Clock differences worth a warning; S3 refuses requests beyond 15 minutes.
SKEW_WARNING = 30.0
SKEW_FAILURE = 15 * 60.0
#: Executables listed per compiler family at most.
COMPILERS_SHOWN = 8


@dataclass
class Report:
    failures: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def fail(self, text: str) -> None:
        self.failures.append(text)

    def warn(self, text: str) -> None:
        self.warnings.append(text)


def run_doctor(config: Any, host: Any, console: Any) -> int:
    """Run every check, print the findings; 0 when all passed, 1 otherwise."""
    report = Report()
    console.rule("[bold]pycache doctor")
    usable = _check_settings(config, console, report)
    _check_client(console)
    _check_plugins(host, console, report)
    _check_compilers(host, config, console, report)
    _check_server(config, usable, console, report)
    _check_storage(host, config, console, report)
    console.rule()
    for text in report.warnings:
        console.print(f"[yellow]warning:[/yellow] {_escape(text)}")
    for text in report.failures:
        console.print(f"[red]problem:[/red] {_escape(text)}")
    if report.failures:
        console.print(f"[bold red]{len(report.failures)} problem(s) found[/bold red]")
        return FAILURE
    console.print(
        "[bold green]all checks passed[/bold green]" + (f" ({len(report.warnings)} warning(s))" if report.warnings else "")
    )
    return OK


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


# --- settings and the server --------------------------------------------------------


def _check_settings(config: Any, console: Any, report: Report) -> bool:
    """Every invalid setting is a problem; True when none stops the server."""
    problems = config.problems() if hasattr(config, "problems") else []
    for problem in problems:
        text = f"setting {problem}"
        (report.warn if problem.warning else report.fail)(text)
        style = "yellow" if problem.warning else "red"
        console.print(f"[{style}]{_escape(text)}[/{style}]", soft_wrap=True)
    if not problems:
        console.print("[green]settings:[/green] all valid (pycache config lists them)")
    return not any(p.fatal and not p.warning for p in problems)


def _check_client(console: Any) -> None:
    """Which ``pycache`` command this is: the native client (a hit starts
    no interpreter) or the shell launcher (each call starts Python)."""
    import sys

    command = sys.argv[0] if sys.argv else ""
    try:
        with open(command, "rb") as f:
            native = f.read(4) == b"\x7fELF"
    except OSError:
        console.print(f"client: {_escape(command or '?')} (not a file: run as a module)", soft_wrap=True)
        return
    if native:
        console.print(f"[green]client:[/green] the native client, {_escape(command)}", soft_wrap=True)
    else:
        console.print(f"[yellow]client:[/yellow] the shell launcher, {_escape(command)}: every call starts Python "
                      "(a wheel built with a C compiler installs the native client)", soft_wrap=True)


def _check_server(config: Any, usable: bool, console: Any, report: Report) -> None:
    """Reach this configuration's server, starting it when none runs."""
    import json

    from . import connection

    environ = getattr(config, "environ", os.environ)
    if not usable:
        report.fail("server: not started: it refuses to run with the invalid settings above")
        console.print("[red]server: not started (invalid settings)[/red]")
        return
    try:
        sock_path, lock_path, _ = connection.server_paths(environ)
        answer = connection.control(environ, "status")
        started = answer is None
        if started:
            connection.clear_unavailable(environ)
            connection.start_server(environ, sock_path, lock_path, back_off=False)
            answer = connection.control(environ, "status")
        if answer is None:
            raise OSError("started, but does not answer")
    except OSError as exc:
        report.fail(f"server: cannot start: {exc} (its log: {connection.server_log_path(environ)})")
        console.print(f"[red]server: cannot start: {_escape(str(exc))}[/red]", soft_wrap=True)
        return
    status = json.loads(answer)
    how = "started" if started else "running"
    console.print(
        f"[green]server:[/green] {how}, pid {status.get('pid')}, log {_escape(str(status.get('log') or '-'))}",
        soft_wrap=True,
    )


# --- plugins -------------------------------------------------------------------


def _check_plugins(host: Any, console: Any, report: Report) -> None:
    from rich.table import Table

    table = Table(title="plugins", title_justify="left")
    for column in ("plugin", "distribution", "version", "compiler families", "status"):
        table.add_column(column, overflow="fold")
    for info in getattr(host, "plugins", []):
        families = ", ".join(f.name for f in info.families) or "-"
        status = f"[red]failed: {_escape(info.error)}[/red]" if info.error else "[green]loaded[/green]"
        table.add_row(info.name, info.distribution or "-", info.version or "-", families, status)
    console.print(table)
    shown = {info.name for info in getattr(host, "plugins", []) if info.error}
    for error in getattr(host, "load_errors", []):
        report.fail(f"plugin {error.plugin} ({error.distribution or 'no distribution'}): {error.message}")
        if error.plugin not in shown:
            console.print(f"[red]plugin {_escape(error.plugin)}: {_escape(error.message)}[/red]")
        if error.traceback:
            last = error.traceback.strip().splitlines()[-1]
            console.print(f"  [dim]{_escape(last)}[/dim]")


# --- compilers -----------------------------------------------------------------


def _path_executables(path_value: str) -> Iterable[tuple[str, Path]]:
    seen: set[str] = set()
    for directory in path_value.split(os.pathsep):
        if not directory:
            continue
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError:
            continue
        for entry in entries:
            if entry.name in seen:
                continue  # an earlier PATH entry shadows it
            try:
                if not entry.is_file() or not os.access(entry.path, os.X_OK):
                    continue
            except OSError:
                continue
            seen.add(entry.name)
            yield entry.name, Path(entry.path)


def _check_compilers(host: Any, config: Any, console: Any, report: Report) -> None:
    from rich.table import Table

    families = dict(getattr(host, "families", {}))
    table = Table(title="compilers on PATH", title_justify="left")
    table.add_column("family")
    table.add_column("executables", overflow="fold")
    path_value = getattr(config, "environ", os.environ).get("PATH", os.defpath)
    executables = list(_path_executables(path_value))
    for name, family in sorted(families.items()):
        found = [(exe, path) for exe, path in executables if family.matches(exe)]
        if not found:
            table.add_row(name, "[yellow]none found[/yellow]")
            report.warn(f"no executable of compiler family {name} on PATH")
            continue
        shown = []
        for _, path in found[:COMPILERS_SHOWN]:
            real = path.resolve()
            shown.append(f"{path}" + (f" -> {real}" if real != path else ""))
        if len(found) > COMPILERS_SHOWN:
            shown.append(f"... and {len(found) - COMPILERS_SHOWN} more")
        table.add_row(name, _escape("\n".join(shown)))
    if not families:
        report.fail("no compiler family is registered: install a plugin, e.g. pip install pycache[gcc-clang]")
    console.print(table)


# --- storage -------------------------------------------------------------------


def _check_storage(host: Any, config: Any, console: Any, report: Report) -> None:
    from .storage.tiers import open_backends

    try:
        read_only = config.flag(names.READ_ONLY)
    except PycacheError:
        read_only = False  # an invalid value is reported under settings
    kinds = list(getattr(host, "storage_types", []))
    opened = open_backends(kinds, config)
    configured = 0
    for kind in kinds:
        if not any(entry.kind is kind for entry in opened):
            console.print(f"[dim]storage {kind.name} (tier {kind.tier}): not configured[/dim]")
    for entry in opened:
        backend = entry.backend
        if backend is None:
            exc = entry.error
            console.print(f"[bold]storage {entry.name}[/bold] (tier {entry.tier}): [red]cannot be set up[/red]")
            console.print(f"  [red]{_escape(_text(exc))}[/red]")
            hint = hint_for(exc)
            if hint:
                console.print(f"  [yellow]hint:[/yellow] {_escape(hint)}")
            report.fail(f"storage {entry.name}: cannot be set up: {_text(exc)}" + (f" -- {hint}" if hint else ""))
            continue
        configured += 1
        _check_backend(entry, backend, read_only and entry.kind.shared, console, report)
        closer = getattr(backend, "close", None)
        if callable(closer):
            try:
                closer()
            except Exception:
                pass
    if not configured:
        report.fail("no storage tier is configured")


def _check_backend(entry: Any, backend: Any, read_only: bool, console: Any, report: Report) -> None:
    from rich.table import Table

    name = entry.name
    console.print(f"[bold]storage {name}[/bold] (tier {entry.tier}{', shared' if entry.kind.shared else ''})")
    info = _describe(backend)
    server_info = getattr(backend, "server_info", None)
    steps: list[tuple[str, str, str]] = []  # step, result, time
    failed: StorageError | Exception | None = None

    def step(label: str, action):
        nonlocal failed
        started = time.monotonic()
        try:
            result = action()
        except Exception as exc:
            steps.append((label, "[red]failed[/red]", _ms(started)))
            failed = exc
            return None, False
        steps.append((label, "[green]ok[/green]", _ms(started)))
        return result, True

    if callable(server_info):
        details, ok = step("server info", server_info)
        if ok:
            info.update({f"server {k}": v for k, v in details.items()})
    probe = f"doctor/probe/{uuid.uuid4().hex}"
    location = getattr(backend, "location", None)
    info["probe key"] = location(probe) if callable(location) else probe
    payload = f"pycache doctor probe {time.time()} ".encode() + os.urandom(64)
    writable = bool(getattr(backend, "writable", True)) and not read_only
    if failed is None and writable:
        _, ok = step("put probe", lambda: backend.put(probe, payload))
        if ok:
            data, ok = step("get probe", lambda: backend.get(probe))
            if ok and data != payload:
                steps[-1] = (steps[-1][0], "[red]wrong content[/red]", steps[-1][2])
                report.fail(f"storage {name}: the probe read back differs from what was written ({len(data or b'')} bytes)")
            if ok:
                step("delete probe", lambda: backend.remove(probe))
            if failed is None:
                gone, ok = step("get after delete", lambda: backend.get(probe))
                if ok and gone is not None:
                    steps[-1] = (steps[-1][0], "[yellow]still there[/yellow]", steps[-1][2])
                    report.warn(f"storage {name}: the probe key is still readable after delete")
        elif isinstance(failed, StorageError) and failed.status is not None:
            # The service answered: tell a denied write from a denied read.
            write_failure = failed
            _, read_ok = step("get probe (can it read?)", lambda: backend.get(probe))
            if not read_ok:
                console.print(f"  [red]{_escape(_text(failed))}[/red]")
                report.fail(f"storage {name}: reading fails too: {_text(failed)}")
            failed = write_failure
    elif failed is None:
        why = "PYCACHE_READ_ONLY" if read_only else "read-only backend"
        step(f"get probe ({why}: no write tried)", lambda: backend.get(probe))

    info = {**info, **_describe(backend)}  # after requests: clock skew is known now
    table = Table(show_header=False, box=None, padding=(0, 2))
    table.add_column(style="dim")
    table.add_column(overflow="fold")
    for key, value in info.items():
        table.add_row(key, _escape(str(value)))
    for label, result, elapsed in steps:
        table.add_row(_escape(label), f"{result} [dim]{elapsed}[/dim]")
    console.print(table)

    credentials = str(info.get("credentials", ""))
    if credentials.startswith("error") or credentials == "none found":
        report.fail(f"storage {name}: credentials: {credentials}")
    _check_skew(name, info, report)
    if failed is not None:
        text = _text(failed)
        console.print(f"  [red]{_escape(text)}[/red]")
        hint = hint_for(failed, info)
        if hint:
            console.print(f"  [yellow]hint:[/yellow] {_escape(hint)}")
        report.fail(f"storage {name}: {text}" + (f" -- {hint}" if hint else ""))


def _describe(backend: Any) -> dict[str, str]:
    try:
        return {str(k): str(v) for k, v in dict(backend.describe()).items()}
    except Exception as exc:
        return {"describe": f"failed: {_text(exc)}"}


def _check_skew(name: str, info: dict[str, str], report: Report) -> None:
    text = info.get("clock skew")
    if not text:
        return
    try:
        skew = float(text.split()[0])
    except (ValueError, IndexError):
        return
    if abs(skew) >= SKEW_FAILURE:
        report.fail(
            f"storage {name}: the local clock is {skew:+.0f} s off the server's; signed requests are refused beyond 15 minutes"
        )
    elif abs(skew) >= SKEW_WARNING:
        report.warn(f"storage {name}: the local clock is {skew:+.0f} s off the server's (sync it: timedatectl / chrony)")


def _ms(started: float) -> str:
    return f"{(time.monotonic() - started) * 1000:.0f} ms"


def _text(exc: BaseException) -> str:
    if isinstance(exc, StorageError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


_HINTS = {
    "AccessDenied": "the service refused these credentials ({credentials}) for this operation: check the IAM and bucket "
    "policies (s3:GetObject, s3:PutObject, s3:DeleteObject on the bucket and prefix); for untrusted builds set "
    "PYCACHE_READ_ONLY=true; on AWS a GET of a missing key also answers 403 when s3:ListBucket is not granted",
    "AllAccessDisabled": "all access to this bucket is disabled",
    "NoSuchBucket": "the bucket does not exist at this endpoint: check PYCACHE_BUCKET (and PYCACHE_S3_ENDPOINT)",
    "PermanentRedirect": "the bucket lives in another region{region}: set PYCACHE_S3_REGION",
    "AuthorizationHeaderMalformed": "the request was signed for the wrong region{region}: set PYCACHE_S3_REGION",
    "IllegalLocationConstraintException": "the bucket lives in another region{region}: set PYCACHE_S3_REGION",
    "InvalidAccessKeyId": "the access key is unknown to the service: check the credentials ({credentials})",
    "SignatureDoesNotMatch": "the secret key does not match the access key ({credentials})",
    "ExpiredToken": "the session token has expired: refresh the credentials ({credentials}), e.g. aws sso login",
    "ExpiredTokenException": "the identity token has expired: refresh it (web identity: the token file is rotated by the CI)",
    "TokenRefreshRequired": "the session token must be refreshed: renew the credentials ({credentials})",
    "InvalidIdentityToken": "STS refused the web identity token: check AWS_WEB_IDENTITY_TOKEN_FILE and the role's trust policy",
    "InvalidToken": "the session token is malformed or unknown to the service",
    "RequestTimeTooSkewed": "the local clock is too far off the service's: sync it (timedatectl / chrony)",
    "NoCredentials": "no credentials found: set AWS keys, a profile, a role (web identity) or run on an instance with one; "
    "PYCACHE_S3_NO_CREDENTIALS=true for anonymous read-only access",
    "EndpointConnectionError": "the endpoint cannot be reached: check PYCACHE_S3_ENDPOINT, PYCACHE_S3_USE_SSL, the network and proxies",
    "ConnectTimeoutError": "connecting to the endpoint timed out: a firewall, or a wrong PYCACHE_S3_ENDPOINT",
    "ReadTimeoutError": "the endpoint took the connection but did not answer in time: is it overloaded or hung?",
    "SSLError": "the TLS handshake failed: wrong PYCACHE_S3_USE_SSL, or a certificate this machine does not trust (AWS_CA_BUNDLE)",
    "ProxyConnectionError": "the proxy cannot be reached: check HTTPS_PROXY / HTTP_PROXY",
    "ConnectionError": "the server cannot be reached: is it running, and is the URL right?",
    "Timeout": "the server took the connection but did not answer in time",
    "WRONGPASS": "the user or password in PYCACHE_REDIS_URL is wrong",
    "NOAUTH": "the server wants a password: put it in PYCACHE_REDIS_URL (redis://:password@host:port/db)",
    "AuthenticationError": "the user or password in PYCACHE_REDIS_URL is wrong",
    "NOPERM": "this Redis user may not run GET/SET/DEL on the prefix's keys: check its ACL",
    "OOM": "the server is full and evicts nothing: set a maxmemory-policy (allkeys-lru) or PYCACHE_REDIS_TTL",
    "READONLY": "the URL points at a read-only replica: use the primary",
}


def hint_for(exc: BaseException, info: dict[str, str] | None = None) -> str:
    """A line of advice for the usual causes of a storage failure, or ""."""
    info = info or {}
    if not isinstance(exc, StorageError):
        return ""
    if exc.hint:  # the backend knows its service best
        return exc.hint
    template = _HINTS.get(exc.code, "")
    if not template and exc.status == 301:
        template = _HINTS["PermanentRedirect"]
    if not template and exc.status is not None and exc.status >= 500:
        template = "the service failed on its side (HTTP {status}); if it persists, give its request id to the operator"
    region = exc.extra.get("bucket region", "")
    return template.format(
        credentials=info.get("credentials", "unknown source"),
        region=f" ({region})" if region else "",
        status=exc.status,
    )
