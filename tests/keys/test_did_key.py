import pytest

from keys.did_key import did_of, resolve_did_key
from keys.errors import InvalidDid
from keys.multibase import encode_base58btc
from keys.multikey import Ed25519KeyPair


def test_document_lists_key_for_every_purpose():
    pair = Ed25519KeyPair.generate()
    document = resolve_did_key(pair.did)
    method = document["verificationMethod"][0]
    assert document["id"] == pair.did
    assert method["id"] == pair.verification_method_id
    assert method["publicKeyMultibase"] == pair.public_key_multibase
    assert document["assertionMethod"] == [pair.verification_method_id]
    assert document["authentication"] == [pair.verification_method_id]


@pytest.mark.parametrize(
    ("did", "named"),
    [
        ("did:key:" + encode_base58btc(b"\xe7\x01" + bytes(33)), "secp256k1"),
        ("did:key:" + encode_base58btc(b"\x80\x24" + bytes(33)), "P-256"),
        ("did:key:z6Mk", "multicodec header"),
        ("did:web:example.com", "not a did:key"),
        ("did:key:", "does not start"),
    ],
)
def test_unusable_did_rejected(did, named):
    with pytest.raises(InvalidDid, match=named):
        resolve_did_key(did)


def test_did_of_strips_fragment_and_query():
    assert did_of("did:key:z6Mkabc#z6Mkabc") == "did:key:z6Mkabc"
    assert did_of("did:web:x.example?versionId=1") == "did:web:x.example"
