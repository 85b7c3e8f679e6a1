"""Tables of the audit log: the entries and the head of their hash chain."""

from sqlalchemy import Text
from sqlmodel import Column, Field, SQLModel


class AuditEntry(SQLModel, table=True):
    """One recorded event, chained to the entry before it.

    ``entry_hash`` is SHA-256 over the canonical JSON of every other field,
    including ``previous_hash``, so changing any field of any entry breaks
    the chain from that entry on. ``recorded_at`` is kept as the exact text
    that was hashed (UTC, microseconds, ``Z``), so a database round trip
    cannot alter it. ``details`` is canonical JSON holding ids and reasons,
    never personal data or secrets.
    """

    __tablename__ = "audit_entry"

    sequence: int = Field(primary_key=True, description="1, 2, 3... without gaps")
    recorded_at: str = Field(max_length=32, index=True)
    actor: str = Field(max_length=200)
    action: str = Field(max_length=64, index=True)
    organisation: str | None = Field(default=None, max_length=64, index=True)
    target: str | None = Field(default=None, max_length=300)
    details: str = Field(sa_column=Column(Text, nullable=False))
    previous_hash: str = Field(max_length=64)
    entry_hash: str = Field(max_length=64)


class AuditHead(SQLModel, table=True):
    """The single row naming the last entry: its sequence number and hash.

    Appending updates this row first, which serialises writers on both
    SQLite and PostgreSQL, and lets verification notice entries deleted from
    the end of the log.
    """

    __tablename__ = "audit_head"

    id: int = Field(default=1, primary_key=True)
    sequence: int = 0
    entry_hash: str = Field(max_length=64)
