import pytest

from keys.did_web import (
    CachedDidResolver,
    PublishedMethod,
    build_did_document,
    did_web_document_url,
    did_web_for,
)
from keys.errors import InvalidDid
from keys.multikey import Ed25519KeyPair


@pytest.mark.parametrize(
    ("base_url", "did"),
    [
        ("https://passport.example.org", "did:web:passport.example.org:orgs:acme"),
        ("http://127.0.0.1:5000", "did:web:127.0.0.1%3A5000:orgs:acme"),
        ("https://example.org/passport/", "did:web:example.org:passport:orgs:acme"),
    ],
)
def test_did_web_for_base_url(base_url, did):
    assert did_web_for(base_url, "orgs", "acme") == did


def test_did_web_for_rejects_hostless_url():
    with pytest.raises(InvalidDid, match="no host"):
        did_web_for("orgs/acme")


@pytest.mark.parametrize(
    ("did", "url"),
    [
        (
            "did:web:passport.example.org:orgs:acme",
            "https://passport.example.org/orgs/acme/did.json",
        ),
        (
            "did:web:127.0.0.1%3A5000:orgs:acme",
            "https://127.0.0.1:5000/orgs/acme/did.json",
        ),
        ("did:web:example.org", "https://example.org/.well-known/did.json"),
    ],
)
def test_document_url_of_did(did, url):
    assert did_web_document_url(did) == url


@pytest.mark.parametrize(
    "did",
    [
        "did:key:z6Mk",
        "did:web:",
        "did:web:example.org::x",
        "did:web:a%2Fb",
        "did:web:x#k",
    ],
)
def test_document_url_rejects(did):
    with pytest.raises(InvalidDid):
        did_web_document_url(did)


def test_document_lists_methods_by_relationship():
    did = "did:web:example.org:orgs:acme"
    old, new = Ed25519KeyPair.generate(), Ed25519KeyPair.generate()
    document = build_did_document(
        did,
        [
            PublishedMethod(
                f"{did}#key-1", old.public_key_multibase, ("assertionMethod",)
            ),
            PublishedMethod(
                f"{did}#key-2",
                new.public_key_multibase,
                ("assertionMethod", "authentication"),
            ),
        ],
    )

    assert document["id"] == did
    assert [m["id"] for m in document["verificationMethod"]] == [
        f"{did}#key-1",
        f"{did}#key-2",
    ]
    assert document["assertionMethod"] == [f"{did}#key-1", f"{did}#key-2"]
    assert document["authentication"] == [f"{did}#key-2"]
    assert "capabilityInvocation" not in document
    assert all(m["controller"] == did for m in document["verificationMethod"])


def test_document_carries_key_history():
    did = "did:web:example.org:orgs:acme"
    pair = Ed25519KeyPair.generate()
    document = build_did_document(
        did,
        [
            PublishedMethod(
                f"{did}#key-1",
                pair.public_key_multibase,
                ("assertionMethod",),
                created="2026-01-01T00:00:00Z",
                revoked="2026-04-01T09:30:00Z",
                compromised="2026-03-01T00:00:00Z",
            )
        ],
    )

    method = document["verificationMethod"][0]
    assert method["created"] == "2026-01-01T00:00:00Z"
    assert method["revoked"] == "2026-04-01T09:30:00Z"
    assert method["compromised"] == "2026-03-01T00:00:00Z"


def test_cached_resolver_did_key_locally():
    pair = Ed25519KeyPair.generate()

    document = CachedDidResolver()(pair.did)

    assert document["id"] == pair.did


def test_cached_resolver_adds_did_key_history():
    pair = Ed25519KeyPair.generate()
    history = {pair.verification_method_id: {"compromised": "2026-03-01T00:00:00Z"}}

    document = CachedDidResolver(did_key_history=history)(pair.did)

    assert document["verificationMethod"][0]["compromised"] == "2026-03-01T00:00:00Z"


def test_cached_resolver_did_web_from_cache():
    did = "did:web:example.org:orgs:acme"
    resolver = CachedDidResolver({did: {"id": did}})

    assert resolver(did) == {"id": did}


def test_cached_resolver_never_fetches():
    with pytest.raises(InvalidDid, match="never fetched"):
        CachedDidResolver()("did:web:example.org:orgs:other")


def test_cached_resolver_rejects_other_methods():
    with pytest.raises(InvalidDid, match="unsupported method"):
        CachedDidResolver()("did:example:123")
