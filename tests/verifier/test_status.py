"""Status checks against real status lists served on 127.0.0.1: revoked,
suspended, fail closed, cached with age, offline mode."""

import socket
from datetime import UTC, date, datetime, timedelta

import pytest

from verifier import IssuerRegistry, TrustedIssuer, verify_credential
from verifier.fetch import FencedFetcher, FetchPolicy
from verifier.status import StatusListCache

from .support import (
    issuer_key,
    running_server,
    status_list_credential,
    training_credential,
)

NOW = datetime(2026, 3, 31, 12, tzinfo=UTC)
ISSUER = issuer_key(1)
HOLDER = issuer_key(2).controller


@pytest.fixture
def server():
    with running_server() as running:
        yield running


def registry_for(origin: str) -> IssuerRegistry:
    return IssuerRegistry(
        [
            TrustedIssuer(
                ISSUER.controller,
                "Chelmer Valley",
                cstf_aligned=True,
                origins=(origin,),
            )
        ]
    )


def publish_lists(server, revoked=(), suspended=()) -> str:
    base = server.origin + "/status/3"
    server.serve_json(
        "/status/3-revocation",
        status_list_credential(
            ISSUER, base + "-revocation", "revocation", set_indexes=revoked
        ),
    )
    server.serve_json(
        "/status/3-suspension",
        status_list_credential(
            ISSUER, base + "-suspension", "suspension", set_indexes=suspended
        ),
    )
    return base


def cache(**options) -> StatusListCache:
    return StatusListCache(
        FencedFetcher(FetchPolicy(allow_http=True, timeout=0.5)), **options
    )


def verify(document, registry, lists, now=NOW):
    return verify_credential(document, now=now, registry=registry, status_lists=lists)


def test_unrevoked_credential_passes(server):
    base = publish_lists(server)
    credential = training_credential(
        ISSUER, HOLDER, "FS", date(2025, 6, 1), status_url=base
    )

    result = verify(credential, registry_for(server.origin), cache())

    assert result.check("status").passed
    assert "fetched 0 seconds ago" in result.check("status").message
    assert result.verified


def test_revoked_credential_fails(server):
    base = publish_lists(server, revoked=(42,))
    credential = training_credential(
        ISSUER, HOLDER, "FS", date(2025, 6, 1), status_url=base
    )

    check = verify(credential, registry_for(server.origin), cache()).check("status")

    assert not check.passed
    assert check.reason == "revoked"
    assert check.severity == "error"


def test_suspended_credential_fails(server):
    base = publish_lists(server, suspended=(42,))
    credential = training_credential(
        ISSUER, HOLDER, "FS", date(2025, 6, 1), status_url=base
    )

    check = verify(credential, registry_for(server.origin), cache()).check("status")

    assert check.reason == "suspended"
    assert not check.passed


def test_other_index_unaffected(server):
    base = publish_lists(server, revoked=(41, 43))
    credential = training_credential(
        ISSUER, HOLDER, "FS", date(2025, 6, 1), status_url=base
    )

    assert (
        verify(credential, registry_for(server.origin), cache()).check("status").passed
    )


def test_unreachable_list_fails_closed():
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        origin = f"http://127.0.0.1:{silent.getsockname()[1]}"
        credential = training_credential(
            ISSUER, HOLDER, "FS", date(2025, 6, 1), status_url=origin + "/status/3"
        )

        result = verify(credential, registry_for(origin), cache())

    check = result.check("status")
    assert not check.passed
    assert check.severity == "error"
    assert check.reason == "unavailable"
    assert "timed out" in check.message
    assert not result.verified


def test_list_on_unlisted_origin_not_fetched(server):
    base = publish_lists(server)
    credential = training_credential(
        ISSUER, HOLDER, "FS", date(2025, 6, 1), status_url=base
    )

    check = verify(credential, registry_for("https://trust.example"), cache()).check(
        "status"
    )

    assert not check.passed
    assert "it was not fetched" in check.message
    assert server.requests == []


def test_unknown_issuer_list_not_fetched(server):
    base = publish_lists(server)
    credential = training_credential(
        ISSUER, HOLDER, "FS", date(2025, 6, 1), status_url=base
    )

    result = verify(credential, IssuerRegistry(), cache())

    assert not result.check("status").passed
    assert server.requests == []


def test_list_signed_by_another_issuer_rejected(server):
    base = server.origin + "/status/3"
    impostor = issuer_key(9)
    for purpose in ("revocation", "suspension"):
        forged = status_list_credential(impostor, f"{base}-{purpose}", purpose)
        server.serve_json(f"/status/3-{purpose}", forged)
    credential = training_credential(
        ISSUER, HOLDER, "FS", date(2025, 6, 1), status_url=base
    )

    check = verify(credential, registry_for(server.origin), cache()).check("status")

    assert not check.passed
    assert "not by the credential's issuer" in check.message


def test_tampered_list_rejected(server):
    base = publish_lists(server)
    tampered = status_list_credential(ISSUER, base + "-revocation", "revocation")
    tampered["credentialSubject"]["statusPurpose"] = "suspension"
    server.serve_json("/status/3-revocation", tampered)
    credential = training_credential(
        ISSUER, HOLDER, "FS", date(2025, 6, 1), status_url=base
    )

    check = verify(credential, registry_for(server.origin), cache()).check("status")

    assert not check.passed
    assert "failed verification" in check.message


def test_garbage_list_fails_closed(server):
    base = server.origin + "/status/3"
    server.serve_json("/status/3-revocation", {"type": "nonsense"})
    credential = training_credential(
        ISSUER,
        HOLDER,
        "FS",
        date(2025, 6, 1),
        status_url=base,
        purposes=("revocation",),
    )

    check = verify(credential, registry_for(server.origin), cache()).check("status")

    assert not check.passed
    assert check.reason == "unavailable"


def test_fresh_cache_used_without_fetch(server):
    base = publish_lists(server)
    credential = training_credential(
        ISSUER, HOLDER, "FS", date(2025, 6, 1), status_url=base
    )
    lists = cache()
    verify(credential, registry_for(server.origin), lists)
    fetched = len(server.requests)

    result = verify(
        credential, registry_for(server.origin), lists, now=NOW + timedelta(minutes=2)
    )

    assert len(server.requests) == fetched
    assert "fetched 2 minutes ago" in result.check("status").message


def test_stale_cache_refetched(server):
    base = publish_lists(server)
    credential = training_credential(
        ISSUER, HOLDER, "FS", date(2025, 6, 1), status_url=base
    )
    lists = cache()
    verify(credential, registry_for(server.origin), lists)
    publish_lists(server, revoked=(42,))

    later = verify(
        credential, registry_for(server.origin), lists, now=NOW + timedelta(hours=1)
    )

    assert later.check("status").reason == "revoked"


def test_offline_mode_uses_cached_list_with_age(server):
    base = publish_lists(server)
    credential = training_credential(
        ISSUER, HOLDER, "FS", date(2025, 6, 1), status_url=base
    )
    online = cache()
    verify(credential, registry_for(server.origin), online)
    offline = StatusListCache(None, store=online.store)
    requests_before = len(server.requests)

    result = verify(
        credential, registry_for(server.origin), offline, now=NOW + timedelta(days=2)
    )

    assert result.check("status").passed
    assert "fetched 2 days ago" in result.check("status").message
    assert len(server.requests) == requests_before


def test_offline_mode_without_cache_fails(server):
    base = publish_lists(server)
    credential = training_credential(
        ISSUER, HOLDER, "FS", date(2025, 6, 1), status_url=base
    )

    check = verify(
        credential, registry_for(server.origin), StatusListCache(None)
    ).check("status")

    assert not check.passed
    assert "no copy of the status list" in check.message
    assert server.requests == []


def test_no_status_source_is_warning(server):
    base = publish_lists(server)
    credential = training_credential(
        ISSUER, HOLDER, "FS", date(2025, 6, 1), status_url=base
    )

    result = verify(credential, registry_for(server.origin), None)

    check = result.check("status")
    assert not check.passed
    assert check.severity == "warning"
    assert check.reason == "not-checked"
    assert result.verified


def test_credential_without_status_passes():
    credential = training_credential(ISSUER, HOLDER, "FS", date(2025, 6, 1))

    check = verify(credential, IssuerRegistry(), cache()).check("status")

    assert check.passed
    assert check.reason == "no-status"


def test_bad_index_fails_closed(server):
    base = publish_lists(server)
    credential = training_credential(
        ISSUER, HOLDER, "FS", date(2025, 6, 1), status_url=base, index=999999999
    )

    check = verify(credential, registry_for(server.origin), cache()).check("status")

    assert not check.passed
    assert "outside the status list" in check.message
