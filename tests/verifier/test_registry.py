"""The trust registry: membership periods, kinds, CSTF alignment, and the
signed document verifiers load offline."""

from datetime import UTC, date, datetime, timedelta

import pytest

from credentials.proofs import add_proof
from verifier import IssuerRegistry, TrustedIssuer, verify_credential
from verifier.errors import RegistryDocumentInvalid
from verifier.registry import CSTF_KIND, credential_kinds, origin_of
from verifier.registry_document import (
    build_registry_credential,
    load_registry_credential,
)

from .support import issuer_key, training_credential

ALIGNED = issuer_key(1)
NOT_ALIGNED = issuer_key(5)
PARTNERSHIP = issuer_key(7)
HOLDER = issuer_key(2).controller
JOINED = datetime(2021, 4, 1, tzinfo=UTC)
LEFT = datetime(2025, 9, 1, tzinfo=UTC)
NOW = datetime(2026, 3, 31, tzinfo=UTC)

MEMBERS = [
    TrustedIssuer(
        ALIGNED.controller,
        "Chelmer Valley Hospitals NHS Foundation Trust",
        "chelmer-valley",
        cstf_aligned=True,
        may_issue=frozenset({"TrainingCredential", CSTF_KIND}),
        member_from=JOINED,
        member_until=LEFT,
        origins=("https://chelmer-valley.example",),
    ),
    TrustedIssuer(
        NOT_ALIGNED.controller,
        "Thames Reach Hospital NHS Trust",
        "thames-reach",
        cstf_aligned=False,
        may_issue=frozenset({"TrainingCredential", CSTF_KIND}),
        member_from=JOINED,
    ),
]


def issued_on(key, day: date):
    return training_credential(key, HOLDER, "FS", day)


def test_cstf_credential_kinds():
    kinds = credential_kinds(issued_on(ALIGNED, date(2025, 1, 1)))

    assert kinds == {"TrainingCredential", CSTF_KIND}


@pytest.mark.parametrize(
    ("day", "allowed"),
    [
        (date(2021, 3, 31), False),  # before joining
        (date(2021, 4, 1), True),
        (date(2025, 8, 31), True),  # issued before leaving stays trusted
        (date(2025, 9, 1), False),  # issued after leaving is not
    ],
)
def test_membership_period(day, allowed):
    registry = IssuerRegistry(MEMBERS)
    credential = issued_on(ALIGNED, day)

    result = verify_credential(credential, now=NOW, registry=registry)

    assert result.check("issuer-allowed").passed is allowed
    assert result.check("issuer-known").passed


def test_left_member_message_names_period():
    result = verify_credential(
        issued_on(ALIGNED, date(2025, 10, 1)), now=NOW, registry=IssuerRegistry(MEMBERS)
    )

    message = result.check("issuer-allowed").message
    assert "was not a partnership member" in message
    assert "until 2025-09-01" in message


def test_unaligned_member_cannot_issue_cstf():
    result = verify_credential(
        issued_on(NOT_ALIGNED, date(2025, 6, 1)),
        now=NOW,
        registry=IssuerRegistry(MEMBERS),
    )

    check = result.check("issuer-allowed")
    assert not check.passed
    assert check.severity == "warning"
    assert "has not declared CSTF alignment" in check.message
    assert result.verified


def test_kind_outside_permissions_refused():
    member = TrustedIssuer(
        ALIGNED.controller,
        "Chelmer",
        cstf_aligned=True,
        may_issue=frozenset({CSTF_KIND}),
    )
    result = verify_credential(
        issued_on(ALIGNED, date(2025, 6, 1)), now=NOW, registry=IssuerRegistry([member])
    )

    assert "'TrainingCredential'" in result.check("issuer-allowed").message


def test_unknown_issuer_not_allowed():
    result = verify_credential(issued_on(ALIGNED, date(2025, 6, 1)), now=NOW)

    assert not result.check("issuer-allowed").passed
    assert result.verified


@pytest.mark.parametrize(
    ("url", "origin"),
    [
        ("https://A.example:443/x", "https://a.example"),
        ("https://a.example:8443/x?y#z", "https://a.example:8443"),
        ("http://127.0.0.1:80/", "http://127.0.0.1"),
        ("http://[::1]:5000/", "http://[::1]:5000"),
    ],
)
def test_origin_of(url, origin):
    assert origin_of(url) == origin


def publish(now=NOW, signer=PARTNERSHIP, members=MEMBERS):
    return build_registry_credential(
        members,
        signer=signer,
        publisher_did=signer.controller,
        name="Mid and South Essex Staff Passport Partnership",
        published_at=now,
    )


def test_published_registry_round_trip():
    document = publish()

    registry = load_registry_credential(
        document, publisher_did=PARTNERSHIP.controller, now=NOW + timedelta(days=1)
    )

    assert [member for member in registry] == MEMBERS


def test_registry_loads_from_json_text():
    import json

    text = json.dumps(publish())

    registry = load_registry_credential(
        text, publisher_did=PARTNERSHIP.controller, now=NOW
    )

    assert len(registry) == 2


def test_tampered_registry_rejected():
    document = publish()
    document["credentialSubject"]["member"][1]["cstfAligned"] = True

    with pytest.raises(RegistryDocumentInvalid, match="proof"):
        load_registry_credential(
            document, publisher_did=PARTNERSHIP.controller, now=NOW
        )


def test_registry_from_other_publisher_rejected():
    document = publish(signer=issuer_key(8))

    with pytest.raises(RegistryDocumentInvalid, match="not by the partnership"):
        load_registry_credential(
            document, publisher_did=PARTNERSHIP.controller, now=NOW
        )


def test_expired_registry_rejected():
    document = publish(now=NOW - timedelta(days=31))

    with pytest.raises(RegistryDocumentInvalid, match="validity-period"):
        load_registry_credential(
            document, publisher_did=PARTNERSHIP.controller, now=NOW
        )


def test_malformed_member_rejected():
    # An absolute IRI that is not a DID: a relative id could not be signed at
    # all, because JSON-LD safe mode rejects relative IRIs.
    bad = TrustedIssuer("https://nobody.example/issuer", "Nobody")

    with pytest.raises(
        RegistryDocumentInvalid, match="member 1 has id 'https://nobody.example/issuer'"
    ):
        load_registry_credential(
            publish(members=[bad]), publisher_did=PARTNERSHIP.controller, now=NOW
        )


WEB_MEMBER = TrustedIssuer(
    "did:web:chelmer-valley.example",
    "Chelmer Valley Hospitals NHS Foundation Trust",
    may_issue=frozenset({"TrainingCredential"}),
    member_from=JOINED,
)


def web_document(did: str) -> dict:
    key = ALIGNED.to_multikey()
    return {
        "@context": ["https://www.w3.org/ns/did/v1"],
        "id": did,
        "verificationMethod": [{**key, "id": did + "#key-1", "controller": did}],
        "assertionMethod": [did + "#key-1"],
    }


def test_embedded_did_document_round_trip():
    document = build_registry_credential(
        [WEB_MEMBER, MEMBERS[1]],
        signer=PARTNERSHIP,
        publisher_did=PARTNERSHIP.controller,
        name="Partnership",
        published_at=NOW,
        did_documents={WEB_MEMBER.did: web_document(WEB_MEMBER.did)},
    )

    registry = load_registry_credential(
        document, publisher_did=PARTNERSHIP.controller, now=NOW
    )

    assert registry.did_documents == {WEB_MEMBER.did: web_document(WEB_MEMBER.did)}
    assert len(registry) == 2


def test_build_rejects_document_of_other_did():
    with pytest.raises(RegistryDocumentInvalid, match="did:web:other.example"):
        build_registry_credential(
            [WEB_MEMBER],
            signer=PARTNERSHIP,
            publisher_did=PARTNERSHIP.controller,
            name="Partnership",
            published_at=NOW,
            did_documents={WEB_MEMBER.did: web_document("did:web:other.example")},
        )


def test_signed_document_of_other_did_rejected():
    # Signed by the partnership, so only the id check can catch it.
    unsigned = publish(members=[WEB_MEMBER])
    del unsigned["proof"]
    entry = unsigned["credentialSubject"]["member"][0]
    entry["didDocument"] = web_document("did:web:other.example")
    document = add_proof(
        unsigned, signer=PARTNERSHIP, cryptosuite="eddsa-jcs-2022", created=NOW
    )

    with pytest.raises(
        RegistryDocumentInvalid,
        match=r"member 1 \(did:web:chelmer-valley.example\) carries the DID "
        r"document of 'did:web:other.example'",
    ):
        load_registry_credential(
            document, publisher_did=PARTNERSHIP.controller, now=NOW
        )


def test_did_document_on_did_key_member_rejected():
    unsigned = publish(members=[MEMBERS[1]])
    del unsigned["proof"]
    entry = unsigned["credentialSubject"]["member"][0]
    entry["didDocument"] = web_document(MEMBERS[1].did)
    document = add_proof(
        unsigned, signer=PARTNERSHIP, cryptosuite="eddsa-jcs-2022", created=NOW
    )

    with pytest.raises(RegistryDocumentInvalid, match="only did:web members"):
        load_registry_credential(
            document, publisher_did=PARTNERSHIP.controller, now=NOW
        )
