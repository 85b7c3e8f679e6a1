"""Tables of accounts: people who sign in, their roles and their sessions."""

from datetime import UTC, datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from accounts.roles import Role

__all__ = ["AccountSession", "Role", "RoleGrant", "SignInFailure", "UserAccount"]


def _now() -> datetime:
    return datetime.now(UTC)


class UserAccount(SQLModel, table=True):
    """A person who signs in: staff member, HR officer, administrator.

    What the account may do is in its :class:`RoleGrant` rows. ``wallet_id``
    links a staff member to the wallet holding their credentials. ``email``
    is stored lower-case.
    """

    __tablename__ = "user_account"

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(unique=True, index=True, max_length=254)
    display_name: str = Field(max_length=200)
    password_hash: str
    wallet_id: int | None = Field(default=None, foreign_key="wallet.id")
    created_at: datetime = Field(default_factory=_now)


class RoleGrant(SQLModel, table=True):
    """One role an account holds, for one organisation or for none.

    ``organisation_slug`` is the organisation the account acts for in this
    role; it is None for roles that are not organisation-scoped (a staff
    member's own wallet).
    """

    __tablename__ = "role_grant"

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="user_account.id", index=True)
    role: str = Field(max_length=32)
    organisation_slug: str | None = Field(default=None, max_length=64)
    created_at: datetime = Field(default_factory=_now)


class AccountSession(SQLModel, table=True):
    """A signed-in browser session, so that signing out ends it on the server.

    The browser's cookie holds a random token; the table keeps only its
    SHA-256, so a copy of the database cannot be used to sign in.
    """

    __tablename__ = "account_session"

    token_hash: str = Field(primary_key=True, max_length=64)
    account_id: int = Field(foreign_key="user_account.id", index=True)
    created_at: datetime = Field(default_factory=_now)
    last_seen_at: datetime = Field(default_factory=_now)
    ended_at: datetime | None = None


class SignInFailure(SQLModel, table=True):
    """A failed sign-in, counted to rate-limit guessing.

    ``throttle_key`` is a keyed hash of the email address or of the client
    address, never the value itself.
    """

    __tablename__ = "sign_in_failure"
    __table_args__ = (
        Index("ix_sign_in_failure_key_time", "throttle_key", "failed_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    throttle_key: str = Field(max_length=64)
    failed_at: datetime = Field(default_factory=_now)
