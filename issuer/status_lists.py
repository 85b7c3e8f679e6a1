"""Revocation and suspension through Bitstring Status Lists.

Each organisation has status lists per purpose (``revocation``,
``suspension``), numbered from 1 and served at
``/orgs/SLUG/status/PURPOSE/N``. Every credential gets an index in one list
of each purpose, drawn from the list's random permutation, so an index
reveals nothing about when or to whom a credential was issued. A full list
starts the next one.

Revoking, suspending or reinstating sets or clears a bit, signs the list
credential again and records the change, with its reason, in the audit log.
Revocation is permanent, as the specification defines it; suspension can be
lifted.
"""

import hashlib
import json
import logging
import secrets
import struct
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from audit.log import record_event
from credentials.datetimes import format_date_time_stamp
from credentials.proofs import add_proof
from credentials.status_list import (
    MIN_ENTRIES,
    PURPOSES,
    REVOCATION,
    SUSPENSION,
    Bitstring,
    MutableBitstring,
    build_list_credential,
    build_status_entry,
)
from issuer.errors import CredentialNotFound, IssuerError, StatusChangeRejected
from issuer.models import (
    IssuedCredential,
    Organisation,
    StatusEntry,
    StatusList,
    StatusListPermutation,
)
from issuer.signing import signer_for
from keys.store import KeyStore

logger = logging.getLogger(__name__)

REVOKE = "revoke"
SUSPEND = "suspend"
REINSTATE = "reinstate"
ACTIONS = (REVOKE, SUSPEND, REINSTATE)

MAX_REASON_LENGTH = 500
"""The maximum length of a status change reason in characters, which is the
width of the credential's reason columns."""

CACHE_SECONDS = 300
"""How long verifiers may cache a status list: the ``ttl`` in the list and
the ``max-age`` it is served with."""

_INDEX_BYTES = 4


@dataclass(frozen=True)
class StatusChange:
    """A status change that was applied."""

    credential_id: str
    action: str
    purpose: str
    list_url: str
    index: int


def status_list_url(base_url: str, slug: str, purpose: str, sequence: int) -> str:
    """Return the stable URL of an organisation's status list."""
    return f"{base_url.rstrip('/')}/orgs/{slug}/status/{purpose}/{sequence}"


def ensure_status_lists(
    session: Session,
    key_store: KeyStore,
    organisation: Organisation,
    base_url: str,
    *,
    length: int = MIN_ENTRIES,
) -> list[StatusList]:
    """Create the organisation's first list of each purpose where missing.

    :returns: the lists created.
    """
    created = []
    for purpose in PURPOSES:
        exists = session.exec(
            select(StatusList.id).where(
                StatusList.organisation_id == organisation.id,
                StatusList.purpose == purpose,
            )
        ).first()
        if exists is None:
            url = status_list_url(base_url, organisation.slug, purpose, 1)
            created.append(
                create_status_list(
                    session, key_store, organisation, purpose, 1, url, length=length
                )
            )
    return created


def create_status_list(
    session: Session,
    key_store: KeyStore,
    organisation: Organisation,
    purpose: str,
    sequence: int,
    url: str,
    *,
    length: int = MIN_ENTRIES,
) -> StatusList:
    """Create an empty, signed status list with a fresh random permutation."""
    assert organisation.id is not None
    if purpose not in PURPOSES:
        raise IssuerError(
            f"Status purpose {purpose!r} is not supported; use one of "
            f"{', '.join(PURPOSES)}."
        )
    order = _random_order(length)
    status_list = StatusList(
        organisation_id=organisation.id,
        purpose=purpose,
        sequence=sequence,
        url=url,
        length=length,
        bits=MutableBitstring(length).freeze().data,
    )
    session.add(status_list)
    session.flush()
    assert status_list.id is not None
    session.add(
        StatusListPermutation(
            status_list_id=status_list.id,
            indexes=struct.pack(f">{length}I", *order),
        )
    )
    publish_status_list(session, key_store, organisation, status_list)
    logger.info("status list created org=%s url=%s", organisation.slug, url)
    return status_list


def _random_order(length: int) -> list[int]:
    # Sorting by independent random 64-bit keys gives a uniformly random
    # permutation (ties, which would bias it, have a chance near
    # length**2 / 2**65) and is several times faster than shuffling with
    # one system call per swap.
    keys = struct.unpack(f">{length}Q", secrets.token_bytes(8 * length))
    return sorted(range(length), key=keys.__getitem__)


def allocate_status_entries(
    session: Session,
    key_store: KeyStore,
    organisation: Organisation,
    credential_id: str,
    purposes: tuple[str, ...] = PURPOSES,
) -> list[dict[str, Any]]:
    """Give a credential an index in a list of each purpose.

    :returns: the ``credentialStatus`` entries to put in the credential.
    """
    return reserve_status_entries(
        session, key_store, organisation, [credential_id], purposes
    )[credential_id]


def reserve_status_entries(
    session: Session,
    key_store: KeyStore,
    organisation: Organisation,
    credential_ids: list[str],
    purposes: tuple[str, ...] = PURPOSES,
) -> dict[str, list[dict[str, Any]]]:
    """Give each credential an index in a list of each purpose, in one go.

    A batch of credentials takes a run of consecutive positions of a list's
    permutation with one update, which lets a bulk import allocate cheaply.
    The indexes at those positions are still random.

    :returns: the ``credentialStatus`` entries of each credential, by id.
    """
    entries: dict[str, list[dict[str, Any]]] = {key: [] for key in credential_ids}
    for purpose in purposes:
        taken = _take_indexes(
            session, key_store, organisation, purpose, len(credential_ids)
        )
        for credential_id, (list_id, url, index) in zip(
            credential_ids, taken, strict=True
        ):
            session.add(
                StatusEntry(
                    status_list_id=list_id,
                    list_index=index,
                    purpose=purpose,
                    credential_id=credential_id,
                )
            )
            entries[credential_id].append(build_status_entry(url, purpose, index))
    return entries


@dataclass(frozen=True)
class _ListRef:
    id: int
    url: str
    free: int


def _take_indexes(
    session: Session,
    key_store: KeyStore,
    organisation: Organisation,
    purpose: str,
    count: int,
) -> list[tuple[int, str, int]]:
    """Take the next ``count`` positions of the open lists and return their indexes."""
    taken: list[tuple[int, str, int]] = []
    while len(taken) < count:
        open_list = _open_list(session, organisation, purpose)
        if open_list is None:
            _start_next_list(session, key_store, organisation, purpose)
            continue
        wanted = min(count - len(taken), open_list.free)
        # Incrementing under the condition takes the row's lock, so two
        # processes never receive the same positions. If another process
        # filled the list meanwhile, the loop looks again.
        allocated = session.execute(
            update(StatusList)
            .where(
                col(StatusList.id) == open_list.id,
                col(StatusList.allocated) + wanted <= col(StatusList.length),
            )
            .values(allocated=StatusList.allocated + wanted)
            .returning(col(StatusList.allocated))
        ).scalar()
        if allocated is None:
            continue
        first = allocated - wanted
        packed = session.execute(
            select(
                func.substr(
                    col(StatusListPermutation.indexes),
                    first * _INDEX_BYTES + 1,
                    wanted * _INDEX_BYTES,
                )
            ).where(col(StatusListPermutation.status_list_id) == open_list.id)
        ).scalar_one()
        indexes = struct.unpack(f">{wanted}I", bytes(packed))
        taken.extend((open_list.id, open_list.url, index) for index in indexes)
    return taken


def _open_list(
    session: Session, organisation: Organisation, purpose: str
) -> _ListRef | None:
    found = session.execute(
        select(
            StatusList.id,
            StatusList.url,
            col(StatusList.length) - col(StatusList.allocated),
        )
        .where(
            StatusList.organisation_id == organisation.id,
            StatusList.purpose == purpose,
            col(StatusList.allocated) < col(StatusList.length),
        )
        .order_by(col(StatusList.sequence))
        .limit(1)
    ).first()
    return None if found is None else _ListRef(found[0], found[1], found[2])


def _start_next_list(
    session: Session, key_store: KeyStore, organisation: Organisation, purpose: str
) -> _ListRef:
    already_open = _open_list(session, organisation, purpose)
    if already_open is not None:
        # Another process started the next list since this one looked.
        return already_open
    last = session.exec(
        select(StatusList)
        .where(
            StatusList.organisation_id == organisation.id,
            StatusList.purpose == purpose,
        )
        .order_by(col(StatusList.sequence).desc())
        .limit(1)
    ).first()
    if last is None:
        raise IssuerError(
            f"Organisation {organisation.slug!r} has no {purpose} status list; run "
            "'passport init' to create its lists."
        )
    sequence = last.sequence + 1
    url = last.url.rsplit("/", 1)[0] + f"/{sequence}"
    savepoint = session.begin_nested()
    try:
        created = create_status_list(
            session, key_store, organisation, purpose, sequence, url, length=last.length
        )
        savepoint.commit()
    except IntegrityError:
        # Another process started the same list first; use theirs.
        savepoint.rollback()
        found = _open_list(session, organisation, purpose)
        if found is None:
            raise
        return found
    logger.info(
        "status list full org=%s purpose=%s next=%s", organisation.slug, purpose, url
    )
    assert created.id is not None
    return _ListRef(created.id, created.url, created.length)


def publish_status_list(
    session: Session,
    key_store: KeyStore,
    organisation: Organisation,
    status_list: StatusList,
    *,
    at: datetime | None = None,
) -> None:
    """Sign the list's current bits as its status list credential.

    NOTE: the credential carries no ``validUntil``, so a verifier handed an
    old copy cannot tell that it is stale; re-signing every list on a
    schedule with a short validity period would close that gap.
    """
    at = (at or datetime.now(UTC)).replace(microsecond=0)
    signer = signer_for(session, key_store, organisation, None)
    unsigned = build_list_credential(
        list_url=status_list.url,
        issuer=organisation.did,
        purpose=status_list.purpose,
        bitstring=Bitstring(status_list.bits),
        valid_from=format_date_time_stamp(at),
        ttl_ms=CACHE_SECONDS * 1000,
    )
    signed = add_proof(unsigned, signer=signer, created=at)
    document = json.dumps(signed, ensure_ascii=False, separators=(",", ":"))
    status_list.document = document
    status_list.etag = hashlib.sha256(document.encode("utf-8")).hexdigest()[:32]
    status_list.signed_at = at
    status_list.verification_method_id = signer.verification_method_id
    session.add(status_list)
    session.flush()


def republish_lists_signed_by(
    session: Session,
    key_store: KeyStore,
    organisation: Organisation,
    method_ids: list[str],
) -> int:
    """Sign again every list of the organisation last signed by ``method_ids``.

    :returns: the number of lists signed again.
    """
    lists = session.exec(
        select(StatusList).where(
            StatusList.organisation_id == organisation.id,
            col(StatusList.verification_method_id).in_(method_ids),
        )
    ).all()
    for status_list in lists:
        publish_status_list(session, key_store, organisation, status_list)
    return len(lists)


def change_status(
    session: Session,
    key_store: KeyStore,
    organisation: Organisation,
    credential_id: str,
    action: str,
    *,
    reason: str,
    actor: str,
    at: datetime | None = None,
) -> StatusChange:
    """Revoke, suspend or reinstate a credential of ``organisation``.

    The bit is changed, the list credential signed again and the change
    audited, all in the caller's transaction.

    :param action: ``revoke``, ``suspend`` or ``reinstate``.
    :raises CredentialNotFound: if the organisation issued no such credential.
    :raises StatusChangeRejected: if the change does not apply (a revoked
        credential cannot be suspended or reinstated, nor revoked twice), or
        if the reason is longer than :data:`MAX_REASON_LENGTH`.
    :raises IssuerError: for an unknown action or a blank reason.
    """
    if action not in ACTIONS:
        raise IssuerError(
            f"Status action {action!r} is not supported; use one of "
            f"{', '.join(ACTIONS)}."
        )
    if not reason or not reason.strip():
        raise IssuerError(f"A reason is required to {action} a credential.")
    reason = " ".join(reason.split())
    if len(reason) > MAX_REASON_LENGTH:
        raise StatusChangeRejected(
            f"The reason is {len(reason)} characters long; give at most "
            f"{MAX_REASON_LENGTH} characters."
        )
    at = at or datetime.now(UTC)
    credential = find_issued_credential(session, organisation, credential_id)
    _check_transition(credential, action)

    purpose = REVOCATION if action == REVOKE else SUSPENSION
    entry = session.exec(
        select(StatusEntry).where(
            StatusEntry.credential_id == credential.id,
            StatusEntry.purpose == purpose,
        )
    ).first()
    if entry is None:
        raise StatusChangeRejected(
            f"Credential {credential.id!r} has no {purpose} status entry, so it "
            f"cannot be {_past(action)}."
        )
    status_list = _locked_list(session, entry.status_list_id)
    bits = MutableBitstring.from_bitstring(Bitstring(status_list.bits))
    bits.set(entry.list_index, 0 if action == REINSTATE else 1)
    status_list.bits = bits.freeze().data
    publish_status_list(session, key_store, organisation, status_list, at=at)

    if action == REVOKE:
        credential.revoked_at, credential.revocation_reason = at, reason
    elif action == SUSPEND:
        credential.suspended_at, credential.suspension_reason = at, reason
    else:
        credential.suspended_at, credential.suspension_reason = None, None
    session.add(credential)
    record_event(
        session,
        f"credential.{_past(action)}",
        actor=actor,
        organisation=organisation.slug,
        target=credential.id,
        details={
            "reason": reason,
            "purpose": purpose,
            "status_list": status_list.url,
            "index": entry.list_index,
        },
        at=at,
    )
    logger.info(
        "credential %s org=%s credential=%s",
        _past(action),
        organisation.slug,
        credential.id,
    )
    return StatusChange(
        credential.id, action, purpose, status_list.url, entry.list_index
    )


def find_issued_credential(
    session: Session, organisation: Organisation, credential_id: str
) -> IssuedCredential:
    """Return a credential the organisation issued.

    :raises CredentialNotFound: naming the id and the organisation.
    """
    credential = session.get(IssuedCredential, credential_id)
    if credential is None or credential.organisation_id != organisation.id:
        raise CredentialNotFound(
            f"{organisation.slug!r} has issued no credential with id "
            f"{credential_id!r}; check the id, which starts with urn:uuid:."
        )
    return credential


def credential_status_label(credential: IssuedCredential) -> str:
    """Return ``revoked``, ``suspended`` or ``active``."""
    if credential.revoked_at is not None:
        return "revoked"
    if credential.suspended_at is not None:
        return "suspended"
    return "active"


def status_list_document(
    session: Session, slug: str, purpose: str, sequence: int
) -> StatusList | None:
    """Return the list served at ``/orgs/SLUG/status/PURPOSE/SEQUENCE``, or None."""
    return session.exec(
        select(StatusList)
        .join(Organisation, col(Organisation.id) == col(StatusList.organisation_id))
        .where(
            Organisation.slug == slug,
            StatusList.purpose == purpose,
            StatusList.sequence == sequence,
        )
    ).first()


def status_list_by_url(session: Session, url: str) -> StatusList | None:
    """Return the platform's status list published at ``url``, or None."""
    return session.exec(select(StatusList).where(StatusList.url == url)).first()


def status_list_record(
    session: Session, url: str
) -> tuple[str, str, bytes, datetime] | None:
    """Return the issuer DID, purpose, bits and signing instant of a list.

    :returns: None if the platform publishes no signed list at ``url``.
    """
    found = session.execute(
        select(
            Organisation.did,
            StatusList.purpose,
            StatusList.bits,
            StatusList.signed_at,
        )
        .join(Organisation, col(Organisation.id) == col(StatusList.organisation_id))
        .where(StatusList.url == url)
    ).first()
    if found is None or found[3] is None:
        return None
    did, purpose, bits, signed_at = found
    return did, purpose, bytes(bits), signed_at


def _check_transition(credential: IssuedCredential, action: str) -> None:
    if credential.revoked_at is not None:
        raise StatusChangeRejected(
            f"Credential {credential.id!r} was revoked on "
            f"{credential.revoked_at.date().isoformat()}; revocation is permanent, "
            f"so it cannot be {_past(action)}. Issue a new credential instead."
        )
    if action == SUSPEND and credential.suspended_at is not None:
        raise StatusChangeRejected(
            f"Credential {credential.id!r} is already suspended; reinstate it "
            "before suspending it again."
        )
    if action == REINSTATE and credential.suspended_at is None:
        raise StatusChangeRejected(
            f"Credential {credential.id!r} is not suspended, so there is nothing "
            "to reinstate."
        )


def _locked_list(session: Session, status_list_id: int) -> StatusList:
    # Bumping the version first takes the row lock (or SQLite's write lock),
    # so concurrent changes to one list apply one after the other and none
    # is lost.
    session.execute(
        update(StatusList)
        .where(col(StatusList.id) == status_list_id)
        .values(version=StatusList.version + 1)
    )
    status_list = session.exec(
        select(StatusList)
        .where(StatusList.id == status_list_id)
        .execution_options(populate_existing=True)
    ).one()
    return status_list


def _past(action: str) -> str:
    return {REVOKE: "revoked", SUSPEND: "suspended", REINSTATE: "reinstated"}[action]
