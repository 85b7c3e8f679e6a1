"""The received-passport migration goes down and up cleanly and matches the
table model."""

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlmodel import SQLModel

from passport.db import alembic_config, make_engine, upgrade_database
from passport.models import import_all_models


def test_hr_sharing_branch_down_and_up(database_url):
    upgrade_database(database_url)
    command.downgrade(alembic_config(database_url), "hr_sharing@-1")
    engine = make_engine(database_url)
    tables_down = set(inspect(engine).get_table_names())
    engine.dispose()
    upgrade_database(database_url)
    engine = make_engine(database_url)
    tables_up = set(inspect(engine).get_table_names())
    engine.dispose()

    assert "received_passport" not in tables_down
    assert "organisation" in tables_down
    assert "received_passport" in tables_up


def test_received_passport_table_matches_model(migrated_engine):
    import_all_models()
    table = SQLModel.metadata.tables["received_passport"]
    with migrated_engine.connect() as connection:
        context = MigrationContext.configure(connection)
        differences = [
            difference
            for difference in compare_metadata(context, SQLModel.metadata)
            if "received_passport" in repr(difference)
        ]

    assert table is not None
    assert differences == []
