"""Create the share link table

Revision ID: verifier_0002
Revises: verifier_0001
Create Date: 2026-12-04 15:19:17.990082
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "verifier_0002"
down_revision: str | Sequence[str] | None = "verifier_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "share_link",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("wallet_id", sa.Integer(), nullable=False),
        sa.Column("credential_ids", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("verifier_domain", sa.String(), nullable=True),
        sa.Column("verifier_name", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["wallet_id"],
            ["wallet.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("share_link", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_share_link_token_hash"), ["token_hash"], unique=True
        )
        batch_op.create_index(
            batch_op.f("ix_share_link_wallet_id"), ["wallet_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("share_link", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_share_link_wallet_id"))
        batch_op.drop_index(batch_op.f("ix_share_link_token_hash"))

    op.drop_table("share_link")
