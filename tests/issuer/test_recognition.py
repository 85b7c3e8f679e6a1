"""Issuing an accepted subject as the receiving organisation's own record,
on SQLite and PostgreSQL."""

import json
from datetime import date

import pytest

from issuer.errors import CredentialRejected
from issuer.models import IssuedCredential
from issuer.recognition import Recognition, issue_recognised_training
from issuer.service import pending_offers
from tests.issuer.helpers import verify_with_platform
from wallet_web.holders import create_wallet

COMPLETED = date(2025, 11, 3)


def _recognition(holder_did: str, code: str = "FS") -> Recognition:
    return Recognition(
        holder_did=holder_did,
        display_name="Robin EXAMPLE",
        subject_code=code,
        completed=COMPLETED,
        source_credential_id="urn:uuid:00000000-0000-4000-8000-000000000001",
    )


def test_issued_once_and_offered(seeded_session, key_store, colne, seeded_database_url):
    wallet = create_wallet(seeded_session, key_store, "Robin EXAMPLE")

    first = issue_recognised_training(
        seeded_session, key_store, colne, _recognition(wallet.holder_did), actor="hr"
    )
    again = issue_recognised_training(
        seeded_session, key_store, colne, _recognition(wallet.holder_did), actor="hr"
    )
    seeded_session.commit()

    assert not first.already_issued
    assert first.offered
    assert again.already_issued
    assert again.credential_id == first.credential_id
    issued = seeded_session.get(IssuedCredential, first.credential_id)
    assert issued.subject_code == "FS"
    assert issued.completed_on == "2025-11-03"
    assert issued.holder_did == wallet.holder_did
    offers = pending_offers(seeded_session, wallet.id)
    assert [offer.id for offer in offers] == [first.credential_id]
    document = issued.document
    assert colne.did in document
    result = verify_with_platform(seeded_database_url, json.loads(document))
    assert result.verified, result.to_json()


def test_holder_without_wallet_not_offered(seeded_session, key_store, colne):
    outcome = issue_recognised_training(
        seeded_session,
        key_store,
        colne,
        _recognition("did:key:z6MkpTHR8VNsBxYAAWHut2Geadd9jSwuBV8xRoAnwWsdvktH"),
        actor="hr",
    )

    assert outcome.offered is False
    issued = seeded_session.get(IssuedCredential, outcome.credential_id)
    assert issued.delivery == "returned"
    assert issued.staff_record_id is None


def test_unknown_subject_rejected(seeded_session, key_store, colne):
    with pytest.raises(CredentialRejected, match="'XYZ'"):
        issue_recognised_training(
            seeded_session,
            key_store,
            colne,
            _recognition(
                "did:key:z6MkpTHR8VNsBxYAAWHut2Geadd9jSwuBV8xRoAnwWsdvktH", "XYZ"
            ),
            actor="hr",
        )


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("Robin " + "E" * 300, "at most 200 characters"),
        ("Robin\u202eEXAMPLE", r"U\+202E"),
    ],
)
def test_unusable_holder_name_rejected(
    seeded_session, key_store, colne, name, fragment
):
    wallet = create_wallet(seeded_session, key_store, "Robin EXAMPLE")
    recognition = Recognition(
        holder_did=wallet.holder_did,
        display_name=name,
        subject_code="FS",
        completed=COMPLETED,
    )

    with pytest.raises(CredentialRejected, match=fragment):
        issue_recognised_training(
            seeded_session, key_store, colne, recognition, actor="hr"
        )
