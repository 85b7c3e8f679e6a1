"""Benchmark the workflow engine's timers and task completion.

Measures, on SQLite and on PostgreSQL:

- dispatcher throughput: timers fired per second with a backlog of due
  repeat timers, one per active instance (10,000 by default);
- lateness: with due times spread at a steady rate the dispatcher should
  keep up with (200 per second), the p50 and p95 of fired time minus due
  time, as the engine records it; on PostgreSQL with one dispatcher process
  and with two, each started before the timers are made due;
- task completion latency at 1 and at 150 completed loops of a repeat;
- on PostgreSQL, two dispatcher processes sharing the timers: duplicates;
- a baseline in the same run: single-row update transactions per second.

Run: ``.venv/bin/python bench/workflow_timers.py [--instances N]``. The
PostgreSQL part needs the server at ``PASSPORT_TEST_POSTGRES`` (as the
tests do) and creates and drops its own database.
"""

import argparse
import multiprocessing
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, text, update
from sqlmodel import Session, col, select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from accounts.models import UserAccount  # noqa: E402
from passport.db import make_engine, upgrade_database  # noqa: E402
from tests.conftest import create_postgres_database, drop_postgres_database  # noqa: E402
from workflows.definitions import compile_definition  # noqa: E402
from workflows.dispatcher import Dispatcher  # noqa: E402
from workflows.engine import WorkflowEngine  # noqa: E402
from workflows.models import WorkflowEvent, WorkflowTimer  # noqa: E402
from workflows.routing import add_membership  # noqa: E402

ORGANISATIONS = {"hospital": "chelmer-valley"}
TEAMS = {"hospital": "ward-7"}
TURN = {
    "id": "turn",
    "type": "task",
    "title": "Reposition",
    "participant": {"role": "healthcare-assistant", "organisation": "hospital"},
}


def _definition(definition_id: str, repeat: dict[str, Any]) -> Any:
    return compile_definition(
        {
            "id": definition_id,
            "version": 1,
            "title": definition_id,
            "sources": [{"title": "Benchmark", "url": "https://example.org/bench"}],
            "organisations": ["hospital"],
            "action": [{"id": "rounds", "type": "repeat", **repeat, "action": [TURN]}],
        }
    )


def _seed(workflows: WorkflowEngine, count: int, threads: int) -> float:
    workflows.publish(
        _definition("hourly-turns", {"timing": {"every": "PT1H"}, "catchUp": "once"})
    )

    def begin(number: int) -> None:
        workflows.start(
            "hourly-turns",
            business_key=f"bench-{number}",
            subject_ref=f"PT-BENCH-{number}",
            organisations=ORGANISATIONS,
            teams=TEAMS,
        )

    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(begin, range(count)))
    return count / (time.perf_counter() - started)


def _spread_due_times(
    workflows: WorkflowEngine, start: datetime, per_second: float
) -> int:
    """Set the scheduled timers' due times at a steady rate from ``start``."""
    with Session(workflows.engine) as session:
        ids = list(
            session.exec(
                select(WorkflowTimer.id)
                .where(WorkflowTimer.status == "scheduled")
                .order_by(col(WorkflowTimer.id))
            )
        )
        for index, timer_id in enumerate(ids):
            due = start + timedelta(seconds=index / per_second)
            session.execute(
                update(WorkflowTimer)
                .where(col(WorkflowTimer.id) == timer_id)
                .values(due_at=due)
            )
        session.commit()
    return len(ids)


def _drain(dispatcher: Dispatcher, until_idle_after: datetime) -> int:
    fired = 0
    while True:
        report = dispatcher.run_once()
        fired += report.fired
        if report.claimed == 0:
            if datetime.now(UTC) > until_idle_after:
                return fired
            time.sleep(0.05)


def _fired_lateness(workflows: WorkflowEngine, since_id: int) -> list[float]:
    with Session(workflows.engine) as session:
        return [
            value
            for value in session.exec(
                select(WorkflowTimer.lateness_seconds)
                .where(WorkflowTimer.status == "fired")
                .where(col(WorkflowTimer.id) > since_id)
            )
            if value is not None
        ]


def _first_scheduled_id(workflows: WorkflowEngine) -> int:
    with Session(workflows.engine) as session:
        lowest = session.exec(
            select(func.min(WorkflowTimer.id)).where(
                WorkflowTimer.status == "scheduled"
            )
        ).one()
    return int(lowest or 1) - 1


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def _baseline_transactions(workflows: WorkflowEngine, seconds: float = 3.0) -> float:
    """Single-row UPDATE transactions per second on the same database."""
    done = 0
    deadline = time.perf_counter() + seconds
    with workflows.engine.connect() as connection:
        while time.perf_counter() < deadline:
            connection.execute(
                text("UPDATE workflow_definition SET title = title WHERE id = 1")
            )
            connection.commit()
            done += 1
    return done / seconds


def _completion_latencies(
    workflows: WorkflowEngine, samples: int
) -> tuple[float, float]:
    """Median seconds to complete the next task of instances with 1 and with
    150 completed rounds of a repeat, measured alternately so that load from
    elsewhere on the machine falls on both alike."""
    with Session(workflows.engine) as session:
        add_membership(
            session,
            account_id=1,
            organisation="chelmer-valley",
            role="healthcare-assistant",
            team="ward-7",
        )
        session.commit()

    def prepare(loops: int, number: int) -> str:
        instance_id = workflows.start(
            "endless-turns",
            business_key=f"loops-{loops}-{number}",
            subject_ref=f"PT-LOOPS-{loops}-{number}",
            organisations=ORGANISATIONS,
            teams=TEAMS,
        ).instance_id
        for _ in range(loops):
            task_id = _open_task(workflows, instance_id)
            workflows.complete(task_id, account_id=1, values={})
        return instance_id

    def timed(instance_id: str) -> float:
        task_id = _open_task(workflows, instance_id)
        started = time.perf_counter()
        workflows.complete(task_id, account_id=1, values={})
        return time.perf_counter() - started

    pairs = [(prepare(1, n), prepare(150, n)) for n in range(samples)]
    fresh, worn = [], []
    for _ in range(3):
        for one_loop, many_loops in pairs:
            fresh.append(timed(one_loop))
            worn.append(timed(many_loops))
    return statistics.median(fresh), statistics.median(worn)


def _open_task(workflows: WorkflowEngine, instance_id: str) -> int:
    from workflows.models import WorkflowActivity

    with Session(workflows.engine) as session:
        task_id = session.exec(
            select(WorkflowActivity.id)
            .where(WorkflowActivity.instance_id == instance_id)
            .where(WorkflowActivity.kind == "task")
            .where(WorkflowActivity.status == "requested")
        ).one()
    assert task_id is not None
    return task_id


def _dispatch_process(database_url: str, starts: Any, results: Any) -> None:
    """Fire timers in a process of its own once ``starts`` sends a time, and
    stop at the first pass after that time that finds no timer due."""
    workflows = WorkflowEngine(make_engine(database_url))
    dispatcher = Dispatcher(workflows)
    # Connect before reporting ready, so start-up is not measured.
    dispatcher.next_due()
    results.put(None)
    idle_after = datetime.fromisoformat(starts.get())
    results.put(_drain(dispatcher, idle_after))


def _run_dispatchers(
    database_url: str, count: int, prepare: Callable[[], datetime]
) -> list[int]:
    """Run ``count`` dispatcher processes until the timers run out.

    The processes start and connect first. Then ``prepare`` makes the timers
    due and returns the time after which an idle dispatcher stops, so the
    seconds a process takes to start are neither throughput nor lateness.
    """
    context = multiprocessing.get_context("spawn")
    starts = context.Queue()
    results = context.Queue()
    processes = [
        context.Process(target=_dispatch_process, args=(database_url, starts, results))
        for _ in range(count)
    ]
    for process in processes:
        process.start()
    for _ in processes:
        results.get()
    idle_after = prepare()
    for _ in processes:
        starts.put(idle_after.isoformat())
    fired = [results.get() for _ in processes]
    for process in processes:
        process.join()
    return fired


def _steady_in_processes(
    workflows: WorkflowEngine, database_url: str, processes: int, rate: float
) -> tuple[int, int]:
    """Make the next timers due at ``rate`` per second and fire them with
    ``processes`` dispatcher processes.

    :returns: the number of timers made due and the number fired.
    """
    made_due: list[int] = []

    def prepare() -> datetime:
        begin = datetime.now(UTC) + timedelta(seconds=2)
        made_due.append(_spread_due_times(workflows, begin, rate))
        return begin + timedelta(seconds=made_due[0] / rate + 1)

    fired = sum(_run_dispatchers(database_url, processes, prepare))
    return made_due[0], fired


def _duplicates(workflows: WorkflowEngine) -> int:
    """Count repeat rounds started twice for the same due time."""
    with Session(workflows.engine) as session:
        events = session.exec(
            select(WorkflowEvent.instance_id, WorkflowEvent.data).where(
                col(WorkflowEvent.kind).in_(["repeat.iteration", "repeat.catch-up"])
            )
        ).all()
    seen: set[tuple[str, str]] = set()
    duplicates = 0
    for instance_id, data in events:
        key = (instance_id, (data or {}).get("scheduledFor", ""))
        duplicates += key in seen
        seen.add(key)
    return duplicates


def run_backend(name: str, database_url: str, instances: int) -> dict[str, Any]:
    upgrade_database(database_url)
    workflows = WorkflowEngine(make_engine(database_url))
    threads = 4 if name == "postgresql" else 1
    results: dict[str, Any] = {"backend": name}
    results["starts_per_s"] = _seed(workflows, instances, threads)
    results["baseline_tx_per_s"] = _baseline_transactions(workflows)
    with Session(workflows.engine) as session:
        session.add(
            UserAccount(
                id=1,
                email="bench@example.org",
                display_name="Bench",
                password_hash="x",
            )
        )
        session.commit()

    # Throughput: every instance's next repeat timer due at once.
    _spread_due_times(workflows, datetime.now(UTC) - timedelta(seconds=1), 1e9)
    started = time.perf_counter()
    fired = _drain(Dispatcher(workflows), datetime.now(UTC))
    elapsed = time.perf_counter() - started
    results["backlog_fired"] = fired
    results["fired_per_s"] = fired / elapsed

    if name == "postgresql":
        # The same backlog again, shared by two dispatcher processes.
        started_at: list[float] = []

        def make_backlog() -> datetime:
            now = datetime.now(UTC)
            _spread_due_times(workflows, now - timedelta(seconds=1), 1e9)
            started_at.append(time.perf_counter())
            return now

        fired = sum(_run_dispatchers(database_url, 2, make_backlog))
        elapsed = time.perf_counter() - started_at[0]
        results["two_process_backlog_fired"] = fired
        results["two_process_fired_per_s"] = fired / elapsed

    # Lateness: the next timers due at a steady 200 per second, fired by one
    # dispatcher (in this process on SQLite, in one process of its own on
    # PostgreSQL) and, on PostgreSQL, by two dispatcher processes as well.
    rate = 200.0
    layouts = [1, 2] if name == "postgresql" else [1]
    for processes in layouts:
        first = _first_scheduled_id(workflows)
        if name == "postgresql":
            count, fired = _steady_in_processes(
                workflows, database_url, processes, rate
            )
        else:
            begin = datetime.now(UTC) + timedelta(seconds=2)
            count = _spread_due_times(workflows, begin, rate)
            window_end = begin + timedelta(seconds=count / rate + 1)
            fired = _drain(Dispatcher(workflows), window_end)
        lateness = _fired_lateness(workflows, first)
        prefix = f"steady_{processes}_process_"
        results[prefix + "due"] = count
        results[prefix + "fired"] = fired
        results[prefix + "lateness_p50_s"] = _percentile(lateness, 0.50)
        results[prefix + "lateness_p95_s"] = _percentile(lateness, 0.95)
    results["duplicates"] = _duplicates(workflows)

    workflows.publish(_definition("endless-turns", {"until": "false"}))
    fresh, worn = _completion_latencies(workflows, samples=8)
    results["complete_1_loop_s"] = fresh
    results["complete_150_loops_s"] = worn
    workflows.engine.dispose()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=int, default=10_000)
    parser.add_argument("--skip-postgres", action="store_true")
    options = parser.parse_args()
    machine = platform.processor() or platform.machine()
    print(
        f"# {datetime.now(UTC):%Y-%m-%d} {platform.node()} {machine}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}, "
        f"load average at start {os.getloadavg()[0]:.1f}"
    )
    with tempfile.TemporaryDirectory() as folder:
        rows = [
            run_backend("sqlite", f"sqlite:///{folder}/bench.db", options.instances)
        ]
    if not options.skip_postgres:
        url = create_postgres_database()
        try:
            rows.append(run_backend("postgresql", url, options.instances))
        finally:
            drop_postgres_database(url)
    print(f"# load average at end {os.getloadavg()[0]:.1f}")
    for row in rows:
        print()
        for key, value in row.items():
            print(
                f"{key:>32}: {value:.4f}"
                if isinstance(value, float)
                else f"{key:>32}: {value}"
            )
        fired_ratio = row["fired_per_s"] / row["baseline_tx_per_s"]
        loop_ratio = row["complete_150_loops_s"] / row["complete_1_loop_s"]
        print(f"{'fired/baseline tx':>32}: {fired_ratio:.3f}")
        print(f"{'150 loops / 1 loop':>32}: {loop_ratio:.3f}")


if __name__ == "__main__":
    main()
