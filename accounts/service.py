"""The accounts service API: accounts, role grants, sign-in and sessions.

Nothing here knows Flask; the sign-in page, the command line and the demo
seed call these functions with a database session. Sign-in failures are
rate-limited per email address and per client address through the
``sign_in_failure`` table, so the limit holds across every web process that
shares the database. Other failures, such as wrong claim codes, are limited
per client address through the same table.
"""

import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func
from sqlmodel import Session, col, select

from accounts.models import AccountSession, RoleGrant, SignInFailure, UserAccount
from accounts.passwords import check_password, hash_password
from accounts.roles import role_definition
from audit.log import record_event

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ThrottlePolicy:
    """How many failed sign-ins are allowed within ``window``.

    ``per_account`` counts failures for one email address, whether or not
    an account has it; ``per_client`` counts failures from one client
    address across all email addresses, with room for a ward's shared
    network.
    """

    per_account: int = 5
    per_client: int = 30
    window: timedelta = timedelta(minutes=15)


DEFAULT_THROTTLE = ThrottlePolicy()

#: A session ends this long after its last request.
SESSION_IDLE_TIMEOUT = timedelta(hours=2)
#: A session ends this long after sign-in whatever its activity: one shift.
SESSION_MAX_AGE = timedelta(hours=12)
# Recording every request would write to the database on each page view; a
# session's last-seen time moves only when it is older than this.
_LAST_SEEN_RESOLUTION = timedelta(minutes=1)

# A valid Argon2id hash of a random password, checked when no account has
# the email address, so that a wrong address takes as long as a wrong
# password and response times do not reveal which addresses exist.
_DUMMY_HASH = hash_password(secrets.token_urlsafe(16))


class AccountError(Exception):
    """A request about accounts that cannot be carried out as given."""


class InvalidCredentials(AccountError):
    """The email address and password do not match an account."""


class TooManyFailures(AccountError):
    """Too many failed attempts from one client; the caller must wait
    ``retry_after``."""

    attempts = "attempts"

    def __init__(self, retry_after: timedelta) -> None:
        self.retry_after = retry_after
        minutes = max(1, -(-int(retry_after.total_seconds()) // 60))
        super().__init__(
            f"Too many failed {self.attempts}; wait {minutes} minute(s) and try again."
        )


class SignInThrottled(TooManyFailures):
    """Too many failed sign-ins; the caller must wait ``retry_after``."""

    attempts = "sign-ins"


@dataclass(frozen=True)
class ClientFailureLimit:
    """At most ``limit`` failures of ``kind`` from one client address within
    ``window``, counted in the sign-in failure table under a keyed hash."""

    kind: str
    limit: int
    window: timedelta = timedelta(minutes=15)


class AccountExists(AccountError):
    """An account already has the email address."""


@dataclass(frozen=True)
class Grant:
    """One role of an account, and the organisation it acts for in it."""

    role: str
    organisation_slug: str | None


@dataclass(frozen=True)
class AccountView:
    """What pages may know about an account: no password hash."""

    id: int
    email: str
    display_name: str
    wallet_id: int | None
    grants: tuple[Grant, ...]

    @property
    def roles(self) -> frozenset[str]:
        """Every role the account holds, for any organisation."""
        return frozenset(grant.role for grant in self.grants)

    def has_role(self, *roles: str) -> bool:
        """Return whether the account holds any of ``roles``."""
        return any(grant.role in roles for grant in self.grants)

    def organisations(self, *roles: str) -> tuple[str, ...]:
        """Return the organisations the account acts for in any of ``roles``."""
        slugs = (
            grant.organisation_slug
            for grant in self.grants
            if grant.role in roles and grant.organisation_slug is not None
        )
        return tuple(dict.fromkeys(slugs))

    def acts_for(self, organisation_slug: str, *roles: str) -> bool:
        """Return whether the account holds one of ``roles`` at the organisation."""
        return organisation_slug in self.organisations(*roles)


def normalise_email(email: str) -> str:
    """Return ``email`` as accounts store it: trimmed and lower-case."""
    return email.strip().lower()


def create_account(
    session: Session,
    *,
    email: str,
    display_name: str,
    password: str,
    wallet_id: int | None = None,
) -> UserAccount:
    """Create an account with an Argon2id hash of ``password``. The caller commits.

    :raises AccountExists: if an account already has the email address.
    :raises ValueError: if the email address or display name is empty.
    """
    address = normalise_email(email)
    if "@" not in address or not display_name.strip():
        raise ValueError(
            f"Account email {email!r} or display name {display_name!r} is "
            "invalid; give an email address and a non-empty name."
        )
    if find_account(session, address) is not None:
        raise AccountExists(f"An account with email {address!r} already exists.")
    account = UserAccount(
        email=address,
        display_name=display_name.strip(),
        password_hash=hash_password(password),
        wallet_id=wallet_id,
    )
    session.add(account)
    session.flush()
    logger.info("account created id=%s", account.id)
    return account


def link_wallet(session: Session, account_id: int, wallet_id: int) -> None:
    """Make ``wallet_id`` the account's wallet (the caller commits).

    :raises AccountError: if the account does not exist or already has
        another wallet.
    """
    account = session.get(UserAccount, account_id)
    if account is None:
        raise AccountError(f"No account has id {account_id}.")
    if account.wallet_id not in (None, wallet_id):
        raise AccountError(
            f"Account {account_id} already has wallet {account.wallet_id}; an "
            "account holds one wallet."
        )
    account.wallet_id = wallet_id
    session.add(account)
    session.flush()


def find_account(session: Session, email: str) -> UserAccount | None:
    """Return the account with ``email`` (any case), or None."""
    address = normalise_email(email)
    return session.exec(select(UserAccount).where(UserAccount.email == address)).first()


def grant_role(
    session: Session,
    account_id: int,
    role: str,
    organisation_slug: str | None = None,
) -> RoleGrant:
    """Give an account a role, once; granting it again returns the existing grant.

    :raises ValueError: if a defined role's organisation scope does not match
        ``organisation_slug`` (an organisation-scoped role needs one, others
        take none).
    """
    definition = role_definition(role)
    if definition is not None and definition.organisation_scoped != (
        organisation_slug is not None
    ):
        need = (
            "needs an organisation" if definition.organisation_scoped else "takes none"
        )
        raise ValueError(
            f"Role {role!r} {need}; organisation {organisation_slug!r} was given."
        )
    existing = session.exec(
        select(RoleGrant).where(
            RoleGrant.account_id == account_id,
            RoleGrant.role == role,
            RoleGrant.organisation_slug == organisation_slug
            if organisation_slug is not None
            else col(RoleGrant.organisation_slug).is_(None),
        )
    ).first()
    if existing is not None:
        return existing
    grant = RoleGrant(
        account_id=account_id, role=role, organisation_slug=organisation_slug
    )
    session.add(grant)
    session.flush()
    logger.info(
        "role granted account=%s role=%s org=%s", account_id, role, organisation_slug
    )
    return grant


def account_view(session: Session, account: UserAccount) -> AccountView:
    """Return the read model of ``account`` with its grants."""
    assert account.id is not None
    grants = session.exec(
        select(RoleGrant)
        .where(RoleGrant.account_id == account.id)
        .order_by(col(RoleGrant.id))
    )
    return AccountView(
        id=account.id,
        email=account.email,
        display_name=account.display_name,
        wallet_id=account.wallet_id,
        grants=tuple(Grant(g.role, g.organisation_slug) for g in grants),
    )


# --- Sign-in -----------------------------------------------------------------


def throttle_key(secret: bytes, kind: str, value: str) -> str:
    """Return the keyed hash that stands for an email or client address."""
    return hmac.new(secret, f"{kind}\x00{value}".encode(), hashlib.sha256).hexdigest()


def authenticate(
    session: Session,
    email: str,
    password: str,
    *,
    client_address: str,
    secret: bytes,
    now: datetime | None = None,
    policy: ThrottlePolicy = DEFAULT_THROTTLE,
) -> UserAccount:
    """Return the account whose email and password match.

    Every failure is recorded and logged with the account id (or
    ``unknown``) and a short hash of the client address, never the email
    address or the password. The caller commits, also after a failure, so
    that the failure counts.

    :param client_address: the client's network address, used only hashed.
    :param secret: key for the hashes that stand for addresses in the
        failure table.
    :param policy: the failure limits.
    :raises SignInThrottled: if the email or client address has failed too
        often recently; the password is then not checked.
    :raises InvalidCredentials: if no account matches.
    """
    now = now or datetime.now(UTC)
    address = normalise_email(email)
    account_key = throttle_key(secret, "account", address)
    client_key = throttle_key(secret, "client", client_address)
    _raise_if_throttled(session, account_key, policy.per_account, policy.window, now)
    _raise_if_throttled(session, client_key, policy.per_client, policy.window, now)

    account = find_account(session, address)
    if account is None:
        check_password(_DUMMY_HASH, password)
        _record_failure(session, (account_key, client_key), policy.window, now)
        _audit_failure(session, None, "unknown-account", client_key, now)
        logger.warning(
            "sign-in failed reason=unknown-account client=%s", client_key[:12]
        )
        raise InvalidCredentials("The email address or password is wrong.")
    if not check_password(account.password_hash, password):
        _record_failure(session, (account_key, client_key), policy.window, now)
        _audit_failure(session, account.id, "wrong-password", client_key, now)
        logger.warning(
            "sign-in failed reason=wrong-password account=%s client=%s",
            account.id,
            client_key[:12],
        )
        raise InvalidCredentials("The email address or password is wrong.")

    session.exec(
        delete(SignInFailure).where(col(SignInFailure.throttle_key) == account_key)
    )
    logger.info("sign-in account=%s client=%s", account.id, client_key[:12])
    return account


def _audit_failure(
    session: Session,
    account_id: int | None,
    reason: str,
    client_key: str,
    now: datetime,
) -> None:
    """Record a failed sign-in in the audit log: ids and hashes, no email."""
    record_event(
        session,
        "signin.failed",
        actor="anonymous",
        target=f"account:{account_id}" if account_id is not None else None,
        details={"reason": reason, "client": client_key[:12]},
        at=now,
    )


def _raise_if_throttled(
    session: Session, key: str, limit: int, window: timedelta, now: datetime
) -> None:
    throttled = _throttled(session, key, limit, window, now)
    if throttled is not None:
        retry_after, count = throttled
        logger.warning("sign-in throttled key=%s failures=%d", key[:12], count)
        raise SignInThrottled(retry_after)


def _throttled(
    session: Session, key: str, limit: int, window: timedelta, now: datetime
) -> tuple[timedelta, int] | None:
    """Return how long ``key`` must wait and its failure count, or None if
    it is under ``limit``."""
    since = now - window
    count, oldest = session.exec(
        select(func.count(), func.min(SignInFailure.failed_at)).where(
            SignInFailure.throttle_key == key, SignInFailure.failed_at > since
        )
    ).one()
    if count < limit:
        return None
    return max(oldest + window - now, timedelta(seconds=1)), count


def check_client_failures(
    session: Session,
    limit: ClientFailureLimit,
    client_address: str,
    *,
    secret: bytes,
    now: datetime | None = None,
) -> None:
    """Stop a client that failed ``limit.kind`` too often recently.

    :raises TooManyFailures: with the time left until the oldest failure
        counted leaves the window.
    """
    key = throttle_key(secret, limit.kind, client_address)
    now = now or datetime.now(UTC)
    throttled = _throttled(session, key, limit.limit, limit.window, now)
    if throttled is not None:
        retry_after, count = throttled
        logger.warning(
            "client throttled kind=%s key=%s failures=%d", limit.kind, key[:12], count
        )
        raise TooManyFailures(retry_after)


def record_client_failure(
    session: Session,
    limit: ClientFailureLimit,
    client_address: str,
    *,
    secret: bytes,
    now: datetime | None = None,
) -> None:
    """Count one failure of ``limit.kind`` for the client (the caller commits)."""
    key = throttle_key(secret, limit.kind, client_address)
    _record_failure(session, (key,), limit.window, now or datetime.now(UTC))


def _record_failure(
    session: Session, keys: tuple[str, ...], window: timedelta, now: datetime
) -> None:
    since = now - window
    session.exec(
        delete(SignInFailure).where(
            col(SignInFailure.throttle_key).in_(keys),
            col(SignInFailure.failed_at) <= since,
        )
    )
    for key in keys:
        session.add(SignInFailure(throttle_key=key, failed_at=now))
    session.flush()


# --- Sessions ----------------------------------------------------------------


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(
    session: Session, account_id: int, *, now: datetime | None = None
) -> str:
    """Start a signed-in session and return its token for the browser's cookie."""
    now = now or datetime.now(UTC)
    token = secrets.token_urlsafe(32)
    session.add(
        AccountSession(
            token_hash=_token_hash(token),
            account_id=account_id,
            created_at=now,
            last_seen_at=now,
        )
    )
    session.flush()
    return token


def load_session(
    session: Session, token: str, *, now: datetime | None = None
) -> AccountView | None:
    """Return the account of a live session, or None if it ended or timed out.

    A live session's last-seen time is moved to ``now``; the caller commits.
    """
    now = now or datetime.now(UTC)
    row = session.get(AccountSession, _token_hash(token))
    if row is None or row.ended_at is not None:
        return None
    if now - row.last_seen_at > SESSION_IDLE_TIMEOUT or (
        now - row.created_at > SESSION_MAX_AGE
    ):
        row.ended_at = now
        session.add(row)
        return None
    account = session.get(UserAccount, row.account_id)
    if account is None:
        return None
    if now - row.last_seen_at > _LAST_SEEN_RESOLUTION:
        row.last_seen_at = now
        session.add(row)
    return account_view(session, account)


def end_session(session: Session, token: str, *, now: datetime | None = None) -> None:
    """End a session, so its cookie no longer signs anyone in. The caller commits."""
    row = session.get(AccountSession, _token_hash(token))
    if row is not None and row.ended_at is None:
        row.ended_at = now or datetime.now(UTC)
        session.add(row)
        logger.info("sign-out account=%s", row.account_id)
