"""The trust registry as a signed document that verifiers load offline.

The registry is published as a Verifiable Credential of type
``TrustRegistryCredential``, issued and signed (eddsa-jcs-2022) by the
partnership's own key. Its subject lists the members::

    "credentialSubject": {
      "type": "TrustRegistry",
      "name": "...",
      "member": [{"id": "did:...", "type": "RegistryMember", "name": "...",
                  "slug": "...", "cstfAligned": true,
                  "mayIssue": ["TrainingCredential", "cstf"],
                  "memberFrom": "2021-04-01T00:00:00Z",
                  "memberUntil": "2027-01-01T00:00:00Z",
                  "fetchOrigin": ["https://trust.example"],
                  "didDocument": {"id": "did:web:...", ...}}]
    }

A verifier elsewhere pins the partnership's DID, checks the signature and
the validity period with the normal pipeline and then uses the members with
no network. ``validUntil`` bounds how long a copy may be used, so that a
member's departure reaches every verifier within that time.

A did:web member's entry may carry its DID document as a JSON literal
(``didDocument``, ``"@type": "@json"``), so the signature covers the keys
too and a verifier in a new process resolves that member with no request.
A key rotated after publishing reaches verifiers only with the next copy.
"""

import uuid
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from credentials.datamodel import as_list, issuer_id
from credentials.datetimes import format_date_time_stamp, parse_date_time_stamp
from credentials.document_loader import CREDENTIALS_V2
from credentials.errors import CredentialError
from credentials.proofs import Signer, add_proof
from keys.did_web import DID_WEB_PREFIX
from verifier.errors import RegistryDocumentInvalid
from verifier.pipeline import verify_credential
from verifier.registry import IssuerRegistry, TrustedIssuer

REGISTRY_CONTEXT = "https://staff-passport.example/contexts/trust-registry/v1"
REGISTRY_TYPE = "TrustRegistryCredential"
REGISTRY_CRYPTOSUITE = "eddsa-jcs-2022"
DEFAULT_VALIDITY = timedelta(days=30)


def member_to_json(
    member: TrustedIssuer, did_document: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Return a member as the registry document lists it.

    :param did_document: the member's did:web document to embed, or None.
    :raises RegistryDocumentInvalid: if the document is given for a member
        that is not did:web, or its ``id`` is not the member's DID.
    """
    entry: dict[str, Any] = {
        "id": member.did,
        "type": "RegistryMember",
        "name": member.name,
        "slug": member.slug,
        "cstfAligned": member.cstf_aligned,
        "mayIssue": sorted(member.may_issue),
        "fetchOrigin": list(member.origins),
    }
    if member.member_from is not None:
        entry["memberFrom"] = format_date_time_stamp(member.member_from)
    if member.member_until is not None:
        entry["memberUntil"] = format_date_time_stamp(member.member_until)
    if did_document is not None:
        check_did_document(member.did, did_document, where="registry member")
        entry["didDocument"] = did_document
    return entry


def check_did_document(did: str, document: Any, *, where: str) -> None:
    """Check that ``document`` is the did:web document of ``did``.

    :raises RegistryDocumentInvalid: naming ``where`` and the DID.
    """
    if not did.startswith(DID_WEB_PREFIX):
        raise RegistryDocumentInvalid(
            f"{where} ({did}) carries a didDocument, but only did:web members "
            "may. Remove it, because a did:key document is derived from the DID."
        )
    if not isinstance(document, dict):
        raise RegistryDocumentInvalid(
            f"{where} ({did}) has a didDocument that is not an object."
        )
    if document.get("id") != did:
        raise RegistryDocumentInvalid(
            f"{where} ({did}) carries the DID document of {document.get('id')!r}, "
            f"not of {did!r}; publish the registry again with the member's own "
            "document."
        )


def embedded_did_document(entry: Any, position: int) -> dict[str, Any] | None:
    """Return the DID document embedded in a member entry, or None.

    :raises RegistryDocumentInvalid: as :func:`check_did_document` does.
    """
    if not isinstance(entry, dict) or "didDocument" not in entry:
        return None
    document = entry["didDocument"]
    check_did_document(str(entry.get("id")), document, where=f"member {position}")
    assert isinstance(document, dict)
    return document


def member_from_json(entry: Any, position: int) -> TrustedIssuer:
    """Parse one member entry of a registry document.

    :raises RegistryDocumentInvalid: naming the entry and the bad field.
    """
    where = f"member {position}"
    if not isinstance(entry, dict):
        raise RegistryDocumentInvalid(f"{where} is not an object: {entry!r:.60}.")
    did = entry.get("id")
    name = entry.get("name")
    if not isinstance(did, str) or not did.startswith("did:"):
        raise RegistryDocumentInvalid(f"{where} has id {did!r}, which is not a DID.")
    if not isinstance(name, str) or not name.strip():
        raise RegistryDocumentInvalid(f"{where} ({did}) has no name.")
    aligned = entry.get("cstfAligned", False)
    if not isinstance(aligned, bool):
        raise RegistryDocumentInvalid(
            f"{where} ({did}) has cstfAligned {aligned!r}; expected true or false."
        )
    kinds = as_list(entry.get("mayIssue", []))
    origins = as_list(entry.get("fetchOrigin", []))
    if not all(isinstance(kind, str) for kind in kinds):
        raise RegistryDocumentInvalid(
            f"{where} ({did}) has a mayIssue entry that is not text."
        )
    if not all(isinstance(origin, str) for origin in origins):
        raise RegistryDocumentInvalid(
            f"{where} ({did}) has a fetchOrigin that is not text."
        )
    return TrustedIssuer(
        did=did,
        name=name,
        slug=str(entry.get("slug", "")),
        cstf_aligned=aligned,
        may_issue=frozenset(kinds),
        member_from=_instant(entry, "memberFrom", where),
        member_until=_instant(entry, "memberUntil", where),
        origins=tuple(origins),
    )


def _instant(entry: dict[str, Any], name: str, where: str) -> datetime | None:
    value = entry.get(name)
    if value is None:
        return None
    try:
        return parse_date_time_stamp(value, field=f"{where} {name}")
    except CredentialError as error:
        raise RegistryDocumentInvalid(str(error)) from error


def build_registry_credential(
    members: Iterable[TrustedIssuer],
    *,
    signer: Signer,
    publisher_did: str,
    name: str,
    published_at: datetime,
    valid_for: timedelta = DEFAULT_VALIDITY,
    did_documents: Mapping[str, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Return the signed registry document listing ``members``.

    :param signer: the partnership's key; its controller is ``publisher_did``.
    :param valid_for: how long verifiers may use this copy.
    :param did_documents: did:web documents by DID; each did:web member
        found here gets its document embedded. Members not found here (an
        outside issuer) are listed without one, and verifiers fetch theirs.
    :raises RegistryDocumentInvalid: if a document's ``id`` is not the DID
        it is listed under.
    """
    did_documents = did_documents or {}
    entries = []
    for member in members:
        document = None
        if member.did.startswith(DID_WEB_PREFIX):
            document = did_documents.get(member.did)
        entries.append(member_to_json(member, document))
    unsigned = {
        "@context": [CREDENTIALS_V2, REGISTRY_CONTEXT],
        "id": f"urn:uuid:{uuid.uuid4()}",
        "type": ["VerifiableCredential", REGISTRY_TYPE],
        "issuer": publisher_did,
        "validFrom": format_date_time_stamp(published_at),
        "validUntil": format_date_time_stamp(published_at + valid_for),
        "credentialSubject": {
            "type": "TrustRegistry",
            "name": name,
            "member": entries,
        },
    }
    return add_proof(
        unsigned,
        signer=signer,
        cryptosuite=REGISTRY_CRYPTOSUITE,
        created=published_at,
    )


def load_registry_credential(
    document: Any, *, publisher_did: str, now: datetime
) -> IssuerRegistry:
    """Verify a published registry document and return its members.

    The returned registry's ``did_documents`` contains the DID documents
    that the did:web members' entries embed, by DID.

    :param document: the parsed document, or its JSON text.
    :param publisher_did: the partnership DID the verifier trusts to publish
        the registry; a document signed by anyone else is rejected.
    :raises RegistryDocumentInvalid: if a check fails (naming it), the
        publisher differs, or a member entry is malformed (including an
        embedded DID document whose ``id`` is not the member's DID).
    """
    result = verify_credential(document, now=now)
    failures = [
        f"{check.id}: {check.message}"
        for check in result.checks
        if not check.passed and check.severity == "error"
    ]
    if failures:
        raise RegistryDocumentInvalid(
            "The trust registry document failed verification: " + " ".join(failures)
        )
    assert result.document is not None
    verified = result.document
    if REGISTRY_TYPE not in as_list(verified.get("type")):
        raise RegistryDocumentInvalid(
            f"The document has type {verified.get('type')!r}, not {REGISTRY_TYPE!r}."
        )
    publisher = issuer_id(verified)
    if publisher != publisher_did:
        raise RegistryDocumentInvalid(
            f"The registry was published by {publisher!r}, not by the partnership "
            f"{publisher_did!r}; load a copy the partnership signed."
        )
    subject = verified.get("credentialSubject")
    if not isinstance(subject, dict):
        raise RegistryDocumentInvalid("credentialSubject is not a single object.")
    entries = as_list(subject.get("member", []))
    members = []
    did_documents = {}
    for position, entry in enumerate(entries, start=1):
        member = member_from_json(entry, position)
        members.append(member)
        document = embedded_did_document(entry, position)
        if document is not None:
            did_documents[member.did] = document
    return IssuerRegistry(members, did_documents=did_documents)
