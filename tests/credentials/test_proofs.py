"""Data Integrity proofs: known answers, round trips and rejected input.

The known answers are the files in tests/vectors/peer, made by Digital
Bazaar's JavaScript libraries (see the README there).
"""

import copy
import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from credentials.errors import (
    ContextNotAllowed,
    ProofError,
    UndefinedTerm,
    UnsupportedCryptosuite,
)
from credentials.proofs import (
    add_proof,
    parse_proof,
    resolve_verification_method,
    verify_signature,
)
from issuer.subjects import subject_by_code
from issuer.training import build_training_credential
from keys.multibase import ED25519_PUBLIC_HEADER, encode_base58btc
from keys.multikey import Ed25519KeyPair

VECTORS = Path(__file__).resolve().parents[1] / "vectors" / "peer"
SUITES = ("eddsa-rdfc-2022", "eddsa-jcs-2022")
# Inside the validity period of the training credentials built below.
NOW = datetime(2026, 1, 1, tzinfo=UTC)


def encode_public_key_multibase_unchecked(raw: bytes) -> str:
    return encode_base58btc(ED25519_PUBLIC_HEADER + raw)


def load_vector(name: str) -> dict:
    return json.loads((VECTORS / name).read_text(encoding="utf-8"))


def issuer_key() -> Ed25519KeyPair:
    return Ed25519KeyPair.from_multikey(load_vector("issuer-key.json"))


def verifies(document: dict) -> bool:
    proof = parse_proof(document)
    key = resolve_verification_method(proof.verification_method, proof.proof_purpose)
    return verify_signature(document, proof, key)


@pytest.mark.parametrize(
    ("unsigned_name", "signed_name"),
    [
        ("training-unsigned.json", "training-signed-rdfc.json"),
        ("training-unsigned.json", "training-signed-jcs.json"),
        ("offset-unsigned.json", "offset-signed-rdfc.json"),
    ],
)
def test_peer_vector_reproduced(unsigned_name, signed_name):
    expected = load_vector(signed_name)
    unsigned = load_vector(unsigned_name)
    pair = issuer_key()
    unsigned.setdefault("issuer", pair.controller)
    signed = add_proof(
        unsigned,
        signer=pair,
        cryptosuite=expected["proof"]["cryptosuite"],
        created=expected["proof"]["created"],
    )
    assert signed["proof"]["proofValue"] == expected["proof"]["proofValue"]
    assert signed["proof"] == expected["proof"]


@pytest.mark.parametrize(
    "name",
    [
        "training-signed-rdfc.json",
        "training-signed-jcs.json",
        "offset-signed-rdfc.json",
    ],
)
def test_peer_vector_verifies(name):
    assert verifies(load_vector(name))


def test_presentation_vector_verifies():
    presentation = load_vector("presentation-signed.json")
    assert verifies(presentation)
    assert verifies(presentation["verifiableCredential"][0])


def test_jcs_proof_carries_context():
    pair = Ed25519KeyPair.generate()
    document = minimal_credential(pair.did)
    signed = add_proof(document, signer=pair, cryptosuite="eddsa-jcs-2022")
    assert signed["proof"]["@context"] == document["@context"]
    rdfc = add_proof(document, signer=pair, cryptosuite="eddsa-rdfc-2022")
    assert "@context" not in rdfc["proof"]


def minimal_credential(issuer: str) -> dict:
    return {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential"],
        "issuer": issuer,
        "credentialSubject": {"id": "did:example:1"},
    }


def training_credential(pair: Ed25519KeyPair, holder: str) -> dict:
    return build_training_credential(
        credential_id="urn:uuid:6f1f1c2a-6a3e-4a53-9d7c-2a1b3c4d5e6f",
        issuer_id=pair.did,
        holder_id=holder,
        display_name="Siân EXAMPLE",
        subject=subject_by_code("RES2A"),
        completed=date(2025, 11, 3),
        cstf_aligned=True,
    )


def leaf_paths(value, path=()):
    """Yield the path of every scalar in a JSON value."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from leaf_paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from leaf_paths(item, (*path, index))
    else:
        yield path


def changed(value):
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if value.startswith("did:key:z6Mk"):
        return Ed25519KeyPair.generate().did + value[len(value.split("#")[0]) :]
    if value.startswith("z") and len(value) > 40:
        return value[:-2] + ("1" if value[-2] != "1" else "2") + value[-1]
    if "T00:00:00Z" in value:
        return value.replace("T00:00:00Z", "T00:00:01Z")
    return value + "x"


def set_path(document, path, value):
    target = document
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value


@pytest.mark.parametrize("suite", SUITES)
def test_every_changed_field_fails(suite):
    from verifier import verify_credential

    pair = Ed25519KeyPair.generate()
    holder = Ed25519KeyPair.generate().did
    signed = add_proof(
        training_credential(pair, holder),
        signer=pair,
        cryptosuite=suite,
        created="2025-11-03T12:00:00Z",
    )
    assert verify_credential(signed, now=NOW).verified
    paths = list(leaf_paths(signed))
    assert len(paths) > 30
    for path in paths:
        tampered = copy.deepcopy(signed)
        original = path and tampered
        for key in path:
            original = original[key]
        set_path(tampered, path, changed(original))
        result = verify_credential(tampered, now=NOW)
        assert not result.verified, f"changing {'.'.join(map(str, path))} verified"


@pytest.mark.parametrize("suite", SUITES)
def test_added_and_removed_fields_fail(suite):
    from verifier import verify_credential

    pair = Ed25519KeyPair.generate()
    signed = add_proof(
        training_credential(pair, Ed25519KeyPair.generate().did),
        signer=pair,
        cryptosuite=suite,
    )
    removed = copy.deepcopy(signed)
    del removed["credentialSubject"]["level"]
    assert not verify_credential(removed, now=NOW).verified
    added = copy.deepcopy(signed)
    added["credentialSubject"]["completionDate"] = "2025-11-04"
    assert not verify_credential(added, now=NOW).verified
    added_name = copy.deepcopy(signed)
    added_name["description"] = "added after signing"
    assert not verify_credential(added_name, now=NOW).verified


def test_unknown_context_rejected_by_name():
    pair = Ed25519KeyPair.generate()
    document = {
        "@context": [
            "https://www.w3.org/ns/credentials/v2",
            "https://evil.example/context.jsonld",
        ],
        "type": ["VerifiableCredential"],
        "issuer": pair.did,
        "credentialSubject": {"id": "did:example:1"},
    }
    with pytest.raises(ContextNotAllowed) as raised:
        add_proof(document, signer=pair)
    assert "https://evil.example/context.jsonld" in str(raised.value)


@pytest.mark.parametrize("suite", SUITES)
def test_undefined_term_rejected(suite):
    pair = Ed25519KeyPair.generate()
    document = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential"],
        "issuer": pair.did,
        "credentialSubject": {"id": "did:example:1", "favouriteColour": "blue"},
    }
    with pytest.raises(UndefinedTerm) as raised:
        add_proof(document, signer=pair, cryptosuite=suite)
    assert "favouriteColour" in str(raised.value)


def test_unknown_cryptosuite_named():
    pair = Ed25519KeyPair.generate()
    document = minimal_credential(pair.did)
    with pytest.raises(UnsupportedCryptosuite) as raised:
        add_proof(document, signer=pair, cryptosuite="ecdsa-rdfc-2019")
    assert "ecdsa-rdfc-2019" in str(raised.value)


def test_proof_set_rejected():
    signed = load_vector("training-signed-rdfc.json")
    signed["proof"] = [signed["proof"], signed["proof"]]
    with pytest.raises(ProofError, match="proof set"):
        parse_proof(signed)


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("cryptosuite", "eddsa-2022", "eddsa-2022"),
        ("type", "Ed25519Signature2020", "Ed25519Signature2020"),
        ("proofValue", "zabc", "64"),
        ("proofValue", "uAAAA", "base58btc"),
        ("verificationMethod", "not a url", "not a URL"),
        ("created", "2025-03-14T10:00:00", "time zone"),
    ],
)
def test_malformed_proof_named(field, value, expected):
    signed = load_vector("training-signed-rdfc.json")
    signed["proof"][field] = value
    with pytest.raises((ProofError, UnsupportedCryptosuite)) as raised:
        parse_proof(signed)
    assert expected in str(raised.value)


@pytest.mark.parametrize(
    ("did", "expected"),
    [
        ("did:key:zQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYBme", "secp256k1"),
        ("did:key:zDnaerDaTF5BXEavCrfRZEk316dpbLsfPDZ3WJ5hRTPFU2169", "P-256"),
        ("did:key:" + encode_public_key_multibase_unchecked(bytes(31)), "31 key bytes"),
        ("did:key:zzzz0OIl", "base58btc"),
        ("did:web:example.com", "did:key"),
    ],
)
def test_non_ed25519_keys_named(did, expected):
    with pytest.raises(ProofError) as raised:
        resolve_verification_method(f"{did}#key-1", "assertionMethod")
    assert expected in str(raised.value)


def test_method_chosen_by_exact_id():
    pair = Ed25519KeyPair.generate()
    with pytest.raises(ProofError, match="not in the DID document"):
        resolve_verification_method(f"{pair.did}#other-key", "assertionMethod")
