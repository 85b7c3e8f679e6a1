"""Track import runs, map local competences and deliver with claim codes

Staff records no longer need a wallet: credentials wait unsigned until the
staff member claims them with a one-time code, which binds their holder
DID. Issued credentials record their holder, their delivery state (waiting,
offered, accepted, declined, returned) and the newer credential that
supersedes them. Rows from before keep their wallets and count as accepted.

Revision ID: issuer_0003
Revises: issuer_0002
Create Date: 2026-12-04 14:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "issuer_0003"
down_revision: str | Sequence[str] | None = "issuer_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "import_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("file_name", sa.String(length=255), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("rows_read", sa.Integer(), nullable=False),
        sa.Column("issued", sa.Integer(), nullable=False),
        sa.Column("waiting", sa.Integer(), nullable=False),
        sa.Column("already_issued", sa.Integer(), nullable=False),
        sa.Column("rejected", sa.Integer(), nullable=False),
        sa.Column("warnings", sa.Integer(), nullable=False),
        sa.Column("staff_added", sa.Integer(), nullable=False),
        sa.Column("report_path", sa.String(), nullable=True),
        sa.Column("error", sa.String(length=1000), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisation.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_import_run_organisation_id", "import_run", ["organisation_id"])

    op.create_table(
        "local_competence",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("competence_key", sa.String(length=300), nullable=False),
        sa.Column("competence_name", sa.String(length=300), nullable=False),
        sa.Column("subject_code", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisation.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("organisation_id", "competence_key"),
    )
    op.create_index(
        "ix_local_competence_organisation_id", "local_competence", ["organisation_id"]
    )

    with op.batch_alter_table("staff_record") as batch_op:
        batch_op.alter_column("wallet_id", nullable=True)
        batch_op.add_column(sa.Column("holder_did", sa.String(), nullable=True))
        batch_op.create_index("ix_staff_record_holder_did", ["holder_did"])
    op.execute(
        "UPDATE staff_record SET holder_did = (SELECT w.holder_did FROM wallet w "
        "WHERE w.id = staff_record.wallet_id) WHERE wallet_id IS NOT NULL"
    )

    op.create_table(
        "claim_code",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("staff_record_id", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("wallet_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisation.id"]),
        sa.ForeignKeyConstraint(["staff_record_id"], ["staff_record.id"]),
        sa.ForeignKeyConstraint(["wallet_id"], ["wallet.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code_hash"),
    )
    op.create_index("ix_claim_code_organisation_id", "claim_code", ["organisation_id"])
    op.create_index("ix_claim_code_staff_record_id", "claim_code", ["staff_record_id"])

    with op.batch_alter_table("issued_credential") as batch_op:
        batch_op.add_column(sa.Column("holder_did", sa.String(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "delivery",
                sa.String(length=16),
                nullable=False,
                server_default="waiting",
            )
        )
        batch_op.add_column(sa.Column("superseded_by", sa.String(), nullable=True))
        batch_op.add_column(sa.Column("import_run_id", sa.Integer(), nullable=True))
        batch_op.create_index("ix_issued_credential_holder_did", ["holder_did"])
        batch_op.create_index("ix_issued_credential_superseded_by", ["superseded_by"])
        batch_op.create_foreign_key(
            "fk_issued_credential_import_run", "import_run", ["import_run_id"], ["id"]
        )
    # Credentials issued before claim codes went straight into wallets.
    op.execute(
        "UPDATE issued_credential SET delivery = 'accepted', holder_did = "
        "(SELECT s.holder_did FROM staff_record s "
        "WHERE s.id = issued_credential.staff_record_id) "
        "WHERE signed_at IS NOT NULL"
    )


def downgrade() -> None:
    with op.batch_alter_table("issued_credential") as batch_op:
        batch_op.drop_constraint("fk_issued_credential_import_run", type_="foreignkey")
        batch_op.drop_index("ix_issued_credential_superseded_by")
        batch_op.drop_index("ix_issued_credential_holder_did")
        batch_op.drop_column("import_run_id")
        batch_op.drop_column("superseded_by")
        batch_op.drop_column("delivery")
        batch_op.drop_column("holder_did")
    op.drop_index("ix_claim_code_staff_record_id", table_name="claim_code")
    op.drop_index("ix_claim_code_organisation_id", table_name="claim_code")
    op.drop_table("claim_code")
    # NOTE: staff records without a wallet (claim pending) block the downgrade,
    # because the older schema requires a wallet for every staff record.
    with op.batch_alter_table("staff_record") as batch_op:
        batch_op.drop_index("ix_staff_record_holder_did")
        batch_op.drop_column("holder_did")
        batch_op.alter_column("wallet_id", nullable=False)
    op.drop_index("ix_local_competence_organisation_id", table_name="local_competence")
    op.drop_table("local_competence")
    op.drop_index("ix_import_run_organisation_id", table_name="import_run")
    op.drop_table("import_run")
