"""did:web through the fence, and keys checked at issuance against their
rotation and compromise history."""

from datetime import UTC, date, datetime

import pytest

from credentials.proofs import add_proof
from issuer.subjects import subject_by_code
from issuer.training import build_training_credential
from keys.multikey import Ed25519KeyPair
from verifier import IssuerRegistry, TrustedIssuer, verify_credential
from verifier.did_resolution import DidResolutionError, DidResolver, did_web_url
from verifier.fetch import FencedFetcher, FetchPolicy

from .support import issuer_key, running_server

NOW = datetime(2026, 3, 31, tzinfo=UTC)
HOLDER = issuer_key(2).controller


@pytest.mark.parametrize(
    ("did", "url"),
    [
        ("did:web:trust.example", "https://trust.example/.well-known/did.json"),
        (
            "did:web:trust.example%3A8443:orgs:chelmer",
            "https://trust.example:8443/orgs/chelmer/did.json",
        ),
    ],
)
def test_did_web_url(did, url):
    assert did_web_url(did) == url


@pytest.mark.parametrize(
    "did",
    [
        "did:web:",
        "did:web:a.example::x",
        "did:web:a.example:..:x",
        "did:web:a%2Fb",
        "did:key:z",
    ],
)
def test_malformed_did_web_rejected(did):
    with pytest.raises(DidResolutionError):
        did_web_url(did)


class Organisation:
    """A did:web issuer with an old (rotated) key and a current key."""

    def __init__(self, server, *, compromised: str | None = None) -> None:
        host = f"127.0.0.1%3A{server.port}"
        self.did = f"did:web:{host}:orgs:chelmer"
        self.old = Ed25519KeyPair.from_seed(
            b"\x11" * 32, controller=self.did, id=self.did + "#key-1"
        )
        self.new = Ed25519KeyPair.from_seed(
            b"\x12" * 32, controller=self.did, id=self.did + "#key-2"
        )
        old_method = {
            **self.old.to_multikey(),
            "created": "2021-04-01T00:00:00Z",
            "revoked": "2025-01-01T00:00:00Z",
        }
        if compromised:
            old_method["compromised"] = compromised
        new_method = {**self.new.to_multikey(), "created": "2025-01-01T00:00:00Z"}
        server.serve_json(
            "/orgs/chelmer/did.json",
            {
                "@context": [
                    "https://www.w3.org/ns/did/v1",
                    "https://w3id.org/security/multikey/v1",
                ],
                "id": self.did,
                "verificationMethod": [old_method, new_method],
                "assertionMethod": [
                    self.old.verification_method_id,
                    self.new.verification_method_id,
                ],
            },
        )
        self.registry = IssuerRegistry(
            [
                TrustedIssuer(
                    self.did,
                    "Chelmer Valley",
                    cstf_aligned=True,
                    origins=(server.origin,),
                )
            ]
        )
        self.resolver = DidResolver(
            FencedFetcher(FetchPolicy(allow_http=True, timeout=1)),
            registry=self.registry,
        )

    def issue(self, key: Ed25519KeyPair, created: str):
        unsigned = build_training_credential(
            credential_id="urn:uuid:6a1c0a4e-0000-4000-8000-000000000001",
            issuer_id=self.did,
            holder_id=HOLDER,
            display_name="Robin EXAMPLE",
            subject=subject_by_code("FS"),
            completed=date(2024, 12, 1),
            cstf_aligned=True,
        )
        return add_proof(unsigned, signer=key, created=created)

    def verify(self, credential):
        return verify_credential(
            credential, now=NOW, registry=self.registry, resolve_did=self.resolver
        )


@pytest.fixture
def server():
    with running_server() as running:
        yield running


def test_did_web_credential_verified(server):
    org = Organisation(server)

    result = org.verify(org.issue(org.new, "2025-02-01T09:00:00Z"))

    assert result.verified
    assert result.check("key-valid-at-issuance").passed
    assert server.requests == ["/orgs/chelmer/did.json"]


def test_rotated_key_valid_before_rotation(server):
    org = Organisation(server)

    result = org.verify(org.issue(org.old, "2024-12-01T09:00:00Z"))

    assert result.check("key-valid-at-issuance").passed
    assert result.verified


def test_rotated_key_invalid_after_rotation(server):
    org = Organisation(server)

    result = org.verify(org.issue(org.old, "2025-02-01T09:00:00Z"))

    check = result.check("key-valid-at-issuance")
    assert not check.passed
    assert "retired on 2025-01-01" in check.message
    assert not result.verified


def test_key_used_before_creation_fails(server):
    org = Organisation(server)

    result = org.verify(org.issue(org.new, "2024-12-01T09:00:00Z"))

    assert (
        "before the key came into use" in result.check("key-valid-at-issuance").message
    )


def test_compromised_key_fails_from_instant(server):
    org = Organisation(server, compromised="2024-06-01T00:00:00Z")

    before = org.verify(org.issue(org.old, "2024-05-31T09:00:00Z"))
    after = org.verify(org.issue(org.old, "2024-06-02T09:00:00Z"))

    assert before.check("key-valid-at-issuance").passed
    assert not after.check("key-valid-at-issuance").passed
    assert "compromised" in after.check("key-valid-at-issuance").message


def test_did_document_cached(server):
    org = Organisation(server)
    credential = org.issue(org.new, "2025-02-01T09:00:00Z")

    org.verify(credential)
    org.verify(credential)

    assert server.requests == ["/orgs/chelmer/did.json"]


def test_did_web_outside_registry_not_fetched(server):
    org = Organisation(server)
    resolver = DidResolver(
        FencedFetcher(FetchPolicy(allow_http=True)), registry=IssuerRegistry()
    )

    result = verify_credential(
        org.issue(org.new, "2025-02-01T09:00:00Z"), now=NOW, resolve_did=resolver
    )

    assert not result.check("verification-method").passed
    assert "it was not fetched" in result.check("verification-method").message
    assert server.requests == []


def test_did_web_offline_without_copy_fails(server):
    org = Organisation(server)

    result = verify_credential(
        org.issue(org.new, "2025-02-01T09:00:00Z"),
        now=NOW,
        resolve_did=DidResolver(None),
    )

    assert not result.verified
    assert "offline" in result.check("verification-method").message
