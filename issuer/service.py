"""The issuer's service API: what other packages and the app root may call.

Nothing here imports Flask; the command line, the admin pages, the VC-API
and other packages call these functions with a session and the key store.
Other packages import from this module only, never from the issuer's other
modules.
"""

from collections.abc import Iterable

from sqlmodel import Session, col, select

from issuer.delivery import (
    accept_offer,
    create_claim_code,
    credential_states,
    decline_offer,
    find_staff_record,
    pending_offers,
    redeem_claim_code,
)
from issuer.errors import (
    ClaimCodeInvalid,
    CredentialNotFound,
    IssuerError,
    OrganisationNotFound,
    StatusChangeRejected,
)
from issuer.importer import (
    ImportSummary,
    employee_reference,
    import_training_export,
    map_local_competence,
    reference_secret,
)
from issuer.issuance import credential_document
from issuer.models import IssuedCredential, Organisation
from issuer.organisations import (
    adopt_did_web,
    create_organisation,
    did_document,
    get_organisation,
    list_organisations,
    mark_key_compromised,
    platform_did_documents,
    rotate_key,
)
from issuer.recognition import (
    Recognition,
    RecognitionOutcome,
    issue_recognised_training,
)
from issuer.signing import organisation_dids
from issuer.status_lists import change_status, status_list_by_url, status_list_record
from keys.history import did_key_method_history

__all__ = [
    "ClaimCodeInvalid",
    "CredentialNotFound",
    "ImportSummary",
    "IssuerError",
    "OrganisationNotFound",
    "Recognition",
    "RecognitionOutcome",
    "StatusChangeRejected",
    "accept_offer",
    "adopt_did_web",
    "change_status",
    "create_claim_code",
    "create_organisation",
    "credential_document",
    "credential_states",
    "decline_offer",
    "did_document",
    "employee_reference",
    "find_staff_record",
    "get_organisation",
    "import_training_export",
    "issue_recognised_training",
    "issued_credentials",
    "list_organisations",
    "map_local_competence",
    "mark_key_compromised",
    "organisation_dids",
    "pending_offers",
    "platform_did_documents",
    "redeem_claim_code",
    "reference_secret",
    "rotate_key",
    "status_list_by_url",
    "status_list_record",
    "did_key_method_history",
]


def issued_credentials(
    session: Session, organisation: Organisation
) -> Iterable[IssuedCredential]:
    """Return the credentials an organisation has issued, newest first."""
    return session.exec(
        select(IssuedCredential)
        .where(IssuedCredential.organisation_id == organisation.id)
        .order_by(col(IssuedCredential.issued_at).desc())
    )
