"""Status lists from this issuer, read by Digital Bazaar's library.

``@digitalbazaar/vc-bitstring-status-list`` (version pinned in
``js/package.json``) loads each status list credential this platform signs,
verifies it with ``@digitalbazaar/vc`` against the organisation's did:web
document, and reads the credential's bit. Its verdict must match this
project's verifier for active, revoked and suspended credentials, and both
sides must agree on the bit order of the encoded list.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, select

from credentials.status_list import (
    MIN_ENTRIES,
    MutableBitstring,
    decode_list,
    encode_list,
    read_status,
)
from issuer.issuance import issue_credential
from issuer.models import StatusList
from issuer.organisations import did_document, get_organisation
from issuer.status_lists import change_status
from keys.store import KeyStore
from passport.db import make_engine, upgrade_database
from passport.verification import platform_sources
from tests.conftest import TEST_PASSPHRASE
from tests.interop.conftest import InteropCli
from tests.issuer.conftest import seed_organisations
from verifier import verify_credential

pytestmark = pytest.mark.interop


def training_shaped(name: str) -> dict[str, Any]:
    return {
        "@context": [
            "https://www.w3.org/ns/credentials/v2",
            "https://staff-passport.example/contexts/training/v1",
        ],
        "type": ["VerifiableCredential", "TrainingCredential"],
        "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": {
            "id": "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
            "subjectCode": name,
        },
    }


@pytest.fixture(scope="module")
def issued(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """An active, a revoked and a suspended credential, with the documents
    a verifier needs: the status list credentials and the did:web document."""
    path: Path = tmp_path_factory.mktemp("status-interop") / "passport.db"
    url = f"sqlite:///{path}"
    upgrade_database(url)
    seed_organisations(url)
    engine = make_engine(url)
    key_store = KeyStore(TEST_PASSPHRASE)
    credentials = {}
    with Session(engine) as session:
        organisation = get_organisation(session, "chelmer-valley")
        for label in ("active", "revoked", "suspended"):
            credentials[label] = issue_credential(
                session, key_store, organisation, training_shaped("FS"), actor="t"
            )
        change_status(
            session,
            key_store,
            organisation,
            credentials["revoked"]["id"],
            "revoke",
            reason="issued in error",
            actor="t",
        )
        change_status(
            session,
            key_store,
            organisation,
            credentials["suspended"]["id"],
            "suspend",
            reason="under review",
            actor="t",
        )
        session.commit()
        documents = {
            row.url: json.loads(row.document)
            for row in session.exec(select(StatusList))
            if row.document
        }
        documents[organisation.did] = did_document(session, organisation)
    engine.dispose()
    return {"url": url, "credentials": credentials, "documents": documents}


def python_status(database_url: str, credential: dict[str, Any]):
    with platform_sources(database_url) as sources:
        result = verify_credential(
            credential, now=datetime.now(UTC) + timedelta(minutes=1), **sources
        )
    return result.check("status")


def js_status(interop_cli: InteropCli, issued, label: str) -> dict[str, Any]:
    return interop_cli.call(
        {
            "operation": "check-status",
            "credential": issued["credentials"][label],
            "documents": issued["documents"],
        }
    )


def test_active_credential_same_verdict(interop_cli, issued):
    theirs = js_status(interop_cli, issued, "active")
    ours = python_status(issued["url"], issued["credentials"]["active"])

    assert theirs["verified"], theirs["error"]
    assert [entry["status"] for entry in theirs["statuses"]] == [False, False]
    assert ours.passed


def test_revoked_credential_same_verdict(interop_cli, issued):
    theirs = js_status(interop_cli, issued, "revoked")
    ours = python_status(issued["url"], issued["credentials"]["revoked"])

    assert theirs["verified"], theirs["error"]
    by_purpose = {
        entry["statusPurpose"]: entry["status"] for entry in theirs["statuses"]
    }
    assert by_purpose == {"revocation": True, "suspension": False}
    assert not ours.passed
    assert "revoked" in ours.message


def test_suspended_credential_same_verdict(interop_cli, issued):
    theirs = js_status(interop_cli, issued, "suspended")
    ours = python_status(issued["url"], issued["credentials"]["suspended"])

    by_purpose = {
        entry["statusPurpose"]: entry["status"] for entry in theirs["statuses"]
    }
    assert by_purpose == {"revocation": False, "suspension": True}
    assert not ours.passed
    assert "suspended" in ours.message


def test_status_list_credential_verifies_in_js(interop_cli, issued):
    url = issued["credentials"]["revoked"]["credentialStatus"][0][
        "statusListCredential"
    ]
    list_credential = issued["documents"][url]

    result = interop_cli.call(
        {
            "operation": "check-status",
            "credential": issued["credentials"]["revoked"],
            "documents": {**issued["documents"], url: list_credential},
        }
    )

    assert result["verified"], result["error"]


def test_tampered_list_rejected_in_js(interop_cli, issued):
    # tests/verifier/test_status.py shows this project's verifier rejecting
    # a tampered list the same way.
    credential = issued["credentials"]["revoked"]
    url = credential["credentialStatus"][0]["statusListCredential"]
    tampered = json.loads(json.dumps(issued["documents"][url]))
    tampered["credentialSubject"]["encodedList"] = encode_list(MutableBitstring())

    theirs = interop_cli.call(
        {
            "operation": "check-status",
            "credential": credential,
            "documents": {**issued["documents"], url: tampered},
        }
    )

    assert not theirs["verified"]
    assert "not verified" in theirs["error"]


def test_index_9_bit_order_both_ways(interop_cli):
    bits = MutableBitstring()
    bits.set(9, 1)

    theirs = interop_cli.call(
        {
            "operation": "decode-status-list",
            "encodedList": encode_list(bits),
            "indexes": [8, 9, 10],
        }
    )

    assert bits.freeze().data[1] == 0b0100_0000
    assert theirs["length"] == MIN_ENTRIES
    assert theirs["statuses"] == [False, True, False]


def test_js_list_with_first_byte_c0(interop_cli):
    theirs = interop_cli.call(
        {"operation": "encode-status-list", "length": MIN_ENTRIES, "set": [0, 1]}
    )

    bits = decode_list(theirs["encodedList"])

    assert bits.data[0] == 0xC0
    assert [read_status(bits, index) for index in (0, 1, 6, 7, 8)] == [1, 1, 0, 0, 0]
