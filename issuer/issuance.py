"""Issuing training credentials: recording, signing, superseding, delivering.

A completion becomes an :class:`IssuedCredential` with its status entries at
once. If the staff member has claimed a wallet, it is signed for their
holder DID and offered to the wallet. Otherwise it waits unsigned until a
claim code binds a holder DID. A newer completion of the same subject
supersedes the older credential: the older one stays valid and is not
revoked, but the wallet shows it as superseded.

Every credential signed is recorded as ``credential.issued`` in the audit
log, and every credential stored to wait as ``credential.recorded``.
"""

import json
import multiprocessing
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from multiprocessing.pool import Pool
from typing import Any

from sqlalchemy import select as sql_select
from sqlalchemy import update
from sqlmodel import Session, col

from audit.log import Event, record_events
from credentials.datamodel import check_credential, issuer_id
from credentials.errors import CredentialError
from credentials.proofs import add_proof
from credentials.status_list import PURPOSES
from issuer.errors import CredentialConflict, CredentialRejected, IssuerForbidden
from issuer.esr_export import ExportRow
from issuer.models import IssuedCredential, Organisation, StaffRecord
from issuer.signing import organisation_dids, signer_for
from issuer.status_lists import reserve_status_entries
from issuer.training import bind_holder, build_training_credential
from keys.multikey import Ed25519KeyPair
from keys.store import KeyStore

DEFAULT_CRYPTOSUITE = "eddsa-rdfc-2022"

WAITING = "waiting"
"""Stored unsigned: the staff member has no wallet yet."""
OFFERED = "offered"
"""Signed for the holder and waiting in their wallet to be accepted."""
ACCEPTED = "accepted"
DECLINED = "declined"
RETURNED = "returned"
"""Signed and returned to a VC-API client, which delivers it itself."""


def compact_json(document: dict[str, Any]) -> str:
    """Return the JSON text stored and served for a credential."""
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"))


def credential_document(row: IssuedCredential) -> dict[str, Any]:
    """Return the stored credential as parsed JSON."""
    result: dict[str, Any] = json.loads(row.document)
    return result


@dataclass(frozen=True)
class RecordedCredential:
    """A credential just recorded, and the older ones it supersedes."""

    credential: IssuedCredential
    supersedes: list[str]


def record_training_credential(
    session: Session,
    key_store: KeyStore,
    organisation: Organisation,
    record: StaffRecord,
    row: ExportRow,
    *,
    import_run_id: int | None = None,
) -> RecordedCredential | None:
    """Store the unsigned credential for one completion, once.

    :returns: the new row, or None when this completion was recorded before.
    """
    return record_training_credentials(
        session,
        key_store,
        organisation,
        [(record, row)],
        import_run_id=import_run_id,
    )[0]


@dataclass
class _Known:
    """A credential of one staff member for one subject, stored or planned.

    ``stored_superseded_by`` is the value in the database (None for a
    planned credential), so only changed rows are updated.
    """

    id: str
    completed_on: str
    superseded_by: str | None
    stored: bool
    stored_superseded_by: str | None = None


def record_training_credentials(
    session: Session,
    key_store: KeyStore,
    organisation: Organisation,
    completions: Sequence[tuple[StaffRecord, ExportRow]],
    *,
    import_run_id: int | None = None,
) -> list[RecordedCredential | None]:
    """Store the unsigned credentials for many completions, each once.

    Each credential gets its status entries, and supersedes (or is
    superseded by) the staff member's other credentials for the subject,
    including others in the same call. The caller signs those whose staff
    member has a holder DID, with :func:`sign_credentials`, and commits.

    :returns: for each completion, in order, the new credential, or None
        when the completion was recorded before (or earlier in the call).
    """
    assert organisation.id is not None
    known = _credentials_by_subject(session, organisation, completions)
    planned: list[tuple[int, StaffRecord, ExportRow, _Known, list[_Known]]] = []
    for position, (record, row) in enumerate(completions):
        completed_on = row.achievement_date.isoformat()
        same_subject = known.setdefault((record.id, row.subject.code), [])
        if any(other.completed_on == completed_on for other in same_subject):
            continue
        newer = [other for other in same_subject if other.completed_on > completed_on]
        older = [
            other
            for other in same_subject
            if other.completed_on < completed_on and other.superseded_by is None
        ]
        credential = _Known(
            id=f"urn:uuid:{uuid.uuid4()}",
            completed_on=completed_on,
            superseded_by=max(newer, key=lambda other: other.completed_on).id
            if newer
            else None,
            stored=False,
        )
        for other in older:
            other.superseded_by = credential.id
        same_subject.append(credential)
        planned.append((position, record, row, credential, older))

    statuses = reserve_status_entries(
        session, key_store, organisation, [plan[3].id for plan in planned]
    )
    results: list[RecordedCredential | None] = [None] * len(completions)
    for position, record, row, credential, older in planned:
        unsigned = build_training_credential(
            credential_id=credential.id,
            issuer_id=organisation.did,
            holder_id=None,
            display_name=record.display_name,
            subject=row.subject,
            completed=row.achievement_date,
            cstf_aligned=organisation.cstf_aligned,
        )
        unsigned["credentialStatus"] = statuses[credential.id]
        issued = IssuedCredential(
            id=credential.id,
            organisation_id=organisation.id,
            staff_record_id=record.id,
            subject_code=row.subject.code,
            completed_on=credential.completed_on,
            valid_until=unsigned["validUntil"],
            document=compact_json(unsigned),
            delivery=WAITING,
            import_run_id=import_run_id,
        )
        session.add(issued)
        results[position] = RecordedCredential(issued, [other.id for other in older])

    # Supersession was decided above; apply it now that every row exists.
    planned_by_id = {plan[3].id: plan[3] for plan in planned}
    for result in results:
        if result is not None:
            planned_credential = planned_by_id[result.credential.id]
            result.credential.superseded_by = planned_credential.superseded_by
    changed = [
        (other.id, other.superseded_by)
        for group in known.values()
        for other in group
        if other.stored and other.superseded_by != other.stored_superseded_by
    ]
    _mark_superseded(session, changed)
    session.flush()
    return results


def _credentials_by_subject(
    session: Session,
    organisation: Organisation,
    completions: Sequence[tuple[StaffRecord, ExportRow]],
) -> dict[tuple[int | None, str | None], list[_Known]]:
    """Return the stored credentials of these staff members, by staff and subject."""
    staff_ids = sorted(
        {record.id for record, _ in completions if record.id is not None}
    )
    known: dict[tuple[int | None, str | None], list[_Known]] = {}
    if not staff_ids:
        return known
    rows = session.execute(
        sql_select(
            col(IssuedCredential.id),
            col(IssuedCredential.staff_record_id),
            col(IssuedCredential.subject_code),
            col(IssuedCredential.completed_on),
            col(IssuedCredential.superseded_by),
        ).where(
            col(IssuedCredential.organisation_id) == organisation.id,
            col(IssuedCredential.staff_record_id).in_(staff_ids),
        )
    ).all()
    for credential_id, staff_id, subject_code, completed_on, superseded_by in rows:
        known.setdefault((staff_id, subject_code), []).append(
            _Known(
                credential_id,
                completed_on or "",
                superseded_by,
                stored=True,
                stored_superseded_by=superseded_by,
            )
        )
    return known


def _mark_superseded(session: Session, pairs: list[tuple[str, str | None]]) -> None:
    by_newer: dict[str | None, list[str]] = {}
    for older_id, newer_id in pairs:
        by_newer.setdefault(newer_id, []).append(older_id)
    for newer_id, older_ids in by_newer.items():
        session.execute(
            update(IssuedCredential)
            .where(col(IssuedCredential.id).in_(older_ids))
            .values(superseded_by=newer_id)
            .execution_options(synchronize_session=False)
        )


class CredentialSigner:
    """Signs many credentials with one key, in worker processes if asked.

    With ``workers`` above 1, a pool of forked processes signs batches in
    parallel. The workers inherit the key pair in memory, so the private key
    never travels through a pipe or a file. Use one worker in a threaded server,
    where forking is unsafe.
    """

    def __init__(
        self,
        key_pair: Ed25519KeyPair,
        *,
        cryptosuite: str = DEFAULT_CRYPTOSUITE,
        workers: int = 1,
    ) -> None:
        self.key_pair = key_pair
        self.cryptosuite = cryptosuite
        self._pool: Pool | None = None
        if workers > 1:
            context = multiprocessing.get_context("fork")
            self._pool = context.Pool(
                workers, initializer=_init_worker, initargs=(key_pair, cryptosuite)
            )

    def sign(
        self, documents: Sequence[dict[str, Any]], created: datetime
    ) -> list[dict[str, Any]]:
        """Return the documents signed, in the same order."""
        if self._pool is None or len(documents) < 2:
            return [
                _sign(self.key_pair, self.cryptosuite, document, created)
                for document in documents
            ]
        chunk = max(1, len(documents) // (4 * self._pool._processes))  # type: ignore[attr-defined]
        return self._pool.starmap(
            _sign_in_worker, [(document, created) for document in documents], chunk
        )

    def close(self) -> None:
        """Stop the worker processes."""
        if self._pool is not None:
            self._pool.close()
            self._pool.join()
            self._pool = None

    def __enter__(self) -> "CredentialSigner":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


_worker_state: dict[str, Any] = {}


def _init_worker(key_pair: Ed25519KeyPair, cryptosuite: str) -> None:
    _worker_state["key_pair"] = key_pair
    _worker_state["cryptosuite"] = cryptosuite


def _sign_in_worker(document: dict[str, Any], created: datetime) -> dict[str, Any]:
    return _sign(
        _worker_state["key_pair"], _worker_state["cryptosuite"], document, created
    )


def _sign(
    key_pair: Ed25519KeyPair,
    cryptosuite: str,
    document: dict[str, Any],
    created: datetime,
) -> dict[str, Any]:
    return add_proof(
        document, signer=key_pair, cryptosuite=cryptosuite, created=created
    )


def sign_credentials(
    credentials: Sequence[tuple[IssuedCredential, str]],
    signer: CredentialSigner,
    *,
    delivery: str = OFFERED,
    at: datetime | None = None,
) -> None:
    """Sign waiting credentials for their holders and mark them delivered.

    :param credentials: each credential with the holder DID it is for.
    :param delivery: the delivery state after signing.
    """
    if not credentials:
        return
    created = (at or datetime.now(UTC)).replace(microsecond=0)
    unsigned = [
        bind_holder(credential_document(issued), holder_did)
        for issued, holder_did in credentials
    ]
    signed = signer.sign(unsigned, created)
    for (issued, holder_did), document in zip(credentials, signed, strict=True):
        issued.document = compact_json(document)
        issued.holder_did = holder_did
        issued.signed_at = created
        issued.verification_method_id = signer.key_pair.verification_method_id
        issued.delivery = delivery


def issuance_event(
    issued: IssuedCredential,
    organisation: Organisation,
    actor: str,
    supersedes: Sequence[str] = (),
) -> Event:
    """Return the audit event for a credential just signed or stored to wait."""
    signed = issued.signed_at is not None
    details: dict[str, Any] = {
        "subject": issued.subject_code,
        "completed_on": issued.completed_on,
        "delivery": issued.delivery,
    }
    if signed:
        details["verification_method"] = issued.verification_method_id
    if issued.staff_record_id is not None:
        details["staff_record"] = issued.staff_record_id
    if issued.superseded_by is not None:
        details["superseded_by"] = issued.superseded_by
    if supersedes:
        details["supersedes"] = list(supersedes)
    return Event(
        action="credential.issued" if signed else "credential.recorded",
        actor=actor,
        organisation=organisation.slug,
        target=issued.id,
        details=details,
    )


MAX_STORED_ID_LENGTH = 300
"""The maximum length in characters of a credential id and of a subject id.
The credential id is the target of its audit entries, a 300-character
column, and both are indexed, where PostgreSQL rejects a B-tree entry over
about 2,700 bytes (300 characters take at most 1,200 bytes in UTF-8)."""


def _check_stored_ids(credential: dict[str, Any]) -> None:
    subject = credential.get("credentialSubject")
    subject_id = subject.get("id") if isinstance(subject, dict) else None
    for name, value in (
        ("id", credential.get("id")),
        ("credentialSubject.id", subject_id),
    ):
        if isinstance(value, str) and len(value) > MAX_STORED_ID_LENGTH:
            raise CredentialRejected(
                f"{name} is {len(value)} characters long; give at most "
                f"{MAX_STORED_ID_LENGTH} characters."
            )


def issue_credential(
    session: Session,
    key_store: KeyStore,
    organisation: Organisation,
    credential: dict[str, Any],
    *,
    cryptosuite: str = DEFAULT_CRYPTOSUITE,
    status_purposes: tuple[str, ...] | None = None,
    actor: str,
    delivery: str = RETURNED,
    at: datetime | None = None,
) -> dict[str, Any]:
    """Sign a credential an API client sent, as ``organisation`` (the caller commits).

    The issuer defaults to the organisation's did:web; a given issuer must
    be one of its DIDs. A missing ``id`` becomes a new ``urn:uuid``. Status
    list entries are added for ``status_purposes`` (default: revocation and
    suspension under the did:web, none under the did:key); the credential
    must not bring its own. The status lists are signed under the
    organisation's did:web, and verifiers require a list to come from the
    credential's issuer, so a did:key credential cannot carry status.

    :returns: the signed credential.
    :raises CredentialRejected: naming what is wrong with the credential,
        including an id or subject id over :data:`MAX_STORED_ID_LENGTH`.
    :raises IssuerForbidden: if the issuer is another organisation's DID.
    :raises CredentialConflict: if a credential with that id was issued before.
    """
    unsigned = dict(credential)
    for field_name in ("proof", "credentialStatus"):
        if field_name in unsigned:
            raise CredentialRejected(
                f"The credential already has {field_name!r}; send it without "
                f"one, because the issuer adds {field_name!r} itself."
            )
    unsigned.setdefault("issuer", organisation.did)
    issuer = issuer_id(unsigned)
    if issuer not in organisation_dids(organisation):
        raise IssuerForbidden(
            f"This token issues as {organisation.slug!r}, whose DIDs are "
            f"{', '.join(organisation_dids(organisation))}; it cannot issue as "
            f"{issuer!r}."
        )
    if status_purposes is None:
        status_purposes = PURPOSES if issuer == organisation.did else ()
    elif status_purposes and issuer != organisation.did:
        raise CredentialRejected(
            f"Status lists are published under {organisation.did!r}, so a "
            f"credential issued as {issuer!r} cannot have a credentialStatus; "
            "issue it as the did:web, or without status options."
        )
    unsigned.setdefault("id", f"urn:uuid:{uuid.uuid4()}")
    problems = check_credential(unsigned)
    if problems:
        raise CredentialRejected(" ".join(problems))
    _check_stored_ids(unsigned)
    credential_id = unsigned["id"]
    if session.get(IssuedCredential, credential_id) is not None:
        raise CredentialConflict(
            f"A credential with id {credential_id!r} was issued before; give each "
            "credential its own id or leave it out."
        )

    if status_purposes:
        unsigned["credentialStatus"] = reserve_status_entries(
            session, key_store, organisation, [credential_id], status_purposes
        )[credential_id]
    created = (at or datetime.now(UTC)).replace(microsecond=0)
    signer = signer_for(session, key_store, organisation, issuer)
    try:
        signed = add_proof(
            unsigned, signer=signer, cryptosuite=cryptosuite, created=created
        )
    except CredentialError as error:
        raise CredentialRejected(str(error)) from error

    subject = signed.get("credentialSubject")
    holder = subject.get("id") if isinstance(subject, dict) else None
    assert organisation.id is not None
    issued = IssuedCredential(
        id=credential_id,
        organisation_id=organisation.id,
        valid_until=str(signed.get("validUntil", "")),
        document=compact_json(signed),
        verification_method_id=signer.verification_method_id,
        signed_at=created,
        holder_did=holder if isinstance(holder, str) else None,
        delivery=delivery,
    )
    session.add(issued)
    session.flush()
    record_events(session, [issuance_event(issued, organisation, actor)], at=created)
    return signed
