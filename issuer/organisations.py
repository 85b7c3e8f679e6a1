"""Organisations as issuers: their DIDs, DID documents and signing keys.

Each organisation issues under ``did:web:HOST:orgs:SLUG``, whose document
the platform serves at ``/orgs/SLUG/did.json``. Its first key also has a
``did:key`` name, kept for conformance runs and for credentials issued
before the organisation had a did:web. Both names of one key share one
sealed private key.

Rotation creates a new key that signs from then on; old keys stay in the
DID document under ``assertionMethod``. A key marked compromised from an
instant is published with ``revoked`` at that instant, and the credentials
it signed from then on are listed for reissue.
"""

import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session, col, select

from audit.log import record_event
from issuer.errors import IssuerError, OrganisationNotFound
from issuer.models import IssuedCredential, Organisation
from issuer.signing import organisation_dids
from issuer.status_lists import ensure_status_lists, republish_lists_signed_by
from keys.did_web import did_web_for
from keys.history import (
    VerificationMethodRecord,
    add_method,
    current_method,
    did_document_for,
    mark_compromised,
    methods_of,
    retire_method,
)
from keys.multikey import Ed25519KeyPair
from keys.store import KeyStore

logger = logging.getLogger(__name__)

ORGANISATIONS_PATH = "orgs"
_SLUG = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?")


@dataclass(frozen=True)
class CompromiseResult:
    """The outcome of marking a key compromised."""

    method_ids: list[str]
    new_method_id: str | None
    affected_credential_ids: list[str]


def organisation_did(base_url: str, slug: str) -> str:
    """Return the did:web DID of the organisation ``slug`` on this platform."""
    return did_web_for(base_url, ORGANISATIONS_PATH, slug)


def check_slug(slug: str) -> str:
    """Return ``slug`` if it can name an organisation in URLs and DIDs.

    :raises IssuerError: naming the value and the allowed form.
    """
    if not isinstance(slug, str) or _SLUG.fullmatch(slug) is None:
        raise IssuerError(
            f"Organisation slug {slug!r} is invalid; use 1 to 64 lower-case "
            "letters, digits and inner hyphens, such as 'chelmer-valley'."
        )
    return slug


def create_organisation(
    session: Session,
    key_store: KeyStore,
    *,
    slug: str,
    name: str,
    org_type: str,
    cstf_aligned: bool,
    base_url: str,
    esr_vpd_code: str | None = None,
    key_pair: Ed25519KeyPair | None = None,
    actor: str = "system",
    at: datetime | None = None,
) -> Organisation:
    """Create an issuing organisation with a new key, a did:web and a did:key.

    The caller commits.

    :param base_url: the platform's public URL, which the did:web names.
    :param key_pair: the first key (default: a new random one).
    :raises IssuerError: if the slug is invalid or already taken.
    """
    check_slug(slug)
    if find_organisation(session, slug) is not None:
        raise IssuerError(f"An organisation with slug {slug!r} already exists.")
    at = at or datetime.now(UTC)
    seed_pair = key_pair or Ed25519KeyPair.generate()
    did_key_pair = Ed25519KeyPair.from_seed(seed_pair.seed_bytes())
    did = organisation_did(base_url, slug)
    web_pair = Ed25519KeyPair.from_seed(
        seed_pair.seed_bytes(), controller=did, id=f"{did}#key-1"
    )

    key_store.add(session, web_pair)
    session.flush()
    for pair in (web_pair, did_key_pair):
        add_method(
            session,
            method_id=pair.verification_method_id,
            controller=pair.controller,
            public_key_multibase=pair.public_key_multibase,
            activated_at=at,
        )
    organisation = Organisation(
        slug=slug,
        name=name,
        org_type=org_type,
        did=did,
        did_key=did_key_pair.did,
        verification_method_id=web_pair.verification_method_id,
        cstf_aligned=cstf_aligned,
        esr_vpd_code=esr_vpd_code,
    )
    session.add(organisation)
    session.flush()
    ensure_status_lists(session, key_store, organisation, base_url)
    record_event(
        session,
        "organisation.created",
        actor=actor,
        organisation=slug,
        target=did,
        details={
            "did": did,
            "did_key": did_key_pair.did,
            "method": web_pair.verification_method_id,
        },
        at=at,
    )
    logger.info("organisation created slug=%s did=%s", slug, did)
    return organisation


def find_organisation(session: Session, slug: str) -> Organisation | None:
    """Return the organisation with ``slug``, or None."""
    return session.exec(select(Organisation).where(Organisation.slug == slug)).first()


def get_organisation(session: Session, slug: str) -> Organisation:
    """Return the organisation with ``slug``.

    :raises OrganisationNotFound: naming the slug and the known ones.
    """
    organisation = find_organisation(session, slug)
    if organisation is None:
        known = ", ".join(o.slug for o in session.exec(select(Organisation)))
        raise OrganisationNotFound(
            f"No organisation has slug {slug!r}; known slugs: {known or 'none'}."
        )
    return organisation


def organisation_by_did(session: Session, did: str) -> Organisation | None:
    """Return the organisation issuing under ``did`` (did:web or did:key)."""
    return session.exec(
        select(Organisation).where(
            (col(Organisation.did) == did) | (col(Organisation.did_key) == did)
        )
    ).first()


def list_organisations(session: Session) -> list[Organisation]:
    """Return every organisation, by name."""
    return list(session.exec(select(Organisation).order_by(col(Organisation.name))))


def adopt_did_web(
    session: Session,
    key_store: KeyStore,
    base_url: str,
    *,
    actor: str = "system",
) -> list[str]:
    """Give every organisation still issuing under did:key a did:web.

    Databases created before organisations had did:web identifiers keep
    their did:key as ``did_key``; the same key becomes ``#key-1`` of the
    new did:web, so it is sealed once more under that id.

    :returns: the slugs of the organisations changed.
    """
    changed = []
    statement = select(Organisation).where(col(Organisation.did).startswith("did:key:"))
    for organisation in session.exec(statement).all():
        did_key_pair = key_store.load(session, organisation.verification_method_id)
        did = organisation_did(base_url, organisation.slug)
        web_pair = Ed25519KeyPair.from_seed(
            did_key_pair.seed_bytes(), controller=did, id=f"{did}#key-1"
        )
        key_store.add(session, web_pair)
        session.flush()
        add_method(
            session,
            method_id=web_pair.verification_method_id,
            controller=did,
            public_key_multibase=web_pair.public_key_multibase,
        )
        organisation.did_key = organisation.did
        organisation.did = did
        organisation.verification_method_id = web_pair.verification_method_id
        session.add(organisation)
        session.flush()
        ensure_status_lists(session, key_store, organisation, base_url)
        record_event(
            session,
            "organisation.did_web_adopted",
            actor=actor,
            organisation=organisation.slug,
            target=did,
            details={"did": did, "did_key": organisation.did_key},
        )
        changed.append(organisation.slug)
    session.flush()
    return changed


def did_document(session: Session, organisation: Organisation) -> dict[str, Any]:
    """Return the organisation's did:web document, every key with its purposes."""
    return did_document_for(session, organisation.did)


def platform_did_documents(session: Session) -> dict[str, dict[str, Any]]:
    """Return the did:web documents of every organisation, by DID."""
    documents = {}
    for organisation in list_organisations(session):
        if organisation.did.startswith("did:web:"):
            documents[organisation.did] = did_document(session, organisation)
    return documents


def rotate_key(
    session: Session,
    key_store: KeyStore,
    organisation: Organisation,
    *,
    actor: str,
    at: datetime | None = None,
    key_pair: Ed25519KeyPair | None = None,
) -> VerificationMethodRecord:
    """Replace the organisation's signing key with a new one (the caller commits).

    The old key stays in the DID document under ``assertionMethod``, so the
    credentials it signed keep verifying.

    :returns: the new current method.
    """
    at = at or datetime.now(UTC)
    old = current_method(session, organisation.did)
    number = len(methods_of(session, organisation.did)) + 1
    seed = (key_pair or Ed25519KeyPair.generate()).seed_bytes()
    new_pair = Ed25519KeyPair.from_seed(
        seed, controller=organisation.did, id=f"{organisation.did}#key-{number}"
    )
    retire_method(session, old.id, at)
    key_store.add(session, new_pair)
    session.flush()
    new = add_method(
        session,
        method_id=new_pair.verification_method_id,
        controller=organisation.did,
        public_key_multibase=new_pair.public_key_multibase,
        activated_at=at,
    )
    organisation.verification_method_id = new.id
    session.add(organisation)
    record_event(
        session,
        "key.rotated",
        actor=actor,
        organisation=organisation.slug,
        target=new.id,
        details={"old_method": old.id, "new_method": new.id},
        at=at,
    )
    logger.info("key rotated org=%s new=%s", organisation.slug, new.id)
    return new


def mark_key_compromised(
    session: Session,
    key_store: KeyStore,
    organisation: Organisation,
    method_id: str,
    *,
    since: datetime,
    reason: str,
    actor: str,
    at: datetime | None = None,
) -> CompromiseResult:
    """Mark a key compromised from ``since`` and list what must be reissued.

    Proofs the key made from ``since`` on fail verification from now on. If
    it is the current key, a new key is rotated in first, so the
    organisation can keep signing.

    :returns: the methods marked, the new method (if rotated) and the ids of
        the credentials the key signed from ``since`` on.
    :raises IssuerError: if ``method_id`` is not a key of the organisation
        or ``reason`` is blank.
    """
    if not reason.strip():
        raise IssuerError("A reason is required to mark a key compromised.")
    at = at or datetime.now(UTC)
    owned = {
        record.id: record
        for did in organisation_dids(organisation)
        for record in methods_of(session, did)
    }
    method = owned.get(method_id)
    if method is None:
        raise IssuerError(
            f"Key {method_id!r} is not a key of {organisation.slug!r}; its keys "
            f"are {', '.join(sorted(owned))}."
        )

    new_method_id = None
    current = current_method(session, organisation.did)
    if current.public_key_multibase == method.public_key_multibase:
        rotated = rotate_key(session, key_store, organisation, actor=actor, at=at)
        new_method_id = rotated.id
    marked = mark_compromised(session, method.public_key_multibase, since, reason)
    marked_ids = sorted(record.id for record in marked)
    # Lists the compromised key signed would fail from now on, so the
    # current key signs them again.
    republish_lists_signed_by(session, key_store, organisation, marked_ids)
    affected = affected_credentials(session, organisation, marked_ids, since)
    record_event(
        session,
        "key.compromised",
        actor=actor,
        organisation=organisation.slug,
        target=method_id,
        details={
            "methods": marked_ids,
            "since": since.astimezone(UTC).isoformat(),
            "reason": reason,
            "new_method": new_method_id,
            "affected_credentials": len(affected),
        },
        at=at,
    )
    logger.warning(
        "key compromised org=%s method=%s affected=%d",
        organisation.slug,
        method_id,
        len(affected),
    )
    return CompromiseResult(marked_ids, new_method_id, affected)


def affected_credentials(
    session: Session,
    organisation: Organisation,
    method_ids: list[str],
    since: datetime,
) -> list[str]:
    """Return the ids of credentials signed by ``method_ids`` at or after ``since``."""
    statement = (
        select(IssuedCredential.id)
        .where(
            IssuedCredential.organisation_id == organisation.id,
            col(IssuedCredential.verification_method_id).in_(method_ids),
            col(IssuedCredential.signed_at) >= since,
        )
        .order_by(col(IssuedCredential.signed_at))
    )
    return list(session.exec(statement))


def compromised_key_credentials(
    session: Session, organisation: Organisation
) -> list[str]:
    """Return every credential of the organisation signed by a key after its
    compromise instant: the ones to reissue."""
    affected: list[str] = []
    for did in organisation_dids(organisation):
        for record in methods_of(session, did):
            if record.compromised_at is not None:
                affected.extend(
                    affected_credentials(
                        session, organisation, [record.id], record.compromised_at
                    )
                )
    return list(dict.fromkeys(affected))
