"""The user account table and the roles that pages check."""

from datetime import UTC, datetime
from enum import StrEnum

from sqlmodel import Field, SQLModel


class Role(StrEnum):
    """What a signed-in user may do; every page that changes data checks it."""

    STAFF = "staff"
    HR = "hr"
    ISSUER_ADMIN = "issuer_admin"


class UserAccount(SQLModel, table=True):
    """A person who signs in: staff member, HR officer or issuer administrator.

    ``organisation_slug`` is the employer an HR officer or issuer
    administrator acts for; ``wallet_id`` links a staff member to the wallet
    holding their credentials.
    """

    __tablename__ = "user_account"

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(unique=True, index=True, max_length=254)
    display_name: str = Field(max_length=200)
    password_hash: str
    role: str = Field(max_length=32)
    organisation_slug: str | None = Field(default=None, max_length=64)
    wallet_id: int | None = Field(default=None, foreign_key="wallet.id")
    created_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
