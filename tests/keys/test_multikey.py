import json
from pathlib import Path

import pytest

from keys.errors import InvalidKey
from keys.multikey import Ed25519KeyPair

VECTORS = Path(__file__).parent.parent / "vectors" / "peer"


def test_peer_key_file_loads():
    document = json.loads((VECTORS / "issuer-key.json").read_text())
    pair = Ed25519KeyPair.from_multikey(document)
    assert pair.did == document["controller"]
    assert pair.verification_method_id == document["id"]


def test_key_file_round_trip():
    pair = Ed25519KeyPair.generate()
    loaded = Ed25519KeyPair.from_multikey(pair.to_multikey(include_secret=True))
    assert loaded.public_key_multibase == pair.public_key_multibase


def test_public_export_has_no_secret():
    document = Ed25519KeyPair.generate().to_multikey()
    assert "secretKeyMultibase" not in document
    assert set(document) == {"type", "controller", "id", "publicKeyMultibase"}


def test_repr_hides_secret():
    pair = Ed25519KeyPair.generate()
    assert pair.secret_key_multibase not in repr(pair)


def test_mismatched_public_key_rejected():
    document = Ed25519KeyPair.generate().to_multikey(include_secret=True)
    document["publicKeyMultibase"] = Ed25519KeyPair.generate().public_key_multibase
    with pytest.raises(InvalidKey, match="does not belong"):
        Ed25519KeyPair.from_multikey(document)


def test_key_file_without_secret_rejected():
    with pytest.raises(InvalidKey, match="secretKeyMultibase"):
        Ed25519KeyPair.from_multikey(Ed25519KeyPair.generate().to_multikey())


def test_wrong_key_type_rejected():
    document = Ed25519KeyPair.generate().to_multikey(include_secret=True)
    document["type"] = "JsonWebKey2020"
    with pytest.raises(InvalidKey, match="JsonWebKey2020"):
        Ed25519KeyPair.from_multikey(document)


@pytest.mark.parametrize("length", [31, 33])
def test_seed_length_checked(length):
    with pytest.raises(InvalidKey):
        Ed25519KeyPair.from_seed(bytes(length))


def test_signature_verifies_and_tamper_fails():
    pair = Ed25519KeyPair.generate()
    signature = pair.sign(b"data")
    public = pair.public_multikey()
    assert public.verify(signature, b"data")
    assert not public.verify(signature, b"datA")
