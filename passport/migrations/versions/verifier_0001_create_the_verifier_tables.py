"""Create the verifier tables

Revision ID: verifier_0001
Revises: 0001
Create Date: 2026-12-04 15:10:40.611271
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "verifier_0001"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = ("verifier",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "hr_decision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.String(length=64), nullable=False),
        sa.Column("organisation_slug", sa.String(length=64), nullable=False),
        sa.Column("profile_slug", sa.String(length=64), nullable=False),
        sa.Column("holder_did", sa.String(), nullable=False),
        sa.Column("subject_code", sa.String(length=16), nullable=False),
        sa.Column("outcome", sa.String(length=32), nullable=False),
        sa.Column("decision", sa.String(length=16), nullable=False),
        sa.Column("credential_id", sa.String(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("decided_by", sa.String(length=254), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("hr_decision", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_hr_decision_report_id"), ["report_id"], unique=False
        )

    op.create_table(
        "presentation_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("challenge", sa.String(length=64), nullable=False),
        sa.Column("domain", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("organisation_slug", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("presentation_request", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_presentation_request_challenge"), ["challenge"], unique=True
        )

    op.create_table(
        "registry_member",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("did", sa.String(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("slug", sa.String(length=64), nullable=False),
        sa.Column("cstf_aligned", sa.Boolean(), nullable=False),
        sa.Column("may_issue", sa.Text(), nullable=False),
        sa.Column("origins", sa.Text(), nullable=False),
        sa.Column("member_from", sa.DateTime(timezone=True), nullable=True),
        sa.Column("member_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=254), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("registry_member", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_registry_member_did"), ["did"], unique=True
        )

    op.create_table(
        "role_profile",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=254), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("role_profile", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_role_profile_slug"), ["slug"], unique=True)

    op.create_table(
        "status_list_cache",
        sa.Column("url", sa.String(), nullable=False),
        sa.Column("issuer", sa.String(), nullable=False),
        sa.Column("purpose", sa.String(length=32), nullable=False),
        sa.Column("status_size", sa.Integer(), nullable=False),
        sa.Column("encoded_list", sa.Text(), nullable=False),
        sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("url"),
    )
    op.create_table(
        "verifier_setting",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "role_requirement",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("profile_id", sa.Integer(), nullable=False),
        sa.Column("subject_code", sa.String(length=16), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["profile_id"],
            ["role_profile.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("profile_id", "subject_code"),
    )
    with op.batch_alter_table("role_requirement", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_role_requirement_profile_id"), ["profile_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("role_requirement", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_role_requirement_profile_id"))

    op.drop_table("role_requirement")
    op.drop_table("verifier_setting")
    op.drop_table("status_list_cache")
    with op.batch_alter_table("role_profile", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_role_profile_slug"))

    op.drop_table("role_profile")
    with op.batch_alter_table("registry_member", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_registry_member_did"))

    op.drop_table("registry_member")
    with op.batch_alter_table("presentation_request", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_presentation_request_challenge"))

    op.drop_table("presentation_request")
    with op.batch_alter_table("hr_decision", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_hr_decision_report_id"))

    op.drop_table("hr_decision")
