"""Tables of the staff wallet: the holder's identity and received credentials."""

import secrets
from datetime import UTC, datetime

from sqlalchemy import Text, UniqueConstraint
from sqlmodel import Column, Field, SQLModel


def _now() -> datetime:
    return datetime.now(UTC)


def new_public_id() -> str:
    """Return a random id for URLs: 22 URL-safe characters, 128 bits."""
    return secrets.token_urlsafe(16)


class Wallet(SQLModel, table=True):
    """A staff member's wallet; its holder key lives in the key store."""

    __tablename__ = "wallet"

    id: int | None = Field(default=None, primary_key=True)
    holder_did: str = Field(unique=True, index=True)
    holder_key_id: str = Field(foreign_key="stored_key.id")
    display_name: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=_now)


class WalletCredential(SQLModel, table=True):
    """A credential received into a wallet, kept as the exact JSON text signed.

    ``public_id`` names the credential in wallet URLs; it is random, so a URL
    reveals nothing about the credential or its holder.
    """

    __tablename__ = "wallet_credential"
    __table_args__ = (UniqueConstraint("wallet_id", "credential_id"),)

    id: int | None = Field(default=None, primary_key=True)
    wallet_id: int = Field(foreign_key="wallet.id", index=True)
    credential_id: str = Field(index=True)
    public_id: str = Field(
        default_factory=new_public_id, unique=True, index=True, max_length=32
    )
    document: str = Field(sa_column=Column(Text, nullable=False))
    received_at: datetime = Field(default_factory=_now)
