"""Tables of the leadership programmes.

Every datetime is stored in UTC. Nothing recorded is deleted: a returned
competency, a withdrawn sign-off and a revoked credential keep their rows
with the time and reason, so the portfolio history stays complete.

A competency record has a ``round``, raised by one each time the
competency reopens (returned or a sign-off withdrawn). Sign-offs count only
in their own round, and the unique key on (record, round, account) is what
stops one person signing twice, even from two requests at once.
"""

from datetime import UTC, date, datetime

from sqlalchemy import Index, Text, UniqueConstraint
from sqlmodel import Column, Field, SQLModel


def utc_now() -> datetime:
    return datetime.now(UTC)


class ProgrammeCohort(SQLModel, table=True):
    """A group of learners who start a programme together, across employers.

    ``lead_organisation`` is where the programme lead has the role;
    ``university`` issues the credentials of academic modules.
    """

    __tablename__ = "programme_cohort"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(unique=True, index=True, max_length=64)
    title: str = Field(max_length=200)
    framework_id: str = Field(max_length=64)
    framework_version: int
    lead_account_id: int = Field(foreign_key="user_account.id")
    lead_organisation: str = Field(max_length=64)
    university: str | None = Field(default=None, max_length=64)
    starts_on: date
    created_at: datetime = Field(default_factory=utc_now)


class ProgrammeEnrolment(SQLModel, table=True):
    """One learner on one cohort, with the people named to support them.

    ``reference`` is a random pseudonymous reference, used as the subject of
    the learner's review workflow and in URLs instead of any personal data.
    """

    __tablename__ = "programme_enrolment"
    __table_args__ = (UniqueConstraint("cohort_id", "learner_account_id"),)

    id: int | None = Field(default=None, primary_key=True)
    reference: str = Field(unique=True, index=True, max_length=32)
    cohort_id: int = Field(foreign_key="programme_cohort.id", index=True)
    learner_account_id: int = Field(foreign_key="user_account.id", index=True)
    organisation: str = Field(max_length=64, description="employer slug")
    variant: str = Field(max_length=64)
    entry_route: str = Field(max_length=64)
    starts_on: date
    assessor_account_id: int = Field(foreign_key="user_account.id", index=True)
    line_manager_account_id: int | None = Field(
        default=None, foreign_key="user_account.id"
    )
    status: str = Field(default="active", max_length=16)
    review_instance_id: str | None = Field(default=None, max_length=36)
    completed_at: datetime | None = None
    created_at: datetime = Field(default_factory=utc_now)


class CompetencyRecord(SQLModel, table=True):
    """The state of one competency in one learner's portfolio.

    ``status`` is ``open``, ``returned`` (reopened with a comment),
    ``signed-off`` or ``counted`` (recognised from a credential of an
    earlier programme).
    """

    __tablename__ = "programme_competency"
    __table_args__ = (
        UniqueConstraint("enrolment_id", "competency"),
        Index("ix_programme_competency_status", "enrolment_id", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    enrolment_id: int = Field(foreign_key="programme_enrolment.id")
    competency: str = Field(max_length=64)
    status: str = Field(default="open", max_length=16)
    round: int = 1
    rating: str | None = Field(default=None, max_length=32)
    signed_off_at: datetime | None = None
    counted_credential_id: str | None = None
    counted_by_account_id: int | None = None
    updated_at: datetime = Field(default_factory=utc_now)


class EvidenceItem(SQLModel, table=True):
    """A piece of evidence for a competency: text, or a stored file.

    A file lives under the data folder with a random name (``storage_name``),
    never under its uploaded name; ``sha256`` lets a download check it.
    """

    __tablename__ = "programme_evidence"

    id: int | None = Field(default=None, primary_key=True)
    record_id: int = Field(foreign_key="programme_competency.id", index=True)
    evidence_type: str = Field(max_length=64)
    title: str = Field(max_length=200)
    text: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    file_name: str | None = Field(default=None, max_length=200)
    content_type: str | None = Field(default=None, max_length=100)
    size_bytes: int | None = None
    storage_name: str | None = Field(default=None, max_length=64, unique=True)
    sha256: str | None = Field(default=None, max_length=64)
    added_by_account_id: int = Field(foreign_key="user_account.id")
    added_by_role: str = Field(max_length=32)
    added_at: datetime = Field(default_factory=utc_now)


class SignOffDecision(SQLModel, table=True):
    """One person's decision on a competency in one round: signed or returned.

    A withdrawn sign-off keeps its row with ``withdrawn_at``, who withdrew it
    and why.
    """

    __tablename__ = "programme_sign_off"
    __table_args__ = (UniqueConstraint("record_id", "round", "account_id"),)

    id: int | None = Field(default=None, primary_key=True)
    record_id: int = Field(foreign_key="programme_competency.id", index=True)
    round: int
    account_id: int = Field(foreign_key="user_account.id")
    role: str = Field(max_length=32)
    decision: str = Field(max_length=16, description="signed or returned")
    rating: str | None = Field(default=None, max_length=32)
    comment: str | None = Field(default=None, max_length=2000)
    decided_at: datetime = Field(default_factory=utc_now)
    withdrawn_at: datetime | None = None
    withdrawn_by_account_id: int | None = None
    withdrawal_reason: str | None = Field(default=None, max_length=2000)


class ProgrammeCredential(SQLModel, table=True):
    """A credential issued for a competency or for the completed programme.

    ``issue_key`` is unique: ``ENROLMENT:COMPETENCY:ROUND`` for a
    competency and ``ENROLMENT:programme:N`` for the N-th completion, so
    processing the same completion twice issues one credential.
    """

    __tablename__ = "programme_credential"

    id: int | None = Field(default=None, primary_key=True)
    issue_key: str = Field(unique=True, max_length=200)
    enrolment_id: int = Field(foreign_key="programme_enrolment.id", index=True)
    competency: str | None = Field(default=None, max_length=64)
    credential_id: str = Field(unique=True)
    organisation: str = Field(max_length=64)
    issued_at: datetime = Field(default_factory=utc_now)
    revoked_at: datetime | None = None
