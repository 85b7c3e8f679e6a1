"""Add Bitstring Status Lists and credential revocation and suspension

Each organisation gets status lists per purpose, each with the random
order in which it hands out indexes; ``status_entry`` records
the index each credential holds, unique within its list, and issued
credentials record when and why they were revoked or suspended. Issued
credentials no longer need a staff record, so the VC-API can issue too
(a downgrade deletes those).

Revision ID: issuer_0002
Revises: issuer_0001
Create Date: 2026-12-04 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "issuer_0002"
down_revision: str | Sequence[str] | None = "issuer_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "status_list",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(), nullable=False),
        sa.Column("length", sa.Integer(), nullable=False),
        sa.Column("allocated", sa.Integer(), nullable=False),
        sa.Column("bits", sa.LargeBinary(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("document", sa.Text(), nullable=True),
        sa.Column("etag", sa.String(length=64), nullable=True),
        sa.Column("verification_method_id", sa.String(), nullable=True),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisation.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("organisation_id", "purpose", "sequence"),
        sa.UniqueConstraint("url"),
    )
    op.create_index(
        "ix_status_list_organisation_id", "status_list", ["organisation_id"]
    )

    op.create_table(
        "status_list_permutation",
        sa.Column("status_list_id", sa.Integer(), nullable=False),
        sa.Column("indexes", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["status_list_id"], ["status_list.id"]),
        sa.PrimaryKeyConstraint("status_list_id"),
    )
    if op.get_bind().dialect.name == "postgresql":
        # Stored uncompressed, so reading a few bytes with substr() fetches
        # only the chunks that hold them instead of the whole 512 KiB.
        op.execute(
            "ALTER TABLE status_list_permutation ALTER COLUMN indexes "
            "SET STORAGE EXTERNAL"
        )

    op.create_table(
        "status_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("status_list_id", sa.Integer(), nullable=False),
        sa.Column("list_index", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("credential_id", sa.String(), nullable=False),
        sa.ForeignKeyConstraint(["status_list_id"], ["status_list.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("status_list_id", "list_index"),
    )
    op.create_index(
        "ix_status_entry_status_list_id", "status_entry", ["status_list_id"]
    )
    op.create_index("ix_status_entry_credential_id", "status_entry", ["credential_id"])

    with op.batch_alter_table("issued_credential") as batch_op:
        # Credentials issued through the VC-API belong to no staff record.
        batch_op.alter_column("staff_record_id", nullable=True)
        batch_op.alter_column("subject_code", nullable=True)
        batch_op.alter_column("completed_on", nullable=True)
        batch_op.add_column(
            sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("revocation_reason", sa.String(length=500), nullable=True)
        )
        batch_op.add_column(
            sa.Column("suspended_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("suspension_reason", sa.String(length=500), nullable=True)
        )


def downgrade() -> None:
    op.execute("DELETE FROM issued_credential WHERE staff_record_id IS NULL")
    with op.batch_alter_table("issued_credential") as batch_op:
        batch_op.alter_column("completed_on", nullable=False)
        batch_op.alter_column("subject_code", nullable=False)
        batch_op.alter_column("staff_record_id", nullable=False)
        batch_op.drop_column("suspension_reason")
        batch_op.drop_column("suspended_at")
        batch_op.drop_column("revocation_reason")
        batch_op.drop_column("revoked_at")
    op.drop_index("ix_status_entry_credential_id", table_name="status_entry")
    op.drop_index("ix_status_entry_status_list_id", table_name="status_entry")
    op.drop_table("status_entry")
    op.drop_table("status_list_permutation")
    op.drop_index("ix_status_list_organisation_id", table_name="status_list")
    op.drop_table("status_list")
