"""Create the received passport table

Revision ID: hr_sharing_0001
Revises: 0001
Create Date: 2026-12-04 18:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "hr_sharing_0001"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = ("hr_sharing",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "received_passport",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column("organisation_slug", sa.String(length=64), nullable=False),
        sa.Column("received_by", sa.String(length=254), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("holder_did", sa.String(), nullable=False),
        sa.Column("verified", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("presentation", sa.Text(), nullable=False),
        sa.Column("result", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("received_passport", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_received_passport_public_id"), ["public_id"], unique=True
        )


def downgrade() -> None:
    with op.batch_alter_table("received_passport", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_received_passport_public_id"))

    op.drop_table("received_passport")
