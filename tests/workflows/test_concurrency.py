import multiprocessing
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from tests.workflows.conftest import (
    ORGANISATIONS,
    TEAMS,
    definition,
    open_tasks,
    start,
    task,
)
from tests.workflows.join_worker import complete_branch
from workflows.models import WorkflowEvent, WorkflowInstance

PARALLEL = [
    {
        "id": "screening",
        "type": "parallel",
        "selectionBehavior": "all",
        "action": [task("skin"), task("nutrition")],
    },
    task("plan"),
]


@pytest.mark.postgres
def test_join_fires_once_from_two_processes(postgres_url):
    """Both branches of a parallel block completed at once from two
    processes, 200 times: one join each."""
    from passport.db import make_engine, upgrade_database
    from tests.workflows.conftest import create_account
    from workflows.engine import WorkflowEngine

    upgrade_database(postgres_url)
    database = make_engine(postgres_url)
    workflows = WorkflowEngine(database)
    nurse = create_account(
        database, "nurse@example.org", memberships=[("chelmer-valley", "rn", "ward-7")]
    )
    workflows.publish(definition("parallel-screening", PARALLEL))
    instances = [
        start(workflows, "parallel-screening", key=f"episode-{n}") for n in range(200)
    ]
    skin, nutrition = [], []
    for instance_id in instances:
        tasks = {t.node_id: t.id for t in open_tasks(workflows, instance_id)}
        skin.append(tasks["skin"])
        nutrition.append(tasks["nutrition"])

    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(2)
    errors = context.Queue()
    workers = [
        context.Process(
            target=complete_branch, args=(postgres_url, nurse, ids, barrier, errors)
        )
        for ids in (skin, nutrition)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=600)

    assert [worker.exitcode for worker in workers] == [0, 0]
    assert errors.empty()
    with Session(database) as session:
        joins = dict(
            session.exec(
                select(WorkflowEvent.instance_id, func.count())
                .where(WorkflowEvent.kind == "join.fired")
                .group_by(WorkflowEvent.instance_id)
            ).all()
        )
    assert len(joins) == 200
    assert set(joins.values()) == {1}
    for instance_id in instances:
        assert [t.node_id for t in open_tasks(workflows, instance_id)] == ["plan"]
    database.dispose()


def test_same_request_key_at_once_changes_once(workflows, nurse):
    """The same completion sent twice at once with one request key: one
    change, and both senders get the same response."""
    workflows.publish(definition("parallel-screening", PARALLEL))
    instance_id = start(workflows, "parallel-screening")
    skin = open_tasks(workflows, instance_id, "skin")[0]
    barrier = threading.Barrier(2)

    def send():
        barrier.wait(timeout=30)
        return workflows.complete(
            skin.id, account_id=nurse, values={}, request_key="tablet-7f3a-0001"
        )

    with ThreadPoolExecutor(2) as pool:
        responses = list(pool.map(lambda _: send(), range(2)))

    assert responses[0] == responses[1]
    assert responses[0]["status"] == "completed"
    assert workflows.count_events(instance_id, "task.completed") == 1
    assert [t.node_id for t in open_tasks(workflows, instance_id)] == ["nutrition"]


def test_twenty_concurrent_starts_one_instance(workflows):
    """Twenty concurrent starts with one business key: one instance."""
    workflows.publish(definition("parallel-screening", PARALLEL))
    barrier = threading.Barrier(20)

    def begin():
        barrier.wait(timeout=30)
        return workflows.start(
            "parallel-screening",
            business_key="episode-shared",
            subject_ref="PT-SHARED",
            organisations=ORGANISATIONS,
            teams=TEAMS,
        )

    with ThreadPoolExecutor(20) as pool:
        results = list(pool.map(lambda _: begin(), range(20)))

    assert len({result.instance_id for result in results}) == 1
    assert sum(result.created for result in results) == 1
    with Session(workflows.engine) as session:
        count = session.exec(select(func.count()).select_from(WorkflowInstance)).one()
    assert count == 1
    instance_id = results[0].instance_id
    assert workflows.count_events(instance_id, "instance.started") == 1
    assert len(open_tasks(workflows, instance_id)) == 2


def test_handoff_message_written_once_under_race(workflows, nurse):
    """Two completions racing on the step before a handoff leave one handoff
    task and one outbox message, written in the same transaction."""
    from workflows.models import WorkflowActivity, WorkflowOutbox

    handoff = {
        "id": "refer",
        "type": "handoff",
        "title": "Referral",
        "participant": {"role": "social-worker", "organisation": "council"},
        "request": {"code": "d2a-assessment", "display": "Discharge to assess"},
        "waitFor": "completed",
    }
    workflows.publish(definition("refer", [task("assess"), handoff]))
    instance_id = start(workflows, "refer")
    assess = open_tasks(workflows, instance_id)[0]
    barrier = threading.Barrier(2)

    def send(number):
        barrier.wait(timeout=30)
        try:
            return workflows.complete(
                assess.id,
                account_id=nurse,
                values={},
                request_key=f"tablet-race-{number}",
            )
        except Exception as error:  # noqa: BLE001 - the loser is expected to fail
            return type(error).__name__

    with ThreadPoolExecutor(2) as pool:
        outcomes = list(pool.map(send, range(2)))

    assert outcomes.count("TaskNotOpen") == 1
    assert sum(isinstance(outcome, dict) for outcome in outcomes) == 1
    with Session(workflows.engine) as session:
        messages = session.exec(select(func.count()).select_from(WorkflowOutbox)).one()
        handoffs = session.exec(
            select(func.count())
            .select_from(WorkflowActivity)
            .where(WorkflowActivity.kind == "handoff")
        ).one()
    assert messages == 1
    assert handoffs == 1


def test_audit_events_are_append_only(workflows):
    from sqlalchemy import text
    from sqlalchemy.exc import DatabaseError

    workflows.publish(definition("parallel-screening", PARALLEL))
    start(workflows, "parallel-screening")

    with pytest.raises(DatabaseError, match="append-only"):
        with workflows.engine.begin() as connection:
            connection.execute(text("UPDATE workflow_event SET actor = 'someone else'"))
    with pytest.raises(DatabaseError, match="append-only"):
        with workflows.engine.begin() as connection:
            connection.execute(text("DELETE FROM workflow_event"))
    assert (
        workflows.count_events(
            workflows.history(start(workflows, "parallel-screening"))[0].instance_id,
            "instance.started",
        )
        == 1
    )
