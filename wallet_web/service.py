"""The wallet's service API: receiving and listing credentials.

Nothing here knows Flask. Credentials are stored as the exact JSON text that
was signed, so what the wallet shows, exports and puts in a QR code is byte
for byte what the issuer signed.
"""

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlmodel import Session, select

from credentials.datetimes import parse_date_time_stamp
from credentials.errors import InvalidDateTime
from wallet_web.models import WalletCredential

logger = logging.getLogger(__name__)


def receive_credential(
    session: Session, wallet_id: int, document: str
) -> WalletCredential:
    """Store a signed credential in a wallet, once.

    Receiving a credential the wallet already holds returns the stored row
    and changes nothing. The caller commits.

    :param document: the credential's JSON text exactly as signed.
    :raises ValueError: if the text is not a JSON object with a string ``id``.
    """
    parsed = json.loads(document)
    credential_id = parsed.get("id") if isinstance(parsed, dict) else None
    if not isinstance(credential_id, str):
        raise ValueError(
            f"Credential id {credential_id!r} is not a string; only credentials "
            "with an id can be received into a wallet."
        )
    existing = session.exec(
        select(WalletCredential).where(
            WalletCredential.wallet_id == wallet_id,
            WalletCredential.credential_id == credential_id,
        )
    ).first()
    if existing is not None:
        return existing
    row = WalletCredential(
        wallet_id=wallet_id, credential_id=credential_id, document=document
    )
    session.add(row)
    logger.debug("wallet %s received credential %s", wallet_id, credential_id)
    return row


def wallet_credentials(session: Session, wallet_id: int) -> list[WalletCredential]:
    """Return the credentials a wallet holds, oldest first."""
    statement = (
        select(WalletCredential)
        .where(WalletCredential.wallet_id == wallet_id)
        .order_by(WalletCredential.id)  # type: ignore[arg-type]
    )
    return list(session.exec(statement))


def parsed_document(row: WalletCredential) -> dict[str, Any]:
    """Return a stored credential as parsed JSON."""
    document: dict[str, Any] = json.loads(row.document)
    return document


# --- Reading credentials for the wallet pages ---------------------------------

#: A credential whose validUntil is this close shows as expiring, so its
#: holder has time to book the refresher.
EXPIRING_WITHIN = timedelta(days=60)


class CredentialStatus(StrEnum):
    """The badge status of a credential: its validity period, or its
    issuer's revocation or suspension, which takes precedence."""

    VALID = "valid"
    EXPIRING = "expiring"
    EXPIRED = "expired"
    NOT_YET_VALID = "not-yet-valid"
    REVOKED = "revoked"
    SUSPENDED = "suspended"

    @property
    def label(self) -> str:
        """The badge text."""
        return _STATUS_LABELS[self]


_STATUS_LABELS = {
    CredentialStatus.VALID: "Valid",
    CredentialStatus.EXPIRING: "Expiring soon",
    CredentialStatus.EXPIRED: "Expired",
    CredentialStatus.NOT_YET_VALID: "Not valid yet",
    CredentialStatus.REVOKED: "Revoked by the issuer",
    CredentialStatus.SUSPENDED: "Suspended by the issuer",
}


class CredentialNotFound(LookupError):
    """The wallet holds no credential with the requested public id."""


@dataclass(frozen=True)
class CredentialSummary:
    """What the wallet pages show about one credential.

    Dates are the texts as signed; ``expiry`` and ``days_left`` are parsed
    from ``valid_until`` only to compare and to word the badge.
    """

    public_id: str
    credential_id: str
    title: str
    subject_code: str
    level: str
    achievement_type: str
    description: str
    issuer_name: str
    issuer_id: str
    holder_name: str
    completion_date: str
    valid_from: str
    valid_until: str
    expiry: datetime | None
    days_left: int | None
    status: CredentialStatus


def credential_status(
    valid_from: datetime | None, valid_until: datetime | None, now: datetime
) -> CredentialStatus:
    """Return the badge status of a validity period at ``now``."""
    if valid_from is not None and now < valid_from:
        return CredentialStatus.NOT_YET_VALID
    if valid_until is None:
        return CredentialStatus.VALID
    if valid_until <= now:
        return CredentialStatus.EXPIRED
    if valid_until - now <= EXPIRING_WITHIN:
        return CredentialStatus.EXPIRING
    return CredentialStatus.VALID


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _instant(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return parse_date_time_stamp(value)
    except InvalidDateTime:
        return None


IssuerNames = Callable[[str], str | None]


def _no_names(issuer_id: str) -> None:
    return None


def summarise_credential(
    row: WalletCredential, now: datetime, issuer_names: IssuerNames = _no_names
) -> CredentialSummary:
    """Return the wallet's view of a stored credential at ``now``.

    :param issuer_names: returns an issuer's display name for its DID, or
        None. Training credentials name their issuer by DID only, so the
        name comes from the partnership's records; the credential's own
        ``issuer.name`` is used when it has one, and the DID otherwise.
    """
    document = parsed_document(row)
    issuer = document.get("issuer")
    issuer_id = _text(issuer.get("id")) if isinstance(issuer, dict) else _text(issuer)
    issuer_name = _text(issuer.get("name")) if isinstance(issuer, dict) else ""
    issuer_name = issuer_names(issuer_id) or issuer_name
    subject = document.get("credentialSubject")
    subject = subject if isinstance(subject, dict) else {}
    achievement = subject.get("achievement")
    achievement = achievement if isinstance(achievement, dict) else {}
    valid_from = _instant(document.get("validFrom"))
    valid_until = _instant(document.get("validUntil"))
    days_left = None
    if valid_until is not None:
        days_left = (valid_until - now).days
    return CredentialSummary(
        public_id=row.public_id,
        credential_id=row.credential_id,
        title=_text(achievement.get("name")) or _text(document.get("name")),
        subject_code=_text(subject.get("subjectCode")),
        level=_text(subject.get("level")),
        achievement_type=_text(achievement.get("achievementType")),
        description=_text(achievement.get("description")),
        issuer_name=issuer_name or issuer_id,
        issuer_id=issuer_id,
        holder_name=_text(subject.get("name")),
        completion_date=_text(subject.get("completionDate")),
        valid_from=_text(document.get("validFrom")),
        valid_until=_text(document.get("validUntil")),
        expiry=valid_until,
        days_left=days_left,
        status=credential_status(valid_from, valid_until, now),
    )


def list_wallet_credentials(
    session: Session,
    wallet_id: int,
    now: datetime,
    issuer_names: IssuerNames = _no_names,
) -> list[CredentialSummary]:
    """Return a wallet's credentials by subject title, then newest completion."""
    summaries = [
        summarise_credential(row, now, issuer_names)
        for row in wallet_credentials(session, wallet_id)
    ]
    summaries.sort(key=lambda s: s.completion_date, reverse=True)
    summaries.sort(key=lambda s: s.title.casefold())
    return summaries


def find_wallet_credential(
    session: Session, wallet_id: int, public_id: str
) -> WalletCredential:
    """Return the wallet's credential with ``public_id``.

    :raises CredentialNotFound: if this wallet holds no such credential,
        including when another wallet does.
    """
    row = session.exec(
        select(WalletCredential).where(
            WalletCredential.wallet_id == wallet_id,
            WalletCredential.public_id == public_id,
        )
    ).first()
    if row is None:
        raise CredentialNotFound(
            f"This wallet holds no credential with id {public_id!r}."
        )
    return row


def with_issuer_states(
    summaries: list[CredentialSummary], states: dict[str, str]
) -> list[CredentialSummary]:
    """Return ``summaries`` with each credential its issuer revoked or
    suspended marked so, whatever its validity period.

    :param states: the issuer's state per credential id, as
        :func:`issuer.service.credential_states` returns them.
    """
    marked = {
        "revoked": CredentialStatus.REVOKED,
        "suspended": CredentialStatus.SUSPENDED,
    }
    return [
        replace(summary, status=marked[states[summary.credential_id]])
        if states.get(summary.credential_id) in marked
        else summary
        for summary in summaries
    ]
