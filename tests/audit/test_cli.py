import json

from click.testing import CliRunner
from sqlalchemy import text
from sqlmodel import Session

from audit.log import record_event
from passport.cli import main
from passport.db import make_engine, upgrade_database
from tests.audit.test_log import drop_append_only_triggers


def environment(settings) -> dict[str, str]:
    return {
        "DATABASE_URL": settings.database_url,
        "PASSPORT_DATA_DIR": str(settings.data_dir),
        "PASSPORT_KEY_PASSPHRASE": settings.key_passphrase,
        "PASSPORT_SECRET_KEY": settings.secret_key,
    }


def seeded_engine(settings, count: int):
    upgrade_database(settings.database_url)
    engine = make_engine(settings.database_url)
    with Session(engine) as session:
        for number in range(count):
            record_event(
                session, "credential.issued", actor="system", target=str(number)
            )
        session.commit()
    return engine


def test_audit_verify_intact(settings):
    seeded_engine(settings, 3).dispose()

    result = CliRunner().invoke(main, ["audit", "verify"], env=environment(settings))

    assert result.exit_code == 0, result.output
    assert "Audit log intact: 3 entries checked" in result.output


def test_audit_verify_changed_entry(settings):
    engine = seeded_engine(settings, 3)
    drop_append_only_triggers(engine)
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE audit_entry SET actor = 'x' WHERE sequence = 2")
        )
    engine.dispose()

    result = CliRunner().invoke(
        main, ["audit", "verify", "--json"], env=environment(settings)
    )

    assert result.exit_code == 1
    report = json.loads(result.output)
    assert report["intact"] is False
    assert report["problems"][0]["sequence"] == 2


def test_audit_verify_deleted_entry(settings):
    engine = seeded_engine(settings, 3)
    drop_append_only_triggers(engine)
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM audit_entry WHERE sequence = 1"))
    engine.dispose()

    result = CliRunner().invoke(main, ["audit", "verify"], env=environment(settings))

    assert result.exit_code == 1
    assert "FAIL  entry 1" in result.output


def test_audit_show_prints_newest(settings):
    seeded_engine(settings, 3).dispose()

    result = CliRunner().invoke(
        main, ["audit", "show", "--limit", "2"], env=environment(settings)
    )

    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert [line["sequence"] for line in lines] == [3, 2]
