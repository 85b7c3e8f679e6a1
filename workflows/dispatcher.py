"""The timer dispatcher: claims due timers from the database and fires them.

The database is the source of truth for timers. A dispatcher claims a batch
of due rows by writing its id and a lease on them. On PostgreSQL the claim
uses ``FOR UPDATE SKIP LOCKED``, so several dispatchers never claim the same
row. Up to 25 timers then fire in one transaction, which locks their
instances and marks them fired only if they are still scheduled (see
:meth:`WorkflowEngine.fire_timers`). A timer the batch could not fire is
fired again in a transaction of its own. A dispatcher that dies leaves
leases that run out, and another dispatcher claims those timers again. On
SQLite, run one dispatcher.
"""

import logging
import os
import socket
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, or_, update
from sqlmodel import Session, col, select

from workflows.engine import WorkflowEngine
from workflows.models import WorkflowTimer

logger = logging.getLogger(__name__)

DEFAULT_BATCH = 200
DEFAULT_LEASE = timedelta(seconds=60)
# Timers fired in one transaction: one commit for many keeps the dispatcher
# from waiting on the disk for every timer.
FIRE_BATCH = 25


@dataclass
class DispatchReport:
    """The counts and lateness of one dispatcher pass."""

    claimed: int = 0
    fired: int = 0
    failed: int = 0
    lateness_seconds: list[float] = field(default_factory=list)


class Dispatcher:
    """Claims and fires due timers for one :class:`WorkflowEngine`."""

    def __init__(
        self,
        engine: WorkflowEngine,
        *,
        dispatcher_id: str | None = None,
        batch_size: int = DEFAULT_BATCH,
        lease: timedelta = DEFAULT_LEASE,
        workers: int | None = None,
    ) -> None:
        self.engine = engine
        self.dispatcher_id = dispatcher_id or (
            f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        )
        self.batch_size = batch_size
        self.lease = lease
        # PostgreSQL lets several transactions fire timers side by side; an
        # SQLite file has one writer, so more threads there only wait.
        if workers is None:
            workers = 4 if engine.engine.dialect.name == "postgresql" else 1
        self.workers = workers
        self.fire_batch = FIRE_BATCH

    def claim_due(self, now: datetime) -> list[int]:
        """Claim up to one batch of due timers, earliest first."""
        database = self.engine.engine
        with Session(database) as session:
            query = (
                select(WorkflowTimer.id)
                .where(col(WorkflowTimer.status) == "scheduled")
                .where(col(WorkflowTimer.due_at) <= now)
                .where(
                    or_(
                        col(WorkflowTimer.lease_until).is_(None),
                        col(WorkflowTimer.lease_until) < now,
                        # Its own earlier claims, left by a pass that stopped.
                        col(WorkflowTimer.claimed_by) == self.dispatcher_id,
                    )
                )
                .order_by(col(WorkflowTimer.due_at), col(WorkflowTimer.id))
                .limit(self.batch_size)
            )
            if database.dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            ids = [timer_id for timer_id in session.exec(query) if timer_id is not None]
            if ids:
                session.execute(
                    update(WorkflowTimer)
                    .where(col(WorkflowTimer.id).in_(ids))
                    .values(claimed_by=self.dispatcher_id, lease_until=now + self.lease)
                    .execution_options(synchronize_session=False)
                )
            session.commit()
        return ids

    def run_once(self) -> DispatchReport:
        """Claim the due timers and fire each of them once.

        Timers are fired in batches of one transaction each; a timer whose
        batch could not fire it is fired again on its own. An error while
        firing one timer puts its instance on hold with the reason and never
        stops the others.
        """
        report = DispatchReport()
        while True:
            ids = self.claim_due(self.engine.clock.now())
            report.claimed += len(ids)
            size = self.fire_batch
            chunks = [ids[start : start + size] for start in range(0, len(ids), size)]
            if self.workers > 1 and len(chunks) > 1:
                with ThreadPoolExecutor(self.workers) as pool:
                    list(
                        pool.map(lambda chunk: self._fire_batch(chunk, report), chunks)
                    )
            else:
                for chunk in chunks:
                    self._fire_batch(chunk, report)
            if len(ids) < self.batch_size:
                return report

    def _fire_batch(self, ids: list[int], report: DispatchReport) -> None:
        if len(ids) == 1:
            self._fire(ids[0], report)
            return
        fired, again = self.engine.fire_timers(ids, dispatcher_id=self.dispatcher_id)
        for timer in fired:
            self._count(timer, report)
        for timer_id in again:
            self._fire(timer_id, report)

    def _count(self, timer: WorkflowTimer, report: DispatchReport) -> None:
        report.fired += 1
        if timer.lateness_seconds is not None:
            report.lateness_seconds.append(timer.lateness_seconds)

    def _fire(self, timer_id: int, report: DispatchReport) -> None:
        try:
            timer = self.engine.fire_timer(timer_id, dispatcher_id=self.dispatcher_id)
        except Exception as error:  # noqa: BLE001 - one bad timer must not stop the rest
            report.failed += 1
            reason = f"timer {timer_id} failed: {type(error).__name__}: {error}"
            logger.exception("workflow timer %s failed to fire", timer_id)
            self.engine.hold_after_failure(timer_id, reason[:500])
            return
        if timer is not None:
            self._count(timer, report)

    def next_due(self) -> datetime | None:
        """Return the earliest due time of a scheduled timer, if any."""
        with Session(self.engine.engine) as session:
            earliest = session.exec(
                select(func.min(WorkflowTimer.due_at)).where(
                    WorkflowTimer.status == "scheduled"
                )
            ).one()
        return earliest
