"""Loading plugins: built-ins, broken ones, duplicates, API versions, precedence."""

import types

import pytest

from pycache_core import hookspecs
from pycache_core.api import API_VERSION, CompilerFamily, hookimpl
from pycache_core.errors import PluginError
from pycache_core.plugins import build_host

CONTRACT_HOOKS = {
    "pycache_register_compilers",
    "pycache_parse_arguments",
    "pycache_discover_dependencies",
    "pycache_collect_outputs",
    "pycache_run_compile",
    "pycache_extra_key_components",
    "pycache_register_storage_backends",
}


def family_plugin(name, family, *, precedence=0, api=API_VERSION, executables=(r"toycc",)):
    module = types.ModuleType(name)

    @hookimpl
    def pycache_register_compilers():
        return [CompilerFamily(name=family, executables=executables, cache_version="1", api_version=api,
                               precedence=precedence)]

    module.pycache_register_compilers = pycache_register_compilers
    return module


def test_every_contract_hook_is_specified_and_documented():
    specs = {name for name in dir(hookspecs) if name.startswith("pycache_")}
    assert CONTRACT_HOOKS <= specs
    for name in specs:
        doc = getattr(hookspecs, name).__doc__ or ""
        assert len(doc.split()) >= 20, f"{name} needs a docstring saying when it is called and what it returns"


def test_builtin_plugins_load_without_errors(plugin_host):
    dists = {p.distribution for p in plugin_host.plugins}
    assert {"pycache", "pycache-gcc-clang", "pycache-rustc", "pycache-msvc", "pycache-nvcc"} <= dists
    assert plugin_host.load_errors == []
    assert [t.name for t in plugin_host.storage_types][0] == "local"


def test_a_plugin_that_fails_to_import_is_recorded_and_skipped(fake_distribution):
    fake_distribution("pycache-broken", modules={"broken_plugin": "raise RuntimeError('no SDK found')\n"},
                      entry_points={"broken": "broken_plugin"})
    host = build_host()
    error = next(e for e in host.load_errors if e.plugin == "broken")
    assert error.distribution == "pycache-broken"
    assert "RuntimeError: no SDK found" in error.message
    assert "broken_plugin" in error.traceback
    assert any(p.name == "gcc_clang" for p in host.plugins)  # the rest still loads
    with pytest.raises(PluginError, match="no SDK found"):
        build_host(strict=True)


def test_duplicate_family_names_both_distributions(make_plugin_host):
    host = make_plugin_host(("one", family_plugin("one", "toy")), ("two", family_plugin("two", "toy")),
                            load_entry_points=False)
    assert "toy" not in host.families
    assert any("registered by both one and two" in e.message for e in host.load_errors)


def test_api_version_mismatch_is_skipped_with_a_message(make_plugin_host):
    host = make_plugin_host(("old", family_plugin("old", "toy", api=API_VERSION + 1)), load_entry_points=False)
    assert "toy" not in host.families
    message = host.load_errors[0].message
    assert f"targets plugin API version {API_VERSION + 1}" in message and f"speaks version {API_VERSION}" in message


def test_misspelled_hook_fails_loudly(make_plugin_host):
    module = types.ModuleType("typo")

    @hookimpl
    def pycache_parse_argument(invocation, family):  # missing "s"
        return None

    module.pycache_parse_argument = pycache_parse_argument
    with pytest.raises(Exception, match="pycache_parse_argument"):
        make_plugin_host(("typo", module), load_entry_points=False)


def test_precedence_decides_between_families(make_plugin_host):
    host = make_plugin_host(
        ("low", family_plugin("low", "generic", precedence=0, executables=(r"toy.*",))),
        ("high", family_plugin("high", "special", precedence=10, executables=(r"toycc",))),
        load_entry_points=False,
    )
    assert host.family_for("toycc").name == "special"
    assert host.family_for("toyld").name == "generic"
    tie = make_plugin_host(
        ("a", family_plugin("a", "fa", executables=(r"toycc",))),
        ("b", family_plugin("b", "fb", executables=(r"toycc",))),
        load_entry_points=False,
    )
    assert tie.family_for("toycc") is None


def test_the_name_as_typed_decides_before_the_symlink_target(make_plugin_host):
    host = make_plugin_host(
        ("clang", family_plugin("clang", "clang-like", executables=(r"clang(-\d+)?",))),
        ("cl", family_plugin("cl", "cl-like", executables=(r"clang-cl",))),
        load_entry_points=False,
    )
    assert host.family_for("clang-cl", "clang-14").name == "cl-like"
    assert host.family_for("cc", "clang-14").name == "clang-like"
