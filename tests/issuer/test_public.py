import json

from sqlmodel import Session

from issuer.organisations import get_organisation, rotate_key
from issuer.status_lists import change_status
from keys.store import KeyStore
from tests.conftest import TEST_PASSPHRASE
from tests.issuer.helpers import issued_with_status

DID = "did:web:passport.example.org:orgs:chelmer-valley"


def test_did_document_served(seeded_app):
    response = seeded_app.test_client().get("/orgs/chelmer-valley/did.json")

    assert response.status_code == 200
    assert response.mimetype == "application/json"
    document = response.get_json()
    assert document["id"] == DID
    assert document["assertionMethod"] == [f"{DID}#key-1"]
    assert response.headers["Cache-Control"] == "public, max-age=300"
    assert response.headers["ETag"]
    assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_did_document_lists_rotated_keys(seeded_app):
    engine = seeded_app.extensions["platform"].engine
    with Session(engine) as session:
        organisation = get_organisation(session, "chelmer-valley")
        rotate_key(session, KeyStore(TEST_PASSPHRASE), organisation, actor="t")
        session.commit()

    document = seeded_app.test_client().get("/orgs/chelmer-valley/did.json").get_json()

    assert document["assertionMethod"] == [f"{DID}#key-1", f"{DID}#key-2"]
    assert document["authentication"] == [f"{DID}#key-2"]


def test_did_document_unknown_organisation(seeded_app):
    response = seeded_app.test_client().get("/orgs/nowhere/did.json")

    assert response.status_code == 404


def test_did_document_not_modified(seeded_app):
    client = seeded_app.test_client()
    etag = client.get("/orgs/chelmer-valley/did.json").headers["ETag"]

    response = client.get(
        "/orgs/chelmer-valley/did.json", headers={"If-None-Match": etag}
    )

    assert response.status_code == 304
    assert response.data == b""


def test_status_list_served_as_json(seeded_app):
    response = seeded_app.test_client().get("/orgs/chelmer-valley/status/revocation/1")

    assert response.status_code == 200
    assert response.mimetype == "application/json"
    document = response.get_json()
    assert document["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    assert (
        document["id"]
        == "https://passport.example.org/orgs/chelmer-valley/status/revocation/1"
    )
    assert response.headers["Cache-Control"] == "public, max-age=300"


def test_status_list_served_as_vc_media_type(seeded_app):
    response = seeded_app.test_client().get(
        "/orgs/chelmer-valley/status/suspension/1",
        headers={"Accept": "application/vc+ld+json"},
    )

    assert response.status_code == 200
    assert response.mimetype == "application/vc+ld+json"
    assert (
        json.loads(response.data)["credentialSubject"]["statusPurpose"] == "suspension"
    )


def test_status_list_etag_changes_after_revocation(seeded_app):
    client = seeded_app.test_client()
    path = "/orgs/chelmer-valley/status/revocation/1"
    before = client.get(path).headers["ETag"]
    engine = seeded_app.extensions["platform"].engine
    key_store = KeyStore(TEST_PASSPHRASE)
    with Session(engine) as session:
        organisation = get_organisation(session, "chelmer-valley")
        issued_with_status(session, key_store, organisation)
        change_status(
            session,
            key_store,
            organisation,
            "urn:uuid:c-1",
            "revoke",
            reason="x",
            actor="t",
        )
        session.commit()

    stale = client.get(path, headers={"If-None-Match": before})
    after = client.get(path)

    assert stale.status_code == 200
    assert after.headers["ETag"] != before
    assert (
        client.get(path, headers={"If-None-Match": after.headers["ETag"]}).status_code
        == 304
    )


def test_status_list_unknown_purpose(seeded_app):
    response = seeded_app.test_client().get("/orgs/chelmer-valley/status/refresh/1")

    assert response.status_code == 404


def test_status_list_unknown_sequence(seeded_app):
    response = seeded_app.test_client().get("/orgs/chelmer-valley/status/revocation/9")

    assert response.status_code == 404


def test_status_list_huge_sequence_404(seeded_app):
    path = "/orgs/chelmer-valley/status/revocation/" + "9" * 30

    response = seeded_app.test_client().get(path)

    assert response.status_code == 404
