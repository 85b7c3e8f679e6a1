"""Delivering credentials to wallets: one-time claim codes, offers, accept, decline.

A staff member with no wallet yet has credentials waiting unsigned. Their
employer gives them a claim code, as a link and a QR. Claiming it creates or
opens their wallet, binds its holder DID to their staff record, signs every
waiting credential for that DID and offers it to the wallet, where the staff
member accepts or declines each one. A code works once and expires.

Codes are 80 random bits written as four groups of four characters from
Crockford's base32 alphabet, so they survive being read aloud or typed.
Only their SHA-256 is stored. The link carries the code after ``#``, which
browsers never send to a server, so it cannot end up in access logs.
"""

import hashlib
import io
import logging
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import qrcode
import qrcode.constants
from sqlalchemy import update
from sqlmodel import Session, col, select

from audit.log import Event, record_event, record_events
from issuer.errors import ClaimCodeInvalid, CredentialNotFound, IssuerError
from issuer.importer import employee_reference
from issuer.issuance import (
    ACCEPTED,
    DECLINED,
    OFFERED,
    WAITING,
    CredentialSigner,
    issuance_event,
    sign_credentials,
)
from issuer.models import ClaimCode, IssuedCredential, Organisation, StaffRecord
from issuer.signing import signer_for
from keys.store import KeyStore
from wallet_web.holders import create_wallet, holder_did_of
from wallet_web.service import receive_credential

logger = logging.getLogger(__name__)

CLAIM_CODE_LIFETIME = timedelta(days=14)
"""How long a claim code works, unless the employer chooses otherwise."""

# Crockford's base32: no I, L, O or U, so no two characters look alike.
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_READ_AS = {"O": "0", "I": "1", "L": "1"}
_CODE_LENGTH = 16


@dataclass(frozen=True)
class NewClaimCode:
    """A claim code just created: the only time the code itself is known."""

    code: str
    link: str
    expires_at: datetime
    staff_display_name: str


@dataclass(frozen=True)
class ClaimResult:
    """The outcome of claiming a code."""

    wallet_id: int
    holder_did: str
    organisation_slug: str
    offered: list[str]


def normalise_code(text: str) -> str:
    """Return a typed claim code in its stored form: upper case, no separators.

    ``o`` and ``O`` read as zero and ``i``, ``I``, ``l``, ``L`` as one, as
    Crockford's base32 prescribes.
    """
    characters = [
        _READ_AS.get(char, char)
        for char in text.upper()
        if not char.isspace() and char != "-"
    ]
    return "".join(characters)


def _hash(code: str) -> str:
    return hashlib.sha256(normalise_code(code).encode("ascii", "replace")).hexdigest()


def claim_link(base_url: str, code: str) -> str:
    """Return the link a staff member opens: the code after ``#``."""
    return f"{base_url.rstrip('/')}/claim#{code}"


def create_claim_code(
    session: Session,
    organisation: Organisation,
    staff_record: StaffRecord,
    *,
    base_url: str,
    actor: str,
    lifetime: timedelta = CLAIM_CODE_LIFETIME,
    at: datetime | None = None,
) -> NewClaimCode:
    """Create a one-time claim code for a staff member (the caller commits).

    :raises IssuerError: if the staff record is not the organisation's or
        the lifetime is not positive.
    """
    if staff_record.organisation_id != organisation.id:
        raise IssuerError(
            f"Staff record {staff_record.id} does not belong to {organisation.slug!r}."
        )
    if lifetime <= timedelta(0):
        raise IssuerError(f"A claim code must last some time, not {lifetime}.")
    at = at or datetime.now(UTC)
    raw = "".join(secrets.choice(_ALPHABET) for _ in range(_CODE_LENGTH))
    code = "-".join(raw[start : start + 4] for start in range(0, _CODE_LENGTH, 4))
    assert organisation.id is not None and staff_record.id is not None
    claim = ClaimCode(
        code_hash=_hash(code),
        organisation_id=organisation.id,
        staff_record_id=staff_record.id,
        created_by=actor,
        created_at=at,
        expires_at=at + lifetime,
    )
    session.add(claim)
    session.flush()
    record_event(
        session,
        "claim.created",
        actor=actor,
        organisation=organisation.slug,
        target=f"staff_record:{staff_record.id}",
        details={"claim_code": claim.id, "expires_at": claim.expires_at.isoformat()},
        at=at,
    )
    return NewClaimCode(
        code, claim_link(base_url, code), claim.expires_at, staff_record.display_name
    )


def write_claim_qr(link: str, path: Path) -> None:
    """Write a claim link as a QR code PNG (error correction M)."""
    image = qrcode.make(link, error_correction=qrcode.constants.ERROR_CORRECT_M)
    image.save(path)


def claim_qr_png(link: str) -> bytes:
    """Return a claim link as a QR code PNG."""
    buffer = io.BytesIO()
    qrcode.make(link, error_correction=qrcode.constants.ERROR_CORRECT_M).save(buffer)
    return buffer.getvalue()


def find_staff_record(
    session: Session, organisation: Organisation, secret: bytes, employee_number: str
) -> StaffRecord:
    """Return the organisation's staff record for an employee number.

    :raises IssuerError: if no import has brought that employee in yet.
    """
    reference = employee_reference(secret, organisation, employee_number)
    record = session.exec(
        select(StaffRecord).where(
            StaffRecord.organisation_id == organisation.id,
            StaffRecord.employee_ref_hash == reference,
        )
    ).first()
    if record is None:
        raise IssuerError(
            f"{organisation.slug!r} has no staff record for that employee number; "
            "import a training export that includes them first."
        )
    return record


def redeem_claim_code(
    session: Session,
    key_store: KeyStore,
    code: str,
    *,
    wallet_id: int | None,
    actor: str,
    at: datetime | None = None,
) -> ClaimResult:
    """Claim the credentials a code stands for into a wallet (the caller commits).

    :param wallet_id: the signed-in staff member's wallet, or None to create
        one for them.
    :raises ClaimCodeInvalid: if the code is unknown, already used or
        expired; nothing changes then.
    """
    at = at or datetime.now(UTC)
    code_hash = _hash(code)
    # The conditional update claims the code atomically: of two requests
    # with the same code, exactly one changes the row.
    claimed = session.execute(
        update(ClaimCode)
        .where(
            col(ClaimCode.code_hash) == code_hash,
            col(ClaimCode.used_at).is_(None),
            col(ClaimCode.expires_at) > at,
        )
        .values(used_at=at)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        raise ClaimCodeInvalid(_why_invalid(session, code_hash, at))
    claim = session.exec(
        select(ClaimCode)
        .where(ClaimCode.code_hash == code_hash)
        .execution_options(populate_existing=True)
    ).one()
    record = session.get(StaffRecord, claim.staff_record_id)
    organisation = session.get(Organisation, claim.organisation_id)
    assert record is not None and organisation is not None

    if wallet_id is None:
        wallet = create_wallet(session, key_store, record.display_name)
        assert wallet.id is not None
        wallet_id = wallet.id
    holder_did = holder_did_of(session, wallet_id)
    record.wallet_id = wallet_id
    record.holder_did = holder_did
    claim.wallet_id = wallet_id
    session.add_all([record, claim])

    waiting = session.exec(
        select(IssuedCredential).where(
            IssuedCredential.staff_record_id == record.id,
            IssuedCredential.delivery == WAITING,
            col(IssuedCredential.revoked_at).is_(None),
            col(IssuedCredential.superseded_by).is_(None),
        )
    ).all()
    key_pair = signer_for(session, key_store, organisation, None)
    with CredentialSigner(key_pair) as signer:
        sign_credentials([(issued, holder_did) for issued in waiting], signer, at=at)
    session.add_all(waiting)
    events = [
        Event(
            "claim.redeemed",
            actor,
            organisation.slug,
            f"staff_record:{record.id}",
            {"claim_code": claim.id, "wallet": wallet_id, "offered": len(waiting)},
        )
    ]
    events.extend(issuance_event(issued, organisation, actor) for issued in waiting)
    record_events(session, events, at=at)
    logger.info(
        "claim redeemed org=%s staff_record=%s offered=%d",
        organisation.slug,
        record.id,
        len(waiting),
    )
    return ClaimResult(
        wallet_id, holder_did, organisation.slug, [i.id for i in waiting]
    )


def _why_invalid(session: Session, code_hash: str, at: datetime) -> str:
    claim = session.exec(
        select(ClaimCode).where(ClaimCode.code_hash == code_hash)
    ).first()
    if claim is None:
        return (
            "This claim code is not known; check it letter by letter, or ask "
            "your employer for a new one."
        )
    if claim.used_at is not None:
        return (
            f"This claim code was already used on {claim.used_at.date().isoformat()}; "
            "a code works once. Ask your employer for a new one if that was not you."
        )
    return (
        f"This claim code expired on {claim.expires_at.date().isoformat()}; ask "
        "your employer for a new one."
    )


def pending_offers(session: Session, wallet_id: int) -> list[IssuedCredential]:
    """Return the credentials offered to a wallet and not yet accepted or declined."""
    return list(
        session.exec(
            select(IssuedCredential)
            .join(
                StaffRecord,
                col(StaffRecord.id) == col(IssuedCredential.staff_record_id),
            )
            .where(
                StaffRecord.wallet_id == wallet_id,
                IssuedCredential.delivery == OFFERED,
                col(IssuedCredential.holder_did) == col(StaffRecord.holder_did),
            )
            .order_by(col(IssuedCredential.completed_on))
        )
    )


def _offer(session: Session, wallet_id: int, credential_id: str) -> IssuedCredential:
    for offered in pending_offers(session, wallet_id):
        if offered.id == credential_id:
            return offered
    raise CredentialNotFound(
        f"No credential {credential_id!r} is waiting in this wallet; it may have "
        "been accepted or declined already."
    )


def accept_offer(
    session: Session, wallet_id: int, credential_id: str, *, actor: str
) -> IssuedCredential:
    """Put an offered credential into the wallet (the caller commits).

    :raises CredentialNotFound: if the wallet has no such pending offer.
    """
    offered = _offer(session, wallet_id, credential_id)
    receive_credential(session, wallet_id, offered.document)
    offered.delivery = ACCEPTED
    session.add(offered)
    _record_delivery(session, offered, "credential.accepted", actor, wallet_id)
    return offered


def decline_offer(
    session: Session, wallet_id: int, credential_id: str, *, actor: str
) -> IssuedCredential:
    """Turn down an offered credential; it stays out of the wallet.

    :raises CredentialNotFound: if the wallet has no such pending offer.
    """
    offered = _offer(session, wallet_id, credential_id)
    offered.delivery = DECLINED
    session.add(offered)
    _record_delivery(session, offered, "credential.declined", actor, wallet_id)
    return offered


def _record_delivery(
    session: Session, issued: IssuedCredential, action: str, actor: str, wallet_id: int
) -> None:
    organisation = session.get(Organisation, issued.organisation_id)
    record_event(
        session,
        action,
        actor=actor,
        organisation=organisation.slug if organisation else None,
        target=issued.id,
        details={"wallet": wallet_id},
    )


def credential_states(session: Session, credential_ids: list[str]) -> dict[str, str]:
    """Return the issuer's state of each credential, for a wallet to show.

    The state is ``revoked``, ``suspended``, ``superseded`` (a newer
    completion of the subject was issued; the credential is still valid) or
    ``active``. Credentials this platform did not issue are left out.
    """
    if not credential_ids:
        return {}
    rows = session.exec(
        select(IssuedCredential).where(col(IssuedCredential.id).in_(credential_ids))
    ).all()
    states = {}
    for row in rows:
        if row.revoked_at is not None:
            states[row.id] = "revoked"
        elif row.suspended_at is not None:
            states[row.id] = "suspended"
        elif row.superseded_by is not None:
            states[row.id] = "superseded"
        else:
            states[row.id] = "active"
    return states
