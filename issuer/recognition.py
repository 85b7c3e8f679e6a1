"""Recognising training another member certified: the new employer's own record.

When HR accepts a subject from a shared passport, the receiving organisation
can issue its own training credential for it: the same subject and
completion date (so the same expiry), signed by the receiving organisation,
for the same holder DID. The wallet of a holder on this platform gets it as
an offer to accept, through a staff record that the organisation keeps for
the holder. That record has no employee number, so its reference is a hash
of the holder DID.
"""

import hashlib
import logging
import uuid
from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, select

from issuer.errors import CredentialRejected
from issuer.esr_export import check_display_name
from issuer.issuance import OFFERED, RETURNED, issue_credential
from issuer.models import IssuedCredential, Organisation, StaffRecord
from issuer.subjects import subject_by_code
from issuer.training import build_training_credential
from keys.store import KeyStore
from wallet_web.models import Wallet

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Recognition:
    """One accepted subject to issue again as the organisation's own record."""

    holder_did: str
    display_name: str
    subject_code: str
    completed: date
    source_credential_id: str | None = None


@dataclass(frozen=True)
class RecognitionOutcome:
    """The result of issuing one :class:`Recognition`.

    ``credential_id`` is the new credential, or the one issued before when
    ``already_issued`` is set. ``offered`` is whether a wallet on this
    platform received it as an offer.
    """

    subject_code: str
    credential_id: str
    already_issued: bool
    offered: bool


def holder_reference(holder_did: str) -> str:
    """Return the staff-record reference of a holder known only by DID."""
    return hashlib.sha256(b"recognised holder\x00" + holder_did.encode()).hexdigest()


def _staff_record(
    session: Session, organisation: Organisation, holder_did: str, display_name: str
) -> StaffRecord | None:
    """Return the organisation's staff record for a holder with a wallet here.

    None when no wallet on this platform has the holder DID, because there
    is then nowhere to offer the credential.
    """
    wallet = session.exec(select(Wallet).where(Wallet.holder_did == holder_did)).first()
    if wallet is None:
        return None
    record = session.exec(
        select(StaffRecord).where(
            StaffRecord.organisation_id == organisation.id,
            StaffRecord.holder_did == holder_did,
        )
    ).first()
    if record is None:
        assert organisation.id is not None
        record = StaffRecord(
            organisation_id=organisation.id,
            employee_ref_hash=holder_reference(holder_did),
            display_name=display_name,
            wallet_id=wallet.id,
            holder_did=holder_did,
        )
        session.add(record)
        session.flush()
    return record


def issue_recognised_training(
    session: Session,
    key_store: KeyStore,
    organisation: Organisation,
    recognition: Recognition,
    *,
    actor: str,
) -> RecognitionOutcome:
    """Issue ``recognition`` as ``organisation``'s own credential, once.

    A second call for the same holder, subject and completion date returns
    the credential issued the first time. The caller commits.

    :raises CredentialRejected: for an unknown subject code, a holder DID
        that is not a URI, or a holder name that an export row could not
        have (see :func:`issuer.esr_export.check_display_name`).
    """
    completed_on = recognition.completed.isoformat()
    existing = session.exec(
        select(IssuedCredential).where(
            IssuedCredential.organisation_id == organisation.id,
            IssuedCredential.holder_did == recognition.holder_did,
            IssuedCredential.subject_code == recognition.subject_code,
            IssuedCredential.completed_on == completed_on,
        )
    ).first()
    if existing is not None:
        return RecognitionOutcome(
            recognition.subject_code,
            existing.id,
            already_issued=True,
            offered=existing.delivery == OFFERED,
        )
    try:
        # The name comes from another issuer's credential, so it gets the
        # checks a name from a training export gets before it is stored.
        check_display_name(recognition.display_name)
    except ValueError as error:
        raise CredentialRejected(f"The holder's name cannot be used: {error}") from None
    try:
        subject = subject_by_code(recognition.subject_code)
        unsigned = build_training_credential(
            credential_id=f"urn:uuid:{uuid.uuid4()}",
            issuer_id=organisation.did,
            holder_id=recognition.holder_did,
            display_name=recognition.display_name,
            subject=subject,
            completed=recognition.completed,
            cstf_aligned=organisation.cstf_aligned,
        )
    except (KeyError, ValueError, TypeError) as error:
        raise CredentialRejected(
            f"Subject {recognition.subject_code!r} cannot be issued: {error}"
        ) from error
    record = _staff_record(
        session, organisation, recognition.holder_did, recognition.display_name
    )
    signed = issue_credential(
        session,
        key_store,
        organisation,
        unsigned,
        actor=actor,
        delivery=OFFERED if record is not None else RETURNED,
    )
    issued = session.get(IssuedCredential, signed["id"])
    assert issued is not None
    issued.subject_code = subject.code
    issued.completed_on = completed_on
    issued.staff_record_id = record.id if record is not None else None
    session.add(issued)
    session.flush()
    logger.info(
        "recognised training issued org=%s subject=%s offered=%s",
        organisation.slug,
        subject.code,
        record is not None,
    )
    return RecognitionOutcome(
        subject.code, issued.id, already_issued=False, offered=record is not None
    )
