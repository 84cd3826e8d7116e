"""The ``pycache`` command (bin/pycache, installed from the wheel's scripts):
it starts the client as ``python -I -S`` -- no site, no .pth files -- with
the interpreter an installer wrote into ``pycache-python``'s ``#!python``
line, whatever name or link it was run by; and a wheel installed by pip
gives users exactly that (issue 12 part 2)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
LAUNCHER = REPO / "bin" / "pycache"


def install_beside_stand_in(launcher: Path, tmp_path: Path) -> Path:
    """``launcher`` copied as pycache into a bin/ whose pycache-python
    names, as its interpreter, a stand-in that prints the arguments it was
    given; the bin/ directory."""
    bindir = tmp_path / "prefix" / "bin"
    bindir.mkdir(parents=True)
    shutil.copy(launcher, bindir / "pycache")
    python = tmp_path / "python3.11"
    python.write_text('#!/bin/sh\nprintf "%s\\n" "python" "$@"\n')
    python.chmod(0o755)
    client = bindir / "pycache-python"
    client.write_text(f"#!{python}\nprint('not run by the stand-in')\n")
    client.chmod(0o755)
    return bindir


@pytest.fixture
def installed(tmp_path):
    """The shell launcher beside a stand-in client (`install_beside_stand_in`)."""
    return install_beside_stand_in(LAUNCHER, tmp_path)


def run(command, **kwargs) -> list[str]:
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, **kwargs)
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def test_the_launcher_runs_the_client_isolated_with_the_installed_interpreter(installed):
    pycache = str(installed / "pycache")
    assert run([pycache, "gcc", "-c", "a b.c", ""]) == [
        "python", "-I", "-S", str(installed / "pycache-python"), "--argv0", pycache, "gcc", "-c", "a b.c", "",
    ]


def test_a_relative_path_and_a_link_named_like_a_compiler_find_the_installation(installed, tmp_path):
    assert run(["./pycache", "-c", "x.c"], cwd=installed)[3:] == [f"{installed}/./pycache-python", "--argv0", "./pycache",
                                                                  "-c", "x.c"]
    links = tmp_path / "links"
    links.mkdir()
    (links / "g++").symlink_to(installed / "pycache")
    env = {**os.environ, "PATH": f"{links}{os.pathsep}{os.environ['PATH']}"}
    assert run(["g++", "-c", "x.cc"], env=env)[3:] == [str(installed / "pycache-python"), "--argv0", f"{links}/g++",
                                                       "-c", "x.cc"]


@pytest.mark.parametrize("shebang", ["#!/bin/sh", "#!/usr/bin/env python3", f"#!{sys.executable} -E"])
def test_an_interpreter_line_that_is_not_a_plain_python_path_runs_the_script_itself(installed, shebang):
    """pip writes a /bin/sh trampoline for long or spaced interpreter paths;
    other installers may add options: the launcher then runs the client
    script as any script is run (with site), never a mangled command."""
    body = 'echo itself "$@"' if shebang == "#!/bin/sh" else "import sys; print('itself', *sys.argv[1:])"
    (installed / "pycache-python").write_text(f"{shebang}\n{body}\n")
    assert run([str(installed / "pycache"), "gcc", "-c"]) == [f"itself --argv0 {installed}/pycache gcc -c"]


def uv() -> str | None:
    return shutil.which("uv") or next((str(p) for p in [Path.home() / ".local" / "bin" / "uv"] if p.exists()), None)


@pytest.mark.skipif(uv() is None, reason="uv (which builds the wheel) is not installed")
def test_a_wheel_installed_by_pip_starts_its_client_without_site(tmp_path):
    """Built as a user gets it and installed by pip into a fresh virtual
    environment: the installed pycache command compiles (uncached here: the
    server's dependencies are not installed) without running site -- a
    .pth file in the environment that would write a marker is never run --
    while the client script run as a plain script does run site."""
    wheels = tmp_path / "wheels"
    subprocess.run([uv(), "build", "--quiet", "--offline", "--wheel", "--out-dir", str(wheels), str(REPO)], check=True,
                   capture_output=True, timeout=300)
    env_dir = tmp_path / "env"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    wheel = next(wheels.glob("pycache-*.whl"))
    subprocess.run([python, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", str(wheel)], check=True,
                   capture_output=True, timeout=300)
    site_dir = next((env_dir / "lib").glob("python*/site-packages"))
    marker = tmp_path / "site-ran"
    (site_dir / "zz_marker.pth").write_text(f"import pathlib; pathlib.Path({str(marker)!r}).touch()\n")
    pycache = env_dir / "bin" / "pycache"
    assert (env_dir / "bin" / "pycache-python").read_text().startswith(f"#!{env_dir}/bin/python")
    # Built where a C compiler is (this machine): the native client, in a
    # wheel tagged for this platform only.
    assert pycache.read_bytes()[:4] == b"\x7fELF"
    assert wheel.name.endswith("-py3-none-" + sysconfig.get_platform().replace("-", "_").replace(".", "_") + ".whl")

    work = tmp_path / "w"
    work.mkdir()
    (work / "a.c").write_text("int a(void) { return 1; }\n")
    env = {**os.environ, "PYCACHE_DISABLE": "1"}
    done = subprocess.run([pycache, "gcc", "-c", "a.c", "-o", "a.o"], cwd=work, env=env, capture_output=True, timeout=120)
    assert (done.returncode, done.stderr) == (0, b"")
    assert (work / "a.o").exists()
    links = tmp_path / "links"
    links.mkdir()
    (links / "cc").symlink_to(pycache)
    done = subprocess.run(["cc", "-c", "a.c", "-o", "b.o"], cwd=work, capture_output=True, timeout=120,
                          env={**env, "PATH": f"{links}{os.pathsep}{os.environ['PATH']}"})
    assert (done.returncode, done.stderr) == (0, b"")
    assert (work / "b.o").read_bytes() == (work / "a.o").read_bytes()
    assert not marker.exists()

    done = subprocess.run([env_dir / "bin" / "pycache-python", "gcc", "-c", "a.c", "-o", "c.o"], cwd=work, env=env,
                          capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert marker.exists()


@pytest.mark.skipif(uv() is None, reason="uv (which builds the wheel) is not installed")
@pytest.mark.parametrize("setting", [{"CC": "/nonexistent/cc"}, {"PYCACHE_NATIVE_CLIENT": "0"}], ids=["no-compiler", "off"])
def test_a_wheel_built_without_the_native_client_has_the_shell_launcher(tmp_path, setting):
    """No C compiler where the wheel is built (or the native client turned
    off): the wheel's pycache command is bin/pycache, and the wheel is one
    for any platform."""
    wheels = tmp_path / "wheels"
    done = subprocess.run([uv(), "build", "--offline", "--wheel", "--out-dir", str(wheels), str(REPO)],
                          capture_output=True, text=True, timeout=300, env={**os.environ, **setting})
    assert done.returncode == 0, done.stderr
    if "CC" in setting:
        assert "the native client did not build: no C compiler" not in done.stderr  # CC names one: it failed to run
        assert "installing the shell launcher, the native client did not build" in done.stderr
        assert "/nonexistent/cc" in done.stderr
    wheel = next(wheels.glob("pycache-*.whl"))
    assert wheel.name.endswith("-py3-none-any.whl")
    with zipfile.ZipFile(wheel) as archive:
        version = wheel.name.split("-")[1]
        assert archive.read(f"pycache-{version}.data/scripts/pycache") == LAUNCHER.read_bytes()
