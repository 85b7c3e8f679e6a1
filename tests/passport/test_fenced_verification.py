"""The platform's verification sources against real HTTP servers on 127.0.0.1.

An issuer outside the platform publishes its did:web document and status
lists on a local server. The platform's trust registry (its database table)
lists that server's origin for the issuer, so only that origin is fetched,
within the timeout and size limit, and nothing else is requested.
"""

import socket
from datetime import UTC, date, datetime

import pytest
from sqlmodel import Session

from keys.multikey import Ed25519KeyPair
from passport.db import make_engine, session_scope, upgrade_database
from passport.settings import FetchSettings
from passport.verification import VerificationSources, registry_from_engine
from tests.verifier.support import (
    Route,
    issuer_key,
    running_server,
    status_list_credential,
    training_credential,
)
from verifier import IssuerRegistry, TrustedIssuer, verify_credential
from verifier.registry_service import MemberInput, end_membership, save_member

NOW = datetime(2026, 3, 31, 12, tzinfo=UTC)
HOLDER = issuer_key(2).controller
INDEX = 42
LOCAL = FetchSettings(allow_http=True, timeout=1.0)


class OutsideIssuer:
    """An issuer on another platform: a did:web document and status lists
    served by ``server``."""

    def __init__(self, server) -> None:
        self.server = server
        self.did = f"did:web:127.0.0.1%3A{server.port}:orgs:outside"
        self.key = Ed25519KeyPair.from_seed(
            bytes([7]) * 32, controller=self.did, id=self.did + "#key-1"
        )
        server.serve_json("/orgs/outside/did.json", self.did_document())
        self.status_base = server.origin + "/status/1"

    def did_document(self) -> dict:
        return {
            "@context": [
                "https://www.w3.org/ns/did/v1",
                "https://w3id.org/security/multikey/v1",
            ],
            "id": self.did,
            "verificationMethod": [
                {**self.key.to_multikey(), "created": "2021-04-01T00:00:00Z"}
            ],
            "assertionMethod": [self.key.verification_method_id],
        }

    def publish_lists(self, revoked: tuple[int, ...] = ()) -> None:
        for purpose, bits in (("revocation", revoked), ("suspension", ())):
            url = f"{self.status_base}-{purpose}"
            self.server.serve_json(
                f"/status/1-{purpose}",
                status_list_credential(self.key, url, purpose, set_indexes=bits),
            )

    def credential(
        self, status_url: str | None = None, created: datetime | None = None
    ):
        return training_credential(
            self.key,
            HOLDER,
            "FS",
            date(2025, 6, 1),
            status_url=status_url or self.status_base,
            index=INDEX,
            created=created,
        )


@pytest.fixture
def engine(settings):
    upgrade_database(settings.database_url)
    engine = make_engine(settings.database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def server():
    with running_server() as running:
        yield running


@pytest.fixture
def other_server():
    with running_server() as running:
        yield running


@pytest.fixture
def silent_origin():
    """An origin whose socket accepts connections but never responds."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    listener.close()


def register(engine, issuer: OutsideIssuer, *origins: str, **changes) -> None:
    member = MemberInput(
        did=issuer.did,
        name="Outside Trust",
        cstf_aligned=True,
        may_issue=("TrainingCredential", "cstf"),
        member_from=datetime(2020, 1, 1, tzinfo=UTC),
        origins=origins or (issuer.server.origin,),
        **changes,
    )
    with session_scope(engine) as session:
        save_member(session, member, editor="test")


def verify(engine, document, settings=LOCAL, offline=False):
    sources = VerificationSources(engine, settings, offline=offline)
    try:
        return verify_credential(document, now=NOW, **sources.sources())
    finally:
        sources.close()


def test_outside_issuer_verified_through_fence(engine, server):
    issuer = OutsideIssuer(server)
    issuer.publish_lists()
    register(engine, issuer)

    result = verify(engine, issuer.credential())

    assert result.verified, result.checks
    assert result.check("issuer-known").passed
    assert result.check("key-valid-at-issuance").passed
    assert "fetched 0 seconds ago" in result.check("status").message
    assert sorted(server.requests) == [
        "/orgs/outside/did.json",
        "/status/1-revocation",
        "/status/1-suspension",
    ]


def test_outside_revocation_detected(engine, server):
    issuer = OutsideIssuer(server)
    issuer.publish_lists(revoked=(INDEX,))
    register(engine, issuer)

    result = verify(engine, issuer.credential())

    assert not result.verified
    assert result.check("status").reason == "revoked"


def test_unlisted_status_origin_not_requested(engine, server, other_server):
    issuer = OutsideIssuer(server)
    issuer.publish_lists()
    register(engine, issuer)
    credential = issuer.credential(status_url=other_server.origin + "/status/1")

    result = verify(engine, credential)

    status = result.check("status")
    assert not status.passed
    assert "not on an origin the trust registry lists" in status.message
    assert other_server.requests == []


def test_unknown_did_web_not_requested(engine, server):
    issuer = OutsideIssuer(server)
    issuer.publish_lists()

    result = verify(engine, issuer.credential())

    assert not result.check("proof").passed
    assert "it was not fetched" in result.check("verification-method").message
    assert server.requests == []


def test_plain_http_refused_by_default(engine, server):
    issuer = OutsideIssuer(server)
    issuer.publish_lists()
    register(engine, issuer)

    result = verify(engine, issuer.credential(), settings=FetchSettings())

    assert not result.verified
    assert "it was not fetched" in result.check("verification-method").message
    # Without the issuer's key the status list address is an unsigned claim,
    # so it is not fetched either.
    assert result.check("status").message.startswith("Not checked")
    assert server.requests == []


def test_silent_status_server_times_out(engine, server, silent_origin):
    issuer = OutsideIssuer(server)
    register(engine, issuer, server.origin, silent_origin)
    settings = FetchSettings(allow_http=True, timeout=0.5)

    result = verify(
        engine, issuer.credential(status_url=silent_origin + "/status/1"), settings
    )

    status = result.check("status")
    assert not status.passed
    assert status.reason == "unavailable"
    assert "timed out after 0.5 s" in status.message
    assert result.check("proof").passed


def test_redirect_to_other_origin_refused(engine, server, other_server):
    issuer = OutsideIssuer(server)
    issuer.publish_lists()
    register(engine, issuer)
    server.routes["/status/1-revocation"] = Route(
        status=302,
        headers={"Location": other_server.origin + "/status/1-revocation"},
    )

    result = verify(engine, issuer.credential())

    status = result.check("status")
    assert not status.passed
    assert "another origin" in status.message
    assert other_server.requests == []


@pytest.mark.parametrize("omit_length", [False, True])
def test_oversize_status_list_fails(engine, server, omit_length):
    issuer = OutsideIssuer(server)
    register(engine, issuer)
    server.routes["/status/1-revocation"] = Route(
        body=b"[" + b"0," * 40_000 + b"0]", omit_length=omit_length
    )
    settings = FetchSettings(allow_http=True, timeout=1.0, max_bytes=16 * 1024)

    result = verify(engine, issuer.credential(), settings)

    status = result.check("status")
    assert not status.passed
    assert "16384" in status.message


def test_unreadable_status_list_fails_closed(engine, server):
    issuer = OutsideIssuer(server)
    register(engine, issuer)
    server.routes["/status/1-revocation"] = Route(body=b"not json at all")

    result = verify(engine, issuer.credential())

    status = result.check("status")
    assert not status.passed
    assert status.reason == "unavailable"
    assert "did not return JSON" in status.message


def test_offline_uses_stored_list_with_age(engine, server):
    issuer = OutsideIssuer(server)
    issuer.publish_lists()
    register(engine, issuer)
    issuer_key_did = issuer_key(9)
    # A did:key issuer needs no DID document, so offline mode has all it
    # needs once its status lists were fetched.
    credential = training_credential(
        issuer_key_did,
        HOLDER,
        "FS",
        date(2025, 6, 1),
        status_url=server.origin + "/status/9",
        index=INDEX,
    )
    for purpose in ("revocation", "suspension"):
        url = f"{server.origin}/status/9-{purpose}"
        server.serve_json(
            f"/status/9-{purpose}", status_list_credential(issuer_key_did, url, purpose)
        )
    with session_scope(engine) as session:
        save_member(
            session,
            MemberInput(
                did=issuer_key_did.controller,
                name="Key Trust",
                origins=(server.origin,),
            ),
            editor="test",
        )
    assert verify(engine, credential).verified
    fetched = len(server.requests)

    later = verify(engine, credential, offline=True)

    assert later.verified, later.checks
    assert len(server.requests) == fetched
    assert "list fetched" in later.check("status").message


def test_offline_without_stored_list_fails(engine, server):
    issuer = OutsideIssuer(server)
    issuer.publish_lists()
    register(engine, issuer)

    result = verify(engine, issuer.credential(), offline=True)

    assert not result.verified
    assert server.requests == []


def test_left_member_trusted_only_before(engine, server):
    issuer = OutsideIssuer(server)
    issuer.publish_lists()
    register(engine, issuer)
    left = datetime(2025, 7, 1, tzinfo=UTC)
    with session_scope(engine) as session:
        end_membership(session, issuer.did, at=left, editor="test")
    before = issuer.credential(created=datetime(2025, 6, 30, 9, tzinfo=UTC))
    after = issuer.credential(created=datetime(2025, 7, 2, 9, tzinfo=UTC))

    earlier = verify(engine, before)
    later = verify(engine, after)

    assert earlier.check("issuer-allowed").passed
    assert earlier.verified
    assert not later.check("issuer-allowed").passed
    assert "was not a partnership member" in later.check("issuer-allowed").message
    assert later.check("issuer-allowed").severity == "warning"


def test_registry_read_from_table(engine, server):
    issuer = OutsideIssuer(server)
    register(engine, issuer)

    registry = registry_from_engine(engine)

    member = registry.lookup(issuer.did)
    assert member is not None
    assert member.origins == (server.origin,)


def test_fetched_list_stored_for_other_workers(engine, server):
    issuer = OutsideIssuer(server)
    issuer.publish_lists()
    register(engine, issuer)
    verify(engine, issuer.credential())

    from verifier.models import CachedStatusListRow

    with Session(engine) as session:
        row = session.get(CachedStatusListRow, issuer.status_base + "-revocation")
    assert row is not None
    assert row.issuer == issuer.did


def test_registry_embedded_document_not_fetched(server):
    issuer = OutsideIssuer(server)
    issuer.publish_lists()
    registry = IssuerRegistry(
        [
            TrustedIssuer(
                issuer.did,
                "Outside Trust",
                cstf_aligned=True,
                may_issue=frozenset({"TrainingCredential", "cstf"}),
                member_from=datetime(2020, 1, 1, tzinfo=UTC),
                origins=(server.origin,),
            )
        ],
        did_documents={issuer.did: issuer.did_document()},
    )
    sources = VerificationSources(None, LOCAL)
    try:
        result = verify_credential(
            issuer.credential(), now=NOW, **sources.sources(registry)
        )
    finally:
        sources.close()

    assert result.verified, result.to_json()
    assert "/orgs/outside/did.json" not in server.requests
    assert sorted(server.requests) == ["/status/1-revocation", "/status/1-suspension"]
