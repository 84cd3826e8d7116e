"""No traceback, ever (issue 10, part 1): every subcommand, run as a user
would (the real ``pycache`` executable, pipes, no terminal), with bad
options and bad settings. A usage mistake is typer's usage message and exit
2; a problem with the setup one ``pycache: <what>: <cause>`` line and an exit
status of `pycache_core.cli.exitcodes`.
"""

from __future__ import annotations

import os
import stat

import pytest

from pycache_core.cli import exitcodes
from pycache_core.testing import PycacheEnv, _isolated_env


@pytest.fixture(scope="module")
def cli_env(tmp_path_factory):
    """One isolated installation for the commands that change nothing."""
    root = tmp_path_factory.mktemp("cli")
    penv = PycacheEnv(root=root, env=_isolated_env(root))
    yield penv
    penv.stop_server()

# Every subcommand, with options that are valid (bad ones are added below).
COMMANDS = [
    ["stats"], ["stats", "--zero"], ["config", "--json"], ["plugins"], ["doctor"],
    ["server", "start"], ["server", "status", "--json"], ["server", "status", "--all"],
    ["server", "stop"], ["server", "stop", "--all"],
    ["cache", "size"], ["cache", "trim", "--size", "1G"], ["cache", "clear"],
    ["explain", "--json", "--", "cc", "-c", "a.c"], ["--version"],
]  # fmt: skip
# Each command word once; `explain`, `wrap` and `cargo` hand unknown words
# to the compiler they run, so they have no bad option of their own.
OPTION_COMMANDS = [("stats",), ("config",), ("plugins",), ("doctor",), ("version",), ("server", "start"),
                   ("server", "status"), ("server", "stop"), ("cache", "size"), ("cache", "trim"), ("cache", "clear")]


def assert_no_traceback(done) -> None:
    for stream in (done.stdout, done.stderr):
        assert b"Traceback" not in stream and b'File "' not in stream, stream.decode()


def error_lines(done) -> list[str]:
    return [line for line in done.stderr.decode().splitlines() if line.startswith("pycache: ")]


# --- usage mistakes ---------------------------------------------------------------


@pytest.mark.parametrize("command", OPTION_COMMANDS, ids=" ".join)
def test_every_subcommand_refuses_a_bad_option_with_its_usage(cli_env, command):
    done = cli_env.run([*command, "--bogus"])
    assert_no_traceback(done)
    assert done.returncode == exitcodes.USAGE, done.stderr.decode()
    assert b"No such option: --bogus" in done.stderr
    assert f"Usage: pycache {' '.join(command)}".encode() in done.stderr
    assert done.stdout == b""


@pytest.mark.parametrize(
    ("args", "status", "message"),
    [
        ([], exitcodes.USAGE, b"Usage: pycache [OPTIONS] COMMAND [ARGS]..."),
        (["-h"], exitcodes.OK, b"Usage: pycache [OPTIONS] COMMAND [ARGS]..."),
        (["--help"], exitcodes.OK, b"pycache wrap -- gcc -c a.c -o a.o"),
        (["server", "bogus"], exitcodes.USAGE, b"No such command 'bogus'."),
        (["server"], exitcodes.USAGE, b"Usage: pycache server [OPTIONS] COMMAND [ARGS]..."),
        (["cache", "trim", "--size"], exitcodes.USAGE, b"Option '--size' requires an argument."),
        (["cache", "trim", "--size", "banana"], exitcodes.USAGE, b"cannot read size 'banana'"),
        (["cache", "trim", "--size", "0"], exitcodes.USAGE, b"pycache cache clear"),
        (["wrap"], exitcodes.USAGE, b"Missing argument"),
        (["wrap", "--"], exitcodes.USAGE, b"Missing argument"),
        (["wrap", "--help"], exitcodes.OK, b"Usage: pycache wrap [OPTIONS]"),
        (["wrap", "-h"], exitcodes.OK, b"ln -s $(command -v pycache) ~/bin/gcc"),
        (["cargo", "--help"], exitcodes.OK, b"CC_KNOWN_WRAPPER_CUSTOM"),
        (["stats", "-h"], exitcodes.OK, b"Usage: pycache stats [OPTIONS]"),
    ],
    ids=lambda v: " ".join(v) if isinstance(v, list) else None,
)
def test_usage_and_help(cli_env, args, status, message):
    done = cli_env.run(args)
    assert_no_traceback(done)
    assert done.returncode == status, (done.stdout + done.stderr).decode()
    assert message in (done.stdout if status == exitcodes.OK else done.stderr) or message in done.stdout + done.stderr


def test_version_names_the_core_and_every_plugin(cli_env):
    from importlib import metadata

    done = cli_env.run(["--version"])
    assert done.returncode == 0 and done.stderr == b""
    lines = done.stdout.decode().splitlines()
    assert lines[0] == f"pycache {metadata.version('pycache')}"
    for distribution in ("pycache-gcc-clang", "pycache-rustc", "pycache-msvc", "pycache-nvcc", "pycache-opendal"):
        assert f"{distribution} {metadata.version(distribution)}" in done.stdout.decode()
    assert cli_env.run(["version"]).stdout == done.stdout


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("statz", b"pycache: unknown command or compiler 'statz'; did you mean 'stats'?\n"),
        ("confg", b"pycache: unknown command or compiler 'confg'; did you mean 'config'?\n"),
        ("doctro", b"pycache: unknown command or compiler 'doctro'; did you mean 'doctor'?\n"),
        ("sever", b"pycache: unknown command or compiler 'sever'; did you mean 'server'?\n"),
        ("qwertyuiop", b"pycache: unknown command or compiler 'qwertyuiop': not a pycache command, "
                       b"and no such executable on PATH\n"),
    ],
)
def test_an_unknown_word_says_so_and_what_was_meant(cli_env, word, expected):
    done = cli_env.run([word])
    assert (done.returncode, done.stdout, done.stderr) == (exitcodes.NOT_FOUND, b"", expected)


# --- bad settings -------------------------------------------------------------------


def _bad_values(penv) -> dict[str, str]:
    return {"PYCACHE_IDLE_TIMEOUT": "abc", "PYCACHE_LOG": "verbose", "PYCACHE_CACHE_SIZE": "banana",
            "PYCACHE_S3_USE_SSL": "maybe", "PYCACHE_UPLOAD_QUEUE_POLICY": "later", "PYCACHE_S3_MAX_ATTEMPTS": "0",
            "PYCACHE_SERVER_TIMEOUT": "-1", "PYCACHE_REDIS_URL": "http://example.invalid"}  # fmt: skip


def _dir_is_a_file(penv) -> dict[str, str]:
    path = penv.root / "not-a-dir"
    path.write_text("")
    return {"PYCACHE_DIR": str(path)}


def _shared_runtime_dir(penv) -> dict[str, str]:
    path = penv.root / "shared-rt"
    path.mkdir()
    path.chmod(0o777 | stat.S_ISVTX)
    return {"PYCACHE_RUNTIME_DIR": str(path), "XDG_RUNTIME_DIR": str(penv.root / "xdg")}


def _broken_config_file(penv) -> dict[str, str]:
    (penv.root / "config.toml").write_text("cache_size = \n")
    return {}


def _missing_config_file(penv) -> dict[str, str]:
    return {"PYCACHE_CONFIG": str(penv.root / "no-such.toml")}


SETTINGS_CASES = {
    "bad-values": _bad_values,
    "dir-is-a-file": _dir_is_a_file,
    "runtime-dir-not-private": _shared_runtime_dir,
    "config-file-broken": _broken_config_file,
    "config-file-missing": _missing_config_file,
}
# The settings each command needs: with one of them invalid it stops (exit 3).
NEEDS = {
    "stats": {"PYCACHE_DIR"},
    "cache": {"PYCACHE_DIR", "PYCACHE_CACHE_SIZE"},
    "server start": "every setting",
    "server status": {"PYCACHE_RUNTIME_DIR"},
    "server stop": {"PYCACHE_RUNTIME_DIR"},
}


def _expected_status(command: list[str], case: str, names: set[str]) -> int:
    """The exit status ``command`` owes a user with the settings of ``case``."""
    key = " ".join(command[:2]) if command[0] == "server" else command[0]
    if key == "explain":
        return -1  # coresplit's command: any of 0, 1, 3, never a traceback
    if command == ["server", "stop", "--all"] or key in ("plugins", "version", "--version") or key == "server status" and "--all" in command:
        return exitcodes.OK  # they read no setting they could refuse
    if key == "config":
        return exitcodes.CONFIG
    if key == "doctor":
        return exitcodes.FAILURE
    fatal = case != "config-file-missing"  # an absent explicit file: flagged, but nothing refuses to run
    needed = NEEDS.get(key)
    if fatal and (case == "config-file-broken" or needed == "every setting" or (needed and names & needed)):
        return exitcodes.CONFIG
    if key == "server status":  # doctor starts the server where the settings allow it
        return exitcodes.OK if case == "config-file-missing" else exitcodes.NOT_RUNNING
    return exitcodes.OK


@pytest.mark.parametrize("case", SETTINGS_CASES)
def test_every_subcommand_with_bad_settings(pycache_env, case):
    settings = SETTINGS_CASES[case](pycache_env)
    pycache_env.set(**settings)  # the fixture's teardown stops a server with these settings
    for command in COMMANDS:
        done = pycache_env.run(command)
        assert_no_traceback(done)
        expected = _expected_status(command, case, set(settings))
        if expected == -1:
            assert done.returncode in (exitcodes.OK, exitcodes.FAILURE, exitcodes.CONFIG), done.stderr.decode()
            continue
        assert done.returncode == expected, (command, done.stdout.decode(), done.stderr.decode())
        lines = error_lines(done)
        if expected == exitcodes.CONFIG and command[0] != "config":
            # One line per invalid setting that stopped it, naming the setting.
            assert lines and all(line.startswith(("pycache: PYCACHE_", "pycache: cache_size")) for line in lines), lines
    pycache_env.run(["server", "stop"])


def test_the_issue_cases_in_their_own_words(pycache_env):
    file = pycache_env.root / "a-file"
    file.write_text("")
    cleared = pycache_env.run(["cache", "clear"], env={"PYCACHE_DIR": str(file)})
    assert cleared.returncode == exitcodes.CONFIG
    assert error_lines(cleared) == [f"pycache: PYCACHE_DIR='{file}' (environment): is a file, not a directory"]
    assert b"hint: `pycache config`" in cleared.stderr

    shared = pycache_env.root / "shared"
    shared.mkdir(mode=0o755)
    shared.chmod(0o755)
    env = {"PYCACHE_RUNTIME_DIR": str(shared), "XDG_RUNTIME_DIR": str(pycache_env.root / "xdg")}
    status = pycache_env.run(["server", "status"], env=env)
    assert status.returncode == exitcodes.CONFIG
    assert error_lines(status) == [
        f"pycache: PYCACHE_RUNTIME_DIR='{shared}' (environment): {shared} is not a private directory of this user "
        f"(owner {os.getuid()}, mode 0o755)"
    ]
    stats = pycache_env.run(["stats"], env=env)
    assert stats.returncode == 0 and b"pycache statistics" in stats.stdout
    assert error_lines(stats)[0].endswith("-- the cache server cannot start with it")

    start = pycache_env.run(["server", "start"], env={"PYCACHE_IDLE_TIMEOUT": "abc"})
    assert start.returncode == exitcodes.CONFIG
    assert error_lines(start) == [
        "pycache: PYCACHE_IDLE_TIMEOUT='abc' (environment): not a whole number: use e.g. 600, 0 for never"
    ]
