"""The review workflow of an enrolment on the engine: the entry assessment,
reviews dated from the learner's start, reminders and escalation to the
programme lead."""

from datetime import date, timedelta

from sqlmodel import Session, select

from programmes.service import Programmes
from tests.programmes.conftest import COUNCIL, TRUST, People
from workflows.clock import FakeClock
from workflows.dispatcher import Dispatcher
from workflows.models import WorkflowEvent
from workflows.tasks import tasks_for


def _enrol(programmes: Programmes, people: People, **extra: object) -> str:
    programmes.create_cohort(
        code="GLP-REV",
        title="Reviews",
        lead_account_id=people.lead,
        lead_organisation=COUNCIL,
        starts_on=date(2026, 9, 14),
    )
    return programmes.enrol_learner(
        cohort_code="GLP-REV",
        learner_account_id=people.learner,
        organisation=TRUST,
        variant="midwifery",
        assessor_account_id=people.assessor,
        **extra,  # type: ignore[arg-type]
    ).reference


def test_reviews_follow_start_date(
    programmes: Programmes, people: People, clock: FakeClock
) -> None:
    reference = _enrol(programmes, people)
    dispatcher = Dispatcher(programmes.workflows)

    dispatcher.run_once()
    before_start = programmes.portfolio(reference).reviews
    clock.set(clock.now().replace(month=9, day=14, hour=9))
    dispatcher.run_once()
    at_start = programmes.portfolio(reference).reviews

    assert before_start == ()
    assert [r.step for r in at_start] == ["start_review"]
    assert at_start[0].due_at is not None
    assert at_start[0].due_at.date() == date(2026, 9, 28)
    titles = [t.title for t in tasks_for(programmes.workflows, people.assessor)]
    assert "Start review with the named assessor" in titles


def test_overdue_review_escalates_to_lead(
    programmes: Programmes, people: People, clock: FakeClock
) -> None:
    _enrol(programmes, people, starts_on=date(2026, 9, 1))
    dispatcher = Dispatcher(programmes.workflows)
    dispatcher.run_once()

    clock.advance(timedelta(days=12))
    dispatcher.run_once()
    lead_before = tasks_for(programmes.workflows, people.lead)
    clock.advance(timedelta(days=3))
    dispatcher.run_once()
    lead_after = tasks_for(programmes.workflows, people.lead)

    with Session(programmes.engine) as session:
        kinds = session.exec(select(WorkflowEvent.kind)).all()
    assert "task.reminded" in kinds
    assert lead_before == []
    assert [t.step for t in lead_after] == ["start_review"]
    assert lead_after[0].escalated
    assert programmes.progress("GLP-REV").totals()["overdue_reviews"] == 1


def test_entry_assessment_route_adds_task(
    programmes: Programmes, people: People
) -> None:
    reference = _enrol(programmes, people, entry_route="entry-assessment")

    reviews = programmes.portfolio(reference).reviews

    assert [r.step for r in reviews] == ["entry_assessment"]
    lead_tasks = tasks_for(programmes.workflows, people.lead)
    assert [t.step for t in lead_tasks] == ["entry_assessment"]
