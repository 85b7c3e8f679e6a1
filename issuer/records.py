"""Finding issued credentials for the issuer's admin pages."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from issuer.models import IssuedCredential, Organisation, StaffRecord
from issuer.status_lists import credential_status_label

STATUS_FILTERS = ("", "active", "revoked", "suspended", "superseded")
PAGE_SIZE = 50


@dataclass(frozen=True)
class CredentialRow:
    """One issued credential as the admin pages list it."""

    id: str
    staff_name: str
    subject_code: str
    completed_on: str
    valid_until: str
    delivery: str
    status: str
    superseded: bool
    issued_at: datetime


def search_credentials(
    session: Session,
    organisation: Organisation,
    *,
    query: str = "",
    status: str = "",
    offset: int = 0,
    limit: int = PAGE_SIZE,
) -> list[CredentialRow]:
    """Return the organisation's credentials matching ``query``, newest first.

    ``query`` matches a credential id exactly, a subject code exactly, or
    part of the staff member's name (any letter case).

    :param status: one of :data:`STATUS_FILTERS`; empty means any.
    """
    statement = (
        select(IssuedCredential, StaffRecord.display_name)
        .join(
            StaffRecord,
            col(StaffRecord.id) == col(IssuedCredential.staff_record_id),
            isouter=True,
        )
        .where(IssuedCredential.organisation_id == organisation.id)
    )
    query = " ".join(query.split())
    if query:
        statement = statement.where(
            or_(
                col(IssuedCredential.id) == query,
                func.upper(col(IssuedCredential.subject_code)) == query.upper(),
                func.lower(col(StaffRecord.display_name)).contains(query.lower()),
            )
        )
    if status == "revoked":
        statement = statement.where(col(IssuedCredential.revoked_at).is_not(None))
    elif status == "suspended":
        statement = statement.where(
            col(IssuedCredential.revoked_at).is_(None),
            col(IssuedCredential.suspended_at).is_not(None),
        )
    elif status == "superseded":
        statement = statement.where(col(IssuedCredential.superseded_by).is_not(None))
    elif status == "active":
        statement = statement.where(
            col(IssuedCredential.revoked_at).is_(None),
            col(IssuedCredential.suspended_at).is_(None),
            col(IssuedCredential.superseded_by).is_(None),
        )
    statement = (
        statement.order_by(
            col(IssuedCredential.issued_at).desc(), col(IssuedCredential.id)
        )
        .offset(offset)
        .limit(limit)
    )
    return [
        CredentialRow(
            id=credential.id,
            staff_name=staff_name or "(issued through the VC-API)",
            subject_code=credential.subject_code or "",
            completed_on=credential.completed_on or "",
            valid_until=credential.valid_until,
            delivery=credential.delivery,
            status=credential_status_label(credential),
            superseded=credential.superseded_by is not None,
            issued_at=credential.issued_at,
        )
        for credential, staff_name in session.exec(statement)
    ]
