"""Tables of the staff wallet: the holder's identity and received credentials."""

from datetime import UTC, datetime

from sqlalchemy import Text, UniqueConstraint
from sqlmodel import Column, Field, SQLModel


def _now() -> datetime:
    return datetime.now(UTC)


class Wallet(SQLModel, table=True):
    """A staff member's wallet; its holder key lives in the key store."""

    __tablename__ = "wallet"

    id: int | None = Field(default=None, primary_key=True)
    holder_did: str = Field(unique=True, index=True)
    holder_key_id: str = Field(foreign_key="stored_key.id")
    display_name: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=_now)


class WalletCredential(SQLModel, table=True):
    """A credential received into a wallet, kept as the exact JSON text signed."""

    __tablename__ = "wallet_credential"
    __table_args__ = (UniqueConstraint("wallet_id", "credential_id"),)

    id: int | None = Field(default=None, primary_key=True)
    wallet_id: int = Field(foreign_key="wallet.id", index=True)
    credential_id: str = Field(index=True)
    document: str = Field(sa_column=Column(Text, nullable=False))
    received_at: datetime = Field(default_factory=_now)
