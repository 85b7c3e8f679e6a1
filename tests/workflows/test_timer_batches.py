"""Timer batches where one batch touches a called protocol and its caller,
several kinds of timer of one instance, a hand-off and the activity id
sequence."""

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlmodel import Session, col, select

from tests.workflows.conftest import START, definition, open_tasks, start, task
from workflows.dispatcher import Dispatcher
from workflows.engine import WorkflowEngine
from workflows.models import WorkflowEvent, WorkflowOutbox, WorkflowTimer

HOUR_WAIT = {"type": "wait", "timing": {"duration": "PT1H"}}


def _timers(engine, status: str) -> list[WorkflowTimer]:
    with Session(engine) as session:
        return list(
            session.exec(select(WorkflowTimer).where(WorkflowTimer.status == status))
        )


def test_called_protocol_and_caller_timers_fire_in_one_batch(workflows, clock):
    """A called protocol's wait and its caller's wait fall due together: the
    batch finishes the called protocol, moves the caller on and fires each
    timer once."""
    workflows.publish(definition("pause", [{"id": "pause", **HOUR_WAIT}]))
    workflows.publish(
        definition(
            "caller",
            [
                {
                    "id": "both",
                    "type": "parallel",
                    "selectionBehavior": "all",
                    "action": [
                        {"id": "sub", "type": "call", "definition": "pause"},
                        {"id": "own", **HOUR_WAIT},
                    ],
                },
                task("after"),
            ],
        )
    )
    callers = [start(workflows, "caller", key=f"episode-{n}") for n in range(4)]
    clock.advance(timedelta(hours=1))

    report = Dispatcher(workflows).run_once()

    assert (report.fired, report.failed) == (8, 0)
    assert len(_timers(workflows.engine, "fired")) == 8
    assert _timers(workflows.engine, "scheduled") == []
    for instance_id in callers:
        assert workflows.instance(instance_id).status == "active"
        assert [t.node_id for t in open_tasks(workflows, instance_id)] == ["after"]
        sub = next(a for a in workflows.activities(instance_id) if a.node_id == "sub")
        assert sub.status == "completed"
        assert workflows.instance(sub.child_instance_id).status == "completed"
        assert workflows.count_events(instance_id, "join.fired") == 1
    assert Dispatcher(workflows).run_once().fired == 0


def test_every_timer_kind_of_one_instance_in_one_batch(workflows, clock):
    """A repeat, a task's reminder and escalation and a wait of one instance
    fall due together. Each acts once, the wait's hand-off is written with
    its task, and the repeat's next due time is a whole period later."""
    workflows.publish(
        definition(
            "busy",
            [
                {
                    "id": "all",
                    "type": "parallel",
                    "selectionBehavior": "all",
                    "action": [
                        {
                            "id": "rounds",
                            "type": "repeat",
                            "timing": {"every": "PT1H"},
                            "action": [task("turn", role="hca")],
                        },
                        task(
                            "check",
                            timing={"due": "PT2H", "remindBefore": ["PT1H"]},
                            escalation=[
                                {
                                    "after": "PT1H",
                                    "participant": {
                                        "role": "lead",
                                        "organisation": "hospital",
                                    },
                                }
                            ],
                        ),
                        {
                            "id": "hold",
                            "type": "sequence",
                            "action": [
                                {"id": "pause", **HOUR_WAIT},
                                {
                                    "id": "refer",
                                    "type": "handoff",
                                    "title": "Assessment at home",
                                    "participant": {
                                        "role": "social-worker",
                                        "organisation": "council",
                                    },
                                    "request": {
                                        "code": "d2a-assessment",
                                        "display": "Discharge to assess",
                                    },
                                    "waitFor": "completed",
                                },
                            ],
                        },
                    ],
                }
            ],
        )
    )
    instances = [start(workflows, "busy", key=f"episode-{n}") for n in range(3)]
    clock.advance(timedelta(hours=1))

    report = Dispatcher(workflows).run_once()

    assert (report.fired, report.failed) == (12, 0)
    scheduled = _timers(workflows.engine, "scheduled")
    assert sorted(t.kind for t in scheduled) == ["repeat"] * 3
    assert {t.due_at for t in scheduled} == {START + timedelta(hours=2)}
    with Session(workflows.engine) as session:
        outbox = list(session.exec(select(WorkflowOutbox)))
    assert sorted(message.instance_id for message in outbox) == sorted(instances)
    for instance_id in instances:
        for kind in ("task.reminded", "task.escalated", "wait.completed"):
            assert workflows.count_events(instance_id, kind) == 1
        assert workflows.count_events(instance_id, "repeat.iteration") == 2
        refer = open_tasks(workflows, instance_id, "refer")
        assert [m.activity_id for m in outbox if m.instance_id == instance_id] == [
            refer[0].id
        ]
        # The history lists the batch's events after the start's, in order.
        with Session(workflows.engine) as session:
            events = list(
                session.exec(
                    select(WorkflowEvent)
                    .where(WorkflowEvent.instance_id == instance_id)
                    .order_by(col(WorkflowEvent.id))
                )
            )
        assert [event.at for event in events] == sorted(event.at for event in events)


def test_activities_inserted_after_a_batch_take_new_ids(workflows, clock):
    """Activities created one by one after a batch drew ids in blocks get
    ids of their own (on PostgreSQL the batch advanced the sequence)."""
    workflows.publish(
        definition("pause-then-task", [{"id": "pause", **HOUR_WAIT}, task("after")])
    )
    for number in range(30):
        start(workflows, "pause-then-task", key=f"episode-{number}")
    clock.advance(timedelta(hours=1))
    assert Dispatcher(workflows).run_once().fired == 30

    later = [start(workflows, "pause-then-task", key=f"later-{n}") for n in range(5)]

    ids = [a.id for i in later for a in workflows.activities(i)]
    with Session(workflows.engine) as session:
        every = list(
            session.execute(text("SELECT id FROM workflow_activity")).scalars()
        )
        assert len(every) == len(set(every))
        if workflows.engine.dialect.name == "postgresql":
            following = session.execute(
                text(
                    "SELECT nextval(pg_get_serial_sequence('workflow_activity', 'id'))"
                )
            ).scalar_one()
            assert following > max(every)
    assert all(i is not None for i in ids)


def test_timer_cancelled_by_called_protocol_in_batch_skipped(workflows, clock):
    """A caller's wait races a called protocol's wait in a first-wins
    parallel block, and both fall due in one batch. Whichever fires first
    closes the block and cancels the other's timer, which stays cancelled,
    as it would if each fired alone."""
    workflows.publish(definition("pause", [{"id": "pause", **HOUR_WAIT}]))
    workflows.publish(
        definition(
            "racing-caller",
            [
                {
                    "id": "race",
                    "type": "parallel",
                    "selectionBehavior": "any",
                    "action": [
                        {"id": "sub", "type": "call", "definition": "pause"},
                        {"id": "own", **HOUR_WAIT},
                    ],
                }
            ],
        )
    )
    # Instance ids are random, so with several callers both orders of a
    # caller and its called protocol within the batch are likely.
    callers = [start(workflows, "racing-caller", key=f"episode-{n}") for n in range(8)]
    clock.advance(timedelta(hours=1))

    report = Dispatcher(workflows).run_once()

    assert report.failed == 0
    assert len(_timers(workflows.engine, "cancelled")) == 8
    assert len(_timers(workflows.engine, "fired")) == 8
    assert report.fired == 8
    for instance_id in callers:
        assert workflows.instance(instance_id).status == "completed"
        assert workflows.count_events(instance_id, "join.fired") == 1


RACING_CALLER = [
    {
        "id": "race",
        "type": "parallel",
        "selectionBehavior": "any",
        "action": [
            {"id": "sub", "type": "call", "definition": "pause"},
            {"id": "own", **HOUR_WAIT},
        ],
    }
]


@pytest.mark.postgres
def test_dispatchers_fire_callers_and_called_protocols_once(postgres_url, clock):
    """Two dispatchers with two threads each fire the racing waits of 60
    callers and their called protocols: each race closes once and no
    instance goes on hold."""
    from passport.db import make_engine, upgrade_database

    upgrade_database(postgres_url)
    database = make_engine(postgres_url)
    workflows = WorkflowEngine(database, clock=clock)
    workflows.publish(definition("pause", [{"id": "pause", **HOUR_WAIT}]))
    workflows.publish(definition("racing-caller", RACING_CALLER))
    callers = [start(workflows, "racing-caller", key=f"episode-{n}") for n in range(60)]
    clock.advance(timedelta(hours=1))
    dispatchers = [
        Dispatcher(workflows, dispatcher_id=name, batch_size=20, workers=2)
        for name in ("first", "second")
    ]
    for dispatcher in dispatchers:
        dispatcher.fire_batch = 5

    with ThreadPoolExecutor(2) as pool:
        reports = list(pool.map(lambda dispatcher: dispatcher.run_once(), dispatchers))

    assert sum(report.failed for report in reports) == 0
    assert sum(report.fired for report in reports) == 60
    assert len(_timers(database, "fired")) == 60
    assert len(_timers(database, "cancelled")) == 60
    for instance_id in callers:
        assert workflows.instance(instance_id).status == "completed"
        assert workflows.count_events(instance_id, "join.fired") == 1
    database.dispose()


def test_instance_cancelled_after_claim_not_fired(workflows, clock):
    """An instance cancelled between the claim and the batch keeps its
    timer cancelled, and the batch fires the other instances' timers."""
    workflows.publish(definition("pause", [{"id": "pause", **HOUR_WAIT}]))
    instances = [start(workflows, "pause", key=f"episode-{n}") for n in range(3)]
    clock.advance(timedelta(hours=1))
    dispatcher = Dispatcher(workflows, dispatcher_id="only")
    claimed = dispatcher.claim_due(clock.now())
    workflows.cancel(instances[1], reason="discharged")

    fired, again = workflows.fire_timers(claimed, dispatcher_id="only")

    assert sorted(timer.instance_id for timer in fired) == sorted(
        [instances[0], instances[2]]
    )
    assert again == []
    assert len(_timers(workflows.engine, "cancelled")) == 1
    assert workflows.instance(instances[1]).status == "cancelled"
    assert workflows.count_events(instances[1], "wait.completed") == 0
    assert dispatcher.run_once().fired == 0


def test_batch_takes_few_spare_activity_ids(workflows, clock):
    """A batch takes activity ids from the sequence in blocks no larger than
    its timer count, so ids dropped unused stay few."""
    if workflows.engine.dialect.name != "postgresql":
        pytest.skip("SQLite assigns each activity id on insert")
    workflows.publish(
        definition("pause-then-task", [{"id": "pause", **HOUR_WAIT}, task("after")])
    )
    for number in range(3):
        start(workflows, "pause-then-task", key=f"episode-{number}")
    clock.advance(timedelta(hours=1))

    assert Dispatcher(workflows).run_once().fired == 3

    with Session(workflows.engine) as session:
        largest = session.execute(
            text("SELECT max(id) FROM workflow_activity")
        ).scalar_one()
        following = session.execute(
            text("SELECT nextval(pg_get_serial_sequence('workflow_activity', 'id'))")
        ).scalar_one()
    # Three timers took at most three ids, and each used one.
    assert following - largest <= 3
