"""Tables of the verifier: trust registry, presentation requests, role
requirement profiles, cached status lists and HR decisions."""

from datetime import UTC, datetime

from sqlalchemy import Text, UniqueConstraint
from sqlmodel import Column, Field, SQLModel


def _now() -> datetime:
    return datetime.now(UTC)


class RegistryMember(SQLModel, table=True):
    """A member organisation of the partnership's trust registry.

    ``may_issue`` and ``origins`` are JSON lists of text.
    """

    __tablename__ = "registry_member"

    id: int | None = Field(default=None, primary_key=True)
    did: str = Field(unique=True, index=True)
    name: str = Field(max_length=200)
    slug: str = Field(default="", max_length=64)
    cstf_aligned: bool = False
    may_issue: str = Field(default="[]", sa_column=Column(Text, nullable=False))
    origins: str = Field(default="[]", sa_column=Column(Text, nullable=False))
    member_from: datetime | None = None
    member_until: datetime | None = None
    updated_at: datetime = Field(default_factory=_now)
    updated_by: str = Field(default="", max_length=254)


class VerifierSetting(SQLModel, table=True):
    """A named setting of the verifier, such as the registry signing key id."""

    __tablename__ = "verifier_setting"

    name: str = Field(primary_key=True, max_length=64)
    value: str


class PresentationRequest(SQLModel, table=True):
    """A challenge this verifier issued, valid once until ``expires_at``."""

    __tablename__ = "presentation_request"

    id: int | None = Field(default=None, primary_key=True)
    challenge: str = Field(unique=True, index=True, max_length=64)
    domain: str
    created_at: datetime = Field(default_factory=_now)
    expires_at: datetime
    used_at: datetime | None = None
    organisation_slug: str | None = Field(default=None, max_length=64)


class RoleProfile(SQLModel, table=True):
    """A role's training requirements, such as a registered nurse on an
    adult ward."""

    __tablename__ = "role_profile"

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(unique=True, index=True, max_length=64)
    name: str = Field(max_length=200)
    description: str = Field(default="", sa_column=Column(Text, nullable=False))
    updated_at: datetime = Field(default_factory=_now)
    updated_by: str = Field(default="", max_length=254)


class RoleRequirement(SQLModel, table=True):
    """One required subject at its minimum level, by subject code."""

    __tablename__ = "role_requirement"
    __table_args__ = (UniqueConstraint("profile_id", "subject_code"),)

    id: int | None = Field(default=None, primary_key=True)
    profile_id: int = Field(foreign_key="role_profile.id", index=True)
    subject_code: str = Field(max_length=16)
    position: int = 0


class CachedStatusListRow(SQLModel, table=True):
    """A verified status list as fetched, shared by every worker process."""

    __tablename__ = "status_list_cache"

    url: str = Field(primary_key=True)
    issuer: str
    purpose: str = Field(max_length=32)
    status_size: int = 1
    encoded_list: str = Field(sa_column=Column(Text, nullable=False))
    fetched_at: datetime


class HrDecision(SQLModel, table=True):
    """HR's decision on one subject of a shared passport.

    ``outcome`` is the report's status for the subject; ``decision`` is what
    HR decided: ``accept``, ``redo`` or ``review``. No personal data beyond
    the holder's DID and the credential id is kept.
    """

    __tablename__ = "hr_decision"

    id: int | None = Field(default=None, primary_key=True)
    report_id: str = Field(index=True, max_length=64)
    organisation_slug: str = Field(max_length=64)
    profile_slug: str = Field(max_length=64)
    holder_did: str
    subject_code: str = Field(max_length=16)
    outcome: str = Field(max_length=32)
    decision: str = Field(max_length=16)
    credential_id: str | None = None
    note: str = Field(default="", sa_column=Column(Text, nullable=False))
    decided_by: str = Field(max_length=254)
    decided_at: datetime = Field(default_factory=_now)
