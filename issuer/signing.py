"""Choosing the key that signs for an organisation under one of its DIDs."""

from sqlmodel import Session, select

from issuer.errors import IssuerError
from issuer.models import Organisation
from keys.errors import KeyNotFound
from keys.history import VerificationMethodRecord, current_method
from keys.multikey import Ed25519KeyPair
from keys.store import KeyStore, StoredKey


def organisation_dids(organisation: Organisation) -> list[str]:
    """Return the DIDs an organisation issues under: did:web first."""
    dids = [organisation.did]
    if organisation.did_key and organisation.did_key != organisation.did:
        dids.append(organisation.did_key)
    return dids


def signer_for(
    session: Session, key_store: KeyStore, organisation: Organisation, did: str | None
) -> Ed25519KeyPair:
    """Return the key pair that signs for ``organisation`` under ``did``.

    :param did: the organisation's did:web (its current key) or its did:key
        (its first key); None means the did:web.
    :raises IssuerError: if ``did`` is not one of the organisation's DIDs,
        or its key is compromised.
    """
    if did is None or did == organisation.did:
        method = current_method(session, organisation.did)
    elif did == organisation.did_key:
        method = current_method(session, did)
    else:
        raise IssuerError(
            f"Issuer {did!r} is not a DID of {organisation.slug!r}; use "
            f"{' or '.join(map(repr, organisation_dids(organisation)))}."
        )
    if method.compromised_at is not None:
        raise IssuerError(
            f"Key {method.id!r} of {organisation.slug!r} is marked compromised; "
            "it cannot sign. Issue under the organisation's did:web, whose "
            "current key is not compromised."
        )
    stored = _stored_key_for(session, method)
    pair = key_store.load(session, stored.id)
    if method.id == pair.verification_method_id:
        return pair
    return Ed25519KeyPair.from_seed(
        pair.seed_bytes(), controller=method.controller, id=method.id
    )


def _stored_key_for(session: Session, method: VerificationMethodRecord) -> StoredKey:
    stored = session.get(StoredKey, method.id)
    if stored is not None:
        return stored
    # A did:key name shares the sealed key of the did:web method with the
    # same public key.
    statement = (
        select(StoredKey)
        .where(StoredKey.public_key_multibase == method.public_key_multibase)
        .limit(1)
    )
    stored = session.exec(statement).first()
    if stored is None:
        raise KeyNotFound(f"No sealed private key backs {method.id!r}.")
    return stored
