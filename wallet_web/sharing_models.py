"""Tables of passport sharing: one-time share links and what each shared."""

from datetime import UTC, datetime

from sqlalchemy import Text
from sqlmodel import Column, Field, SQLModel


def _now() -> datetime:
    return datetime.now(UTC)


class ShareLink(SQLModel, table=True):
    """A one-time link to a presentation of chosen credentials.

    Only the SHA-256 of the link's token is stored, so the table cannot be
    used to build working links. ``credential_ids`` is a JSON list. Once
    used, ``verifier_domain`` and ``verifier_name`` record who received
    the presentation, for the wallet's sharing history.
    """

    __tablename__ = "share_link"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(unique=True, index=True, max_length=64)
    wallet_id: int = Field(foreign_key="wallet.id", index=True)
    credential_ids: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(default_factory=_now)
    expires_at: datetime
    used_at: datetime | None = None
    verifier_domain: str | None = None
    verifier_name: str | None = Field(default=None, max_length=200)
