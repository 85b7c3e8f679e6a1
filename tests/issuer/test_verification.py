"""Credentials from this issuer through the verifier: rotation, compromise, status."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session

from credentials.proofs import add_proof
from credentials.status_list import build_status_entry
from issuer.organisations import get_organisation, mark_key_compromised, rotate_key
from issuer.signing import signer_for
from issuer.status_lists import change_status
from passport.verification import platform_sources
from tests.issuer.helpers import issued_with_status
from verifier import verify_credential

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
# Status lists are signed with the real clock, so verification runs just
# after it.
NOW = datetime.now(UTC) + timedelta(minutes=5)
HOLDER = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"


def unsigned_credential(organisation, credential_id="urn:uuid:c-1", status=None):
    credential = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": credential_id,
        "type": ["VerifiableCredential"],
        "issuer": organisation.did,
        "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": {"id": HOLDER},
    }
    if status is not None:
        credential["credentialStatus"] = status
    return credential


def sign(session, key_store, organisation, credential, created):
    signer = signer_for(session, key_store, organisation, None)
    return add_proof(credential, signer=signer, created=created)


def verify(database_url, credential):
    with platform_sources(database_url) as sources:
        return verify_credential(credential, now=NOW, **sources)


def test_signed_before_rotation_verifies_after(
    seeded_session, seeded_database_url, key_store, chelmer
):
    signed = sign(seeded_session, key_store, chelmer, unsigned_credential(chelmer), T0)
    rotate_key(seeded_session, key_store, chelmer, actor="t", at=T0 + timedelta(days=1))
    seeded_session.commit()

    result = verify(seeded_database_url, signed)

    assert result.verified, result.to_json()
    assert signed["proof"]["verificationMethod"].endswith("#key-1")
    assert result.check("key-valid-at-issuance").passed


def test_new_key_signs_after_rotation(
    seeded_session, seeded_database_url, key_store, chelmer
):
    rotate_key(seeded_session, key_store, chelmer, actor="t", at=T0)
    seeded_session.commit()
    signed = sign(seeded_session, key_store, chelmer, unsigned_credential(chelmer), T0)

    result = verify(seeded_database_url, signed)

    assert signed["proof"]["verificationMethod"].endswith("#key-2")
    assert result.verified, result.to_json()


def test_signed_after_compromise_fails(
    seeded_session, seeded_database_url, key_store, chelmer
):
    key_1 = chelmer.verification_method_id
    before = sign(seeded_session, key_store, chelmer, unsigned_credential(chelmer), T0)
    after = sign(
        seeded_session,
        key_store,
        chelmer,
        unsigned_credential(chelmer, "urn:uuid:c-2"),
        T0 + timedelta(days=2),
    )
    mark_key_compromised(
        seeded_session,
        key_store,
        chelmer,
        key_1,
        since=T0 + timedelta(days=1),
        reason="private key found on a shared drive",
        actor="t",
    )
    seeded_session.commit()

    good = verify(seeded_database_url, before)
    bad = verify(seeded_database_url, after)

    assert good.verified, good.to_json()
    assert not bad.verified
    assert not bad.check("key-valid-at-issuance").passed
    message = bad.check("key-valid-at-issuance").message
    assert "on or after 2026-03-02T09:00:00+00:00" in message
    assert "the issuer reported the key compromised" in message
    assert bad.check("proof").passed


def test_did_key_signed_after_compromise_fails(
    seeded_session, seeded_database_url, key_store, chelmer
):
    signer = signer_for(seeded_session, key_store, chelmer, chelmer.did_key)
    credential = unsigned_credential(chelmer)
    credential["issuer"] = chelmer.did_key
    signed = add_proof(credential, signer=signer, created=T0 + timedelta(days=2))
    mark_key_compromised(
        seeded_session,
        key_store,
        chelmer,
        chelmer.verification_method_id,
        since=T0,
        reason="x",
        actor="t",
    )
    seeded_session.commit()

    result = verify(seeded_database_url, signed)

    assert not result.check("key-valid-at-issuance").passed


def test_verifier_uses_named_key_not_first(
    seeded_session, seeded_database_url, key_store, chelmer
):
    rotate_key(seeded_session, key_store, chelmer, actor="t", at=T0)
    seeded_session.commit()
    signed = sign(seeded_session, key_store, chelmer, unsigned_credential(chelmer), T0)
    # Claiming key-1 for a key-2 signature must fail: the key named is used.
    forged = json.loads(json.dumps(signed))
    forged["proof"]["verificationMethod"] = chelmer.did + "#key-1"

    assert verify(seeded_database_url, signed).verified
    assert not verify(seeded_database_url, forged).check("proof").passed


def status_credential(session, key_store, organisation):
    issued, entries = issued_with_status(session, key_store, organisation)
    credential = unsigned_credential(organisation, issued.id, entries)
    return sign(session, key_store, organisation, credential, T0)


def test_active_credential_passes_status(
    seeded_session, seeded_database_url, key_store, chelmer
):
    signed = status_credential(seeded_session, key_store, chelmer)

    result = verify(seeded_database_url, signed)

    assert result.verified, [c for c in result.checks if not c.passed]
    assert result.check("status").message.startswith("Not revoked or suspended")


@pytest.mark.parametrize(
    ("action", "word"), [("revoke", "revoked"), ("suspend", "suspended")]
)
def test_revoked_or_suspended_fails_status(
    seeded_session, seeded_database_url, key_store, chelmer, action, word
):
    signed = status_credential(seeded_session, key_store, chelmer)
    change_status(
        seeded_session, key_store, chelmer, signed["id"], action, reason="x", actor="t"
    )
    seeded_session.commit()

    result = verify(seeded_database_url, signed)

    assert not result.verified
    assert f"The issuer has {word} this credential" in result.check("status").message


def test_reinstated_credential_passes(
    seeded_session, seeded_database_url, key_store, chelmer
):
    signed = status_credential(seeded_session, key_store, chelmer)
    for action in ("suspend", "reinstate"):
        change_status(
            seeded_session,
            key_store,
            chelmer,
            signed["id"],
            action,
            reason="x",
            actor="t",
        )
    seeded_session.commit()

    assert verify(seeded_database_url, signed).verified


def test_no_status_source_is_warning(
    seeded_session, seeded_database_url, key_store, chelmer
):
    signed = status_credential(seeded_session, key_store, chelmer)

    with platform_sources(seeded_database_url) as sources:
        sources["status_lists"] = None
        result = verify_credential(signed, now=NOW, **sources)

    assert result.check("proof").passed
    check = result.check("status")
    assert not check.passed
    assert check.severity == "warning"
    assert "Live status was not checked" in check.message


def test_list_outside_platform_fails_closed(
    seeded_session, seeded_database_url, key_store, chelmer
):
    entry = build_status_entry("https://elsewhere.example/status/1", "revocation", 5)
    signed = sign(
        seeded_session,
        key_store,
        chelmer,
        unsigned_credential(chelmer, status=[entry]),
        T0,
    )

    result = verify(seeded_database_url, signed)

    assert not result.verified
    assert "it was not fetched" in result.check("status").message


def _documents(session: Session) -> dict:
    from issuer.organisations import platform_did_documents

    return platform_did_documents(session)


def test_organisation_lookup_by_slug(seeded_session):
    assert get_organisation(seeded_session, "chelmer-valley").did.startswith("did:web:")
