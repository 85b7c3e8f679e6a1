"""Presentation requests: issued by this verifier, unexpired, used once."""

from datetime import UTC, datetime, timedelta

from passport.db import session_scope
from verifier.challenges import issue_challenge, redeem_challenge

NOW = datetime(2026, 3, 31, 10, tzinfo=UTC)
DOMAIN = "https://hr.colne-estuary.example"


def issue(engine, **options) -> str:
    with session_scope(engine) as session:
        return issue_challenge(session, domain=DOMAIN, now=NOW, **options).challenge


def redeem(engine, challenge, *, domain=DOMAIN, now=NOW + timedelta(minutes=1)):
    with session_scope(engine) as session:
        return redeem_challenge(session, challenge, domain=domain, now=now)


def test_challenge_redeemed_once(migrated_engine):
    challenge = issue(migrated_engine)

    first = redeem(migrated_engine, challenge)
    second = redeem(migrated_engine, challenge)

    assert first.passed
    assert not second.passed
    assert "already used" in second.message


def test_challenges_are_distinct(migrated_engine):
    assert issue(migrated_engine) != issue(migrated_engine)


def test_expired_challenge_rejected(migrated_engine):
    challenge = issue(migrated_engine, lifetime=timedelta(minutes=5))

    check = redeem(migrated_engine, challenge, now=NOW + timedelta(minutes=5))

    assert not check.passed
    assert "expired" in check.message


def test_challenge_for_other_domain_rejected(migrated_engine):
    challenge = issue(migrated_engine)

    check = redeem(migrated_engine, challenge, domain="https://elsewhere.example")

    assert not check.passed
    assert "issued for" in check.message
    assert redeem(migrated_engine, challenge).passed


def test_foreign_challenge_rejected(migrated_engine):
    check = redeem(migrated_engine, "challenge-from-another-verifier")

    assert not check.passed
    assert "not issued by this verifier" in check.message


def test_missing_challenge_rejected(migrated_engine):
    assert not redeem(migrated_engine, None).passed
