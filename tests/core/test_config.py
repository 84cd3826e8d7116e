import pytest

from pycache_core.config import Config, parse_size
from pycache_core.errors import ConfigError


def test_environment_wins_over_file_wins_over_default(tmp_path):
    config_file = tmp_path / "config.toml"
    config_file.write_text('cache_size = "2G"\nbucket = "from-file"\nread_only = true\n')
    config = Config({"PYCACHE_CONFIG": str(config_file), "PYCACHE_BUCKET": "from-env", "PYCACHE_DIR": str(tmp_path)})
    assert config.setting("PYCACHE_BUCKET").value == "from-env"
    assert config.setting("PYCACHE_BUCKET").origin == "environment"
    assert config.setting("PYCACHE_CACHE_SIZE").value == "2G"
    assert config.setting("PYCACHE_CACHE_SIZE").origin == f"config file {config_file}"
    assert config.cache_size == 2 << 30
    assert config.flag("PYCACHE_READ_ONLY") is True
    assert config.setting("PYCACHE_IDLE_TIMEOUT").origin == "default"


def test_unknown_setting_in_file_is_named(tmp_path):
    config_file = tmp_path / "config.toml"
    config_file.write_text('buckett = "x"\n')
    with pytest.raises(ConfigError, match="unknown setting 'buckett'; did you mean 'bucket'"):
        Config({"PYCACHE_CONFIG": str(config_file)})


@pytest.mark.parametrize("text,expected", [("500M", 500 << 20), ("10G", 10 << 30), ("1.5GiB", int(1.5 * (1 << 30))),
                                           ("4096B", 4096), ("64k", 64 << 10), ("5", 5 << 30), ("0", 0)])
def test_sizes(text, expected):
    assert parse_size(text) == expected


def test_bad_size_says_how_to_write_one():
    with pytest.raises(ConfigError, match="such as 500M, 10G"):
        parse_size("lots")
