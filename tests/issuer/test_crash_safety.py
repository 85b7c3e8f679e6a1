"""Killing ``passport issue`` at any point and running it again loses nothing.

Each test starts the real command in a subprocess, kills it with SIGKILL
while it imports (once just after it starts, then after some batches have
committed, while later ones are in flight), runs it again until it
finishes, and then checks that every good row was issued exactly once.
"""

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlmodel import Session

from audit.log import recent_entries, verify_chain
from examples.synthetic_export import export_rows, write_export
from tests.conftest import TEST_PASSPHRASE
from tests.issuer.conftest import BASE_URL
from tests.issuer.helpers import verify_with_platform
from tests.issuer.test_importer import bind_holders

PASSPORT = Path(sys.executable).with_name("passport")
STAFF = 60
SUBJECTS = 12
BAD_EVERY = 37
BATCH_SIZE = 40
# Upper bound for a stuck subprocess, not a performance limit.
RUN_TIMEOUT_SECONDS = 300


def environment(database_url: str, data_dir: Path) -> dict[str, str]:
    return dict(
        os.environ,
        DATABASE_URL=database_url,
        PASSPORT_DATA_DIR=str(data_dir),
        PASSPORT_KEY_PASSPHRASE=TEST_PASSPHRASE,
        PASSPORT_SECRET_KEY="test",
        PASSPORT_PUBLIC_URL=BASE_URL,
    )


def issue_command(export: Path, report: Path) -> list[str]:
    return [
        str(PASSPORT),
        "issue",
        "--org",
        "chelmer-valley",
        "--as-of",
        "2026-03-31",
        "--workers",
        "2",
        "--batch-size",
        str(BATCH_SIZE),
        "--report",
        str(report),
        str(export),
    ]


def count(engine, table: str) -> int:
    with engine.connect() as connection:
        return connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()


def kill_when(process: subprocess.Popen, engine, credentials_at_least: int) -> None:
    """SIGKILL the import once the database holds that many credentials."""
    deadline = time.monotonic() + RUN_TIMEOUT_SECONDS
    while process.poll() is None and time.monotonic() < deadline:
        if count(engine, "issued_credential") >= credentials_at_least:
            break
        time.sleep(0.005)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=RUN_TIMEOUT_SECONDS)


@pytest.fixture
def export(tmp_path) -> Path:
    path = tmp_path / "trust.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        write_export(handle, export_rows(STAFF, subjects=SUBJECTS, bad_every=BAD_EVERY))
    return path


def expected_good_rows() -> int:
    total = STAFF * SUBJECTS
    return total - total // BAD_EVERY


def check_exactly_once(engine, database_url: str, report: Path) -> None:
    good = expected_good_rows()
    assert count(engine, "issued_credential") == good
    assert count(engine, "staff_record") == STAFF
    assert count(engine, "status_entry") == 2 * good
    with engine.connect() as connection:
        duplicates = connection.execute(
            text(
                "SELECT count(*) FROM (SELECT staff_record_id, subject_code, "
                "completed_on FROM issued_credential GROUP BY staff_record_id, "
                "subject_code, completed_on HAVING count(*) > 1) AS d"
            )
        ).scalar_one()
        reused = connection.execute(
            text(
                "SELECT count(*) FROM (SELECT status_list_id, list_index FROM "
                "status_entry GROUP BY status_list_id, list_index "
                "HAVING count(*) > 1) AS r"
            )
        ).scalar_one()
        allocated = connection.execute(
            text(
                "SELECT sum(allocated) FROM status_list l JOIN organisation o "
                "ON o.id = l.organisation_id WHERE o.slug = 'chelmer-valley'"
            )
        ).scalar_one()
        signed = (
            connection.execute(
                # Newest expiry first: some synthetic completions have expired.
                text(
                    "SELECT document FROM issued_credential "
                    "WHERE delivery = 'offered' ORDER BY valid_until DESC"
                )
            )
            .scalars()
            .all()
        )
    assert duplicates == 0
    assert reused == 0
    # A killed batch rolls its status list positions back with it.
    assert allocated == 2 * good
    assert len(signed) > 0

    with Session(engine) as session:
        events = recent_entries(session, limit=10_000, action="credential.")
        assert verify_chain(session).intact
    issued_events = [
        e for e in events if e.action in ("credential.issued", "credential.recorded")
    ]
    assert len(issued_events) == good
    assert len({event.target for event in issued_events}) == good

    with report.open(encoding="utf-8", newline="") as handle:
        rejected = [row for row in csv.DictReader(handle) if row["kind"] == "rejected"]
    assert len(rejected) == STAFF * SUBJECTS // BAD_EVERY

    result = verify_with_platform(database_url, json.loads(signed[0]))
    assert result.verified, [check for check in result.checks if not check.passed]


def test_killed_import_reruns_exactly_once(
    seeded_database_url, seeded_engine, export, tmp_path
):
    with Session(seeded_engine) as session:
        from issuer.organisations import get_organisation

        chelmer = get_organisation(session, "chelmer-valley")
        # Half the staff have wallets, so their rows are signed in the
        # worker processes; the others wait unsigned.
        bind_holders(session, chelmer, range(99000001, 99000001 + STAFF // 2))
    env = environment(seeded_database_url, tmp_path / "data")
    report = tmp_path / "report.csv"
    command = issue_command(export, report)
    good = expected_good_rows()

    for threshold in (0, good // 4, good // 2, (3 * good) // 4):
        process = subprocess.Popen(
            command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        kill_when(process, seeded_engine, threshold)
        assert process.returncode == -signal.SIGKILL
        assert count(seeded_engine, "issued_credential") < good

    finished = subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT_SECONDS
    )

    assert finished.returncode == 0, finished.stderr
    assert "rejected 19" in finished.stdout
    check_exactly_once(seeded_engine, seeded_database_url, report)
    rerun = subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT_SECONDS
    )
    assert f"already issued {good}" in rerun.stdout
    assert count(seeded_engine, "issued_credential") == good


def test_concurrent_imports_issue_once(
    seeded_database_url, seeded_engine, export, tmp_path
):
    env = environment(seeded_database_url, tmp_path / "data")
    processes = [
        subprocess.Popen(
            issue_command(export, tmp_path / f"report-{number}.csv"),
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for number in range(2)
    ]
    outputs = [
        process.communicate(timeout=RUN_TIMEOUT_SECONDS) for process in processes
    ]

    assert [process.returncode for process in processes] == [0, 0], outputs
    check_exactly_once_waiting(seeded_engine)


def check_exactly_once_waiting(engine) -> None:
    good = expected_good_rows()
    assert count(engine, "issued_credential") == good
    assert count(engine, "staff_record") == STAFF
    assert count(engine, "status_entry") == 2 * good
