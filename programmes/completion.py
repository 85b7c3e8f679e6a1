"""Issuing the credentials a completion earns: the competency's and, once
every competency is done, the programme's.

Both run inside the caller's transaction with the enrolment row locked, and
:func:`programmes.credentials.issue_once` keys each credential, so the same
completion processed twice issues one credential.
"""

from datetime import datetime

from sqlmodel import Session, col, select

from audit.log import record_event
from keys.store import KeyStore
from programmes import credentials as programme_credentials
from programmes.framework import Framework
from programmes.lookup import framework_of, records_of
from programmes.models import ProgrammeCohort, ProgrammeCredential, ProgrammeEnrolment

DONE_STATUSES = ("signed-off", "counted")


def issue_for(
    session: Session,
    key_store: KeyStore,
    enrolment: ProgrammeEnrolment,
    cohort: ProgrammeCohort,
    competency: str | None,
    now: datetime,
) -> list[ProgrammeCredential]:
    """Issue the competency's credential if it is signed off, and the
    programme's if every competency is done; return both (new or earlier)."""
    framework = framework_of(session, cohort)
    assert enrolment.id is not None
    issued = []
    records = records_of(session, enrolment)
    if competency is not None:
        record = records[competency]
        if record.status == "signed-off":
            item = framework.competencies[competency]
            organisation = (
                cohort.university
                if item.issuer == "university" and cohort.university
                else enrolment.organisation
            )
            issued.append(
                programme_credentials.issue_once(
                    session,
                    key_store,
                    issue_key=f"{enrolment.id}:{competency}:{record.round}",
                    enrolment_id=enrolment.id,
                    competency=competency,
                    achievement=programme_credentials.competency_achievement(
                        framework,
                        item,
                        organisation=organisation,
                        rating=record.rating,
                    ),
                    learner_account_id=enrolment.learner_account_id,
                    actor="system",
                    at=now,
                )
            )
    if all(record.status in DONE_STATUSES for record in records.values()):
        issued.append(issue_completion(session, key_store, enrolment, framework, now))
    return issued


def issue_completion(
    session: Session,
    key_store: KeyStore,
    enrolment: ProgrammeEnrolment,
    framework: Framework,
    now: datetime,
) -> ProgrammeCredential:
    """Issue the programme credential unless a live one exists, and mark the
    enrolment completed."""
    assert enrolment.id is not None
    earlier = session.exec(
        select(ProgrammeCredential).where(
            ProgrammeCredential.enrolment_id == enrolment.id,
            col(ProgrammeCredential.competency).is_(None),
        )
    ).all()
    live = [row for row in earlier if row.revoked_at is None]
    if live:
        return live[0]
    row = programme_credentials.issue_once(
        session,
        key_store,
        issue_key=f"{enrolment.id}:programme:{len(earlier) + 1}",
        enrolment_id=enrolment.id,
        competency=None,
        achievement=programme_credentials.programme_achievement(
            framework, enrolment.variant, organisation=enrolment.organisation
        ),
        learner_account_id=enrolment.learner_account_id,
        actor="system",
        at=now,
    )
    if enrolment.status != "completed":
        enrolment.status = "completed"
        enrolment.completed_at = now
        session.add(enrolment)
        record_event(
            session,
            "programme.completed",
            actor="system",
            organisation=enrolment.organisation,
            target=f"enrolment:{enrolment.reference}",
            details={"credential": row.credential_id},
            at=now,
        )
    return row


def live_credentials(
    session: Session, enrolment: ProgrammeEnrolment, competency: str
) -> list[ProgrammeCredential]:
    """Return the live credentials a competency's sign-off led to: its own
    and the programme's."""
    rows = session.exec(
        select(ProgrammeCredential).where(
            ProgrammeCredential.enrolment_id == enrolment.id,
            col(ProgrammeCredential.revoked_at).is_(None),
        )
    ).all()
    return [row for row in rows if row.competency in (competency, None)]
