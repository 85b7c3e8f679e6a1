"""Bearer tokens that let another system use the VC-API as one organisation.

A token is ``sp_`` followed by 43 URL-safe characters (256 random bits). It
is shown once when created. The database keeps only its SHA-256, which is
enough for a value with that much entropy, so a copy of the database yields
no usable token.
"""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import update
from sqlmodel import Session, col, select

from audit.log import record_event
from issuer.errors import IssuerError
from issuer.models import ApiToken, Organisation

TOKEN_PREFIX = "sp_"


@dataclass(frozen=True)
class NewApiToken:
    """A token just created: the only time its value is known."""

    id: int
    name: str
    token: str


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_api_token(
    session: Session, organisation: Organisation, name: str, *, actor: str
) -> NewApiToken:
    """Create a token for ``organisation`` (the caller commits).

    :raises IssuerError: if ``name`` is blank.
    """
    name = " ".join(name.split())
    if not name:
        raise IssuerError(
            "A token needs a name saying which system uses it, such as 'LMS'."
        )
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    assert organisation.id is not None
    row = ApiToken(
        organisation_id=organisation.id,
        name=name[:100],
        token_hash=_hash(token),
        created_by=actor,
    )
    session.add(row)
    session.flush()
    assert row.id is not None
    record_event(
        session,
        "api_token.created",
        actor=actor,
        organisation=organisation.slug,
        target=f"api_token:{row.id}",
        details={"name": row.name},
    )
    return NewApiToken(row.id, row.name, token)


def authenticate(session: Session, token: str) -> ApiToken | None:
    """Return the live token row for a presented token, or None.

    Marks the token as used now.
    """
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    row = session.exec(
        select(ApiToken).where(
            ApiToken.token_hash == _hash(token),
            col(ApiToken.revoked_at).is_(None),
        )
    ).first()
    if row is not None:
        session.execute(
            update(ApiToken)
            .where(col(ApiToken.id) == row.id)
            .values(last_used_at=datetime.now(UTC))
        )
    return row


def list_api_tokens(session: Session, organisation: Organisation) -> list[ApiToken]:
    """Return the organisation's tokens, newest first (never their values)."""
    return list(
        session.exec(
            select(ApiToken)
            .where(ApiToken.organisation_id == organisation.id)
            .order_by(col(ApiToken.id).desc())
        )
    )


def revoke_api_token(
    session: Session, organisation: Organisation, token_id: int, *, actor: str
) -> ApiToken:
    """Stop a token from working (the caller commits).

    :raises IssuerError: if the organisation has no such token.
    """
    row = session.get(ApiToken, token_id)
    if row is None or row.organisation_id != organisation.id:
        raise IssuerError(f"{organisation.slug!r} has no API token {token_id}.")
    if row.revoked_at is None:
        row.revoked_at = datetime.now(UTC)
        session.add(row)
        record_event(
            session,
            "api_token.revoked",
            actor=actor,
            organisation=organisation.slug,
            target=f"api_token:{row.id}",
            details={"name": row.name},
        )
    return row
