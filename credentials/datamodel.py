"""VC Data Model 2.0 shape checks.

Each check returns every problem it finds as a sentence naming the field and
the value, so that a report can show them all at once. The checks are
structural: they do not look at proofs, trust or the clock.
"""

import re
from typing import Any

from credentials.datetimes import parse_date_time_stamp
from credentials.document_loader import CREDENTIALS_V2
from credentials.errors import InvalidDateTime, MalformedDocument

VERIFIABLE_CREDENTIAL = "VerifiableCredential"
VERIFIABLE_PRESENTATION = "VerifiablePresentation"

# An absolute URL: a scheme, a colon and no whitespace. This is what the
# data model means by "URL" for ids (urn:uuid:..., did:..., https://...).
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:[^\s]+")


def is_url(value: object) -> bool:
    """Return whether ``value`` is a string holding an absolute URL."""
    return isinstance(value, str) and _URL.fullmatch(value) is not None


# A context entry is a URL or an inline context object.
_CONTEXT_ENTRY_TYPES = (str, dict)


def as_list(value: Any) -> list[Any]:
    """Return ``value`` as a list: a list unchanged, anything else wrapped."""
    return value if isinstance(value, list) else [value]


def _check_context(document: dict[str, Any], problems: list[str]) -> None:
    if "@context" not in document:
        problems.append(f"@context is missing; it must start with {CREDENTIALS_V2!r}.")
        return
    contexts = as_list(document["@context"])
    if not contexts or contexts[0] != CREDENTIALS_V2:
        problems.append(
            f"@context {document['@context']!r} does not start with {CREDENTIALS_V2!r}."
        )
    for entry in contexts:
        if not isinstance(entry, _CONTEXT_ENTRY_TYPES):
            problems.append(f"@context entry {entry!r} is neither a URL nor an object.")


def _check_type(document: dict[str, Any], required: str, problems: list[str]) -> None:
    types = document.get("type")
    if types is None:
        problems.append(f"type is missing; it must contain {required!r}.")
        return
    listed = as_list(types)
    if not all(isinstance(item, str) for item in listed):
        problems.append(f"type {types!r} must be a string or a list of strings.")
    elif required not in listed:
        problems.append(f"type {types!r} does not contain {required!r}.")


def _check_id(document: dict[str, Any], problems: list[str], field: str) -> None:
    if "id" in document and not is_url(document["id"]):
        problems.append(f"{field} {document['id']!r} is not a URL.")


def _check_validity(document: dict[str, Any], problems: list[str]) -> None:
    instants = {}
    for field in ("validFrom", "validUntil"):
        if field in document:
            try:
                instants[field] = parse_date_time_stamp(document[field], field=field)
            except InvalidDateTime as error:
                problems.append(str(error))
    if len(instants) == 2 and instants["validUntil"] < instants["validFrom"]:
        problems.append(
            f"validUntil {document['validUntil']!r} is before validFrom "
            f"{document['validFrom']!r}."
        )


def issuer_id(credential: dict[str, Any]) -> str | None:
    """Return the issuer's id (URL or object ``id``), or None if absent."""
    issuer = credential.get("issuer")
    if isinstance(issuer, dict):
        issuer = issuer.get("id")
    return issuer if isinstance(issuer, str) else None


def check_credential(document: object) -> list[str]:
    """Return the data-model problems of a credential (empty when none).

    Checks ``@context``, ``type``, ``id``, ``issuer``, ``credentialSubject``,
    ``validFrom``/``validUntil`` and the shape of ``credentialStatus``.
    """
    if not isinstance(document, dict):
        return [f"A credential must be a JSON object, not {type(document).__name__}."]
    problems: list[str] = []
    _check_context(document, problems)
    _check_type(document, VERIFIABLE_CREDENTIAL, problems)
    _check_id(document, problems, "id")

    issuer = document.get("issuer")
    if issuer is None:
        problems.append("issuer is missing; it must be a URL or an object with an id.")
    elif isinstance(issuer, dict):
        if not is_url(issuer.get("id")):
            problems.append(f"issuer.id {issuer.get('id')!r} is not a URL.")
    elif not is_url(issuer):
        problems.append(f"issuer {issuer!r} is not a URL or an object with an id.")

    subjects = document.get("credentialSubject")
    if subjects is None:
        problems.append("credentialSubject is missing.")
    else:
        listed = as_list(subjects)
        if not listed or not all(isinstance(s, dict) and s for s in listed):
            problems.append(
                f"credentialSubject {subjects!r} must be a non-empty object or "
                "a list of them."
            )
        else:
            for subject in listed:
                _check_id(subject, problems, "credentialSubject.id")

    _check_validity(document, problems)

    if "credentialStatus" in document:
        for status in as_list(document["credentialStatus"]):
            if not isinstance(status, dict) or not isinstance(status.get("type"), str):
                problems.append(
                    f"credentialStatus {status!r} must be an object with a type."
                )
    return problems


def check_presentation(document: object) -> list[str]:
    """Return the data-model problems of a presentation and its credentials."""
    if not isinstance(document, dict):
        return [f"A presentation must be a JSON object, not {type(document).__name__}."]
    problems: list[str] = []
    _check_context(document, problems)
    _check_type(document, VERIFIABLE_PRESENTATION, problems)
    _check_id(document, problems, "id")
    if "holder" in document:
        holder = document["holder"]
        holder_id = holder.get("id") if isinstance(holder, dict) else holder
        if not is_url(holder_id):
            problems.append(f"holder {holder!r} is not a URL.")
    for index, credential in enumerate(
        as_list(document.get("verifiableCredential", []))
    ):
        for problem in check_credential(credential):
            problems.append(f"verifiableCredential[{index}]: {problem}")
    return problems


def require_credential(document: object) -> dict[str, Any]:
    """Return ``document`` if it is a well-formed credential.

    :raises MalformedDocument: listing every problem found.
    """
    problems = check_credential(document)
    if problems:
        raise MalformedDocument(" ".join(problems))
    assert isinstance(document, dict)
    return document
