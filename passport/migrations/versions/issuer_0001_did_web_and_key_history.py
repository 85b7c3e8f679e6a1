"""Give organisations did:web identities and a key rotation history

Organisations keep their did:key as ``did_key``; ``passport init`` then
moves each to a did:web whose first key is the same key. Every
verification method an organisation has used gets a row in
``verification_method``, so rotated keys stay in its DID document and a
compromised key can be marked from an instant. Issued credentials record
which method signed them and when, so the credentials a compromised key
signed can be listed.

Revision ID: issuer_0001
Revises: 0001
Create Date: 2026-12-04 11:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "issuer_0001"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = ("issuer",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "verification_method",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("controller", sa.String(), nullable=False),
        sa.Column("public_key_multibase", sa.String(), nullable=False),
        sa.Column("activated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("compromised_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("compromise_reason", sa.String(length=500), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_verification_method_controller", "verification_method", ["controller"]
    )
    op.create_index(
        "ix_verification_method_public_key_multibase",
        "verification_method",
        ["public_key_multibase"],
    )
    # Every organisation so far signs with the one did:key it was created
    # with.
    op.execute(
        "INSERT INTO verification_method (id, controller, public_key_multibase, "
        "activated_at) SELECT o.verification_method_id, o.did, "
        "k.public_key_multibase, o.created_at FROM organisation o "
        "JOIN stored_key k ON k.id = o.verification_method_id"
    )

    with op.batch_alter_table("organisation") as batch_op:
        batch_op.add_column(sa.Column("did_key", sa.String(), nullable=True))
        batch_op.create_index("ix_organisation_did_key", ["did_key"], unique=True)
    op.execute("UPDATE organisation SET did_key = did WHERE did LIKE 'did:key:%'")

    with op.batch_alter_table("issued_credential") as batch_op:
        batch_op.add_column(
            sa.Column("verification_method_id", sa.String(), nullable=True)
        )
        batch_op.add_column(
            sa.Column("signed_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.create_index(
            "ix_issued_credential_verification_method_id", ["verification_method_id"]
        )
    op.execute(
        "UPDATE issued_credential SET signed_at = issued_at, "
        "verification_method_id = (SELECT o.verification_method_id "
        "FROM organisation o WHERE o.id = issued_credential.organisation_id)"
    )


def downgrade() -> None:
    # NOTE: organisations created with a did:web have no private key sealed
    # under their did:key method id, so after a downgrade they cannot sign
    # until a key is sealed under that id again.
    op.execute(
        "UPDATE organisation SET did = did_key, verification_method_id = "
        "did_key || '#' || substr(did_key, 9) WHERE did_key IS NOT NULL"
    )
    op.execute("DELETE FROM verification_method WHERE controller LIKE 'did:web:%'")
    with op.batch_alter_table("issued_credential") as batch_op:
        batch_op.drop_index("ix_issued_credential_verification_method_id")
        batch_op.drop_column("signed_at")
        batch_op.drop_column("verification_method_id")
    with op.batch_alter_table("organisation") as batch_op:
        batch_op.drop_index("ix_organisation_did_key")
        batch_op.drop_column("did_key")
    op.drop_index(
        "ix_verification_method_public_key_multibase", table_name="verification_method"
    )
    op.drop_index("ix_verification_method_controller", table_name="verification_method")
    op.drop_table("verification_method")
