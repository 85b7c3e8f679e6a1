"""The programmes migration branch goes down and up again cleanly."""

from alembic import command
from sqlalchemy import inspect

from passport.db import alembic_config, make_engine, upgrade_database

PROGRAMME_TABLES = {
    "programme_cohort",
    "programme_enrolment",
    "programme_competency",
    "programme_evidence",
    "programme_sign_off",
    "programme_credential",
}


def test_programmes_branch_down_and_up(database_url: str) -> None:
    upgrade_database(database_url)

    command.downgrade(alembic_config(database_url), "programmes@-1")
    engine = make_engine(database_url)
    tables_down = set(inspect(engine).get_table_names())
    engine.dispose()
    upgrade_database(database_url)
    engine = make_engine(database_url)
    tables_up = set(inspect(engine).get_table_names())
    engine.dispose()

    assert not PROGRAMME_TABLES & tables_down
    assert "workflow_instance" in tables_down
    assert PROGRAMME_TABLES <= tables_up
