"""The ``pycache`` executable: the per-compile client, and the door to the CLI.

This module runs once per compile, started without site by the ``pycache``
command (bin/pycache), so a compile served by the server imports only what
the interpreter already has loaded or can load in microseconds (``sys``, the
builtin ``posix``, and through `pycache_core.connection` ``_socket``) --
never ``os`` (milliseconds: its ``_collections_abc``), pluggy, typer, rich,
blake3 or boto3. It sends the command line, cwd, environment and whether
stderr is a terminal to the server (found and started by
`pycache_core.connection`), then replays stdout, stderr and the exit status
-- and, started by the ``pycache`` command, exits at once (``posix._exit``:
the interpreter's teardown was 2 ms of a 15 ms hit).
Whatever goes wrong on the way (no server, a hung one, garbage on the
socket), the compiler runs uncached in this process (`exec_compiler`, which
may use ``os``: it starts a whole compiler anyway) and the fault is recorded
for ``pycache stats``.

Forms:
    pycache wrap -- gcc -c a.c        compile through the cache
    pycache gcc -c a.c                the same (RUSTC_WRAPPER, *_LAUNCHER, CC=)
    gcc -c a.c                        via a symlink named gcc -> pycache
    pycache stats|server|...          subcommands (typer CLI, imported lazily)
"""

import posix
import sys

from . import connection, protocol
from . import env as names

COMMANDS = ("stats", "server", "config", "explain", "doctor", "plugins", "cache", "version", "wrap", "cargo")
SUBCOMMANDS = frozenset({*COMMANDS, "--help", "-h", "--version"})
HELP = ("--help", "-h")


def main(argv=None, relaunch=None):
    """Run ``pycache`` as ``argv`` (default ``sys.argv``) asks.

    ``relaunch``: (interpreter, script) when this process was started
    without site by the ``pycache`` command (bin/pycache, ``python -I -S``):
    what needs the whole environment -- a subcommand, a compile in this
    process, both with their plugins and PYTHONPATH -- starts that script
    again in a normally started interpreter (`_whole_interpreter`)."""
    global _relaunch, _handoff
    argv = list(sys.argv if argv is None else argv)
    if argv[1:2] and argv[1] in HANDOFFS and len(argv) > 2:
        _handoff = (argv[1], argv[2])
        del argv[1:3]
    _relaunch = None if relaunch is None else [relaunch[0], relaunch[1], "--argv0", *argv]
    code = _dispatch(argv)
    if relaunch is not None and _served:
        # A compile the server answered, its reply written with posix.write
        # (nothing buffered) by an isolated client that opened nothing else:
        # the interpreter's teardown is all that is left (~2 ms of a hit).
        posix._exit(code)
    return code


def _dispatch(argv):
    program = argv[0].rpartition("/")[2]
    if not program.startswith("pycache") and program not in ("__main__.py", "client.py"):
        # Masquerade: we were run as the compiler, perhaps by a path to our
        # symlink; the real one is that name later on PATH, never ourselves.
        return compile_command([program, *argv[1:]])
    rest = argv[1:]
    if rest and rest[0] == "wrap":
        command = rest[1:]
        if command[:1] == ["--"]:
            command = command[1:]
        elif command[:1] and command[0] in HELP:
            command = []
            rest = ["wrap", "--help"]
        if command:
            return compile_command(command)
        # `pycache wrap` alone: typer's usage message
    elif rest and rest[0] == "cargo" and rest[1:] not in (["--help"], ["-h"]):
        from .cli.cargo import run_cargo  # stdlib only: cargo starts at once

        return run_cargo(rest[1:])
    if not rest or rest[0] in SUBCOMMANDS or rest[0].startswith("-"):
        _whole_interpreter()
        from .cli.main import run  # typer and rich: only for subcommands

        return run(rest)
    return compile_command(rest, launcher=True)


_relaunch = None  # set by main(): the command line of a normally started client
# What the native client (native/client.c) hands over when it started this
# one in its place mid-call, after the argv0: (flag, value), set by main().
#   --client-fault CAUSE    the server failed the call after it was sent:
#                           count the fault and run the compiler uncached;
#   --client-execute PATH   the server said "run PATH" and exec failed:
#                           run it here, to fail as this client words it.
HANDOFFS = ("--client-fault", "--client-execute")
_handoff = None
_served = False  # set by compile_command once it has replayed the server's reply


def _whole_interpreter():
    """Go on in an interpreter started with site (its .pth files, PYTHONPATH),
    if this one was not."""
    if _relaunch is not None:
        posix.execv(_relaunch[0], _relaunch)


# --- one compile ------------------------------------------------------------


def compile_command(command, launcher=False):
    """Compile ``command`` through the cache. ``launcher``: the form
    ``pycache WORD ...``, where a WORD that runs nothing may be a mistyped
    subcommand."""
    environ = connection.environment()
    cwd = posix.getcwd()
    # This program, as run (the server resolves links: a compiler found on
    # PATH that leads here is never run).
    argv0 = sys.argv[0] if sys.argv else ""
    self_exe = argv0 if not argv0 or argv0.startswith("/") else connection.join(cwd, argv0)
    if _handoff is not None:
        flag, value = _handoff
        if flag == "--client-execute":
            return exec_compiler([value, *command[1:]], self_exe, argv0=command[0], launcher=launcher)
        connection.record_fault(environ, "server-unavailable", value)
        return exec_compiler(command, self_exe, launcher=launcher)
    if names.is_true(environ.get(names.DISABLE)):
        return exec_compiler(command, self_exe, launcher=launcher)
    tty = posix.isatty(2)
    if names.is_true(environ.get(names.NO_SERVER)):
        _whole_interpreter()
        return _compile_in_process(command, cwd, tty, self_exe, launcher)
    fingerprint = connection.server_fingerprint(environ)
    try:
        sock_path, lock_path, _faults = connection.server_paths(environ, fingerprint)
    except OSError as exc:
        cause = f"no runtime directory: {exc}"
        connection.mark_unavailable(environ, cause)
        connection.record_fault(environ, "server-unavailable", cause)
        return exec_compiler(command, self_exe, launcher=launcher)
    _die_of_interrupts()
    payload = protocol.encode_compile(fingerprint, cwd, tty, self_exe, _umask(), command, environ)
    silence = connection.silence_timeout(environ)
    early = _write_stderr  # the compiler's stderr as it prints it; the reply has the rest
    try:
        try:
            body = connection.request(sock_path, payload, silence, on_early=early)
        except (FileNotFoundError, ConnectionRefusedError):
            connection.start_server(environ, sock_path, lock_path)  # backs off after a failed start
            body = connection.request(sock_path, payload, silence, on_early=early)
        status, code, _outcome, out, err, execute = protocol.decode_reply(body)
        if status != "ok":
            raise ValueError(f"server answered {status}: {err.decode('utf-8', 'replace')}")
    except (OSError, ValueError) as exc:
        connection.record_fault(environ, "server-unavailable", f"{type(exc).__name__}: {exc}")
        return exec_compiler(command, self_exe, launcher=launcher)
    if execute:
        return exec_compiler([execute, *command[1:]], self_exe, argv0=command[0], launcher=launcher)
    global _served
    _served = True
    return replay(code, out, err)


def _write_stderr(data):
    _write_all(2, data)


def _die_of_interrupts():
    """Ctrl-C ends this client as it ends a compiler -- killed by SIGINT,
    no traceback; the server sees the connection close and cancels the
    compile. (A SIGINT the caller ignores stays ignored.)"""
    import _signal

    if _signal.getsignal(_signal.SIGINT) is _signal.default_int_handler:
        _signal.signal(_signal.SIGINT, _signal.SIG_DFL)


def _umask():
    """This process's umask: the modes of every output the server writes
    for this call come from it, as they would from the compiler's."""
    mask = posix.umask(0o022)
    posix.umask(mask)
    return mask


def _compile_in_process(command, cwd, tty, self_exe, launcher):
    import os

    from .config import Config
    from .pipeline import CompileRequest, Engine

    try:
        config = Config()
        config.check()
        engine = Engine(config)
    except Exception as exc:  # a bad setting: warn once per build, compile uncached
        connection.mark_unavailable(os.environ, f"{type(exc).__name__}: {exc}", what="the cache cannot run in this process")
        return exec_compiler(command, self_exe, launcher=launcher)
    try:
        reply = engine.compile(
            CompileRequest(argv=tuple(command), cwd=cwd, env=dict(os.environ), stderr_is_tty=tty,
                           client_executable=self_exe, umask=_umask())
        )
    finally:
        engine.store.close()
    if reply.execute:
        return exec_compiler([reply.execute, *command[1:]], self_exe, argv0=command[0], launcher=launcher)
    return replay(reply.exit_code, reply.stdout, reply.stderr)


def replay(code, out, err):
    _write_all(1, out)
    _write_all(2, err)
    if code < 0:  # the compiler died of a signal: die of the same one
        import _signal

        _signal.signal(-code, _signal.SIG_DFL)
        posix.kill(posix.getpid(), -code)
    return code


def _write_all(fd, data):
    view = memoryview(data)
    while view:
        written = posix.write(fd, view)
        view = view[written:]


def exec_compiler(command, self_exe, argv0=None, launcher=False):
    """Replace this process with the real compiler (uncached). When it
    cannot run, fail as a shell's ``exec`` would: 127 when there is no such
    program, 126 with the system's reason when there is one that cannot be
    run (a directory, a file without execute permission)."""
    import os

    from .which import find_executable, find_unrunnable

    name = command[0]
    self_exe = os.path.realpath(self_exe) if self_exe else ""
    cwd = os.getcwd()
    path = find_executable(name, os.environ, cwd, [self_exe])
    if path is not None and self_exe and os.path.realpath(path) == self_exe:
        path = None  # a path to pycache itself: running it would loop forever
    elif path is None:
        path = find_unrunnable(name, os.environ, cwd)
    if path is None:
        if launcher and os.sep not in name:
            sys.stderr.write(_unknown_word(name))
        else:
            # What a shell-less exec of a missing program reports (as env(1) does).
            sys.stderr.write(f"pycache: {name}: No such file or directory\n")
        return 127
    argv0 = argv0 or name
    if os.sep not in argv0:
        # Named by the path it was found at (same base name), as the server
        # runs compilers: a driver that finds its own parts through argv[0]
        # on PATH (gcc does) would find a masquerading link to pycache first
        # and look for them beside pycache.
        argv0 = path
    try:
        os.execv(path, [argv0, *command[1:]])
    except OSError as exc:  # the kernel's own reason (EACCES for a directory, too)
        sys.stderr.write(f"pycache: {name}: {exc.strerror}\n")
        return 126 if os.path.exists(path) else 127


def _unknown_word(word):
    """``pycache WORD`` where WORD is neither a subcommand nor an executable.
    Only this failing path pays for the suggestion (no difflib: it imports re)."""
    best, best_distance = "", 3
    for command in COMMANDS:
        distance = _edit_distance(word, command)
        if distance < best_distance and distance < len(command) // 2 + 1:
            best, best_distance = command, distance
    if best:
        return f"pycache: unknown command or compiler '{word}'; did you mean '{best}'?\n"
    return f"pycache: unknown command or compiler '{word}': not a pycache command, and no such executable on PATH\n"


def _edit_distance(a, b):
    """Levenshtein distance, a swap of neighbours counting as one edit."""
    previous2, previous = None, list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        row = [i]
        for j, cb in enumerate(b, 1):
            cost = min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (ca != cb))
            if previous2 is not None and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cost = min(cost, previous2[j - 2] + 1)
            row.append(cost)
        previous2, previous = previous, row
    return previous[-1]


if __name__ == "__main__":
    sys.exit(main())
