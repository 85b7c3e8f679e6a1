from datetime import timedelta

import pytest
from sqlalchemy import event, select
from sqlmodel import Session

from tests.workflows.conftest import definition, open_tasks, start, task
from workflows.dispatcher import Dispatcher
from workflows.errors import FormInvalid, NotPermitted, TaskNotOpen
from workflows.models import WorkflowOutbox

SCORE_FORM = {
    "fields": [
        {"id": "mobility", "type": "integer", "minimum": 0, "maximum": 5},
        {"id": "continence", "type": "integer", "minimum": 0, "maximum": 3},
    ],
    "scores": {"total": "mobility + continence"},
}


def test_sequence_runs_steps_in_order(workflows, nurse):
    workflows.publish(definition("two-steps", [task("first"), task("second")]))
    instance_id = start(workflows, "two-steps")

    assert [t.node_id for t in open_tasks(workflows, instance_id)] == ["first"]
    first = open_tasks(workflows, instance_id)[0]
    workflows.complete(first.id, account_id=nurse, values={})
    assert [t.node_id for t in open_tasks(workflows, instance_id)] == ["second"]

    second = open_tasks(workflows, instance_id)[0]
    workflows.complete(second.id, account_id=nurse, values={})
    assert workflows.instance(instance_id).status == "completed"


def test_form_value_out_of_range_names_field(workflows, nurse):
    workflows.publish(
        definition(
            "scored", [task("assess", form="score")], forms={"score": SCORE_FORM}
        )
    )
    instance_id = start(workflows, "scored")
    assess = open_tasks(workflows, instance_id)[0]

    with pytest.raises(FormInvalid) as caught:
        workflows.complete(assess.id, account_id=nurse, values={"mobility": 9})

    assert "field 'mobility': 9 is outside the range 0 to 5" in caught.value.errors
    assert "field 'continence' is required" in caught.value.errors
    assert open_tasks(workflows, instance_id)[0].status == "requested"


def test_score_band_table_chooses_branch(workflows, nurse):
    workflows.publish(
        definition(
            "banded",
            [
                task("assess", form="score"),
                {
                    "id": "band",
                    "type": "decision",
                    "scoreTable": "risk",
                    "input": "assess.total",
                    "branch": [
                        {"band": "high", "action": [task("high_care")]},
                        {"band": "low", "action": [task("low_care")]},
                    ],
                },
            ],
            forms={"score": SCORE_FORM},
            scoreTables={
                "risk": {
                    "bands": [{"band": "low", "max": 3}, {"band": "high", "min": 4}]
                }
            },
        )
    )
    instance_id = start(workflows, "banded")
    assess = open_tasks(workflows, instance_id)[0]

    workflows.complete(
        assess.id, account_id=nurse, values={"mobility": 3, "continence": "2"}
    )

    assert [t.node_id for t in open_tasks(workflows, instance_id)] == ["high_care"]
    assert workflows.instance(instance_id).variables["band"] == {
        "value": 5,
        "band": "high",
    }


def test_failing_condition_puts_instance_on_hold(workflows, nurse):
    """Validation cannot know which optional fields a nurse leaves empty, so a
    condition on one fails only when the instance reaches it."""
    optional = {
        "fields": [{"id": "missing_field", "type": "integer", "required": False}]
    }
    workflows.publish(
        definition(
            "broken-condition",
            [
                task("assess", form="optional"),
                {
                    "id": "check",
                    "type": "decision",
                    "branch": [
                        {
                            "condition": "assess.missing_field > 2",
                            "action": [task("act")],
                        },
                        {"otherwise": True, "action": [task("other")]},
                    ],
                },
            ],
            forms={"optional": optional},
        )
    )
    instance_id = start(workflows, "broken-condition")
    assess = open_tasks(workflows, instance_id)[0]

    workflows.complete(assess.id, account_id=nurse, values={})

    instance = workflows.instance(instance_id)
    assert instance.status == "on-hold"
    assert "missing_field" in (instance.hold_reason or "")
    assert workflows.count_events(instance_id, "instance.on-hold") == 1
    assert open_tasks(workflows, instance_id) == []


def test_completed_task_cannot_complete_again(workflows, nurse):
    workflows.publish(definition("single", [task("only")]))
    instance_id = start(workflows, "single")
    only = open_tasks(workflows, instance_id)[0]
    workflows.complete(only.id, account_id=nurse, values={})

    with pytest.raises(TaskNotOpen):
        workflows.complete(only.id, account_id=nurse, values={})


def test_task_refused_without_role(workflows, nurse):
    workflows.publish(definition("for-doctors", [task("review", role="doctor")]))
    instance_id = start(workflows, "for-doctors")
    review = open_tasks(workflows, instance_id)[0]

    with pytest.raises(NotPermitted):
        workflows.complete(review.id, account_id=nurse, values={})


def test_parallel_any_cancels_other_branch(workflows, nurse):
    workflows.publish(
        definition(
            "first-wins",
            [
                {
                    "id": "either",
                    "type": "parallel",
                    "selectionBehavior": "any",
                    "action": [task("left"), task("right")],
                },
                task("after"),
            ],
        )
    )
    instance_id = start(workflows, "first-wins")
    left = open_tasks(workflows, instance_id, "left")[0]

    workflows.complete(left.id, account_id=nurse, values={})

    assert [t.node_id for t in open_tasks(workflows, instance_id)] == ["after"]
    statuses = {a.node_id: a.status for a in workflows.activities(instance_id)}
    assert statuses["right"] == "cancelled"


def test_handoff_writes_outbox_with_task(workflows, nurse, migrated_engine):
    from tests.workflows.conftest import create_account

    social_worker = create_account(
        migrated_engine,
        "sw@example.org",
        memberships=[("essex-county", "social-worker", None)],
    )
    handoff = {
        "id": "refer",
        "type": "handoff",
        "title": "Assessment at home",
        "participant": {"role": "social-worker", "organisation": "council"},
        "request": {"code": "d2a-assessment", "display": "Discharge to assess"},
        "waitFor": "completed",
        "timing": {"due": "PT72H"},
    }
    workflows.publish(definition("handoff", [handoff, task("close")]))
    instance_id = start(workflows, "handoff")

    with Session(migrated_engine) as session:
        messages = session.exec(select(WorkflowOutbox)).scalars().all()
    assert len(messages) == 1
    bundle = messages[0].payload
    kinds = [entry["resource"]["resourceType"] for entry in bundle["entry"]]
    assert kinds == ["ServiceRequest", "Task"]
    fhir_task = bundle["entry"][1]["resource"]
    assert fhir_task["status"] == "requested"
    assert fhir_task["intent"] == "order"
    assert fhir_task["focus"] == {
        "reference": "ServiceRequest/" + bundle["entry"][0]["resource"]["id"]
    }
    assert fhir_task["for"]["identifier"]["value"] == "PT-EPISODE-1"
    assert messages[0].destination == "essex-county"

    refer = open_tasks(workflows, instance_id, "refer")[0]
    with pytest.raises(NotPermitted):
        workflows.claim(refer.id, account_id=nurse)
    workflows.claim(refer.id, account_id=social_worker)
    assert open_tasks(workflows, instance_id, "close") == []
    workflows.complete(refer.id, account_id=social_worker, values={})
    assert [t.node_id for t in open_tasks(workflows, instance_id)] == ["close"]


def test_called_protocol_returns_to_caller(workflows, nurse):
    workflows.publish(definition("screen-only", [task("screen")]))
    workflows.publish(
        definition(
            "caller",
            [{"id": "sub", "type": "call", "definition": "screen-only"}, task("after")],
        )
    )
    instance_id = start(workflows, "caller")
    caller = workflows.instance(instance_id)
    sub = next(a for a in workflows.activities(instance_id) if a.node_id == "sub")
    assert sub.child_instance_id is not None
    screen = open_tasks(workflows, sub.child_instance_id)[0]

    workflows.complete(screen.id, account_id=nurse, values={})

    assert workflows.instance(sub.child_instance_id).status == "completed"
    assert [t.node_id for t in open_tasks(workflows, instance_id)] == ["after"]
    assert workflows.instance(instance_id).lock_version > caller.lock_version


def test_parallel_screening_in_weekly_loop(workflows, nurse, clock):
    """Parallel screening inside a weekly reassessment loop: three rounds."""
    workflows.publish(
        definition(
            "weekly-screening",
            [
                {
                    "id": "reassess",
                    "type": "repeat",
                    "timing": {"every": "P7D"},
                    "until": "reassess.iteration >= 3",
                    "action": [
                        {
                            "id": "screening",
                            "type": "parallel",
                            "selectionBehavior": "all",
                            "action": [task("skin"), task("nutrition")],
                        }
                    ],
                }
            ],
        )
    )
    instance_id = start(workflows, "weekly-screening")
    dispatcher = Dispatcher(workflows)

    for round_number in (1, 2, 3):
        tasks = open_tasks(workflows, instance_id)
        assert sorted(t.node_id for t in tasks) == ["nutrition", "skin"], round_number
        for item in tasks:
            workflows.complete(item.id, account_id=nurse, values={})
        clock.advance(timedelta(days=7))
        dispatcher.run_once()

    assert workflows.instance(instance_id).status == "completed"
    assert workflows.count_events(instance_id, "join.fired") == 3
    assert workflows.count_events(instance_id, "repeat.iteration") == 3
    assert open_tasks(workflows, instance_id) == []


def _statements_to_complete(workflows, instance_id, nurse):
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    task_id = open_tasks(workflows, instance_id)[0].id
    event.listen(workflows.engine, "before_cursor_execute", count)
    try:
        workflows.complete(task_id, account_id=nurse, values={})
    finally:
        event.remove(workflows.engine, "before_cursor_execute", count)
    return statements


def test_long_history_costs_same_statements(workflows, nurse):
    """An instance with 150 completed loops completes its next task with the
    same database statements as a fresh one; the timing is in the benchmark."""
    workflows.publish(
        definition(
            "endless-loop",
            [
                {
                    "id": "loop",
                    "type": "repeat",
                    "until": "false",
                    "action": [task("turn")],
                }
            ],
        )
    )
    fresh = start(workflows, "endless-loop", key="fresh")
    worn = start(workflows, "endless-loop", key="worn")
    workflows.complete(open_tasks(workflows, fresh)[0].id, account_id=nurse, values={})
    for _ in range(150):
        workflows.complete(
            open_tasks(workflows, worn)[0].id, account_id=nurse, values={}
        )

    fresh_statements = _statements_to_complete(workflows, fresh, nurse)
    worn_statements = _statements_to_complete(workflows, worn, nurse)

    assert len(worn_statements) == len(fresh_statements)
    assert workflows.instance(worn).variables["loop"]["iteration"] == 152


def test_request_key_reused_for_other_task(workflows, nurse):
    from workflows.errors import WorkflowError

    workflows.publish(definition("two-steps", [task("first"), task("second")]))
    instance_id = start(workflows, "two-steps")
    first = open_tasks(workflows, instance_id)[0]
    workflows.complete(
        first.id, account_id=nurse, values={}, request_key="tablet-key-0001"
    )
    second = open_tasks(workflows, instance_id)[0]

    with pytest.raises(WorkflowError, match="already used for task"):
        workflows.complete(
            second.id, account_id=nurse, values={}, request_key="tablet-key-0001"
        )

    assert open_tasks(workflows, instance_id)[0].id == second.id
