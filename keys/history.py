"""Rotation history: every verification method a controller has used.

A controller (an organisation's DID) signs with exactly one current method.
Rotation retires it: a retired method stays in the DID document under
``assertionMethod``, so credentials it signed keep verifying, but nothing
new is signed with it. A method marked compromised from an instant is
published with ``revoked`` set to that instant, and proofs it made from then
on fail verification.
"""

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import Field, Session, SQLModel, col, select

from keys.did_web import (
    ASSERTION_METHOD,
    AUTHENTICATION,
    CAPABILITY_INVOCATION,
    PublishedMethod,
    build_did_document,
)
from keys.errors import KeyNotFound

CURRENT_RELATIONSHIPS = (ASSERTION_METHOD, AUTHENTICATION, CAPABILITY_INVOCATION)
RETIRED_RELATIONSHIPS = (ASSERTION_METHOD,)


class VerificationMethodRecord(SQLModel, table=True):
    """One key's life under one controller: when it signed, and since when
    it is retired or compromised."""

    __tablename__ = "verification_method"

    id: str = Field(primary_key=True, description="verification method id")
    controller: str = Field(index=True)
    public_key_multibase: str = Field(index=True)
    activated_at: datetime
    retired_at: datetime | None = None
    compromised_at: datetime | None = None
    compromise_reason: str | None = Field(default=None, max_length=500)

    @property
    def is_current(self) -> bool:
        """Whether this method signs new documents for its controller."""
        return self.retired_at is None


def add_method(
    session: Session,
    *,
    method_id: str,
    controller: str,
    public_key_multibase: str,
    activated_at: datetime | None = None,
) -> VerificationMethodRecord:
    """Record a new current method for ``controller`` (the caller commits).

    The caller retires the previous current method first, with
    :func:`retire_method`.
    """
    record = VerificationMethodRecord(
        id=method_id,
        controller=controller,
        public_key_multibase=public_key_multibase,
        activated_at=activated_at or datetime.now(UTC),
    )
    session.add(record)
    session.flush()
    return record


def methods_of(session: Session, controller: str) -> list[VerificationMethodRecord]:
    """Return every method of ``controller``, oldest first."""
    statement = (
        select(VerificationMethodRecord)
        .where(VerificationMethodRecord.controller == controller)
        .order_by(
            col(VerificationMethodRecord.activated_at), col(VerificationMethodRecord.id)
        )
    )
    return list(session.exec(statement))


def current_method(session: Session, controller: str) -> VerificationMethodRecord:
    """Return the method that signs for ``controller`` now.

    :raises KeyNotFound: if the controller has no current method.
    """
    statement = select(VerificationMethodRecord).where(
        VerificationMethodRecord.controller == controller,
        col(VerificationMethodRecord.retired_at).is_(None),
    )
    record = session.exec(statement).first()
    if record is None:
        raise KeyNotFound(
            f"{controller!r} has no current verification method; rotate its key "
            "to create one."
        )
    return record


def retire_method(session: Session, method_id: str, at: datetime) -> None:
    """Stop signing with ``method_id`` from ``at`` on; its old proofs stay valid."""
    record = session.get(VerificationMethodRecord, method_id)
    if record is None:
        raise KeyNotFound(f"No verification method has id {method_id!r}.")
    record.retired_at = at
    session.add(record)


def mark_compromised(
    session: Session, public_key_multibase: str, since: datetime, reason: str
) -> list[VerificationMethodRecord]:
    """Mark every method using this public key compromised from ``since`` on.

    A key may serve under several DIDs (an organisation's did:web and its
    did:key), so every record of the key is marked. An earlier compromise
    instant already recorded is kept, because proofs made after it are
    untrustworthy whatever is learnt later.

    :returns: the records marked.
    :raises KeyNotFound: if no method uses the key.
    """
    records = list(
        session.exec(
            select(VerificationMethodRecord).where(
                VerificationMethodRecord.public_key_multibase == public_key_multibase
            )
        )
    )
    if not records:
        raise KeyNotFound(f"No verification method uses key {public_key_multibase!r}.")
    for record in records:
        if record.compromised_at is None or since < record.compromised_at:
            record.compromised_at = since
            record.compromise_reason = reason
        session.add(record)
    return records


def did_key_method_history(session: Session) -> dict[str, dict[str, str]]:
    """Return the history of every did:key method that has one, by method id.

    A did:key stays the name of one key for good, so only a compromise is
    recorded for it.
    """
    statement = select(VerificationMethodRecord).where(
        col(VerificationMethodRecord.controller).startswith("did:key:"),
        col(VerificationMethodRecord.compromised_at).is_not(None),
    )
    return {
        method.id: {"compromised": method.compromised}
        for method in published_methods(session.exec(statement))
        if method.compromised is not None
    }


def published_methods(
    records: Iterable[VerificationMethodRecord],
) -> list[PublishedMethod]:
    """Return the records as a DID document lists them.

    The current method serves every relationship; retired ones stay under
    ``assertionMethod`` only, so credentials they signed keep verifying.
    Each method carries its history: ``created``, ``revoked`` (retired) and
    ``compromised``.
    """
    methods = []
    for record in records:
        retired = record.retired_at
        relationships = (
            CURRENT_RELATIONSHIPS if record.is_current else RETIRED_RELATIONSHIPS
        )
        methods.append(
            PublishedMethod(
                id=record.id,
                public_key_multibase=record.public_key_multibase,
                relationships=relationships,
                created=_timestamp(record.activated_at, round_up=False),
                # A key retired part way through a second still signed the
                # proofs stamped with that second, so retirement rounds up.
                revoked=_timestamp(retired, round_up=True) if retired else None,
                # A compromise rounds down: a proof stamped with that second
                # may already be forged.
                compromised=_timestamp(record.compromised_at, round_up=False)
                if record.compromised_at
                else None,
            )
        )
    return methods


def _timestamp(moment: datetime, *, round_up: bool) -> str:
    """Return ``moment`` as whole UTC seconds, like a proof's ``created``."""
    moment = moment.astimezone(UTC)
    if round_up and moment.microsecond:
        moment += timedelta(seconds=1)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def did_document_for(session: Session, did: str) -> dict[str, Any]:
    """Return the DID document of ``did`` built from its rotation history.

    :raises KeyNotFound: if ``did`` has no recorded methods.
    """
    records = methods_of(session, did)
    if not records:
        raise KeyNotFound(f"No verification methods are recorded for {did!r}.")
    return build_did_document(did, published_methods(records))
