"""Small builders shared by the issuer tests."""

import json
from typing import Any

from sqlmodel import Session

from issuer.models import IssuedCredential, Organisation
from issuer.status_lists import allocate_status_entries
from keys.store import KeyStore


def issued_with_status(
    session: Session,
    key_store: KeyStore,
    organisation: Organisation,
    credential_id: str = "urn:uuid:c-1",
) -> tuple[IssuedCredential, list[dict]]:
    """Store an (unsigned) issued credential holding both status entries."""
    entries = allocate_status_entries(session, key_store, organisation, credential_id)
    credential = IssuedCredential(
        id=credential_id,
        organisation_id=organisation.id,
        subject_code="FS",
        completed_on="2026-01-01",
        valid_until="2028-01-01T00:00:00Z",
        document=json.dumps({"credentialStatus": entries}),
    )
    session.add(credential)
    session.commit()
    return credential, entries


def verify_with_platform(database_url: str, document: dict) -> Any:
    """Verify ``document`` as the platform does, a day into its validity.

    The synthetic exports date completions relative to a fixed reference
    day, so verifying at the real clock would fail some as expired.
    """
    from datetime import timedelta

    from credentials.datetimes import parse_date_time_stamp
    from passport.verification import platform_sources
    from verifier import verify_credential

    now = parse_date_time_stamp(document["validFrom"]) + timedelta(days=1)
    with platform_sources(database_url) as sources:
        return verify_credential(document, now=now, **sources)
