import json
import logging
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, select

from accounts.models import SignInFailure
from accounts.roles import Role
from accounts.service import (
    DEFAULT_THROTTLE,
    SESSION_IDLE_TIMEOUT,
    SESSION_MAX_AGE,
    AccountExists,
    InvalidCredentials,
    SignInThrottled,
    ThrottlePolicy,
    account_view,
    authenticate,
    create_account,
    end_session,
    find_account,
    grant_role,
    load_session,
    start_session,
)
from passport.db import make_engine, upgrade_database

SECRET = b"test throttle secret"
NOW = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
# Small limits keep the number of Argon2 checks (about 0.2 s each) down.
POLICY = ThrottlePolicy(per_account=3, per_client=4, window=timedelta(minutes=15))
MAX_FAILURES_PER_ACCOUNT = POLICY.per_account
MAX_FAILURES_PER_ADDRESS = POLICY.per_client
FAILURE_WINDOW = POLICY.window


@pytest.fixture
def sqlite_engine(sqlite_url):
    upgrade_database(sqlite_url)
    engine = make_engine(sqlite_url)
    yield engine
    engine.dispose()


@pytest.fixture
def session(sqlite_engine):
    with Session(sqlite_engine, expire_on_commit=False) as session:
        yield session


@pytest.fixture
def any_session(migrated_engine):
    """A session on each supported database, for the tests whose SQL differs."""
    with Session(migrated_engine, expire_on_commit=False) as session:
        yield session


@pytest.fixture
def account(session):
    account = create_account(
        session,
        email="  Robin.Tester@Example.NHS ",
        display_name="Robin TESTER",
        password="s3cret password",
    )
    session.commit()
    return account


@pytest.fixture
def account_any(any_session):
    account = create_account(
        any_session,
        email="robin.tester@example.nhs",
        display_name="Robin TESTER",
        password="s3cret password",
    )
    any_session.commit()
    return account


def _sign_in(session, email, password, client="10.0.0.1", now=NOW):
    try:
        return authenticate(
            session,
            email,
            password,
            client_address=client,
            secret=SECRET,
            now=now,
            policy=POLICY,
        )
    finally:
        session.commit()


def test_create_account_normalises_email(account):
    assert account.email == "robin.tester@example.nhs"
    assert account.password_hash.startswith("$argon2id$")


def test_create_account_twice_rejected(session, account):
    with pytest.raises(AccountExists, match="robin.tester@example.nhs"):
        create_account(
            session, email="ROBIN.TESTER@example.nhs", display_name="X", password="p"
        )


def test_create_account_without_at_rejected(session):
    with pytest.raises(ValueError, match="invalid"):
        create_account(session, email="robin", display_name="Robin", password="p")


def test_find_account_any_case(session, account):
    assert find_account(session, "ROBIN.tester@EXAMPLE.nhs").id == account.id


def test_grant_role_idempotent(session, account):
    first = grant_role(session, account.id, Role.HR, "colne-estuary")
    again = grant_role(session, account.id, Role.HR, "colne-estuary")
    assert first.id == again.id


def test_grants_for_several_organisations(any_session, account_any):
    grant_role(any_session, account_any.id, Role.HR, "colne-estuary")
    grant_role(any_session, account_any.id, Role.HR, "blackwater-community")
    grant_role(any_session, account_any.id, Role.STAFF)
    view = account_view(any_session, account_any)
    assert view.organisations(Role.HR) == ("colne-estuary", "blackwater-community")
    assert view.acts_for("colne-estuary", Role.HR)
    assert not view.acts_for("colne-estuary", Role.ISSUER_ADMIN)
    assert view.has_role(Role.STAFF)
    assert view.roles == {"hr", "staff"}


def test_grant_scoped_role_without_organisation_rejected(session, account):
    with pytest.raises(ValueError, match="needs an organisation"):
        grant_role(session, account.id, Role.HR)


def test_grant_unscoped_role_with_organisation_rejected(session, account):
    with pytest.raises(ValueError, match="takes none"):
        grant_role(session, account.id, Role.STAFF, "colne-estuary")


def test_authenticate_success(session, account):
    signed_in = _sign_in(session, "robin.tester@example.nhs", "s3cret password")
    assert signed_in.id == account.id


def test_authenticate_wrong_password(session, account):
    with pytest.raises(InvalidCredentials):
        _sign_in(session, "robin.tester@example.nhs", "wrong")


def test_authenticate_unknown_email(session, account):
    with pytest.raises(InvalidCredentials):
        _sign_in(session, "nobody@example.nhs", "s3cret password")


def test_failures_logged_without_personal_data(session, account, caplog):
    caplog.set_level(logging.WARNING, logger="accounts.service")
    for email in ("robin.tester@example.nhs", "nobody@example.nhs"):
        with pytest.raises(InvalidCredentials):
            _sign_in(session, email, "wrong guess", client="192.0.2.44")
    text = caplog.text
    assert "sign-in failed reason=wrong-password" in text
    assert "sign-in failed reason=unknown-account" in text
    assert "robin" not in text.lower()
    assert "nobody" not in text
    assert "192.0.2.44" not in text
    assert "wrong guess" not in text


def test_failures_audited_without_email(session, account):
    from audit.log import recent_entries, verify_chain

    for email in ("robin.tester@example.nhs", "nobody@example.nhs"):
        with pytest.raises(InvalidCredentials):
            _sign_in(session, email, "wrong guess", client="192.0.2.44")
    session.commit()

    entries = recent_entries(session, action="signin.failed")
    reasons = sorted(json.loads(entry.details)["reason"] for entry in entries)
    assert reasons == ["unknown-account", "wrong-password"]
    assert all("robin" not in entry.details for entry in entries)
    assert all("192.0.2.44" not in entry.details for entry in entries)
    assert verify_chain(session).intact


def test_failure_rows_store_no_email(session, account):
    with pytest.raises(InvalidCredentials):
        _sign_in(session, "robin.tester@example.nhs", "wrong")
    keys = session.exec(select(SignInFailure.throttle_key)).all()
    assert len(keys) == 2
    assert all("robin" not in key and len(key) == 64 for key in keys)


def test_account_throttled_after_max_failures(any_session, account_any):
    for _ in range(MAX_FAILURES_PER_ACCOUNT):
        with pytest.raises(InvalidCredentials):
            _sign_in(any_session, "robin.tester@example.nhs", "wrong")
    # Even the right password is not checked while throttled.
    with pytest.raises(SignInThrottled) as raised:
        _sign_in(any_session, "robin.tester@example.nhs", "s3cret password")
    assert timedelta(0) < raised.value.retry_after <= FAILURE_WINDOW
    assert "wait 15 minute(s)" in str(raised.value)


def test_default_throttle_limits():
    assert DEFAULT_THROTTLE.per_account == 5
    assert DEFAULT_THROTTLE.per_client == 30
    assert DEFAULT_THROTTLE.window == timedelta(minutes=15)


def test_throttle_counts_any_email_case(session, account):
    for _ in range(MAX_FAILURES_PER_ACCOUNT):
        with pytest.raises(InvalidCredentials):
            _sign_in(session, "ROBIN.tester@example.nhs", "wrong")
    with pytest.raises(SignInThrottled):
        _sign_in(session, "robin.tester@example.nhs", "s3cret password")


def test_throttle_ends_after_window(any_session, account_any):
    for _ in range(MAX_FAILURES_PER_ACCOUNT):
        with pytest.raises(InvalidCredentials):
            _sign_in(any_session, "robin.tester@example.nhs", "wrong")
    later = NOW + FAILURE_WINDOW + timedelta(seconds=1)
    signed_in = _sign_in(
        any_session, "robin.tester@example.nhs", "s3cret password", now=later
    )
    assert signed_in.id == account_any.id


def test_unknown_email_throttled_too(session, account):
    for _ in range(MAX_FAILURES_PER_ACCOUNT):
        with pytest.raises(InvalidCredentials):
            _sign_in(session, "nobody@example.nhs", "guess")
    with pytest.raises(SignInThrottled):
        _sign_in(session, "nobody@example.nhs", "guess")


def test_client_address_throttled_across_emails(session, account):
    for index in range(MAX_FAILURES_PER_ADDRESS):
        with pytest.raises(InvalidCredentials):
            _sign_in(
                session, f"person{index}@example.nhs", "guess", client="203.0.113.9"
            )
    with pytest.raises(SignInThrottled):
        _sign_in(
            session, "robin.tester@example.nhs", "s3cret password", client="203.0.113.9"
        )
    # Another address is not affected.
    assert _sign_in(session, "robin.tester@example.nhs", "s3cret password").id


def test_success_clears_account_failures(session, account):
    for _ in range(MAX_FAILURES_PER_ACCOUNT - 1):
        with pytest.raises(InvalidCredentials):
            _sign_in(session, "robin.tester@example.nhs", "wrong")
    _sign_in(session, "robin.tester@example.nhs", "s3cret password")
    for _ in range(MAX_FAILURES_PER_ACCOUNT - 1):
        with pytest.raises(InvalidCredentials):
            _sign_in(session, "robin.tester@example.nhs", "wrong", client="10.0.0.2")
    assert _sign_in(session, "robin.tester@example.nhs", "s3cret password").id


def test_session_round_trip(any_session, account_any):
    grant_role(any_session, account_any.id, Role.STAFF)
    token = start_session(any_session, account_any.id, now=NOW)
    any_session.commit()
    view = load_session(any_session, token, now=NOW + timedelta(minutes=5))
    assert view.id == account_any.id
    assert view.has_role(Role.STAFF)


def test_session_unknown_token(session, account):
    assert load_session(session, "not-a-token", now=NOW) is None


def test_session_ended(session, account):
    token = start_session(session, account.id, now=NOW)
    end_session(session, token, now=NOW)
    session.commit()
    assert load_session(session, token, now=NOW) is None


def test_session_idle_timeout(any_session, account_any):
    token = start_session(any_session, account_any.id, now=NOW)
    any_session.commit()
    late = NOW + SESSION_IDLE_TIMEOUT + timedelta(seconds=1)
    assert load_session(any_session, token, now=late) is None
    # A timed-out session stays ended.
    assert load_session(any_session, token, now=NOW) is None


def test_session_activity_extends_idle(session, account):
    token = start_session(session, account.id, now=NOW)
    step = SESSION_IDLE_TIMEOUT - timedelta(minutes=5)
    assert load_session(session, token, now=NOW + step) is not None
    session.commit()
    assert load_session(session, token, now=NOW + 2 * step) is not None


def test_session_max_age(session, account):
    token = start_session(session, account.id, now=NOW)
    step = timedelta(hours=1)
    moment = NOW
    while moment - NOW < SESSION_MAX_AGE - step:
        moment += step
        assert load_session(session, token, now=moment) is not None
        session.commit()
    assert load_session(session, token, now=NOW + SESSION_MAX_AGE + step) is None


def test_session_token_stored_hashed(session, account):
    from accounts.models import AccountSession

    token = start_session(session, account.id, now=NOW)
    session.commit()
    stored = session.exec(select(AccountSession.token_hash)).all()
    assert token not in stored
    assert len(stored[0]) == 64
