"""Create the first tables

Revision ID: 0001
Revises:
Create Date: 2026-12-04 05:26:18.636462
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "organisation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("org_type", sa.String(length=64), nullable=False),
        sa.Column("did", sa.String(), nullable=False),
        sa.Column("verification_method_id", sa.String(), nullable=False),
        sa.Column("cstf_aligned", sa.Boolean(), nullable=False),
        sa.Column("esr_vpd_code", sa.String(length=16), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("organisation", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_organisation_did"), ["did"], unique=True)
        batch_op.create_index(batch_op.f("ix_organisation_slug"), ["slug"], unique=True)

    op.create_table(
        "stored_key",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("controller", sa.String(), nullable=False),
        sa.Column("public_key_multibase", sa.String(), nullable=False),
        sa.Column("sealed_seed", sa.LargeBinary(), nullable=False),
        sa.Column("sealing_scheme", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("stored_key", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_stored_key_controller"), ["controller"], unique=False
        )

    op.create_table(
        "wallet",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("holder_did", sa.String(), nullable=False),
        sa.Column("holder_key_id", sa.String(), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["holder_key_id"],
            ["stored_key.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("wallet", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_wallet_holder_did"), ["holder_did"], unique=True
        )

    op.create_table(
        "staff_record",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column(
            "employee_ref_hash",
            sa.String(length=64),
            nullable=False,
        ),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("wallet_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
        ),
        sa.ForeignKeyConstraint(
            ["wallet_id"],
            ["wallet.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("organisation_id", "employee_ref_hash"),
    )
    with op.batch_alter_table("staff_record", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_staff_record_organisation_id"),
            ["organisation_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_staff_record_wallet_id"), ["wallet_id"], unique=False
        )

    op.create_table(
        "user_account",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("password_hash", sa.String(), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column(
            "organisation_slug",
            sa.String(length=64),
            nullable=True,
        ),
        sa.Column("wallet_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["wallet_id"],
            ["wallet.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_user_account_email"), ["email"], unique=True
        )

    op.create_table(
        "wallet_credential",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("wallet_id", sa.Integer(), nullable=False),
        sa.Column("credential_id", sa.String(), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["wallet_id"],
            ["wallet.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("wallet_id", "credential_id"),
    )
    with op.batch_alter_table("wallet_credential", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_wallet_credential_credential_id"),
            ["credential_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_wallet_credential_wallet_id"), ["wallet_id"], unique=False
        )

    op.create_table(
        "issued_credential",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("staff_record_id", sa.Integer(), nullable=False),
        sa.Column("subject_code", sa.String(length=16), nullable=False),
        sa.Column("completed_on", sa.String(length=10), nullable=False),
        sa.Column("valid_until", sa.String(), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
        ),
        sa.ForeignKeyConstraint(
            ["staff_record_id"],
            ["staff_record.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "organisation_id", "staff_record_id", "subject_code", "completed_on"
        ),
    )
    with op.batch_alter_table("issued_credential", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_issued_credential_organisation_id"),
            ["organisation_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_issued_credential_staff_record_id"),
            ["staff_record_id"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("issued_credential", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_issued_credential_staff_record_id"))
        batch_op.drop_index(batch_op.f("ix_issued_credential_organisation_id"))

    op.drop_table("issued_credential")
    with op.batch_alter_table("wallet_credential", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_wallet_credential_wallet_id"))
        batch_op.drop_index(batch_op.f("ix_wallet_credential_credential_id"))

    op.drop_table("wallet_credential")
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_user_account_email"))

    op.drop_table("user_account")
    with op.batch_alter_table("staff_record", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_staff_record_wallet_id"))
        batch_op.drop_index(batch_op.f("ix_staff_record_organisation_id"))

    op.drop_table("staff_record")
    with op.batch_alter_table("wallet", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_wallet_holder_did"))

    op.drop_table("wallet")
    with op.batch_alter_table("stored_key", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_stored_key_controller"))

    op.drop_table("stored_key")
    with op.batch_alter_table("organisation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_organisation_slug"))
        batch_op.drop_index(batch_op.f("ix_organisation_did"))

    op.drop_table("organisation")
