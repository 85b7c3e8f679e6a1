"""Recognition of prior learning: counting a competency credential earned on
an earlier programme, after the verifier has checked it.
"""

from datetime import datetime
from typing import Any

from sqlmodel import Session

from audit.log import record_event
from keys.store import KeyStore
from programmes import credentials as programme_credentials
from programmes.completion import DONE_STATUSES, issue_for
from programmes.decisions import actor_of
from programmes.errors import PriorLearningRejected
from programmes.framework import Framework
from programmes.lookup import (
    cohort_of,
    framework_of,
    get_enrolment,
    grants_of,
    records_of,
)
from programmes.roles import PROGRAMME_LEAD_ROLE
from wallet_web.holders import holder_did_of


def check_verified(
    credential: dict[str, Any], now: datetime, verification_sources: dict[str, Any]
) -> None:
    """Verify the credential with the verifier, offline.

    :raises PriorLearningRejected: listing the failed checks.
    """
    from verifier import verify_credential

    result = verify_credential(credential, now=now, **verification_sources)

    if not result.verified:
        failed = "; ".join(check.message for check in result.checks if not check.passed)
        raise PriorLearningRejected(
            f"The credential does not verify: {failed or 'see the checks'}."
        )


def count(
    session: Session,
    key_store: KeyStore,
    now: datetime,
    *,
    reference: str,
    credential: dict[str, Any],
    account_id: int,
) -> str:
    """Mark the credential's competency counted for the enrolment."""
    enrolment = get_enrolment(session, reference, lock=True)
    cohort = cohort_of(session, enrolment)
    lead_grant = (PROGRAMME_LEAD_ROLE, cohort.lead_organisation)
    if account_id != cohort.lead_account_id or lead_grant not in grants_of(
        session, account_id
    ):
        raise PriorLearningRejected(
            f"Only cohort {cohort.code!r}'s programme lead counts prior "
            "learning for its learners."
        )

    competency, holder = achievement_of(framework_of(session, cohort), credential)
    wallet_id = programme_credentials.wallet_of(
        session, key_store, enrolment.learner_account_id
    )
    if holder != holder_did_of(session, wallet_id):
        raise PriorLearningRejected(
            "The credential was issued to another holder than this "
            "learner's wallet; ask the learner to share their own."
        )
    record = records_of(session, enrolment).get(competency)
    if record is None:
        raise PriorLearningRejected(
            f"Competency {competency!r} is not part of this learner's "
            f"{enrolment.variant} variant."
        )
    if record.status in DONE_STATUSES:
        return competency

    record.status = "counted"
    record.counted_credential_id = str(credential.get("id"))
    record.counted_by_account_id = account_id
    record.updated_at = now
    session.add(record)
    record_event(
        session,
        "programme.prior-learning-counted",
        actor=actor_of(account_id),
        organisation=cohort.lead_organisation,
        target=f"enrolment:{reference}",
        details={
            "competency": competency,
            "credential": record.counted_credential_id,
        },
        at=now,
    )
    issue_for(session, key_store, enrolment, cohort, None, now)
    return competency


def achievement_of(
    framework: Framework, credential: dict[str, Any]
) -> tuple[str, str | None]:
    subject = credential.get("credentialSubject")
    subject = subject if isinstance(subject, dict) else {}
    achievement = subject.get("achievement")
    achievement_url = achievement.get("id") if isinstance(achievement, dict) else None
    competency = (
        programme_credentials.competency_from_achievement(framework, achievement_url)
        if isinstance(achievement_url, str)
        else None
    )

    if competency is None:
        raise PriorLearningRejected(
            f"The credential's achievement {achievement_url!r} is not a competency of "
            f"{framework.title!r}; only its competency credentials count."
        )
    holder = subject.get("id")

    return competency, holder if isinstance(holder, str) else None
