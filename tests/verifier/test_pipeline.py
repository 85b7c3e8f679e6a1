"""The verification pipeline: one check per rule, never an exception."""

import copy
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from credentials.proofs import add_proof
from keys.multikey import Ed25519KeyPair
from verifier import (
    IssuerRegistry,
    TrustedIssuer,
    verify_credential,
    verify_presentation,
)
from verifier.pipeline import CREDENTIAL_CHECKS, PRESENTATION_CHECKS

from .support import sign_without_safe_mode

VECTORS = Path(__file__).resolve().parents[1] / "vectors" / "peer"
INSIDE_VALIDITY = datetime(2026, 1, 1, tzinfo=UTC)
CHALLENGE = "3d6f1c9a-55e2-4b7e-9f60-8d2a1b0c4e11"
DOMAIN = "https://hr.verifier.example"


def load_vector(name: str) -> dict:
    return json.loads((VECTORS / name).read_text(encoding="utf-8"))


def check_ids(result) -> list[str]:
    return [check.id for check in result.checks]


def failed(result) -> dict[str, str]:
    return {check.id: check.message for check in result.checks if not check.passed}


def test_peer_credential_verified():
    result = verify_credential(
        load_vector("training-signed-rdfc.json"), now=INSIDE_VALIDITY
    )
    assert result.verified
    assert check_ids(result) == list(CREDENTIAL_CHECKS)


def test_json_text_accepted():
    text = (VECTORS / "training-signed-jcs.json").read_text(encoding="utf-8")
    assert verify_credential(text, now=INSIDE_VALIDITY).verified


def test_unknown_issuer_is_warning():
    result = verify_credential(
        load_vector("training-signed-rdfc.json"), now=INSIDE_VALIDITY
    )
    check = result.check("issuer-known")
    assert not check.passed
    assert check.severity == "warning"
    assert result.verified


def test_known_issuer_named():
    document = load_vector("training-signed-rdfc.json")
    registry = IssuerRegistry([TrustedIssuer(document["issuer"], "Colne Estuary")])
    result = verify_credential(document, now=INSIDE_VALIDITY, registry=registry)
    assert result.check("issuer-known").passed
    assert "Colne Estuary" in result.check("issuer-known").message


@pytest.mark.parametrize(
    ("instant", "passed"),
    [
        ("2025-06-01T06:59:59Z", False),
        ("2025-06-01T07:00:00Z", True),
        ("2025-06-01T08:00:00Z", True),
        ("2025-06-01T09:00:00Z", True),
        ("2025-06-01T09:00:01Z", False),
    ],
)
def test_offsets_compared_as_instants(instant, passed):
    # validFrom 08:00+01:00 is 07:00Z and validUntil 03:00-06:00 is 09:00Z,
    # although validUntil sorts before validFrom as a string.
    now = datetime.fromisoformat(instant.replace("Z", "+00:00"))
    result = verify_credential(load_vector("offset-signed-rdfc.json"), now=now)
    assert result.check("validity-period").passed is passed
    assert result.check("proof").passed


def test_expired_named():
    result = verify_credential(
        load_vector("training-signed-rdfc.json"),
        now=datetime(2027, 3, 15, tzinfo=UTC),
    )
    assert not result.verified
    assert "2027-03-14T09:30:00Z" in failed(result)["validity-period"]


def test_issuer_not_key_controller():
    pair = Ed25519KeyPair.generate()
    document = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential"],
        "issuer": Ed25519KeyPair.generate().did,
        "credentialSubject": {"id": "did:example:1"},
    }
    signed = add_proof(document, signer=pair)
    result = verify_credential(signed)
    assert result.check("proof").passed
    assert not result.check("verification-method").passed
    assert not result.verified


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ("{not json", "not valid JSON"),
        (b"\xff\xfe{}", "UTF-8"),
        ("[]", "JSON object"),
        ("42", "JSON object"),
        ("x" * 600_000, "limit"),
        ("[" * 40 + "]" * 40, "levels deep"),
        ({"@context": ["https://www.w3.org/ns/credentials/v2"]}, "type is missing"),
    ],
)
def test_unusable_input_fails_well_formed(document, expected):
    result = verify_credential(document)
    assert not result.verified
    assert check_ids(result) == list(CREDENTIAL_CHECKS)
    assert expected in failed(result)["well-formed"]


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("validFrom", "2025-03-14T09:30:00", "time zone"),
        ("validFrom", "2025-02-30T09:30:00Z", "real date"),
        ("issuer", "Chelmer Valley", "not a URL"),
        ("@context", ["https://www.w3.org/2018/credentials/v1"], "does not start"),
        ("type", ["TrainingCredential"], "VerifiableCredential"),
        ("credentialSubject", [], "non-empty"),
    ],
)
def test_data_model_problem_named(field, value, expected):
    document = load_vector("training-signed-rdfc.json")
    document[field] = value
    result = verify_credential(document, now=INSIDE_VALIDITY)
    assert expected in failed(result)["well-formed"]
    assert repr(value) in failed(result)["well-formed"] or field in str(
        failed(result)["well-formed"]
    )


def test_unbundled_context_named_not_fetched():
    document = load_vector("training-signed-rdfc.json")
    document["@context"].append("http://127.0.0.1:9/never-fetched.jsonld")
    result = verify_credential(document, now=INSIDE_VALIDITY)
    assert (
        "http://127.0.0.1:9/never-fetched.jsonld" in failed(result)["contexts-allowed"]
    )
    assert not result.check("proof").passed


@pytest.mark.parametrize("suite", ["eddsa-rdfc-2022", "eddsa-jcs-2022"])
def test_inline_vocab_refused(suite):
    # Signed by the issuer itself, so only the context check can refuse it.
    pair = Ed25519KeyPair.generate()
    document = {
        "@context": [
            "https://www.w3.org/ns/credentials/v2",
            {"@vocab": "https://vocab.example/v#"},
        ],
        "type": ["VerifiableCredential"],
        "issuer": pair.did,
        "credentialSubject": {"id": "did:example:1", "madeUpTerm": "x"},
    }
    signed = add_proof(document, signer=pair, cryptosuite=suite)

    result = verify_credential(signed)

    assert not result.verified
    assert "'https://vocab.example/v#'" in failed(result)["contexts-allowed"]


@pytest.mark.parametrize("suite", ["eddsa-rdfc-2022", "eddsa-jcs-2022"])
def test_undefined_term_rejected_by_rdfc_only(suite):
    pair = Ed25519KeyPair.generate()
    document = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential"],
        "issuer": pair.did,
        "credentialSubject": {"id": "did:example:1", "favouriteColour": "blue"},
    }
    signed = sign_without_safe_mode(pair, document, suite)

    result = verify_credential(signed)

    if suite == "eddsa-rdfc-2022":
        # RDF canonicalization would drop the term, so the signature would
        # not cover it.
        assert "favouriteColour" in failed(result)["contexts-allowed"]
        assert not result.verified
    else:
        assert result.verified
        assert "every member as written" in result.check("contexts-allowed").message
        signed["credentialSubject"]["favouriteColour"] = "red"
        assert not verify_credential(signed).check("proof").passed


@pytest.mark.parametrize("suite", ["eddsa-rdfc-2022", "eddsa-jcs-2022"])
def test_inline_import_of_unbundled_context_refused(suite):
    pair = Ed25519KeyPair.generate()
    document = {
        "@context": [
            "https://www.w3.org/ns/credentials/v2",
            {"@version": 1.1, "@import": "https://contexts.example/imported"},
        ],
        "type": ["VerifiableCredential"],
        "issuer": pair.did,
        "credentialSubject": {"id": "did:example:1"},
    }
    signed = sign_without_safe_mode(pair, document, suite)

    result = verify_credential(signed)

    assert not result.verified
    assert "https://contexts.example/imported" in failed(result)["contexts-allowed"]


def test_unknown_cryptosuite_fails_proof():
    document = load_vector("training-signed-rdfc.json")
    document["proof"]["cryptosuite"] = "bbs-2023"
    result = verify_credential(document, now=INSIDE_VALIDITY)
    assert "bbs-2023" in failed(result)["proof"]


def test_presentation_vector_verified():
    result = verify_presentation(
        load_vector("presentation-signed.json"),
        challenge=CHALLENGE,
        domain=DOMAIN,
        now=INSIDE_VALIDITY,
    )
    assert result.verified
    assert check_ids(result) == list(PRESENTATION_CHECKS)
    assert len(result.credentials) == 1
    assert result.credentials[0].verified


@pytest.mark.parametrize(
    ("challenge", "domain", "failing"),
    [
        ("another-challenge", DOMAIN, "challenge"),
        (CHALLENGE, "https://other.example", "domain"),
        (None, DOMAIN, "challenge"),
        (CHALLENGE, None, "domain"),
    ],
)
def test_presentation_challenge_and_domain(challenge, domain, failing):
    result = verify_presentation(
        load_vector("presentation-signed.json"),
        challenge=challenge,
        domain=domain,
        now=INSIDE_VALIDITY,
    )
    assert not result.verified
    assert set(failed(result)) == {failing}


def test_presentation_subject_not_holder():
    presentation = load_vector("presentation-signed.json")
    other = copy.deepcopy(presentation)
    other["holder"] = Ed25519KeyPair.generate().did
    result = verify_presentation(
        other, challenge=CHALLENGE, domain=DOMAIN, now=INSIDE_VALIDITY
    )
    assert not result.check("holder-binding").passed
    assert not result.check("verification-method").passed


def test_presentation_tampered_credential_fails():
    presentation = load_vector("presentation-signed.json")
    presentation["verifiableCredential"][0]["credentialSubject"]["level"] = "3"
    result = verify_presentation(
        presentation, challenge=CHALLENGE, domain=DOMAIN, now=INSIDE_VALIDITY
    )
    assert not result.verified
    assert not result.credentials[0].check("proof").passed


def test_presentation_without_proof():
    presentation = load_vector("presentation-signed.json")
    del presentation["proof"]
    result = verify_presentation(
        presentation, challenge=CHALLENGE, domain=DOMAIN, now=INSIDE_VALIDITY
    )
    assert not result.verified
    assert "no proof" in failed(result)["proof"]


def test_result_json_shape():
    result = verify_credential(
        load_vector("training-signed-rdfc.json"), now=INSIDE_VALIDITY
    )
    output = result.to_json()
    assert output["verified"] is True
    assert set(output["checks"][0]) == {"id", "passed", "message", "severity"}


def test_jcs_inline_context_redefining_protected_term_refused():
    pair = Ed25519KeyPair.generate()
    document = {
        "@context": [
            "https://www.w3.org/ns/credentials/v2",
            {"VerifiableCredential": "https://evil.example/NotACredential"},
        ],
        "type": ["VerifiableCredential"],
        "issuer": pair.did,
        "credentialSubject": {"id": "did:example:1"},
    }
    signed = sign_without_safe_mode(pair, document, "eddsa-jcs-2022")

    result = verify_credential(signed)

    assert not result.verified
    assert "protected" in failed(result)["contexts-allowed"]


def test_jcs_inline_context_defining_new_term_verified():
    pair = Ed25519KeyPair.generate()
    document = {
        "@context": [
            "https://www.w3.org/ns/credentials/v2",
            {"favouriteColour": "https://vocab.example/v#favouriteColour"},
        ],
        "type": ["VerifiableCredential"],
        "issuer": pair.did,
        "credentialSubject": {"id": "did:example:1", "favouriteColour": "blue"},
    }
    signed = sign_without_safe_mode(pair, document, "eddsa-jcs-2022")

    result = verify_credential(signed)

    assert result.verified
    assert result.check("contexts-allowed").message.startswith("Every context")
