"""Tables of the workflow engine.

Every datetime is stored in UTC. Task and timer states use FHIR Task status
codes (``requested``, ``accepted``, ``in-progress``, ``on-hold``,
``completed``, ``cancelled``, ``failed``).
"""

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

MAX_ROW_ID = 2**31 - 1
"""The largest value of the integer id and version columns, which are
PostgreSQL ``integer`` columns. A larger number names no row, and SQLite and
psycopg raise instead of returning nothing, so callers check it first."""


def utc_now() -> datetime:
    return datetime.now(UTC)


def is_row_id(value: int) -> bool:
    """Return whether ``value`` fits an integer id or version column."""
    return 0 <= value <= MAX_ROW_ID


class WorkflowDefinition(SQLModel, table=True):
    """A published definition version: immutable once stored."""

    __tablename__ = "workflow_definition"
    __table_args__ = (UniqueConstraint("definition_id", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    definition_id: str = Field(max_length=64, index=True)
    version: int
    title: str = Field(max_length=200)
    content_hash: str = Field(max_length=64)
    document: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    published_at: datetime = Field(default_factory=utc_now)


class WorkflowInstance(SQLModel, table=True):
    """One run of a definition version for a subject (a patient episode).

    ``lock_version`` grows by one with every change, so two transactions
    that read the same state cannot both commit a change to it.
    """

    __tablename__ = "workflow_instance"
    __table_args__ = (UniqueConstraint("definition_id", "business_key"),)

    id: str = Field(primary_key=True, max_length=36)
    definition_pk: int = Field(foreign_key="workflow_definition.id", index=True)
    definition_id: str = Field(max_length=64)
    version: int
    business_key: str = Field(max_length=200)
    subject_ref: str = Field(max_length=64, index=True)
    status: str = Field(max_length=16, index=True)
    lock_version: int = 1
    variables: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    organisations: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    teams: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    skip_nodes: list[str] = Field(sa_column=Column(JSON, nullable=False))
    hold_reason: str | None = None
    parent_activity_id: int | None = Field(default=None, index=True)
    created_at: datetime = Field(default_factory=utc_now)
    updated_at: datetime = Field(default_factory=utc_now)


class WorkflowActivity(SQLModel, table=True):
    """One entered step of an instance: a block, a task, a wait or a call.

    Tasks and handoffs carry their routing (role at an organisation, and the
    team or ward); the people who may claim them are resolved from
    memberships when they ask, never stored here.
    """

    __tablename__ = "workflow_activity"
    __table_args__ = (
        Index("ix_workflow_activity_open", "instance_id", "status"),
        Index("ix_workflow_activity_children", "parent_id", "status"),
        Index("ix_workflow_activity_routing", "organisation", "role", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    instance_id: str = Field(foreign_key="workflow_instance.id", max_length=36)
    parent_id: int | None = None
    node_id: str = Field(max_length=80)
    kind: str = Field(max_length=16)
    status: str = Field(max_length=16)
    iteration: int = 0
    title: str = Field(default="", max_length=200)
    role: str | None = Field(default=None, max_length=64)
    organisation: str | None = Field(default=None, max_length=64)
    team: str | None = Field(default=None, max_length=64)
    escalated_role: str | None = Field(default=None, max_length=64)
    owner_account_id: int | None = None
    due_at: datetime | None = None
    data: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    child_instance_id: str | None = Field(default=None, max_length=36)
    hold_reason: str | None = None
    created_at: datetime = Field(default_factory=utc_now)
    completed_at: datetime | None = None
    completed_by: str | None = Field(default=None, max_length=64)


class WorkflowTimer(SQLModel, table=True):
    """A point in time the engine must act at; the dispatcher claims due rows.

    ``lease_until`` lets one dispatcher hold a claimed timer while it fires;
    a timer whose lease ran out (its dispatcher died) is claimed again. A
    timer fires in the same transaction that changes its instance, so it
    fires once.
    """

    __tablename__ = "workflow_timer"
    __table_args__ = (Index("ix_workflow_timer_due", "status", "due_at"),)

    id: int | None = Field(default=None, primary_key=True)
    instance_id: str = Field(foreign_key="workflow_instance.id", max_length=36)
    activity_id: int = Field(index=True)
    kind: str = Field(max_length=16)
    due_at: datetime
    status: str = Field(default="scheduled", max_length=16)
    claimed_by: str | None = Field(default=None, max_length=64)
    lease_until: datetime | None = None
    fired_at: datetime | None = None
    lateness_seconds: float | None = None
    missed_periods: int = 0


class WorkflowEvent(SQLModel, table=True):
    """An append-only audit record of one state change: who, when, what."""

    __tablename__ = "workflow_event"

    id: int | None = Field(default=None, primary_key=True)
    instance_id: str = Field(max_length=36, index=True)
    activity_id: int | None = None
    at: datetime = Field(default_factory=utc_now)
    actor: str = Field(max_length=64)
    kind: str = Field(max_length=40)
    data: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))


class WorkflowRequest(SQLModel, table=True):
    """A processed request key and the response it produced, for replays."""

    __tablename__ = "workflow_request"

    key: str = Field(primary_key=True, max_length=200)
    instance_id: str = Field(max_length=36)
    response: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utc_now)


class WorkflowOutbox(SQLModel, table=True):
    """A message to another organisation, written with the change it reports.

    NOTE: nothing sends these to partner systems yet; ``passport workflows
    export --fhir --handoffs`` reads them, and ``delivered_at`` stays empty.
    """

    __tablename__ = "workflow_outbox"
    __table_args__ = (UniqueConstraint("activity_id", "kind"),)

    id: int | None = Field(default=None, primary_key=True)
    instance_id: str = Field(max_length=36, index=True)
    activity_id: int
    kind: str = Field(max_length=32)
    destination: str = Field(max_length=64)
    payload: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utc_now)
    delivered_at: datetime | None = None


class TeamMembership(SQLModel, table=True):
    """A role an account holds at an organisation, in one team or ward.

    ``team`` empty means every team of the organisation (a matron, say).
    """

    __tablename__ = "workflow_membership"
    __table_args__ = (UniqueConstraint("account_id", "organisation", "team", "role"),)

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="user_account.id", index=True)
    organisation: str = Field(max_length=64)
    team: str | None = Field(default=None, max_length=64)
    role: str = Field(max_length=64)
