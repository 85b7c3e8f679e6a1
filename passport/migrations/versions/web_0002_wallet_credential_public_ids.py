"""Give each wallet credential an opaque public id for URLs

Wallet pages name a credential in their URLs; a random id there reveals
nothing and cannot be guessed from another one. Existing rows get one too.

Revision ID: web_0002
Revises: web_0001
Create Date: 2026-12-04 09:30:00
"""

import secrets
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "web_0002"
down_revision: str | None = "web_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("wallet_credential") as batch_op:
        batch_op.add_column(sa.Column("public_id", sa.String(length=32), nullable=True))
    connection = op.get_bind()
    table = sa.table("wallet_credential", sa.column("id"), sa.column("public_id"))
    ids = connection.execute(sa.select(table.c.id)).scalars().all()
    for row_id in ids:
        connection.execute(
            table.update()
            .where(table.c.id == row_id)
            .values(public_id=secrets.token_urlsafe(16))
        )
    with op.batch_alter_table("wallet_credential") as batch_op:
        batch_op.alter_column("public_id", nullable=False)
        batch_op.create_index(
            "ix_wallet_credential_public_id", ["public_id"], unique=True
        )


def downgrade() -> None:
    with op.batch_alter_table("wallet_credential") as batch_op:
        batch_op.drop_index("ix_wallet_credential_public_id")
        batch_op.drop_column("public_id")
