import random
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import text, update
from sqlmodel import Session, col, select

from tests.workflows.conftest import definition, start, task
from workflows.dispatcher import Dispatcher
from workflows.engine import WorkflowEngine
from workflows.models import WorkflowEvent, WorkflowInstance, WorkflowTimer
from workflows.scheduler import POLL_JOB, WAKE_JOB, WorkflowScheduler

WAKE_INTERVAL = timedelta(seconds=2)


def _timers(engine, **filters):
    with Session(engine) as session:
        query = select(WorkflowTimer)
        for name, value in filters.items():
            query = query.where(getattr(WorkflowTimer, name) == value)
        return list(session.exec(query.order_by(col(WorkflowTimer.id))))


def _events(engine, kind):
    with Session(engine) as session:
        return list(
            session.exec(select(WorkflowEvent).where(WorkflowEvent.kind == kind))
        )


def test_thousand_timers_fire_once_and_record_lateness(workflows, clock):
    """1,000 timers due within a minute all fire, each within 5 seconds of
    its due time, with the lateness recorded on each timer."""
    workflows.publish(
        definition(
            "one-minute-wait",
            [{"id": "pause", "type": "wait", "timing": {"duration": "PT60S"}}],
        )
    )
    for number in range(1000):
        start(workflows, "one-minute-wait", key=f"episode-{number}")
        clock.advance(timedelta(milliseconds=60))
    dispatcher = Dispatcher(workflows)

    for _ in range(70):
        clock.advance(WAKE_INTERVAL)
        dispatcher.run_once()

    timers = _timers(workflows.engine)
    assert len(timers) == 1000
    assert {timer.status for timer in timers} == {"fired"}
    assert all(timer.lateness_seconds is not None for timer in timers)
    assert max(timer.lateness_seconds for timer in timers) <= 5
    assert min(timer.lateness_seconds for timer in timers) >= 0
    assert len(_events(workflows.engine, "wait.completed")) == 1000
    assert len(_events(workflows.engine, "instance.completed")) == 1000


HOURLY = [
    {
        "id": "rounds",
        "type": "repeat",
        "timing": {"every": "PT1H"},
        "catchUp": "once",
        "action": [task("turn", role="hca")],
    }
]


def test_downtime_catches_up_once_per_repeat(migrated_engine, clock):
    """The dispatcher stopped for three periods, then restarted: one catch-up
    event per repeat and the next due time in the future."""
    workflows = WorkflowEngine(migrated_engine, clock=clock)
    workflows.publish(definition("hourly", HOURLY))
    instances = [start(workflows, "hourly", key=f"episode-{n}") for n in range(3)]
    Dispatcher(workflows).run_once()
    started_at = clock.now()

    clock.advance(timedelta(hours=3, minutes=20))
    restarted = WorkflowEngine(migrated_engine, clock=clock)
    Dispatcher(restarted).run_once()
    Dispatcher(restarted).run_once()

    for instance_id in instances:
        assert restarted.count_events(instance_id, "repeat.catch-up") == 1
        assert restarted.count_events(instance_id, "repeat.iteration") == 1
    scheduled = _timers(migrated_engine, status="scheduled")
    assert len(scheduled) == 3
    for timer in scheduled:
        assert timer.due_at > clock.now()
        assert timer.due_at == started_at + timedelta(hours=4)
    fired = _timers(migrated_engine, status="fired")
    assert [timer.missed_periods for timer in fired] == [2, 2, 2]


def test_skip_policy_records_missed_without_round(workflows, clock):
    workflows.publish(definition("hourly-skip", [{**HOURLY[0], "catchUp": "skip"}]))
    instance_id = start(workflows, "hourly-skip")

    clock.advance(timedelta(hours=5, minutes=1))
    Dispatcher(workflows).run_once()

    assert workflows.count_events(instance_id, "repeat.missed") == 1
    assert workflows.count_events(instance_id, "repeat.iteration") == 1
    assert workflows.count_events(instance_id, "repeat.catch-up") == 0


def test_repeats_do_not_drift(workflows, clock):
    """100 repeats on a fake clock with random dispatcher delays: every due
    time is the first plus whole periods."""
    workflows.publish(definition("hourly", HOURLY))
    starts = {}
    for number in range(100):
        instance_id = start(workflows, "hourly", key=f"episode-{number}")
        starts[instance_id] = clock.now()
        clock.advance(timedelta(seconds=37))
    dispatcher = Dispatcher(workflows)
    chance = random.Random(20260302)

    for _ in range(40):
        clock.advance(timedelta(seconds=chance.uniform(60, 1500)))
        dispatcher.run_once()

    timers = _timers(workflows.engine)
    by_instance: dict[str, list[WorkflowTimer]] = {}
    for timer in timers:
        by_instance.setdefault(timer.instance_id, []).append(timer)
    assert len(by_instance) == 100
    for instance_id, series in by_instance.items():
        expected = [
            starts[instance_id] + timedelta(hours=k) for k in range(1, len(series) + 1)
        ]
        assert [timer.due_at for timer in series] == expected
        assert [timer.status for timer in series[:-1]] == ["fired"] * (len(series) - 1)
        assert series[-1].status == "scheduled"
    assert max(len(series) for series in by_instance.values()) >= 8


def _wait_until(predicate, seconds: float = 60.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()


def test_wiped_job_store_rebuilt_from_database(sqlite_url):
    """APScheduler's own job store wiped: the jobs come back from the
    database and every timer still fires once."""
    from passport.db import make_engine, upgrade_database

    upgrade_database(sqlite_url)
    database = make_engine(sqlite_url)
    workflows = WorkflowEngine(database)
    workflows.publish(
        definition(
            "short-wait",
            [{"id": "pause", "type": "wait", "timing": {"duration": "PT1S"}}],
        )
    )
    scheduler = WorkflowScheduler(Dispatcher(workflows), poll_seconds=3600)
    scheduler.start()
    try:
        scheduler.scheduler.remove_all_jobs()
        for number in range(20):
            start(workflows, "short-wait", key=f"episode-{number}")
        scheduler.scheduler.remove_all_jobs()

        job_ids = {job.id for job in scheduler.scheduler.get_jobs()}
        assert POLL_JOB in job_ids
        assert WAKE_JOB in job_ids
        assert _wait_until(lambda: not _timers(database, status="scheduled"))
    finally:
        scheduler.shutdown()
    fired = _timers(database, status="fired")
    assert len(fired) == 20
    assert len(_events(database, "wait.completed")) == 20
    database.dispose()


@pytest.mark.postgres
def test_dispatchers_share_timers_without_duplicates(postgres_url, clock):
    from passport.db import make_engine, upgrade_database

    upgrade_database(postgres_url)
    database = make_engine(postgres_url)
    workflows = WorkflowEngine(database, clock=clock)
    workflows.publish(
        definition(
            "one-minute-wait",
            [{"id": "pause", "type": "wait", "timing": {"duration": "PT60S"}}],
        )
    )
    for number in range(60):
        start(workflows, "one-minute-wait", key=f"episode-{number}")
    clock.advance(timedelta(minutes=2))
    first = Dispatcher(workflows, batch_size=7)
    second = Dispatcher(workflows, batch_size=5)

    claimed_first = first.claim_due(clock.now())
    claimed_second = second.claim_due(clock.now())
    assert set(claimed_first).isdisjoint(claimed_second)
    first.run_once()
    second.run_once()

    assert len(_timers(database, status="fired")) == 60
    assert len(_events(database, "wait.completed")) == 60
    database.dispose()


def test_failing_until_holds_instance_not_dispatcher(workflows, clock):
    """An expression that fails when a timer fires puts that instance on hold
    with the reason and the dispatcher fires the other timers."""
    # The definition declares the start-data field "flag", but the instance
    # starts without it, so reading it fails only when the timer fires.
    broken = [{**HOURLY[0], "until": "rounds.iteration >= 2 && flag"}]
    flag = [{"id": "flag", "type": "boolean"}]
    workflows.publish(definition("hourly-broken", broken, startData=flag))
    workflows.publish(definition("hourly", HOURLY))
    failing = start(workflows, "hourly-broken", key="episode-broken")
    healthy = start(workflows, "hourly", key="episode-healthy")
    dispatcher = Dispatcher(workflows)

    for _ in range(3):
        clock.advance(timedelta(hours=1))
        report = dispatcher.run_once()
        assert report.failed == 0

    held = workflows.instance(failing)
    assert held.status == "on-hold"
    assert "undeclared reference to 'flag'" in (held.hold_reason or "")
    assert workflows.instance(healthy).status == "active"
    assert workflows.count_events(healthy, "repeat.iteration") == 4
    assert _timers(workflows.engine, instance_id=failing, status="scheduled") == []


def test_dead_dispatcher_claims_expire(workflows, clock):
    """Timers claimed by a dispatcher that died fire once its lease runs out,
    and not before."""
    workflows.publish(
        definition(
            "one-minute-wait",
            [{"id": "pause", "type": "wait", "timing": {"duration": "PT60S"}}],
        )
    )
    for number in range(5):
        start(workflows, "one-minute-wait", key=f"episode-{number}")
    clock.advance(timedelta(minutes=2))
    died = Dispatcher(workflows, dispatcher_id="died-mid-pass")
    assert len(died.claim_due(clock.now())) == 5
    survivor = Dispatcher(workflows, dispatcher_id="survivor")

    early = survivor.run_once()
    clock.advance(died.lease + timedelta(seconds=1))
    late = survivor.run_once()

    assert early.fired == 0
    assert late.fired == 5
    assert len(_events(workflows.engine, "wait.completed")) == 5


@pytest.mark.postgres
def test_batch_leaves_out_instance_changed_meanwhile(postgres_url, clock):
    """Another transaction moves one instance on while a batch waits for its
    row: the batch fires the other timers, returns that one to be fired on
    its own, and every repeat starts its round exactly once."""
    from passport.db import make_engine, upgrade_database

    upgrade_database(postgres_url)
    database = make_engine(postgres_url)
    workflows = WorkflowEngine(database, clock=clock)
    workflows.publish(definition("hourly", HOURLY))
    instances = [start(workflows, "hourly", key=f"episode-{n}") for n in range(5)]
    changed = instances[2]
    clock.advance(timedelta(hours=1))
    dispatcher = Dispatcher(workflows, dispatcher_id="batch")
    claimed = dispatcher.claim_due(clock.now())
    assert len(claimed) == 5

    table = WorkflowInstance.__table__
    with database.connect() as other, ThreadPoolExecutor(1) as pool:
        # The other transaction keeps the row locked until it commits.
        other.execute(
            update(table)
            .where(table.c.id == changed)
            .values(lock_version=table.c.lock_version + 1)
        )
        batch = pool.submit(workflows.fire_timers, claimed, dispatcher_id="batch")
        assert _wait_until(lambda: _waiting_on_locks(database) == 1)
        other.commit()
        fired, again = batch.result()

    assert sorted(timer.instance_id for timer in fired) == sorted(
        instance_id for instance_id in instances if instance_id != changed
    )
    assert [_timer_instance(database, timer_id) for timer_id in again] == [changed]
    assert dispatcher.run_once().fired == 1
    for instance_id in instances:
        assert workflows.count_events(instance_id, "repeat.iteration") == 2
    assert len(_timers(database, status="fired")) == 5
    database.dispose()


def _waiting_on_locks(database) -> int:
    with database.connect() as connection:
        return connection.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                "AND datname = current_database()"
            )
        ).scalar_one()


def _timer_instance(database, timer_id: int) -> str:
    with Session(database) as session:
        timer = session.get(WorkflowTimer, timer_id)
        assert timer is not None
        return timer.instance_id


def test_failing_timer_holds_only_its_instance(workflows, clock):
    """A timer that raises while its batch fires rolls the batch back, because
    it names an escalation step the task's definition does not have. The
    others then fire on their own once each, and its instance goes on hold
    with the reason."""
    workflows.publish(definition("hourly", HOURLY))
    instances = [start(workflows, "hourly", key=f"episode-{n}") for n in range(4)]
    broken = instances[1]
    turn = next(
        activity
        for activity in workflows.activities(broken)
        if activity.node_id == "turn"
    )
    with Session(workflows.engine) as session:
        session.add(
            WorkflowTimer(
                instance_id=broken,
                activity_id=turn.id,
                kind="escalate:9",
                due_at=clock.now(),
            )
        )
        session.commit()
    clock.advance(timedelta(hours=1))

    report = Dispatcher(workflows).run_once()

    assert report.failed == 1
    assert report.fired == 4
    broken_instance = workflows.instance(broken)
    assert broken_instance.status == "on-hold"
    assert "KeyError" in (broken_instance.hold_reason or "")
    for instance_id in instances:
        assert workflows.count_events(instance_id, "repeat.iteration") == 2
        assert workflows.instance(instance_id).status in ("active", "on-hold")


def test_timers_of_one_instance_fire_together(workflows, clock):
    """A reminder and an escalation of the same task, due at the same moment,
    fire in one batch and each acts once."""
    workflows.publish(
        definition(
            "checked",
            [
                task(
                    "check",
                    timing={"due": "PT2H", "remindBefore": ["PT1H"]},
                    escalation=[
                        {
                            "after": "PT1H",
                            "participant": {"role": "lead", "organisation": "hospital"},
                        }
                    ],
                )
            ],
        )
    )
    instances = [start(workflows, "checked", key=f"episode-{n}") for n in range(3)]
    clock.advance(timedelta(hours=1, minutes=1))

    report = Dispatcher(workflows).run_once()

    assert report.fired == 6
    assert report.failed == 0
    for instance_id in instances:
        assert workflows.count_events(instance_id, "task.reminded") == 1
        assert workflows.count_events(instance_id, "task.escalated") == 1
    assert len(_timers(workflows.engine, status="fired")) == 6
    assert Dispatcher(workflows).run_once().fired == 0


def test_timer_cancelled_by_batch_neighbour_skipped(workflows, clock):
    """Two waits of a first-wins parallel block fall due together: the first
    one fired closes the block and cancels the other's timer, which the same
    batch then leaves cancelled instead of firing it."""
    waits = [
        {"id": side, "type": "wait", "timing": {"duration": "PT1H"}}
        for side in ("left", "right")
    ]
    workflows.publish(
        definition(
            "first-wins",
            [
                {
                    "id": "race",
                    "type": "parallel",
                    "selectionBehavior": "any",
                    "action": waits,
                }
            ],
        )
    )
    instances = [start(workflows, "first-wins", key=f"episode-{n}") for n in range(3)]
    clock.advance(timedelta(hours=1))

    report = Dispatcher(workflows).run_once()

    assert report.fired == 3
    assert report.failed == 0
    assert len(_timers(workflows.engine, status="fired")) == 3
    assert len(_timers(workflows.engine, status="cancelled")) == 3
    for instance_id in instances:
        assert workflows.count_events(instance_id, "wait.completed") == 1
        assert workflows.count_events(instance_id, "join.fired") == 1
        assert workflows.instance(instance_id).status == "completed"


@pytest.mark.postgres
def test_concurrent_dispatchers_fire_each_once(postgres_url, clock):
    """Two dispatchers with two threads each fire 120 due repeat timers at
    the same time: every repeat starts its round exactly once."""
    from passport.db import make_engine, upgrade_database

    upgrade_database(postgres_url)
    database = make_engine(postgres_url)
    workflows = WorkflowEngine(database, clock=clock)
    workflows.publish(definition("hourly", HOURLY))
    instances = [start(workflows, "hourly", key=f"episode-{n}") for n in range(120)]
    clock.advance(timedelta(hours=1))
    dispatchers = [
        Dispatcher(workflows, dispatcher_id=name, batch_size=30, workers=2)
        for name in ("first", "second")
    ]

    with ThreadPoolExecutor(2) as pool:
        reports = list(pool.map(lambda dispatcher: dispatcher.run_once(), dispatchers))

    assert sum(report.fired for report in reports) == 120
    assert sum(report.failed for report in reports) == 0
    for instance_id in instances:
        assert workflows.count_events(instance_id, "repeat.iteration") == 2
    assert len(_timers(database, status="fired")) == 120
    assert len(_timers(database, status="scheduled")) == 120
    database.dispose()
