"""Waits counted from a date variable, and task reminders before the due time."""

from datetime import timedelta

import pytest
from sqlmodel import Session, select

from tests.workflows.conftest import START, definition, start, task
from workflows.definitions import compile_definition
from workflows.dispatcher import Dispatcher
from workflows.errors import DefinitionInvalid
from workflows.models import WorkflowActivity, WorkflowEvent


def _events(engine, kind):
    with Session(engine) as session:
        return list(
            session.exec(select(WorkflowEvent).where(WorkflowEvent.kind == kind))
        )


def _activity(engine, node_id):
    with Session(engine) as session:
        return session.exec(
            select(WorkflowActivity).where(WorkflowActivity.node_id == node_id)
        ).first()


REVIEW = [
    {
        "id": "until_mid",
        "type": "wait",
        "timing": {"duration": "P26W", "from": "start_date"},
    },
    task(
        "mid_review",
        timing={"due": "P14D", "remindBefore": ["P7D", "P1D"]},
        escalation=[
            {
                "after": "P14D",
                "participant": {"role": "lead", "organisation": "hospital"},
            }
        ],
    ),
]


START_DATA = [{"id": "start_date", "label": "Start date", "type": "text"}]


def test_wait_counts_from_start_date(workflows, clock):
    workflows.publish(definition("review", REVIEW, startData=START_DATA))
    start_date = (START + timedelta(days=10)).date().isoformat()

    start(workflows, "review", key="learner-1", data={"start_date": start_date})

    wait = _activity(workflows.engine, "until_mid")
    assert wait.due_at.date().isoformat() == "2026-09-10"  # 12 March plus 26 weeks


def test_reminders_then_escalation(workflows, clock):
    workflows.publish(definition("review", REVIEW, startData=START_DATA))
    start(workflows, "review", key="learner-1", data={"start_date": "2026-03-02"})
    dispatcher = Dispatcher(workflows)

    clock.advance(timedelta(weeks=26, hours=1))
    dispatcher.run_once()
    clock.advance(timedelta(days=7))
    dispatcher.run_once()
    first = len(_events(workflows.engine, "task.reminded"))
    clock.advance(timedelta(days=6))
    dispatcher.run_once()
    second = len(_events(workflows.engine, "task.reminded"))
    clock.advance(timedelta(days=1))
    dispatcher.run_once()

    assert first == 1
    assert second == 2
    assert len(_events(workflows.engine, "task.escalated")) == 1
    assert _activity(workflows.engine, "mid_review").escalated_role == "lead"


def test_past_reminder_is_skipped(workflows, clock):
    workflows.publish(
        definition(
            "short", [task("quick", timing={"due": "PT1H", "remindBefore": ["P1D"]})]
        )
    )
    start(workflows, "short", key="episode-1")

    clock.advance(timedelta(hours=2))
    Dispatcher(workflows).run_once()

    assert _events(workflows.engine, "task.reminded") == []


def test_bad_start_date_holds_instance(workflows, clock):
    workflows.publish(definition("review", REVIEW, startData=START_DATA))

    started = start(workflows, "review", key="learner-1", data={"start_date": "soon"})

    instance = workflows.instance(started)
    assert instance.status == "on-hold"
    assert "start_date" in (instance.hold_reason or "")


@pytest.mark.parametrize(
    ("timing", "message"),
    [
        ({"remindBefore": ["P1D"]}, "due"),
        ({"due": "P1D", "remindBefore": ["one day"]}, "ISO 8601 duration"),
    ],
)
def test_reminder_schema_errors(timing, message):
    document = {
        "id": "bad",
        "version": 1,
        "title": "Bad",
        "sources": [{"title": "Test", "url": "https://example.org"}],
        "organisations": ["hospital"],
        "action": [task("step", timing=timing)],
    }

    with pytest.raises(DefinitionInvalid, match=message):
        compile_definition(document)


def test_wait_from_undeclared_start_data_rejected():
    with pytest.raises(DefinitionInvalid) as caught:
        definition("review", REVIEW)

    assert caught.value.errors == [
        "action[0].timing.from: 'start_date' is not a start-data field of this "
        "definition; declare it under startData"
    ]
