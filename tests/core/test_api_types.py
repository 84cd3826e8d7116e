"""The types that cross the plugin boundary are immutable all the way down
(issue 10, part 3): a plugin cannot change an identity, an invocation or a
parsed call behind the core's back, through a field or through a mapping it
holds; they hash where they are values; and plugin code that reads them as
dicts keeps working.
"""

from __future__ import annotations

import copy
import dataclasses
import pickle
from pathlib import Path

import pytest

from pycache_core.api import (
    Artifact,
    CompilerFamily,
    CompilerIdentity,
    Dependencies,
    FrozenMap,
    Invocation,
    KeyComponent,
    OutputSlot,
    Outputs,
    ParsedInvocation,
)
from pycache_core.keys import digest_components


def identity(**details: str) -> CompilerIdentity:
    return CompilerIdentity(family="toy", path=Path("/usr/bin/toycc"), version="1.0", fingerprint="f1", details=details)


def invocation(env: dict[str, str]) -> Invocation:
    return Invocation(compiler=Path("/usr/bin/toycc"), invoked_as="toycc", arguments=["-c", "a.toy"],  # type: ignore[arg-type]
                      cwd=Path("/w"), env=env, family="toy")


def parsed(**overrides) -> ParsedInvocation:
    fields = dict(language="toy", sources=[Path("a.toy")], outputs={"object": OutputSlot(path=Path("a.out"))},
                  key_arguments=["--shout"], run_environment={"LC_ALL": "C"})
    fields.update(overrides)
    return ParsedInvocation(**fields)


def test_identity_details_cannot_be_changed_and_identities_hash():
    one = identity(kind="gcc", target="x86_64-linux-gnu")
    with pytest.raises(TypeError):
        one.details["kind"] = "clang"  # type: ignore[index]
    with pytest.raises(TypeError):
        del one.details["kind"]  # type: ignore[attr-defined]
    for mutator in ("pop", "update", "clear", "setdefault"):
        assert not hasattr(one.details, mutator)
    with pytest.raises(dataclasses.FrozenInstanceError):
        one.version = "2"  # type: ignore[misc]

    same = identity(kind="gcc", target="x86_64-linux-gnu")
    assert one == same and hash(one) == hash(same)
    assert len({one, same, identity(kind="clang")}) == 2
    assert one.details.get("kind") == "gcc" and one.details.get("missing", "") == ""
    assert dict(one.details) == {"kind": "gcc", "target": "x86_64-linux-gnu"}
    assert hash(identity()) == hash(identity())  # the default is an empty FrozenMap


def test_a_dict_passed_in_is_copied_not_shared():
    env = {"PATH": "/usr/bin", "CPATH": "/inc"}
    call = invocation(env)
    env["CPATH"] = "/elsewhere"
    env["NEW"] = "1"
    assert call.env.get("CPATH") == "/inc" and "NEW" not in call.env
    with pytest.raises(TypeError):
        call.env["CPATH"] = "/x"  # type: ignore[index]
    assert isinstance(call.arguments, tuple) and call.arguments == ("-c", "a.toy")
    assert list(call.env) == ["PATH", "CPATH"]  # insertion order kept
    assert {**call.env} == {"PATH": "/usr/bin", "CPATH": "/inc"} and len(call.env) == 2
    assert hash(call) == hash(invocation({"PATH": "/usr/bin", "CPATH": "/inc"}))


def test_parsed_invocation_is_frozen_through_its_mappings_and_hashes_with_any_private_state():
    one = parsed(private=["plugin", "state"])  # an unhashable private value
    assert isinstance(one.outputs, FrozenMap) and isinstance(one.run_environment, FrozenMap)
    assert isinstance(one.sources, tuple) and isinstance(one.key_arguments, tuple)
    with pytest.raises(TypeError):
        one.outputs["dwo"] = OutputSlot(path=Path("a.dwo"))  # type: ignore[index]
    with pytest.raises(TypeError):
        one.run_environment["LC_ALL"] = "fr_FR"  # type: ignore[index]
    assert [(role, slot.path) for role, slot in one.outputs.items()] == [("object", Path("a.out"))]
    assert hash(one) == hash(parsed(private={"other": "state"}))  # private is not hashed
    assert one != parsed(private=["other"])  # but compared
    assert parsed(run_environment=None).run_environment is None


def test_sequences_become_tuples_and_keys_do_not_change():
    listed = KeyComponent("arguments", ["-O2", "-g"])  # type: ignore[arg-type]
    assert listed.value == ("-O2", "-g") and hash(listed) == hash(KeyComponent("arguments", ("-O2", "-g")))
    assert digest_components([listed], purpose="result") == digest_components(
        [KeyComponent("arguments", ("-O2", "-g"))], purpose="result")

    deps = Dependencies(components=[listed], files=[Path("a.h")], absent=[Path("b.h")], env_names=["CPATH"])  # type: ignore[arg-type]
    assert (type(deps.components), type(deps.files), type(deps.absent), type(deps.env_names)) == (tuple,) * 4
    outputs = Outputs(artifacts=[Artifact(role="object", path=Path("a.out"))], dependencies=deps)  # type: ignore[arg-type]
    assert isinstance(outputs.artifacts, tuple) and hash(outputs) == hash(dataclasses.replace(outputs))
    family = CompilerFamily(name="toy", executables=["toycc"], cache_version="1", api_version=1)  # type: ignore[arg-type]
    assert family.executables == ("toycc",) and family.matches("toycc.exe")


def test_frozen_values_survive_copy_and_pickle():
    one = parsed(private=("state",))
    assert copy.deepcopy(one) == one and pickle.loads(pickle.dumps(one)) == one
    assert pickle.loads(pickle.dumps(identity(kind="gcc"))).details == {"kind": "gcc"}
    assert FrozenMap({"a": "1"}) == {"a": "1"} and FrozenMap({"a": "1"}) != {"a": "2"}
    assert repr(FrozenMap({"a": "1"})) == "FrozenMap({'a': '1'})"
