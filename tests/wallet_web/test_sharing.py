"""Sharing a passport: one-time links, presentations over the verifier's
challenge, exports, deletion and history, checked by HR's verifier."""

import json
from datetime import UTC, date, datetime, timedelta

import pytest

from keys.store import KeyStore
from passport.db import session_scope
from tests.verifier.support import issuer_key, training_credential
from verifier import IssuerRegistry, TrustedIssuer, verify_presentation
from verifier.challenges import issue_challenge
from verifier.fetch import FencedFetcher
from verifier.passport_check import VerifierContext, verify_shared_presentation
from verifier.registry import CSTF_KIND
from wallet_web.holders import create_wallet
from wallet_web.service import receive_credential
from wallet_web.sharing import (
    ShareUnavailable,
    SharingError,
    create_share,
    delete_credential,
    export_passport,
    present_share,
    sharing_history,
)

PASSPHRASE = "test passphrase, not a secret"
NOW = datetime(2026, 3, 31, 10, tzinfo=UTC)
DOMAIN = "https://hr.colne-estuary.example"
ISSUER = issuer_key(1)


@pytest.fixture
def wallet(migrated_engine):
    store = KeyStore(PASSPHRASE)
    with session_scope(migrated_engine) as session:
        wallet = create_wallet(session, store, "Robin EXAMPLE")
        for index, (code, completed) in enumerate(
            [
                ("FS", date(2025, 6, 1)),
                ("IGDS", date(2025, 6, 1)),
                ("SA2", date(2022, 1, 1)),
            ]
        ):
            credential = training_credential(
                ISSUER, wallet.holder_did, code, completed, index=index
            )
            receive_credential(session, wallet.id, json.dumps(credential))
    return migrated_engine, store, wallet


def context() -> VerifierContext:
    registry = IssuerRegistry(
        [
            TrustedIssuer(
                ISSUER.controller,
                "Chelmer Valley",
                cstf_aligned=True,
                may_issue=frozenset({"TrainingCredential", CSTF_KIND}),
            )
        ]
    )
    from keys.did_key import resolve_did_key

    return VerifierContext(
        domain=DOMAIN,
        registry=registry,
        resolve_did=resolve_did_key,
        status_lists=None,
        fetcher=FencedFetcher(),
        wallet_origins=(),
    )


def share(engine, wallet, ids=None, **options):
    with session_scope(engine) as session:
        return create_share(session, wallet.id, ids, now=NOW, **options)


def present(
    engine, store, token, challenge, domain=DOMAIN, now=NOW + timedelta(minutes=1)
):
    with session_scope(engine) as session:
        return present_share(
            session,
            store,
            token,
            challenge=challenge,
            domain=domain,
            verifier_name="Colne Estuary",
            now=now,
        )


def hr_challenge(engine) -> str:
    with session_scope(engine) as session:
        return issue_challenge(session, domain=DOMAIN, now=NOW).challenge


def test_share_url_short_ascii(wallet):
    engine, _, holder = wallet

    url = share(engine, holder).url("https://passport.partnership.example")

    assert url.isascii()
    assert len(url) < 100


def test_default_share_is_valid_credentials(wallet):
    engine, _, holder = wallet

    link = share(engine, holder).link

    # SA2 completed 2022-01-01 with a 3-year refresher has expired.
    assert len(json.loads(link.credential_ids)) == 2


def test_shared_passport_verified(wallet):
    engine, store, holder = wallet
    new = share(engine, holder)
    challenge = hr_challenge(engine)

    presentation = present(engine, store, new.token, challenge)
    with session_scope(engine) as session:
        result = verify_shared_presentation(
            session, presentation, challenge=challenge, context=context(), now=NOW
        )

    assert result.verified, result.to_json()
    assert result.check("challenge-issued").passed
    ids = [check.id for check in result.checks]
    assert ids.index("challenge-issued") == ids.index("challenge") + 1
    assert len(result.credentials) == 2


def test_link_works_once(wallet):
    engine, store, holder = wallet
    new = share(engine, holder)
    present(engine, store, new.token, hr_challenge(engine))

    with pytest.raises(ShareUnavailable, match="already used"):
        present(engine, store, new.token, hr_challenge(engine))


def test_link_expires(wallet):
    engine, store, holder = wallet
    new = share(engine, holder)

    with pytest.raises(ShareUnavailable, match="expired"):
        present(engine, store, new.token, "c" * 22, now=NOW + timedelta(minutes=10))


def test_unknown_link_rejected(wallet):
    engine, store, _ = wallet

    with pytest.raises(ShareUnavailable, match="not known"):
        present(engine, store, "forged-token", "c" * 22)


def test_missing_challenge_keeps_link(wallet):
    engine, store, holder = wallet
    new = share(engine, holder)

    with pytest.raises(SharingError, match="challenge"):
        present(engine, store, new.token, None)
    assert present(engine, store, new.token, "c" * 22)["proof"]["challenge"] == "c" * 22


def test_reused_challenge_rejected(wallet):
    engine, store, holder = wallet
    challenge = hr_challenge(engine)
    first = present(engine, store, share(engine, holder).token, challenge)
    second = present(engine, store, share(engine, holder).token, challenge)
    with session_scope(engine) as session:
        verify_shared_presentation(
            session, first, challenge=challenge, context=context(), now=NOW
        )
    with session_scope(engine) as session:
        result = verify_shared_presentation(
            session, second, challenge=challenge, context=context(), now=NOW
        )

    assert not result.verified
    assert "already used" in result.check("challenge-issued").message


def test_wrong_domain_rejected(wallet):
    engine, store, holder = wallet
    challenge = hr_challenge(engine)
    presentation = present(
        engine,
        store,
        share(engine, holder).token,
        challenge,
        domain="https://other.example",
    )
    with session_scope(engine) as session:
        result = verify_shared_presentation(
            session, presentation, challenge=challenge, context=context(), now=NOW
        )

    assert not result.check("domain").passed
    assert not result.verified


def test_challenge_from_other_verifier_rejected(wallet):
    engine, store, holder = wallet
    presentation = present(
        engine, store, share(engine, holder).token, "elsewhere-challenge-1"
    )
    with session_scope(engine) as session:
        result = verify_shared_presentation(
            session,
            presentation,
            challenge="elsewhere-challenge-1",
            context=context(),
            now=NOW,
        )

    assert "not issued by this verifier" in result.check("challenge-issued").message
    assert not result.verified


def test_share_of_foreign_credential_rejected(wallet):
    engine, _, holder = wallet

    with pytest.raises(SharingError, match="not in this wallet"):
        share(engine, holder, ["urn:uuid:not-mine"])


def test_history_records_verifier(wallet):
    engine, store, holder = wallet
    new = share(engine, holder)
    present(engine, store, new.token, hr_challenge(engine))

    with session_scope(engine) as session:
        history = sharing_history(session, holder.id)

    assert history[0].verifier_name == "Colne Estuary"
    assert history[0].verifier_domain == DOMAIN
    assert history[0].used_at is not None


def test_export_signed_by_holder(wallet):
    engine, store, holder = wallet
    with session_scope(engine) as session:
        exported = export_passport(
            session, store, holder.id, None, domain="https://wallet.example"
        )

    presentation = exported["presentation"]
    result = verify_presentation(
        presentation,
        challenge=presentation["proof"]["challenge"],
        domain="https://wallet.example",
        now=NOW,
    )
    assert len(exported["credentials"]) == 3
    assert result.check("proof").passed
    assert result.check("holder-binding").passed


def test_deleted_credential_not_shared(wallet):
    engine, store, holder = wallet
    with session_scope(engine) as session:
        exported = export_passport(session, store, holder.id, None, domain="d")
        first_id = exported["credentials"][0]["id"]
        assert delete_credential(session, holder.id, first_id)
        assert not delete_credential(session, holder.id, first_id)

    link = share(engine, holder).link

    assert first_id not in json.loads(link.credential_ids)
