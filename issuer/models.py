"""Tables of the issuer: organisations, their staff and issued credentials."""

from datetime import UTC, datetime

from sqlalchemy import Text, UniqueConstraint
from sqlmodel import Column, Field, SQLModel


def _now() -> datetime:
    return datetime.now(UTC)


class Organisation(SQLModel, table=True):
    """A partnership member that issues credentials under its own keys.

    ``did`` is the DID it issues under (a did:web on this platform) and
    ``verification_method_id`` its current signing key. ``did_key`` is the
    did:key name of its first key, kept for conformance runs and for
    credentials issued before it had a did:web.
    """

    __tablename__ = "organisation"

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(unique=True, index=True, max_length=64)
    name: str = Field(max_length=200)
    org_type: str = Field(max_length=64)
    did: str = Field(unique=True, index=True)
    did_key: str | None = Field(default=None, unique=True, index=True)
    verification_method_id: str
    cstf_aligned: bool = False
    esr_vpd_code: str | None = Field(default=None, max_length=16)
    created_at: datetime = Field(default_factory=_now)


class StaffRecord(SQLModel, table=True):
    """One employee of one organisation, linked to the wallet that holds their
    credentials.

    The employer's employee number is stored only as an HMAC-SHA-256 under a
    platform secret, so the table can match the next export without keeping
    the number itself.
    """

    __tablename__ = "staff_record"
    __table_args__ = (UniqueConstraint("organisation_id", "employee_ref_hash"),)

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True)
    employee_ref_hash: str = Field(max_length=64)
    display_name: str = Field(max_length=200)
    wallet_id: int = Field(foreign_key="wallet.id", index=True)
    created_at: datetime = Field(default_factory=_now)


class IssuedCredential(SQLModel, table=True):
    """A signed training credential, stored as the exact JSON text signed.

    The unique constraint makes a re-import of the same completion issue
    nothing new.
    """

    __tablename__ = "issued_credential"
    __table_args__ = (
        UniqueConstraint(
            "organisation_id", "staff_record_id", "subject_code", "completed_on"
        ),
    )

    id: str = Field(primary_key=True, description="credential id, urn:uuid:...")
    organisation_id: int = Field(foreign_key="organisation.id", index=True)
    staff_record_id: int = Field(foreign_key="staff_record.id", index=True)
    subject_code: str = Field(max_length=16)
    completed_on: str = Field(max_length=10, description="ISO date YYYY-MM-DD")
    valid_until: str = Field(description="validUntil text as signed")
    document: str = Field(sa_column=Column(Text, nullable=False))
    issued_at: datetime = Field(default_factory=_now)
    verification_method_id: str | None = Field(default=None, index=True)
    signed_at: datetime | None = Field(
        default=None, description="the proof's created instant"
    )
