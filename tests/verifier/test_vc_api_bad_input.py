"""``POST /presentations/verify`` and ``/credentials/verify`` against bad input.

Every body here must get 400 with ``verified: false`` and the full list of
checks, or 413 for a body over the size limit, and never a 500 or a 200.
The bodies are wrong JSON types at every position of a valid
presentation, nested garbage, huge bodies, extra and missing proofs, a
credential whose subject is not the presenter, and a challenge another
verifier issued.
"""

import copy
import json
from datetime import date

import pytest
from sqlmodel import select

from credentials.presentations import create_presentation
from credentials.proofs import AUTHENTICATION, add_proof
from keys.store import KeyStore
from passport.db import make_engine, session_scope
from tests.conftest import TEST_PASSPHRASE
from verifier.pipeline import PRESENTATION_CHECKS
from verifier.vc_api import MAX_BODY_BYTES
from wallet_web.models import Wallet

from .support import issuer_key, running_server, training_credential

CHALLENGE = "6f7d1a8e-2b0c-4e55-9f62-0d7a1c3b9e21"
DOMAIN = "https://hr.colne-estuary.example"
OPTIONS = {"challenge": CHALLENGE, "domain": DOMAIN}
WRONG_TYPES = [None, 0, -1.5, True, "", "x" * 300, [], {}, [[[]]], {"id": {}}]


def holder_key(seeded, holder_did):
    engine = make_engine(seeded.settings.database_url)
    with session_scope(engine) as session:
        wallet = session.exec(
            select(Wallet).where(Wallet.holder_did == holder_did)
        ).one()
        key = KeyStore(TEST_PASSPHRASE).load(session, wallet.holder_key_id)
    engine.dispose()
    return key


def sign_presentation(seeded, credentials, *, holder=None, challenge=CHALLENGE):
    holder = holder or credentials[0]["credentialSubject"]["id"]
    unsigned = create_presentation(credentials, holder=holder)
    return add_proof(
        unsigned,
        signer=holder_key(seeded, holder),
        proof_purpose=AUTHENTICATION,
        challenge=challenge,
        domain=DOMAIN,
    )


@pytest.fixture
def passport(seeded):
    """The first staff member's valid and expiring credentials, presented."""
    documents = [seeded.documents["valid"], seeded.documents["expiring"]]
    return sign_presentation(seeded, documents)


def post(client, body, path="/presentations/verify"):
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return client.post(path, data=data, content_type="application/json")


def assert_rejected(response):
    """Assert a 400 or 413 response in the VC-API shape with every check."""
    assert response.status_code in (400, 413), response.status_code
    body = response.json
    assert body["verified"] is False
    ids = [check["id"] for check in body["checks"]]
    assert ids[: len(PRESENTATION_CHECKS)] == list(PRESENTATION_CHECKS)
    assert body["errors"], body


def paths_of(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for key, child in value.items():
            yield from paths_of(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from paths_of(child, (*prefix, index))


def replaced(document, path, value):
    changed = copy.deepcopy(document)
    parent = changed
    for step in path[:-1]:
        parent = parent[step]
    parent[path[-1]] = value
    return changed


def test_good_passport_verified(client, passport):
    response = post(client, {"verifiablePresentation": passport, "options": OPTIONS})

    assert response.status_code == 200, response.json["errors"]
    assert response.json["verified"] is True


def test_wrong_types_everywhere_rejected(client, passport):
    """Replace each value of the passport, one at a time, by each wrong type."""
    tried = 0
    for path in paths_of(passport):
        if not path:
            continue
        for value in WRONG_TYPES:
            original = passport
            for step in path:
                original = original[step]
            # JSON-LD reads a value and a one-element array of it alike, so
            # the signatures cover them alike; that swap is no change.
            if value == original or [value] == original:
                continue
            body = {
                "verifiablePresentation": replaced(passport, path, value),
                "options": OPTIONS,
            }
            response = post(client, body)
            assert response.status_code == 400, (path, value, response.status_code)
            assert response.json["verified"] is False, (path, value)
            tried += 1
    assert tried > 500


@pytest.mark.parametrize("presentation", WRONG_TYPES)
def test_wrong_type_presentation_rejected(client, presentation):
    assert_rejected(
        post(client, {"verifiablePresentation": presentation, "options": OPTIONS})
    )


@pytest.mark.parametrize("options", [None, 1, "x", [], {"challenge": {}}])
def test_wrong_type_options_rejected(client, passport, options):
    response = post(client, {"verifiablePresentation": passport, "options": options})

    assert response.status_code == 400
    assert response.json["verified"] is False


@pytest.mark.parametrize("depth", [40, 5000])
def test_nested_garbage_rejected(client, depth):
    garbage = "[" * depth + "]" * depth
    body = (
        '{"verifiablePresentation": {"@context": ' + garbage + "}, "
        '"options": {"challenge": "c", "domain": "d"}}'
    ).encode()

    response = post(client, body)

    assert_rejected(response)
    assert "nest" in response.json["checks"][0]["message"]


def test_huge_passport_rejected_413(client, passport):
    padded = copy.deepcopy(passport)
    padded["padding"] = "x" * MAX_BODY_BYTES

    response = post(client, {"verifiablePresentation": padded, "options": OPTIONS})

    assert_rejected(response)
    assert response.status_code == 413


def test_many_credentials_within_limit_rejected(client, seeded, passport):
    """Credentials added after signing, up to just under the size limit."""
    stuffed = copy.deepcopy(passport)
    size = len(json.dumps(passport["verifiableCredential"][0]))
    copies = (MAX_BODY_BYTES - len(json.dumps(passport))) // size - 2
    stuffed["verifiableCredential"] += [passport["verifiableCredential"][0]] * copies
    body = {"verifiablePresentation": stuffed, "options": OPTIONS}
    assert len(json.dumps(body)) < MAX_BODY_BYTES

    response = post(client, body)

    assert_rejected(response)
    assert response.status_code == 400
    assert len(response.json["credentials"]) == copies + 2
    assert "proof" in {c["id"] for c in response.json["checks"] if not c["passed"]}


def test_extra_proof_rejected(client, passport):
    doubled = copy.deepcopy(passport)
    doubled["proof"] = [passport["proof"], passport["proof"]]

    response = post(client, {"verifiablePresentation": doubled, "options": OPTIONS})

    assert_rejected(response)


def test_missing_proof_rejected(client, passport):
    bare = {key: value for key, value in passport.items() if key != "proof"}

    response = post(client, {"verifiablePresentation": bare, "options": OPTIONS})

    assert_rejected(response)


def test_credential_proof_removed_rejected(client, seeded):
    credential = copy.deepcopy(seeded.documents["valid"])
    del credential["proof"]
    presentation = sign_presentation(seeded, [credential])

    response = post(
        client, {"verifiablePresentation": presentation, "options": OPTIONS}
    )

    assert response.status_code == 400
    inner = response.json["credentials"][0]
    assert inner["verified"] is False


def test_subject_not_presenter_rejected(client, seeded):
    holder = seeded.documents["valid"]["credentialSubject"]["id"]
    someone_else = seeded.documents["other"]
    presentation = sign_presentation(seeded, [someone_else], holder=holder)

    response = post(
        client, {"verifiablePresentation": presentation, "options": OPTIONS}
    )

    assert_rejected(response)
    failed = {c["id"] for c in response.json["checks"] if not c["passed"]}
    assert failed == {"holder-binding"}


def test_challenge_of_other_verifier_rejected(client, seeded):
    presentation = sign_presentation(
        seeded, [seeded.documents["valid"]], challenge="issued-by-another-verifier"
    )

    response = post(
        client, {"verifiablePresentation": presentation, "options": OPTIONS}
    )

    assert_rejected(response)
    failed = {c["id"] for c in response.json["checks"] if not c["passed"]}
    assert failed == {"challenge"}


def test_unknown_issuer_is_warning(client, seeded):
    holder = seeded.documents["valid"]["credentialSubject"]["id"]
    outsider = training_credential(issuer_key(8), holder, "FS", date.today())
    presentation = sign_presentation(seeded, [outsider])

    response = post(
        client, {"verifiablePresentation": presentation, "options": OPTIONS}
    )

    assert response.status_code == 200, response.json["errors"]
    assert any("not a member" in w for w in response.json["warnings"])


def test_status_url_of_unknown_issuer_not_requested(client, seeded):
    """A credential cannot make the verifier call an address it chooses."""
    holder = seeded.documents["valid"]["credentialSubject"]["id"]
    with running_server() as internal:
        credential = training_credential(
            issuer_key(8),
            holder,
            "FS",
            date.today(),
            status_url=internal.origin + "/admin/status",
        )
        body = {"verifiableCredential": credential, "options": {}}

        response = post(client, body, path="/credentials/verify")

        assert internal.requests == []
    assert response.status_code == 400
    status = next(c for c in response.json["checks"] if c["id"] == "status")
    assert "it was not fetched" in status["message"]
