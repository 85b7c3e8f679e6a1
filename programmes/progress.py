"""Progress figures per learner and per cohort, and the assessor queue.

The cohort figures come from three queries whatever the cohort's size
(enrolments, overdue review tasks, and record counts aggregated by the
database), so the lead's dashboard and ``passport programmes progress``
stay fast for large cohorts.

A sign-off is overdue when a competency has had all its evidence for more
than :data:`SIGN_OFF_DUE_DAYS` days and is still open.
"""

from collections import defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Select, and_, case, distinct, func, or_, text
from sqlalchemy import select as sql_select
from sqlmodel import Session, col, select

from accounts.models import RoleGrant
from programmes.errors import SignOffRejected
from programmes.framework import Framework
from programmes.lookup import signatures_of
from programmes.models import (
    CompetencyRecord,
    EvidenceItem,
    ProgrammeCohort,
    ProgrammeEnrolment,
)
from programmes.roles import ACCOUNT_ROLES
from programmes.signoff import choose_signer
from workflows.models import WorkflowActivity
from workflows.runtime import HUMAN_KINDS, OPEN

SIGN_OFF_DUE_DAYS = 14
DONE = ("signed-off", "counted")
AWAITING = 1
OVERDUE = 2


@dataclass(frozen=True)
class LearnerProgress:
    reference: str
    learner: str
    organisation: str
    variant: str
    status: str
    competencies: int
    signed_off: int
    counted: int
    returned: int
    awaiting_sign_off: int
    overdue_sign_offs: int
    overdue_reviews: int
    by_domain: dict[str, dict[str, int]]

    @property
    def percent_complete(self) -> float:
        done = self.signed_off + self.counted
        return round(100 * done / self.competencies, 1) if self.competencies else 0.0

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["percent_complete"] = self.percent_complete
        return data


@dataclass(frozen=True)
class CohortProgress:
    cohort: str
    title: str
    framework: str
    organisations: tuple[str, ...]
    learners: tuple[LearnerProgress, ...]

    def totals(self) -> dict[str, Any]:
        """Return the cohort figures summed over its learners."""
        competencies = sum(item.competencies for item in self.learners)
        done = sum(item.signed_off + item.counted for item in self.learners)
        return {
            "learners": len(self.learners),
            "completed": sum(item.status == "completed" for item in self.learners),
            "competencies": competencies,
            "signed_off": sum(item.signed_off for item in self.learners),
            "counted": sum(item.counted for item in self.learners),
            "awaiting_sign_off": sum(item.awaiting_sign_off for item in self.learners),
            "overdue_sign_offs": sum(item.overdue_sign_offs for item in self.learners),
            "overdue_reviews": sum(item.overdue_reviews for item in self.learners),
            "percent_complete": round(100 * done / competencies, 1)
            if competencies
            else 0.0,
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "cohort": self.cohort,
            "title": self.title,
            "framework": self.framework,
            "organisations": list(self.organisations),
            "totals": self.totals(),
            "learners": [item.to_json() for item in self.learners],
        }


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def cohort_progress(
    session: Session, framework: Framework, cohort: ProgrammeCohort, now: datetime
) -> CohortProgress:
    """Compute the figures of every learner of ``cohort``."""
    from accounts.models import UserAccount

    # sqlmodel's select() is typed for at most four columns.
    enrolments = session.execute(
        sql_select(
            col(ProgrammeEnrolment.id),
            col(ProgrammeEnrolment.reference),
            col(ProgrammeEnrolment.organisation),
            col(ProgrammeEnrolment.variant),
            col(ProgrammeEnrolment.status),
            col(ProgrammeEnrolment.review_instance_id),
            col(UserAccount.display_name),
        )
        .join(UserAccount, col(UserAccount.id) == ProgrammeEnrolment.learner_account_id)
        .where(col(ProgrammeEnrolment.cohort_id) == cohort.id)
        .order_by(col(ProgrammeEnrolment.id))
    ).all()
    instances = {
        instance_id: enrolment_id
        for enrolment_id, _, _, _, _, instance_id, _ in enrolments
        if instance_id
    }
    overdue_reviews: dict[int | None, int] = defaultdict(int)
    for instance_id in session.exec(
        select(WorkflowActivity.instance_id).where(
            col(WorkflowActivity.instance_id).in_(
                sql_select(col(ProgrammeEnrolment.review_instance_id)).where(
                    col(ProgrammeEnrolment.cohort_id) == cohort.id
                )
            ),
            col(WorkflowActivity.kind).in_(HUMAN_KINDS),
            col(WorkflowActivity.status).in_(OPEN),
            col(WorkflowActivity.due_at) < now,
        )
    ).all():
        overdue_reviews[instances[instance_id]] += 1

    figures: dict[int | None, dict[str, Any]] = {
        row[0]: {
            "counts": defaultdict(int),
            "domains": defaultdict(lambda: defaultdict(int)),
        }
        for row in enrolments
    }
    due_before = (now - timedelta(days=SIGN_OFF_DUE_DAYS)).astimezone(UTC)
    if session.get_bind().dialect.name == "postgresql":
        # PostgreSQL 15 prices the per-record subquery high enough to JIT
        # compile the query. For 500 learners that compiling took 59 ms of a
        # 370 ms run, against 161 ms with JIT off. SET LOCAL ends with the
        # transaction.
        session.execute(text("SET LOCAL jit = off"))
    for enrolment_id, domain_id, status, count, awaiting, overdue in session.execute(
        _record_counts(framework, cohort, due_before)
    ).all():
        if domain_id is None:
            continue
        counts = figures[enrolment_id]["counts"]
        domain = figures[enrolment_id]["domains"][domain_id]
        domain["competencies"] += count
        domain["done"] += count if status in DONE else 0
        counts["competencies"] += count
        counts[status] += count
        counts["awaiting"] += int(awaiting or 0)
        counts["overdue"] += int(overdue or 0)

    learners = []
    for enrolment_id, reference, organisation, variant, status, _, name in enrolments:
        counts = figures[enrolment_id]["counts"]
        learners.append(
            LearnerProgress(
                reference=reference,
                learner=name,
                organisation=organisation,
                variant=variant,
                status=status,
                competencies=counts["competencies"],
                signed_off=counts["signed-off"],
                counted=counts["counted"],
                returned=counts["returned"],
                awaiting_sign_off=counts["awaiting"],
                overdue_sign_offs=counts["overdue"],
                overdue_reviews=overdue_reviews[enrolment_id],
                by_domain={
                    domain: dict(values)
                    for domain, values in sorted(
                        figures[enrolment_id]["domains"].items()
                    )
                },
            )
        )
    organisations = tuple(sorted({item.organisation for item in learners}))
    return CohortProgress(
        cohort=cohort.code,
        title=cohort.title,
        framework=f"{framework.id} v{framework.version}",
        organisations=organisations,
        learners=tuple(learners),
    )


def _record_counts(
    framework: Framework, cohort: ProgrammeCohort, due_before: datetime
) -> Select[Any]:
    """Build the query that counts a cohort's competency records per learner,
    domain and status, with how many of them await sign-off and how many of
    those are overdue.

    The database does the counting, so a cohort of 500 learners with 40
    competencies each returns a few rows per learner instead of 20,000
    records and their evidence. The framework's evidence lists and domains
    enter the query as CASE expressions. A record awaits sign-off when it
    is not done and has evidence of every type its competency needs, and
    it is overdue when the newest of those items is older than
    ``due_before``.
    """
    competencies = list(framework.competencies.values())
    required = or_(
        *(
            and_(
                col(CompetencyRecord.competency) == competency.id,
                col(EvidenceItem.evidence_type).in_(competency.evidence),
            )
            for competency in competencies
        )
    )
    needed = case(
        {competency.id: len(competency.evidence) for competency in competencies},
        value=col(CompetencyRecord.competency),
        else_=None,
    )
    present = func.count(distinct(col(EvidenceItem.evidence_type)))
    # 0: evidence missing, 1: awaiting sign-off, 2: awaiting and overdue.
    readiness = (
        sql_select(
            case(
                (
                    and_(
                        present >= needed, func.max(EvidenceItem.added_at) < due_before
                    ),
                    OVERDUE,
                ),
                (present >= needed, AWAITING),
                else_=0,
            )
        )
        .where(col(EvidenceItem.record_id) == CompetencyRecord.id, required)
        .scalar_subquery()
    )
    # MATERIALIZED makes SQLite and PostgreSQL run the per-record subquery
    # once per record. Inlined into the outer query, SQLite ran it once per
    # reference to it, about twice as slow in bench/programme_dashboard.py.
    per_record = (
        sql_select(
            col(CompetencyRecord.enrolment_id).label("enrolment_id"),
            col(CompetencyRecord.competency).label("competency"),
            col(CompetencyRecord.status).label("status"),
            case((col(CompetencyRecord.status).not_in(DONE), readiness), else_=0).label(
                "readiness"
            ),
        )
        .join(
            ProgrammeEnrolment,
            col(ProgrammeEnrolment.id) == CompetencyRecord.enrolment_id,
        )
        .where(col(ProgrammeEnrolment.cohort_id) == cohort.id)
        .cte("per_record")
        .prefix_with("MATERIALIZED")
    )
    domain = case(
        {competency.id: competency.domain for competency in competencies},
        value=per_record.c.competency,
        else_=None,
    ).label("domain")
    query: Select[Any] = sql_select(
        per_record.c.enrolment_id,
        domain,
        per_record.c.status,
        func.count().label("records"),
        func.sum(case((per_record.c.readiness >= AWAITING, 1), else_=0)).label(
            "awaiting"
        ),
        func.sum(case((per_record.c.readiness == OVERDUE, 1), else_=0)).label(
            "overdue"
        ),
    ).group_by(per_record.c.enrolment_id, domain, per_record.c.status)
    return query


@dataclass(frozen=True)
class QueueItem:
    """A competency waiting for the account's signature."""

    reference: str
    learner: str
    cohort: str
    competency: str
    title: str
    domain: str
    role: str
    status: str
    expected_rating: str | None
    signatures: int
    ready_since: datetime
    overdue: bool


def queue_for(
    session: Session,
    account_id: int,
    framework_of: Callable[[Session, ProgrammeCohort], Framework],
    now: datetime,
) -> list[QueueItem]:
    """List the competencies the account may sign now, oldest ready first."""
    from accounts.models import UserAccount

    organisations = [
        slug
        for slug in session.exec(
            select(RoleGrant.organisation_slug).where(
                RoleGrant.account_id == account_id,
                col(RoleGrant.role).in_(list(ACCOUNT_ROLES.values())),
            )
        ).all()
        if slug is not None
    ]
    candidates = session.exec(
        select(ProgrammeEnrolment, ProgrammeCohort, UserAccount.display_name)
        .join(ProgrammeCohort, col(ProgrammeCohort.id) == ProgrammeEnrolment.cohort_id)
        .join(UserAccount, col(UserAccount.id) == ProgrammeEnrolment.learner_account_id)
        .where(
            ProgrammeEnrolment.status == "active",
            ProgrammeEnrolment.learner_account_id != account_id,
            or_(
                col(ProgrammeEnrolment.organisation).in_(organisations),
                col(ProgrammeCohort.lead_account_id) == account_id,
                col(ProgrammeCohort.university).in_(organisations),
            ),
        )
    ).all()
    items = []
    due_before = now - timedelta(days=SIGN_OFF_DUE_DAYS)
    for enrolment, cohort, name in candidates:
        framework = framework_of(session, cohort)
        records = session.exec(
            select(CompetencyRecord).where(
                CompetencyRecord.enrolment_id == enrolment.id,
                col(CompetencyRecord.status).in_(("open", "returned")),
            )
        ).all()
        for record in records:
            competency = framework.competencies[record.competency]
            present: dict[str, datetime] = {}
            for kind, added_at in session.exec(
                select(EvidenceItem.evidence_type, EvidenceItem.added_at).where(
                    EvidenceItem.record_id == record.id
                )
            ).all():
                present[kind] = max(
                    present.get(kind, _aware(added_at)), _aware(added_at)
                )
            if not all(kind in present for kind in competency.evidence):
                continue
            signatures = signatures_of(session, record)
            try:
                signer = choose_signer(
                    session,
                    account_id=account_id,
                    framework=framework,
                    competency=competency,
                    enrolment=enrolment,
                    cohort=cohort,
                    signatures=signatures,
                )
            except SignOffRejected:
                continue
            ready_since = max(present[kind] for kind in competency.evidence)
            items.append(
                QueueItem(
                    reference=enrolment.reference,
                    learner=name,
                    cohort=cohort.code,
                    competency=competency.id,
                    title=competency.title,
                    domain=competency.domain,
                    role=signer.role,
                    status=record.status,
                    expected_rating=competency.expected_rating,
                    signatures=len(signatures),
                    ready_since=ready_since,
                    overdue=ready_since < due_before,
                )
            )
    items.sort(key=lambda item: item.ready_since)
    return items
