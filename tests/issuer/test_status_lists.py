import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import update
from sqlmodel import select

from audit.log import recent_entries, verify_chain
from credentials.status_list import decode_list, read_status
from issuer.errors import CredentialNotFound, IssuerError, StatusChangeRejected
from issuer.models import StatusEntry, StatusList
from issuer.organisations import mark_key_compromised
from issuer.status_lists import (
    allocate_status_entries,
    change_status,
    credential_status_label,
    status_list_document,
)
from tests.issuer.helpers import issued_with_status

AT = datetime(2026, 4, 1, 9, 0, tzinfo=UTC)


def list_bits(session, url):
    status_list = session.exec(select(StatusList).where(StatusList.url == url)).one()
    session.refresh(status_list)
    document = json.loads(status_list.document)
    return decode_list(document["credentialSubject"]["encodedList"])


def test_organisation_has_both_lists(seeded_session, chelmer):
    session, organisation = seeded_session, chelmer

    lists = session.exec(
        select(StatusList).where(StatusList.organisation_id == organisation.id)
    ).all()

    assert sorted((item.purpose, item.sequence) for item in lists) == [
        ("revocation", 1),
        ("suspension", 1),
    ]
    assert lists[0].url.startswith(
        "https://passport.example.org/orgs/chelmer-valley/status/"
    )
    assert all(item.length == 131_072 for item in lists)
    assert all(item.document for item in lists)
    assert organisation.id is not None


def test_list_credential_is_signed_by_organisation(seeded_session, key_store, chelmer):
    session, organisation = seeded_session, chelmer

    status_list = status_list_document(session, "chelmer-valley", "revocation", 1)
    document = json.loads(status_list.document)

    assert document["issuer"] == organisation.did
    assert document["proof"]["verificationMethod"] == f"{organisation.did}#key-1"
    assert document["credentialSubject"]["statusPurpose"] == "revocation"
    assert document["credentialSubject"]["ttl"] == 300_000


def test_entries_one_per_purpose(seeded_session, key_store, chelmer):
    session, organisation = seeded_session, chelmer

    _, entries = issued_with_status(session, key_store, organisation)

    assert [entry["statusPurpose"] for entry in entries] == ["revocation", "suspension"]
    assert all(entry["type"] == "BitstringStatusListEntry" for entry in entries)
    assert all(entry["statusListIndex"].isdigit() for entry in entries)
    assert all(
        entry["id"].endswith("#" + entry["statusListIndex"]) for entry in entries
    )


def test_indexes_unique_and_scattered(seeded_session, key_store, chelmer):
    session, organisation = seeded_session, chelmer

    indexes = [
        int(
            allocate_status_entries(
                session, key_store, organisation, f"urn:uuid:{n}", ("revocation",)
            )[0]["statusListIndex"]
        )
        for n in range(200)
    ]
    session.commit()

    assert len(set(indexes)) == 200
    # Sequential allocation would give 0..199; a random permutation spreads
    # 200 draws over the whole list.
    assert max(indexes) > 10_000
    assert indexes != sorted(indexes)
    stored = session.exec(select(StatusEntry.list_index)).all()
    # Both seeded organisations start with empty lists.
    assert sorted(stored) == sorted(indexes)


def test_full_list_starts_next(seeded_session, key_store, chelmer):
    session, organisation = seeded_session, chelmer
    # Pretend all but two entries of the first list were handed out.
    session.execute(
        update(StatusList)
        .where(
            StatusList.organisation_id == organisation.id,
            StatusList.purpose == "revocation",
        )
        .values(allocated=131_070)
    )
    session.commit()

    urls = [
        allocate_status_entries(
            session, key_store, organisation, f"urn:uuid:{n}", ("revocation",)
        )[0]["statusListCredential"]
        for n in range(3)
    ]
    session.commit()

    assert urls[0].endswith("/status/revocation/1")
    assert urls[1].endswith("/status/revocation/1")
    assert urls[2].endswith("/status/revocation/2")
    second = status_list_document(session, "chelmer-valley", "revocation", 2)
    assert second.allocated == 1
    assert second.document is not None


def test_revoke_sets_bit_and_resigns(seeded_session, key_store, chelmer):
    session, organisation = seeded_session, chelmer
    credential, entries = issued_with_status(session, key_store, organisation)
    revocation = entries[0]

    change = change_status(
        session,
        key_store,
        organisation,
        credential.id,
        "revoke",
        reason="issued in error",
        actor="cli:ops",
        at=AT,
    )
    session.commit()

    bits = list_bits(session, revocation["statusListCredential"])
    assert read_status(bits, int(revocation["statusListIndex"]))
    assert sum(bin(byte).count("1") for byte in bits.data) == 1
    assert change.index == int(revocation["statusListIndex"])
    assert credential_status_label(credential) == "revoked"
    assert credential.revocation_reason == "issued in error"


def test_revoke_index_9_sets_second_bit_of_byte_1(seeded_session, key_store, chelmer):
    session, organisation = seeded_session, chelmer
    credential, entries = issued_with_status(session, key_store, organisation)
    entry = session.exec(
        select(StatusEntry).where(StatusEntry.purpose == "revocation")
    ).one()
    entry.list_index = 9
    session.add(entry)
    session.commit()

    change_status(
        session, key_store, organisation, credential.id, "revoke", reason="x", actor="t"
    )
    session.commit()

    bits = list_bits(session, entries[0]["statusListCredential"])
    assert bits.data[1] == 0b0100_0000
    assert bits.data[0] == 0


def test_suspend_then_reinstate(seeded_session, key_store, chelmer):
    session, organisation = seeded_session, chelmer
    credential, entries = issued_with_status(session, key_store, organisation)
    suspension = entries[1]
    index = int(suspension["statusListIndex"])

    change_status(
        session,
        key_store,
        organisation,
        credential.id,
        "suspend",
        reason="investigation",
        actor="t",
    )
    session.commit()
    suspended_bit = read_status(
        list_bits(session, suspension["statusListCredential"]), index
    )
    change_status(
        session,
        key_store,
        organisation,
        credential.id,
        "reinstate",
        reason="cleared",
        actor="t",
    )
    session.commit()

    assert suspended_bit
    assert not read_status(
        list_bits(session, suspension["statusListCredential"]), index
    )
    assert credential_status_label(credential) == "active"


def test_status_changes_audited(seeded_session, key_store, chelmer):
    session, organisation = seeded_session, chelmer
    credential, _ = issued_with_status(session, key_store, organisation)

    for action, reason in (
        ("suspend", "query"),
        ("reinstate", "ok"),
        ("revoke", "fraud"),
    ):
        change_status(
            session,
            key_store,
            organisation,
            credential.id,
            action,
            reason=reason,
            actor="account:7",
        )
    session.commit()

    entries = recent_entries(session, action="credential.")
    assert [entry.action for entry in entries] == [
        "credential.revoked",
        "credential.reinstated",
        "credential.suspended",
    ]
    assert all(entry.target == credential.id for entry in entries)
    assert all(entry.actor == "account:7" for entry in entries)
    assert json.loads(entries[0].details)["reason"] == "fraud"
    assert verify_chain(session).intact


@pytest.mark.parametrize(
    ("first", "second", "message"),
    [
        ("revoke", "revoke", "revocation is permanent"),
        ("revoke", "suspend", "revocation is permanent"),
        ("revoke", "reinstate", "revocation is permanent"),
        ("suspend", "suspend", "already suspended"),
    ],
)
def test_invalid_transitions_rejected(
    seeded_session, key_store, chelmer, first, second, message
):
    session, organisation = seeded_session, chelmer
    credential, _ = issued_with_status(session, key_store, organisation)
    change_status(
        session, key_store, organisation, credential.id, first, reason="a", actor="t"
    )

    with pytest.raises(StatusChangeRejected, match=message):
        change_status(
            session,
            key_store,
            organisation,
            credential.id,
            second,
            reason="b",
            actor="t",
        )


def test_reinstate_active_rejected(seeded_session, key_store, chelmer):
    session, organisation = seeded_session, chelmer
    credential, _ = issued_with_status(session, key_store, organisation)

    with pytest.raises(StatusChangeRejected, match="not suspended"):
        change_status(
            session,
            key_store,
            organisation,
            credential.id,
            "reinstate",
            reason="x",
            actor="t",
        )


def test_reason_required(seeded_session, key_store, chelmer):
    session, organisation = seeded_session, chelmer
    credential, _ = issued_with_status(session, key_store, organisation)

    with pytest.raises(IssuerError, match="reason is required"):
        change_status(
            session,
            key_store,
            organisation,
            credential.id,
            "revoke",
            reason=" ",
            actor="t",
        )


def test_unknown_action_rejected(seeded_session, key_store, chelmer):
    session, organisation = seeded_session, chelmer

    with pytest.raises(IssuerError, match="'delete' is not supported"):
        change_status(
            session,
            key_store,
            organisation,
            "urn:uuid:x",
            "delete",
            reason="x",
            actor="t",
        )


def test_other_organisations_credential_not_found(
    seeded_session, key_store, chelmer, colne
):
    session = seeded_session
    credential, _ = issued_with_status(session, key_store, chelmer)

    with pytest.raises(
        CredentialNotFound, match="'colne-estuary' has issued no credential"
    ):
        change_status(
            session, key_store, colne, credential.id, "revoke", reason="x", actor="t"
        )


def test_compromise_resigns_lists(seeded_session, key_store, chelmer):
    session, organisation = seeded_session, chelmer
    mark_key_compromised(
        session,
        key_store,
        organisation,
        organisation.verification_method_id,
        since=AT,
        reason="stolen",
        actor="t",
    )
    session.commit()

    status_list = status_list_document(session, "chelmer-valley", "revocation", 1)
    assert json.loads(status_list.document)["proof"]["verificationMethod"].endswith(
        "#key-2"
    )
