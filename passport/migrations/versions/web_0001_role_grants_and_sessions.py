"""Move roles into role grants; add sign-in sessions and failure counts

An account may now hold several roles, each for an organisation, so the
single ``role`` and ``organisation_slug`` columns of ``user_account`` become
rows of ``role_grant``; no grant is lost in either direction (a downgrade
keeps each account's first grant).

Revision ID: web_0001
Revises: 0001
Create Date: 2026-12-04 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "web_0001"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = ("web",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "role_grant",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("organisation_slug", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["user_account.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_role_grant_account_id", "role_grant", ["account_id"])
    op.execute(
        "INSERT INTO role_grant (account_id, role, organisation_slug, created_at) "
        "SELECT id, role, organisation_slug, created_at FROM user_account"
    )
    with op.batch_alter_table("user_account") as batch_op:
        batch_op.drop_column("role")
        batch_op.drop_column("organisation_slug")

    op.create_table(
        "account_session",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["user_account.id"]),
        sa.PrimaryKeyConstraint("token_hash"),
    )
    op.create_index("ix_account_session_account_id", "account_session", ["account_id"])

    op.create_table(
        "sign_in_failure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("throttle_key", sa.String(length=64), nullable=False),
        sa.Column("failed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_sign_in_failure_key_time", "sign_in_failure", ["throttle_key", "failed_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_sign_in_failure_key_time", table_name="sign_in_failure")
    op.drop_table("sign_in_failure")
    op.drop_index("ix_account_session_account_id", table_name="account_session")
    op.drop_table("account_session")

    with op.batch_alter_table("user_account") as batch_op:
        batch_op.add_column(
            sa.Column("role", sa.String(length=32), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("organisation_slug", sa.String(length=64), nullable=True)
        )
    op.execute(
        "UPDATE user_account SET "
        "role = (SELECT g.role FROM role_grant g WHERE g.account_id = user_account.id "
        "ORDER BY g.id LIMIT 1), "
        "organisation_slug = (SELECT g.organisation_slug FROM role_grant g "
        "WHERE g.account_id = user_account.id ORDER BY g.id LIMIT 1) "
        "WHERE EXISTS (SELECT 1 FROM role_grant g WHERE g.account_id = user_account.id)"
    )
    with op.batch_alter_table("user_account") as batch_op:
        batch_op.alter_column("role", server_default=None)
    op.drop_index("ix_role_grant_account_id", table_name="role_grant")
    op.drop_table("role_grant")
