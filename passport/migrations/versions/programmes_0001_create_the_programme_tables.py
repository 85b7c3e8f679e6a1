"""Create the programme tables

Cohorts, enrolments, competency records, evidence, sign-off decisions and
the credentials issued for them.

Revision ID: programmes_0001
Revises: 0001
Create Date: 2026-12-04 18:22:33.905303
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "programmes_0001"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = ("programmes",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "programme_cohort",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("framework_id", sa.String(length=64), nullable=False),
        sa.Column("framework_version", sa.Integer(), nullable=False),
        sa.Column("lead_account_id", sa.Integer(), nullable=False),
        sa.Column("lead_organisation", sa.String(length=64), nullable=False),
        sa.Column("university", sa.String(length=64), nullable=True),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["lead_account_id"],
            ["user_account.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("programme_cohort", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_programme_cohort_code"), ["code"], unique=True
        )

    op.create_table(
        "programme_enrolment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=32), nullable=False),
        sa.Column("cohort_id", sa.Integer(), nullable=False),
        sa.Column("learner_account_id", sa.Integer(), nullable=False),
        sa.Column("organisation", sa.String(length=64), nullable=False),
        sa.Column("variant", sa.String(length=64), nullable=False),
        sa.Column("entry_route", sa.String(length=64), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("assessor_account_id", sa.Integer(), nullable=False),
        sa.Column("line_manager_account_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("review_instance_id", sa.String(length=36), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["assessor_account_id"],
            ["user_account.id"],
        ),
        sa.ForeignKeyConstraint(
            ["cohort_id"],
            ["programme_cohort.id"],
        ),
        sa.ForeignKeyConstraint(
            ["learner_account_id"],
            ["user_account.id"],
        ),
        sa.ForeignKeyConstraint(
            ["line_manager_account_id"],
            ["user_account.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("cohort_id", "learner_account_id"),
    )
    with op.batch_alter_table("programme_enrolment", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_programme_enrolment_assessor_account_id"),
            ["assessor_account_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_programme_enrolment_cohort_id"), ["cohort_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_programme_enrolment_learner_account_id"),
            ["learner_account_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_programme_enrolment_reference"), ["reference"], unique=True
        )

    op.create_table(
        "programme_competency",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enrolment_id", sa.Integer(), nullable=False),
        sa.Column("competency", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("rating", sa.String(length=32), nullable=True),
        sa.Column("signed_off_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("counted_credential_id", sa.String(), nullable=True),
        sa.Column("counted_by_account_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["enrolment_id"],
            ["programme_enrolment.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("enrolment_id", "competency"),
    )
    with op.batch_alter_table("programme_competency", schema=None) as batch_op:
        batch_op.create_index(
            "ix_programme_competency_status", ["enrolment_id", "status"], unique=False
        )

    op.create_table(
        "programme_credential",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("issue_key", sa.String(length=200), nullable=False),
        sa.Column("enrolment_id", sa.Integer(), nullable=False),
        sa.Column("competency", sa.String(length=64), nullable=True),
        sa.Column("credential_id", sa.String(), nullable=False),
        sa.Column("organisation", sa.String(length=64), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["enrolment_id"],
            ["programme_enrolment.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("credential_id"),
        sa.UniqueConstraint("issue_key"),
    )
    with op.batch_alter_table("programme_credential", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_programme_credential_enrolment_id"),
            ["enrolment_id"],
            unique=False,
        )

    op.create_table(
        "programme_evidence",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("evidence_type", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("file_name", sa.String(length=200), nullable=True),
        sa.Column("content_type", sa.String(length=100), nullable=True),
        sa.Column("size_bytes", sa.Integer(), nullable=True),
        sa.Column("storage_name", sa.String(length=64), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("added_by_account_id", sa.Integer(), nullable=False),
        sa.Column("added_by_role", sa.String(length=32), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["added_by_account_id"],
            ["user_account.id"],
        ),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["programme_competency.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("storage_name"),
    )
    with op.batch_alter_table("programme_evidence", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_programme_evidence_record_id"), ["record_id"], unique=False
        )

    op.create_table(
        "programme_sign_off",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("decision", sa.String(length=16), nullable=False),
        sa.Column("rating", sa.String(length=32), nullable=True),
        sa.Column("comment", sa.String(length=2000), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("withdrawn_by_account_id", sa.Integer(), nullable=True),
        sa.Column("withdrawal_reason", sa.String(length=2000), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["user_account.id"],
        ),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["programme_competency.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("record_id", "round", "account_id"),
    )
    with op.batch_alter_table("programme_sign_off", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_programme_sign_off_record_id"), ["record_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("programme_sign_off", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_programme_sign_off_record_id"))

    op.drop_table("programme_sign_off")
    with op.batch_alter_table("programme_evidence", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_programme_evidence_record_id"))

    op.drop_table("programme_evidence")
    with op.batch_alter_table("programme_credential", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_programme_credential_enrolment_id"))

    op.drop_table("programme_credential")
    with op.batch_alter_table("programme_competency", schema=None) as batch_op:
        batch_op.drop_index("ix_programme_competency_status")

    op.drop_table("programme_competency")
    with op.batch_alter_table("programme_enrolment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_programme_enrolment_reference"))
        batch_op.drop_index(batch_op.f("ix_programme_enrolment_learner_account_id"))
        batch_op.drop_index(batch_op.f("ix_programme_enrolment_cohort_id"))
        batch_op.drop_index(batch_op.f("ix_programme_enrolment_assessor_account_id"))

    op.drop_table("programme_enrolment")
    with op.batch_alter_table("programme_cohort", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_programme_cohort_code"))

    op.drop_table("programme_cohort")
