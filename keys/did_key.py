"""did:key for Ed25519, resolved locally without any network.

A did:key DID is ``did:key:`` followed by the public key's Multikey value,
and its only verification method is ``<did>#<multikey value>``. The DID
document is derived from the identifier itself, so resolution never leaves
the process.
"""

from typing import Any

from keys.errors import InvalidDid, InvalidKey, InvalidMultibase
from keys.multibase import decode_public_key_multibase
from keys.multikey import MULTIKEY_TYPE

DID_KEY_PREFIX = "did:key:"
DID_CONTEXT = "https://www.w3.org/ns/did/v1"
MULTIKEY_CONTEXT = "https://w3id.org/security/multikey/v1"

VERIFICATION_RELATIONSHIPS = (
    "authentication",
    "assertionMethod",
    "capabilityInvocation",
    "capabilityDelegation",
)


def _fingerprint(did: str) -> str:
    if not isinstance(did, str) or not did.startswith(DID_KEY_PREFIX):
        raise InvalidDid(f"{did!r} is not a did:key DID.")
    fingerprint = did[len(DID_KEY_PREFIX) :]
    try:
        decode_public_key_multibase(fingerprint)
    except (InvalidKey, InvalidMultibase) as error:
        raise InvalidDid(f"did:key {did!r} is not usable: {error}") from error
    return fingerprint


def resolve_did_key(did: str) -> dict[str, Any]:
    """Return the DID document of an Ed25519 did:key.

    :raises InvalidDid: if ``did`` is not a did:key, or its key is not a
        32-byte Ed25519 key with multicodec header ``0xed01`` (secp256k1
        ``zQ3s…`` and P-256 ``zDn…`` keys are named in the message).
    """
    fingerprint = _fingerprint(did)
    method_id = f"{did}#{fingerprint}"
    document: dict[str, Any] = {
        "@context": [DID_CONTEXT, MULTIKEY_CONTEXT],
        "id": did,
        "verificationMethod": [
            {
                "id": method_id,
                "type": MULTIKEY_TYPE,
                "controller": did,
                "publicKeyMultibase": fingerprint,
            }
        ],
    }
    for relationship in VERIFICATION_RELATIONSHIPS:
        document[relationship] = [method_id]
    return document


def did_of(did_url: str) -> str:
    """Return the DID part of a DID URL (everything before ``#`` or ``?``)."""
    return did_url.partition("#")[0].partition("?")[0]
