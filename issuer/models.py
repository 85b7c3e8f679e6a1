"""Tables of the issuer: organisations, their staff and issued credentials."""

from datetime import UTC, datetime

from sqlalchemy import LargeBinary, Text, UniqueConstraint
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
    """One employee of one organisation, linked to their wallet once claimed.

    The employer's employee number is stored only as an HMAC-SHA-256 under a
    platform secret, so the table can match the next export without keeping
    the number itself. ``holder_did`` and ``wallet_id`` stay empty until the
    staff member claims their credentials with a claim code; until then
    their credentials wait unsigned.
    """

    __tablename__ = "staff_record"
    __table_args__ = (UniqueConstraint("organisation_id", "employee_ref_hash"),)

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True)
    employee_ref_hash: str = Field(max_length=64)
    display_name: str = Field(max_length=200)
    wallet_id: int | None = Field(default=None, foreign_key="wallet.id", index=True)
    holder_did: str | None = Field(default=None, index=True)
    created_at: datetime = Field(default_factory=_now)


class IssuedCredential(SQLModel, table=True):
    """A signed credential, stored as the exact JSON text signed.

    Training credentials from an import name the staff record, subject and
    completion date, and the unique constraint makes a re-import of the
    same completion issue nothing new. Credentials issued through the
    VC-API leave those three empty.
    """

    __tablename__ = "issued_credential"
    __table_args__ = (
        UniqueConstraint(
            "organisation_id", "staff_record_id", "subject_code", "completed_on"
        ),
    )

    id: str = Field(primary_key=True, description="credential id, urn:uuid:...")
    organisation_id: int = Field(foreign_key="organisation.id", index=True)
    staff_record_id: int | None = Field(
        default=None, foreign_key="staff_record.id", index=True
    )
    subject_code: str | None = Field(default=None, max_length=16)
    completed_on: str | None = Field(
        default=None, max_length=10, description="ISO date YYYY-MM-DD"
    )
    valid_until: str = Field(description="validUntil text as signed")
    document: str = Field(sa_column=Column(Text, nullable=False))
    issued_at: datetime = Field(default_factory=_now)
    verification_method_id: str | None = Field(default=None, index=True)
    signed_at: datetime | None = Field(
        default=None, description="the proof's created instant"
    )
    revoked_at: datetime | None = None
    revocation_reason: str | None = Field(default=None, max_length=500)
    suspended_at: datetime | None = None
    suspension_reason: str | None = Field(default=None, max_length=500)
    holder_did: str | None = Field(default=None, index=True)
    delivery: str = Field(default="waiting", max_length=16)
    superseded_by: str | None = Field(default=None, index=True)
    import_run_id: int | None = Field(default=None, foreign_key="import_run.id")


class ImportRun(SQLModel, table=True):
    """One run of a training export import, with its counts so far.

    A run that stops early (a crash, a killed process) stays ``running``;
    running the same file again issues what is missing, exactly once.
    """

    __tablename__ = "import_run"

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True)
    file_name: str = Field(max_length=255)
    state: str = Field(default="running", max_length=16)
    actor: str = Field(max_length=200)
    rows_read: int = 0
    issued: int = 0
    waiting: int = 0
    already_issued: int = 0
    rejected: int = 0
    warnings: int = 0
    staff_added: int = 0
    report_path: str | None = None
    error: str | None = Field(default=None, max_length=1000)
    started_at: datetime = Field(default_factory=_now)
    finished_at: datetime | None = None


class LocalCompetence(SQLModel, table=True):
    """An organisation's local competence and the CSTF subject it counts as."""

    __tablename__ = "local_competence"
    __table_args__ = (UniqueConstraint("organisation_id", "competence_key"),)

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True)
    competence_key: str = Field(max_length=300)
    competence_name: str = Field(max_length=300)
    subject_code: str = Field(max_length=16)
    created_at: datetime = Field(default_factory=_now)


class ClaimCode(SQLModel, table=True):
    """A one-time code with which a staff member claims their credentials.

    Only the SHA-256 of the code is stored; the code itself is shown once,
    to the employer, as a link and a QR.
    """

    __tablename__ = "claim_code"

    id: int | None = Field(default=None, primary_key=True)
    code_hash: str = Field(max_length=64, unique=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True)
    staff_record_id: int = Field(foreign_key="staff_record.id", index=True)
    created_by: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=_now)
    expires_at: datetime
    used_at: datetime | None = None
    wallet_id: int | None = Field(default=None, foreign_key="wallet.id")


class StatusList(SQLModel, table=True):
    """One Bitstring Status List of an organisation for one purpose.

    ``allocated`` counts the indexes handed out, in the order of the list's
    :class:`StatusListPermutation`; at ``length`` the list is full and the
    next credential starts a new list. ``bits`` are the statuses and
    ``document`` is the signed status list credential as served, signed again
    after each change.
    """

    __tablename__ = "status_list"
    __table_args__ = (UniqueConstraint("organisation_id", "purpose", "sequence"),)

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True)
    purpose: str = Field(max_length=16)
    sequence: int
    url: str = Field(unique=True)
    length: int
    allocated: int = 0
    bits: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    version: int = 0
    document: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    etag: str | None = Field(default=None, max_length=64)
    verification_method_id: str | None = None
    signed_at: datetime | None = None
    created_at: datetime = Field(default_factory=_now)


class StatusListPermutation(SQLModel, table=True):
    """The random order in which a status list hands out its indexes.

    ``indexes`` holds every index of the list once, 4 bytes each,
    big-endian, shuffled when the list is created: the n-th credential gets
    the n-th index, so indexes go out at random among the unused ones and an
    index says nothing about its holder. It is kept apart from the list,
    whose row changes with every allocation, because it is 512 KiB and never
    changes.
    """

    __tablename__ = "status_list_permutation"

    status_list_id: int = Field(foreign_key="status_list.id", primary_key=True)
    indexes: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class StatusEntry(SQLModel, table=True):
    """The index a credential holds in one status list."""

    __tablename__ = "status_entry"
    __table_args__ = (UniqueConstraint("status_list_id", "list_index"),)

    id: int | None = Field(default=None, primary_key=True)
    status_list_id: int = Field(foreign_key="status_list.id", index=True)
    list_index: int
    purpose: str = Field(max_length=16)
    credential_id: str = Field(index=True)


class ApiToken(SQLModel, table=True):
    """A bearer token with which one system uses the VC-API as one organisation.

    Only the SHA-256 of the token is stored.
    """

    __tablename__ = "api_token"

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True)
    name: str = Field(max_length=100)
    token_hash: str = Field(max_length=64, unique=True)
    created_by: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=_now)
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None
