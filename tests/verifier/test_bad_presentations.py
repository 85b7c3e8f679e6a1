"""Bad presentations: each gives a clear failed check, never an exception."""

import copy
import json
from datetime import UTC, date, datetime

import pytest

from credentials.presentations import create_presentation
from credentials.proofs import AUTHENTICATION, add_proof
from verifier import verify_presentation

from .support import issuer_key, training_credential

NOW = datetime(2026, 3, 31, tzinfo=UTC)
CHALLENGE = "challenge-0001"
DOMAIN = "https://hr.colne-estuary.example"
ISSUER = issuer_key(1)
HOLDER = issuer_key(2)


def presentation(subject_did: str = HOLDER.controller) -> dict:
    credential = training_credential(ISSUER, subject_did, "FS", date(2025, 6, 1))
    return add_proof(
        create_presentation([credential], holder=HOLDER.controller),
        signer=HOLDER,
        cryptosuite="eddsa-jcs-2022",
        proof_purpose=AUTHENTICATION,
        challenge=CHALLENGE,
        domain=DOMAIN,
    )


def verify(document):
    return verify_presentation(document, challenge=CHALLENGE, domain=DOMAIN, now=NOW)


def test_good_presentation_verified():
    assert verify(presentation()).verified


def test_extra_proof_fails():
    document = presentation()
    document["proof"] = [document["proof"], copy.deepcopy(document["proof"])]

    result = verify(document)

    assert not result.check("proof").passed
    assert "proof" in result.check("proof").message.lower()
    assert not result.verified


def test_missing_proof_fails():
    document = presentation()
    del document["proof"]

    result = verify(document)

    assert not result.check("proof").passed
    assert not result.verified


def test_subject_not_presenter_fails():
    result = verify(presentation(subject_did=issuer_key(3).controller))

    assert not result.check("holder-binding").passed
    assert "other than the holder" in result.check("holder-binding").message


def test_challenge_of_other_verifier_fails():
    result = verify_presentation(
        presentation(), challenge="my-own-challenge", domain=DOMAIN, now=NOW
    )

    assert not result.check("challenge").passed
    assert not result.verified


def test_huge_presentation_fails():
    document = presentation()
    document["verifiableCredential"] = document["verifiableCredential"] * 400

    result = verify(json.dumps(document))

    assert not result.check("well-formed").passed
    assert "limit" in result.check("well-formed").message


@pytest.mark.parametrize("text", ["", "[]", "{", '{"type": "VerifiablePresentation"}'])
def test_garbage_fails_cleanly(text):
    result = verify(text)

    assert not result.verified
    assert not result.check("well-formed").passed
