from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from audit.log import recent_entries, verify_chain
from credentials.proofs import resolve_verification_method
from issuer.errors import IssuerError, OrganisationNotFound
from issuer.models import Organisation
from issuer.organisations import (
    adopt_did_web,
    create_organisation,
    did_document,
    get_organisation,
    mark_key_compromised,
    organisation_by_did,
    rotate_key,
)
from issuer.signing import organisation_dids, signer_for
from keys.did_web import CachedDidResolver
from keys.history import methods_of
from keys.multikey import Ed25519KeyPair
from tests.issuer.conftest import BASE_URL

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def new_organisation(session, key_store, slug="chelmer-valley", **options):
    organisation = create_organisation(
        session,
        key_store,
        slug=slug,
        name="Chelmer Valley Hospitals NHS Foundation Trust",
        org_type="acute trust",
        cstf_aligned=True,
        base_url=BASE_URL,
        at=T0,
        **options,
    )
    session.commit()
    return organisation


def test_create_gives_did_web_and_did_key(session, key_store):
    organisation = new_organisation(session, key_store)

    assert organisation.did == "did:web:passport.example.org:orgs:chelmer-valley"
    assert organisation.did_key.startswith("did:key:z6Mk")
    assert organisation.verification_method_id == f"{organisation.did}#key-1"
    assert organisation_dids(organisation) == [organisation.did, organisation.did_key]


def test_did_key_and_did_web_share_key(session, key_store):
    organisation = new_organisation(session, key_store)

    document = did_document(session, organisation)

    assert document["verificationMethod"][0][
        "publicKeyMultibase"
    ] == organisation.did_key.removeprefix("did:key:")


def test_create_rejects_bad_slug(session, key_store):
    with pytest.raises(IssuerError, match="slug 'Chelmer Valley' is invalid"):
        new_organisation(session, key_store, slug="Chelmer Valley")


def test_create_rejects_taken_slug(session, key_store):
    new_organisation(session, key_store)

    with pytest.raises(IssuerError, match="already exists"):
        new_organisation(session, key_store)


def test_get_unknown_names_known(session, key_store):
    new_organisation(session, key_store)

    with pytest.raises(OrganisationNotFound, match="known slugs: chelmer-valley"):
        get_organisation(session, "nowhere")


def test_organisation_by_either_did(session, key_store):
    organisation = new_organisation(session, key_store)

    assert organisation_by_did(session, organisation.did).id == organisation.id
    assert organisation_by_did(session, organisation.did_key).id == organisation.id
    assert organisation_by_did(session, "did:key:z6Mkother") is None


def test_document_records_key_history(session, key_store):
    organisation = new_organisation(session, key_store)
    rotate_key(
        session,
        key_store,
        organisation,
        actor="system",
        at=T0 + timedelta(days=30, microseconds=250_000),
    )

    key_1, key_2 = did_document(session, organisation)["verificationMethod"]

    assert key_1["created"] == "2026-01-01T00:00:00Z"
    # Retirement rounds up to the next whole second, because proofs made in
    # the second of the rotation were still made by the current key.
    assert key_1["revoked"] == "2026-01-31T00:00:01Z"
    assert key_2["created"] == "2026-01-31T00:00:00Z"


def test_rotation_keeps_old_key_for_assertions(session, key_store):
    organisation = new_organisation(session, key_store)

    new = rotate_key(
        session, key_store, organisation, actor="system", at=T0 + timedelta(days=1)
    )
    session.commit()
    document = did_document(session, organisation)

    old_id = f"{organisation.did}#key-1"
    assert new.id == f"{organisation.did}#key-2"
    assert organisation.verification_method_id == new.id
    assert document["assertionMethod"] == [old_id, new.id]
    assert document["authentication"] == [new.id]
    assert document["capabilityInvocation"] == [new.id]


def test_rotation_changes_signer(session, key_store):
    organisation = new_organisation(session, key_store)
    before = signer_for(session, key_store, organisation, None)

    rotate_key(session, key_store, organisation, actor="system")
    after = signer_for(session, key_store, organisation, None)

    assert after.verification_method_id.endswith("#key-2")
    assert after.public_key_multibase != before.public_key_multibase


def test_rotation_audited(session, key_store):
    organisation = new_organisation(session, key_store)

    rotate_key(session, key_store, organisation, actor="cli:ops")
    session.commit()

    entries = recent_entries(session, action="key.rotated")
    assert len(entries) == 1
    assert entries[0].actor == "cli:ops"
    assert entries[0].target == f"{organisation.did}#key-2"
    assert verify_chain(session).intact


def test_rotated_key_sealed_at_rest(session, key_store, issuer_engine):
    organisation = new_organisation(session, key_store)
    rotate_key(session, key_store, organisation, actor="system")
    session.commit()
    pair = signer_for(session, key_store, organisation, None)

    with issuer_engine.connect() as connection:
        sealed = connection.execute(
            text("SELECT sealed_seed FROM stored_key WHERE id = :id"),
            {"id": pair.verification_method_id},
        ).scalar_one()
    assert pair.seed_bytes() not in bytes(sealed)


def test_signer_for_did_key_uses_first_key(session, key_store):
    organisation = new_organisation(session, key_store)
    rotate_key(session, key_store, organisation, actor="system")

    signer = signer_for(session, key_store, organisation, organisation.did_key)

    assert signer.controller == organisation.did_key
    assert signer.did == organisation.did_key


def test_signer_for_rejects_other_did(session, key_store):
    organisation = new_organisation(session, key_store)

    with pytest.raises(IssuerError, match="is not a DID of 'chelmer-valley'"):
        signer_for(session, key_store, organisation, "did:key:z6Mkother")


def test_compromise_current_key_rotates(session, key_store):
    organisation = new_organisation(session, key_store)
    since = T0 + timedelta(days=10)

    result = mark_key_compromised(
        session,
        key_store,
        organisation,
        f"{organisation.did}#key-1",
        since=since,
        reason="laptop stolen",
        actor="cli:ops",
    )
    session.commit()
    document = did_document(session, organisation)

    assert result.new_method_id == f"{organisation.did}#key-2"
    assert f"{organisation.did}#key-1" in result.method_ids
    assert f"{organisation.did_key}#{organisation.did_key[8:]}" in result.method_ids
    key_1, key_2 = document["verificationMethod"]
    assert key_1["compromised"] == "2026-01-11T00:00:00Z"
    assert "revoked" in key_1
    assert "compromised" not in key_2
    assert "revoked" not in key_2
    assert key_2["created"] <= key_1["revoked"]


def test_compromise_retired_key_keeps_current(session, key_store):
    organisation = new_organisation(session, key_store)
    rotate_key(session, key_store, organisation, actor="system")

    result = mark_key_compromised(
        session,
        key_store,
        organisation,
        f"{organisation.did}#key-1",
        since=T0,
        reason="found in a backup",
        actor="system",
    )

    assert result.new_method_id is None
    assert organisation.verification_method_id == f"{organisation.did}#key-2"


def test_compromise_needs_reason(session, key_store):
    organisation = new_organisation(session, key_store)

    with pytest.raises(IssuerError, match="reason is required"):
        mark_key_compromised(
            session,
            key_store,
            organisation,
            organisation.verification_method_id,
            since=T0,
            reason="  ",
            actor="system",
        )


def test_compromise_rejects_foreign_key(session, key_store):
    organisation = new_organisation(session, key_store)

    with pytest.raises(IssuerError, match="is not a key of 'chelmer-valley'"):
        mark_key_compromised(
            session,
            key_store,
            organisation,
            "did:web:elsewhere#key-1",
            since=T0,
            reason="x",
            actor="system",
        )


def test_compromised_did_key_cannot_sign(session, key_store):
    organisation = new_organisation(session, key_store)
    mark_key_compromised(
        session,
        key_store,
        organisation,
        organisation.verification_method_id,
        since=T0,
        reason="x",
        actor="system",
    )

    with pytest.raises(IssuerError, match="marked compromised"):
        signer_for(session, key_store, organisation, organisation.did_key)


def test_verifier_picks_exact_method(session, key_store):
    organisation = new_organisation(session, key_store)
    rotate_key(session, key_store, organisation, actor="system")
    resolver = CachedDidResolver(
        {organisation.did: did_document(session, organisation)}
    )

    key_1 = resolve_verification_method(
        f"{organisation.did}#key-1", "assertionMethod", resolver
    )
    key_2 = resolve_verification_method(
        f"{organisation.did}#key-2", "assertionMethod", resolver
    )

    records = methods_of(session, organisation.did)
    assert key_1.public_key_multibase == records[0].public_key_multibase
    assert key_2.public_key_multibase == records[1].public_key_multibase


def test_adopt_did_web_for_did_key_organisation(session, key_store):
    pair = Ed25519KeyPair.generate()
    key_store.add(session, pair)
    session.flush()
    session.add(
        Organisation(
            slug="legacy",
            name="Legacy Trust",
            org_type="acute trust",
            did=pair.did,
            verification_method_id=pair.verification_method_id,
        )
    )
    session.commit()
    session.execute(
        text(
            "INSERT INTO verification_method (id, controller, public_key_multibase, "
            "activated_at) VALUES (:id, :did, :key, CURRENT_TIMESTAMP)"
        ),
        {
            "id": pair.verification_method_id,
            "did": pair.did,
            "key": pair.public_key_multibase,
        },
    )

    changed = adopt_did_web(session, key_store, BASE_URL)
    session.commit()
    organisation = get_organisation(session, "legacy")

    assert changed == ["legacy"]
    assert organisation.did == "did:web:passport.example.org:orgs:legacy"
    assert organisation.did_key == pair.did
    assert (
        signer_for(session, key_store, organisation, None).public_key_multibase
        == pair.public_key_multibase
    )
    assert adopt_did_web(session, key_store, BASE_URL) == []
