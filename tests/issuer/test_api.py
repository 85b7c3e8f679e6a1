import json

import pytest
from sqlmodel import Session

from audit.log import recent_entries
from issuer.api import API_FAILURE_LIMIT
from issuer.api_tokens import create_api_token, revoke_api_token
from issuer.organisations import get_organisation
from passport.verification import platform_sources
from verifier import verify_credential

DID = "did:web:passport.example.org:orgs:chelmer-valley"
COLNE = "did:web:passport.example.org:orgs:colne-estuary"


def new_token(app, slug="chelmer-valley") -> str:
    with Session(app.extensions["platform"].engine) as session:
        new = create_api_token(
            session, get_organisation(session, slug), "LMS", actor="t"
        )
        session.commit()
    return new.token


def credential(**changes):
    document = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential"],
        "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:holder"},
    }
    document.update(changes)
    return document


@pytest.fixture
def client(seeded_app):
    return seeded_app.test_client()


@pytest.fixture
def auth(seeded_app):
    return {"Authorization": f"Bearer {new_token(seeded_app)}"}


def issue(client, auth, body):
    return client.post("/credentials/issue", json=body, headers=auth)


def test_issue_returns_201_signed(client, auth, seeded_database_url):
    response = issue(client, auth, {"credential": credential()})

    assert response.status_code == 201
    signed = response.get_json()["verifiableCredential"]
    assert signed["issuer"] == DID
    assert signed["id"].startswith("urn:uuid:")
    assert signed["proof"]["cryptosuite"] == "eddsa-rdfc-2022"
    assert [entry["statusPurpose"] for entry in signed["credentialStatus"]] == [
        "revocation",
        "suspension",
    ]
    with platform_sources(seeded_database_url) as sources:
        result = verify_credential(
            signed,
            **sources,
        )
    assert result.verified, [c for c in result.checks if not c.passed]


def test_issue_with_options(client, auth):
    response = issue(
        client,
        auth,
        {
            "credential": credential(
                id="urn:uuid:7d3c4e0e-0f3a-4d4b-9d7e-1c2b3a4d5e6f"
            ),
            "options": {
                "cryptosuite": "eddsa-jcs-2022",
                "credentialStatus": {
                    "type": "BitstringStatusListEntry",
                    "statusPurpose": "revocation",
                },
            },
        },
    )

    signed = response.get_json()["verifiableCredential"]
    assert response.status_code == 201
    assert signed["proof"]["cryptosuite"] == "eddsa-jcs-2022"
    assert [e["statusPurpose"] for e in signed["credentialStatus"]] == ["revocation"]


def test_issue_as_did_key(client, auth, seeded_app):
    with Session(seeded_app.extensions["platform"].engine) as session:
        did_key = get_organisation(session, "chelmer-valley").did_key

    response = issue(client, auth, {"credential": credential(issuer=did_key)})

    signed = response.get_json()["verifiableCredential"]
    assert response.status_code == 201
    assert signed["proof"]["verificationMethod"].startswith(did_key)
    assert "credentialStatus" not in signed


def test_issue_as_did_key_with_status_400(client, auth, seeded_app):
    with Session(seeded_app.extensions["platform"].engine) as session:
        did_key = get_organisation(session, "chelmer-valley").did_key
    status = {"type": "BitstringStatusListEntry", "statusPurpose": "revocation"}

    response = issue(
        client,
        auth,
        {
            "credential": credential(issuer=did_key),
            "options": {"credentialStatus": status},
        },
    )

    assert response.status_code == 400
    assert "Status lists are published under" in response.get_json()["message"]


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({}, "'credential' is missing"),
        ({"credential": []}, "'credential' is a list"),
        (
            {"credential": credential(), "options": []},
            "'options' must be a JSON object",
        ),
        (
            {"credential": credential(), "options": {"cryptosuite": "ed25519-2020"}},
            "Cryptosuite 'ed25519-2020' is not supported",
        ),
        (
            {
                "credential": credential(),
                "options": {"credentialStatus": {"type": "StatusList2021Entry"}},
            },
            "options.credentialStatus must be",
        ),
        (
            {
                "credential": credential(),
                "options": {
                    "credentialStatus": {
                        "type": "BitstringStatusListEntry",
                        "statusPurpose": "refresh",
                    }
                },
            },
            "statusPurpose 'refresh' is not supported",
        ),
        (
            {"credential": credential(type=["Thing"])},
            "does not contain 'VerifiableCredential'",
        ),
        (
            {"credential": credential(**{"@context": ["https://example.org/ctx"]})},
            "does not start with 'https://www.w3.org/ns/credentials/v2'",
        ),
        (
            {
                "credential": credential(
                    credentialSubject={"id": "did:example:x", "age": 4}
                )
            },
            "No JSON-LD context defines property 'age'",
        ),
        ({"credential": credential(validFrom="2026-01-01")}, "validFrom '2026-01-01'"),
        (
            {"credential": credential(proof={"type": "DataIntegrityProof"})},
            "already has 'proof'",
        ),
        (
            {"credential": credential(credentialStatus={"type": "X"})},
            "already has 'credentialStatus'",
        ),
    ],
)
def test_issue_bad_input_400(client, auth, body, fragment):
    response = issue(client, auth, body)

    assert response.status_code == 400
    assert fragment in response.get_json()["message"]


def test_issue_unknown_context_not_fetched(client, auth):
    body = {
        "credential": credential(
            **{
                "@context": [
                    "https://www.w3.org/ns/credentials/v2",
                    "https://evil.example/c",
                ]
            }
        )
    }

    response = issue(client, auth, body)

    assert response.status_code == 400
    assert (
        "'https://evil.example/c' is not one of the bundled contexts"
        in (response.get_json()["message"])
    )


def test_issue_malformed_json(client, auth):
    response = client.post(
        "/credentials/issue",
        data=b'{"credential": ',
        headers={**auth, "Content-Type": "application/json"},
    )

    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_json"


def test_issue_too_large(client, auth):
    response = client.post(
        "/credentials/issue",
        data=b"x" * (300 * 1024),
        headers={**auth, "Content-Type": "application/json"},
    )

    assert response.status_code == 413
    assert "limit" in response.get_json()["message"]


def test_issue_as_other_organisation_403(client, auth):
    response = issue(client, auth, {"credential": credential(issuer=COLNE)})

    assert response.status_code == 403
    assert "cannot issue as" in response.get_json()["message"]


def test_issue_duplicate_id_409(client, auth):
    body = {
        "credential": credential(id="urn:uuid:0a9b2c4d-0000-4000-8000-000000000001")
    }
    issue(client, auth, body)

    response = issue(client, auth, body)

    assert response.status_code == 409


@pytest.mark.parametrize(
    "header",
    [None, "Bearer", "Bearer sp_unknown", "Basic dXNlcjpwYXNz", "sp_without_scheme"],
)
def test_issue_without_valid_token_401(client, header):
    headers = {} if header is None else {"Authorization": header}

    response = client.post(
        "/credentials/issue", json={"credential": credential()}, headers=headers
    )

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert "token" in response.get_json()["message"]


def test_failed_authentication_audited(client, seeded_app):
    client.post(
        "/credentials/issue",
        json={"credential": credential()},
        headers={"Authorization": "Bearer sp_guess"},
    )

    with Session(seeded_app.extensions["platform"].engine) as session:
        entries = recent_entries(session, action="api.authentication_failed")
    assert len(entries) == 1
    assert "sp_guess" not in entries[0].details


def test_revoked_token_rejected(client, seeded_app):
    with Session(seeded_app.extensions["platform"].engine) as session:
        organisation = get_organisation(session, "chelmer-valley")
        new = create_api_token(session, organisation, "old", actor="t")
        revoke_api_token(session, organisation, new.id, actor="t")
        session.commit()

    response = issue(
        client, {"Authorization": f"Bearer {new.token}"}, {"credential": credential()}
    )

    assert response.status_code == 401


def status(client, auth, credential_id, purpose, value, **extra):
    return client.post(
        "/credentials/status",
        json={
            "credentialId": credential_id,
            "credentialStatus": {
                "type": "BitstringStatusListEntry",
                "statusPurpose": purpose,
            },
            "status": value,
            **extra,
        },
        headers=auth,
    )


def test_status_revoke_then_verify_fails(client, auth, seeded_database_url):
    signed = issue(client, auth, {"credential": credential()}).get_json()[
        "verifiableCredential"
    ]

    response = status(
        client, auth, signed["id"], "revocation", True, reason="mis-issued"
    )

    assert response.status_code == 200
    assert response.get_json()["changed"] is True
    with platform_sources(seeded_database_url) as sources:
        result = verify_credential(
            signed,
            **sources,
        )
    assert "revoked" in result.check("status").message


def test_status_suspend_and_reinstate(client, auth):
    signed = issue(client, auth, {"credential": credential()}).get_json()[
        "verifiableCredential"
    ]

    first = status(client, auth, signed["id"], "suspension", True)
    again = status(client, auth, signed["id"], "suspension", True)
    lifted = status(client, auth, signed["id"], "suspension", False)

    assert first.get_json()["changed"] is True
    assert again.get_json()["changed"] is False
    assert lifted.get_json()["changed"] is True


def test_status_unrevoke_400(client, auth):
    signed = issue(client, auth, {"credential": credential()}).get_json()[
        "verifiableCredential"
    ]
    status(client, auth, signed["id"], "revocation", True)

    response = status(client, auth, signed["id"], "revocation", False)

    assert response.status_code == 400
    assert "revocation is permanent" in response.get_json()["message"]


def test_status_other_organisations_credential_404(client, auth, seeded_app):
    colne_auth = {"Authorization": f"Bearer {new_token(seeded_app, 'colne-estuary')}"}
    signed = issue(client, colne_auth, {"credential": credential()}).get_json()[
        "verifiableCredential"
    ]

    response = status(client, auth, signed["id"], "revocation", True)

    assert response.status_code == 404


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"credentialStatus": {}, "status": True}, "'credentialId'"),
        ({"credentialId": "urn:x", "status": True}, "'credentialStatus' must be"),
        (
            {
                "credentialId": "urn:x",
                "credentialStatus": {"statusPurpose": "message"},
                "status": True,
            },
            "statusPurpose 'message'",
        ),
        (
            {
                "credentialId": "urn:x",
                "credentialStatus": {"statusPurpose": "revocation"},
                "status": "yes",
            },
            "'status' must be true or false",
        ),
    ],
)
def test_status_bad_input_400(client, auth, body, fragment):
    response = client.post("/credentials/status", json=body, headers=auth)

    assert response.status_code == 400
    assert fragment in response.get_json()["message"]


def test_status_audited_with_token_actor(client, auth, seeded_app):
    signed = issue(client, auth, {"credential": credential()}).get_json()[
        "verifiableCredential"
    ]
    status(client, auth, signed["id"], "revocation", True, reason="left")

    with Session(seeded_app.extensions["platform"].engine) as session:
        entry = recent_entries(session, action="credential.revoked")[0]
    assert entry.actor.startswith("api-token:")
    assert json.loads(entry.details)["reason"] == "left"


@pytest.mark.parametrize("cryptosuite", [[], {}, ["eddsa-rdfc-2022"], 5])
def test_issue_non_text_cryptosuite_400(client, auth, cryptosuite):
    body = {"credential": credential(), "options": {"cryptosuite": cryptosuite}}

    response = issue(client, auth, body)

    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_options"
    assert "Cryptosuite" in response.get_json()["message"]


def test_issue_checks_token_before_options(client):
    body = {"credential": credential(), "options": {"cryptosuite": []}}

    response = client.post("/credentials/issue", json=body)

    assert response.status_code == 401


def test_status_checks_token_before_fields(client):
    response = client.post("/credentials/status", json={"credentialId": 5})

    assert response.status_code == 401


def test_status_reason_too_long_400(client, auth):
    signed = issue(client, auth, {"credential": credential()}).get_json()[
        "verifiableCredential"
    ]

    response = status(client, auth, signed["id"], "suspension", True, reason="x" * 501)

    assert response.status_code == 400
    assert "500 characters" in response.get_json()["message"]


@pytest.mark.parametrize(
    "changes",
    [
        {"id": "urn:example:" + "a" * 10000},
        {"credentialSubject": {"id": "did:example:" + "b" * 10000}},
    ],
)
def test_issue_overlong_ids_400(client, auth, changes):
    response = issue(client, auth, {"credential": credential(**changes)})

    assert response.status_code == 400
    assert "at most 300 characters" in response.get_json()["message"]


def test_bad_tokens_throttled_per_client(client, seeded_app):
    headers = {"Authorization": "Bearer sp_guess"}
    statuses = [
        client.post(
            "/credentials/issue", json={"credential": credential()}, headers=headers
        ).status_code
        for _ in range(API_FAILURE_LIMIT.limit + 2)
    ]

    with Session(seeded_app.extensions["platform"].engine) as session:
        entries = recent_entries(session, limit=100, action="api.authentication_failed")
    assert statuses[: API_FAILURE_LIMIT.limit] == [401] * API_FAILURE_LIMIT.limit
    assert statuses[API_FAILURE_LIMIT.limit :] == [429, 429]
    assert len(entries) == API_FAILURE_LIMIT.limit
