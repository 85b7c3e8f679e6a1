"""Read models of a learner's portfolio, for the pages, the API and tests.

Table rows never leave the package; these dataclasses carry what a page
shows: each competency with its evidence, signatures and status, and what
is due next (missing evidence, sign-offs awaited, the next review).
"""

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from programmes.framework import Framework
from programmes.models import (
    CompetencyRecord,
    EvidenceItem,
    ProgrammeCohort,
    ProgrammeEnrolment,
    SignOffDecision,
)
from workflows.models import WorkflowActivity
from workflows.runtime import HUMAN_KINDS, OPEN


@dataclass(frozen=True)
class SignOffResult:
    """The outcome of a sign-off, return or withdrawal."""

    competency: str
    status: str
    signed_off: bool
    waiting_for: str | None
    credential_ids: tuple[str, ...]


@dataclass(frozen=True)
class EvidenceView:
    id: int
    evidence_type: str
    title: str
    text: str | None
    file_name: str | None
    size_bytes: int | None
    added_by_role: str
    added_at: datetime


@dataclass(frozen=True)
class DecisionView:
    account_id: int
    role: str
    decision: str
    rating: str | None
    comment: str | None
    round: int
    decided_at: datetime
    withdrawn_at: datetime | None
    withdrawal_reason: str | None


@dataclass(frozen=True)
class CompetencyView:
    id: str
    title: str
    domain: str
    dimension: str | None
    expected_rating: str | None
    rule: str
    status: str
    round: int
    rating: str | None
    evidence_needed: tuple[str, ...]
    missing_evidence: tuple[str, ...]
    evidence: tuple[EvidenceView, ...]
    decisions: tuple[DecisionView, ...]


@dataclass(frozen=True)
class ReviewView:
    step: str
    title: str
    status: str
    due_at: datetime | None
    overdue: bool


@dataclass(frozen=True)
class Portfolio:
    reference: str
    cohort: str
    cohort_title: str
    organisation: str
    variant: str
    entry_route: str
    status: str
    learner_account_id: int
    competencies: tuple[CompetencyView, ...]
    reviews: tuple[ReviewView, ...]
    due_next: tuple[str, ...]

    @property
    def done(self) -> int:
        return sum(c.status in ("signed-off", "counted") for c in self.competencies)


def portfolio_of(
    session: Session,
    framework: Framework,
    cohort: ProgrammeCohort,
    enrolment: ProgrammeEnrolment,
    now: datetime,
) -> Portfolio:
    records = {
        row.competency: row
        for row in session.exec(
            select(CompetencyRecord).where(
                CompetencyRecord.enrolment_id == enrolment.id
            )
        )
    }
    ids = [row.id for row in records.values()]
    evidence: dict[int, list[EvidenceItem]] = {}
    for item in session.exec(
        select(EvidenceItem)
        .where(col(EvidenceItem.record_id).in_(ids))
        .order_by(col(EvidenceItem.id))
    ):
        evidence.setdefault(item.record_id, []).append(item)
    decisions: dict[int, list[SignOffDecision]] = {}
    for decision in session.exec(
        select(SignOffDecision)
        .where(col(SignOffDecision.record_id).in_(ids))
        .order_by(col(SignOffDecision.id))
    ):
        decisions.setdefault(decision.record_id, []).append(decision)

    views = []
    due_next = []
    for competency in framework.competencies_for(enrolment.variant):
        record = records[competency.id]
        assert record.id is not None
        items = evidence.get(record.id, [])
        present = {item.evidence_type for item in items}
        missing = tuple(kind for kind in competency.evidence if kind not in present)
        if record.status in ("open", "returned"):
            if missing:
                titles = ", ".join(
                    framework.evidence_types[kind].title.lower() for kind in missing
                )
                due_next.append(f"{competency.title}: add {titles}")
            else:
                due_next.append(
                    f"{competency.title}: "
                    f"{framework.rule_for(competency).title.lower()}"
                )
        views.append(
            CompetencyView(
                id=competency.id,
                title=competency.title,
                domain=competency.domain,
                dimension=framework.dimensions.get(competency.dimension or ""),
                expected_rating=competency.expected_rating,
                rule=framework.rule_for(competency).title,
                status=record.status,
                round=record.round,
                rating=record.rating,
                evidence_needed=competency.evidence,
                missing_evidence=missing,
                evidence=tuple(_evidence_view(item) for item in items),
                decisions=tuple(
                    _decision_view(d) for d in decisions.get(record.id, [])
                ),
            )
        )
    reviews = review_views(session, enrolment, now)
    for review in reviews:
        if review.status in OPEN:
            due = (
                f" by {review.due_at.day} {review.due_at:%b %Y}"
                if review.due_at
                else ""
            )
            due_next.insert(0, f"{review.title}{due}")
    return Portfolio(
        reference=enrolment.reference,
        cohort=cohort.code,
        cohort_title=cohort.title,
        organisation=enrolment.organisation,
        variant=framework.variants[enrolment.variant],
        entry_route=enrolment.entry_route,
        status=enrolment.status,
        learner_account_id=enrolment.learner_account_id,
        competencies=tuple(views),
        reviews=reviews,
        due_next=tuple(due_next),
    )


def review_views(
    session: Session, enrolment: ProgrammeEnrolment, now: datetime
) -> tuple[ReviewView, ...]:
    """Return the review tasks of the learner's workflow so far."""
    if enrolment.review_instance_id is None:
        return ()
    activities = session.exec(
        select(WorkflowActivity)
        .where(
            WorkflowActivity.instance_id == enrolment.review_instance_id,
            col(WorkflowActivity.kind).in_(HUMAN_KINDS),
        )
        .order_by(col(WorkflowActivity.id))
    ).all()
    return tuple(
        ReviewView(
            step=activity.node_id,
            title=activity.title,
            status=activity.status,
            due_at=activity.due_at,
            overdue=activity.status in OPEN
            and activity.due_at is not None
            and _aware(activity.due_at) < now,
        )
        for activity in activities
    )


def _aware(moment: datetime) -> datetime:
    from datetime import UTC

    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _evidence_view(item: EvidenceItem) -> EvidenceView:
    assert item.id is not None
    return EvidenceView(
        id=item.id,
        evidence_type=item.evidence_type,
        title=item.title,
        text=item.text,
        file_name=item.file_name,
        size_bytes=item.size_bytes,
        added_by_role=item.added_by_role,
        added_at=item.added_at,
    )


def _decision_view(decision: SignOffDecision) -> DecisionView:
    return DecisionView(
        account_id=decision.account_id,
        role=decision.role,
        decision=decision.decision,
        rating=decision.rating,
        comment=decision.comment,
        round=decision.round,
        decided_at=decision.decided_at,
        withdrawn_at=decision.withdrawn_at,
        withdrawal_reason=decision.withdrawal_reason,
    )
