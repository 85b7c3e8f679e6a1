import io
import json
from datetime import UTC, date, datetime, timedelta

import pytest
from PIL import Image
from sqlmodel import select

from audit.log import recent_entries
from examples.synthetic_export import export_rows, write_export
from issuer.delivery import (
    accept_offer,
    claim_qr_png,
    create_claim_code,
    credential_states,
    decline_offer,
    find_staff_record,
    normalise_code,
    pending_offers,
    redeem_claim_code,
)
from issuer.errors import ClaimCodeInvalid, CredentialNotFound, IssuerError
from issuer.importer import import_training_export, reference_secret
from issuer.models import ClaimCode, IssuedCredential
from issuer.status_lists import change_status
from tests.conftest import TEST_PASSPHRASE
from tests.issuer.conftest import BASE_URL
from tests.issuer.helpers import verify_with_platform
from tests.web_support import read_qr_codes
from wallet_web.service import wallet_credentials

SECRET = reference_secret(TEST_PASSPHRASE)
NUMBER = "99000001"


@pytest.fixture
def imported(seeded_session, key_store, chelmer, tmp_path):
    path = tmp_path / "export.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        write_export(handle, export_rows(2, subjects=4))
    import_training_export(
        seeded_session, key_store, chelmer, path, secret=SECRET, as_of=date(2026, 3, 31)
    )
    return find_staff_record(seeded_session, chelmer, SECRET, NUMBER)


def new_code(session, organisation, record, **options):
    code = create_claim_code(
        session, organisation, record, base_url=BASE_URL, actor="account:1", **options
    )
    session.commit()
    return code


def claim(session, key_store, organisation, record, wallet_id=None):
    """Create a claim code for ``record`` and redeem it at once."""
    code = new_code(session, organisation, record).code
    return redeem_claim_code(session, key_store, code, wallet_id=wallet_id, actor="a")


def test_code_shape_and_link(seeded_session, chelmer, imported):
    new = new_code(seeded_session, chelmer, imported)

    groups = new.code.split("-")
    assert [len(group) for group in groups] == [4, 4, 4, 4]
    assert new.link == f"{BASE_URL}/claim#{new.code}"
    stored = seeded_session.exec(select(ClaimCode)).one()
    assert new.code not in stored.code_hash
    assert len(stored.code_hash) == 64


def test_normalise_code_reads_lookalikes():
    assert normalise_code(" abcd-efgh-ijkl-mnop ") == "ABCDEFGH1JK1MN0P"


def test_claim_creates_wallet_and_offers(seeded_session, key_store, chelmer, imported):
    new = new_code(seeded_session, chelmer, imported)

    result = redeem_claim_code(
        seeded_session, key_store, new.code, wallet_id=None, actor="anonymous"
    )
    seeded_session.commit()

    assert len(result.offered) == 4
    assert result.holder_did.startswith("did:key:")
    offers = pending_offers(seeded_session, result.wallet_id)
    assert {offer.id for offer in offers} == set(result.offered)
    document = json.loads(offers[0].document)
    assert document["credentialSubject"]["id"] == result.holder_did
    assert "proof" in document


def test_claimed_credentials_verify(
    seeded_session, seeded_database_url, key_store, chelmer, imported
):
    new = new_code(seeded_session, chelmer, imported)
    result = redeem_claim_code(
        seeded_session, key_store, new.code, wallet_id=None, actor="anonymous"
    )
    seeded_session.commit()
    document = json.loads(pending_offers(seeded_session, result.wallet_id)[0].document)

    verified = verify_with_platform(seeded_database_url, document)

    assert verified.verified, [c for c in verified.checks if not c.passed]


def test_code_works_once(seeded_session, key_store, chelmer, imported):
    new = new_code(seeded_session, chelmer, imported)
    redeem_claim_code(seeded_session, key_store, new.code, wallet_id=None, actor="a")
    seeded_session.commit()

    with pytest.raises(ClaimCodeInvalid, match="already used"):
        redeem_claim_code(
            seeded_session, key_store, new.code, wallet_id=None, actor="b"
        )


def test_code_expires(seeded_session, key_store, chelmer, imported):
    created = datetime.now(UTC) - timedelta(days=20)
    new = new_code(seeded_session, chelmer, imported, at=created)

    with pytest.raises(ClaimCodeInvalid, match="expired on"):
        redeem_claim_code(
            seeded_session, key_store, new.code, wallet_id=None, actor="a"
        )
    assert imported.wallet_id is None


def test_unknown_code_rejected(seeded_session, key_store):
    with pytest.raises(ClaimCodeInvalid, match="not known"):
        redeem_claim_code(
            seeded_session, key_store, "AAAA-BBBB-CCCC-DDDD", wallet_id=None, actor="a"
        )


def test_typed_code_with_lowercase(seeded_session, key_store, chelmer, imported):
    new = new_code(seeded_session, chelmer, imported)

    result = redeem_claim_code(
        seeded_session,
        key_store,
        new.code.lower().replace("-", " "),
        wallet_id=None,
        actor="a",
    )

    assert len(result.offered) == 4


def test_claim_into_existing_wallet(seeded_session, key_store, chelmer, imported):
    first = claim(seeded_session, key_store, chelmer, imported)
    other = find_staff_record(seeded_session, chelmer, SECRET, "99000002")

    second = claim(seeded_session, key_store, chelmer, other, first.wallet_id)

    assert second.wallet_id == first.wallet_id
    assert second.holder_did == first.holder_did
    assert len(pending_offers(seeded_session, first.wallet_id)) == 8


def test_accept_puts_in_wallet(seeded_session, key_store, chelmer, imported):
    result = claim(seeded_session, key_store, chelmer, imported)

    accepted = accept_offer(
        seeded_session, result.wallet_id, result.offered[0], actor="a"
    )
    seeded_session.commit()

    held = wallet_credentials(seeded_session, result.wallet_id)
    assert [row.credential_id for row in held] == [accepted.id]
    assert held[0].document == accepted.document
    assert accepted.delivery == "accepted"
    assert len(pending_offers(seeded_session, result.wallet_id)) == 3


def test_decline_keeps_out_of_wallet(seeded_session, key_store, chelmer, imported):
    result = claim(seeded_session, key_store, chelmer, imported)

    declined = decline_offer(
        seeded_session, result.wallet_id, result.offered[1], actor="a"
    )
    seeded_session.commit()

    assert declined.delivery == "declined"
    assert wallet_credentials(seeded_session, result.wallet_id) == []
    with pytest.raises(CredentialNotFound):
        accept_offer(seeded_session, result.wallet_id, result.offered[1], actor="a")


def test_offer_of_other_wallet_not_found(seeded_session, key_store, chelmer, imported):
    result = claim(seeded_session, key_store, chelmer, imported)
    other = find_staff_record(seeded_session, chelmer, SECRET, "99000002")
    stranger = claim(seeded_session, key_store, chelmer, other)

    with pytest.raises(CredentialNotFound):
        accept_offer(seeded_session, stranger.wallet_id, result.offered[0], actor="b")


def test_revoked_waiting_credential_not_offered(
    seeded_session, key_store, chelmer, imported
):
    waiting = seeded_session.exec(
        select(IssuedCredential).where(IssuedCredential.staff_record_id == imported.id)
    ).first()
    change_status(
        seeded_session,
        key_store,
        chelmer,
        waiting.id,
        "revoke",
        reason="error",
        actor="t",
    )

    result = claim(seeded_session, key_store, chelmer, imported)

    assert waiting.id not in result.offered
    assert len(result.offered) == 3


def test_claim_audited(seeded_session, key_store, chelmer, imported):
    claim(seeded_session, key_store, chelmer, imported)
    seeded_session.commit()

    assert len(recent_entries(seeded_session, action="claim.created")) == 1
    assert len(recent_entries(seeded_session, action="claim.redeemed")) == 1
    assert len(recent_entries(seeded_session, action="credential.issued")) == 4


def test_claim_code_for_other_organisation_rejected(seeded_session, colne, imported):
    with pytest.raises(IssuerError, match="does not belong to 'colne-estuary'"):
        create_claim_code(seeded_session, colne, imported, base_url=BASE_URL, actor="a")


def test_unknown_employee_number(seeded_session, chelmer):
    with pytest.raises(IssuerError, match="no staff record for that employee number"):
        find_staff_record(seeded_session, chelmer, SECRET, "12345678")


def test_states_for_wallet(seeded_session, key_store, chelmer, imported):
    rows = seeded_session.exec(select(IssuedCredential)).all()
    change_status(
        seeded_session, key_store, chelmer, rows[0].id, "suspend", reason="x", actor="t"
    )

    states = credential_states(
        seeded_session, [rows[0].id, rows[1].id, "urn:uuid:other"]
    )

    assert states == {rows[0].id: "suspended", rows[1].id: "active"}


def test_claim_qr_decodes_to_link(seeded_session, chelmer, imported):
    new = new_code(seeded_session, chelmer, imported)

    image = Image.open(io.BytesIO(claim_qr_png(new.link)))
    decoded = read_qr_codes(image)

    assert [barcode.text for barcode in decoded] == [new.link]
