"""Streaming import of ESR-style training exports, crash-safe and repeatable.

The export is read record by record and processed in batches of
:data:`BATCH_SIZE` rows, each batch one database transaction: staff records,
credentials, status list indexes and audit entries of a batch commit
together or not at all. Killing the import at any point therefore loses at
most the batch in progress, and running the same file again issues exactly
the rows that are missing, because each completion is keyed by
(organisation, staff member, subject, completion date).

Memory stays flat however long the file is: rows are streamed, rejected rows
go straight to the report file, and only counts and the first few messages
are kept.
"""

import csv
import hashlib
import hmac
import io
import logging
import os
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import IO

from sqlalchemy import update
from sqlalchemy.exc import (
    DBAPIError,
    IntegrityError,
    OperationalError,
    SQLAlchemyError,
)
from sqlmodel import Session, col, select

from audit.log import Event, record_events
from issuer.esr_export import ExportRow, RowError, read_export
from issuer.issuance import (
    DEFAULT_CRYPTOSUITE,
    OFFERED,
    CredentialSigner,
    issuance_event,
    record_training_credentials,
    sign_credentials,
)
from issuer.models import ImportRun, LocalCompetence, Organisation, StaffRecord
from issuer.signing import signer_for
from issuer.subjects import Subject, subject_by_code
from keys.store import KeyStore
from passport.spreadsheets import spreadsheet_safe

logger = logging.getLogger(__name__)

BATCH_SIZE = 200
"""Rows per transaction: a crash loses at most this much work, and the
re-run redoes exactly that."""

REPORT_COLUMNS = ("line", "column", "value", "reason", "kind")
_EXAMPLES_KEPT = 20

Progress = Callable[[int, int], None]
"""Called after each batch with the rows read and the bytes read so far."""


@dataclass
class ImportSummary:
    """The counts of one import, for the command line and the admin page.

    ``issued`` counts credentials signed for a holder; ``waiting`` those
    stored unsigned until their staff member claims a wallet.
    """

    run_id: int | None = None
    rows_read: int = 0
    issued: int = 0
    waiting: int = 0
    already_issued: int = 0
    staff_added: int = 0
    superseded: int = 0
    rejected: int = 0
    warnings: int = 0
    report_path: str | None = None
    examples: list[str] = field(default_factory=list)


class ImportReport:
    """The CSV report of rejected rows and warnings, one line each.

    It is written to a temporary file and renamed into place when closed, so
    a report left by an interrupted import is never mistaken for a whole one.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._partial = self.path.with_name(self.path.name + ".partial")
        self._partial.parent.mkdir(parents=True, exist_ok=True)
        self._handle = self._partial.open("w", encoding="utf-8", newline="")
        self._writer = csv.writer(self._handle)
        self._writer.writerow(REPORT_COLUMNS)

    def write(
        self, line: int, column: str | None, value: str, reason: str, kind: str
    ) -> None:
        """Add one row to the report, with text cells made safe for spreadsheets."""
        cells = [column or "", value, reason, kind]
        self._writer.writerow([line, *(spreadsheet_safe(cell) for cell in cells)])

    def close(self) -> None:
        """Finish the report and move it into place."""
        self._handle.close()
        os.replace(self._partial, self.path)

    def discard(self) -> None:
        """Remove the unfinished report."""
        self._handle.close()
        self._partial.unlink(missing_ok=True)


class _CountingReader(io.RawIOBase):
    """A binary stream that counts the bytes read through it."""

    def __init__(self, raw: IO[bytes]) -> None:
        self._raw = raw
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self._raw.read(len(buffer))
        buffer[: len(data)] = data
        self.count += len(data)
        return len(data)


def employee_reference(secret: bytes, organisation: Organisation, number: str) -> str:
    """Return the keyed hash that stands for an employee number in the database."""
    message = f"{organisation.slug}\x00{number.strip()}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def reference_secret(passphrase: str) -> bytes:
    """Derive the employee-reference HMAC key from the key-store passphrase."""
    return hashlib.sha256(
        b"staff-passport employee reference\x00" + passphrase.encode()
    ).digest()


def local_competence_table(
    session: Session, organisation: Organisation
) -> dict[str, Subject]:
    """Return the organisation's local competences mapped to CSTF subjects."""
    rows = session.exec(
        select(LocalCompetence).where(
            LocalCompetence.organisation_id == organisation.id
        )
    ).all()
    return {row.competence_key: subject_by_code(row.subject_code) for row in rows}


@dataclass
class _Batch:
    session: Session
    key_store: KeyStore
    organisation: Organisation
    secret: bytes
    signer: CredentialSigner
    summary: ImportSummary
    report: ImportReport | None
    actor: str
    run_id: int


def import_training_export(
    session: Session,
    key_store: KeyStore,
    organisation: Organisation,
    source: IO[bytes] | str | os.PathLike[str],
    *,
    secret: bytes,
    as_of: date | None = None,
    report_path: str | os.PathLike[str] | None = None,
    progress: Progress | None = None,
    actor: str = "system",
    workers: int = 1,
    cryptosuite: str = DEFAULT_CRYPTOSUITE,
    batch_size: int = BATCH_SIZE,
    file_name: str | None = None,
    run_id: int | None = None,
) -> ImportSummary:
    """Import an ESR-style team export: one credential per good row, once.

    Bad rows go to the report (when ``report_path`` is given) and never stop
    the good ones. Running the same file again issues nothing new.

    :param source: a binary stream or the path of the file.
    :param secret: the key for employee-number hashes (:func:`reference_secret`).
    :param as_of: the import's reference date; achievements after it are
        rejected (default: today in UTC).
    :param workers: processes that sign in parallel (1 signs in this one).
    :param run_id: an import run made by :func:`start_import_run` to carry
        on with (default: a new one).
    :raises issuer.esr_export.ExportFormatError: if the header is unusable;
        nothing is imported then.
    """
    as_of = as_of or datetime.now(UTC).date()
    if isinstance(source, str | os.PathLike):
        name = file_name or Path(source).name
        binary: IO[bytes] = open(source, "rb")  # noqa: SIM115 (closed below)
        owns_source = True
    else:
        name = file_name or "upload.csv"
        binary = source
        owns_source = False

    summary = ImportSummary(report_path=str(report_path) if report_path else None)
    if run_id is None:
        run_id = start_import_run(
            session, organisation, name, actor=actor, report_path=summary.report_path
        )
    summary.run_id = run_id
    counter = _CountingReader(binary)
    report = ImportReport(report_path) if report_path else None
    opened: Generator[ExportRow | RowError, None, None] | None = None
    try:
        rows = read_export(
            io.BufferedReader(counter),
            as_of=as_of,
            local_competences=local_competence_table(session, organisation),
        )
        opened = rows
        key_pair = signer_for(session, key_store, organisation, None)
        session.commit()
        with CredentialSigner(
            key_pair, cryptosuite=cryptosuite, workers=workers
        ) as signer:
            batch = _Batch(
                session,
                key_store,
                organisation,
                secret,
                signer,
                summary,
                report,
                actor,
                run_id,
            )
            pending: list[ExportRow] = []
            for item in rows:
                summary.rows_read += 1
                if isinstance(item, RowError):
                    _reject(batch, item)
                else:
                    pending.append(item)
                if len(pending) >= batch_size:
                    _process(batch, pending)
                    pending = []
                    if progress is not None:
                        progress(summary.rows_read, counter.count)
            _process(batch, pending)
    except BaseException as error:
        session.rollback()
        if report is not None:
            report.discard()
        try:
            _finish_run(session, run_id, summary, "failed", error=str(error)[:1000])
        except SQLAlchemyError as finish_error:
            logger.warning(
                "import run %s could not be marked failed: %s", run_id, finish_error
            )
        raise
    finally:
        # Close the reader before its file, so it never reads a closed one.
        if opened is not None:
            opened.close()
        if owns_source:
            binary.close()

    if report is not None:
        report.close()
    _finish_run(session, run_id, summary, "finished")
    if progress is not None:
        progress(summary.rows_read, counter.count)
    logger.info(
        "import finished org=%s run=%s rows=%d issued=%d waiting=%d already=%d "
        "rejected=%d",
        organisation.slug,
        run_id,
        summary.rows_read,
        summary.issued,
        summary.waiting,
        summary.already_issued,
        summary.rejected,
    )
    return summary


def start_import_run(
    session: Session,
    organisation: Organisation,
    file_name: str,
    *,
    actor: str,
    report_path: str | None = None,
) -> int:
    """Record an import about to start, and commit, so a page can follow it.

    :returns: the run's id.
    """
    assert organisation.id is not None
    run = ImportRun(
        organisation_id=organisation.id,
        file_name=file_name[:255],
        actor=actor,
        report_path=report_path,
    )
    session.add(run)
    session.commit()
    assert run.id is not None
    return run.id


def import_run(
    session: Session, organisation: Organisation, run_id: int
) -> ImportRun | None:
    """Return one of the organisation's import runs, or None."""
    run = session.get(ImportRun, run_id)
    if run is None or run.organisation_id != organisation.id:
        return None
    return run


def _finish_run(
    session: Session,
    run_id: int,
    summary: ImportSummary,
    state: str,
    *,
    error: str | None = None,
) -> None:
    session.execute(
        update(ImportRun)
        .where(col(ImportRun.id) == run_id)
        .values(
            **_run_counts(summary),
            state=state,
            error=error,
            finished_at=datetime.now(UTC),
        )
    )
    session.commit()


def _run_counts(summary: ImportSummary) -> dict[str, int]:
    return {
        "rows_read": summary.rows_read,
        "issued": summary.issued,
        "waiting": summary.waiting,
        "already_issued": summary.already_issued,
        "rejected": summary.rejected,
        "warnings": summary.warnings,
        "staff_added": summary.staff_added,
    }


def _reject(batch: _Batch, error: RowError) -> None:
    batch.summary.rejected += 1
    if batch.report is not None:
        batch.report.write(
            error.line, error.column, error.value, error.reason, "rejected"
        )
    _keep_example(batch.summary, f"Rejected {error}")


def _warn(batch: _Batch, row: ExportRow) -> None:
    reason = (
        f"The export's expiry {row.expiry_date} differs from {row.expected_expiry}, "
        f"the completion date plus the {row.subject.refresher_months}-month "
        "refresher period; the credential uses the latter."
    )
    batch.summary.warnings += 1
    if batch.report is not None:
        batch.report.write(
            row.line, "Expiry Date", str(row.expiry_date), reason, "warning"
        )
    _keep_example(batch.summary, f"Warning line {row.line}: {reason}")


def _keep_example(summary: ImportSummary, message: str) -> None:
    if len(summary.examples) < _EXAMPLES_KEPT:
        summary.examples.append(message)


@dataclass
class _Tally:
    """The counts of one batch, added to the summary once it commits."""

    issued: int = 0
    waiting: int = 0
    already_issued: int = 0
    staff_added: int = 0
    superseded: int = 0


# A batch that meets a concurrent import of the same rows (a unique key
# taken, or a deadlock) rolls back and is processed again. The second time
# it finds what the other process stored.
_BATCH_ATTEMPTS = 3


def _process(batch: _Batch, rows: list[ExportRow]) -> None:
    """Import ``rows`` in one transaction and commit it."""
    session = batch.session
    for attempt in range(1, _BATCH_ATTEMPTS + 1):
        tally = _Tally()
        try:
            _process_once(batch, rows, tally)
            session.commit()
        except (IntegrityError, OperationalError) as error:
            session.rollback()
            if attempt == _BATCH_ATTEMPTS or not _is_conflict(error):
                raise
            logger.warning(
                "import batch conflicted with another import, retrying run=%s: %s",
                batch.run_id,
                type(error).__name__,
            )
            continue
        summary = batch.summary
        summary.issued += tally.issued
        summary.waiting += tally.waiting
        summary.already_issued += tally.already_issued
        summary.staff_added += tally.staff_added
        summary.superseded += tally.superseded
        for row in rows:
            if row.expiry_disagrees:
                _warn(batch, row)
        return


def _is_conflict(error: DBAPIError) -> bool:
    """Return whether a failed batch lost a race with another import."""
    if isinstance(error, IntegrityError):
        return True
    # PostgreSQL's deadlock_detected and serialization_failure.
    return getattr(error.orig, "sqlstate", None) in ("40P01", "40001")


def _process_once(batch: _Batch, rows: list[ExportRow], tally: _Tally) -> None:
    session = batch.session
    # Writing first takes SQLite's write lock before anything is read, so
    # the batch reads a stable database. The write also records progress.
    session.execute(
        update(ImportRun)
        .where(col(ImportRun.id) == batch.run_id)
        .values(**_run_counts(batch.summary))
    )
    records = _staff_records(batch, rows, tally)
    results = record_training_credentials(
        session,
        batch.key_store,
        batch.organisation,
        list(zip(records, rows, strict=True)),
        import_run_id=batch.run_id,
    )
    recorded = [
        (result, record)
        for result, record in zip(results, records, strict=True)
        if result is not None
    ]
    tally.already_issued += len(rows) - len(recorded)

    to_sign = [
        (item.credential, record.holder_did)
        for item, record in recorded
        if record.holder_did is not None and item.credential.superseded_by is None
    ]
    sign_credentials(to_sign, batch.signer, delivery=OFFERED)

    events: list[Event] = []
    for item, _ in recorded:
        credential = item.credential
        if credential.signed_at is None:
            tally.waiting += 1
        else:
            tally.issued += 1
        tally.superseded += len(item.supersedes)
        events.append(
            issuance_event(credential, batch.organisation, batch.actor, item.supersedes)
        )
    record_events(session, events)


def _staff_records(
    batch: _Batch, rows: list[ExportRow], tally: _Tally
) -> list[StaffRecord]:
    """Return the staff record of each row, creating the missing ones."""
    session = batch.session
    organisation = batch.organisation
    assert organisation.id is not None
    references = [
        employee_reference(batch.secret, organisation, row.employee_number)
        for row in rows
    ]
    found = {
        record.employee_ref_hash: record
        for record in session.exec(
            select(StaffRecord).where(
                StaffRecord.organisation_id == organisation.id,
                col(StaffRecord.employee_ref_hash).in_(set(references)),
            )
        )
    }
    for reference, row in zip(references, rows, strict=True):
        record = found.get(reference)
        if record is None:
            record = StaffRecord(
                organisation_id=organisation.id,
                employee_ref_hash=reference,
                display_name=row.display_name,
            )
            found[reference] = record
            session.add(record)
            tally.staff_added += 1
        elif record.display_name != row.display_name:
            # The latest export carries the name the staff member goes by now.
            record.display_name = row.display_name
            session.add(record)
    session.flush()
    return [found[reference] for reference in references]


def map_local_competence(
    session: Session,
    organisation: Organisation,
    competence_name: str,
    subject_code: str,
    *,
    actor: str,
) -> LocalCompetence:
    """Record that a local competence counts as a CSTF subject (the caller commits).

    :raises KeyError: if ``subject_code`` is not a CSTF subject code.
    :raises ValueError: if the name is not a local competence name.
    """
    from audit.log import record_event
    from issuer.subjects import competence_key, is_local_competence

    if not is_local_competence(competence_name):
        raise ValueError(
            f"{competence_name!r} is not a local competence name; expected the "
            "form 'NNN|LOCAL|Title|', such as '902|LOCAL|Fire Safety Annual - 1 Year|'."
        )
    subject = subject_by_code(subject_code)
    key = competence_key(competence_name)
    assert organisation.id is not None
    row = session.exec(
        select(LocalCompetence).where(
            LocalCompetence.organisation_id == organisation.id,
            LocalCompetence.competence_key == key,
        )
    ).first()
    if row is None:
        row = LocalCompetence(
            organisation_id=organisation.id,
            competence_key=key,
            competence_name=competence_name.strip(),
            subject_code=subject.code,
        )
    else:
        row.subject_code = subject.code
    session.add(row)
    record_event(
        session,
        "competence.mapped",
        actor=actor,
        organisation=organisation.slug,
        target=competence_name.strip(),
        details={"subject": subject.code},
    )
    session.flush()
    return row


def local_competences(
    session: Session, organisation: Organisation
) -> list[LocalCompetence]:
    """Return the organisation's local competence table, by name."""
    return list(
        session.exec(
            select(LocalCompetence)
            .where(LocalCompetence.organisation_id == organisation.id)
            .order_by(col(LocalCompetence.competence_name))
        )
    )


def import_runs(
    session: Session, organisation: Organisation, limit: int = 20
) -> list[ImportRun]:
    """Return the organisation's latest import runs, newest first."""
    return list(
        session.exec(
            select(ImportRun)
            .where(ImportRun.organisation_id == organisation.id)
            .order_by(col(ImportRun.id).desc())
            .limit(limit)
        )
    )
