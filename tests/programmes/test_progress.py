"""The cohort progress figures that the database counts: what awaits
sign-off, when a sign-off becomes overdue, and what a returned or
signed-off competency adds."""

from datetime import timedelta
from typing import Any

from programmes.progress import SIGN_OFF_DUE_DAYS
from programmes.service import Programmes
from tests.programmes.conftest import People
from tests.programmes.test_service import add_all_evidence
from workflows.clock import FakeClock

COHORT = "GLP-2026"
DUE = timedelta(days=SIGN_OFF_DUE_DAYS)


def learner_figures(programmes: Programmes) -> dict[str, Any]:
    progress = programmes.progress(COHORT)
    assert len(progress.learners) == 1
    return progress.learners[0].to_json()


def test_partial_evidence_not_awaiting(
    programmes: Programmes, enrolment_ref: str, people: People
) -> None:
    programmes.add_evidence(
        enrolment_ref,
        "clin-delegation",
        account_id=people.learner,
        evidence_type="reflection",
        title="Delegating the drug round",
        text="I should confirm the plan at handover.",
    )

    figures = learner_figures(programmes)

    assert figures["awaiting_sign_off"] == 0
    assert figures["overdue_sign_offs"] == 0
    assert figures["signed_off"] == 0


def test_sign_off_due_after_fourteen_days(
    programmes: Programmes, enrolment_ref: str, people: People, clock: FakeClock
) -> None:
    add_all_evidence(programmes, enrolment_ref, "clin-delegation", people)
    completed = clock.now()

    clock.set(completed + DUE - timedelta(minutes=1))
    before = learner_figures(programmes)
    clock.set(completed + DUE + timedelta(minutes=1))
    after = learner_figures(programmes)

    assert before["awaiting_sign_off"] == 1
    assert before["overdue_sign_offs"] == 0
    assert after["awaiting_sign_off"] == 1
    assert after["overdue_sign_offs"] == 1


def test_newest_needed_item_sets_due_date(
    programmes: Programmes, enrolment_ref: str, people: People, clock: FakeClock
) -> None:
    # The reflection comes ten days after the observation record, so the
    # sign-off is due fourteen days after the reflection.
    programmes.add_evidence(
        enrolment_ref,
        "clin-delegation",
        account_id=people.supervisor,
        evidence_type="observation-record",
        title="Late shift",
        text="Allocated the team by acuity.",
    )
    clock.advance(timedelta(days=10))
    programmes.add_evidence(
        enrolment_ref,
        "clin-delegation",
        account_id=people.learner,
        evidence_type="reflection",
        title="Delegating",
        text="Confirm the plan at handover.",
    )
    completed = clock.now()

    clock.set(completed + DUE - timedelta(days=1))
    before = learner_figures(programmes)
    clock.set(completed + DUE + timedelta(days=1))
    after = learner_figures(programmes)

    assert before["overdue_sign_offs"] == 0
    assert after["overdue_sign_offs"] == 1


def test_signed_off_and_returned_counts(
    programmes: Programmes, enrolment_ref: str, people: People
) -> None:
    add_all_evidence(programmes, enrolment_ref, "clin-delegation", people)
    programmes.sign_off(enrolment_ref, "clin-delegation", account_id=people.assessor)
    add_all_evidence(programmes, enrolment_ref, "clin-ward-coordination", people)
    programmes.return_competency(
        enrolment_ref,
        "clin-ward-coordination",
        account_id=people.assessor,
        comment="Add a shift you coordinated alone.",
    )

    figures = learner_figures(programmes)

    assert figures["competencies"] == 13
    assert figures["signed_off"] == 1
    assert figures["returned"] == 1
    # A returned competency whose evidence is all there waits again.
    assert figures["awaiting_sign_off"] == 1
    assert figures["by_domain"]["clinical"] == {"competencies": 4, "done": 1}
    assert figures["by_domain"]["managerial"] == {"competencies": 6, "done": 0}
    assert figures["percent_complete"] == round(100 / 13, 1)
