"""The issuer's and the audit log's migrations go down and up again cleanly."""

from alembic import command
from sqlalchemy import inspect, text
from sqlmodel import Session

from issuer.organisations import create_organisation
from keys.store import KeyStore
from passport.db import alembic_config, make_engine, upgrade_database
from tests.conftest import TEST_PASSPHRASE

ISSUER_TABLES = {
    "verification_method",
    "status_list",
    "status_list_permutation",
    "status_entry",
    "import_run",
    "local_competence",
    "claim_code",
    "api_token",
}


def test_issuer_branch_down_and_up(database_url):
    upgrade_database(database_url)
    engine = make_engine(database_url)
    with Session(engine) as session:
        create_organisation(
            session,
            KeyStore(TEST_PASSPHRASE),
            slug="chelmer-valley",
            name="Chelmer Valley Hospitals NHS Foundation Trust",
            org_type="acute trust",
            cstf_aligned=True,
            base_url="https://passport.example.org",
        )
        session.commit()

    command.downgrade(alembic_config(database_url), "issuer@-4")
    command.downgrade(alembic_config(database_url), "audit@-1")
    tables_down = set(inspect(engine).get_table_names())
    with engine.connect() as connection:
        did = connection.execute(text("SELECT did FROM organisation")).scalar_one()
    engine.dispose()
    upgrade_database(database_url)
    engine = make_engine(database_url)
    tables_up = set(inspect(engine).get_table_names())
    engine.dispose()

    assert not ISSUER_TABLES & tables_down
    assert "audit_entry" not in tables_down
    # Going down, the organisation returns to its did:key.
    assert did.startswith("did:key:")
    assert ISSUER_TABLES <= tables_up
    assert "audit_entry" in tables_up
