"""Reading programme rows inside a transaction: cohorts, enrolments, the
competency records and their evidence and signatures.

``lock=True`` touches the enrolment row first, which takes its write lock
(a row lock on PostgreSQL, the database write lock on SQLite), so the
sign-offs and completions of one learner run one after another.
"""

from sqlalchemy import update
from sqlmodel import Session, col, select

from accounts.models import RoleGrant
from programmes.errors import NotFound
from programmes.framework import Competency, Framework, read_framework
from programmes.models import (
    CompetencyRecord,
    EvidenceItem,
    ProgrammeCohort,
    ProgrammeEnrolment,
    SignOffDecision,
)
from workflows.definitions import compile_definition
from workflows.models import WorkflowDefinition

SIGNED = "signed"
RETURNED = "returned"


# Frameworks read from published definitions, by content hash. A published
# version never changes, so an entry never goes stale; there is one entry
# per framework version a process has used.
_FRAMEWORKS: dict[str, Framework] = {}


def framework_of(session: Session, cohort: ProgrammeCohort) -> Framework:
    """Return the framework version a cohort follows, as published.

    :raises NotFound: when that version is not published in this database.
    """
    row = session.exec(
        select(WorkflowDefinition.content_hash, WorkflowDefinition.id).where(
            WorkflowDefinition.definition_id == cohort.framework_id,
            WorkflowDefinition.version == cohort.framework_version,
        )
    ).first()
    if row is None:
        raise NotFound(
            f"Framework {cohort.framework_id!r} version {cohort.framework_version} "
            "is not published; publish it with 'passport workflows import' or "
            "create the cohort again."
        )
    content_hash, definition_pk = row
    framework = _FRAMEWORKS.get(content_hash)
    if framework is None:
        stored = session.get(WorkflowDefinition, definition_pk)
        assert stored is not None
        framework = read_framework(
            compile_definition(stored.document, source=cohort.framework_id)
        )
        _FRAMEWORKS[content_hash] = framework
    return framework


def find_cohort(session: Session, code: str) -> ProgrammeCohort | None:
    return session.exec(
        select(ProgrammeCohort).where(ProgrammeCohort.code == code)
    ).first()


def get_cohort(session: Session, code: str) -> ProgrammeCohort:
    """Return the cohort with ``code``.

    :raises NotFound: when there is none.
    """
    cohort = find_cohort(session, code)
    if cohort is None:
        raise NotFound(f"No cohort {code!r}; check the code or create the cohort.")
    return cohort


def find_enrolment(
    session: Session, reference: str, *, lock: bool = False
) -> ProgrammeEnrolment | None:
    if lock:
        session.execute(
            update(ProgrammeEnrolment)
            .where(col(ProgrammeEnrolment.reference) == reference)
            .values(reference=reference)
            .execution_options(synchronize_session=False)
        )
    return session.exec(
        select(ProgrammeEnrolment).where(ProgrammeEnrolment.reference == reference)
    ).first()


def get_enrolment(
    session: Session, reference: str, *, lock: bool = False
) -> ProgrammeEnrolment:
    """Return the enrolment with ``reference``, locked if asked.

    :raises NotFound: when there is none.
    """
    enrolment = find_enrolment(session, reference, lock=lock)
    if enrolment is None:
        raise NotFound(f"No enrolment {reference!r}.")
    return enrolment


def cohort_of(session: Session, enrolment: ProgrammeEnrolment) -> ProgrammeCohort:
    cohort = session.get(ProgrammeCohort, enrolment.cohort_id)
    assert cohort is not None  # a foreign key
    return cohort


def records_of(
    session: Session, enrolment: ProgrammeEnrolment
) -> dict[str, CompetencyRecord]:
    """Return the enrolment's competency records by competency id."""
    rows = session.exec(
        select(CompetencyRecord).where(CompetencyRecord.enrolment_id == enrolment.id)
    ).all()
    return {row.competency: row for row in rows}


def locate(
    session: Session, reference: str, competency: str, *, lock: bool = False
) -> tuple[ProgrammeEnrolment, ProgrammeCohort, CompetencyRecord, Competency]:
    """Return an enrolment, its cohort, and one competency's record and
    definition.

    :raises NotFound: when the enrolment or the competency is unknown.
    """
    enrolment = get_enrolment(session, reference, lock=lock)
    cohort = cohort_of(session, enrolment)
    record = records_of(session, enrolment).get(competency)
    if record is None:
        raise NotFound(
            f"Competency {competency!r} is not in enrolment {reference}'s "
            f"{enrolment.variant} programme."
        )
    if lock:
        session.refresh(record)
    framework = framework_of(session, cohort)
    return enrolment, cohort, record, framework.competencies[competency]


def signatures_of(session: Session, record: CompetencyRecord) -> list[SignOffDecision]:
    """Return the signatures that count: this round's, not withdrawn."""
    return list(
        session.exec(
            select(SignOffDecision).where(
                SignOffDecision.record_id == record.id,
                SignOffDecision.round == record.round,
                SignOffDecision.decision == SIGNED,
                col(SignOffDecision.withdrawn_at).is_(None),
            )
        )
    )


def evidence_types_of(session: Session, record: CompetencyRecord) -> list[str]:
    return list(
        session.exec(
            select(EvidenceItem.evidence_type).where(
                EvidenceItem.record_id == record.id
            )
        )
    )


def missing_evidence(
    session: Session, record: CompetencyRecord, competency: Competency
) -> list[str]:
    present = set(evidence_types_of(session, record))
    return [kind for kind in competency.evidence if kind not in present]


def grants_of(session: Session, account_id: int) -> set[tuple[str, str | None]]:
    """Return the account's (role, organisation) grants as they are now."""
    rows = session.exec(
        select(RoleGrant.role, RoleGrant.organisation_slug).where(
            RoleGrant.account_id == account_id
        )
    ).all()
    return set(rows)
