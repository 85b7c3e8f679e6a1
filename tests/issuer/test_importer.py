import csv
import io
import json
from datetime import date
from pathlib import Path

import pytest
from sqlmodel import select

from audit.log import recent_entries, verify_chain
from examples.synthetic_export import export_rows, write_export
from issuer.delivery import credential_states
from issuer.esr_export import ExportFormatError
from issuer.importer import (
    employee_reference,
    import_runs,
    import_training_export,
    map_local_competence,
    reference_secret,
)
from issuer.models import ImportRun, IssuedCredential, StaffRecord, StatusEntry
from keys.multikey import Ed25519KeyPair
from tests.conftest import TEST_PASSPHRASE
from tests.issuer.helpers import verify_with_platform

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "esr_team_export_chelmer_valley.csv"
AS_OF = date(2026, 3, 31)
SECRET = reference_secret(TEST_PASSPHRASE)


def synthetic(tmp_path, staff, name="export.csv", **options) -> Path:
    path = tmp_path / name
    with path.open("w", encoding="utf-8", newline="") as handle:
        write_export(handle, export_rows(staff, **options))
    return path


def run(session, key_store, organisation, source, **options):
    options.setdefault("as_of", AS_OF)
    return import_training_export(
        session, key_store, organisation, source, secret=SECRET, **options
    )


def bind_holders(session, organisation, numbers):
    """Give staff members holder DIDs, as claiming a wallet would."""
    holders = {}
    for number in numbers:
        reference = employee_reference(SECRET, organisation, str(number))
        session.add(
            StaffRecord(
                organisation_id=organisation.id,
                employee_ref_hash=reference,
                display_name="Placeholder NAME",
                holder_did=(holder := Ed25519KeyPair.generate().did),
            )
        )
        holders[str(number)] = holder
    session.commit()
    return holders


def test_example_import_counts(seeded_session, key_store, chelmer, tmp_path):
    report = tmp_path / "report.csv"

    summary = run(seeded_session, key_store, chelmer, EXAMPLE, report_path=report)

    assert summary.rows_read == 574
    assert summary.waiting == 562
    assert summary.issued == 0
    assert summary.rejected == 12
    assert summary.warnings == 4
    assert summary.staff_added == 56


def test_report_lists_line_column_reason(seeded_session, key_store, chelmer, tmp_path):
    report = tmp_path / "report.csv"

    run(seeded_session, key_store, chelmer, EXAMPLE, report_path=report)

    with report.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    rejected = [row for row in rows if row["kind"] == "rejected"]
    assert len(rejected) == 12
    assert rejected[0] == {
        "line": "32",
        "column": "Achievement Date",
        "value": "14-Fbe-2025",
        "reason": "'Fbe' is not a month abbreviation, expected Jan to Dec as in "
        "14-Feb-2025.",
        "kind": "rejected",
    }
    assert {"line": "321", "column": ""} == {
        key: next(row for row in rejected if row["line"] == "321")[key]
        for key in ("line", "column")
    }
    assert sum(row["kind"] == "warning" for row in rows) == 4
    assert not (tmp_path / "report.csv.partial").exists()


def test_reimport_issues_nothing(seeded_session, key_store, chelmer):
    run(seeded_session, key_store, chelmer, EXAMPLE)

    again = run(seeded_session, key_store, chelmer, EXAMPLE)

    assert again.waiting == 0
    assert again.issued == 0
    assert again.already_issued == 562
    assert again.staff_added == 0
    count = len(seeded_session.exec(select(IssuedCredential.id)).all())
    assert count == 562


def test_every_credential_audited_once(seeded_session, key_store, chelmer):
    run(seeded_session, key_store, chelmer, EXAMPLE)
    run(seeded_session, key_store, chelmer, EXAMPLE)

    recorded = recent_entries(seeded_session, limit=2000, action="credential.recorded")
    assert len(recorded) == 562
    assert len({entry.target for entry in recorded}) == 562
    assert verify_chain(seeded_session).intact


def test_waiting_credentials_have_no_holder(seeded_session, key_store, chelmer):
    run(seeded_session, key_store, chelmer, EXAMPLE)

    credential = seeded_session.exec(select(IssuedCredential)).first()
    document = json.loads(credential.document)

    assert credential.delivery == "waiting"
    assert "proof" not in document
    assert "id" not in document["credentialSubject"]
    assert len(document["credentialStatus"]) == 2


def test_bound_staff_get_signed_credentials(
    seeded_session, seeded_database_url, key_store, chelmer, tmp_path
):
    holders = bind_holders(seeded_session, chelmer, [99000001, 99000002])
    path = synthetic(tmp_path, 4, subjects=3)

    summary = run(seeded_session, key_store, chelmer, path)

    assert summary.issued == 6
    assert summary.waiting == 6
    signed = seeded_session.exec(
        select(IssuedCredential)
        .where(IssuedCredential.delivery == "offered")
        # Newest expiry first: some synthetic completions have expired.
        .order_by(IssuedCredential.valid_until.desc())  # type: ignore[attr-defined]
    ).all()
    assert {row.holder_did for row in signed} == set(holders.values())
    result = verify_with_platform(seeded_database_url, json.loads(signed[0].document))
    assert result.verified, [c for c in result.checks if not c.passed]


def test_parallel_signing_matches(seeded_session, key_store, chelmer, tmp_path):
    bind_holders(seeded_session, chelmer, range(99000001, 99000005))
    path = synthetic(tmp_path, 4, subjects=6)

    summary = run(seeded_session, key_store, chelmer, path, workers=2, batch_size=10)

    assert summary.issued == 24
    documents = [
        json.loads(row.document)
        for row in seeded_session.exec(select(IssuedCredential)).all()
    ]
    assert all("proof" in document for document in documents)
    assert len({document["id"] for document in documents}) == 24


def test_names_nfc_before_signing(seeded_session, key_store, chelmer, tmp_path):
    path = synthetic(tmp_path, 7, subjects=1)

    run(seeded_session, key_store, chelmer, path)

    names = {
        json.loads(row.document)["credentialSubject"]["name"]
        for row in seeded_session.exec(select(IssuedCredential)).all()
    }
    assert all(
        name == __import__("unicodedata").normalize("NFC", name) for name in names
    )


def test_bad_rows_never_block_good(seeded_session, key_store, chelmer, tmp_path):
    path = synthetic(tmp_path, 20, bad_every=7)
    report = tmp_path / "report.csv"

    summary = run(seeded_session, key_store, chelmer, path, report_path=report)

    assert summary.rows_read == 240
    assert summary.rejected == 34
    assert summary.waiting == 240 - 34
    reasons = report.read_text(encoding="utf-8")
    assert "U+0007" in reasons
    assert "Day 31 does not exist in February 2025" in reasons
    assert "Month 13 does not exist" in reasons


def test_examples_capped(seeded_session, key_store, chelmer, tmp_path):
    path = synthetic(tmp_path, 30, bad_every=3)

    summary = run(seeded_session, key_store, chelmer, path)

    assert summary.rejected == 120
    assert len(summary.examples) == 20


def test_local_competence_rejected_unmapped(
    seeded_session, key_store, chelmer, tmp_path
):
    path = synthetic(tmp_path, 2, local_every=5)
    report = tmp_path / "report.csv"

    summary = run(seeded_session, key_store, chelmer, path, report_path=report)

    assert summary.rejected == 4
    assert "no CSTF equivalent in this organisation's table" in report.read_text()


def test_local_competence_mapped(seeded_session, key_store, chelmer, tmp_path):
    map_local_competence(
        seeded_session,
        chelmer,
        "901|LOCAL|Fire Safety Annual - 1 Year|",
        "FS",
        actor="t",
    )
    seeded_session.commit()
    path = synthetic(tmp_path, 2, local_every=5)

    summary = run(seeded_session, key_store, chelmer, path)

    assert summary.rejected == 0
    assert summary.waiting == 24


def test_local_map_is_per_organisation(
    seeded_session, key_store, chelmer, colne, tmp_path
):
    map_local_competence(
        seeded_session, colne, "901|LOCAL|Fire Safety Annual - 1 Year|", "FS", actor="t"
    )
    seeded_session.commit()
    path = synthetic(tmp_path, 2, local_every=5)

    summary = run(seeded_session, key_store, chelmer, path)

    assert summary.rejected == 4


def test_map_rejects_unknown_subject(seeded_session, chelmer):
    with pytest.raises(KeyError, match="Unknown CSTF subject code 'XX'"):
        map_local_competence(
            seeded_session, chelmer, "901|LOCAL|Thing - 1 Year|", "XX", actor="t"
        )


def test_map_rejects_national_name(seeded_session, chelmer):
    with pytest.raises(ValueError, match="is not a local competence name"):
        map_local_competence(
            seeded_session, chelmer, "NHS|CSTF|Fire Safety - 2 Years|", "FS", actor="t"
        )


def test_renewal_supersedes_older(seeded_session, key_store, chelmer, tmp_path):
    older = synthetic(tmp_path, 1, "older.csv", subjects=1, as_of=date(2025, 3, 31))
    newer = synthetic(tmp_path, 1, "newer.csv", subjects=1)

    run(seeded_session, key_store, chelmer, older)
    summary = run(seeded_session, key_store, chelmer, newer)

    rows = seeded_session.exec(
        select(IssuedCredential).order_by(IssuedCredential.completed_on)
    ).all()
    assert summary.superseded == 1
    assert rows[0].superseded_by == rows[1].id
    assert rows[1].superseded_by is None
    assert rows[0].revoked_at is None
    assert credential_states(seeded_session, [rows[0].id, rows[1].id]) == {
        rows[0].id: "superseded",
        rows[1].id: "active",
    }


def test_older_completion_arrives_superseded(
    seeded_session, key_store, chelmer, tmp_path
):
    newer = synthetic(tmp_path, 1, "newer.csv", subjects=1)
    older = synthetic(tmp_path, 1, "older.csv", subjects=1, as_of=date(2025, 3, 31))

    run(seeded_session, key_store, chelmer, newer)
    run(seeded_session, key_store, chelmer, older)

    rows = seeded_session.exec(
        select(IssuedCredential).order_by(IssuedCredential.completed_on)
    ).all()
    assert rows[0].superseded_by == rows[1].id
    assert rows[1].superseded_by is None


def test_progress_reports_bytes(seeded_session, key_store, chelmer, tmp_path):
    path = synthetic(tmp_path, 10)
    calls = []

    run(
        seeded_session,
        key_store,
        chelmer,
        path,
        batch_size=25,
        progress=lambda rows, done: calls.append((rows, done)),
    )

    assert len(calls) >= 4
    assert calls[-1] == (120, path.stat().st_size)
    assert [rows for rows, _ in calls] == sorted(rows for rows, _ in calls)


def test_run_recorded(seeded_session, key_store, chelmer):
    summary = run(seeded_session, key_store, chelmer, EXAMPLE)

    runs = import_runs(seeded_session, chelmer)
    assert runs[0].id == summary.run_id
    assert runs[0].state == "finished"
    assert runs[0].waiting == 562
    assert runs[0].rejected == 12
    assert runs[0].file_name == EXAMPLE.name


def test_wrong_file_fails_run(seeded_session, key_store, chelmer):
    with pytest.raises(ExportFormatError, match="lacks the columns"):
        run(seeded_session, key_store, chelmer, io.BytesIO(b"a,b\n1,2\n"))

    failed = seeded_session.exec(select(ImportRun)).one()
    assert failed.state == "failed"
    assert "lacks the columns" in failed.error
    assert seeded_session.exec(select(IssuedCredential.id)).first() is None


def test_status_indexes_unique_after_import(seeded_session, key_store, chelmer):
    run(seeded_session, key_store, chelmer, EXAMPLE)

    entries = seeded_session.exec(select(StatusEntry)).all()
    assert len(entries) == 2 * 562
    assert len({(e.status_list_id, e.list_index) for e in entries}) == len(entries)


def test_compromise_lists_signed_credentials(
    seeded_session, key_store, chelmer, tmp_path
):
    from datetime import UTC, datetime, timedelta

    from issuer.organisations import compromised_key_credentials, mark_key_compromised

    bind_holders(seeded_session, chelmer, [99000001])
    run(seeded_session, key_store, chelmer, synthetic(tmp_path, 2, subjects=3))
    signed = seeded_session.exec(
        select(IssuedCredential.id).where(IssuedCredential.delivery == "offered")
    ).all()

    result = mark_key_compromised(
        seeded_session,
        key_store,
        chelmer,
        chelmer.verification_method_id,
        since=datetime.now(UTC) - timedelta(hours=1),
        reason="test",
        actor="t",
    )

    assert sorted(result.affected_credential_ids) == sorted(signed)
    assert len(signed) == 3
    assert sorted(compromised_key_credentials(seeded_session, chelmer)) == sorted(
        signed
    )


EXPORT_ROW = (
    "99100001",
    "99100001-1",
    "STUB, Chloé",
    "901 Elderly Care Ward 7",
    "Ward Clerk",
    "Administrative and Clerical",
    "NHS|CSTF|Conflict Resolution - 3 Years|",
    "Meets Requirement",
    "18-Jun-2024",
    "18-Jun-2027",
    "e-Learning",
    "L14|EXAMPLE, Kit",
    "901",
)


def write_rows(path: Path, rows: list[list[str]]) -> Path:
    """Write ``rows`` under the example export's header."""
    header = EXAMPLE.read_text(encoding="utf-8-sig").splitlines()[0]
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(header.split(","))
        writer.writerows(rows)
    return path


def test_report_cells_never_formulas(seeded_session, key_store, chelmer, tmp_path):
    row = list(EXPORT_ROW)
    formulas = {
        2: "=cmd|' /C calc'!A0",
        6: "@SUM(1+1)*cmd|' /C calc'!A0",
        0: "-2+3",
        8: "+1+1",
        9: "\t=1+1",
    }
    rows = [
        [*row[:index], formula, *row[index + 1 :]]
        for index, formula in formulas.items()
    ]
    path = write_rows(tmp_path / "formulas.csv", rows)
    report = tmp_path / "report.csv"

    run(seeded_session, key_store, chelmer, path, report_path=report)

    with report.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    values = [row["value"] for row in rows]
    assert len(values) == len(formulas)
    for value in values:
        assert value.startswith("'"), value
    assert "'" + formulas[6] in values


def test_overlong_name_rejected_alone(seeded_session, key_store, chelmer, tmp_path):
    long_name = "LONG" + "X" * 300 + ", Name"
    other = ["99100002", "99100002-1", long_name, *EXPORT_ROW[3:]]
    path = write_rows(tmp_path / "long-name.csv", [list(EXPORT_ROW), other])
    report = tmp_path / "report.csv"

    summary = run(seeded_session, key_store, chelmer, path, report_path=report)

    assert summary.rows_read == 2
    assert summary.rejected == 1
    assert summary.waiting == 1
    with report.open(encoding="utf-8", newline="") as handle:
        rejected = next(csv.DictReader(handle))
    assert rejected["column"] == "Full Name"
    assert "at most 200 characters" in rejected["reason"]
