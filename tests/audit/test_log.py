import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from audit.log import (
    GENESIS_HASH,
    Event,
    entry_details,
    recent_entries,
    record_event,
    record_events,
    verify_chain,
)
from audit.models import AuditEntry

AT = datetime(2026, 4, 1, 9, 30, tzinfo=UTC)


def append(engine, count: int, action: str = "credential.issued") -> None:
    with Session(engine) as session:
        for number in range(count):
            record_event(
                session,
                action,
                actor="system",
                organisation="chelmer-valley",
                target=f"urn:uuid:{number}",
                details={"number": number},
                at=AT,
            )
        session.commit()


def drop_append_only_triggers(engine) -> None:
    """Remove the triggers, as someone with DDL rights on the database could."""
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(
                text("DROP TRIGGER audit_entry_no_change ON audit_entry")
            )
        else:
            connection.execute(text("DROP TRIGGER audit_entry_no_update"))
            connection.execute(text("DROP TRIGGER audit_entry_no_delete"))


def report_of(engine):
    with Session(engine) as session:
        return verify_chain(session)


def test_chain_starts_at_genesis(migrated_engine):
    append(migrated_engine, 1)

    with Session(migrated_engine) as session:
        entry = session.get(AuditEntry, 1)

    assert entry is not None
    assert entry.previous_hash == GENESIS_HASH
    assert entry.recorded_at == "2026-04-01T09:30:00.000000Z"


def test_chain_links_entries(migrated_engine):
    append(migrated_engine, 3)

    with Session(migrated_engine) as session:
        first, second, third = (session.get(AuditEntry, n) for n in (1, 2, 3))

    assert second.previous_hash == first.entry_hash
    assert third.previous_hash == second.entry_hash


def test_verify_intact_log(migrated_engine):
    append(migrated_engine, 5)

    report = report_of(migrated_engine)

    assert report.intact
    assert report.entries_checked == 5
    assert report.head_sequence == 5


def test_verify_empty_log(migrated_engine):
    report = report_of(migrated_engine)

    assert report.intact
    assert report.entries_checked == 0
    assert report.head_hash == GENESIS_HASH


def test_update_rejected_by_database(migrated_engine):
    append(migrated_engine, 2)

    with pytest.raises(DBAPIError, match="append-only"):
        with migrated_engine.begin() as connection:
            connection.execute(
                text("UPDATE audit_entry SET actor = 'someone' WHERE sequence = 1")
            )


def test_delete_rejected_by_database(migrated_engine):
    append(migrated_engine, 2)

    with pytest.raises(DBAPIError, match="append-only"):
        with migrated_engine.begin() as connection:
            connection.execute(text("DELETE FROM audit_entry WHERE sequence = 1"))


def test_verify_detects_changed_entry(migrated_engine):
    append(migrated_engine, 4)
    drop_append_only_triggers(migrated_engine)
    with migrated_engine.begin() as connection:
        connection.execute(
            text("UPDATE audit_entry SET target = 'urn:uuid:x' WHERE sequence = 2")
        )

    report = report_of(migrated_engine)

    assert not report.intact
    assert [problem.sequence for problem in report.problems] == [2]
    assert "was changed" in report.problems[0].message


def test_verify_detects_rehashed_entry(migrated_engine):
    append(migrated_engine, 4)
    drop_append_only_triggers(migrated_engine)
    with Session(migrated_engine) as session:
        entry = session.get(AuditEntry, 2)
        entry.details = json.dumps({"number": 99})
        from audit.log import entry_hash

        entry.entry_hash = entry_hash(entry)
        session.commit()

    report = report_of(migrated_engine)

    assert not report.intact
    assert report.problems[0].sequence == 3
    assert "does not follow" in report.problems[0].message


def test_verify_detects_deleted_entry(migrated_engine):
    append(migrated_engine, 5)
    drop_append_only_triggers(migrated_engine)
    with migrated_engine.begin() as connection:
        connection.execute(text("DELETE FROM audit_entry WHERE sequence = 3"))

    report = report_of(migrated_engine)

    assert not report.intact
    assert report.problems[0].sequence == 3
    assert "entry 3 deleted" in report.problems[0].message


def test_verify_detects_deleted_last_entry(migrated_engine):
    append(migrated_engine, 5)
    drop_append_only_triggers(migrated_engine)
    with migrated_engine.begin() as connection:
        connection.execute(text("DELETE FROM audit_entry WHERE sequence = 5"))

    report = report_of(migrated_engine)

    assert not report.intact
    assert "Entries 5 to 5 are missing" in report.problems[0].message


def test_rolled_back_event_leaves_no_trace(migrated_engine):
    append(migrated_engine, 1)
    with Session(migrated_engine) as session:
        record_event(session, "key.rotated", actor="system", at=AT)
        session.rollback()
    append(migrated_engine, 1)

    report = report_of(migrated_engine)

    assert report.intact
    assert report.head_sequence == 2


def test_record_events_batch(migrated_engine):
    events = [Event("credential.issued", "system", target=str(n)) for n in range(50)]
    with Session(migrated_engine) as session:
        entries = record_events(session, events, at=AT)
        sequences = [entry.sequence for entry in entries]
        session.commit()

    assert sequences == list(range(1, 51))
    assert report_of(migrated_engine).intact


def test_recent_entries_filters(migrated_engine):
    append(migrated_engine, 3)
    append(migrated_engine, 2, action="key.rotated")

    with Session(migrated_engine) as session:
        newest = recent_entries(session, limit=2)
        keys = recent_entries(session, action="key.")
        paged = recent_entries(session, before=3)

    assert [entry.sequence for entry in newest] == [5, 4]
    assert {entry.action for entry in keys} == {"key.rotated"}
    assert [entry.sequence for entry in paged] == [2, 1]
    assert entry_details(newest[0]) == {"number": 1}


def test_record_rejects_naive_time(migrated_engine):
    with Session(migrated_engine) as session:
        with pytest.raises(ValueError, match="timezone-aware"):
            record_event(session, "x", actor="system", at=datetime(2026, 1, 1))


def test_record_rejects_non_json_details(migrated_engine):
    with Session(migrated_engine) as session:
        with pytest.raises(TypeError):
            record_event(session, "x", actor="system", details={"when": object()})
