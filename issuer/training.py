"""Unsigned training credentials: one per completed CSTF subject.

The credential is a W3C Verifiable Credential 2.0 that is also an Open Badges 3.0
``OpenBadgeCredential``, so Open Badges wallets can display it. The claims that
Open Badges has no term for (subject code, level, completion date, refresher
period, CSTF alignment) are defined by the project's own context,
``https://staff-passport.example/contexts/training/v1``, bundled as
``credentials/contexts/staff-passport-training-v1.jsonld``.

The credential carries the holder's display name and nothing else about the
person: no date of birth, no NHS, NI or ESR numbers, and never the ESR
"Last Updated By" user.
"""

import re
import unicodedata
from datetime import date, datetime
from typing import Any

from issuer.subjects import Subject

__all__ = [
    "ACHIEVEMENT_CRITERIA",
    "ACHIEVEMENT_DESCRIPTION",
    "ACHIEVEMENT_ID_PREFIX",
    "CREDENTIAL_TYPES",
    "TRAINING_CONTEXT_URL",
    "TRAINING_CREDENTIAL_CONTEXTS",
    "bind_holder",
    "build_training_credential",
]

TRAINING_CONTEXT_URL = "https://staff-passport.example/contexts/training/v1"
TRAINING_CREDENTIAL_CONTEXTS = (
    "https://www.w3.org/ns/credentials/v2",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
    TRAINING_CONTEXT_URL,
)
CREDENTIAL_TYPES = ("VerifiableCredential", "OpenBadgeCredential", "TrainingCredential")
ACHIEVEMENT_ID_PREFIX = "https://staff-passport.example/achievements/cstf/"
ACHIEVEMENT_DESCRIPTION = "Core Skills Training Framework (England) subject."
ACHIEVEMENT_CRITERIA = (
    "Completed the Core Skills Training Framework learning outcomes for this "
    "subject and level."
)

# An absolute URI: a scheme, a colon and at least one character without spaces
# (RFC 3986 section 3.1). Enough to catch a bare name or an empty string.
_ABSOLUTE_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:\S+$")


def build_training_credential(
    *,
    credential_id: str,
    issuer_id: str,
    holder_id: str | None,
    display_name: str,
    subject: Subject,
    completed: date,
    cstf_aligned: bool,
) -> dict[str, Any]:
    """Build the unsigned training credential for one completed subject.

    ``validFrom`` is the completion date at midnight UTC, and ``validUntil`` is
    the completion date plus the subject's refresher interval in calendar
    months, also at midnight UTC. A completion on 29 February with a 12-month
    interval expires on 28 February. The holder's name is stored in Unicode NFC,
    so the same name always signs to the same bytes.

    The issuer is named by its DID alone: verifiers take the organisation's
    name from the partnership's registry, and leaving it out keeps the
    credential's QR code small enough for a phone screen.

    :param credential_id: the credential's URI, usually ``urn:uuid:<uuid4>``.
    :param issuer_id: the issuing organisation's DID.
    :param holder_id: the staff member's DID, which the credential is about,
        or None while the staff member has no wallet yet: the credential then
        has no ``credentialSubject.id`` and waits unsigned until a wallet
        claims it and :func:`bind_holder` adds the DID.
    :param display_name: the staff member's name as ``Forename SURNAME``.
    :param subject: the CSTF subject and level completed.
    :param completed: the date the training was completed.
    :param cstf_aligned: whether the issuer has declared CSTF alignment.
    :returns: the credential as a JSON-compatible dict, without ``proof``.
    :raises TypeError: if ``completed`` is a ``datetime``, ``cstf_aligned`` is
        not a bool or a name is not a string.
    :raises ValueError: if an id is not an absolute URI, or a name is blank or
        contains a control or format character.
    """
    _check_uri("credential_id", credential_id)
    _check_uri("issuer_id", issuer_id)
    if holder_id is not None:
        _check_uri("holder_id", holder_id)
    holder_display = _normalise_name("display_name", display_name)
    if isinstance(completed, datetime) or not isinstance(completed, date):
        raise TypeError(
            f"completed must be a datetime.date, not {completed!r}; pass the "
            "calendar date of completion without a time."
        )
    if not isinstance(cstf_aligned, bool):
        raise TypeError(
            f"cstf_aligned must be True or False, not {cstf_aligned!r}; pass the "
            "issuer's CSTF declaration of alignment as a bool."
        )

    completion_date = completed.isoformat()
    expiry_date = subject.refresher_due(completed).isoformat()

    return {
        "@context": list(TRAINING_CREDENTIAL_CONTEXTS),
        "id": credential_id,
        "type": list(CREDENTIAL_TYPES),
        "name": subject.title,
        "issuer": {"id": issuer_id, "type": ["Profile"]},
        "validFrom": f"{completion_date}T00:00:00Z",
        "validUntil": f"{expiry_date}T00:00:00Z",
        "credentialSubject": {
            **({"id": holder_id} if holder_id is not None else {}),
            "type": ["AchievementSubject"],
            "name": holder_display,
            "subjectCode": subject.code,
            "level": subject.level,
            "completionDate": completion_date,
            "refresherPeriod": subject.refresher_period,
            "cstfAligned": cstf_aligned,
            "achievement": {
                "id": ACHIEVEMENT_ID_PREFIX + subject.code,
                "type": ["Achievement"],
                "name": subject.title,
                "description": ACHIEVEMENT_DESCRIPTION,
                "criteria": {"narrative": ACHIEVEMENT_CRITERIA},
            },
        },
    }


def _check_uri(parameter: str, value: str) -> None:
    if not isinstance(value, str) or _ABSOLUTE_URI.match(value) is None:
        raise ValueError(
            f"{parameter} must be an absolute URI such as a DID or urn:uuid, "
            f"not {value!r}."
        )


def _normalise_name(parameter: str, value: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{parameter} must be a string, not {value!r}.")
    if any(unicodedata.category(char) in ("Cc", "Cf") for char in value):
        raise ValueError(
            f"{parameter} {value!r} contains a control or format character; "
            "remove it before issuing."
        )
    normalised = " ".join(unicodedata.normalize("NFC", value).split())
    if not normalised:
        raise ValueError(f"{parameter} must not be blank, but it is {value!r}.")
    return normalised


def bind_holder(credential: dict[str, Any], holder_id: str) -> dict[str, Any]:
    """Return a copy of an unsigned credential about the holder ``holder_id``.

    ``credentialSubject.id`` becomes the holder's DID and comes first in the
    subject, as :func:`build_training_credential` would have placed it.

    :raises ValueError: if ``holder_id`` is not an absolute URI.
    """
    _check_uri("holder_id", holder_id)
    subject = {
        key: value
        for key, value in credential["credentialSubject"].items()
        if key != "id"
    }
    return {**credential, "credentialSubject": {"id": holder_id, **subject}}
