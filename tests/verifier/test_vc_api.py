import copy
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import select

from credentials.presentations import create_presentation
from credentials.proofs import AUTHENTICATION, add_proof
from keys.multikey import Ed25519KeyPair
from keys.store import KeyStore
from passport.db import make_engine, session_scope
from tests.conftest import TEST_PASSPHRASE
from verifier.pipeline import CREDENTIAL_CHECKS, PRESENTATION_CHECKS
from verifier.vc_api import MAX_BODY_BYTES
from wallet_web.models import Wallet

CHALLENGE = "d2f1c1d6-5a43-4c59-9e5b-3f3b3a1f7c10"
DOMAIN = "https://hr.colne-estuary.example"


def _post(client, path, body, content_type="application/json"):
    data = body if isinstance(body, bytes | str) else json.dumps(body)
    return client.post(path, data=data, content_type=content_type)


def _verify(client, credential, options=None):
    body = {"verifiableCredential": credential, "options": options or {}}
    return _post(client, "/credentials/verify", body)


def _check_ids(response):
    return [check["id"] for check in response.json["checks"]]


def _failed(response):
    return {c["id"] for c in response.json["checks"] if not c["passed"]}


def _assert_api_shape(response, check_ids):
    assert response.status_code in (200, 400, 413, 415), response.status_code
    body = response.json
    assert isinstance(body["verified"], bool)
    assert (response.status_code == 200) is body["verified"]
    assert [check["id"] for check in body["checks"]][: len(check_ids)] == list(
        check_ids
    )
    assert isinstance(body["warnings"], list)
    assert isinstance(body["errors"], list)


# --- /credentials/verify -------------------------------------------------------


def test_valid_credential_200(client, seeded):
    response = _verify(client, seeded.documents["valid"])
    assert response.status_code == 200
    assert response.json["verified"] is True
    assert _check_ids(response) == list(CREDENTIAL_CHECKS)
    assert response.json["errors"] == []
    assert response.json["warnings"] == []


def test_ld_json_content_type_accepted(client, seeded):
    body = {"verifiableCredential": seeded.documents["valid"]}
    response = _post(client, "/credentials/verify", body, "application/ld+json")
    assert response.status_code == 200


def test_no_csrf_or_session_needed(client, seeded):
    # The client has never loaded a page, so it has no cookie or token.
    assert _verify(client, seeded.documents["valid"]).status_code == 200


def test_expired_credential_400(client, seeded):
    response = _verify(client, seeded.documents["expired"])
    assert response.status_code == 400
    assert response.json["verified"] is False
    assert _failed(response) == {"validity-period"}
    assert response.json["errors"][0].startswith("Expired")


def test_tampered_credential_400(client, seeded):
    document = copy.deepcopy(seeded.documents["valid"])
    document["credentialSubject"]["name"] = "Someone ELSE"
    response = _verify(client, document)
    assert response.status_code == 400
    # The rows after the proof read the document's unsigned claims, so they
    # are reported as not checked.
    assert _failed(response) == {"proof", *CREDENTIAL_CHECKS[4:]}
    assert len(response.json["errors"]) == 2


def test_unknown_issuer_is_warning_only(client, seeded):
    stranger = Ed25519KeyPair.generate()
    document = copy.deepcopy(seeded.documents["valid"])
    del document["proof"]
    document["issuer"]["id"] = stranger.did
    signed = add_proof(document, signer=stranger)
    response = _verify(client, signed)
    assert response.status_code == 200
    issuer_check = response.json["checks"][CREDENTIAL_CHECKS.index("issuer-known")]
    assert issuer_check["passed"] is False
    assert issuer_check["severity"] == "warning"
    allowed_check = response.json["checks"][CREDENTIAL_CHECKS.index("issuer-allowed")]
    assert allowed_check["passed"] is False
    assert allowed_check["severity"] == "warning"
    assert len(response.json["warnings"]) == 2


def test_registry_comes_from_database(client, seeded):
    response = _verify(client, seeded.documents["valid"])
    issuer_check = response.json["checks"][CREDENTIAL_CHECKS.index("issuer-known")]
    assert issuer_check["passed"] is True
    assert "Chelmer Valley" in issuer_check["message"]


def test_unknown_option_is_warning(client, seeded):
    response = _verify(client, seeded.documents["valid"], {"checks": ["proof"]})
    assert response.status_code == 200
    assert response.json["warnings"] == [
        "Option 'checks' is not supported and was ignored."
    ]


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (b"{not json", "not valid JSON"),
        (b"", "not valid JSON"),
        (b"\xff\xfe\x00", "not UTF-8"),
        (b"[]", "JSON list, not an object"),
        (b'"text"', "JSON str, not an object"),
        (b"null", "JSON NoneType, not an object"),
        (b"{}", 'no "verifiableCredential"'),
        (b'{"verifiableCredential": {}, "options": []}', '"options" is a JSON list'),
        (b'{"verifiableCredential": {}, "options": "x"}', '"options" is a JSON str'),
        (b'{"verifiableCredential": NaN}', "NaN"),
        (b'{"verifiableCredential": ' + b"9" * 5000 + b"}", "unusable number"),
        (b'{"verifiableCredential": "\\ud800"}', "lone surrogate"),
        (b'{"verifiableCredential": ' + b"[" * 40 + b"]" * 40 + b"}", "nests"),
        (b"[" * 100000, "nested too deeply"),
    ],
)
def test_malformed_request_400(client, body, fragment):
    response = _post(client, "/credentials/verify", body)
    _assert_api_shape(response, CREDENTIAL_CHECKS)
    assert response.status_code == 400
    assert fragment in response.json["checks"][0]["message"]


@pytest.mark.parametrize(
    "credential", ["a string", 42, [], None, True, [{"@context": []}]]
)
def test_wrong_credential_type_400(client, credential):
    response = _verify(client, credential)
    _assert_api_shape(response, CREDENTIAL_CHECKS)
    assert response.status_code == 400
    assert response.json["checks"][0] == {
        **response.json["checks"][0],
        "id": "well-formed",
        "passed": False,
    }


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "application/xml", None],
)
def test_wrong_content_type_415(client, seeded, content_type):
    body = json.dumps({"verifiableCredential": seeded.documents["valid"]})
    response = client.post("/credentials/verify", data=body, content_type=content_type)
    assert response.status_code == 415
    assert response.json["verified"] is False
    assert "application/json" in response.json["checks"][0]["message"]


def test_oversized_body_413(client):
    body = b'{"verifiableCredential": "' + b"a" * MAX_BODY_BYTES + b'"}'
    response = _post(client, "/credentials/verify", body)
    assert response.status_code == 413
    assert response.json["verified"] is False


def test_body_over_request_limit_413_json(client):
    body = b"[" + b"0," * (1024 * 1024 + 10) + b"0]"
    response = _post(client, "/credentials/verify", body)
    assert response.status_code == 413
    assert response.is_json
    assert response.json["error"] == 413


def test_get_is_405_json(client):
    response = client.get("/credentials/verify", headers={"Accept": "application/json"})
    assert response.status_code == 405
    assert response.is_json


def test_unknown_context_400(client, seeded):
    document = copy.deepcopy(seeded.documents["valid"])
    document["@context"].append("https://evil.example/context.jsonld")
    response = _verify(client, document)
    assert response.status_code == 400
    checks = {c["id"]: c for c in response.json["checks"]}
    assert not checks["contexts-allowed"]["passed"]
    assert (
        "https://evil.example/context.jsonld" in checks["contexts-allowed"]["message"]
    )


@pytest.mark.parametrize("suite", ["ecdsa-rdfc-2019", "bbs-2023", "", 7])
def test_unknown_cryptosuite_400(client, seeded, suite):
    document = copy.deepcopy(seeded.documents["valid"])
    document["proof"]["cryptosuite"] = suite
    response = _verify(client, document)
    assert response.status_code == 400
    assert "proof" in _failed(response)


@pytest.mark.parametrize(
    "did",
    [
        # secp256k1 and P-256 did:keys: valid multikeys, but not Ed25519.
        "did:key:zQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYBme",
        "did:key:zDnaerDaTF5BXEavCrfRZEk316dpbLsfPDZ3WJ5hRTPFU2169",
        "did:key:z6MkBROKEN",
        "did:key:",
        "did:web:example.org",
    ],
)
def test_non_ed25519_did_key_400(client, seeded, did):
    document = copy.deepcopy(seeded.documents["valid"])
    document["issuer"]["id"] = did
    document["proof"]["verificationMethod"] = f"{did}#{did.rpartition(':')[2]}"
    response = _verify(client, document)
    _assert_api_shape(response, CREDENTIAL_CHECKS)
    assert response.status_code == 400
    assert "verification-method" in _failed(response)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("validUntil", "2030-01-01T00:00:00"),
        ("validFrom", "yesterday"),
        ("issuer", 12),
        ("type", "VerifiableCredential"),
        ("@context", "https://www.w3.org/ns/credentials/v2"),
        ("proof", "none"),
        ("proof", [{"type": "DataIntegrityProof"}]),
        ("credentialSubject", None),
    ],
)
def test_bad_fields_400(client, seeded, field, value):
    document = copy.deepcopy(seeded.documents["valid"])
    document[field] = value
    response = _verify(client, document)
    _assert_api_shape(response, CREDENTIAL_CHECKS)
    assert response.status_code == 400


# --- /presentations/verify -----------------------------------------------------


@pytest.fixture
def presentation(seeded):
    """The first staff member's passport signed over CHALLENGE and DOMAIN."""
    engine = make_engine(seeded.settings.database_url)
    credential = seeded.documents["valid"]
    holder = credential["credentialSubject"]["id"]
    with session_scope(engine) as session:
        wallet = session.exec(select(Wallet).where(Wallet.holder_did == holder)).one()
        key = KeyStore(TEST_PASSPHRASE).load(session, wallet.holder_key_id)
    engine.dispose()
    unsigned = create_presentation([credential], holder=holder)
    return add_proof(
        unsigned,
        signer=key,
        proof_purpose=AUTHENTICATION,
        challenge=CHALLENGE,
        domain=DOMAIN,
    )


def _verify_presentation(client, presentation, options):
    body = {"verifiablePresentation": presentation, "options": options}
    return _post(client, "/presentations/verify", body)


def test_presentation_verified(client, presentation):
    response = _verify_presentation(
        client, presentation, {"challenge": CHALLENGE, "domain": DOMAIN}
    )
    assert response.status_code == 200
    assert response.json["verified"] is True
    assert _check_ids(response) == list(PRESENTATION_CHECKS)
    assert len(response.json["credentials"]) == 1
    assert response.json["credentials"][0]["verified"] is True


def test_presentation_wrong_challenge_400(client, presentation):
    response = _verify_presentation(
        client, presentation, {"challenge": "another", "domain": DOMAIN}
    )
    assert response.status_code == 400
    assert _failed(response) == {"challenge"}


def test_presentation_wrong_domain_400(client, presentation):
    response = _verify_presentation(
        client, presentation, {"challenge": CHALLENGE, "domain": "https://x.example"}
    )
    assert response.status_code == 400
    assert _failed(response) == {"domain"}


def test_presentation_without_options_400(client, presentation):
    response = _post(
        client, "/presentations/verify", {"verifiablePresentation": presentation}
    )
    assert response.status_code == 400
    assert _failed(response) == {"challenge", "domain"}


@pytest.mark.parametrize("challenge", [1, None, ["a"], {"a": 1}])
def test_presentation_non_string_challenge_400(client, presentation, challenge):
    response = _verify_presentation(
        client, presentation, {"challenge": challenge, "domain": DOMAIN}
    )
    _assert_api_shape(response, PRESENTATION_CHECKS)
    assert response.status_code == 400
    assert "options.challenge" in response.json["checks"][0]["message"]


def test_presentation_credential_errors_named(client, seeded, presentation):
    response = _verify_presentation(
        client, presentation, {"challenge": CHALLENGE, "domain": DOMAIN}
    )
    assert response.json["errors"] == []
    tampered = copy.deepcopy(presentation)
    tampered["verifiableCredential"][0]["validUntil"] = "2099-01-01T00:00:00Z"
    response = _verify_presentation(
        client, tampered, {"challenge": CHALLENGE, "domain": DOMAIN}
    )
    assert response.status_code == 400
    assert any(e.startswith("Credential 1: ") for e in response.json["errors"])


def test_presentation_malformed_body_400(client):
    response = _post(client, "/presentations/verify", b"{")
    _assert_api_shape(response, PRESENTATION_CHECKS)
    assert response.status_code == 400


# --- Fuzzing: no input makes either endpoint fail ------------------------------

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30)
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)
interesting_keys = st.sampled_from(
    [
        "@context",
        "id",
        "type",
        "issuer",
        "validFrom",
        "validUntil",
        "credentialSubject",
        "proof",
        "cryptosuite",
        "verificationMethod",
        "proofValue",
        "verifiableCredential",
        "holder",
    ]
)
fuzz_settings = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@fuzz_settings
@given(body=st.binary(max_size=300))
def test_fuzz_raw_bytes(client, body):
    for path, ids in (
        ("/credentials/verify", CREDENTIAL_CHECKS),
        ("/presentations/verify", PRESENTATION_CHECKS),
    ):
        _assert_api_shape(_post(client, path, body), ids)


@fuzz_settings
@given(document=json_values, options=json_values)
def test_fuzz_json_bodies(client, document, options):
    for path, field, ids in (
        ("/credentials/verify", "verifiableCredential", CREDENTIAL_CHECKS),
        ("/presentations/verify", "verifiablePresentation", PRESENTATION_CHECKS),
    ):
        body = {field: document, "options": options}
        _assert_api_shape(_post(client, path, body), ids)


def _paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _paths(child, (*prefix, index))


@fuzz_settings
@given(data=st.data())
def test_fuzz_mutated_credentials(client, seeded, data):
    document = copy.deepcopy(seeded.documents["valid"])
    paths = [path for path in _paths(document) if path]
    path = data.draw(st.sampled_from(paths))
    replacement = data.draw(json_values | interesting_keys)
    parent = document
    for step in path[:-1]:
        parent = parent[step]
    original = parent[path[-1]]
    # JSON-LD reads a value and a one-element array of it as the same data,
    # so eddsa-rdfc-2022 signs them alike; those swaps are not changes.
    if replacement in (original, [original]) or [replacement] == original:
        return
    parent[path[-1]] = replacement
    response = _verify(client, document)
    _assert_api_shape(response, CREDENTIAL_CHECKS)
    # Changing any signed field must make verification fail.
    assert response.status_code == 400
