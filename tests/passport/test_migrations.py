from sqlalchemy import inspect, text

from passport.db import make_engine, upgrade_database

FIRST_TABLES = {
    "organisation",
    "stored_key",
    "wallet",
    "staff_record",
    "user_account",
    "wallet_credential",
    "issued_credential",
}


def test_upgrade_creates_tables(migrated_engine):
    tables = set(inspect(migrated_engine).get_table_names())
    assert FIRST_TABLES <= tables
    assert "alembic_version" in tables


def test_upgrade_twice_keeps_data(database_url):
    upgrade_database(database_url)
    engine = make_engine(database_url)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO stored_key (id, controller, public_key_multibase, "
                "sealed_seed, sealing_scheme, created_at) VALUES ('k', 'c', 'z', "
                ":seed, 's', CURRENT_TIMESTAMP)"
            ),
            {"seed": b"\x00"},
        )
    upgrade_database(database_url)
    with engine.connect() as connection:
        count = connection.execute(text("SELECT count(*) FROM stored_key")).scalar()
    engine.dispose()
    assert count == 1
