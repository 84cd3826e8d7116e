from pycache_core.api import KeyComponent
from pycache_core.keys import KEY_SCHEMA_VERSION, digest_components, encode_components


def key(*components, purpose="result"):
    return digest_components([KeyComponent(n, v) for n, v in components], purpose=purpose)


def test_argument_boundaries_are_part_of_the_key():
    # ccache's hash_delimiter lesson: "-I -O2" and "-I-O2" must not collide.
    assert key(("arguments", ("-I", "-O2"))) != key(("arguments", ("-I-O2",)))
    assert key(("a", "bc")) != key(("ab", "c"))
    assert key(("a", "x"), ("b", "y")) != key(("a", "xb"), ("", "y"))


def test_value_types_are_tagged():
    assert key(("v", "abc")) != key(("v", b"abc"))
    assert key(("v", ("abc",))) != key(("v", "abc"))


def test_order_and_purpose_matter():
    assert key(("a", "1"), ("b", "2")) != key(("b", "2"), ("a", "1"))
    assert key(("a", "1"), purpose="result") != key(("a", "1"), purpose="manifest")


def test_encoding_leads_with_the_schema_version():
    encoded = encode_components([KeyComponent("a", "1")], purpose="result")
    assert encoded.startswith(b"pycache-key")
    assert str(KEY_SCHEMA_VERSION).encode() in encoded[:32]


def test_same_components_same_key():
    assert key(("arguments", ("-O2", "-g")), ("source", b"int x;")) == key(("arguments", ("-O2", "-g")), ("source", b"int x;"))
