"""The issuer's service API: organisations, their keys and training import.

Nothing here imports Flask; the CLI and the admin pages call these functions
with a session and the key store. Other packages import from this module
only, never from the issuer's other modules.
"""

import hashlib
import hmac
import json
import logging
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import IO, Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from credentials.proofs import add_proof
from issuer.errors import IssuerError, OrganisationNotFound
from issuer.esr_export import ExportRow, RowError, read_export
from issuer.models import IssuedCredential, Organisation, StaffRecord
from issuer.organisations import (
    adopt_did_web,
    create_organisation,
    did_document,
    get_organisation,
    list_organisations,
    mark_key_compromised,
    platform_did_documents,
    rotate_key,
)
from issuer.signing import organisation_dids, signer_for
from issuer.status_lists import (
    allocate_status_entries,
    change_status,
    status_list_by_url,
)
from issuer.training import build_training_credential
from keys.store import KeyStore
from wallet_web.holders import create_wallet
from wallet_web.service import receive_credential

__all__ = [
    "ImportSummary",
    "IssuerError",
    "OrganisationNotFound",
    "adopt_did_web",
    "create_organisation",
    "credential_document",
    "did_document",
    "employee_reference",
    "get_organisation",
    "import_training_export",
    "issue_training_credential",
    "issued_credentials",
    "list_organisations",
    "mark_key_compromised",
    "organisation_dids",
    "platform_did_documents",
    "reference_secret",
    "rotate_key",
    "change_status",
    "organisation_dids",
    "status_list_by_url",
]

logger = logging.getLogger(__name__)

DEFAULT_CRYPTOSUITE = "eddsa-rdfc-2022"

# Rows are committed in batches: a crash loses at most one batch of work, and
# the re-run issues exactly those rows again, because issuance is keyed by
# (organisation, staff member, subject, completion date).
COMMIT_EVERY = 200


@dataclass
class ImportSummary:
    """What one import did, for the CLI and the admin page."""

    rows_read: int = 0
    issued: int = 0
    already_issued: int = 0
    staff_added: int = 0
    rejected: list[RowError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def employee_reference(secret: bytes, organisation: Organisation, number: str) -> str:
    """Return the keyed hash that stands for an employee number in the database."""
    message = f"{organisation.slug}\x00{number.strip()}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def reference_secret(passphrase: str) -> bytes:
    """Derive the employee-reference HMAC key from the key-store passphrase."""
    return hashlib.sha256(
        b"staff-passport employee reference\x00" + passphrase.encode()
    ).digest()


def _staff_record(
    session: Session,
    key_store: KeyStore,
    organisation: Organisation,
    row: ExportRow,
    secret: bytes,
    summary: ImportSummary,
) -> StaffRecord:
    reference = employee_reference(secret, organisation, row.employee_number)
    record = session.exec(
        select(StaffRecord).where(
            StaffRecord.organisation_id == organisation.id,
            StaffRecord.employee_ref_hash == reference,
        )
    ).first()
    if record is not None:
        return record
    # NOTE: a staff member new to this employer gets a new hosted wallet; a
    # person who already has a wallet from another employer is not matched
    # to it, so they hold two wallets until claim codes link them.
    wallet = create_wallet(session, key_store, row.display_name)
    assert organisation.id is not None and wallet.id is not None
    record = StaffRecord(
        organisation_id=organisation.id,
        employee_ref_hash=reference,
        display_name=row.display_name,
        wallet_id=wallet.id,
    )
    session.add(record)
    session.flush()
    summary.staff_added += 1
    return record


def issue_training_credential(
    session: Session,
    key_store: KeyStore,
    organisation: Organisation,
    record: StaffRecord,
    row: ExportRow,
    *,
    cryptosuite: str = DEFAULT_CRYPTOSUITE,
    created: datetime | None = None,
) -> IssuedCredential | None:
    """Sign and store the credential for one completion, and deliver it.

    :returns: the new row, or None when this completion was issued before.
    """
    assert organisation.id is not None and record.id is not None
    completed_on = row.achievement_date.isoformat()
    existing = session.exec(
        select(IssuedCredential.id).where(
            IssuedCredential.organisation_id == organisation.id,
            IssuedCredential.staff_record_id == record.id,
            IssuedCredential.subject_code == row.subject.code,
            IssuedCredential.completed_on == completed_on,
        )
    ).first()
    if existing is not None:
        return None

    wallet_holder = _holder_did(session, record)
    credential_id = f"urn:uuid:{uuid.uuid4()}"
    unsigned = build_training_credential(
        credential_id=credential_id,
        issuer_id=organisation.did,
        issuer_name=organisation.name,
        holder_id=wallet_holder,
        display_name=record.display_name,
        subject=row.subject,
        completed=row.achievement_date,
        cstf_aligned=organisation.cstf_aligned,
    )
    unsigned["credentialStatus"] = allocate_status_entries(
        session, key_store, organisation, credential_id
    )
    signer = signer_for(session, key_store, organisation, None)
    signed_at = (created or datetime.now(UTC)).replace(microsecond=0)
    signed = add_proof(
        unsigned, signer=signer, cryptosuite=cryptosuite, created=signed_at
    )
    document = json.dumps(signed, ensure_ascii=False, separators=(",", ":"))
    issued = IssuedCredential(
        id=signed["id"],
        organisation_id=organisation.id,
        staff_record_id=record.id,
        subject_code=row.subject.code,
        completed_on=completed_on,
        valid_until=signed["validUntil"],
        document=document,
        verification_method_id=signer.verification_method_id,
        signed_at=signed_at,
    )
    session.add(issued)
    receive_credential(session, record.wallet_id, document)
    return issued


def _holder_did(session: Session, record: StaffRecord) -> str:
    from wallet_web.models import Wallet

    wallet = session.get(Wallet, record.wallet_id)
    assert wallet is not None
    return wallet.holder_did


def import_training_export(
    session: Session,
    key_store: KeyStore,
    organisation: Organisation,
    source: IO[bytes] | str,
    *,
    secret: bytes,
    as_of: date | None = None,
    progress: Callable[[int], None] | None = None,
) -> ImportSummary:
    """Import an ESR-style team export: one credential per good row.

    Bad rows are collected in the summary and never stop the good ones.
    Running the same file again issues nothing new.

    :param source: a binary stream or a path.
    :param secret: the key for employee-number hashes (:func:`reference_secret`).
    :param as_of: the import's reference date; achievements after it are
        rejected (default: today in UTC).
    :param progress: called with the number of rows read so far, every batch.
    :raises issuer.esr_export.ExportFormatError: if the header is unusable.
    """
    summary = ImportSummary()
    as_of = as_of or datetime.now(UTC).date()
    for item in read_export(source, as_of=as_of):
        summary.rows_read += 1
        if isinstance(item, RowError):
            summary.rejected.append(item)
            continue
        _import_row(session, key_store, organisation, item, secret, summary)
        if summary.rows_read % COMMIT_EVERY == 0:
            session.commit()
            if progress is not None:
                progress(summary.rows_read)
    session.commit()
    if progress is not None:
        progress(summary.rows_read)
    logger.info(
        "import finished org=%s rows=%d issued=%d already=%d rejected=%d",
        organisation.slug,
        summary.rows_read,
        summary.issued,
        summary.already_issued,
        len(summary.rejected),
    )
    return summary


def _import_row(
    session: Session,
    key_store: KeyStore,
    organisation: Organisation,
    row: ExportRow,
    secret: bytes,
    summary: ImportSummary,
) -> None:
    if row.expiry_disagrees:
        summary.warnings.append(
            f"line {row.line}: the export's expiry {row.expiry_date} differs from "
            f"{row.expected_expiry}, the completion date plus the "
            f"{row.subject.refresher_months}-month refresher period; the "
            "credential uses the latter."
        )
    savepoint = session.begin_nested()
    try:
        record = _staff_record(session, key_store, organisation, row, secret, summary)
        issued = issue_training_credential(
            session, key_store, organisation, record, row
        )
        savepoint.commit()
    except IntegrityError:
        # Another process issued the same completion between our check and
        # insert: the unique constraint kept one, which is the goal.
        savepoint.rollback()
        issued = None
    if issued is None:
        summary.already_issued += 1
    else:
        summary.issued += 1


def issued_credentials(
    session: Session, organisation: Organisation
) -> Iterable[IssuedCredential]:
    """Return the credentials an organisation has issued, newest first."""
    return session.exec(
        select(IssuedCredential)
        .where(IssuedCredential.organisation_id == organisation.id)
        .order_by(IssuedCredential.issued_at.desc())  # type: ignore[attr-defined]
    )


def credential_document(row: IssuedCredential) -> dict[str, Any]:
    """Return the stored credential as parsed JSON."""
    result: dict[str, Any] = json.loads(row.document)
    return result
