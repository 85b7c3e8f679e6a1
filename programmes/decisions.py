"""Sign-off decisions inside one transaction: sign, return, withdraw.

Each function locks the learner's enrolment row first, so two signers of
one competency are recorded one after the other. The second signature's
rule check then reads the first one's row. Nothing is deleted: a
return starts a new round and a withdrawal marks the signatures withdrawn.
"""

import logging
from datetime import datetime

from sqlmodel import Session

from audit.log import record_event
from keys.store import KeyStore
from programmes import credentials as programme_credentials
from programmes.completion import issue_for, live_credentials
from programmes.errors import SignOffRejected
from programmes.framework import Competency, Framework
from programmes.labels import label
from programmes.lookup import (
    RETURNED,
    SIGNED,
    evidence_types_of,
    framework_of,
    grants_of,
    locate,
    missing_evidence,
    signatures_of,
)
from programmes.models import (
    CompetencyRecord,
    ProgrammeCohort,
    ProgrammeEnrolment,
    SignOffDecision,
)
from programmes.read_models import SignOffResult
from programmes.roles import PROGRAMME_LEAD_ROLE
from programmes.signoff import choose_signer, reject_learner, rule_satisfied

logger = logging.getLogger(__name__)

OPEN_STATUSES = ("open", "returned")
MAX_COMMENT = 2000


def actor_of(account_id: int | None) -> str:
    return f"account:{account_id}" if account_id is not None else "system"


def sign(
    session: Session,
    key_store: KeyStore,
    now: datetime,
    *,
    reference: str,
    competency: str,
    account_id: int,
    rating: str | None,
    comment: str | None,
    role: str | None,
) -> SignOffResult:
    """Record a signature and complete the competency when its rule is met."""
    enrolment, cohort, record, item = locate(session, reference, competency, lock=True)
    framework = framework_of(session, cohort)
    # The learner learns first that the decision is not theirs to make,
    # before any reason about the competency's state or its evidence.
    reject_learner(account_id, framework.rule_for(item), item, enrolment)
    if record.status not in OPEN_STATUSES:
        raise SignOffRejected(
            f"Competency {competency!r} is already {record.status}; "
            "withdraw that sign-off first to sign it again."
        )
    missing = missing_evidence(session, record, item)
    if missing:
        titles = {kind: type_.title for kind, type_ in framework.evidence_types.items()}
        raise SignOffRejected(
            f"Competency {competency!r} needs evidence of type "
            f"{', '.join(label(kind, titles) for kind in missing)} before "
            "sign-off; add it or return the competency with a comment."
        )
    check_rating(framework, item, rating)

    signatures = signatures_of(session, record)
    signer = choose_signer(
        session,
        account_id=account_id,
        framework=framework,
        competency=item,
        enrolment=enrolment,
        cohort=cohort,
        signatures=signatures,
        role=role,
    )
    assert record.id is not None
    decision = SignOffDecision(
        record_id=record.id,
        round=record.round,
        account_id=account_id,
        role=signer.role,
        decision=SIGNED,
        rating=rating,
        comment=comment,
        decided_at=now,
    )
    session.add(decision)
    session.flush()
    record_event(
        session,
        "programme.signed",
        actor=actor_of(account_id),
        target=f"enrolment:{reference}",
        details={
            "competency": competency,
            "role": signer.role,
            "round": record.round,
        },
        at=now,
    )

    logger.info(
        "programme signature enrolment=%s competency=%s role=%s round=%s",
        reference,
        competency,
        signer.role,
        record.round,
    )
    return complete_if_met(session, key_store, now, enrolment, cohort, record, item)


def complete_if_met(
    session: Session,
    key_store: KeyStore,
    now: datetime,
    enrolment: ProgrammeEnrolment,
    cohort: ProgrammeCohort,
    record: CompetencyRecord,
    item: Competency,
) -> SignOffResult:
    """Mark the competency signed off and issue its credentials when the
    round's signatures and the evidence meet its rule."""
    framework = framework_of(session, cohort)
    signatures = signatures_of(session, record)
    evidence = evidence_types_of(session, record)
    if not rule_satisfied(framework.rule_for(item), signatures, evidence):
        needed = framework.rule_for(item)
        return SignOffResult(
            competency=item.id,
            status=record.status,
            signed_off=False,
            waiting_for=f"{needed.title} ({len(signatures)} signed so far)",
            credential_ids=(),
        )

    # The competency's rating is the lowest its signers gave.
    ratings = [s.rating for s in signatures if s.rating is not None]
    record.rating = min(ratings, key=framework.rating_rank) if ratings else None
    record.status = "signed-off"
    record.signed_off_at = now
    record.updated_at = now
    session.add(record)
    record_event(
        session,
        "programme.competency-signed-off",
        actor="system",
        target=f"enrolment:{enrolment.reference}",
        details={"competency": item.id, "round": record.round},
        at=now,
    )
    issued = issue_for(session, key_store, enrolment, cohort, record.competency, now)
    return SignOffResult(
        competency=item.id,
        status=record.status,
        signed_off=True,
        waiting_for=None,
        credential_ids=tuple(row.credential_id for row in issued),
    )


def return_competency(
    session: Session,
    now: datetime,
    *,
    reference: str,
    competency: str,
    account_id: int,
    text: str,
) -> SignOffResult:
    """Record a return with its comment and start a new round."""
    enrolment, cohort, record, item = locate(session, reference, competency, lock=True)
    if record.status not in OPEN_STATUSES:
        raise SignOffRejected(
            f"Competency {competency!r} is {record.status}, so it cannot be "
            "returned; withdraw the sign-off instead."
        )
    signer = choose_signer(
        session,
        account_id=account_id,
        framework=framework_of(session, cohort),
        competency=item,
        enrolment=enrolment,
        cohort=cohort,
        signatures=signatures_of(session, record),
    )
    assert record.id is not None
    session.add(
        SignOffDecision(
            record_id=record.id,
            round=record.round,
            account_id=account_id,
            role=signer.role,
            decision=RETURNED,
            comment=text,
            decided_at=now,
        )
    )
    record_event(
        session,
        "programme.returned",
        actor=actor_of(account_id),
        target=f"enrolment:{reference}",
        details={"competency": competency, "round": record.round},
        at=now,
    )

    logger.info(
        "programme competency returned enrolment=%s competency=%s round=%s",
        reference,
        competency,
        record.round,
    )
    record.round += 1
    record.status = "returned"
    record.updated_at = now
    session.add(record)
    return SignOffResult(competency, record.status, False, text, ())


def may_withdraw(
    session: Session,
    account_id: int,
    cohort: ProgrammeCohort,
    signatures: list[SignOffDecision],
) -> bool:
    """Return whether the account may withdraw a sign-off with these
    signatures: one of its signers, or the cohort's programme lead while
    they hold that role at the cohort's lead organisation."""
    if account_id in {signature.account_id for signature in signatures}:
        return True
    return account_id == cohort.lead_account_id and (
        PROGRAMME_LEAD_ROLE,
        cohort.lead_organisation,
    ) in grants_of(session, account_id)


def withdraw(
    session: Session,
    key_store: KeyStore,
    now: datetime,
    *,
    reference: str,
    competency: str,
    account_id: int,
    text: str,
) -> SignOffResult:
    """Withdraw the signatures, revoke the credentials and reopen the competency."""
    enrolment, cohort, record, _ = locate(session, reference, competency, lock=True)
    if record.status != "signed-off":
        raise SignOffRejected(
            f"Competency {competency!r} is {record.status}, not signed off; "
            "there is no sign-off to withdraw."
        )

    signatures = signatures_of(session, record)
    if not may_withdraw(session, account_id, cohort, signatures):
        raise SignOffRejected(
            f"Only a signer of competency {competency!r} or the cohort's "
            "programme lead may withdraw its sign-off."
        )

    for signature in signatures:
        signature.withdrawn_at = now
        signature.withdrawn_by_account_id = account_id
        signature.withdrawal_reason = text
        session.add(signature)

    revoked = []
    for row in live_credentials(session, enrolment, competency):
        programme_credentials.revoke(
            session,
            key_store,
            row,
            reason=f"Sign-off withdrawn: {text}",
            actor=actor_of(account_id),
            at=now,
        )
        revoked.append(row.credential_id)

    record.status = "open"
    record.round += 1
    record.rating = None
    record.signed_off_at = None
    record.updated_at = now
    session.add(record)
    if enrolment.status == "completed":
        enrolment.status = "active"
        enrolment.completed_at = None
        session.add(enrolment)
    record_event(
        session,
        "programme.sign-off-withdrawn",
        actor=actor_of(account_id),
        target=f"enrolment:{reference}",
        details={
            "competency": competency,
            "reason": text,
            "revoked": revoked,
        },
        at=now,
    )

    logger.info(
        "programme sign-off withdrawn enrolment=%s competency=%s revoked=%s",
        reference,
        competency,
        len(revoked),
    )
    return SignOffResult(competency, record.status, False, None, ())


def clean_comment(comment: str | None) -> str | None:
    if comment is None:
        return None
    text = comment.strip()
    if len(text) > MAX_COMMENT:
        raise SignOffRejected(
            f"The comment is {len(text)} characters; keep it to {MAX_COMMENT}."
        )
    return text or None


def check_rating(framework: Framework, item: Competency, rating: str | None) -> None:
    if rating is not None and rating not in framework.ratings:
        raise SignOffRejected(
            f"Rating {rating!r} is not one of {', '.join(framework.ratings)}."
        )
    if item.expected_rating is None:
        return
    if rating is None:
        raise SignOffRejected(
            f"Competency {item.id!r} needs a rating ({', '.join(framework.ratings)}) "
            "on the Healthcare Leadership Model scale."
        )
    if framework.rating_rank(rating) < framework.rating_rank(item.expected_rating):
        raise SignOffRejected(
            f"Rating {rating!r} is below the expected {item.expected_rating!r} for "
            f"competency {item.id!r}; return it with a comment instead."
        )
