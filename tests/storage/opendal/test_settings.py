"""Reading OpenDAL tiers from variables and the config file; the server's
fingerprint follows them; nothing heavy is imported on the way."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pycache_core import env as names
from pycache_core.connection import server_fingerprint
from pycache_core.config import Config
from pycache_core.errors import ConfigError, StorageError
from pycache_core.plugins import build_host
from pycache_core.storage.tiers import open_backends
from pycache_opendal.settings import DEFAULT_TIER, read_tiers


def config(tmp_path: Path, toml: str | None = None, **environ: str) -> Config:
    path = tmp_path / "config.toml"
    if toml is not None:
        path.write_text(toml)
    return Config({"PYCACHE_CONFIG": str(path), **environ})


def test_one_tier_from_variables(tmp_path):
    (tier,) = read_tiers(config(tmp_path, PYCACHE_OPENDAL_SCHEME="GCS", PYCACHE_OPENDAL_BUCKET="team-cache",
                                PYCACHE_OPENDAL_KEY_PREFIX="/ci/", PYCACHE_OPENDAL_READ_ONLY="yes"))  # fmt: skip
    assert (tier.name, tier.label, tier.scheme, tier.tier) == ("opendal", "", "gcs", DEFAULT_TIER)
    assert tier.options["bucket"].text == "team-cache" and tier.options["bucket"].origin == "environment PYCACHE_OPENDAL_BUCKET"
    assert tier.key_prefix == "ci/" and tier.read_only is True
    assert set(tier.options) == {"bucket"}  # pycache's own options are not passed to OpenDAL
    assert read_tiers(config(tmp_path)) == []


def test_named_tiers_from_the_file_and_variables(tmp_path):
    toml = """
[opendal]
scheme = "webdav"
endpoint = "http://dav.internal"

[opendal.fast]
scheme = "memcached"
endpoint = "tcp://file:11211"
tier = 5
retries = 0

[opendal.gcs]
scheme = "gcs"
bucket = "team-cache"
timeout = 2.5
read_only = false
"""
    tiers = read_tiers(config(tmp_path, toml, PYCACHE_OPENDAL_FAST__ENDPOINT="tcp://env:11211",
                              PYCACHE_OPENDAL_AZ__SCHEME="azblob", PYCACHE_OPENDAL_AZ__CONTAINER="c"))  # fmt: skip
    assert [t.name for t in tiers] == ["opendal", "opendal.fast", "opendal.gcs", "opendal.az"]
    unnamed, fast, gcs, az = tiers
    assert fast.options["endpoint"].text == "tcp://env:11211"  # the variable wins
    assert fast.options["endpoint"].origin == "environment PYCACHE_OPENDAL_FAST__ENDPOINT"
    assert (fast.tier, fast.retries) == (5, 0) and fast.origins["tier"].endswith("[opendal.fast]")
    assert gcs.timeout == 2.5 and gcs.read_only is False and gcs.tier == DEFAULT_TIER
    assert unnamed.options["endpoint"].origin == f"config file {tmp_path / 'config.toml'} [opendal]"
    assert az.scheme == "azblob" and fast.variable("endpoint") == "PYCACHE_OPENDAL_FAST__ENDPOINT"


def test_empty_values_count_as_unset(tmp_path):
    toml = '[opendal.gha]\nscheme = "ghac"\nversion = "v1"\n'
    (tier,) = read_tiers(config(tmp_path, toml, PYCACHE_OPENDAL_GHA__VERSION="", PYCACHE_OPENDAL_OTHER__SCHEME=""))
    assert tier.name == "opendal.gha" and "version" not in tier.options


@pytest.mark.parametrize(
    ("toml", "environ", "message"),
    [
        (None, {"PYCACHE_OPENDAL_FAST__ENDPOINT": "tcp://x:1"},
         "tier opendal.fast has options but no scheme (endpoint (environment PYCACHE_OPENDAL_FAST__ENDPOINT)): "
         "set PYCACHE_OPENDAL_FAST__SCHEME or scheme in [opendal.fast]"),
        (None, {"PYCACHE_OPENDAL_SCHEME": "gcs", "PYCACHE_OPENDAL_TIER": "0"}, "the tier must be above 0"),
        (None, {"PYCACHE_OPENDAL_SCHEME": "gcs", "PYCACHE_OPENDAL_TIER": "first"}, "tier='first' (environment PYCACHE_OPENDAL_TIER) is not a whole number"),
        (None, {"PYCACHE_OPENDAL_SCHEME": "gcs", "PYCACHE_OPENDAL_READ_ONLY": "maybe"}, "is not true or false"),
        (None, {"PYCACHE_OPENDAL_SCHEME": "gcs", "PYCACHE_OPENDAL_TIMEOUT": "-1"}, "use a positive number of seconds"),
        (None, {"PYCACHE_OPENDAL_SCHEME": "gcs", "PYCACHE_OPENDAL_RETRIES": "-2"}, "use 0 (no retries) or more"),
        (None, {"PYCACHE_OPENDAL_BAD-NAME__SCHEME": "gcs"}, "the tier's name 'bad-name' must be lower-case"),
        ('[opendal.fast]\nscheme = "memcached"\nendpoint = ["a", "b"]\n', {}, "option 'endpoint' must be a string"),
        ('[opendal.fast.deeper]\nscheme = "memcached"\n', {}, "option 'deeper' must be a string"),
    ],
)
def test_mistakes_are_refused_with_a_reason(tmp_path, toml, environ, message):
    with pytest.raises(ConfigError) as caught:
        read_tiers(config(tmp_path, toml, **environ))
    assert message in str(caught.value)


def test_the_config_file_accepts_the_opendal_table_only(tmp_path):
    with pytest.raises(ConfigError, match="'opendal' in .* must be a table"):
        config(tmp_path, 'opendal = "gcs"\n')
    with pytest.raises(ConfigError, match="unknown setting 'gcs'.*tables: opendal"):
        config(tmp_path, '[gcs]\nbucket = "x"\n')
    loaded = config(tmp_path, 'cache_size = "1G"\n[opendal]\nscheme = "gcs"\n')
    assert loaded.table("opendal") == {"scheme": "gcs"} and loaded.value("PYCACHE_CACHE_SIZE") == "1G"
    loaded.table("opendal")["scheme"] = "changed"  # a copy: the configuration stays as read
    assert loaded.table("opendal") == {"scheme": "gcs"}


def test_the_default_config_file_is_platformdirs_own(tmp_path, monkeypatch):
    import platformdirs

    environ = {"HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "xdg")}
    monkeypatch.setenv("HOME", environ["HOME"])
    monkeypatch.setenv("XDG_CONFIG_HOME", environ["XDG_CONFIG_HOME"])
    expected = os.path.join(platformdirs.user_config_dir("pycache", appauthor=False), "config.toml")
    assert names.config_file(environ) == expected
    monkeypatch.delenv("XDG_CONFIG_HOME")
    del environ["XDG_CONFIG_HOME"]
    expected = os.path.join(platformdirs.user_config_dir("pycache", appauthor=False), "config.toml")
    assert names.config_file(environ) == expected
    assert str(Config(environ).file) == expected


def test_the_server_fingerprint_follows_opendal_variables_and_the_config_file(tmp_path):
    path = tmp_path / "config.toml"
    base = {"PYCACHE_CONFIG": str(path), "PATH": "/usr/bin"}
    plain = server_fingerprint(base)
    assert server_fingerprint({**base, "UNRELATED": "1"}) == plain
    with_tier = server_fingerprint({**base, "PYCACHE_OPENDAL_FAST__ENDPOINT": "tcp://a:1"})
    assert with_tier != plain
    assert server_fingerprint({**base, "PYCACHE_OPENDAL_FAST__ENDPOINT": "tcp://b:1"}) != with_tier
    assert server_fingerprint({**base, "ACTIONS_RUNTIME_TOKEN": "t"}) != plain  # read by the ghac service
    path.write_text('[opendal]\nscheme = "gcs"\nbucket = "a"\n')
    written = server_fingerprint(base)
    assert written != plain
    path.unlink()
    path.write_text('[opendal]\nscheme = "gcs"\nbucket = "bb"\n')  # edited: another server
    assert server_fingerprint(base) != written


def test_tiers_take_their_place_and_a_broken_one_leaves_the_others(tmp_path):
    host = build_host()
    settings = config(
        tmp_path,
        PYCACHE_OPENDAL_FAST__SCHEME="memcached", PYCACHE_OPENDAL_FAST__ENDPOINT="tcp://127.0.0.1:1", PYCACHE_OPENDAL_FAST__TIER="5",
        PYCACHE_OPENDAL_SLOW__SCHEME="webdav", PYCACHE_OPENDAL_SLOW__ENDPOINT="http://127.0.0.1:1",
        PYCACHE_OPENDAL_TYPO__SCHEME="webdav", PYCACHE_OPENDAL_TYPO__ENDPIONT="http://127.0.0.1:1",
        PYCACHE_OPENDAL_NOPE__SCHEME="no-such-service",
        PYCACHE_REDIS_URL="redis://127.0.0.1:1/0", PYCACHE_DIR=str(tmp_path / "cache"),
    )  # fmt: skip
    opened = open_backends(host.storage_types, settings)
    assert [(o.name, o.tier, o.backend is not None) for o in opened] == [
        ("local", 0, True),
        ("opendal.fast", 5, True),
        ("redis", 10, True),
        ("opendal.nope", 30, False),  # tiers only variables name: in the order of their names
        ("opendal.slow", 30, True),
        ("opendal.typo", 30, False),
    ]
    nope, typo = opened[3].error, opened[5].error
    assert isinstance(typo, StorageError) and "webdav has no option endpiont (environment PYCACHE_OPENDAL_TYPO__ENDPIONT)" in str(typo)
    assert "endpoint" in str(typo)  # the options it does know are listed
    assert isinstance(nope, StorageError) and nope.code == "Unsupported" and "scheme is not registered" in str(nope)


def test_the_plugin_imports_opendal_only_when_a_tier_is_configured(tmp_path):
    code = (
        "import sys\n"
        "from pycache_core.config import Config\n"
        "from pycache_core.pipeline import Engine\n"
        f"engine = Engine(Config({{'PYCACHE_CONFIG': '/nonexistent', 'PYCACHE_DIR': {str(tmp_path / 'c')!r}}}))\n"
        "print('opendal' in sys.modules, [t.backend.name for t in engine.store.tiers])\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["False", "['local']"]
    configured = code.replace("'PYCACHE_CONFIG': '/nonexistent'", "'PYCACHE_CONFIG': '/nonexistent', 'PYCACHE_OPENDAL_SCHEME': 'memory'")
    done = subprocess.run([sys.executable, "-c", configured], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["True", "['local',", "'opendal']"]
