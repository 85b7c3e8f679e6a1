"""The migrations of role grants, sessions and wallet public ids."""

from alembic import command
from sqlalchemy import inspect, text

from passport.db import alembic_config, make_engine, upgrade_database


def _insert_first_schema_rows(connection):
    connection.execute(
        text(
            "INSERT INTO stored_key (id, controller, public_key_multibase, "
            "sealed_seed, sealing_scheme, created_at) VALUES "
            "('k', 'c', 'z', :seed, 's', CURRENT_TIMESTAMP)"
        ),
        {"seed": b"\x00"},
    )
    connection.execute(
        text(
            "INSERT INTO wallet (id, holder_did, holder_key_id, display_name, "
            "created_at) VALUES (1, 'did:key:z1', 'k', 'Robin', CURRENT_TIMESTAMP)"
        )
    )
    for credential in ("urn:uuid:1", "urn:uuid:2"):
        connection.execute(
            text(
                "INSERT INTO wallet_credential (wallet_id, credential_id, document, "
                "received_at) VALUES (1, :id, '{}', CURRENT_TIMESTAMP)"
            ),
            {"id": credential},
        )
    connection.execute(
        text(
            "INSERT INTO user_account (id, email, display_name, password_hash, role, "
            "organisation_slug, wallet_id, created_at) VALUES "
            "(1, 'hr@x.example', 'HR', 'h', 'hr', 'colne-estuary', NULL, "
            "CURRENT_TIMESTAMP), (2, 's@x.example', 'S', 'h', 'staff', NULL, 1, "
            "CURRENT_TIMESTAMP)"
        )
    )


def test_roles_move_into_grants_and_back(database_url):
    config = alembic_config(database_url)
    command.upgrade(config, "0001")
    engine = make_engine(database_url)
    with engine.begin() as connection:
        _insert_first_schema_rows(connection)

    upgrade_database(database_url)
    with engine.connect() as connection:
        grants = connection.execute(
            text(
                "SELECT account_id, role, organisation_slug FROM role_grant ORDER BY account_id"
            )
        ).all()
        public_ids = (
            connection.execute(text("SELECT public_id FROM wallet_credential"))
            .scalars()
            .all()
        )
    columns = {c["name"] for c in inspect(engine).get_columns("user_account")}
    assert grants == [(1, "hr", "colne-estuary"), (2, "staff", None)]
    assert "role" not in columns
    assert len(set(public_ids)) == 2
    assert all(len(value) == 22 for value in public_ids)

    command.downgrade(config, "0001")
    with engine.connect() as connection:
        accounts = connection.execute(
            text("SELECT id, role, organisation_slug FROM user_account ORDER BY id")
        ).all()
    engine.dispose()
    assert accounts == [(1, "hr", "colne-estuary"), (2, "staff", None)]


def test_models_match_migrations(sqlite_url):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlmodel import SQLModel

    from passport.models import import_all_models

    import_all_models()
    upgrade_database(sqlite_url)
    engine = make_engine(sqlite_url)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection)
        differences = compare_metadata(context, SQLModel.metadata)
    engine.dispose()
    assert differences == []
